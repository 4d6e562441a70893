#pragma once

#include "mapping/entry.hpp"
#include "mapping/layers.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fod::mapping {

// The merged mapping as a compact JSON index in the cache directory: a header line (the
// sources' signatures, the config, the diagnostics), then a line per command. Reading it
// needs no YAML: fod's run path links no YAML parser (mapping/loader.cpp rebuilds it).

// What each source looks like now (inode, size, mtime, ctime; "-" when missing).
using SourceSignatures = std::vector<std::pair<std::string, std::string>>;
SourceSignatures source_signatures(const std::vector<Layer> &layers);

// The index's mapping when it is current (every source as signed), else nothing. With only
// set, just that command's entry (or none): the run path parses one line, not the catalog.
std::optional<Mapping> read_current_index(const std::vector<Layer> &layers,
                                          const std::string &cache_dir,
                                          const std::optional<std::string> &only = std::nullopt);

// Writes the index of mapping, read from sources that looked as signatures say.
void write_index(const std::vector<Layer> &layers, const std::string &cache_dir,
                 const SourceSignatures &signatures, const Mapping &mapping);

// The files and directories whose change makes the index stale (existing or not).
std::vector<std::string> index_sources(const std::vector<Layer> &layers);

// The default cache directory: $XDG_CACHE_HOME/fod or ~/.cache/fod.
std::string default_cache_dir();

} // namespace fod::mapping
