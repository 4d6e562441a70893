#include "adaptive/prewarm.hpp"

#include <algorithm>

namespace fod::adaptive {

int run_prewarm_helper(const std::string &trigger, const Settings &settings,
                       std::uint64_t memory_ceiling, const PrewarmHooks &hooks) {
  auto plan = plan_prewarm(hooks.read_history(), trigger, hooks.now(), settings);
  auto periodic = std::find_if(plan.begin(), plan.end(),
                               [](const Prediction &p) { return p.pattern == Pattern::periodic; });
  if (periodic != plan.end() && !hooks.claim_periodic(trigger)) {
    plan.erase(periodic);
  }
  int kept = 0;
  while (!plan.empty()) {
    std::stable_sort(plan.begin(), plan.end(), [](const Prediction &a, const Prediction &b) {
      return a.prewarm_at < b.prewarm_at;
    });
    Prediction p = plan.front();
    plan.erase(plan.begin());
    if (double wait = p.prewarm_at - hooks.now(); wait > 0) {
      hooks.sleep(wait);
    }
    if (hooks.cancelled && hooks.cancelled()) {
      break;
    }
    const double now = hooks.now();
    auto q = recheck(hooks.read_history(), p, now, settings);
    if (!q) {
      continue;
    }
    if (q->prewarm_at > now + 1) {
      plan.push_back(std::move(*q)); // a newer call moved it: sleep again
      continue;
    }
    Record record;
    record.kind = Kind::prewarm;
    record.command = q->command;
    record.image = q->image;
    if (auto key = hooks.warm_key(q->command)) {
      record.time = now;
      record.key = *key;
    } else if (may_prewarm(hooks.warm_containers(), hooks.memory_of(q->command), memory_ceiling,
                           settings)) {
      auto started = hooks.start(q->command);
      if (!started) {
        continue;
      }
      record.time = now;
      record.setup = std::max(0.0, hooks.now() - now);
      record.key = *started;
    } else {
      continue; // at max_warm or the memory ceiling
    }
    record.duration = std::max(0.0, q->until - record.time);
    hooks.append(record);
    ++kept;
    if (q->pattern == Pattern::periodic) {
      // Follow the period: look again once the call's window has passed.
      Prediction next = *q;
      next.prewarm_at = q->until;
      plan.push_back(std::move(next));
    }
  }
  return kept;
}

} // namespace fod::adaptive
