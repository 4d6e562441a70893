# bash completion for fod(1)                                   -*- shell-script -*-
# Mapped command names come from the shim directory the shell integration keeps in
# sync (one symlink per mapped command): a glob, no process and no call to fod.

_fod_mapped_names() {
    local dir=${FOD_SHIM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fod/shims}
    local -a names=()
    local path
    for path in "$dir"/*; do
        [[ -L $path ]] && names+=("${path##*/}")
    done
    COMPREPLY+=($(compgen -W "${names[*]}" -- "$1"))
}

_fod() {
    local cur=${COMP_WORDS[COMP_CWORD]}
    local cword=$COMP_CWORD
    COMPREPLY=()

    if ((cword == 1)); then
        COMPREPLY=($(compgen -W "run which allow ps stop gc stats init update publish --version --help" -- "$cur"))
        return
    fi

    case ${COMP_WORDS[1]} in
    run)
        if ((cword == 2)); then
            _fod_mapped_names "$cur"
        elif declare -F _command_offset >/dev/null; then
            # Complete the mapped command's own arguments as if it were installed.
            _command_offset 2
        else
            COMPREPLY=($(compgen -f -- "$cur"))
        fi
        ;;
    which)
        if ((cword == 2)) || ((cword == 3)) && [[ ${words[2]} == --registry ]]; then
            _fod_mapped_names "$cur"
            COMPREPLY+=($(compgen -W "--registry --help" -- "$cur"))
        fi
        ;;
    allow)
        if ((cword == 2)); then
            _fod_mapped_names "$cur"
            COMPREPLY+=($(compgen -W "--help" -- "$cur"))
        fi
        ;;
    stop)
        if ((cword == 2)); then
            _fod_mapped_names "$cur"
            COMPREPLY+=($(compgen -W "--all --help" -- "$cur"))
        fi
        ;;
    init)
        ((cword == 2)) && COMPREPLY=($(compgen -W "bash zsh fish --help" -- "$cur"))
        ;;
    ps | gc | stats | update)
        ((cword == 2)) && COMPREPLY=($(compgen -W "--help" -- "$cur"))
        ;;
    publish)
        # FILE, then the registry reference (nothing to complete).
        ((cword == 2)) && COMPREPLY=($(compgen -f -- "$cur"))
        ;;
    esac
}

complete -F _fod fod

# ex: filetype=sh
