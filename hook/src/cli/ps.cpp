#include "base/dirs.hpp"
#include "cli/commands.hpp"
#include "containers/records.hpp"
#include "util/duration.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace fod::cli {

int ps_command() {
  auto recorded = containers::list_recorded();
  if (auto note = dirs::runtime_fallback_note()) {
    fmt::print(stderr, "fod: warning: {}\n", *note);
  }
  fmt::print("{:<20} {:<36} {:<8} {:<10} {:<7} {}\n", "COMMANDS", "IMAGE", "IDLE", "TTL", "ENGINE",
             "ROOT");
  for (const auto &[paths, info] : recorded) {
    if (!containers::keeper_alive(paths)) {
      continue; // gone: its reaper or `fod gc` tidies the record
    }
    auto idle = std::chrono::seconds(static_cast<long>(containers::idle_seconds(paths, info)));
    fmt::print("{:<20} {:<36} {:<8} {:<10} {:<7} {}\n",
               fmt::format("{}", fmt::join(info.commands, ",")), info.image,
               util::format_duration(idle), containers::describe_ttl(info, true),
               engine::to_string(info.engine.kind), info.root);
  }
  return 0;
}

} // namespace fod::cli
