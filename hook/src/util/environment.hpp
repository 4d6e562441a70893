#pragma once

#include <optional>
#include <string>
#include <vector>

namespace fod::util {

// The value of an environment variable that is set and not empty.
std::optional<std::string> get_env(const char *name);

// The calling user's home directory: $HOME, else the password database.
std::string home_directory();

// Names of the variables set in the environment whose name starts with prefix.
std::vector<std::string> env_names_with_prefix(const std::string &prefix);

// True for a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*).
bool is_env_name(const std::string &name);

} // namespace fod::util
