#pragma once

// The probe: what a reference resolves to in its registry, for this platform.

#include "http.hpp"
#include "registry/auth_file.hpp"
#include "registry/manifest.hpp"
#include "registry/reference.hpp"

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace fod::registry {

struct ProbeOptions {
  std::vector<std::string> insecure; // "host[:port]" spoken to over plain HTTP
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds timeout{5000}; // the whole probe
  Platform platform = host_platform();
  std::vector<std::string> auth_files = auth_file_paths();
};

struct ProbeResult {
  std::string reference;       // canonical
  std::string digest;          // what the tag (or digest) resolves to: an index or a manifest
  std::string manifest_digest; // the manifest for the platform (== digest without an index)
  std::int64_t size = 0;       // sum of that manifest's layer sizes
  std::string media_type;      // of what digest names
  std::string platform;        // "linux/amd64"
};

// The registry has no such repository, tag or platform: exit status 1.
class NotFound : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Resolves the reference. Throws NotFound, or ProbeFailure for everything else (unreachable,
// timeout, denied, server errors, malformed answers, digest mismatches).
ProbeResult probe(const Reference &reference, const ProbeOptions &options);

// The host the API of a registry is served from (docker.io: registry-1.docker.io).
std::string api_host(const std::string &registry);

// "CODE: message; CODE: message" from a distribution errors body, else the body's first line
// (at most 200 characters); "" for an empty body.
std::string error_summary(const std::string &body);

} // namespace fod::registry
