#include "util/secrets.hpp"

#include <array>
#include <cmath>
#include <cstddef>

namespace fod::util {

namespace {

// Longer than the longest command name of a Debian system (44 characters:
// python-argcomplete-check-easy-install-script).
constexpr std::size_t longest_name = 48;
// Shorter text is never judged: too little of it to tell.
constexpr std::size_t shortest_judged = 12;
constexpr int min_switches = 4;
constexpr double min_switch_rate = 0.2;
constexpr double min_entropy = 3.0;

enum class Class { lower, upper, digit, other };

Class class_of(char c) {
  if (c >= 'a' && c <= 'z') {
    return Class::lower;
  }
  if (c >= 'A' && c <= 'Z') {
    return Class::upper;
  }
  if (c >= '0' && c <= '9') {
    return Class::digit;
  }
  return Class::other;
}

bool is_hex_letter(char c) {
  return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

} // namespace

double shannon_entropy(std::string_view text) {
  if (text.empty()) {
    return 0;
  }
  std::array<std::size_t, 256> counts{};
  for (char c : text) {
    ++counts[static_cast<unsigned char>(c)];
  }
  double entropy = 0;
  const auto total = static_cast<double>(text.size());
  for (std::size_t count : counts) {
    if (count != 0) {
      double p = static_cast<double>(count) / total;
      entropy -= p * std::log2(p);
    }
  }
  return entropy;
}

bool looks_like_secret(std::string_view text) {
  if (text.size() > longest_name) {
    return true;
  }
  if (text.size() < shortest_judged) {
    return false;
  }
  std::size_t lower = 0;
  std::size_t upper = 0;
  std::size_t digits = 0;
  std::size_t hex_letters = 0;
  for (char c : text) {
    switch (class_of(c)) {
    case Class::lower:
      ++lower;
      break;
    case Class::upper:
      ++upper;
      break;
    case Class::digit:
      ++digits;
      break;
    case Class::other:
      break;
    }
    hex_letters += is_hex_letter(c) ? 1 : 0;
  }
  const std::size_t letters = lower + upper;
  const std::size_t alnum = letters + digits;
  if (alnum >= shortest_judged) {
    if (letters == 0) {
      return true; // a number: a phone, card or account number
    }
    if (hex_letters == letters && digits >= 2 && (lower == 0 || upper == 0)) {
      return true; // hex: keys, hashes, UUIDs
    }
    if (upper > 0 && lower == 0) {
      return true; // no command is named in capitals and digits: AWS key ids, base32
    }
  }
  // Neighbouring letters and digits that change class: a person's names switch rarely
  // (x86_64, FileCheck), random text often.
  int switches = 0;
  int pairs = 0;
  for (std::size_t i = 1; i < text.size(); ++i) {
    Class a = class_of(text[i - 1]);
    Class b = class_of(text[i]);
    if (a == Class::other || b == Class::other) {
      continue;
    }
    ++pairs;
    switches += a != b ? 1 : 0;
  }
  return switches >= min_switches &&
         static_cast<double>(switches) >= min_switch_rate * static_cast<double>(pairs) &&
         shannon_entropy(text) >= min_entropy;
}

} // namespace fod::util
