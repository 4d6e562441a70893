#pragma once

#include <optional>
#include <string>

namespace fod::pull {

// The user's answer about pulling one image, remembered per canonical reference.
struct Consent {
  bool allowed = false;
  std::string digest;  // the digest approved (empty: allowed before any digest was known)
  std::string command; // the command it was asked for
  long long time = 0;  // seconds since the epoch
};

// $XDG_STATE_HOME/fod/consent.json (default ~/.local/state/fod/consent.json).
std::string consent_path();

// The answer recorded for image (any spelling; it is normalized), if any.
std::optional<Consent> recorded_consent(const std::string &image);

// Records an answer for image, replacing the earlier one (atomically, under a lock).
void record_consent(const std::string &image, const Consent &consent);

// The canonical spelling of image (docker.io/library/jq:latest), or image itself when it
// does not parse.
std::string canonical_image(const std::string &image);

} // namespace fod::pull
