# fish completion for fod(1).
# Mapped command names come from the shim directory the shell integration keeps in
# sync (one symlink per mapped command): a glob, no call to fod.

function __fod_mapped_names
    set -l dir
    if set -q FOD_SHIM_DIR[1]
        set dir $FOD_SHIM_DIR
    else if set -q XDG_CACHE_HOME[1]
        set dir $XDG_CACHE_HOME/fod/shims
    else
        set dir $HOME/.cache/fod/shims
    end
    set -l paths $dir/*
    string replace -r '.*/' '' -- $paths
end

# True when the command line holds exactly `fod SUBCOMMAND` before the cursor.
function __fod_completing_first_argument
    test (count (commandline -opc)) -eq 2
end

complete -c fod -f
complete -c fod -n __fish_use_subcommand -l help -d 'Show help and exit'
complete -c fod -n __fish_use_subcommand -l version -d 'Show the version and exit'
complete -c fod -n __fish_use_subcommand -a run -d 'Run a mapped command'
complete -c fod -n __fish_use_subcommand -a which -d 'Show where a command is mapped and its container'
complete -c fod -n __fish_use_subcommand -a allow -d 'Allow pulling the image of a command'
complete -c fod -n __fish_use_subcommand -a ps -d 'List warm containers'
complete -c fod -n __fish_use_subcommand -a stop -d 'Remove the warm containers of a command'
complete -c fod -n __fish_use_subcommand -a gc -d 'Remove containers whose reaper is gone'
complete -c fod -n __fish_use_subcommand -a stats -d 'Per command: calls, MTBC, MTTS, MTTE, epsilon, warm hits, idle time'
complete -c fod -n __fish_use_subcommand -a init -d 'Print the shell integration'
complete -c fod -n __fish_use_subcommand -a update -d 'Fetch the team mappings now'
complete -c fod -n __fish_use_subcommand -a publish -d 'Push a mapping file as team mappings'
complete -c fod -n '__fish_seen_subcommand_from publish; and __fod_completing_first_argument' -F

complete -c fod -n '__fish_seen_subcommand_from run which allow stop; and __fod_completing_first_argument' \
    -a '(__fod_mapped_names)' -d 'Mapped command'
# The mapped command's own arguments, completed as if it were installed.
complete -c fod -n '__fish_seen_subcommand_from run; and not __fod_completing_first_argument' \
    -a '(__fish_complete_subcommand --fcs-skip=2)'
complete -c fod -n '__fish_seen_subcommand_from stop' -l all -d 'Stop every warm container of yours'
complete -c fod -n '__fish_seen_subcommand_from which' -l registry -d 'Ask the registry even when the engine has the image'
complete -c fod -n '__fish_seen_subcommand_from init; and __fod_completing_first_argument' \
    -a 'bash zsh fish'
