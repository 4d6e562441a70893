// Cosign-style signatures for the signed-image tests, made with the openssl
// command line (Debian's podman and skopeo have sigstore turned off and cosign is
// not packaged, see ENVIRONMENT.md) and pushed through the registry API:
//
//     fod::test::TempDir keys;
//     auto key = fod::test::make_key(keys, "team", fod::test::KeyKind::ec_p256);
//     fod::test::sign_image(registry, "team/tool", digest,
//                           {.docker_reference = registry.host() + "/team/tool", .key = key});
//
// The signature is what cosign stores: the tag "sha256-<hex>.sig" of the image's
// repository names an OCI image manifest whose layer is the simple-signing
// payload, annotated with the base64 signature over the payload's bytes.
#pragma once

#include "harness.hpp"
#include "registry_fixture.hpp"

#include <string>

namespace fod::test {

enum class KeyKind { ec_p256, ed25519, rsa2048 };

struct KeyPair {
    KeyKind kind = KeyKind::ec_p256;
    std::string private_pem{};  // the private key (PEM), for openssl to sign with
    std::string public_pem{};   // the public key (PEM, mode 0644): what fod's config names
};

// Makes a key pair NAME.pem and NAME.pub.pem in dir with openssl genpkey and
// openssl pkey -pubout. Throws with openssl's message on failure.
KeyPair make_key(const TempDir& dir, const std::string& name, KeyKind kind);

// The simple-signing payload cosign signs, compact JSON:
// {"critical":{"identity":{"docker-reference":REF},"image":{"docker-manifest-digest":DIGEST},
//  "type":"cosign container image signature"},"optional":null}
std::string simple_signing_payload(const std::string& docker_reference,
                                   const std::string& manifest_digest);

// The raw signature over payload with the private key, by the openssl command
// line: ECDSA and RSA sign its SHA-256 (openssl dgst -sha256 -sign), Ed25519 the
// bytes themselves (openssl pkeyutl -sign -rawin). Throws on failure.
std::string sign_with_openssl(const KeyPair& key, const std::string& payload);

// RFC 4648 base64 with padding, no line breaks.
std::string base64_encode(const std::string& data);
// The bytes of padded base64 text; throws on text that is not base64.
std::string base64_decode(const std::string& text);

// Whether signature (raw bytes) signs payload with the public key, checked by the
// openssl command line (the fixture's own check, independent of fod).
bool openssl_verifies(const KeyPair& key, const std::string& payload, const std::string& signature);

struct SignatureOptions {
    std::string docker_reference{};  // what the payload names as the image's repository
    KeyPair key{};
    // The digest the payload names; "" names the digest the signature is stored for.
    std::string signed_digest{};
    // Changes the payload after signing (still JSON, the same length, the same
    // digest and reference), keeping the signature of the original.
    bool tamper = false;
};

// Pushes a cosign signature for the manifest `digest` of REPO: the payload
// blob, a small config blob, and the signature manifest as the tag
// "sha256-<hex>.sig". Returns the payload that was pushed.
std::string sign_image(const TestRegistry& registry, const std::string& repo,
                       const std::string& digest, const SignatureOptions& options);

// The tag cosign stores the signatures of digest ("sha256:<hex>") under: "sha256-<hex>.sig".
std::string signature_tag(const std::string& digest);

}  // namespace fod::test
