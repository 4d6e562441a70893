#pragma once

#include "engine/engine.hpp"

#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace fod::engine {

// Paths inside every warm container.
inline constexpr const char *keeper_in_container = "/.fod/keeper";
inline constexpr const char *box_in_container = "/.fod/run";

struct BindMount {
  std::string source;
  std::string target;
  bool read_only = false;
};

// Everything that defines a warm container. Two runs share a container when
// their settings are equal (settings_key) and it mounts all the run needs
// (containers/run_mounts.hpp).
struct ContainerSpec {
  std::string name;
  std::string runtime; // id of fod's runtime directory: containers of two never share
  std::string image;
  std::map<std::string, std::string> labels;
  std::string keeper_path; // host path of fod-keeper, mounted read-only
  std::string box_dir;     // host directory for the keeper's lock, FIFO and sessions
  std::vector<BindMount> binds;
  // Paths inside binds that the container sees as empty read-only directories
  // (fod's own directories: see containers/mount_plan.hpp).
  std::vector<std::string> hidden;
  std::string home;           // HOME inside the container (the caller's path)
  bool home_on_tmpfs = false; // HOME is not otherwise mounted: give it a writable tmpfs
  bool tmp_on_tmpfs = true;   // many images lack a /tmp
  Network network = Network::standard;
  std::vector<std::string> capabilities;
  std::string memory;
  int pids = 0;
  // --user: the caller's ids for rootful engines, 0:0 (the caller, mapped) for
  // rootless podman, whatever USER the image names.
  std::optional<std::pair<uid_t, gid_t>> user;
};

// The engine argv that starts the warm container detached, the keeper as its
// main process. Pure: the same spec always gives the same argv.
std::vector<std::string> run_detached_argv(const Engine &engine, const ContainerSpec &spec);

// One command to run in a warm container.
struct ExecSpec {
  std::string container;
  std::string image; // for the keeper's "not in image" message
  std::string workdir;
  std::string session;                // names the session file the keeper writes its pid to
  bool interactive = true;            // -i: attach stdin
  bool tty = false;                   // -t
  unsigned short rows = 0;            // the caller's terminal size, given to the command's
  unsigned short cols = 0;            // terminal before it starts (0: unknown)
  std::vector<std::string> env_names; // passed by name: values never appear in argv
  std::vector<std::string> command;
};

// The engine argv that runs spec.command in the warm container through the keeper.
std::vector<std::string> exec_argv(const Engine &engine, const ExecSpec &spec);

// Removes a container, killing it at once; no error when it is already gone.
std::vector<std::string> remove_argv(const Engine &engine, const std::string &container);

// Lists the names of the containers fod started for uid; each of labels ("key" or
// "key=value") narrows the list to the containers that carry it.
std::vector<std::string> list_argv(const Engine &engine, uid_t uid,
                                   const std::vector<std::string> &labels = {});

// Prints the host directory bind-mounted at box_in_container (the keeper's box)
// of one container, or nothing when it has none.
std::vector<std::string> box_source_argv(const Engine &engine, const std::string &container);

// Pulls image (registry/repository@sha256:...), after "--" so that no image name is ever
// read as an option. insecure: podman may use plain HTTP or skip TLS verification for it;
// docker has no per-pull flag: its daemon speaks plain HTTP to 127.0.0.0/8 and to the
// registries in its daemon.json "insecure-registries".
std::vector<std::string> pull_argv(const Engine &engine, const std::string &image, bool insecure);

// Gives the image source (a pulled digest) the name image, both after "--".
std::vector<std::string> tag_argv(const Engine &engine, const std::string &source,
                                  const std::string &image);

// Prints format (a Go template) for image, after "--"; fails when the engine lacks image.
std::vector<std::string> image_inspect_argv(const Engine &engine, const std::string &format,
                                            const std::string &image);

// A stable identity for everything in a spec but its mounts (binds, hidden and
// the tmpfs that follow from them): the same for the same runtime directory,
// image, user and limits, whatever the container's name. 128 bits of SHA-256 (32
// hex digits): fields in the spec may be chosen by someone else, so two specs must
// not be made to collide. The mounts are keyed by containers/run_mounts.hpp.
std::string settings_key(const Engine &engine, const ContainerSpec &spec);

} // namespace fod::engine
