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
  std::string verified_by;     // the key file that verified digest's signature, when asked
};

struct ProbeResult {
  // found, not_found, invalid (the reference; nothing was sent), unreachable (a transport
  // failure: cannot resolve or connect, timed out), malformed (the registry's answer cannot
  // be read), failed (anything else: access denied, a server error, TLS, the helper missing
  // or failing); local: the reference names podman's locally built or imported images
  // (localhost/NAME), no registry was asked; unverified: keys were given and the digest has
  // no cosign signature that one verifies for that digest and repository.
  enum class Kind { found, not_found, invalid, unreachable, malformed, failed, local, unverified };
  Kind kind = Kind::failed;
  Remote remote;        // when found
  std::string error;    // one printable line, when not found or failed
  std::string registry; // the registry asked ("127.0.0.1:5000", "docker.io"), when known
};

// Whether the registry of reference is listed in insecure_registries.
bool is_insecure(const std::string &reference, const mapping::Config &config);

// fod-registry's argv for one of its subcommands: the config's insecure hosts, options, the
// config's timeouts, then "--" and reference. Pure.
std::vector<std::string> helper_argv(const std::string &helper, const char *command,
                                     const mapping::Config &config,
                                     const std::vector<std::string> &options,
                                     const std::string &reference);

// The argv that probes reference, which follows "--", requiring a signature that one of
// verify_keys (PEM files) verifies when there are any. Pure.
std::vector<std::string> probe_argv(const std::string &helper, const std::string &reference,
                                    const mapping::Config &config,
                                    const std::vector<std::string> &verify_keys = {});

// Reads the helper's exit status and its JSON line (registry/helper_proto.hpp). Every string
// taken from them is made printable (util::printable): this is where registry text enters
// fod. Pure.
ProbeResult parse_probe_output(int status, const std::string &out, const std::string &err);

// Whether reference is a localhost/ name: podman's for images built or imported on this
// machine, which no registry serves (localhost:PORT/ is a registry and does not count).
bool is_local_name(const std::string &reference);

// Asks the registry about reference through fod-registry (bounded by the config's timeouts).
// A localhost/ name is never sent anywhere: Kind::local. With verify_keys, the digest found
// must carry a signature one of them verifies (else Kind::unverified).
ProbeResult probe(const std::string &reference, const mapping::Config &config,
                  const std::vector<std::string> &verify_keys = {});

// One line that says why a probe found nothing to pull, for a result that is neither found
// nor local: "registry unreachable: ...", "malformed answer from REGISTRY: ...", ...
std::string describe_failure(const ProbeResult &result);

// "12.3 MB", "870 kB", "512 B": decimal units, as the engines print sizes.
std::string human_size(std::uint64_t bytes);

} // namespace fod::pull
