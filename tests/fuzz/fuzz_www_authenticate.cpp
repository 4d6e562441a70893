// libFuzzer target: the WWW-Authenticate parser never crashes or loops, and what it returns is
// normalized (lowercase scheme and parameter names, non-empty schemes).
#include "registry/www_authenticate.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {
bool has_upper(std::string_view text) {
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') {
      return true;
    }
  }
  return false;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  auto challenges = fod::registry::parse_www_authenticate(text);
  if (challenges.size() > size) {
    std::abort();
  }
  for (const auto &challenge : challenges) {
    if (challenge.scheme.empty() || has_upper(challenge.scheme)) {
      std::abort();
    }
    for (const auto &[name, value] : challenge.params) {
      if (name.empty() || has_upper(name) || value.size() > size) {
        std::abort();
      }
    }
  }
  return 0;
}
