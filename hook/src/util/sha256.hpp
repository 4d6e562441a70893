#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace fod::util {

// SHA-256 (FIPS 180-4), for names that must not collide even when someone
// chooses the input: container keys are hashed from paths a hostile project
// can pick. Written here because fod itself must not load libcrypto (its
// start-up is on every call's path); checked against the FIPS test vectors.
class Sha256 {
public:
  Sha256();
  Sha256 &update(std::string_view data);
  // The digest; the object must not be updated afterwards.
  std::array<std::uint8_t, 32> digest();
  // The first `bytes` bytes of the digest as lowercase hex.
  std::string hex(std::size_t bytes = 32);

private:
  void block(const std::uint8_t *p);
  std::array<std::uint32_t, 8> m_state;
  std::array<std::uint8_t, 64> m_buffer{};
  std::size_t m_buffered = 0;
  std::uint64_t m_length = 0;
};

// A SHA-256 of fields, each length-prefixed, so that no two different lists of
// fields give the same input (moving a value between neighbours changes the hash).
class FieldHash {
public:
  FieldHash &add(std::string_view field) {
    m_hash.update(std::to_string(field.size())).update(":").update(field);
    return *this;
  }
  // The first `bytes` bytes of the digest as lowercase hex.
  std::string hex(std::size_t bytes) { return m_hash.hex(bytes); }

private:
  Sha256 m_hash;
};

} // namespace fod::util
