#pragma once

#include "engine/argv.hpp"

#include <functional>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

// What a container may see of the host: the mounts a run asks for, turned into
// the binds and hidden paths the engine is given. The rules (README, "The
// container boundary"):
//   - a directory is mounted by its real path (links, "//" and ".." resolved
//     first); the system's own directories and anything under /proc, /sys, /dev
//     and /run are refused, and so is a directory inside one of fod's own;
//   - fod's own directories inside a mount are hidden (an empty read-only
//     directory in their place);
//   - where $HOME is mounted, its top level is read-only: dot-files and
//     dot-directories stay read-only and nothing new can be made there; the
//     files and directories it already holds that are not dot-files stay
//     writable;
//   - directories the host runs programs from or reads its mappings from (those
//     on PATH, fod's own programs, the package and system mapping layers) are
//     read-only inside a mount, and so is a mount of anything inside them;
//   - the engines take any byte in a path but those that are not UTF-8.
// Pure but for the HostView it is given: unit-tested without a container.
namespace fod::containers {

// One mount a run asks for.
struct MountRequest {
  std::string source; // as written (absolute, ~ already expanded)
  std::string target; // where the container sees it
  bool read_only = false;
  bool is_root = false; // the working directory's mount: refused rather than skipped
  // Served only by a mount of exactly this path, not by one of a directory above
  // (`mount_root: cwd`: the tool sees the directory alone).
  bool exact = false;
  bool resolved = false; // source is a real path already (an argument's): not resolved again
  // With resolved: "device:inode" of source as it was resolved, so that it is not
  // stat'ed again; empty: stat it.
  std::string identity{};
};

// What stat(2) says of a path, as far as mounts care.
struct PathFacts {
  bool directory = false;
  bool regular = false; // a regular file (else a socket, FIFO or device when not a directory)
  dev_t device = 0;
  ino_t inode = 0;
};

// An entry of the top level of $HOME.
struct HomeEntry {
  std::string name;
  bool is_directory = false; // else a regular file (links are not listed)
};

// The facts about the host the plan depends on.
struct HostView {
  std::string home;                      // real path of $HOME ("/" or empty: none)
  std::string home_as_given;             // $HOME as set, normalized (it may go through links)
  std::vector<std::string> private_dirs; // real paths of fod's own directories
  // Real paths of directories the host runs programs or reads mappings from.
  std::vector<std::string> read_only_dirs;
  // The real path of an existing path; nullopt when it does not exist.
  std::function<std::optional<std::string>(const std::string &)> real_path;
  // The top level of $HOME (not "." or ".."; no links).
  std::function<std::vector<HomeEntry>()> home_entries;
  // stat(2) of a path, following links; nullopt when it does not exist.
  std::function<std::optional<PathFacts>(const std::string &)> stat;
  // What a link holds; nullopt when the path is not a link.
  std::function<std::optional<std::string>(const std::string &)> link_text;
  // The real paths the dot-entries of $HOME that are links lead to (dot-files kept
  // elsewhere, as GNU stow does).
  std::function<std::vector<std::string>()> home_dot_links;
};

struct MountPlan {
  std::vector<engine::BindMount> binds; // sorted by target
  std::vector<std::string> hidden;      // sorted
};

// Whether a path may never be mounted: the system's directories (/, /usr, /etc,
// /usr/bin, ...: where the image keeps its own system) and anything under
// /proc, /sys, /dev, /run. Checked on the path as asked and as it resolves.
bool is_system_path(const std::string &real);

// The plan for requests on host. Missing sources are skipped, but a missing or
// refused root throws UserError (125) with one line that names the path and why.
MountPlan plan_mounts(const std::vector<MountRequest> &requests, const HostView &host);

// The HostView of this process with home as $HOME: fod's directories (made first
// if missing, or a container that can write their parent could make them),
// PATH's directories and fod's own, and extra_read_only (the keeper's, the
// mapping layers').
HostView this_host(const std::string &home, const std::vector<std::string> &extra_read_only);

} // namespace fod::containers
