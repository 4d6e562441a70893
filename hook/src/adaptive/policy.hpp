#pragma once

#include "adaptive/history.hpp"
#include "adaptive/settings.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

// The decisions of `ttl: auto` and pre-warming, as pure functions of the run
// record: the reaper, the pre-warm helper and bench/simulate all call these.
// Every time is in seconds since the epoch; every duration in seconds.
namespace fod::adaptive {

// The fixed numbers of the rules (README, "Adaptive ttl and pre-warming").
namespace rules {
// ttl: auto looks at the newest gap_samples idle gaps of an image; with fewer
// than min_gaps it is still learning and gives learning_ttl (within the bounds).
inline constexpr std::size_t gap_samples = 64;
inline constexpr std::size_t min_gaps = 4;
inline constexpr double learning_ttl = 600;
// A gap g is caught by a ttl of g * gap_factor + gap_slack.
inline constexpr double gap_factor = 1.2;
inline constexpr double gap_slack = 10;
// A period: at least min_periods of the newest period_samples gaps between a
// command's episodes, period_fit of them within period_tolerance of their
// median (at least period_min_tolerance seconds).
inline constexpr std::size_t period_samples = 8;
inline constexpr std::size_t min_periods = 4;
inline constexpr double period_fit = 0.75;
inline constexpr double period_tolerance = 0.1;
inline constexpr double period_min_tolerance = 10;
// A sequence A -> B: B starts by A's end + sequence_window after at least
// min_sequences and sequence_confidence of A's newest sequence_samples runs,
// and sequence_lift times as often as in a window as long just before A.
inline constexpr double sequence_window = 120;
inline constexpr std::size_t sequence_samples = 32;
inline constexpr std::size_t min_sequences = 4;
inline constexpr double sequence_confidence = 0.5;
inline constexpr double sequence_lift = 3;
// The setup estimate of an image never started, and how much earlier than
// needed a pre-warm starts.
inline constexpr double default_setup = 2;
// Quiet hours: a ttl is cut to ttl_min when on quiet_days of the previous
// day_lookback days that had a run in the active_window before this time of
// day, no run came in the stretch the ttl would cover.
inline constexpr double day = 86400;
inline constexpr int day_lookback = 7;
inline constexpr int quiet_days = 2;
inline constexpr double active_window = 4 * 3600;
inline constexpr double lead_margin = 2;
} // namespace rules

// The idle gaps of image: for each run after the first (by start), the seconds
// from the end of the runs before it to its start; overlapping runs give none.
// The newest `limit`, oldest first.
std::vector<double> idle_gaps(const std::vector<Record> &history, const std::string &image,
                              std::size_t limit = rules::gap_samples);

// The ttl of `ttl: auto` for image from its gaps alone, and which rule gave it:
// fewer than min_gaps gaps: learning_ttl; else, among ttl_min, ttl_max and
// g * gap_factor + gap_slack for each gap g (clamped to the bounds), the ttl that
// would have cost least over the newest gap_samples gaps, where a gap no longer
// than the ttl costs its length in idle seconds and a longer one costs the ttl
// plus ttl_max (the price of a cold start); ties go to the shorter.
struct TtlChoice {
  double seconds = 0;
  const char *rule = ""; // "learning", "rare" or "gaps"
};
TtlChoice auto_ttl(const std::vector<Record> &history, const std::string &image,
                   const Settings &settings);

// The mean seconds a container of image took to start (default_setup when never seen).
double setup_estimate(const std::vector<Record> &history, const std::string &image);

enum class Pattern { periodic, sequence };

// A call expected soon, and how to have its container ready.
struct Prediction {
  Pattern pattern = Pattern::periodic;
  std::string command; // the command expected
  std::string image;
  std::string trigger; // the command whose run predicts it (itself when periodic)
  double after = 0;    // periodic: start of its latest episode; sequence: end of the trigger's run
  double prewarm_at = 0; // when to start the container
  double expected = 0;   // when the call is expected
  double until = 0;      // how long a pre-warmed container waits for it
  double period = 0;     // periodic only
  int support = 0;       // observations behind the prediction
  double confidence = 0; // share of them that fit
};

// command's next call when its episodes (runs more than ttl_min after the
// previous one) come at a steady period: at least min_periods of the newest
// period_samples gaps, and period_fit of them within tolerance of their median.
std::optional<Prediction> periodic_prediction(const std::vector<Record> &history,
                                              const std::string &command, const Settings &settings);

// The commands of other images that usually follow the latest run of trigger:
// at least min_sequences and sequence_confidence of trigger's newest runs were
// followed by them within sequence_window, and sequence_lift times as many as
// had them in a window as long just before.
std::vector<Prediction> sequence_predictions(const std::vector<Record> &history,
                                             const std::string &trigger, const Settings &settings);

// What a pre-warm helper started after a run of trigger should do, earliest
// first: the followers of trigger, and trigger's own next periodic call when
// removing the container ttl_min after the call and starting it again saves at
// least ttl_min of idle time.
// Empty when pre-warming is off.
std::vector<Prediction> plan_prewarm(const std::vector<Record> &history, const std::string &trigger,
                                     double now, const Settings &settings);

// The prediction as it stands at now, for a helper that slept until
// p.prewarm_at: moved (periodic: after a newer call, or one period on when the
// expected call did not come, once), or gone (already called, or too late).
std::optional<Prediction> recheck(const std::vector<Record> &history, const Prediction &p,
                                  double now, const Settings &settings);

// The ttl the reaper applies at now to a container of image last used at
// last_use (seconds of idleness before removal). Besides auto_ttl:
// - a container pre-warmed for a call and not used since is kept until the
//   pre-warm's `until` (at least ttl_min);
// - with pre-warming on, a container whose next call a pre-warm will serve
//   (periodic, or a follower in a sequence) is kept only ttl_min;
// - a use the record does not show yet (a run in flight) gives ttl_min, so
//   that the reaper looks again soon.
double reaper_ttl(const std::vector<Record> &history, const std::string &image, double last_use,
                  double now, const Settings &settings);

// One warm container, as the pre-warm bounds see it.
struct WarmContainer {
  std::string image;
  std::uint64_t memory = 0; // its --memory limit in bytes
};

// Whether a pre-warm of a container with the given memory limit stays within
// max_warm and the memory ceiling (in bytes).
bool may_prewarm(const std::vector<WarmContainer> &warm, std::uint64_t memory,
                 std::uint64_t ceiling, const Settings &settings);

} // namespace fod::adaptive
