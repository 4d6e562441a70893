#include "cli/context.hpp"

#include "base/error.hpp"
#include "pull/catalog.hpp"

#include <fmt/format.h>

namespace fod::cli {

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
