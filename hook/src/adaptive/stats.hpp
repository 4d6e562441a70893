#pragma once

#include "adaptive/history.hpp"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace fod::adaptive {

// What the record says about one command.
struct CommandStats {
  std::string command;
  std::string image; // of its latest run
  std::size_t calls = 0;
  std::size_t warm = 0;          // calls served by a container that was already up
  std::size_t prewarms = 0;      // containers started or kept ahead of a call of it
  std::optional<double> mtbc;    // mean seconds from one call's start to the next's (2+ calls)
  std::optional<double> mtts;    // mean seconds to set up a container, over cold calls
  double mtte = 0;               // mean seconds of execution
  std::optional<double> epsilon; // mtbc - (mtts + mtte), mtts counting 0 without cold calls
  double idle = 0;               // container-seconds spent warm and unused after its calls

  double warm_hit_rate() const {
    return calls == 0 ? 0 : static_cast<double>(warm) / static_cast<double>(calls);
  }
};

// Totals over every command.
struct Summary {
  std::vector<CommandStats> commands; // by command name
  std::size_t calls = 0;
  std::size_t warm = 0;
  std::size_t prewarms = 0;
  double idle = 0;
  double first = 0; // time of the oldest record
  double last = 0;  // time of the newest record

  double warm_hit_rate() const {
    return calls == 0 ? 0 : static_cast<double>(warm) / static_cast<double>(calls);
  }
};

// Summarizes a run record. Idle container-seconds: per container (key), the
// time it was up (from ready to its removal) and no run was in it, charged to
// the command that used it last (or that it was pre-warmed for). A container
// whose removal is not recorded counts up to now when its key is in live_keys,
// else up to its last use.
Summary summarize(const std::vector<Record> &history, double now,
                  const std::set<std::string> &live_keys = {});

} // namespace fod::adaptive
