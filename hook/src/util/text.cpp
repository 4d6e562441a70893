#include "util/text.hpp"

#include <cctype>
#include <cstddef>

namespace fod::util {

namespace {

// The length of the valid UTF-8 sequence at text[i] and its code point, or 0 when the
// bytes there are not one (overlong forms, surrogates and code points over U+10FFFF are not).
std::size_t utf8_sequence(std::string_view text, std::size_t i, char32_t &code_point) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t length = 0;
  char32_t value = 0;
  char32_t minimum = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
    value = lead & 0x1fU;
    minimum = 0x80;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    value = lead & 0x0fU;
    minimum = 0x800;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    value = lead & 0x07U;
    minimum = 0x10000;
  } else {
    return 0;
  }
  if (i + length > text.size()) {
    return 0;
  }
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xc0U) != 0x80) {
      return 0;
    }
    value = (value << 6U) | (byte(i + k) & 0x3fU);
  }
  if (value < minimum || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) {
    return 0;
  }
  code_point = value;
  return length;
}

} // namespace

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

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    char32_t code_point = 0;
    std::size_t length =
        static_cast<unsigned char>(text[i]) < 0x80 ? 1 : utf8_sequence(text, i, code_point);
    if (length == 0) {
      return false;
    }
    i += length;
  }
  return true;
}

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r') {
        out += ' ';
      } else if (c >= 0x20 && c != 0x7f) {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    char32_t code_point = 0;
    std::size_t length = utf8_sequence(text, i, code_point);
    if (length == 0) {
      if (c > 0x9f) {
        out += "\xef\xbf\xbd"; // U+FFFD
      }
      ++i;
      continue;
    }
    if (code_point > 0x9f) {
      out.append(text.substr(i, length));
    }
    i += length;
  }
  return out;
}

} // namespace fod::util
