#pragma once

// Signed images (config.yaml's `verify:`): which keys an image needs, and the digests fod has
// verified, so that only the first run of an image asks its registry for a signature.

#include "mapping/entry.hpp"

#include <optional>
#include <string>
#include <vector>

namespace fod::pull {

// The key files whose signature image needs: those of the longest scope it lies under; none
// when it lies under no scope (or is not a valid reference).
std::vector<std::string> verify_keys(const std::string &image, const mapping::Config &config);

// $XDG_STATE_HOME/fod/verified.json.
std::string verified_path();

// What fod verified for an image.
struct Verified {
  std::string digest;      // the signed digest pulled and tagged
  std::string key;         // the key file that verified it
  std::string fingerprint; // of the key files' paths and contents at that time
};

// SHA-256 over the key files' paths and contents; a key that cannot be read counts as its
// path alone (fod-registry then says why it cannot use it).
std::string keys_fingerprint(const std::vector<std::string> &keys);

// The record for image, if fod verified it with these same keys (paths and contents).
std::optional<Verified> recorded_verification(const std::string &image,
                                              const std::vector<std::string> &keys);

void record_verification(const std::string &image, const Verified &verified);

} // namespace fod::pull
