#pragma once

#include "mapping/loader.hpp"

#include <optional>
#include <string>
#include <vector>

namespace fod::mapping {

// Parsing YAML costs milliseconds; fod runs on every missing command. The merged
// mapping is therefore kept as a compact JSON index in the cache directory and
// rebuilt only when a source file changed (by inode, size, mtime and ctime).
struct IndexResult {
  Mapping mapping;
  bool rebuilt = false; // true when the YAML was read now (diagnostics are fresh)
};

// The merged mapping of layers, from the index in cache_dir when it is current.
// With only set, a current index yields just that command's entry (or none):
// the run path then parses one line instead of the whole catalog.
IndexResult load_indexed(const std::vector<Layer> &layers, const std::string &cache_dir,
                         const std::optional<std::string> &only = std::nullopt);

// The files and directories whose change makes the index stale (existing or not).
std::vector<std::string> index_sources(const std::vector<Layer> &layers);

// The default cache directory: $XDG_CACHE_HOME/fod or ~/.cache/fod.
std::string default_cache_dir();

} // namespace fod::mapping
