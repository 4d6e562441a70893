#include "containers/lifecycle.hpp"

#include "base/error.hpp"
#include "containers/keep_warm.hpp"
#include "containers/reaper.hpp"
#include "engine/argv.hpp"
#include "util/fs.hpp"
#include "util/lock.hpp"
#include "util/process.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <iterator>
#include <sstream>
#include <unistd.h>

namespace fod::containers {

namespace {

// The container names an engine ps lists, sorted.
std::vector<std::string> list(const engine::Engine &engine,
                              const std::vector<std::string> &labels) {
  auto listed = util::capture(engine::list_argv(engine, getuid(), labels));
  if (listed.status != 0) {
    throw UserError(status_engine_failure,
                    fmt::format("{} ps failed: {}", engine::to_string(engine.kind),
                                util::first_line(listed.err)));
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
bool watched(const ContainerPaths &paths) {
  return reaper_alive(paths) || util::is_locked(paths.lock());
}

// The directory of an older fod's container, from the host source of its box
// mount (<runtime>/c/<key>/box): nullopt when the engine shows none.
std::optional<ContainerPaths> paths_from_box(const engine::Engine &engine,
                                             const std::string &name) {
  auto inspected = util::capture(engine::box_source_argv(engine, name));
  std::string source = inspected.out.substr(0, inspected.out.find('\n'));
  if (inspected.status != 0 || source.empty() || source[0] != '/' ||
      util::basename(source) != "box") {
    return std::nullopt;
  }
  return ContainerPaths(util::dirname(source));
}

} // namespace

bool remove_container(const ContainerPaths &paths, const Info &info,
                      const std::optional<engine::Engine> &preferred, std::string *error) {
  auto engine = engine::engine_of_kind(info.engine.kind, preferred);
  if (!engine) {
    *error = fmt::format("{} is not in PATH", engine::to_string(info.engine.kind));
    return false;
  }
  const double idle = idle_seconds(paths, info);
  auto removed = util::capture(engine::remove_argv(*engine, info.container));
  if (removed.status != 0) {
    *error = removed.err;
    return false;
  }
  record_removal(info.commands.empty() ? "-" : info.commands.front(), info.image, info.key, idle);
  return true;
}

std::vector<Info> stop_where(const std::function<bool(const Info &)> &matches,
                             const std::optional<engine::Engine> &preferred) {
  std::vector<Info> stopped;
  for (const auto &[paths, info] : list_recorded()) {
    if (!matches(info)) {
      continue;
    }
    // An older fod's container name did not depend on the runtime directory: its record
    // names this directory's container only while this directory's keeper is alive.
    const bool ours = !info.runtime.empty() || keeper_alive(paths);
    std::string error;
    if (ours) {
      // Removing first ends any run in flight, which then releases its lock.
      remove_container(paths, info, preferred, &error);
    }
    util::FileLock lock(paths.lock());
    lock.lock(util::FileLock::Mode::exclusive);
    forget(paths);
    if (ours) {
      stopped.push_back(info);
    }
  }
  return stopped;
}

void adopt_orphans() {
  for (const auto &[paths, info] : list_recorded()) {
    if (keeper_alive(paths) && !reaper_alive(paths)) {
      spawn_reaper(paths);
    }
  }
}

Collected collect_garbage(const engine::Engine &engine) {
  const std::string prefix = fmt::format("fod-{}-", getuid());
  Collected collected;
  const auto own = list(engine, {"fod.runtime=" + runtime_id()});
  const auto all = list(engine, {});
  const auto labelled = list(engine, {"fod.runtime"});

  // Containers of this runtime directory that no reaper watches. Those of another
  // runtime directory (another session of yours) are that directory's business.
  for (const auto &name : own) {
    if (name.compare(0, prefix.size(), prefix) != 0) {
      continue;
    }
    const std::string key = name.substr(prefix.size());
    if (!is_key(key)) {
      continue; // not a name fod gave
    }
    auto paths = paths_for_key(key);
    if (watched(paths)) {
      continue;
    }
    util::capture(engine::remove_argv(engine, name));
    forget(paths);
    collected.removed.push_back(name);
  }

  // Containers of an older fod carry no fod.runtime label: their box mount names the
  // runtime directory they belong to, whose reaper and lock tell whether they are
  // orphaned. One whose directory cannot be told is left alone.
  std::vector<std::string> unlabelled;
  std::set_difference(all.begin(), all.end(), labelled.begin(), labelled.end(),
                      std::back_inserter(unlabelled));
  for (const auto &name : unlabelled) {
    if (name.compare(0, prefix.size(), prefix) != 0) {
      continue;
    }
    auto paths = paths_from_box(engine, name);
    if (!paths) {
      collected.left.push_back(fmt::format(
          "left {}: an older fod's container whose runtime directory is unknown (remove it "
          "with `{} rm -f {}`)",
          name, engine::to_string(engine.kind), name));
      continue;
    }
    if (watched(*paths)) {
      continue;
    }
    util::capture(engine::remove_argv(engine, name));
    collected.removed.push_back(fmt::format("{} (of an older fod, {})", name, paths->dir));
  }

  // Records of this runtime directory whose container and reaper are both gone,
  // unless a run holds the lock (it may be starting that container again).
  for (const auto &[paths, info] : list_recorded()) {
    if (keeper_alive(paths) || reaper_alive(paths)) {
      continue;
    }
    util::FileLock lock(paths.lock());
    if (lock.try_lock(util::FileLock::Mode::exclusive) && !keeper_alive(paths)) {
      forget(paths);
    }
  }
  return collected;
}

} // namespace fod::containers
