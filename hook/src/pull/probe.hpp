#pragma once

#include "mapping/entry.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace fod::pull {

// What a registry said about one image reference.
struct Remote {
  std::string reference;       // as the registry helper normalized it
  std::string digest;          // what the tag resolves to (an index or a manifest)
  std::string manifest_digest; // the manifest for this machine's platform
  std::uint64_t size = 0;      // bytes to download (the layers)
};

struct ProbeResult {
  // local: the reference names podman's locally built or imported images (localhost/NAME);
  // no registry was asked.
  enum class Kind { found, not_found, invalid, failed, local };
  Kind kind = Kind::failed;
  Remote remote;     // when found
  std::string error; // one line, when not found or failed
};

// Whether the registry of reference is listed in insecure_registries.
bool is_insecure(const std::string &reference, const mapping::Config &config);

// The argv that probes reference. Pure.
std::vector<std::string> probe_argv(const std::string &helper, const std::string &reference,
                                    const mapping::Config &config);

// Reads the helper's exit status and its JSON line. Pure.
ProbeResult parse_probe_output(int status, const std::string &out, const std::string &err);

// Whether reference is a localhost/ name: podman's for images built or imported on this
// machine, which no registry serves (localhost:PORT/ is a registry and does not count).
bool is_local_name(const std::string &reference);

// Asks the registry about reference through fod-registry (bounded by the config's timeouts).
// A localhost/ name is never sent anywhere: Kind::local.
ProbeResult probe(const std::string &reference, const mapping::Config &config);

// "12.3 MB", "870 kB", "512 B": decimal units, as the engines print sizes.
std::string human_size(std::uint64_t bytes);

} // namespace fod::pull
