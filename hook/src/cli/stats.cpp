#include "cli/stats.hpp"

#include "adaptive/history.hpp"
#include "containers/records.hpp"
#include "util/duration.hpp"

#include <cmath>
#include <fmt/format.h>
#include <set>

namespace fod::cli {

namespace {

// Seconds, readable: "0.84s", "12.3s", "4m10s"; "-" when unknown.
std::string seconds_text(std::optional<double> value) {
  if (!value) {
    return "-";
  }
  double v = *value;
  std::string sign = v < 0 ? "-" : "";
  v = std::abs(v);
  if (v < 10) {
    return fmt::format("{}{:.2f}s", sign, v);
  }
  if (v < 60) {
    return fmt::format("{}{:.1f}s", sign, v);
  }
  return sign + util::format_duration(std::chrono::seconds(std::lround(v)));
}

std::set<std::string> live_keys() {
  std::set<std::string> keys;
  try {
    for (const auto &[paths, info] : containers::list_recorded()) {
      if (containers::keeper_alive(paths)) {
        keys.insert(info.key);
      }
    }
  } catch (const std::exception &) {
    // No runtime directory: nothing is warm.
  }
  return keys;
}

} // namespace

std::string format_stats(const adaptive::Summary &summary) {
  std::string out = fmt::format("{:<20} {:>6} {:>9} {:>7} {:>7} {:>9} {:>8} {:>9}\n", "COMMAND",
                                "CALLS", "MTBC", "MTTS", "MTTE", "EPSILON", "WARM-HIT", "IDLE");
  auto row = [&](const std::string &name, std::size_t calls, std::optional<double> mtbc,
                 std::optional<double> mtts, std::optional<double> mtte,
                 std::optional<double> epsilon, double hit, double idle) {
    out += fmt::format("{:<20} {:>6} {:>9} {:>7} {:>7} {:>9} {:>7.0f}% {:>9}\n", name, calls,
                       seconds_text(mtbc), seconds_text(mtts), seconds_text(mtte),
                       seconds_text(epsilon), hit * 100, seconds_text(idle));
  };
  for (const auto &c : summary.commands) {
    if (c.calls > 0) {
      row(c.command, c.calls, c.mtbc, c.mtts, c.mtte, c.epsilon, c.warm_hit_rate(), c.idle);
    }
  }
  row("(all)", summary.calls, std::nullopt, std::nullopt, std::nullopt, std::nullopt,
      summary.warm_hit_rate(), summary.idle);
  return out;
}

int stats_command() {
  const std::string path = adaptive::default_history_path();
  auto history = adaptive::read_history(path);
  auto summary = adaptive::summarize(history, containers::now_seconds(), live_keys());
  if (summary.calls == 0) {
    fmt::print(stderr, "fod: no runs recorded yet in {}\n", path);
    return 0;
  }
  fmt::print("{}", format_stats(summary));
  fmt::print("\n{} calls over {}, {} pre-warms; from {}\n"
             "MTBC mean time between calls, MTTS mean setup of a cold call, MTTE mean execution,\n"
             "EPSILON = MTBC - (MTTS + MTTE), IDLE container time warm and unused after the "
             "command's calls.\n",
             summary.calls,
             util::format_duration(
                 std::chrono::seconds(std::lround(std::max(0.0, summary.last - summary.first)))),
             summary.prewarms, path);
  return 0;
}

} // namespace fod::cli
