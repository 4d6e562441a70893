#include "util/environment.hpp"

#include <cstdlib>
#include <cstring>
#include <pwd.h>
#include <unistd.h>

extern char **environ;

namespace fod::util {

std::optional<std::string> get_env(const char *name) {
  const char *value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    return std::nullopt;
  }
  return std::string(value);
}

std::string home_directory() {
  if (auto home = get_env("HOME")) {
    return *home;
  }
  if (const passwd *pw = getpwuid(getuid()); pw != nullptr && pw->pw_dir != nullptr) {
    return pw->pw_dir;
  }
  return "/";
}

std::vector<std::string> env_names_with_prefix(const std::string &prefix) {
  std::vector<std::string> names;
  for (char **e = environ; *e != nullptr; ++e) {
    const char *eq = std::strchr(*e, '=');
    if (eq != nullptr && std::strncmp(*e, prefix.c_str(), prefix.size()) == 0) {
      names.emplace_back(*e, static_cast<size_t>(eq - *e));
    }
  }
  return names;
}

bool is_env_name(const std::string &name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) {
    return false;
  }
  for (char c : name) {
    bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) {
      return false;
    }
  }
  return true;
}

} // namespace fod::util
