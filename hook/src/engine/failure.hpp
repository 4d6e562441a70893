#pragma once

#include <string>

namespace fod::engine {

// What an engine CLI's failure was about, as far as fod acts on it.
enum class Failure {
  image_absent, // run --pull never: the engine does not have the image
  name_in_use,  // run --name: a container of that name exists already
  other,
};

// Reads what podman or docker printed on stderr when a command failed. The one place
// that knows the engines' wording.
Failure classify_failure(const std::string &stderr_text);

// The line of an engine's output that says what went wrong, to show the user: the first
// line that names an error, else the first line at all, leaving out warnings and notes
// that say nothing about the failure. Without the engine's "Error: " or "docker: " prefix,
// and made printable (it may quote what a registry answered). Empty when there is none.
std::string error_line(const std::string &text);

} // namespace fod::engine
