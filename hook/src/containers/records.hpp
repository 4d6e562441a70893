#pragma once

#include "adaptive/settings.hpp"
#include "containers/run_mounts.hpp"
#include "engine/engine.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace fod::containers {

// The id of dirs::runtime(): a hash of its canonical path. Containers carry it in
// their key and in the label fod.runtime, so that two runtime directories of one
// user (a desktop session's and an ssh session's) never share or touch each
// other's containers.
std::string runtime_id();

// The files that coordinate one warm container, under <runtime>/c/<key>/.
// box/ is bind-mounted into the container, which may change anything in it: the
// host touches it only through containers/box.hpp. The rest is seen only by the host.
struct ContainerPaths {
  explicit ContainerPaths(std::string directory) : dir(std::move(directory)) {}
  std::string dir;
  std::string lock() const { return dir + "/lock"; }          // runs: shared; removal: exclusive
  std::string reaper_lock() const { return dir + "/reaper"; } // held by the live reaper
  std::string stamp() const { return dir + "/stamp"; }        // mtime = last use
  std::string info() const { return dir + "/info.json"; }
  std::string box() const { return dir + "/box"; }
};

// The paths for the container with this key.
ContainerPaths paths_for_key(const std::string &key);

// The paths of a container directory given on the command line (`fod _reap DIR`):
// only a directory of this runtime directory named by a key; nullopt otherwise.
std::optional<ContainerPaths> paths_for_dir(const std::string &dir);

// Whether text has the form of a container key (this fod's, or an older one's).
bool is_key(const std::string &text);

// fod's own record of a warm container, so that a warm run asks the engine nothing.
struct Info {
  std::string key;
  std::string container;
  std::string runtime; // runtime_id() of its runtime directory; empty: started by an older fod
  std::string image;
  std::string root; // the root a run asked for: the project, or the directory it ran in
  // The family of its settings (containers/run_mounts.hpp) and what it mounts, so
  // that runs needing no more than it has use it; an older fod's record has none.
  std::string family;
  MountedView mounted;
  // The engine's kind and mode; the record never names the engine's program
  // (engine.cli is empty when read): whoever acts on it finds the CLI itself.
  engine::Engine engine;
  std::vector<std::string> commands; // the commands that have run in it
  // The longest fixed ttl among its commands (0 when all use `ttl: auto`); with
  // `adaptive` set (some command uses `ttl: auto`) the reaper keeps the container
  // for the longer of this and what the policy gives.
  std::chrono::seconds ttl{600};
  std::optional<adaptive::Settings> adaptive;
  double created = 0;
};

// The record is two lines of JSON: the container, then what it mounts. A warm run
// of the container's own key needs only the first (the key stands for the mounts);
// a run that may be served by another container needs both (serves()).
enum class RecordPart { whole, without_mounts };
std::optional<Info> read_info(const ContainerPaths &paths, RecordPart part = RecordPart::whole);

// The container's ttl as `fod which` shows it: "10m", "auto", or "auto, at
// least 10m" when it is shared by fixed and auto commands; compact (`fod ps`'s
// column): "auto>=10m".
std::string describe_ttl(const Info &info, bool compact = false);

// Writes the record atomically, mounts and all; false when it could not be written
// (a full disk).
bool write_info(const ContainerPaths &paths, const Info &info);

// Removes the record and the box (`fod stop`, gc and the reaper, once the
// container is gone); the caller holds the lock exclusively.
void forget(const ContainerPaths &paths);

// Every container directory with a record, for ps, stop and gc.
std::vector<std::pair<ContainerPaths, Info>> list_recorded();

// The key of the container that last served a run of this family that had no
// container of its own key (<runtime>/served/<family>): tried before every record
// is read, and checked as any record is (serves()), so a stale or wrong hint costs
// one record read. nullopt when there is none or it does not hold a key.
std::optional<std::string> serving_hint(const std::string &family);
void remember_serving(const std::string &family, const std::string &key);

// The keeper holds its lock: the container is running.
bool keeper_alive(const ContainerPaths &paths);

// A reaper holds its lock.
bool reaper_alive(const ContainerPaths &paths);

// Seconds since the container was last used.
double idle_seconds(const ContainerPaths &paths, const Info &info);

// Seconds since the epoch, as a double.
double now_seconds();

} // namespace fod::containers
