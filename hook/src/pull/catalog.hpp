#pragma once

#include "mapping/entry.hpp"

#include <optional>
#include <string>
#include <vector>

namespace fod::pull {

// The image a catalog would hold for name: <catalog>/<name>:latest.
std::string catalog_image(const std::string &catalog, const std::string &name);

// The mapping entry a catalog image gives name: the image's program `name` (looked up in
// the image's PATH), the default network, the config's limits and ttl.
mapping::Entry catalog_entry(const std::string &name, const std::string &catalog);

// The entry name resolved to in an earlier catalog lookup, while that catalog is still
// configured. Reads one small state file; no network.
std::optional<mapping::Entry> resolved_entry(const std::string &name,
                                             const mapping::Config &config);

// Names resolved through a catalog that is still configured (they get shims).
std::vector<std::string> resolved_names(const mapping::Config &config);

// Looks name up in the configured catalogs, in order: an earlier resolution first, then the
// negative cache, then the registries. A hit is remembered (see resolved_entry); a miss is
// cached for negative_cache_ttl (an unreachable registry for at most 10 minutes). Names that
// cannot be image names are never sent; without catalogs nothing is sent.
std::optional<mapping::Entry> lookup_catalogs(const std::string &name,
                                              const mapping::Config &config);

// The negative cache entry of name: $XDG_CACHE_HOME/fod/catalog-miss/<name>.
std::string negative_cache_path(const std::string &name);

} // namespace fod::pull
