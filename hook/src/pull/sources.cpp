#include "pull/sources.hpp"

#include "base/dirs.hpp"
#include "base/error.hpp"
#include "mapping/loader.hpp"
#include "pull/json_store.hpp"
#include "pull/probe.hpp"
#include "pull/schedule.hpp"
#include "pull/verify.hpp"
#include "registry/helper_proto.hpp"
#include "util/fs.hpp"
#include "util/lock.hpp"
#include "util/process.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <ctime>
#include <dirent.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace fod::pull {

namespace {

using nlohmann::json;

std::string drop_in_dir() {
  return util::join(dirs::team_mappings(), "mappings.d");
}

// source -> {digest, verified_by, time, error}: what `fod update` and `fod which` say.
std::string sources_record() {
  return util::join(dirs::team_mappings(), "sources.json");
}

// The mapping file's first problem, or "" when it is a mapping file fod reads whole.
std::string first_problem(const std::string &text, const std::string &file) {
  mapping::Mapping scratch;
  const bool read = mapping::apply_mapping_text(text, "team", file, scratch);
  if (!read && scratch.diagnostics.empty()) {
    return file + ": not a mapping file";
  }
  return scratch.diagnostics.empty() ? std::string() : scratch.diagnostics.front();
}

SourceOutcome fetch_one(std::size_t position, const std::string &source,
                        const mapping::Config &config) {
  SourceOutcome outcome;
  outcome.source = source;
  const std::string helper = dirs::registry_program();
  if (access(helper.c_str(), X_OK) != 0) {
    outcome.error = fmt::format("{} is missing; reinstall fod", helper);
    return outcome;
  }
  const std::string incoming =
      util::join(dirs::team_mappings(), fmt::format(".incoming-{}-{}", getpid(), position));
  unlink(incoming.c_str());
  auto captured =
      util::capture(fetch_argv(helper, source, incoming, config, verify_keys(source, config)));
  ProbeResult result = parse_probe_output(captured.status, captured.out, captured.err);
  auto content = util::read_file(incoming);
  unlink(incoming.c_str());
  if (captured.status != static_cast<int>(registry::helper::Status::found)) {
    outcome.error = result.error.empty()
                        ? fmt::format("fod-registry exited with status {}", captured.status)
                        : result.error;
    return outcome;
  }
  if (!content) {
    outcome.error = "fod-registry wrote no mapping file";
    return outcome;
  }
  if (std::string problem = first_problem(*content, source); !problem.empty()) {
    outcome.error = "the whole source is refused: " + util::printable(problem);
    return outcome;
  }
  const std::string file = source_file(position, source);
  outcome.changed = util::read_file(file) != content;
  if (outcome.changed && !util::write_file_atomic(file, *content, 0600)) {
    outcome.error = fmt::format("cannot write {}", file);
    return outcome;
  }
  outcome.fetched = true;
  outcome.digest = result.remote.digest;
  outcome.verified_by = result.remote.verified_by;
  return outcome;
}

// Removes the copies of sources no longer listed (and of sources at another position).
void remove_unlisted(const mapping::Config &config) {
  std::vector<std::string> wanted;
  for (std::size_t i = 0; i < config.mapping_sources.size(); ++i) {
    wanted.push_back(util::basename(source_file(i, config.mapping_sources[i])));
  }
  const std::string dir = drop_in_dir();
  if (DIR *listing = opendir(dir.c_str())) {
    std::vector<std::string> stale;
    while (const dirent *e = readdir(listing)) {
      std::string name = e->d_name;
      if (name != "." && name != ".." &&
          std::find(wanted.begin(), wanted.end(), name) == wanted.end()) {
        stale.push_back(name);
      }
    }
    closedir(listing);
    for (const auto &name : stale) {
      unlink(util::join(dir, name).c_str());
    }
  }
}

} // namespace

std::string source_file(std::size_t position, const std::string &source) {
  std::string name;
  for (char c : source) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    name += plain ? c : '_';
  }
  return util::join(drop_in_dir(), fmt::format("{:02}-{}.yaml", position, name));
}

std::vector<std::string> fetch_argv(const std::string &helper, const std::string &source,
                                    const std::string &output, const mapping::Config &config,
                                    const std::vector<std::string> &verify_keys) {
  std::vector<std::string> options = {"--output", output};
  for (const auto &key : verify_keys) {
    options.insert(options.end(), {"--verify-key", key});
  }
  return helper_argv(helper, registry::helper::fetch_mappings_command, config, options, source);
}

std::vector<SourceOutcome> refresh_sources(const mapping::Config &config) {
  util::make_directories(drop_in_dir(), 0700);
  util::FileLock lock(util::join(dirs::team_mappings(), "lock"));
  lock.lock(util::FileLock::Mode::exclusive);
  if (config.mapping_sources.empty()) {
    remove_unlisted(config);
    unlink(sources_record().c_str());
    unlink(attempt_stamp().c_str());
    return {};
  }
  util::touch(attempt_stamp());
  json record = read_json_object(sources_record());
  json updated = json::object();
  std::vector<SourceOutcome> outcomes;
  for (std::size_t i = 0; i < config.mapping_sources.size(); ++i) {
    const std::string &source = config.mapping_sources[i];
    outcomes.push_back(fetch_one(i, source, config));
    const SourceOutcome &outcome = outcomes.back();
    json entry =
        record.contains(source) && record[source].is_object() ? record[source] : json::object();
    entry["time"] = static_cast<long long>(std::time(nullptr));
    entry["error"] = outcome.error;
    if (outcome.fetched) {
      entry["digest"] = outcome.digest;
      entry["verified_by"] = outcome.verified_by;
    }
    updated[source] = entry;
  }
  remove_unlisted(config);
  util::write_file_atomic(sources_record(), updated.dump(2) + "\n", 0600);
  return outcomes;
}

std::string publish_mappings(const std::string &file, const std::string &reference,
                             const mapping::Config &config) {
  auto text = util::read_file(file);
  if (!text) {
    throw UserError(1, fmt::format("cannot read {}", file));
  }
  if (std::string problem = first_problem(*text, file); !problem.empty()) {
    throw UserError(1, fmt::format("{}; nothing published", problem));
  }
  const std::string helper = dirs::registry_program();
  if (access(helper.c_str(), X_OK) != 0) {
    throw UserError(status_engine_failure, fmt::format("{} is missing; reinstall fod", helper));
  }
  // A push may take longer than a probe: at least a minute.
  mapping::Config push_config = config;
  push_config.registry_timeout = std::max(config.registry_timeout, std::chrono::seconds(60));
  auto captured = util::capture(helper_argv(helper, registry::helper::publish_mappings_command,
                                            push_config, {"--file", file}, reference));
  ProbeResult result = parse_probe_output(captured.status, captured.out, captured.err);
  if (captured.status != static_cast<int>(registry::helper::Status::found)) {
    throw UserError(status_engine_failure,
                    fmt::format("cannot publish {} to {}: {}", file, reference,
                                result.error.empty() ? "fod-registry failed" : result.error));
  }
  return fmt::format("fod: published {} to {} ({})\n", file, result.remote.reference,
                     result.remote.digest);
}

} // namespace fod::pull
