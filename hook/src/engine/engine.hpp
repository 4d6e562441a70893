#pragma once

#include "util/names.hpp"

#include <optional>
#include <string>

namespace fod::engine {

enum class Kind { podman, docker };
inline constexpr util::Name<Kind> kind_names[] = {{Kind::podman, "podman"},
                                                  {Kind::docker, "docker"}};

const char *to_string(Kind kind);

// A container's network: none, the engine's default, or the host's.
enum class Network { none, standard, host };
inline constexpr util::Name<Network> network_names[] = {
    {Network::none, "none"}, {Network::standard, "default"}, {Network::host, "host"}};

// "none", "default", "host".
const char *to_string(Network network);
std::optional<Network> parse_network(const std::string &text);

// The container engine fod drives, through its CLI.
struct Engine {
  Kind kind = Kind::podman;
  std::string cli;       // what is executed: a name looked up in PATH, or a path
  bool rootless = false; // podman run by a non-root user: its user namespace maps
                         // container root to the caller, so no --user is needed
};

// Picks the engine: $FOD_ENGINE (podman, docker, or a path to either CLI) beats
// the configured choice ("auto", "podman", "docker"); auto prefers podman, then
// docker, as found in PATH. nullopt when the chosen CLI cannot be found, with
// the reason in *why.
std::optional<Engine> select_engine(const std::string &configured, std::string *why);

// The engine to act on a container fod started with kind: preferred when it is
// of that kind (the engine this run selected), else the CLI of that name in
// PATH. The program is never taken from fod's records. nullopt when none.
std::optional<Engine> engine_of_kind(Kind kind, const std::optional<Engine> &preferred);

// util::find_in_path (PATH's absolute directories only); empty when absent.
std::string find_in_path(const std::string &name);

} // namespace fod::engine
