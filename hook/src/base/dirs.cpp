#include "base/dirs.hpp"

#include "util/environment.hpp"
#include "util/fs.hpp"

#include <fmt/format.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace fod::dirs {

namespace {

std::string xdg(const char *variable, const char *fallback_under_home) {
  auto base =
      util::get_env(variable).value_or(util::join(util::home_directory(), fallback_under_home));
  return util::join(base, "fod");
}

struct Runtime {
  std::string dir;
  std::optional<std::string> note;
};

Runtime find_runtime() {
  if (auto xdg_runtime = util::get_env("XDG_RUNTIME_DIR")) {
    std::string dir = util::join(*xdg_runtime, "fod");
    if (!util::make_private_directory(dir)) {
      throw std::runtime_error(fmt::format(
          "{} must be a directory that only you can access (mode 0700); remove or fix it", dir));
    }
    return {dir, std::nullopt};
  }
  // /tmp is shared: another user may have taken the name first (a squatter), or
  // made it a symlink. Then fod's state goes under the cache, which is the user's.
  std::string tmp = fmt::format("/tmp/fod-{}", getuid());
  if (util::make_private_directory(tmp)) {
    return {tmp, std::nullopt};
  }
  std::string fallback = util::join(cache(), "run");
  if (!util::make_directories(util::dirname(fallback), 0700) ||
      !util::make_private_directory(fallback)) {
    throw std::runtime_error(
        fmt::format("{} is not yours and {} cannot be used either; set XDG_RUNTIME_DIR to a "
                    "private directory",
                    tmp, fallback));
  }
  return {fallback, fmt::format("{} belongs to another user or is not private; fod keeps its "
                                "runtime files in {} instead (set XDG_RUNTIME_DIR to choose)",
                                tmp, fallback)};
}

// Found once per process (and again if the environment it depends on changes).
const Runtime &runtime_once() {
  static std::optional<std::pair<std::string, Runtime>> found;
  std::string inputs = util::get_env("XDG_RUNTIME_DIR").value_or("-") + "\n" + cache();
  if (!found || found->first != inputs) {
    found.emplace(inputs, find_runtime());
  }
  return found->second;
}

} // namespace

std::string fod_program() {
  if (auto given = util::get_env("FOD_PROGRAM"); given && (*given)[0] == '/') {
    return *given;
  }
  return util::executable_path();
}

namespace {

// A helper program of fod's: see keeper_program().
std::string program(const char *override_variable, const char *name) {
  if (auto over = util::get_env(override_variable)) {
    return *over;
  }
  std::string exe_dir = util::dirname(fod_program());
  std::string installed = util::join(util::join(util::dirname(exe_dir), "libexec/fod"), name);
  if (access(installed.c_str(), X_OK) == 0) {
    return installed;
  }
  return util::join(exe_dir, name);
}

} // namespace

std::string keeper_program() {
  return program("FOD_KEEPER", "fod-keeper");
}

std::string registry_program() {
  return program("FOD_REGISTRY", "fod-registry");
}

std::string commands_program() {
  return program("FOD_COMMANDS", "fod-commands");
}

std::string package_mappings() {
  return util::get_env("FOD_DATADIR")
      .value_or(util::join(util::dirname(util::dirname(fod_program())), "share/fod"));
}

std::string system_config() {
  return util::get_env("FOD_SYSCONFDIR").value_or("/etc/fod");
}

std::string runtime() {
  return runtime_once().dir;
}

std::optional<std::string> runtime_fallback_note() {
  return runtime_once().note;
}

std::string state() {
  return xdg("XDG_STATE_HOME", ".local/state");
}

std::string team_mappings() {
  return util::join(state(), "team");
}

std::string cache() {
  return xdg("XDG_CACHE_HOME", ".cache");
}

std::string config() {
  return xdg("XDG_CONFIG_HOME", ".config");
}

std::string shims() {
  if (auto dir = util::get_env("FOD_SHIM_DIR")) {
    return *dir;
  }
  return util::join(cache(), "shims");
}

std::vector<std::string> private_dirs() {
  std::vector<std::string> dirs = {runtime(), state(), cache(), config(), shims()};
  // The session's runtime directory holds the sockets of the user's services (the
  // session bus, which starts programs on request, the engine's, agents').
  if (auto xdg_runtime = util::get_env("XDG_RUNTIME_DIR")) {
    dirs.push_back(*xdg_runtime);
  }
  return dirs;
}

} // namespace fod::dirs
