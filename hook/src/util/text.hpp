#pragma once

#include <string>

namespace fod::util {

// The first line of text that is not blank, without its surrounding white
// space: what a one-line message shows of a program's output.
std::string first_line(const std::string &text);

} // namespace fod::util
