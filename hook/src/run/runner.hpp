#pragma once

#include "base/error.hpp"
#include "containers/mount_plan.hpp"
#include "containers/run_mounts.hpp"
#include "engine/argv.hpp"
#include "mapping/entry.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace fod::run {

// Everything needed to run one mapped command.
struct RunRequest {
  const mapping::Entry *entry = nullptr;
  const mapping::Config *config = nullptr;
  engine::Engine engine;
  std::vector<std::string> args; // after the command name
  // Called before a container is started, never on a warm run: may throw (ImageAbsent when
  // the image must be obtained first, as an image under a `verify:` scope not yet verified).
  std::function<void(const RunRequest &)> before_start;
};

// The directory a run mounts and works in: $PWD when it names the current
// directory (keeping the user's view of symlinked paths), else getcwd().
std::string current_directory();

// What a run in cwd mounts: its root (the project, or cwd: mount_root), the
// mapping's mounts, and the paths its arguments name outside the root (path_args).
struct RunMounts {
  std::string root;
  std::vector<containers::MountRequest> requests; // the root first
  std::vector<containers::ArgumentPath> arguments;
};
RunMounts run_mounts(const RunRequest &request, const std::string &cwd, const std::string &home,
                     const containers::HostView &host);

// The container spec for a run in cwd, without name and key labels, with its
// mounts planned on host (containers/mount_plan.hpp). Throws UserError (125) for a
// mount that must not be made (/, /usr, fod's own directories, ...).
engine::ContainerSpec container_spec(const RunRequest &request, const std::string &cwd,
                                     const std::string &home, const std::string &keeper_path,
                                     const containers::HostView &host);

// The same on this machine's host view (this_host), with home as $HOME.
engine::ContainerSpec container_spec(const RunRequest &request, const std::string &cwd,
                                     const std::string &home, const std::string &keeper_path);

// Thrown by run() when the engine does not have the image: nothing was started, and the
// caller may pull it and run again. Unhandled, it is the 125 "pull it first" error.
class ImageAbsent : public UserError {
public:
  using UserError::UserError;
};

// How a run's command ended, for fod to end the same way.
struct RunOutcome {
  int status = 0; // the status to exit with: the command's, 128+N for signal N
  int signal = 0; // a signal fod should die of to mirror the command, or 0
};

// Runs the command in its warm container, starting the container (and its
// reaper) when needed, and says how it ended.
RunOutcome execute(const RunRequest &request);

// Starts (or finds up) the warm container a run in the current directory would
// use, and its reaper, without running anything; returns its key. Throws
// UserError as run() does when the container cannot start.
std::string start_ahead(const RunRequest &request);

// The container a run in cwd would start: its key (its settings' family and
// exactly the mounts the run needs), its spec (mounts planned only when it
// starts: plan_mounts), and what it mounts for the run.
struct Target {
  std::string key;
  std::string family;
  engine::ContainerSpec spec;
  RunMounts mounts;
  std::vector<containers::Need> needs;
  containers::HostView host;
};
Target target_for(const RunRequest &request, const std::string &cwd);

// Plans target's mounts into its spec; throws UserError (125) as container_spec does.
void plan_mounts(Target &target);

// The key of the warm container that serves target: its own when it is up, else
// another of its family that mounts all it needs; nullopt when none is up.
std::optional<std::string> serving_key(const Target &target);

// In a zygote's child (cli/zygote.cpp) a run may take only the warm fast path, since
// the process is not the caller's own (its session, cgroup and terminal are the
// zygote's): before a container's start, a pull, fod-commands, or the engine's exec chosen
// before the agent was asked, the call is declined, and the caller's fod runs it itself.
// Once an agent was asked and did not take the run, the call is served on (by the
// engine's exec), as fod-run would, so that the agent is never asked twice.
// decline(why) must not return.
using Decline = void (*)(const char *why);
void serve_warm_only(Decline decline);

// Declines the call when serving warm only (see serve_warm_only); else returns.
void decline_unless_own_process(const char *why);

} // namespace fod::run
