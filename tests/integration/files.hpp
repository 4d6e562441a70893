// File helpers of the integration tests.
#pragma once

#include <sys/types.h>

#include <string>

namespace fod::test {

// The bytes of the file at path; empty when it cannot be read.
std::string read_file(const std::string& path);
// Writes exactly `text` to path (made with `mode`, or truncated; `mode` is set
// whatever the umask). Its directory must exist. Throws on failure.
void write_file(const std::string& path, const std::string& text, mode_t mode = 0644);
// Writes `text` beside path and renames it over path, as an editor saves: a
// new file (a new inode) with the new content appears at once.
void replace_file(const std::string& path, const std::string& text);
// Whether anything is at path, a dangling link included (lstat).
bool path_exists(const std::string& path);
// The full path of the program `name` in the directories of system_path, or "".
std::string find_program(const std::string& name);

}  // namespace fod::test
