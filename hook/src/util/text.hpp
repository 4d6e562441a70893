#pragma once

#include <string>
#include <string_view>

namespace fod::util {

// The first line of text that is not blank, without its surrounding white
// space: what a one-line message shows of a program's output.
std::string first_line(const std::string &text);

// text made safe to print on a terminal: no control character survives, so text from
// elsewhere (a registry, a program's output) cannot move the cursor, clear the screen, set
// the window title or ring the bell. Tab, line feed, carriage return, vertical tab and form
// feed become a space; the other C0 controls, ESC and DEL are dropped, and so are the C1
// controls U+0080..U+009F. Valid UTF-8 is kept; a byte that is not part of valid UTF-8 is
// dropped when it is 0x80..0x9F (an 8-bit C1 control) and becomes U+FFFD otherwise.
std::string printable(std::string_view text);

// Whether text is valid UTF-8 (no overlong forms, surrogates or code points over U+10FFFF).
bool is_valid_utf8(std::string_view text);

} // namespace fod::util
