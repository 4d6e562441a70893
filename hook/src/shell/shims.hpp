#pragma once

#include "mapping/entry.hpp"

#include <string>
#include <vector>

namespace fod::shell {

// The shim directory: $FOD_SHIM_DIR, else $XDG_CACHE_HOME/fod/shims (default
// ~/.cache/fod/shims). The shell code computes the same path without running fod.
std::string shim_dir();

// Makes dir hold exactly one symlink to fod_path per mapped command and per
// name in catalog_names, then writes dir/.sources (the files whose change makes
// the shims stale, one per line, read by the shells with builtins only), makes
// dir/.catalogs exist exactly when catalogs are configured (the shells then ask
// `fod _catalog` about unmapped names) and touches dir/.stamp.
void sync_shims(const mapping::Mapping &mapping, const std::vector<std::string> &catalog_names,
                const std::vector<std::string> &sources, const std::string &fod_path,
                const std::string &dir);

} // namespace fod::shell
