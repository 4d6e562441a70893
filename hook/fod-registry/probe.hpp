#pragma once

// The probe: what a reference resolves to in its registry, for this platform.

#include "http.hpp"
#include "registry/auth_file.hpp"
#include "registry/manifest.hpp"
#include "registry/reference.hpp"
#include "signing.hpp"

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace fod::registry {

// ~/.config/containers/certs.d, /etc/containers/certs.d, /etc/docker/certs.d.
std::vector<std::string> default_cert_roots();

struct ProbeOptions {
  std::vector<std::string> insecure; // "host[:port]" spoken to over plain HTTP
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds timeout{5000}; // the whole probe
  Platform platform = host_platform();
  std::vector<std::string> auth_files = auth_file_paths();
  // Where the engines keep per-registry CA certificates (ROOT/HOST[:PORT]/*.crt).
  std::vector<std::string> cert_roots = default_cert_roots();
  // When set, the *.crt files of this directory instead (podman's --cert-dir).
  std::string cert_dir;
  // When not empty: the digest found must carry a cosign signature that one of these keys
  // verifies and that names that digest and the reference's repository (else Unverified).
  const std::vector<PublicKey> *verify_keys = nullptr;
  // Ask the token service for push as well as pull (publish_mappings).
  bool push = false;
};

struct ProbeResult {
  std::string reference;       // canonical
  std::string digest;          // what the tag (or digest) resolves to: an index or a manifest
  std::string manifest_digest; // the manifest for the platform (== digest without an index)
  std::int64_t size = 0;       // sum of that manifest's layer sizes
  std::string media_type;      // of what digest names
  std::string platform;        // "linux/amd64"
  std::string verified_by;     // the key file that verified digest's signature, if asked
};

// The registry has no such repository, tag or platform (helper::Status::not_found).
class NotFound : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// The registry holds no signature of the digest that verifies with the keys asked for, or one
// that does but names another digest or repository (helper::Status::unverified).
class Unverified : public ProbeFailure {
public:
  using ProbeFailure::ProbeFailure;
};

// Resolves the reference. Throws NotFound; Unreachable (cannot resolve or connect, timeout);
// MalformedAnswer (malformed JSON, a manifest that does not parse, digest mismatches);
// Unverified (options.verify_keys); or
// ProbeFailure for everything else (denied, server errors, TLS, redirects).
ProbeResult probe(const Reference &reference, const ProbeOptions &options);

// A fod mappings artifact, fetched.
struct MappingsFetch {
  std::string reference;   // canonical
  std::string digest;      // of the artifact's manifest
  std::string verified_by; // the key file that verified its signature, if asked
  std::string content;     // the mapping file, checked against its digest
};

// What the reference names is not a fod mappings artifact (helper::Status::not_mappings).
class NotMappings : public ProbeFailure {
public:
  using ProbeFailure::ProbeFailure;
};

// Fetches a fod mappings artifact (registry/artifact.hpp): its manifest, the signature when
// options.verify_keys are given, and its one layer (at most max_mappings_size bytes). Throws
// as probe() does, and NotMappings.
MappingsFetch fetch_mappings(const Reference &reference, const ProbeOptions &options);

// Pushes content as a fod mappings artifact under the reference's tag (or digest), with the
// credentials a pull would use and a token for push; returns the manifest's digest. Throws
// ProbeFailure when the registry refuses, Unreachable and MalformedAnswer as probe() does.
std::string publish_mappings(const Reference &reference, const std::string &content,
                             const ProbeOptions &options);

// The host the API of a registry is served from (docker.io: registry-1.docker.io).
std::string api_host(const std::string &registry);

// "CODE: message; CODE: message" from a distribution errors body, else the body's first line
// (at most 200 characters); "" for an empty body.
std::string error_summary(const std::string &body);

} // namespace fod::registry
