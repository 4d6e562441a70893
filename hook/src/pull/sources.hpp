#pragma once

// Team mappings (config.yaml's mapping_sources): fod mappings artifacts fetched from a registry
// by fod-registry, checked, and kept as the team layer (dirs::team_mappings()). A source's last
// good copy stays until a fetch brings a good new one.

#include "mapping/entry.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace fod::pull {

// What one source's fetch did.
struct SourceOutcome {
  std::string source;
  bool fetched = false;    // a good copy, now in the team layer
  bool changed = false;    // it differs from the copy before
  std::string digest;      // of the artifact fetched
  std::string verified_by; // the key that verified its signature, under a verify: scope
  std::string error;       // why not fetched (one line); the last good copy stays
};

// The file of a source's copy in the team layer: mappings.d/NN-<source, as a file name>.yaml,
// NN its position in mapping_sources, so that a later source wins as a later file does.
std::string source_file(std::size_t position, const std::string &source);

// Fetches every source now, one after the other, under the team layer's lock: each through
// fod-registry (with the keys of its verify: scope), refused unless it is a mapping file
// whose YAML parses (one line why), else written over its last copy. Copies of sources no
// longer listed are removed (all of them, and the stamp, when none is). Marks the attempt for
// refresh_due.
std::vector<SourceOutcome> refresh_sources(const mapping::Config &config);

// The argv that fetches source into output (a file that must not exist), which follows "--".
// Pure.
std::vector<std::string> fetch_argv(const std::string &helper, const std::string &source,
                                    const std::string &output, const mapping::Config &config,
                                    const std::vector<std::string> &verify_keys);

// Checks a mapping file for `fod publish` and pushes it as a fod mappings artifact to
// reference through fod-registry, with the credentials a pull would use. Returns the line to
// print; throws UserError with the file's first problem, or the registry's refusal.
std::string publish_mappings(const std::string &file, const std::string &reference,
                             const mapping::Config &config);

} // namespace fod::pull
