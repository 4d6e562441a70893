#pragma once

#include "containers/records.hpp"
#include "engine/argv.hpp"

namespace fod::run {

// What came of running the engine's exec CLI.
struct EngineExecResult {
  int status = 0;               // the command's status, 128+N for signal N
  int raise_signal = 0;         // a signal fod should die of to mirror the command, or 0
  bool command_started = false; // the keeper recorded the command: it did run
  bool container_gone = false;  // the agent found no container: nothing ran, nothing was said
};

// Runs the exec argv and waits for it. Meanwhile SIGINT and SIGQUIT (when the
// command has no terminal of its own) and SIGTERM and SIGHUP are forwarded to
// the command through the keeper, because engine exec CLIs do not forward them.
EngineExecResult exec_through_engine(const engine::Engine &engine, const engine::ExecSpec &spec,
                                     const containers::ContainerPaths &paths);

} // namespace fod::run
