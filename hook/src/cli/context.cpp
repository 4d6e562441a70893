#include "cli/context.hpp"

#include "base/error.hpp"
#include "containers/reaper.hpp"
#include "pull/catalog.hpp"
#include "pull/schedule.hpp"
#include "pull/verify.hpp"

#include <fmt/format.h>

namespace fod::cli {

void refresh_sources_when_due(const mapping::Config &config) {
  if (pull::refresh_due(config)) {
    containers::spawn_detached({"_refresh"});
  }
}

run::RunRequest run_request(const mapping::Entry &entry, const mapping::Config &config,
                            const engine::Engine &engine, std::vector<std::string> args) {
  run::RunRequest request{&entry, &config, engine, std::move(args), {}};
  auto keys = pull::verify_keys(entry.image, config);
  if (!keys.empty()) {
    // Read only when a container is to be started: a warm run reads no file for this.
    request.before_start = [keys = std::move(keys)](const run::RunRequest &r) {
      if (!pull::recorded_verification(r.entry->image, keys)) {
        throw run::ImageAbsent(status_engine_failure,
                               fmt::format("image {} of {} is not verified yet (verify: in "
                                           "config.yaml); run {} to verify it",
                                           r.entry->image, r.entry->name, r.entry->name));
      }
    };
  }
  return request;
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
