#pragma once

#include "base/error.hpp"
#include "containers/mount_plan.hpp"
#include "engine/argv.hpp"
#include "mapping/entry.hpp"

#include <string>
#include <vector>

namespace fod::run {

// Everything needed to run one mapped command.
struct RunRequest {
  const mapping::Entry *entry = nullptr;
  const mapping::Config *config = nullptr;
  engine::Engine engine;
  std::vector<std::string> args; // after the command name
};

// The directory a run mounts and works in: $PWD when it names the current
// directory (keeping the user's view of symlinked paths), else getcwd().
std::string current_directory();

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

// The key and engine record of the warm container a run in cwd would use.
struct Target {
  std::string key;
  engine::ContainerSpec spec;
};
Target target_for(const RunRequest &request, const std::string &cwd);

} // namespace fod::run
