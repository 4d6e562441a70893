#include "util/duration.hpp"

#include <cstdint>

namespace fod::util {

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
  if (text.empty()) {
    return std::nullopt;
  }
  std::int64_t total = 0;
  std::int64_t number = 0;
  bool have_digits = false;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      number = number * 10 + (c - '0');
      if (number > 100'000'000) {
        return std::nullopt;
      }
      have_digits = true;
      continue;
    }
    if (!have_digits) {
      return std::nullopt;
    }
    switch (c) {
    case 's':
      total += number;
      break;
    case 'm':
      total += number * 60;
      break;
    case 'h':
      total += number * 3600;
      break;
    case 'd':
      total += number * 86400;
      break;
    default:
      return std::nullopt;
    }
    number = 0;
    have_digits = false;
  }
  total += number; // a bare trailing number counts as seconds
  return std::chrono::seconds(total);
}

std::string format_duration(std::chrono::seconds duration) {
  auto s = duration.count();
  if (s == 0) {
    return "0s";
  }
  std::string out;
  if (s >= 86400) {
    out += std::to_string(s / 86400) + "d";
    s %= 86400;
  }
  if (s >= 3600) {
    out += std::to_string(s / 3600) + "h";
    s %= 3600;
  }
  if (s >= 60) {
    out += std::to_string(s / 60) + "m";
    s %= 60;
  }
  if (s > 0) {
    out += std::to_string(s) + "s";
  }
  return out;
}

} // namespace fod::util
