# fod shell integration for fish. Load with: fod init fish | source
# fish sends a command-not-found handler's output to stderr and always reports
# status 127, so mapped commands are served by a shim directory at the END of
# PATH (an installed program always wins), kept in sync at every prompt. The
# handler only chains to the one defined before it.

function __fod_init
    if not status is-interactive; and not set -q FOD_HOOK_NONINTERACTIVE
        return 0
    end
    if not set -q __fod_bin[1]; or not test -x "$__fod_bin"
        set -g __fod_bin (command -s fod); or return 0
    end
    if set -q FOD_SHIM_DIR
        set -g __fod_shims $FOD_SHIM_DIR
    else if set -q XDG_CACHE_HOME
        set -g __fod_shims $XDG_CACHE_HOME/fod/shims
    else
        set -g __fod_shims $HOME/.cache/fod/shims
    end
    contains -- $__fod_shims $PATH; or set -gx PATH $PATH $__fod_shims

    # Keep the handler that was there before, unless it is ours already.
    if functions -q fish_command_not_found
        and not functions fish_command_not_found | string match -q '*__fod_handle*'
        functions -e __fod_previous_handler
        functions --copy fish_command_not_found __fod_previous_handler
    end
    function fish_command_not_found --on-event fish_command_not_found
        __fod_handle $argv
    end
    function __fod_prompt --on-event fish_prompt
        __fod_sync_if_stale
    end
    __fod_sync_if_stale
end

function __fod_sync_if_stale
    test -x "$__fod_bin"; or return 0
    set -l stamp $__fod_shims/.stamp
    if test -e $stamp; and test -r $__fod_shims/.sources
        set -l stale 0
        while read -l source
            if test "$source" -nt $stamp
                set stale 1
                break
            end
        end <$__fod_shims/.sources
        test $stale = 0; and return 0
    end
    $__fod_bin _sync
end

function __fod_handle
    # Catalogs configured: fod looks the name up and makes its shim on a hit
    # (fish reports 127 for a handler whatever it returns).
    if test -e $__fod_shims/.catalogs; and test -x "$__fod_bin"
        if $__fod_bin _catalog $argv[1]
            $__fod_bin run $argv
            return
        end
    end
    if functions -q __fod_previous_handler
        __fod_previous_handler $argv
    else
        __fish_default_command_not_found_handler $argv
    end
end

__fod_init
functions -e __fod_init
