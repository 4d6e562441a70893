#include "base/dirs.hpp"
#include "cli/context.hpp"
#include "mapping/index.hpp"
#include "mapping/loader.hpp"
#include "pull/catalog.hpp"
#include "pull/schedule.hpp"
#include "pull/sources.hpp"
#include "shell/shims.hpp"

#include <fmt/format.h>

// The mapping as the subcommands load it: rebuilt from the YAML when a layer changed. A file
// of its own: fod's run path (cli/fast.cpp) reads the index only and links no YAML parser.
namespace fod::cli {

namespace {

mapping::Mapping load(bool print_all_diagnostics, bool sync_shims,
                      const std::optional<std::string> &only) {
  auto layers = mapping::default_layers();
  auto result = mapping::load_indexed(layers, mapping::default_cache_dir(), only);
  if (result.rebuilt && result.mapping.config.mapping_sources.empty() && pull::has_team_copies()) {
    // mapping_sources was emptied: its copies go, and the mapping is read again without them.
    pull::refresh_sources(result.mapping.config);
    result = mapping::load_indexed(layers, mapping::default_cache_dir(), only);
  }
  if (result.rebuilt || print_all_diagnostics) {
    for (const auto &line : result.mapping.diagnostics) {
      fmt::print(stderr, "fod: warning: {}\n", line);
    }
  }
  if (result.rebuilt || sync_shims) {
    shell::sync_shims(result.mapping, pull::resolved_names(result.mapping.config),
                      mapping::index_sources(layers), dirs::fod_program(), shell::shim_dir());
  }
  return std::move(result.mapping);
}

} // namespace

mapping::Mapping load_mapping(bool print_all_diagnostics, bool sync_shims) {
  return load(print_all_diagnostics, sync_shims, std::nullopt);
}

mapping::Mapping load_mapping_for(const std::string &name) {
  return load(false, false, name);
}

} // namespace fod::cli
