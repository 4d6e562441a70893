#pragma once

// Team mappings kept in a registry as an OCI artifact (OCI image-spec 1.1's artifact guidance):
// an image manifest with artifactType application/vnd.fod.mappings.v1+yaml, the empty config,
// and one layer of that media type holding a mapping file. Pure and fuzzed: what a registry
// sent is read here, what fod publishes is written here.

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace fod::registry {

inline constexpr std::string_view mappings_media_type = "application/vnd.fod.mappings.v1+yaml";
inline constexpr std::string_view empty_media_type = "application/vnd.oci.empty.v1+json";
// The empty config's content, "{}", and its digest.
inline constexpr std::string_view empty_config = "{}";
// A mapping file larger than this is refused (the whole shipped catalog is about 30 kB).
inline constexpr std::int64_t max_mappings_size = 1 << 20;

// A manifest that is not a fod mappings artifact, or one fod does not take.
class ArtifactError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// The mapping layer of an artifact.
struct MappingsLayer {
  std::string digest;
  std::int64_t size = 0;
};

// Reads an artifact manifest: an OCI image manifest whose artifactType (or, as older tools
// write it, config media type) is mappings_media_type, with exactly one layer of that media
// type, a sha256 digest and at most max_mappings_size bytes. Throws ArtifactError saying
// which of these fails.
MappingsLayer parse_mappings_artifact(std::string_view manifest);

// The manifest fod publishes for a mapping layer (the empty config's digest included).
std::string mappings_manifest(const MappingsLayer &layer, const std::string &empty_config_digest);

} // namespace fod::registry
