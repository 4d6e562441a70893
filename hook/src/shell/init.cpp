#include "shell/init.hpp"

namespace fod::shell {

namespace {

// 'text' for sh-like shells: a single quote becomes '\''.
std::string quote_posix(const std::string &text) {
  std::string out = "'";
  for (char c : text) {
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return out + "'";
}

// 'text' for fish: backslash and single quote are escaped inside single quotes.
std::string quote_fish(const std::string &text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "'";
}

} // namespace

std::optional<std::string> init_script(const std::string &shell, const std::string &fod_path) {
  if (shell == "bash") {
    return "__fod_bin=" + quote_posix(fod_path) + "\n" + detail::bash_script;
  }
  if (shell == "zsh") {
    return "__fod_bin=" + quote_posix(fod_path) + "\n" + detail::zsh_script;
  }
  if (shell == "fish") {
    return "set -g __fod_bin " + quote_fish(fod_path) + "\n" + detail::fish_script;
  }
  return std::nullopt;
}

} // namespace fod::shell
