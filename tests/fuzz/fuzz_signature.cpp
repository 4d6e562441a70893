// libFuzzer target: the cosign signature readers and the team mappings artifact reader either
// return or throw SignatureFormatError, nothing else, and what they return keeps their promises: at
// most max_signature_layers layers, each named by a sha256 digest, with a size of 0 to
// max_payload_size; a claim names a sha256 manifest digest and a repository. The same input is read
// as a signature manifest and as a signed payload, and what a claim names is compared as
// fod-registry compares it.
#include "registry/artifact.hpp"
#include "registry/reference.hpp"
#include "registry/signature.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  using namespace fod::registry;
  std::string_view text(reinterpret_cast<const char *>(data), size);
  try {
    auto layers = parse_signature_manifest(text);
    if (layers.size() > max_signature_layers) {
      std::abort();
    }
    for (const auto &layer : layers) {
      if (!is_sha256_digest(layer.digest) || layer.size < 0 || layer.size > max_payload_size) {
        std::abort();
      }
    }
  } catch (const SignatureFormatError &) {
  }
  try {
    auto claim = parse_simple_signing(text);
    if (!is_sha256_digest(claim.manifest_digest) || claim.docker_reference.empty()) {
      std::abort();
    }
    auto tagged = parse_reference("registry.example.com/x:" + signature_tag(claim.manifest_digest));
    if (!tagged) {
      std::abort();
    }
    auto named = parse_reference(claim.docker_reference);
    if (names_repository(claim, *tagged) !=
        (named && named->registry == tagged->registry && named->repository == tagged->repository)) {
      std::abort();
    }
  } catch (const SignatureFormatError &) {
  }
  // Read as a team mappings artifact (registry/artifact.hpp): one layer of at most
  // max_mappings_size bytes, named by a sha256 digest, or ArtifactError.
  try {
    auto layer = parse_mappings_artifact(text);
    if (!is_sha256_digest(layer.digest) || layer.size < 0 || layer.size > max_mappings_size) {
      std::abort();
    }
  } catch (const ArtifactError &) {
  }
  // A scope as config.yaml gives it: a valid one never matches an image of another registry.
  if (is_valid_scope(text)) {
    auto image = parse_reference("registry.example.com/team/x:1");
    if (in_scope(*image, text) && text.substr(0, text.find('/')) != image->registry) {
      std::abort();
    }
  }
  return 0;
}
