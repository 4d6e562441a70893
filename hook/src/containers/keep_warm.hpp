#pragma once

#include "adaptive/prewarm.hpp"
#include "adaptive/settings.hpp"

#include <cstdint>
#include <functional>
#include <string>

// The policy against this machine's run record, clock and warm containers: the
// few calls the runner, the reaper and `fod _prewarm` make. Never fatal: a
// record that cannot be written is skipped.
namespace fod::containers {

// Appends one run to the record: setup is the seconds until the container was
// ready (0 when it was warm), exec the seconds the command ran.
bool record_run(const std::string &command, const std::string &image, const std::string &key,
                double start, double setup, double exec, bool cold);

// Appends the reaper's removal of a container after idle seconds.
bool record_removal(const std::string &command, const std::string &image, const std::string &key,
                    double idle);

// The ttl in seconds the reaper applies now to a container of image last used
// at last_use under `ttl: auto` (reaper_ttl over the record).
double current_ttl(const std::string &image, double last_use, const adaptive::Settings &settings);

// Starts `fod _prewarm COMMAND` detached: its own session, stdin on /dev/null,
// output appended to the reaper log. The caller's directory and environment
// carry over, so pre-warmed containers are the ones its next run would use.
// Skipped (one stat) while a helper for command found nothing to do less than
// settings.ttl_min ago: calls in a burst spawn one helper, not one each.
void spawn_prewarm_helper(const std::string &command, const adaptive::Settings &settings);

// Marks that a helper for command found nothing to pre-warm now (nothing_to_do),
// or clears the mark.
void mark_prewarm_idle(const std::string &command, bool nothing_to_do);

// Cancels the pre-warms pending now: helpers started before this call end when
// they wake (`fod stop`). The next run spawns new ones.
void cancel_prewarm_helpers();

// Hooks for run_prewarm_helper on this machine: the record, the clock, a lock
// per command in the runtime directory for periodic waits (held until the
// process ends), and fod's warm containers with memory_of's limits. warm_key
// and start are left to the caller: they need the mapping and the runner.
adaptive::PrewarmHooks
default_prewarm_hooks(const std::function<std::uint64_t(const std::string &)> &memory_of,
                      double spawned_at);

} // namespace fod::containers
