#pragma once

// Image references as podman and docker read them. Kept free of any dependency but the
// standard library: the fuzz targets compile this file on its own.

#include <optional>
#include <string>
#include <string_view>

namespace fod::registry {

// A fully qualified image reference.
struct Reference {
  std::string registry;   // "docker.io", "127.0.0.1:5055", "localhost", "[::1]:5000"
  std::string repository; // "library/jq"
  std::string tag;    // "latest" when neither tag nor digest was given; empty with only a digest
  std::string digest; // "sha256:<64 lowercase hex>" or empty

  // "docker.io/library/jq:latest", "reg/x/y@sha256:...", "reg/x:1@sha256:...".
  std::string canonical() const;
  // What the registry API names the manifest by: the digest when there is one, else the tag.
  std::string manifest_reference() const { return digest.empty() ? tag : digest; }

  bool operator==(const Reference &) const = default;
};

// Parses and normalizes `text` the way podman and docker do: the first component names a
// registry only if it holds '.' or ':' or is "localhost" (else docker.io), "index.docker.io"
// is docker.io, single names on docker.io get "library/", no tag and no digest means
// ":latest". nullopt for anything the distribution reference grammar rejects (uppercase in
// the repository, bad characters, a name over 255 characters, an empty part, a 64-hex name,
// a digest other than sha256 with 64 lowercase hex digits, ...).
std::optional<Reference> parse_reference(std::string_view text);

// Whether `text` is one repository path component: [a-z0-9]+(([._]|__|-+)[a-z0-9]+)*.
bool is_valid_path_component(std::string_view text);

// Whether text is "sha256:" and 64 lowercase hex digits.
bool is_sha256_digest(std::string_view text);

} // namespace fod::registry
