#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "containers/keep_warm.hpp"
#include "containers/records.hpp"
#include "engine/argv.hpp"
#include "util/fs.hpp"
#include "util/lock.hpp"
#include "util/process.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <unistd.h>

namespace fod::cli {

namespace {

// Removes the container of a record, and the record; false when the record was an
// older fod's whose container is not this runtime directory's (only the record goes).
bool remove_warm(const containers::ContainerPaths &paths, const containers::Info &info,
                 const std::optional<engine::Engine> &preferred) {
  // An older fod's container name did not depend on the runtime directory: its record
  // names this directory's container only while this directory's keeper is alive.
  bool ours = !info.runtime.empty() || containers::keeper_alive(paths);
  if (ours) {
    containers::record_removal(info.commands.empty() ? "-" : info.commands.front(), info.image,
                               info.key, containers::idle_seconds(paths, info));
    // Removing first ends any run in flight, which then releases its lock.
    if (auto engine = engine::engine_of_kind(info.engine.kind, preferred)) {
      util::capture(engine::remove_argv(*engine, info.container));
    }
  }
  util::FileLock lock(paths.lock());
  lock.lock(util::FileLock::Mode::exclusive);
  containers::forget(paths);
  return ours;
}

} // namespace

int stop_command(const std::string &name, bool all) {
  containers::cancel_prewarm_helpers(); // or they would start containers again
  std::string image;
  auto mapping = load_mapping();
  if (!all) {
    if (const auto *entry = mapping.find(name)) {
      image = entry->image;
    }
  }
  std::string why;
  const auto preferred = engine::select_engine(mapping.config.engine, &why);
  int stopped = 0;
  for (const auto &[paths, info] : containers::list_recorded()) {
    bool ran_it =
        std::find(info.commands.begin(), info.commands.end(), name) != info.commands.end();
    if (all || ran_it || (!image.empty() && info.image == image)) {
      if (remove_warm(paths, info, preferred)) {
        fmt::print("stopped {} ({}, {})\n", info.container, info.image, info.root);
        ++stopped;
      }
    }
  }
  if (stopped == 0) {
    fmt::print(stderr, "fod: no warm container{}\n", all ? "s" : fmt::format(" for {}", name));
  }
  return 0;
}

} // namespace fod::cli
