# fod shell integration for zsh. Load with: eval "$(fod init zsh)"
# Makes mapped commands that are not installed run through fod: a shim
# directory at the END of PATH (an installed program always wins) and a
# command_not_found_handler that chains to the handler defined before it.

__fod_init() {
  [[ -o interactive || -n ${FOD_HOOK_NONINTERACTIVE-} ]] || return 0
  [[ -n ${__fod_bin-} && -x $__fod_bin ]] || __fod_bin=${commands[fod]-}
  [[ -n $__fod_bin && -x $__fod_bin ]] || return 0
  typeset -g __fod_bin
  typeset -g __fod_shims=${FOD_SHIM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fod/shims}

  (( ${path[(Ie)$__fod_shims]} )) || path+=("$__fod_shims")

  # Not interactive (FOD_HOOK_NONINTERACTIVE): the shims serve mapped names, and
  # everything else keeps the shell's own handling, message and line numbers.
  if [[ ! -o interactive ]]; then
    __fod_prompt
    return 0
  fi

  # Keep the handler that was there before, unless it is ours already.
  if (( ${+functions[command_not_found_handler]} )) &&
     [[ ${functions[command_not_found_handler]} != *__fod_handle* ]]; then
    functions[__fod_previous_handler]=${functions[command_not_found_handler]}
  fi
  command_not_found_handler() { __fod_handle "$@"; }

  (( ${precmd_functions[(Ie)__fod_prompt]} )) || precmd_functions+=(__fod_prompt)
  __fod_prompt
}

# True when a mapping file changed since the shims were last synced; builtins only.
__fod_stale() {
  local stamp=$__fod_shims/.stamp source
  [[ -e $stamp && -r $__fod_shims/.sources ]] || return 0
  local -a sources
  sources=("${(@f)$(<$__fod_shims/.sources)}")
  for source in $sources; do
    [[ $source -nt $stamp ]] && return 0
  done
  return 1
}

__fod_prompt() {
  [[ -x $__fod_bin ]] || return 0
  if __fod_stale; then "$__fod_bin" _sync; fi
}

__fod_handle() {
  if [[ -z ${__fod_in_handler-} && -x $__fod_bin ]]; then
    local __fod_in_handler=1
    if [[ ! -L $__fod_shims/$1 ]] && __fod_stale; then
      "$__fod_bin" _sync
    fi
    if [[ -L $__fod_shims/$1 ]]; then
      "$__fod_bin" run "$@"
      return
    fi
    # Catalogs configured: fod looks the name up and makes its shim on a hit.
    if [[ -e $__fod_shims/.catalogs ]] && "$__fod_bin" _catalog "$1"; then
      rehash
      "$__fod_bin" run "$@"
      return
    fi
  fi
  if (( ${+functions[__fod_previous_handler]} )); then
    __fod_previous_handler "$@"
    return
  fi
  print -ru2 -- "zsh: command not found: $1"
  return 127
}

__fod_init
unfunction __fod_init
