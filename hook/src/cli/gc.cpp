#include "base/error.hpp"
#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "containers/state.hpp"
#include "engine/argv.hpp"
#include "util/fs.hpp"
#include "util/lock.hpp"
#include "util/process.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <optional>
#include <sstream>
#include <unistd.h>

namespace fod::cli {

namespace {

// The container names an engine ps lists, or nullopt (and a message) when it fails.
std::optional<std::vector<std::string>> list(const engine::Engine &engine,
                                             const std::vector<std::string> &labels) {
  auto listed = util::capture(engine::list_argv(engine, getuid(), labels));
  if (listed.status != 0) {
    fmt::print(stderr, "fod: error: {} ps failed: {}", engine::to_string(engine.kind), listed.err);
    return std::nullopt;
  }
  std::vector<std::string> names;
  std::istringstream lines(listed.out);
  std::string name;
  while (std::getline(lines, name)) {
    if (!name.empty()) {
      names.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

// A reaper watches the container, or a run (or a start) holds its lock.
bool watched(const containers::ContainerPaths &paths) {
  return containers::reaper_alive(paths) || util::is_locked(paths.lock());
}

// The directory of an older fod's container, from the host source of its box
// mount (<runtime>/c/<key>/box): nullopt when the engine shows none.
std::optional<containers::ContainerPaths> paths_from_box(const engine::Engine &engine,
                                                         const std::string &name) {
  auto inspected = util::capture(engine::box_source_argv(engine, name));
  std::string source = inspected.out.substr(0, inspected.out.find('\n'));
  if (inspected.status != 0 || source.empty() || source[0] != '/' ||
      util::basename(source) != "box") {
    return std::nullopt;
  }
  return containers::ContainerPaths(util::dirname(source));
}

} // namespace

int gc_command() {
  auto mapping = load_mapping();
  auto engine = require_engine(mapping.config);
  const std::string prefix = fmt::format("fod-{}-", getuid());
  int removed = 0;

  auto own = list(engine, {"fod.runtime=" + containers::runtime_id()});
  auto all = list(engine, {});
  auto labelled = list(engine, {"fod.runtime"});
  if (!own || !all || !labelled) {
    return status_engine_failure;
  }

  // Containers of this runtime directory that no reaper watches. Those of another
  // runtime directory (another session of yours) are that directory's business.
  for (const auto &name : *own) {
    if (name.compare(0, prefix.size(), prefix) != 0) {
      continue;
    }
    const std::string key = name.substr(prefix.size());
    if (!containers::is_key(key)) {
      continue; // not a name fod gave
    }
    auto paths = containers::paths_for_key(key);
    if (watched(paths)) {
      continue;
    }
    util::capture(engine::remove_argv(engine, name));
    containers::forget(paths);
    fmt::print("removed {}\n", name);
    ++removed;
  }

  // Containers of an older fod carry no fod.runtime label: their box mount names the
  // runtime directory they belong to, whose reaper and lock tell whether they are
  // orphaned. One whose directory cannot be told is left alone.
  std::vector<std::string> unlabelled;
  std::set_difference(all->begin(), all->end(), labelled->begin(), labelled->end(),
                      std::back_inserter(unlabelled));
  for (const auto &name : unlabelled) {
    if (name.compare(0, prefix.size(), prefix) != 0) {
      continue;
    }
    auto paths = paths_from_box(engine, name);
    if (!paths) {
      fmt::print(stderr,
                 "fod: left {}: an older fod's container whose runtime directory is unknown "
                 "(remove it with `{} rm -f {}`)\n",
                 name, engine::to_string(engine.kind), name);
      continue;
    }
    if (watched(*paths)) {
      continue;
    }
    util::capture(engine::remove_argv(engine, name));
    fmt::print("removed {} (of an older fod, {})\n", name, paths->dir);
    ++removed;
  }

  // Records of this runtime directory whose container and reaper are both gone,
  // unless a run holds the lock (it may be starting that container again).
  for (const auto &[paths, info] : containers::list_recorded()) {
    if (containers::keeper_alive(paths) || containers::reaper_alive(paths)) {
      continue;
    }
    util::FileLock lock(paths.lock());
    if (lock.try_lock(util::FileLock::Mode::exclusive) && !containers::keeper_alive(paths)) {
      containers::forget(paths);
    }
  }
  fmt::print("{} container(s) removed\n", removed);
  return 0;
}

} // namespace fod::cli
