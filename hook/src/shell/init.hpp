#pragma once

#include <optional>
#include <string>

namespace fod::shell {

// The code `fod init SHELL` prints for bash, zsh or fish: the file from
// shell-integration/ (embedded at build time), preceded by the path of this fod
// binary. nullopt for another shell.
std::optional<std::string> init_script(const std::string &shell, const std::string &fod_path);

namespace detail {
extern const char *const bash_script;
extern const char *const zsh_script;
extern const char *const fish_script;
} // namespace detail

} // namespace fod::shell
