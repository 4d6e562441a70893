#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace fod::util {

// A stable 64-bit FNV-1a hash, for names that must not change between versions.
class StableHash {
public:
  StableHash &add(std::string_view text) {
    for (unsigned char c : text) {
      m_state = (m_state ^ c) * 0x100000001b3ULL;
    }
    // A separator so that ("ab","c") and ("a","bc") differ.
    m_state = (m_state ^ 0xffU) * 0x100000001b3ULL;
    return *this;
  }
  std::uint64_t value() const { return m_state; }
  // The value as 16 lowercase hex digits.
  std::string hex() const;

private:
  std::uint64_t m_state = 0xcbf29ce484222325ULL;
};

} // namespace fod::util
