#include "adaptive/policy.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace fod::adaptive {

namespace {

constexpr double never = -std::numeric_limits<double>::infinity();

double lower(const Settings &s) {
  return static_cast<double>(std::max<long>(0, s.ttl_min.count()));
}
double upper(const Settings &s) {
  return std::max(lower(s), static_cast<double>(s.ttl_max.count()));
}

// Runs matching pred, by start (ties by end).
template <typename Pred>
std::vector<const Record *> runs_where(const std::vector<Record> &history, Pred pred) {
  std::vector<const Record *> runs;
  for (const auto &r : history) {
    if (r.is_run() && pred(r)) {
      runs.push_back(&r);
    }
  }
  std::stable_sort(runs.begin(), runs.end(),
                   [](const Record *a, const Record *b) { return a->time < b->time; });
  return runs;
}

// The value at quantile q of sorted values (nearest rank).
double quantile(const std::vector<double> &sorted, double q) {
  if (sorted.empty()) {
    return 0;
  }
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return quantile(values, 0.5);
}

// Starts of episodes: runs more than gap seconds after the runs before them ended.
std::vector<const Record *> episodes(const std::vector<const Record *> &runs, double gap) {
  std::vector<const Record *> starts;
  double last_end = never;
  for (const Record *r : runs) {
    if (r->time - last_end > gap) {
      starts.push_back(r);
    }
    last_end = std::max(last_end, r->end());
  }
  return starts;
}

// What followed trigger's runs that ended by `by` (at least sequence_window
// before it): per command of another image, how often and after what delay.
struct Followers {
  std::size_t observed = 0; // runs of trigger looked at
  struct Follower {
    std::string image;
    std::vector<double> delays; // seconds after the trigger's end (0 when it started before)
    std::size_t before = 0;     // runs of trigger it also came within as long before
  };
  std::map<std::string, Follower> by_command;
};

Followers followers_of(const std::vector<Record> &history, const std::string &trigger, double by) {
  Followers result;
  auto triggers = runs_where(history, [&](const Record &r) {
    return r.command == trigger && r.end() + rules::sequence_window <= by;
  });
  if (triggers.empty()) {
    return result;
  }
  if (triggers.size() > rules::sequence_samples) {
    triggers.erase(triggers.begin(), triggers.end() - static_cast<long>(rules::sequence_samples));
  }
  const std::string &own_image = triggers.back()->image;
  auto others = runs_where(history, [&](const Record &r) { return r.image != own_image; });
  result.observed = triggers.size();
  auto first_after = [&](double t) {
    return std::upper_bound(others.begin(), others.end(), t,
                            [](double x, const Record *r) { return x < r->time; });
  };
  for (const Record *a : triggers) {
    std::map<std::string, bool> seen;
    for (auto it = first_after(a->time);
         it != others.end() && (*it)->time <= a->end() + rules::sequence_window; ++it) {
      const Record *r = *it;
      if (seen[r->command]) {
        continue;
      }
      seen[r->command] = true;
      auto &follower = result.by_command[r->command];
      follower.image = r->image;
      follower.delays.push_back(std::max(0.0, r->time - a->end()));
    }
  }
  // The control: how often each follower starts in a window as long just
  // before the trigger. A command that comes that often anyway (every two
  // minutes, say) follows everything and predicts nothing.
  for (const Record *a : triggers) {
    const double length = a->end() + rules::sequence_window - a->time;
    std::map<std::string, bool> seen;
    for (auto it = first_after(a->time - length); it != others.end() && (*it)->time <= a->time;
         ++it) {
      auto follower = result.by_command.find((*it)->command);
      if (follower != result.by_command.end() && !seen[(*it)->command]) {
        seen[(*it)->command] = true;
        follower->second.before++;
      }
    }
  }
  return result;
}

bool strong(const Followers &f, const Followers::Follower &follower) {
  const auto after = static_cast<double>(follower.delays.size());
  return f.observed >= rules::min_sequences && follower.delays.size() >= rules::min_sequences &&
         after >= rules::sequence_confidence * static_cast<double>(f.observed) &&
         after >= rules::sequence_lift * static_cast<double>(follower.before);
}

// True when most recent episodes of image came right after a run that
// announces them (a strong sequence): the next one will likely be pre-warmed.
bool announced_by_sequence(const std::vector<Record> &history, const std::string &image, double now,
                           const Settings &s) {
  auto runs = runs_where(history, [&](const Record &r) { return r.image == image; });
  auto starts = episodes(runs, lower(s));
  if (starts.size() > rules::period_samples) {
    starts.erase(starts.begin(), starts.end() - static_cast<long>(rules::period_samples));
  }
  if (starts.size() < rules::min_sequences) {
    return false;
  }
  auto others = runs_where(history, [&](const Record &r) { return r.image != image; });
  std::map<std::string, Followers> cache;
  std::size_t announced = 0;
  for (const Record *b : starts) {
    bool found = false;
    for (const Record *a : others) {
      if (a->time >= b->time) {
        break;
      }
      if (b->time > a->end() + rules::sequence_window) {
        continue;
      }
      auto it = cache.find(a->command);
      if (it == cache.end()) {
        it = cache.emplace(a->command, followers_of(history, a->command, now)).first;
      }
      auto follower = it->second.by_command.find(b->command);
      if (follower != it->second.by_command.end() && strong(it->second, follower->second)) {
        found = true;
        break;
      }
    }
    announced += found ? 1 : 0;
  }
  return static_cast<double>(announced) >= rules::period_fit * static_cast<double>(starts.size());
}

// When a run of command last ended, or never.
double last_end_of(const std::vector<Record> &history, const std::string &command) {
  double end = never;
  for (const auto &r : history) {
    if (r.is_run() && r.command == command) {
      end = std::max(end, r.end());
    }
  }
  return end;
}

// A periodic prediction worth a pre-warm: removing the container ttl_min after
// the last call and starting it again saves at least ttl_min of idle time (no
// churn of containers for little gain).
bool worth_prewarming(const Prediction &p, double last_end, const Settings &s) {
  return p.prewarm_at > last_end + 2 * lower(s);
}

// True when the user's day looks over: on at least rules::quiet_days of the
// previous rules::day_lookback days that were active at this time of day (a run
// in the rules::active_window before it), no run of any command started
// between last_use + lo and last_use + ttl at the same time of day.
bool quiet_time_of_day(const std::vector<Record> &history, double from_time, double to_time) {
  int quiet = 0;
  for (int k = 1; k <= rules::day_lookback; ++k) {
    const double shift = k * rules::day;
    const double from = from_time - shift;
    const double to = to_time - shift;
    const double active_from = from - rules::active_window;
    bool active = false;
    for (const auto &r : history) {
      if (!r.is_run()) {
        continue;
      }
      if (r.time > from && r.time <= to) {
        return false;
      }
      active = active || (r.time >= active_from && r.time <= from);
    }
    quiet += active ? 1 : 0;
  }
  return quiet >= rules::quiet_days;
}

} // namespace

std::vector<double> idle_gaps(const std::vector<Record> &history, const std::string &image,
                              std::size_t limit) {
  auto runs = runs_where(history, [&](const Record &r) { return r.image == image; });
  std::vector<double> gaps;
  double busy_until = never;
  for (const Record *r : runs) {
    if (busy_until != never && r->time > busy_until) {
      gaps.push_back(r->time - busy_until);
    }
    busy_until = std::max(busy_until, r->end());
  }
  if (gaps.size() > limit) {
    gaps.erase(gaps.begin(), gaps.end() - static_cast<long>(limit));
  }
  return gaps;
}

TtlChoice auto_ttl(const std::vector<Record> &history, const std::string &image,
                   const Settings &s) {
  const double lo = lower(s);
  const double hi = upper(s);
  auto gaps = idle_gaps(history, image);
  if (gaps.size() < rules::min_gaps) {
    return {std::clamp(rules::learning_ttl, lo, hi), "learning"};
  }
  // What a ttl would have cost over these gaps: the idle seconds it keeps a
  // container, plus ttl_max for each call it would have missed.
  auto cost = [&](double ttl) {
    double total = 0;
    for (double g : gaps) {
      total += g <= ttl ? g : ttl + hi;
    }
    return total;
  };
  std::vector<double> candidates{lo, hi};
  for (double g : gaps) {
    candidates.push_back(std::clamp(g * rules::gap_factor + rules::gap_slack, lo, hi));
  }
  std::sort(candidates.begin(), candidates.end());
  double best = lo;
  double best_cost = cost(lo);
  for (double ttl : candidates) {
    if (double c = cost(ttl); c < best_cost) {
      best = ttl;
      best_cost = c;
    }
  }
  return {best, best == lo ? "rare" : "gaps"};
}

double setup_estimate(const std::vector<Record> &history, const std::string &image) {
  double sum = 0;
  int count = 0;
  for (auto it = history.rbegin(); it != history.rend() && count < 16; ++it) {
    if (it->kind == Kind::cold && it->image == image && it->setup > 0) {
      sum += it->setup;
      ++count;
    }
  }
  return count > 0 ? sum / count : rules::default_setup;
}

std::optional<Prediction> periodic_prediction(const std::vector<Record> &history,
                                              const std::string &command, const Settings &s) {
  auto runs = runs_where(history, [&](const Record &r) { return r.command == command; });
  auto starts = episodes(runs, lower(s));
  if (starts.size() < rules::min_periods + 1) {
    return std::nullopt;
  }
  std::vector<double> gaps;
  for (std::size_t i = starts.size() - std::min(starts.size() - 1, rules::period_samples);
       i < starts.size(); ++i) {
    gaps.push_back(starts[i]->time - starts[i - 1]->time);
  }
  const double period = median(gaps);
  if (period <= 0) {
    return std::nullopt;
  }
  const double tolerance = std::max(rules::period_tolerance * period, rules::period_min_tolerance);
  std::size_t fit = 0;
  double jitter = 0;
  for (double g : gaps) {
    if (std::abs(g - period) <= tolerance) {
      ++fit;
      jitter = std::max(jitter, std::abs(g - period));
    }
  }
  if (static_cast<double>(fit) < rules::period_fit * static_cast<double>(gaps.size())) {
    return std::nullopt;
  }
  Prediction p;
  p.pattern = Pattern::periodic;
  p.command = command;
  p.image = runs.back()->image;
  p.trigger = command;
  p.after = starts.back()->time;
  p.period = period;
  p.expected = p.after + period;
  // The largest of a few observed deviations underestimates the spread: twice
  // it, within the tolerance.
  const double window = std::min(tolerance, 2 * jitter) + rules::lead_margin;
  p.prewarm_at = p.expected - window - setup_estimate(history, p.image) - rules::lead_margin;
  p.until = p.expected + window;
  p.support = static_cast<int>(gaps.size());
  p.confidence = static_cast<double>(fit) / static_cast<double>(gaps.size());
  return p;
}

std::vector<Prediction> sequence_predictions(const std::vector<Record> &history,
                                             const std::string &trigger, const Settings &s) {
  (void)s;
  const double last_end = last_end_of(history, trigger);
  std::vector<Prediction> out;
  if (last_end == never) {
    return out;
  }
  auto followers = followers_of(history, trigger, last_end);
  for (auto &[command, follower] : followers.by_command) {
    if (!strong(followers, follower)) {
      continue;
    }
    std::sort(follower.delays.begin(), follower.delays.end());
    const double setup = setup_estimate(history, follower.image);
    Prediction p;
    p.pattern = Pattern::sequence;
    p.command = command;
    p.image = follower.image;
    p.trigger = trigger;
    p.after = last_end;
    p.prewarm_at =
        last_end + std::max(0.0, quantile(follower.delays, 0.1) - setup - rules::lead_margin);
    p.expected = last_end + quantile(follower.delays, 0.5);
    p.until = last_end + quantile(follower.delays, 0.9) + rules::gap_slack;
    p.support = static_cast<int>(followers.observed);
    p.confidence =
        static_cast<double>(follower.delays.size()) / static_cast<double>(followers.observed);
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<Prediction> plan_prewarm(const std::vector<Record> &history, const std::string &trigger,
                                     double now, const Settings &s) {
  std::vector<Prediction> plan;
  if (!s.prewarm || s.max_warm <= 0) {
    return plan;
  }
  plan = sequence_predictions(history, trigger, s);
  if (auto p = periodic_prediction(history, trigger, s);
      p && worth_prewarming(*p, last_end_of(history, trigger), s)) {
    plan.push_back(std::move(*p));
  }
  plan.erase(
      std::remove_if(plan.begin(), plan.end(), [&](const Prediction &p) { return p.until <= now; }),
      plan.end());
  std::stable_sort(plan.begin(), plan.end(), [](const Prediction &a, const Prediction &b) {
    return a.prewarm_at < b.prewarm_at;
  });
  return plan;
}

std::optional<Prediction> recheck(const std::vector<Record> &history, const Prediction &p,
                                  double now, const Settings &s) {
  if (!s.prewarm || s.max_warm <= 0) {
    return std::nullopt;
  }
  if (p.pattern == Pattern::periodic) {
    auto q = periodic_prediction(history, p.command, s);
    if (q && q->until <= now) {
      // The expected call did not come: one skipped beat is forgiven.
      q->expected += q->period;
      q->prewarm_at += q->period;
      q->until += q->period;
    }
    if (!q || q->until <= now || !worth_prewarming(*q, last_end_of(history, p.command), s)) {
      return std::nullopt;
    }
    return q;
  }
  for (const auto &r : history) {
    if (r.is_run() && r.image == p.image && r.time > p.after) {
      return std::nullopt; // already called: its container is up or was just used
    }
  }
  if (p.until <= now) {
    return std::nullopt;
  }
  return p;
}

double reaper_ttl(const std::vector<Record> &history, const std::string &image, double last_use,
                  double now, const Settings &s) {
  const double lo = lower(s);
  double last_start = never;
  double last_end = never;
  const Record *prewarm = nullptr;
  for (const auto &r : history) {
    if (r.image != image || r.time > now) {
      continue;
    }
    if (r.is_run()) {
      last_start = std::max(last_start, r.time);
      last_end = std::max(last_end, r.end());
    } else if (r.kind == Kind::prewarm && (prewarm == nullptr || r.time >= prewarm->time)) {
      prewarm = &r;
    }
  }
  // Pre-warmed for a call that has not come yet: wait for it, no longer.
  if (prewarm != nullptr && prewarm->time >= last_start) {
    return std::max(lo, prewarm->time + prewarm->duration - last_use);
  }
  // Used, but the record does not show it yet (a run in flight, a pre-warm
  // being recorded): look again soon.
  if (last_end < last_use - 2) {
    return lo;
  }
  const double base = auto_ttl(history, image, s).seconds;
  if (base > lo && quiet_time_of_day(history, std::max(now, last_use + lo), last_use + base)) {
    return std::max(lo, now - last_use);
  }
  if (!s.prewarm || s.max_warm <= 0 || base <= lo) {
    return base;
  }
  // A pre-warm will have a container ready for the next call: keep this one
  // only for follow-up calls.
  auto runs =
      runs_where(history, [&](const Record &r) { return r.image == image && r.time <= now; });
  if (!runs.empty()) {
    auto p = periodic_prediction(history, runs.back()->command, s);
    if (p && worth_prewarming(*p, last_use, s)) {
      return lo;
    }
  }
  if (announced_by_sequence(history, image, now, s)) {
    return lo;
  }
  return base;
}

bool may_prewarm(const std::vector<WarmContainer> &warm, std::uint64_t memory,
                 std::uint64_t ceiling, const Settings &s) {
  if (!s.prewarm || static_cast<long>(warm.size()) >= s.max_warm) {
    return false;
  }
  std::uint64_t total = memory;
  for (const auto &c : warm) {
    total += c.memory;
  }
  return total <= ceiling;
}

} // namespace fod::adaptive
