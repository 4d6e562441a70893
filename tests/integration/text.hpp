// Text helpers of the integration tests: lines, substrings, counts.
#pragma once

#include <string>
#include <vector>

namespace fod::test {

// The lines of a text, without their newlines.
std::vector<std::string> lines_of(const std::string& text);
// Whether `text` contains `part`.
bool contains(const std::string& text, const std::string& part);
// Whether `text` begins with `prefix`.
bool starts_with(const std::string& text, const std::string& prefix);
// Whether `text` ends with `suffix`.
bool ends_with(const std::string& text, const std::string& suffix);
// How many times `part` occurs in `text`, overlaps included.
int count_of(const std::string& text, const std::string& part);
// `text` without the spaces, CRs and newlines at its end.
std::string rtrim(std::string text);
// Whether `text` has a line that is `line` once trailing blanks are cut.
bool has_line(const std::string& text, const std::string& line);
// Whether `text` has a line that is `line` once blanks on both sides are cut
// (output written while a terminal does not turn newlines into CR LF starts
// where the last line ended).
bool has_trimmed_line(const std::string& text, const std::string& line);

}  // namespace fod::test
