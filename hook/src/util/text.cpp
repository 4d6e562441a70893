#include "util/text.hpp"

#include <cctype>

namespace fod::util {

std::string first_line(const std::string &text) {
  size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string::npos) {
    return {};
  }
  std::string line = text.substr(start, text.find('\n', start) - start);
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())) != 0) {
    line.pop_back();
  }
  return line;
}

} // namespace fod::util
