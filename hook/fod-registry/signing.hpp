#pragma once

// Public keys and signature checks over OpenSSL, for `fod-registry probe --verify-key`.

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace fod::registry {

// A key file that cannot be read or holds no key fod accepts (helper::Status::usage).
class KeyError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// A PEM public key of a kind cosign signs with: ECDSA (P-256, P-384, P-521), RSA of at least
// 2048 bits, or Ed25519.
class PublicKey {
public:
  // Reads the first public key of a PEM file. Throws KeyError.
  explicit PublicKey(const std::string &path);
  ~PublicKey();
  PublicKey(PublicKey &&) noexcept;
  PublicKey &operator=(PublicKey &&) noexcept;
  PublicKey(const PublicKey &) = delete;
  PublicKey &operator=(const PublicKey &) = delete;

  const std::string &path() const { return m_path; }
  // Whether signature (raw bytes) signs data: ECDSA (DER) and RSA (PKCS #1 v1.5) over its
  // SHA-256, Ed25519 over data itself, as cosign signs.
  bool verifies(std::string_view data, std::string_view signature) const;

private:
  std::string m_path;
  void *m_key = nullptr; // EVP_PKEY*
};

} // namespace fod::registry
