#pragma once

#include "adaptive/settings.hpp"
#include "engine/engine.hpp"
#include "util/names.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fod::mapping {

// A container's network is the engine's notion; mappings name it.
using engine::Network;
using engine::network_names;
using engine::parse_network;
using engine::to_string;

// Where a definition came from: the layer ("package", "system", "user"), file and line.
struct Origin {
  std::string layer;
  std::string file;
  int line = 0;
};

// A host path mounted at the same path inside the container. path may start with "~".
struct Mount {
  std::string path;
  bool read_only = false;
};

// What a container mounts as its root: the project the current directory belongs to
// (the nearest directory holding .git, .hg, .jj or .svn), or the directory itself.
enum class MountRoot { project, cwd };
inline constexpr util::Name<MountRoot> mount_root_names[] = {{MountRoot::project, "project"},
                                                             {MountRoot::cwd, "cwd"}};

// One command -> image mapping, validated.
struct Entry {
  std::string name;
  std::string image;
  std::vector<std::string> entrypoint; // argv prefix inside the container
  Network network = Network::standard;
  std::vector<std::string> env; // host variables passed in, beyond the allowlist
  std::vector<Mount> mounts;
  std::vector<std::string> capabilities; // upper case, without "CAP_"
  std::optional<std::chrono::seconds> ttl;
  bool ttl_auto = false; // `ttl: auto`
  std::optional<std::string> memory;
  std::optional<int> pids;
  std::optional<MountRoot> mount_root; // config.yaml's when unset
  std::optional<bool> path_args;       // config.yaml's when unset
  Origin origin;
};

// Whether fod asks before pulling an image.
enum class Confirm { ask, never };
inline constexpr util::Name<Confirm> confirm_names[] = {{Confirm::ask, "ask"},
                                                        {Confirm::never, "never"}};
// What fod does when a tag resolves to another digest than the one approved.
enum class OnDigestChange { ask, allow, refuse };
inline constexpr util::Name<OnDigestChange> on_digest_change_names[] = {
    {OnDigestChange::ask, "ask"},
    {OnDigestChange::allow, "allow"},
    {OnDigestChange::refuse, "refuse"}};

// Settings from config.yaml, merged over the layers.
struct Config {
  std::string engine = "auto"; // auto | podman | docker
  std::chrono::seconds ttl{600};
  std::string memory = "2g";
  int pids = 1024;
  bool fast_path = true; // runs go through the agent in the warm container
  MountRoot mount_root = MountRoot::project;
  bool path_args = true; // paths named in arguments outside the root are mounted
  // `ttl: auto` (the default; ttl applies when it is off), its bounds, pre-warming.
  adaptive::Settings adaptive;
  Confirm confirm = Confirm::ask;
  OnDigestChange on_digest_change = OnDigestChange::ask;
  std::vector<std::string> insecure_registries; // host[:port] spoken to over plain HTTP
  std::vector<std::string> catalogs;            // registry/prefix probed for unmapped names
  // Image scopes ("registry[/prefix]") whose images must carry a cosign signature that one of
  // the PEM public keys (absolute paths) verifies. Layers merge it by scope.
  std::map<std::string, std::vector<std::string>> verify;
  // Team mappings: fod mappings artifacts (registry/repo:tag) fetched into the team layer, by
  // a detached helper at most every mapping_refresh, and by `fod update`.
  std::vector<std::string> mapping_sources;
  std::chrono::seconds mapping_refresh{3600};
  Network catalog_network = Network::standard; // the network of commands found in a catalog
  std::chrono::seconds registry_connect_timeout{2};
  std::chrono::seconds registry_timeout{5};
  std::chrono::seconds negative_cache_ttl{86400};
};

const char *to_string(MountRoot root);
const char *to_string(Confirm confirm);
const char *to_string(OnDigestChange change);
std::optional<Confirm> parse_confirm(const std::string &text);
std::optional<OnDigestChange> parse_on_digest_change(const std::string &text);

// Whether runs of entry use `ttl: auto`: the entry says so, or it sets no ttl
// and neither does the config.
inline bool uses_auto_ttl(const Entry &entry, const Config &config) {
  return !entry.ttl && (entry.ttl_auto || config.adaptive.ttl_auto);
}

// The merged result of every layer: what fod knows.
struct Mapping {
  std::map<std::string, Entry> entries;
  Config config;
  // One line per problem found while loading ("file:line: message").
  std::vector<std::string> diagnostics;

  // The entry for a command, if it is mapped.
  const Entry *find(const std::string &name) const {
    auto it = entries.find(name);
    return it == entries.end() ? nullptr : &it->second;
  }
};

} // namespace fod::mapping
