// fod-simulate: replays a trace of calls through fod's own ttl and pre-warm
// policy (hook/src/adaptive, the code the reaper and `fod _prewarm` run) and
// prints `policy | warm-hit rate | idle container-seconds`.
//
//   fod-simulate --generate KIND SEED   write a synthetic trace (periodic, bursty,
//                                       sequences, random) in the run-record format
//   fod-simulate TRACE...               simulate each trace (a generated one, or a
//                                       user's $XDG_STATE_HOME/fod/history), then
//                                       the aggregate when there are several
//
// The model: one container per image. A call at t is a warm hit when that
// image's container is up and ready at t; otherwise it waits for a container
// being started, or starts one (its setup time). Each container has a reaper
// that behaves as fod's: it wakes when the container has been idle for the ttl
// it last computed (under ttl auto at least every ttl_min), waits while a run is in flight,
// re-computes the ttl and removes the container once idle that long. With pre-warming, each run's
// end starts a helper that follows adaptive::plan_prewarm/recheck/may_prewarm as `fod _prewarm`
// does. The record each policy writes (runs, pre-warms, removals) is what the policy reads back,
// bounded as fod bounds it, and the table is adaptive::summarize() of it, as `fod stats` shows it.
// Under each table, hindsight ttls: the best fixed ttl per image chosen knowing the whole
// trace, at the least price per warm hit that reaches fixed-30m's warm hits.

#include "adaptive/history.hpp"
#include "adaptive/policy.hpp"
#include "adaptive/settings.hpp"
#include "adaptive/stats.hpp"
#include "cli/stats.hpp"
#include "util/fs.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <map>
#include <optional>
#include <queue>
#include <string>
#include <vector>

namespace {

using namespace fod::adaptive;

// ---------------------------------------------------------------------------
// Deterministic randomness: the same numbers on every platform and library
// (std::*_distribution are implementation-defined).

class Random {
public:
  explicit Random(std::uint64_t seed) : m_state(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (m_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  bool chance(double p) { return uniform() < p; }
  double exponential(double mean) { return -mean * std::log(1.0 - uniform()); }
  double normal() {
    double u1 = 1.0 - uniform();
    double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  }
  double lognormal(double median, double sigma) { return median * std::exp(sigma * normal()); }
  int geometric(double mean) { // 1, 2, ... with the given mean
    int n = 1;
    while (uniform() > 1.0 / mean) {
      ++n;
    }
    return n;
  }

private:
  std::uint64_t m_state;
};

// ---------------------------------------------------------------------------
// Synthetic traces: five working days, calls between 09:00 and 18:00.

constexpr double t0 = 1704067200; // Monday 2024-01-01 00:00 UTC
constexpr int days = 5;
constexpr double day = 86400;
constexpr double work_start = 9 * 3600;
constexpr double work_end = 18 * 3600;

struct Trace {
  std::vector<Record> calls;
  std::map<std::string, double> setup; // per image

  void call(double time, const std::string &command, double exec) {
    Record r;
    r.kind = Kind::cold;
    r.time = time;
    r.image = "sim.local/" + command + ":1";
    r.setup = setup.at(r.image);
    r.duration = exec;
    r.command = command;
    r.key = "-";
    calls.push_back(std::move(r));
  }
  void image_for(const std::string &command, Random &rng) {
    setup.emplace("sim.local/" + command + ":1", rng.uniform(0.6, 2.5));
  }
};

// The same command every N minutes (+-3%), in a window of each working day;
// 3% of the beats are skipped.
Trace periodic(Random &rng) {
  Trace t;
  const std::pair<const char *, double> commands[] = {{"ci-status", 120},  {"kubectl", 300},
                                                      {"pg_isready", 720}, {"backup-check", 1500},
                                                      {"certcheck", 2400}, {"report", 5400}};
  for (const auto &[name, period] : commands) {
    t.image_for(name, rng);
    for (int d = 0; d < days; ++d) {
      double begin = t0 + d * day + work_start + rng.uniform(0, 7200);
      double end = std::min(t0 + d * day + work_end, begin + rng.uniform(4, 8) * 3600);
      for (double at = begin; at < end; at += period * rng.uniform(0.97, 1.03)) {
        if (!rng.chance(0.03)) {
          t.call(at, name, rng.uniform(1, 15));
        }
      }
    }
  }
  return t;
}

// Bursts of 1-40 calls seconds apart, the bursts at random times.
Trace bursty(Random &rng) {
  Trace t;
  const std::pair<const char *, double> commands[] = {{"jq", 1200},      {"rg", 2700},
                                                      {"yq", 3600},      {"shellcheck", 7200},
                                                      {"pandoc", 10800}, {"gh", 14400}};
  for (const auto &[name, mean_gap] : commands) {
    t.image_for(name, rng);
    for (int d = 0; d < days; ++d) {
      double end = t0 + d * day + work_end;
      for (double at = t0 + d * day + work_start + rng.exponential(mean_gap); at < end;
           at += rng.exponential(mean_gap)) {
        int size = std::min(40, rng.geometric(7));
        double when = at;
        for (int i = 0; i < size && when < end; ++i) {
          double exec = std::min(60.0, rng.lognormal(1.5, 1.0));
          t.call(when, name, exec);
          when += exec + rng.lognormal(20, 0.9);
        }
        at = when;
      }
    }
  }
  return t;
}

// Chains: A is usually followed by B within seconds of its end (tcpdump by
// traceroute), at random times; the followers are sometimes called alone.
Trace sequences(Random &rng) {
  Trace t;
  struct Step {
    const char *command;
    double p; // chance it follows the step before
    double exec_lo, exec_hi;
  };
  const std::vector<std::vector<Step>> chains = {
      {{"tcpdump", 1, 20, 300}, {"traceroute", 0.85, 5, 30}},
      {{"terraform", 1, 10, 120}, {"aws", 0.8, 1, 10}, {"jq", 0.7, 0.2, 2}},
      {{"ffmpeg", 1, 5, 60}, {"exiftool", 0.8, 0.5, 3}},
      {{"nmap", 1, 10, 90}, {"whois", 0.75, 1, 5}},
  };
  for (const auto &chain : chains) {
    for (const auto &step : chain) {
      t.image_for(step.command, rng);
    }
  }
  for (const auto &chain : chains) {
    for (int d = 0; d < days; ++d) {
      double end = t0 + d * day + work_end;
      for (double at = t0 + d * day + work_start + rng.exponential(5400); at < end;
           at += rng.exponential(5400)) {
        double when = at;
        for (std::size_t i = 0; i < chain.size(); ++i) {
          if (i > 0 && !rng.chance(chain[i].p)) {
            break;
          }
          double exec = rng.uniform(chain[i].exec_lo, chain[i].exec_hi);
          t.call(when, chain[i].command, exec);
          when += exec + rng.lognormal(8, 0.7);
        }
        at = when;
      }
      // Followers on their own, now and then.
      for (std::size_t i = 1; i < chain.size(); ++i) {
        for (double at = t0 + d * day + work_start + rng.exponential(4 * 3600); at < end;
             at += rng.exponential(4 * 3600)) {
          t.call(at, chain[i].command, rng.uniform(chain[i].exec_lo, chain[i].exec_hi));
        }
      }
    }
  }
  return t;
}

// Memoryless calls: each command at its own mean rate (3 minutes to 6 hours).
Trace random_calls(Random &rng) {
  Trace t;
  const std::pair<const char *, double> commands[] = {
      {"htop", 180},  {"curl", 480},       {"dig", 900},       {"openssl", 1800},
      {"psql", 3600}, {"redis-cli", 7200}, {"ansible", 10800}, {"sqlite3", 21600}};
  for (const auto &[name, mean_gap] : commands) {
    t.image_for(name, rng);
    for (int d = 0; d < days; ++d) {
      double end = t0 + d * day + work_end;
      for (double at = t0 + d * day + work_start + rng.exponential(mean_gap); at < end;
           at += rng.exponential(mean_gap)) {
        double exec = std::min(120.0, rng.lognormal(2, 1.0));
        t.call(at, name, exec);
        at += exec;
      }
    }
  }
  return t;
}

std::optional<Trace> generate(const std::string &kind, std::uint64_t seed) {
  Random rng(seed);
  std::optional<Trace> t;
  if (kind == "periodic") {
    t = periodic(rng);
  } else if (kind == "bursty") {
    t = bursty(rng);
  } else if (kind == "sequences") {
    t = sequences(rng);
  } else if (kind == "random") {
    t = random_calls(rng);
  }
  if (t) {
    std::stable_sort(t->calls.begin(), t->calls.end(),
                     [](const Record &a, const Record &b) { return a.time < b.time; });
  }
  return t;
}

// ---------------------------------------------------------------------------
// The simulation.

struct Call {
  double time;
  double setup; // what starting its container costs
  double exec;
  std::string command;
  std::string image;
};

// The calls of a trace or a recorded history: its runs. A warm run's setup is
// unknown: its image's mean cold setup stands in.
std::vector<Call> calls_of(const std::vector<Record> &records) {
  std::map<std::string, std::pair<double, int>> cold;
  for (const auto &r : records) {
    if (r.kind == Kind::cold && r.setup > 0) {
      cold[r.image].first += r.setup;
      cold[r.image].second += 1;
    }
  }
  std::vector<Call> calls;
  for (const auto &r : records) {
    if (!r.is_run()) {
      continue;
    }
    double setup = r.kind == Kind::cold && r.setup > 0 ? r.setup : rules::default_setup;
    if (r.kind == Kind::warm || r.setup <= 0) {
      if (auto it = cold.find(r.image); it != cold.end()) {
        setup = it->second.first / it->second.second;
      }
    }
    calls.push_back({r.time, setup, r.duration, r.command, r.image});
  }
  std::stable_sort(calls.begin(), calls.end(),
                   [](const Call &a, const Call &b) { return a.time < b.time; });
  return calls;
}

struct Policy {
  std::string name;
  std::optional<double> fixed_ttl; // nullopt: ttl auto (or image_ttl when set)
  bool prewarm = false;
  std::map<std::string, double> image_ttl; // a fixed ttl per image (the hindsight bound)
};

constexpr std::uint64_t container_memory = std::uint64_t{2} << 30; // fod's default --memory 2g
constexpr std::uint64_t simulated_ram = std::uint64_t{16} << 30;

class Simulation {
public:
  Simulation(std::vector<Call> calls, Policy policy, Settings settings)
      : m_calls(std::move(calls)), m_policy(std::move(policy)), m_settings(std::move(settings)) {
    m_settings.prewarm = m_policy.prewarm;
    m_ceiling = memory_ceiling_bytes(m_settings, simulated_ram);
    for (const auto &c : m_calls) {
      auto &s = m_setup[c.image];
      s.first += c.setup;
      s.second += 1;
    }
  }

  Summary run() {
    for (std::size_t i = 0; i < m_calls.size(); ++i) {
      push(m_calls[i].time, Event::call, i);
    }
    while (!m_events.empty()) {
      Event e = m_events.top();
      m_events.pop();
      m_now = e.time;
      switch (e.type) {
      case Event::call:
        on_call(e.index);
        break;
      case Event::run_start:
        on_run_start(e.index);
        break;
      case Event::run_end:
        on_run_end(e.index);
        break;
      case Event::ready:
        on_ready(e.image, e.generation, e.index);
        break;
      case Event::reaper:
        on_reaper(e.image, e.generation, e.sequence);
        break;
      case Event::prewarm:
        on_prewarm(e.index);
        break;
      }
    }
    return summarize(m_log, m_now);
  }

private:
  struct Event {
    enum Type { call, run_start, run_end, ready, reaper, prewarm } type;
    double time;
    std::uint64_t sequence;
    std::size_t index =
        0; // call, or prediction (prewarm, ready of a pre-warm + 1; 0 for a cold start)
    std::string image;
    int generation = 0;
    bool operator<(const Event &o) const { // for the max-heap: earliest first
      return time != o.time ? time > o.time : sequence > o.sequence;
    }
  };
  struct Container {
    bool up = false;
    double ready = 0;
    double last_use = 0;
    int inflight = 0;
    int generation = 0;
    bool reaper_waits_for_lock = false;
    std::uint64_t reaper_wake = 0; // the sequence of its pending wake
    std::string last_command;
  };
  struct Pending {
    Prediction prediction;
    double started = 0;
  };

  std::uint64_t push(double time, Event::Type type, std::size_t index,
                     const std::string &image = {}, int generation = 0) {
    Event e{type, time, ++m_sequence, index, image, generation};
    m_events.push(e);
    return e.sequence;
  }

  void record(const Record &r) {
    m_log.push_back(r);
    m_history.push_back(r);
    m_history_bytes += format_record(r).value_or("").size();
    // As append_record(): past max_bytes, keep the newest records.
    if (m_history_bytes > m_limits.max_bytes) {
      m_history = compact_records(m_history, m_limits);
      m_history_bytes = 0;
      for (const auto &h : m_history) {
        m_history_bytes += format_record(h).value_or("").size();
      }
    }
  }

  Record make(Kind kind, double time, double setup, double duration, const std::string &command,
              const std::string &image) {
    Record r;
    r.kind = kind;
    r.time = time;
    r.setup = setup;
    r.duration = duration;
    r.command = command;
    r.image = image;
    r.key = image;
    return r;
  }

  double setup_of(const std::string &image) const {
    auto it = m_setup.find(image);
    return it == m_setup.end() ? rules::default_setup : it->second.first / it->second.second;
  }

  void on_call(std::size_t i) {
    const Call &c = m_calls[i];
    Container &box = m_boxes[c.image];
    double start = m_now;
    Kind kind = Kind::warm;
    if (!box.up) {
      box.up = true;
      box.ready = m_now + c.setup;
      box.generation++;
      push(box.ready, Event::ready, 0, c.image, box.generation);
      kind = Kind::cold;
      start = box.ready;
    } else if (box.ready > m_now) {
      kind = Kind::cold; // waits for the container being started
      start = box.ready;
    }
    box.inflight++;
    m_runs.push_back(make(kind, m_now, start - m_now, c.exec, c.command, c.image));
    push(start, Event::run_start, m_runs.size() - 1);
    push(start + c.exec, Event::run_end, m_runs.size() - 1);
  }

  void on_run_start(std::size_t r) {
    Container &box = m_boxes[m_runs[r].image];
    box.last_use = std::max(box.last_use, m_now);
  }

  void on_run_end(std::size_t r) {
    const Record run = m_runs[r];
    Container &box = m_boxes[run.image];
    box.last_use = std::max(box.last_use, m_now);
    box.last_command = run.command;
    box.inflight--;
    record(run);
    if (box.inflight == 0 && box.reaper_waits_for_lock) {
      box.reaper_waits_for_lock = false;
      reap(run.image);
    }
    if (m_policy.prewarm) {
      helper(run.command);
    }
  }

  // A container finished starting: its reaper starts; a pre-warm is recorded.
  void on_ready(const std::string &image, int generation, std::size_t pending) {
    Container &box = m_boxes[image];
    if (box.generation != generation) {
      return;
    }
    box.last_use = std::max(box.last_use, m_now);
    reap(image);
    if (pending > 0) {
      const Pending &p = m_pending[pending - 1];
      box.last_command = p.prediction.command;
      record(make(Kind::prewarm, p.started, m_now - p.started,
                  std::max(0.0, p.prediction.until - p.started), p.prediction.command, image));
    }
  }

  void on_reaper(const std::string &image, int generation, std::uint64_t sequence) {
    Container &box = m_boxes[image];
    if (box.generation == generation && box.up && box.reaper_wake == sequence) {
      reap(image);
    }
  }

  double ttl(const std::string &image, const Container &box) const {
    if (m_policy.fixed_ttl) {
      return *m_policy.fixed_ttl;
    }
    if (auto it = m_policy.image_ttl.find(image); it != m_policy.image_ttl.end()) {
      return it->second;
    }
    return reaper_ttl(m_history, image, box.last_use, m_now, m_settings);
  }

  // The reaper's loop body (containers/reaper.cpp): sleep while idle < ttl, wait for
  // runs in flight, re-check, remove.
  void reap(const std::string &image) {
    Container &box = m_boxes[image];
    if (!box.up) {
      return;
    }
    const double limit = ttl(image, box);
    const double idle = m_now - box.last_use;
    if (idle < limit) {
      double wake = box.last_use + limit;
      if (!m_policy.fixed_ttl && m_policy.image_ttl.empty()) {
        wake = std::min(wake, m_now + static_cast<double>(m_settings.ttl_min.count()));
      }
      box.reaper_wake = push(wake + 0.05, Event::reaper, 0, image, box.generation);
      return;
    }
    if (box.inflight > 0) {
      box.reaper_waits_for_lock = true;
      box.reaper_wake = 0;
      return;
    }
    box.up = false;
    box.generation++;
    box.reaper_wake = 0;
    record(make(Kind::removal, m_now, 0, idle, box.last_command.empty() ? "-" : box.last_command,
                image));
  }

  // `fod _prewarm COMMAND` after a run of command (adaptive::run_prewarm_helper).
  void helper(const std::string &command) {
    auto plan = plan_prewarm(m_history, command, m_now, m_settings);
    for (auto &p : plan) {
      if (p.pattern == Pattern::periodic) {
        if (m_periodic_waiter[command]) {
          continue; // another helper waits for it and re-plans when it wakes
        }
        m_periodic_waiter[command] = true;
      }
      m_pending.push_back({p, 0});
      push(std::max(m_now, p.prewarm_at), Event::prewarm, m_pending.size() - 1);
    }
  }

  void on_prewarm(std::size_t k) {
    Prediction p = m_pending[k].prediction;
    auto q = recheck(m_history, p, m_now, m_settings);
    if (q && q->prewarm_at > m_now + 1) {
      m_pending[k].prediction = *q;
      push(q->prewarm_at, Event::prewarm, k);
      return;
    }
    if (q && act(k, *q)) {
      if (q->pattern == Pattern::periodic) {
        // Follow the period: look again once the call's window has passed.
        Prediction next = *q;
        next.prewarm_at = q->until;
        m_pending.push_back({next, 0});
        push(next.prewarm_at, Event::prewarm, m_pending.size() - 1);
      }
      return;
    }
    if (p.pattern == Pattern::periodic) {
      m_periodic_waiter[p.command] = false; // the helper ends
    }
  }

  // Keeps an up container for the call, or starts one within the bounds.
  bool act(std::size_t k, const Prediction &q) {
    Container &box = m_boxes[q.image];
    if (box.up) {
      record(make(Kind::prewarm, m_now, 0, std::max(0.0, q.until - m_now), q.command, q.image));
      return true;
    }
    std::vector<WarmContainer> warm;
    for (const auto &[image, b] : m_boxes) {
      if (b.up) {
        warm.push_back({image, container_memory});
      }
    }
    if (!may_prewarm(warm, container_memory, m_ceiling, m_settings)) {
      return false;
    }
    box.up = true;
    box.generation++;
    box.ready = m_now + setup_of(q.image);
    m_pending[k].prediction = q;
    m_pending[k].started = m_now;
    push(box.ready, Event::ready, k + 1, q.image, box.generation);
    return true;
  }

  std::vector<Call> m_calls;
  Policy m_policy;
  Settings m_settings;
  std::uint64_t m_ceiling = 0;
  HistoryLimits m_limits;
  std::map<std::string, std::pair<double, int>> m_setup;
  std::priority_queue<Event> m_events;
  std::uint64_t m_sequence = 0;
  double m_now = 0;
  std::map<std::string, Container> m_boxes;
  std::vector<Record> m_runs;    // runs started, recorded when they end
  std::vector<Record> m_history; // what the policy reads: bounded as fod bounds it
  std::size_t m_history_bytes = 0;
  std::vector<Record> m_log; // everything, for the table
  std::vector<Pending> m_pending;
  std::map<std::string, bool> m_periodic_waiter;
};

// ---------------------------------------------------------------------------
// Hindsight ttls: what the best fixed ttl per image would do, chosen knowing
// every gap of the trace in advance. Not a policy (it sees the future), and not
// a strict bound (the price search may overshoot the target hits a little); it
// shows roughly how far a ttl rule could go on a trace.
//
// A call is caught when its idle gap g is at most the ttl T; each gap costs
// min(g, T) idle seconds. For a price lambda (idle seconds a warm hit is worth)
// each image takes the T minimising idle - lambda * hits over its own gaps;
// lambda is then searched for the least that reaches the target hits.

using Gaps = std::map<std::string, std::vector<double>>; // per image, ascending

Gaps gaps_by_image(const std::vector<Call> &calls) {
  std::vector<Record> runs;
  for (const auto &c : calls) {
    Record r;
    r.time = c.time;
    r.duration = c.exec;
    r.command = c.command;
    r.image = c.image;
    runs.push_back(std::move(r));
  }
  Gaps gaps;
  for (const auto &c : calls) {
    if (gaps.count(c.image) == 0) {
      auto g = idle_gaps(runs, c.image, runs.size());
      std::sort(g.begin(), g.end());
      gaps[c.image] = std::move(g);
    }
  }
  return gaps;
}

struct Choice {
  std::map<std::string, double> ttl;
  std::size_t hits = 0; // by the gap model
};

constexpr double just_past = 1; // a ttl catches its gap with a second to spare

Choice choose(const Gaps &gaps, double lambda) {
  Choice choice;
  for (const auto &[image, g] : gaps) {
    // A ttl just past a gap catches it and every gap no longer; 0 catches none.
    std::vector<double> prefix{0};
    for (double v : g) {
      prefix.push_back(prefix.back() + v);
    }
    double best_value = 0;
    double best_ttl = 0;
    std::size_t best_hits = 0;
    for (double v : g) {
      const double t = v + just_past;
      const auto hits =
          static_cast<std::size_t>(std::upper_bound(g.begin(), g.end(), t) - g.begin());
      const double idle = prefix[hits] + static_cast<double>(g.size() - hits) * t;
      const double value = idle - lambda * static_cast<double>(hits);
      if (value < best_value) {
        best_value = value;
        best_ttl = t;
        best_hits = hits;
      }
    }
    choice.ttl[image] = best_ttl;
    choice.hits += best_hits;
  }
  return choice;
}

// The per-image ttls (one map per trace) with the least price whose gap-model
// hits over all traces reach target.
std::vector<std::map<std::string, double>> hindsight(const std::vector<Gaps> &traces,
                                                     std::size_t target) {
  auto hits = [&](double lambda) {
    std::size_t total = 0;
    for (const auto &g : traces) {
      total += choose(g, lambda).hits;
    }
    return total;
  };
  double lo = 0;
  double hi = 1e4;
  while (hits(hi) < target && hi < 1e9) {
    hi *= 2;
  }
  for (int i = 0; i < 60; ++i) {
    double mid = (lo + hi) / 2;
    (hits(mid) >= target ? hi : lo) = mid;
  }
  std::vector<std::map<std::string, double>> out;
  for (const auto &g : traces) {
    out.push_back(choose(g, hi).ttl);
  }
  return out;
}

constexpr double fixed_30m = 1800;

std::vector<Policy> policies() {
  return {{"none", 0.0, false, {}},
          {"fixed-1m", 60.0, false, {}},
          {"fixed-5m", 300.0, false, {}},
          {"fixed-30m", fixed_30m, false, {}},
          {"adaptive", std::nullopt, false, {}},
          {"adaptive+prewarm", std::nullopt, true, {}}};
}

struct Row {
  std::size_t calls = 0;
  std::size_t warm = 0;
  double idle = 0;
  double rate() const {
    return calls == 0 ? 0 : static_cast<double>(warm) / static_cast<double>(calls);
  }
};

std::string thousands(double value) {
  auto digits = std::to_string(std::llround(value));
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) {
      out += ',';
    }
    out += digits[i];
  }
  return out;
}

void print_table(const std::string &title, const std::vector<Row> &rows,
                 const std::vector<Policy> &list, const Row &bound) {
  fmt::print("{}\n\n| policy | warm-hit rate | idle container-seconds |\n|---|---:|---:|\n", title);
  for (std::size_t i = 0; i < list.size(); ++i) {
    fmt::print("| {} | {:.1f}% | {} |\n", list[i].name, rows[i].rate() * 100,
               thousands(rows[i].idle));
  }
  const Row &fixed30 = rows[3];
  const Row &best = rows[5];
  bool hit_ok = best.rate() >= fixed30.rate();
  bool idle_ok = best.idle <= fixed30.idle / 2;
  fmt::print("\nadaptive+prewarm vs fixed-30m: warm-hit {:.1f}% vs {:.1f}% ({}), idle {:.0f}% of "
             "it ({}).\n\n",
             best.rate() * 100, fixed30.rate() * 100, hit_ok ? "at least" : "BELOW",
             100 * best.idle / std::max(1.0, fixed30.idle),
             idle_ok ? "at most half" : "MORE than half");
  fmt::print("Hindsight ttls (not a policy): the best fixed ttl per image, chosen knowing the "
             "whole trace, at the least price per warm hit that reaches fixed-30m's warm hits: "
             "{:.1f}% warm hits with {} idle container-seconds ({:.0f}% of fixed-30m).\n\n",
             bound.rate() * 100, thousands(bound.idle),
             100 * bound.idle / std::max(1.0, fixed30.idle));
}

Row row_of(const Summary &s) {
  return {s.calls, s.warm, s.idle};
}

// Simulates each trace with its per-image ttls; the rows, and their sum.
std::pair<std::vector<Row>, Row> bound_rows(const std::vector<std::vector<Call>> &traces,
                                            const std::vector<std::map<std::string, double>> &ttl) {
  std::vector<Row> rows;
  Row total;
  for (std::size_t i = 0; i < traces.size(); ++i) {
    Policy p{"hindsight", std::nullopt, false, ttl[i]};
    Row r = row_of(Simulation(traces[i], p, Settings{}).run());
    total.calls += r.calls;
    total.warm += r.warm;
    total.idle += r.idle;
    rows.push_back(r);
  }
  return {rows, total};
}

int usage() {
  fmt::print(stderr,
             "usage: fod-simulate --generate periodic|bursty|sequences|random SEED\n"
             "       fod-simulate [--detail] TRACE...   (--detail: `fod stats` of each policy)\n");
  return 2;
}

} // namespace

int main(int argc, char **argv) {
  if (argc == 4 && std::strcmp(argv[1], "--generate") == 0) {
    auto trace = generate(argv[2], std::strtoull(argv[3], nullptr, 10));
    if (!trace) {
      return usage();
    }
    for (const auto &r : trace->calls) {
      fmt::print("{}", format_record(r).value_or(""));
    }
    return 0;
  }
  bool detail = argc > 1 && std::strcmp(argv[1], "--detail") == 0;
  const int first = detail ? 2 : 1;
  if (argc <= first || argv[first][0] == '-') {
    return usage();
  }
  const auto list = policies();
  std::vector<Row> total(list.size());
  std::vector<std::vector<Call>> traces;
  std::vector<Gaps> gaps;
  std::size_t target = 0; // fixed-30m's hits by the gap model, over all traces
  for (int a = first; a < argc; ++a) {
    auto records = read_history(argv[a]);
    auto calls = calls_of(records);
    if (calls.empty()) {
      fmt::print(stderr, "fod-simulate: {} holds no runs\n", argv[a]);
      return 1;
    }
    std::vector<Row> rows;
    for (std::size_t i = 0; i < list.size(); ++i) {
      Summary s = Simulation(calls, list[i], Settings{}).run();
      if (detail) {
        fmt::print("{} with {}:\n{}\n", fod::util::basename(argv[a]), list[i].name,
                   fod::cli::format_stats(s));
      }
      rows.push_back(row_of(s));
      total[i].calls += s.calls;
      total[i].warm += s.warm;
      total[i].idle += s.idle;
    }
    Gaps g = gaps_by_image(calls);
    std::size_t own_target = 0;
    for (const auto &[image, values] : g) {
      own_target += static_cast<std::size_t>(
          std::upper_bound(values.begin(), values.end(), fixed_30m) - values.begin());
    }
    target += own_target;
    Row bound = bound_rows({calls}, hindsight({g}, own_target)).second;
    std::map<std::string, int> commands;
    for (const auto &c : calls) {
      commands[c.command]++;
    }
    print_table(fmt::format("### {} ({} calls of {} commands over {:.1f} days)",
                            fod::util::basename(argv[a]), calls.size(), commands.size(),
                            (calls.back().time - calls.front().time) / 86400.0),
                rows, list, bound);
    traces.push_back(std::move(calls));
    gaps.push_back(std::move(g));
  }
  if (traces.size() > 1) {
    // One price for all traces together: the bound may buy warm hits where they are cheapest.
    Row bound = bound_rows(traces, hindsight(gaps, target)).second;
    print_table(fmt::format("### all {} traces", traces.size()), total, list, bound);
  }
  return 0;
}
