# fod shell integration for bash. Load with: eval "$(fod init bash)"
# Makes mapped commands that are not installed run through fod: a shim
# directory at the END of PATH (an installed program always wins) and a
# command_not_found_handle that chains to the handler defined before it.

__fod_init() {
  # Only interactive shells, unless asked; and never without fod.
  [[ $- == *i* || -n ${FOD_HOOK_NONINTERACTIVE-} ]] || return 0
  [[ -n ${__fod_bin-} && -x $__fod_bin ]] || __fod_bin=$(command -v fod 2>/dev/null) || return 0
  [[ -x $__fod_bin ]] || return 0
  __fod_shims=${FOD_SHIM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fod/shims}

  case ":$PATH:" in
    *":$__fod_shims:"*) ;;
    *) PATH=${PATH:+$PATH:}$__fod_shims ;;
  esac

  # Not interactive (FOD_HOOK_NONINTERACTIVE): the shims serve mapped names, and
  # everything else keeps the shell's own handling, message and line numbers.
  if [[ $- != *i* ]]; then
    __fod_prompt
    return 0
  fi

  # Keep the handler that was there before (Debian's command-not-found, a
  # user's own), unless it is ours already: loading twice must not chain fod
  # to itself.
  local previous
  previous=$(declare -f command_not_found_handle)
  if [[ -n $previous && $previous != *__fod_handle* ]]; then
    eval "__fod_previous_handle${previous#command_not_found_handle}"
  fi
  command_not_found_handle() { __fod_handle "$@"; }

  if [[ $(declare -p PROMPT_COMMAND 2>/dev/null) == "declare -a"* ]]; then
    [[ " ${PROMPT_COMMAND[*]} " == *" __fod_prompt "* ]] || PROMPT_COMMAND+=(__fod_prompt)
  elif [[ ${PROMPT_COMMAND-} != *__fod_prompt* ]]; then
    PROMPT_COMMAND="__fod_prompt${PROMPT_COMMAND:+;$PROMPT_COMMAND}"
  fi
  __fod_prompt
}

# True when a mapping file changed since the shims were last synced. Builtins
# only (no process is started): this runs at every prompt.
__fod_stale() {
  local stamp=$__fod_shims/.stamp source
  [[ -e $stamp && -r $__fod_shims/.sources ]] || return 0
  local -a sources
  mapfile -t sources <"$__fod_shims/.sources"
  for source in "${sources[@]}"; do
    [[ $source -nt $stamp ]] && return 0
  done
  return 1
}

__fod_prompt() {
  if [[ ! -x $__fod_bin ]]; then
    # fod was removed: forget the shims bash remembered, once.
    [[ -n ${__fod_gone-} ]] || { hash -r; __fod_gone=1; }
    return 0
  fi
  # bash remembers where it found a command: a removed shim must be forgotten.
  if __fod_stale; then "$__fod_bin" _sync; hash -r; fi
}

__fod_handle() {
  # Not during completion, not from within the handler, not without fod.
  if [[ -z ${COMP_LINE-} && -z ${__fod_in_handler-} && -x $__fod_bin ]]; then
    local __fod_in_handler=1
    if [[ ! -L $__fod_shims/$1 ]] && __fod_stale; then
      "$__fod_bin" _sync
      hash -r
    fi
    if [[ -L $__fod_shims/$1 ]]; then
      "$__fod_bin" run "$@"
      return
    fi
    # Catalogs configured (config.yaml `catalogs:`): fod looks the name up (a
    # cached miss costs no network) and makes its shim on a hit. Its status says
    # only "found or not", never the command's own.
    if [[ -e $__fod_shims/.catalogs ]] && "$__fod_bin" _catalog "$1"; then
      hash -r
      "$__fod_bin" run "$@"
      return
    fi
  fi
  if declare -F __fod_previous_handle >/dev/null; then
    __fod_previous_handle "$@"
    return
  fi
  printf '%s: %s: command not found\n' "${0##*/}" "$1" >&2
  return 127
}

__fod_init
unset -f __fod_init
