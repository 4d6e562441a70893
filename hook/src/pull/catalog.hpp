#pragma once

#include "engine/engine.hpp"
#include "mapping/entry.hpp"

#include <optional>
#include <string>
#include <vector>

namespace fod::pull {

// The image a catalog would hold for name: <catalog>/<name>:latest.
std::string catalog_image(const std::string &catalog, const std::string &name);

// The mapping entry a catalog image gives name: the config's catalog_network, limits and
// ttl, and an empty entrypoint until the image's own is known (see image_entrypoint).
mapping::Entry catalog_entry(const std::string &name, const std::string &catalog,
                             const mapping::Config &config);

// The image's own ENTRYPOINT from the engine (empty when it has none); nullopt when the
// engine does not have the image.
std::optional<std::vector<std::string>> image_entrypoint(const engine::Engine &engine,
                                                         const std::string &image);

// Remembers what a catalog name runs in its image, so later runs ask the engine nothing.
void record_entrypoint(const std::string &name, const std::vector<std::string> &entrypoint);

// The entry name resolved to in an earlier catalog lookup, while that catalog is still
// configured. Reads one small state file; no network.
std::optional<mapping::Entry> resolved_entry(const std::string &name,
                                             const mapping::Config &config);

// Names resolved through a catalog that is still configured (they get shims).
std::vector<std::string> resolved_names(const mapping::Config &config);

// Whether name may be sent to a catalog registry: it is an image path component (lowercase
// letters and digits joined by . _ __ -) and does not look like a secret pasted at the
// prompt (util::looks_like_secret: over 48 characters, or 12 or more that look random).
bool may_ask_catalogs(const std::string &name);

// Looks name up in the configured catalogs, in order: an earlier resolution first, then the
// negative cache, then the registries. A hit is remembered (see resolved_entry); a miss is
// cached for negative_cache_ttl (a registry that is unreachable or answers an error for at
// most 10 minutes). Names that may_ask_catalogs refuses are never sent nor cached, and
// neither is a catalog image that is not a valid reference; without catalogs nothing is sent.
std::optional<mapping::Entry> lookup_catalogs(const std::string &name,
                                              const mapping::Config &config);

// The negative cache entry of name: $XDG_CACHE_HOME/fod/catalog-miss/<hash>, the first 16
// bytes of the SHA-256 of name in hex (32 digits), so the names typed are not kept. Files an
// older fod named after the name are removed when a miss is recorded.
std::string negative_cache_path(const std::string &name);

} // namespace fod::pull
