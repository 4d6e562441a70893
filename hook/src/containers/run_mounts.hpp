#pragma once

#include "containers/mount_plan.hpp"
#include "engine/argv.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

// What one run needs to see of the host, and which warm container can give it
// (README, "How a run works"):
//   - the root: the project the current directory belongs to (or the directory
//     itself), mounted at its own path;
//   - each path an argument names outside the root, mounted at the path the
//     tool will open; arguments are never rewritten;
//   - the mapping's `mounts`.
// A container is keyed by its settings (the family) and by this mount set; a warm
// container of the same family whose mounts show everything a run needs, the same
// way, serves that run too. Pure but for the HostView it is given.
namespace fod::containers {

// The directory a run in cwd mounts as its root with `mount_root: project`: the
// nearest of cwd and its parents that holds .git, .hg, .jj or .svn; cwd when none
// does. Never above $HOME when cwd is under it, nor $HOME itself unless cwd is
// $HOME (a dot-files repository in ~ would make all of $HOME one project), nor a
// system directory.
std::string project_root(const std::string &cwd, const HostView &host);

// Whether dir holds .git, .hg, .jj or .svn.
bool is_project(const std::string &dir, const HostView &host);

// One path an argument names outside the root.
struct ArgumentPath {
  std::string argument;              // as given
  std::string path;                  // absolute, as the tool in the container will open it
  std::optional<MountRequest> mount; // nullopt: nothing is mounted for it (see note)
  std::string note;                  // why nothing, or what is mounted in its place
};

// The paths args name outside root, for a run whose working directory is cwd. An
// argument names a path when it is one (or is the value of --opt=PATH) and the path
// exists, or its directory does (an output file: the directory is mounted).
// Files under the system's directories are mounted read-only one by one; their
// directories, /proc, /sys, /dev, /run, anything that holds $HOME or fod's own
// directories are not mounted. At most max_argument_mounts are.
std::vector<ArgumentPath> argument_paths(const std::vector<std::string> &args,
                                         const std::string &cwd, const std::string &root,
                                         const HostView &host);
inline constexpr std::size_t max_argument_mounts = 64;

// A mount a run needs, resolved: the host path (links resolved) seen at target.
struct Need {
  std::string target;
  std::string source; // real path
  bool read_only = false;
  std::string identity; // "device:inode" of source: a replaced file or directory is another
  bool exact = false;   // MountRequest::exact
};

// The needs of requests on host; a missing source is left out (the mapping's
// config directory that does not exist), a missing root throws as plan_mounts does.
std::vector<Need> resolve_needs(const std::vector<MountRequest> &requests, const HostView &host);

// "device:inode" of path on host ("-" when it does not exist): a Need's identity.
std::string identity(const std::string &path, const HostView &host);

// The family of containers with these settings (engine::settings_key) on host:
// what must be equal for one container to serve another's run.
std::string family_key(const std::string &settings, const HostView &host);

// The key of the container of family that mounts exactly needs.
std::string container_key(const std::string &family, const std::vector<Need> &needs,
                          const HostView &host);

// What a warm container mounts, as recorded when it started.
struct MountedView {
  std::vector<engine::BindMount> binds;
  std::vector<std::string> hidden;
  std::map<std::string, std::string> identities; // target -> identity of its source, each bind
};

// Whether a container that mounts view shows each of needs at its target, from the
// same host path, as writable as asked, and not replaced since (a bind without a
// recorded identity serves nothing).
bool serves(const MountedView &view, const std::vector<Need> &needs, const HostView &host);

} // namespace fod::containers
