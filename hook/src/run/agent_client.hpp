#pragma once

#include "containers/records.hpp"
#include "engine/argv.hpp"
#include "mapping/entry.hpp"
#include "run/engine_exec.hpp"

#include <optional>
#include <string>

namespace fod::run {

// Why runs with this config and engine cannot take the fast path (the agent in
// the warm container), or nullopt when they can: `fast_path: false`, or an
// engine on another machine (DOCKER_HOST / CONTAINER_HOST not a unix socket).
std::optional<std::string> fast_path_unusable(const mapping::Config &config,
                                              const engine::Engine &engine);

// Why this process's stdin, stdout or stderr may not be handed to the agent
// (a socket, a directory, a device other than /dev/null and the like: only
// regular files, pipes and those devices cross; a terminal is relayed), or
// nullopt when all may. The run then takes the engine's exec, which relays.
std::optional<std::string> stdio_unfit_for_agent();

// The streams among 0-2 (bit i: fd i) that are terminals: they go to a pseudo-terminal
// of the command's own, never into the container.
unsigned terminal_streams();

// A run as the agent reads it, encoded once, before fod connects: the payload and how
// many items it holds, and the streams given a pseudo-terminal (their T, M and W items
// read the caller's terminal now; the environment named by the spec is read now too).
struct AgentRequest {
  unsigned streams{};
  std::string payload;
  size_t items{};
};
AgentRequest encode_agent_request(const engine::ExecSpec &spec, unsigned streams);

// Why the agent would not read this request (more items or bytes than the protocol
// allows), or nullopt when it would.
std::optional<std::string> request_unfit_for_agent(const AgentRequest &request);

// Runs request, spec encoded, through the agent of the container at paths, with
// fod's own stdin, stdout and stderr, and waits for it like exec_through_engine (spec
// names the image and command in messages); the streams that are terminals get a
// pseudo-terminal of the command's own, relayed by fod. nullopt when the agent did not
// take the run (no socket, no listener, another version): the command has not started
// and the caller may run it another way.
std::optional<EngineExecResult> run_via_agent(const containers::ContainerPaths &paths,
                                              const engine::ExecSpec &spec,
                                              const AgentRequest &request);

} // namespace fod::run
