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
  enum class Kind { found, not_found, invalid, failed };
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

// Asks the registry about reference through fod-registry (bounded by the config's timeouts).
ProbeResult probe(const std::string &reference, const mapping::Config &config);

// "12.3 MB", "870 kB", "512 B": decimal units, as the engines print sizes.
std::string human_size(std::uint64_t bytes);

} // namespace fod::pull
