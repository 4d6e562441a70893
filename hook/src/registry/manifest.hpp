#pragma once

// OCI and Docker v2 manifests and indexes: what a probe reads from them.

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fod::registry {

namespace media_type {
inline constexpr std::string_view oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view docker_list =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view docker_manifest =
    "application/vnd.docker.distribution.manifest.v2+json";
} // namespace media_type

// The Accept header value of a manifest request: the four types above.
std::string manifest_accept_header();

// An OCI platform: "linux/amd64", "linux/arm/v7".
struct Platform {
  std::string os;
  std::string architecture;
  std::string variant; // may be empty

  // "os/architecture[/variant]".
  std::string text() const;
  bool operator==(const Platform &) const = default;
};

// "OS/ARCH[/VARIANT]", each part non-empty lowercase [a-z0-9_.-]; nullopt otherwise.
std::optional<Platform> parse_platform(std::string_view text);

// This machine's platform in OCI names (uname's x86_64 is amd64, aarch64 arm64, armv7l
// arm/v7, ...).
Platform host_platform();

// A content descriptor of an index or manifest.
struct Descriptor {
  std::string media_type;
  std::string digest;
  std::int64_t size = 0;
  std::optional<Platform> platform; // index entries only
  // Its string-valued annotations (cosign keeps a signature in one); others are skipped.
  std::map<std::string, std::string> annotations;
};

// What a manifest or index says, as far as a probe needs it.
struct ParsedManifest {
  bool is_index = false;
  std::string media_type;            // the body's mediaType, else the Content-Type given
  std::vector<Descriptor> manifests; // an index's entries
  std::vector<Descriptor> layers;    // a manifest's layers
  std::int64_t layers_size = 0;      // sum of the layers' sizes
};

// A body that is not a manifest or index of the four accepted types.
class ManifestError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Parses a manifest or index body. content_type (the response's Content-Type, parameters
// allowed) decides when the body has no mediaType. Throws ManifestError for malformed JSON,
// an unsupported type, missing or mistyped fields, negative sizes or malformed digests.
ParsedManifest parse_manifest(std::string_view body, std::string_view content_type);

// The index entry for `wanted`: os and architecture equal, and the variant equal when both
// name one (arm64 without a variant is v8, arm is v7). An exact variant match wins over an
// entry without a variant. nullopt when no entry fits.
std::optional<Descriptor> select_platform(const std::vector<Descriptor> &manifests,
                                          const Platform &wanted);

} // namespace fod::registry
