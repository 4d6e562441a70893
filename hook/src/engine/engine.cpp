#include "engine/engine.hpp"

#include "util/environment.hpp"
#include "util/fs.hpp"
#include "util/process.hpp"

#include <fmt/format.h>
#include <unistd.h>

namespace fod::engine {

const char *to_string(Network network) {
  return util::name_of(network_names, network);
}

std::optional<Network> parse_network(const std::string &text) {
  return util::value_of(network_names, text);
}

const char *to_string(Kind kind) {
  return util::name_of(kind_names, kind);
}

std::string find_in_path(const std::string &name) {
  return util::find_in_path(name).value_or(std::string());
}

namespace {

Engine make(Kind kind, std::string cli) {
  return Engine{kind, std::move(cli), kind == Kind::podman && geteuid() != 0};
}

} // namespace

std::optional<Engine> engine_of_kind(Kind kind, const std::optional<Engine> &preferred) {
  if (preferred && preferred->kind == kind) {
    return preferred;
  }
  std::string found = find_in_path(to_string(kind));
  if (found.empty()) {
    return std::nullopt;
  }
  return make(kind, found);
}

std::optional<Engine> select_engine(const std::string &configured, std::string *why) {
  std::string choice = util::get_env("FOD_ENGINE").value_or(configured);
  if (choice.find('/') != std::string::npos) {
    std::string base = util::basename(choice);
    Kind kind = base.find("docker") != std::string::npos ? Kind::docker : Kind::podman;
    if (!util::find_in_path(choice)) {
      *why = fmt::format("FOD_ENGINE={} is not an executable", choice);
      return std::nullopt;
    }
    return make(kind, choice);
  }
  if (choice == "podman" || choice == "docker") {
    Kind kind = choice == "podman" ? Kind::podman : Kind::docker;
    std::string found = find_in_path(choice);
    if (found.empty()) {
      *why = fmt::format("{} was chosen as the engine but is not installed (not in PATH)", choice);
      return std::nullopt;
    }
    return make(kind, found);
  }
  if (choice != "auto") {
    *why = fmt::format("unknown engine '{}': use auto, podman, docker or a path to one", choice);
    return std::nullopt;
  }
  for (Kind kind : {Kind::podman, Kind::docker}) {
    std::string found = find_in_path(to_string(kind));
    if (!found.empty()) {
      return make(kind, found);
    }
  }
  *why = "no container engine found: install podman or docker, or set FOD_ENGINE";
  return std::nullopt;
}

} // namespace fod::engine
