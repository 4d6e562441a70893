#include "cli/context.hpp"

#include "base/error.hpp"
#include "mapping/index.hpp"
#include "pull/catalog.hpp"
#include "shell/shims.hpp"
#include "util/fs.hpp"

#include <fmt/format.h>

namespace fod::cli {

namespace {

mapping::Mapping load(bool print_all_diagnostics, bool sync_shims,
                      const std::optional<std::string> &only) {
  auto layers = mapping::default_layers();
  auto result = mapping::load_indexed(layers, mapping::default_cache_dir(), only);
  if (result.rebuilt || print_all_diagnostics) {
    for (const auto &line : result.mapping.diagnostics) {
      fmt::print(stderr, "fod: warning: {}\n", line);
    }
  }
  if (result.rebuilt || sync_shims) {
    shell::sync_shims(result.mapping, pull::resolved_names(result.mapping.config),
                      mapping::index_sources(layers), util::executable_path(), shell::shim_dir());
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

engine::Engine require_engine(const mapping::Config &config) {
  std::string why;
  auto engine = engine::select_engine(config.engine, &why);
  if (!engine) {
    throw UserError(status_engine_failure, why);
  }
  return *engine;
}

std::optional<FoundEntry> find_entry(const mapping::Mapping &mapping, const std::string &name) {
  FoundEntry found;
  found.mapped = mapping.find(name);
  if (found.mapped == nullptr) {
    found.from_catalog = pull::lookup_catalogs(name, mapping.config);
    if (!found.from_catalog) {
      return std::nullopt;
    }
  }
  return found;
}

std::string not_mapped_message(const mapping::Config &config, const std::string &name) {
  return fmt::format("{} is not mapped{}", name,
                     config.catalogs.empty() ? ""
                                             : " and no configured catalog has an image for it");
}

} // namespace fod::cli
