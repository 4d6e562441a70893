#pragma once

#include "containers/records.hpp"

#include "engine/engine.hpp"

#include <optional>
#include <string>
#include <vector>

namespace fod::containers {

// Starts `fod ARGS...` detached: its own session, stdin on /dev/null, output
// appended to <state>/reaper.log, no job of the shell. Failure is silent: the
// caller's run goes on without its helper.
void spawn_detached(const std::vector<std::string> &args);

// Starts a detached reaper for the container: its own session, stdin on
// /dev/null, output appended to <state>/reaper.log, no job of the shell.
void spawn_reaper(const ContainerPaths &paths);

// The reaper's body: sleeps until the container has been idle for its ttl, then
// removes it, never while a run holds the lock, with the engine of the record's
// kind (engine::engine_of_kind with preferred). Returns when the container is
// gone or another reaper already watches it.
int reap(const ContainerPaths &paths, const std::optional<engine::Engine> &preferred);

} // namespace fod::containers
