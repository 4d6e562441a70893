// fod update, fod publish and the detached refresh of team mappings (pull/sources.hpp).

#include "pull/sources.hpp"
#include "base/dirs.hpp"
#include "base/error.hpp"
#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "mapping/fields.hpp"
#include "mapping/loader.hpp"
#include "pull/schedule.hpp"
#include "util/fs.hpp"
#include "util/lock.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace fod::cli {

namespace {

// The team layer's commands, each as its fields say it (origin left out).
std::map<std::string, nlohmann::json> team_commands() {
  auto team = mapping::load_layers({{"team", dirs::team_mappings(), false}});
  std::map<std::string, nlohmann::json> commands;
  for (const auto &[name, entry] : team.entries) {
    nlohmann::json fields = nlohmann::json::object();
    for (const auto &field : mapping::entry_fields()) {
      field.save(entry, fields);
    }
    commands[name] = fields;
  }
  return commands;
}

std::string image_of(const nlohmann::json &fields) {
  return fields.contains("image") && fields["image"].is_string()
             ? fields["image"].get<std::string>()
             : std::string();
}

} // namespace

int update_command() {
  const auto config = load_mapping().config;
  if (config.mapping_sources.empty()) {
    fmt::print("fod: no mapping_sources in config.yaml; nothing to fetch\n");
  }
  const auto before = team_commands();
  const auto outcomes = pull::refresh_sources(config);
  const auto after = team_commands();
  bool failed = false;
  for (const auto &outcome : outcomes) {
    if (outcome.fetched) {
      fmt::print("fod: {}: {} {}{}\n", outcome.source, outcome.changed ? "fetched" : "unchanged",
                 outcome.digest,
                 outcome.verified_by.empty() ? "" : ", verified with " + outcome.verified_by);
    } else {
      failed = true;
      fmt::print(stderr, "fod: {}: {}; the last good copy stays\n", outcome.source, outcome.error);
    }
  }
  for (const auto &[name, fields] : after) {
    auto old = before.find(name);
    if (old == before.end()) {
      fmt::print("  added    {} ({})\n", name, image_of(fields));
    } else if (old->second != fields) {
      const std::string was = image_of(old->second);
      const std::string now = image_of(fields);
      if (was == now) {
        fmt::print("  changed  {} ({})\n", name, now);
      } else {
        fmt::print("  changed  {} ({} -> {})\n", name, was, now);
      }
    }
  }
  for (const auto &[name, fields] : before) {
    if (after.find(name) == after.end()) {
      fmt::print("  removed  {} ({})\n", name, image_of(fields));
    }
  }
  load_mapping(false, true); // the index and the shims follow now
  return failed ? 1 : 0;
}

int publish_command(const std::string &file, const std::string &reference) {
  fmt::print("{}", pull::publish_mappings(file, reference, load_mapping().config));
  return 0;
}

int refresh_command() {
  const auto config = load_mapping().config;
  // One helper at a time; the one that runs now serves the others' purpose. The directory may
  // not be there yet: nothing was ever fetched.
  util::make_directories(dirs::team_mappings(), 0700);
  util::FileLock busy(util::join(dirs::team_mappings(), "refresh.lock"));
  if (!pull::refresh_due(config) || !busy.try_lock(util::FileLock::Mode::exclusive)) {
    return 0;
  }
  pull::refresh_sources(config);
  load_mapping(false, true);
  return 0;
}

} // namespace fod::cli
