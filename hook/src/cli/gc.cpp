#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "containers/lifecycle.hpp"

#include <fmt/format.h>

namespace fod::cli {

int gc_command() {
  auto mapping = load_mapping();
  const auto collected = containers::collect_garbage(require_engine(mapping.config));
  for (const auto &line : collected.left) {
    fmt::print(stderr, "fod: {}\n", line);
  }
  for (const auto &name : collected.removed) {
    fmt::print("removed {}\n", name);
  }
  fmt::print("{} container(s) removed\n", collected.removed.size());
  return 0;
}

} // namespace fod::cli
