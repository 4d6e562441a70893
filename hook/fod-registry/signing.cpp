#include "signing.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <utility>

namespace fod::registry {

namespace {

EVP_PKEY *as_key(void *key) {
  return static_cast<EVP_PKEY *>(key);
}

// Why fod does not take this key, or "" when it does.
std::string unaccepted(EVP_PKEY *key) {
  switch (EVP_PKEY_get_base_id(key)) {
  case EVP_PKEY_ED25519:
    return {};
  case EVP_PKEY_RSA:
    return EVP_PKEY_get_bits(key) >= 2048 ? std::string() : "an RSA key shorter than 2048 bits";
  case EVP_PKEY_EC: {
    char curve[64] = {};
    std::size_t length = 0;
    if (EVP_PKEY_get_utf8_string_param(key, "group", curve, sizeof curve, &length) != 1) {
      return "an EC key of unknown curve";
    }
    const std::string name(curve, length);
    return name == "prime256v1" || name == "P-256" || name == "secp384r1" || name == "P-384" ||
                   name == "secp521r1" || name == "P-521"
               ? std::string()
               : "an EC key on curve " + name + " (want P-256, P-384 or P-521)";
  }
  default:
    return "not an ECDSA, RSA or Ed25519 key";
  }
}

} // namespace

PublicKey::PublicKey(const std::string &path) : m_path(path) {
  std::FILE *file = std::fopen(path.c_str(), "re");
  if (file == nullptr) {
    throw KeyError("cannot read the key " + path);
  }
  EVP_PKEY *key = PEM_read_PUBKEY(file, nullptr, nullptr, nullptr);
  std::fclose(file);
  if (key == nullptr) {
    throw KeyError("the key " + path + " holds no PEM public key (BEGIN PUBLIC KEY)");
  }
  if (std::string why = unaccepted(key); !why.empty()) {
    EVP_PKEY_free(key);
    throw KeyError("the key " + path + " is " + why);
  }
  m_key = key;
}

PublicKey::~PublicKey() {
  EVP_PKEY_free(as_key(m_key));
}

PublicKey::PublicKey(PublicKey &&other) noexcept
    : m_path(std::move(other.m_path)), m_key(std::exchange(other.m_key, nullptr)) {}

PublicKey &PublicKey::operator=(PublicKey &&other) noexcept {
  if (this != &other) {
    EVP_PKEY_free(as_key(m_key));
    m_path = std::move(other.m_path);
    m_key = std::exchange(other.m_key, nullptr);
  }
  return *this;
}

bool PublicKey::verifies(std::string_view data, std::string_view signature) const {
  EVP_MD_CTX *context = EVP_MD_CTX_new();
  if (context == nullptr) {
    return false;
  }
  // Ed25519 signs the message itself; the others its SHA-256.
  const EVP_MD *digest =
      EVP_PKEY_get_base_id(as_key(m_key)) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
  const bool ok =
      EVP_DigestVerifyInit(context, nullptr, digest, nullptr, as_key(m_key)) == 1 &&
      EVP_DigestVerify(context, reinterpret_cast<const unsigned char *>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char *>(data.data()),
                       data.size()) == 1;
  EVP_MD_CTX_free(context);
  return ok;
}

} // namespace fod::registry
