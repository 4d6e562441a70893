#pragma once

// Cosign's signatures of an image, as podman's and skopeo's sigstore attachments store them
// too: the tag "sha256-<hex>.sig" of the image's repository names an OCI manifest whose layers
// are simple-signing payloads, each with its signature (base64) in an annotation. What the
// payload claims and which key it verifies with is checked by fod-registry; this file only
// reads what a registry sent: pure and fuzzed.

#include "registry/reference.hpp"

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fod::registry {

inline constexpr std::string_view signature_annotation = "dev.cosignproject.cosign/signature";
inline constexpr std::string_view simple_signing_media_type =
    "application/vnd.dev.cosign.simplesigning.v1+json";
// The type every cosign payload names.
inline constexpr std::string_view cosign_signature_type = "cosign container image signature";
// Bounds on what fod reads of a signature: payloads are a few hundred bytes.
inline constexpr std::size_t max_signature_layers = 16;
inline constexpr std::int64_t max_payload_size = std::int64_t{64} * 1024;

// The tag cosign stores the signatures of digest under ("sha256-<hex>.sig"); digest must be a
// sha256 digest.
std::string signature_tag(std::string_view digest);

// One signed payload of a signature manifest.
struct SignatureLayer {
  std::string digest; // of the payload blob
  std::int64_t size = 0;
  std::string signature; // the annotation's value, base64
};

// A signature manifest, or a signed payload, that cannot be read.
class SignatureFormatError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// The simple-signing layers of a signature manifest (an OCI or Docker image manifest), at most
// max_signature_layers of them; layers of another media type or without the annotation are
// skipped. Throws SignatureFormatError for a body that is not such a manifest, a malformed
// digest or size, or a payload larger than max_payload_size.
std::vector<SignatureLayer> parse_signature_manifest(std::string_view body);

// What a simple-signing payload claims.
struct SignedClaim {
  std::string manifest_digest;  // critical.image.docker-manifest-digest
  std::string docker_reference; // critical.identity.docker-reference
};

// Reads a payload; throws SignatureFormatError unless it is JSON with critical.type
// cosign_signature_type, a sha256 manifest digest and a docker reference.
SignedClaim parse_simple_signing(std::string_view payload);

// Whether the claim's docker-reference names the repository of image (registry and
// repository compared in canonical form: "index.docker.io/library/x" is docker.io/library/x;
// a tag or digest in the claim is ignored, as cosign ignores it).
bool names_repository(const SignedClaim &claim, const Reference &image);

// Whether image lies under scope ("registry/prefix", or only "registry"): its registry is the
// scope's and its repository equals the rest or starts with it and a '/'.
bool in_scope(const Reference &image, std::string_view scope);

// Whether scope is "registry[/path]" with a valid registry and path components.
bool is_valid_scope(std::string_view scope);

} // namespace fod::registry
