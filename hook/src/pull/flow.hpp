#pragma once

#include "engine/engine.hpp"
#include "mapping/entry.hpp"

#include <string>

namespace fod::pull {

// Brings entry's image into the engine's storage, as the user allows: probes the registry,
// asks on the terminal (or uses the consent recorded, or config confirm: never), pulls the
// approved digest through the engine CLI and tags it as the mapping names it. One run at a
// time per image and engine: another that finds the image absent meanwhile waits (saying
// so), then finds it there and returns (or, after a "no", follows the consent). Throws
// UserError: 127 without consent, 125 when the registry or the pull fails. Ctrl-C during the
// pull throws Interrupted (SIGINT), with no image tagged.
void obtain_image(const mapping::Entry &entry, const mapping::Config &config,
                  const engine::Engine &engine);

// Whether the engine has image (by the name the mapping uses).
bool image_present(const engine::Engine &engine, const std::string &image);

// `fod allow NAME`: records consent for entry's image, with the digest the registry gives
// now, or without one when the registry cannot be reached (the first pull then approves
// the digest it finds). Returns what to print. Throws UserError and records nothing when the
// registry answers but not with a digest: 1 when the image is not there, 125 when the
// answer is malformed or an error.
std::string allow_image(const mapping::Entry &entry, const mapping::Config &config);

} // namespace fod::pull
