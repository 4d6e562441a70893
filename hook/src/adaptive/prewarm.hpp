#pragma once

#include "adaptive/policy.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace fod::adaptive {

// What the pre-warm helper needs from the world; the defaults of `fod _prewarm`
// wire them to the record, the clock and the warm containers.
struct PrewarmHooks {
  std::function<std::vector<Record>()> read_history;
  std::function<double()> now;
  std::function<void(double seconds)> sleep;
  // The key of the container a call of command here would use, when it is up.
  std::function<std::optional<std::string>(const std::string &command)> warm_key;
  // fod's warm containers, for max_warm and the memory ceiling.
  std::function<std::vector<WarmContainer>()> warm_containers;
  // The --memory limit in bytes of command's container.
  std::function<std::uint64_t(const std::string &command)> memory_of;
  // Starts command's container here (and its reaper); its key, or nullopt on failure.
  std::function<std::optional<std::string>(const std::string &command)> start;
  std::function<bool(const Record &record)> append;
  // Becomes the one helper that waits for command's next periodic call; false
  // when another helper already does (it re-plans when it wakes).
  std::function<bool(const std::string &command)> claim_periodic;
  // True once `fod stop` cancelled the pending pre-warms (unset: never).
  std::function<bool()> cancelled;
};

// The body of `fod _prewarm TRIGGER`, run detached after a run of trigger:
// carries out plan_prewarm(), sleeping until each prediction's prewarm_at and
// re-checking it then; a container already up is kept for the call instead.
// Ends when hooks.cancelled() says so after a sleep.
// After a periodic pre-warm it looks again when the call's window has passed,
// so one helper follows a command's period for as long as it holds. Appends a
// pre-warm record for each container started or kept, and returns how many.
int run_prewarm_helper(const std::string &trigger, const Settings &settings,
                       std::uint64_t memory_ceiling, const PrewarmHooks &hooks);

} // namespace fod::adaptive
