#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "engine/argv.hpp"
#include "util/fs.hpp"
#include "util/process.hpp"
#include "warm/state.hpp"

#include <fmt/format.h>
#include <set>
#include <sstream>
#include <unistd.h>

namespace fod::cli {

int gc_command() {
  auto mapping = load_mapping();
  auto engine = require_engine(mapping.config);
  int removed = 0;

  // Records whose container and reaper are both gone.
  for (const auto &[paths, info] : warm::list_recorded()) {
    if (!warm::keeper_alive(paths) && !warm::reaper_alive(paths)) {
      unlink(paths.info().c_str());
      unlink(paths.stamp().c_str());
      util::remove_tree(paths.box());
    }
  }

  // Containers of this user that no reaper watches.
  auto listed = util::capture(engine::list_argv(engine, getuid()));
  if (listed.status != 0) {
    fmt::print(stderr, "fod: error: {} ps failed: {}", engine::to_string(engine.kind), listed.err);
    return 125;
  }
  const std::string prefix = fmt::format("fod-{}-", getuid());
  std::istringstream names(listed.out);
  std::string name;
  while (std::getline(names, name)) {
    if (name.compare(0, prefix.size(), prefix) != 0) {
      continue;
    }
    auto paths = warm::paths_for_key(name.substr(prefix.size()));
    if (warm::reaper_alive(paths)) {
      continue;
    }
    util::capture(engine::remove_argv(engine, name));
    unlink(paths.info().c_str());
    unlink(paths.stamp().c_str());
    util::remove_tree(paths.box());
    fmt::print("removed {}\n", name);
    ++removed;
  }
  fmt::print("{} container(s) removed\n", removed);
  return 0;
}

} // namespace fod::cli
