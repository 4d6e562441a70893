#include "adaptive/stats.hpp"

#include <algorithm>
#include <map>

namespace fod::adaptive {

namespace {

// Walks one container's records in time order and charges its idle time.
class IdleMeter {
public:
  explicit IdleMeter(std::map<std::string, double> &idle) : m_idle(idle) {}

  void run(const Record &r) {
    const double ready = r.time + r.setup;
    if (!m_up || (r.kind == Kind::cold && r.time >= m_ready)) {
      // A new container; a cold run in a container we thought up means it went
      // without a recorded removal (fod stop, gc, a reboot): nothing to charge.
      start(ready, r.command);
    } else {
      charge(ready);
    }
    m_busy_until = std::max(m_busy_until, r.end());
    m_owner = r.command;
  }

  void prewarm(const Record &p) {
    if (!m_up) {
      start(p.time + p.setup, p.command);
    }
  }

  void removal(const Record &r) {
    if (m_up) {
      charge(r.time);
      m_up = false;
    }
  }

  void finish(double now, bool live) {
    if (m_up && live) {
      charge(now);
    }
  }

private:
  void start(double ready, const std::string &owner) {
    m_up = true;
    m_ready = ready;
    m_busy_until = ready;
    m_owner = owner;
  }

  void charge(double until) {
    const double from = std::max(m_ready, m_busy_until);
    if (until > from) {
      m_idle[m_owner] += until - from;
      m_busy_until = until;
    }
  }

  std::map<std::string, double> &m_idle;
  bool m_up = false;
  double m_ready = 0;
  double m_busy_until = 0;
  std::string m_owner;
};

} // namespace

Summary summarize(const std::vector<Record> &history, double now,
                  const std::set<std::string> &live_keys) {
  std::vector<const Record *> records;
  records.reserve(history.size());
  for (const auto &r : history) {
    records.push_back(&r);
  }
  std::stable_sort(records.begin(), records.end(),
                   [](const Record *a, const Record *b) { return a->time < b->time; });

  struct Acc {
    CommandStats stats;
    double setup_sum = 0;
    std::size_t cold = 0;
    double exec_sum = 0;
    double first_start = 0;
    double last_start = 0;
  };
  std::map<std::string, Acc> by_command;
  std::map<std::string, double> idle;
  std::map<std::string, IdleMeter> meters;
  Summary summary;
  if (!records.empty()) {
    summary.first = records.front()->time;
    summary.last = records.back()->time;
  }
  for (const Record *r : records) {
    // A container is known by its key; records without one are grouped by image.
    const std::string container = r->key != "-" ? r->key : "image:" + r->image;
    auto meter = meters.try_emplace(container, idle).first;
    if (r->is_run()) {
      auto &acc = by_command[r->command];
      auto &s = acc.stats;
      s.command = r->command;
      s.image = r->image;
      if (s.calls == 0) {
        acc.first_start = r->time;
      }
      acc.last_start = r->time;
      ++s.calls;
      if (r->kind == Kind::warm) {
        ++s.warm;
      } else {
        ++acc.cold;
        acc.setup_sum += r->setup;
      }
      acc.exec_sum += r->duration;
      meter->second.run(*r);
    } else if (r->kind == Kind::prewarm) {
      ++by_command[r->command].stats.prewarms;
      by_command[r->command].stats.command = r->command;
      meter->second.prewarm(*r);
    } else {
      meter->second.removal(*r);
    }
  }
  for (auto &[key, meter] : meters) {
    meter.finish(now, live_keys.count(key) > 0);
  }
  for (auto &[command, acc] : by_command) {
    auto &s = acc.stats;
    if (s.calls >= 2) {
      s.mtbc = (acc.last_start - acc.first_start) / static_cast<double>(s.calls - 1);
    }
    if (acc.cold > 0) {
      s.mtts = acc.setup_sum / static_cast<double>(acc.cold);
    }
    if (s.calls > 0) {
      s.mtte = acc.exec_sum / static_cast<double>(s.calls);
    }
    if (s.mtbc) {
      s.epsilon = *s.mtbc - (s.mtts.value_or(0) + s.mtte);
    }
    if (auto it = idle.find(command); it != idle.end()) {
      s.idle = it->second;
    }
    summary.calls += s.calls;
    summary.warm += s.warm;
    summary.prewarms += s.prewarms;
    summary.idle += s.idle;
    summary.commands.push_back(s);
  }
  return summary;
}

} // namespace fod::adaptive
