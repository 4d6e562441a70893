#include "util/hash.hpp"

namespace fod::util {

std::string StableHash::hex() const {
  static const char digits[] = "0123456789abcdef";
  std::string out(16, '0');
  auto v = m_state;
  for (int i = 15; i >= 0; --i) {
    out[static_cast<size_t>(i)] = digits[v & 0xf];
    v >>= 4;
  }
  return out;
}

} // namespace fod::util
