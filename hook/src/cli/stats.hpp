#pragma once

#include "adaptive/stats.hpp"

#include <string>

namespace fod::cli {

// fod stats: per command the calls, MTBC, MTTS, MTTE, epsilon, warm-hit rate and
// idle container-seconds, from the run record.
int stats_command();

// The table `fod stats` prints for summary (pure, for tests).
std::string format_stats(const adaptive::Summary &summary);

} // namespace fod::cli
