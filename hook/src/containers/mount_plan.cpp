#include "containers/mount_plan.hpp"

#include "base/dirs.hpp"
#include "base/error.hpp"
#include "util/environment.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <dirent.h>
#include <fmt/format.h>
#include <map>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace fod::containers {

namespace {

[[noreturn]] void refuse(const std::string &path, const std::string &why) {
  throw UserError(status_engine_failure, fmt::format("refusing to mount {}: {}", path, why));
}

// Where the host path `inner` (inside bind's source) appears in the container.
std::string target_of(const engine::BindMount &bind, const std::string &inner) {
  return bind.target + inner.substr(bind.source.size());
}

// The binds of a plan by target; the first placed at a target stays, but a
// read-only one replaces a writable one placed by a rule (never one asked for).
class Binds {
public:
  void add(const engine::BindMount &bind, bool asked) {
    auto [it, inserted] = m_binds.try_emplace(bind.target, Placed{bind, asked});
    if (!inserted && !it->second.asked && bind.read_only) {
      it->second = Placed{bind, asked};
    }
  }
  bool has_target(const std::string &target) const { return m_binds.count(target) != 0; }
  // The binds whose source holds path, as they are now.
  std::vector<engine::BindMount> holding(const std::string &path) const {
    std::vector<engine::BindMount> found;
    for (const auto &[target, placed] : m_binds) {
      if (util::is_same_or_under(path, placed.bind.source)) {
        found.push_back(placed.bind);
      }
    }
    return found;
  }
  void make_read_only(const std::string &target) { m_binds.at(target).bind.read_only = true; }
  std::vector<engine::BindMount> all() const {
    std::vector<engine::BindMount> binds;
    for (const auto &[target, placed] : m_binds) {
      binds.push_back(placed.bind);
    }
    return binds;
  }

private:
  struct Placed {
    engine::BindMount bind;
    bool asked;
  };
  std::map<std::string, Placed> m_binds;
};

bool inside_any(const std::string &path, const std::vector<std::string> &dirs) {
  return std::any_of(dirs.begin(), dirs.end(),
                     [&](const std::string &dir) { return util::is_same_or_under(path, dir); });
}

// $HOME inside a writable bind: its top level read-only, what it holds but
// dot-entries writable as before.
void protect_home(Binds &binds, const HostView &host) {
  if (host.home.empty() || host.home == "/") {
    return;
  }
  for (const auto &bind : binds.holding(host.home)) {
    if (bind.read_only) {
      continue;
    }
    std::string home_target = target_of(bind, host.home);
    if (bind.source == host.home) {
      binds.make_read_only(bind.target);
    } else {
      binds.add({host.home, home_target, true}, false);
    }
    for (const auto &entry : host.home_entries()) {
      std::string source = util::join(host.home, entry.name);
      std::string target = util::join(home_target, entry.name);
      // A name that is not UTF-8 cannot be given to the engines: it stays read-only.
      if (entry.name[0] == '.' || !util::is_valid_utf8(entry.name) ||
          inside_any(source, host.private_dirs) || binds.has_target(target)) {
        continue;
      }
      binds.add({source, target, false}, false);
    }
  }
}

// Directories the host runs programs from, inside a writable bind: read-only.
void protect_read_only_dirs(Binds &binds, const HostView &host) {
  for (const auto &dir : host.read_only_dirs) {
    for (const auto &bind : binds.holding(dir)) {
      if (bind.read_only) {
        continue;
      }
      if (bind.source == dir) {
        binds.make_read_only(bind.target);
      } else {
        binds.add({dir, target_of(bind, dir), true}, false);
      }
    }
  }
}

// A mount point cannot be renamed, but its parent can: a container could move
// `cache` aside and make a `cache/fod` of its own, which the host would then
// use. So each directory between a writable bind's root and a path the plan
// protects (a hidden or read-only mount inside it) becomes a mount point too,
// a bind of itself as writable as before.
// The target of the innermost bind that holds target path `path`.
std::string deepest_target_holding(const std::vector<engine::BindMount> &binds,
                                   const std::string &path) {
  std::string deepest;
  for (const auto &bind : binds) {
    if (util::is_same_or_under(path, bind.target) && bind.target.size() > deepest.size()) {
      deepest = bind.target;
    }
  }
  return deepest;
}

void pin_parents(Binds &binds, const std::vector<std::string> &hidden_targets) {
  std::vector<std::string> protected_targets = hidden_targets;
  std::vector<engine::BindMount> all = binds.all();
  for (const auto &bind : all) {
    protected_targets.push_back(bind.target);
  }
  for (const auto &bind : all) {
    if (bind.read_only) {
      continue;
    }
    for (const auto &target : protected_targets) {
      if (target == bind.target || !util::is_same_or_under(target, bind.target)) {
        continue;
      }
      for (std::string parent = util::dirname(target); parent != bind.target;
           parent = util::dirname(parent)) {
        if (!util::is_same_or_under(parent, bind.target) || parent == "/") {
          break;
        }
        // Only where this bind is what the container sees (not inside a nested one
        // nor a hidden directory).
        if (deepest_target_holding(all, parent) == bind.target &&
            std::none_of(hidden_targets.begin(), hidden_targets.end(),
                         [&](const std::string &h) { return util::is_same_or_under(parent, h); })) {
          binds.add({bind.source + parent.substr(bind.target.size()), parent, false}, false);
        }
      }
    }
  }
}

} // namespace

bool is_system_path(const std::string &real) {
  static const char *const exact[] = {"/",      "/bin",    "/boot", "/etc", "/lib", "/lib32",
                                      "/lib64", "/libx32", "/sbin", "/usr", "/var"};
  static const char *const trees[] = {"/proc", "/sys", "/dev", "/run"};
  return std::any_of(std::begin(exact), std::end(exact),
                     [&](const char *dir) { return real == dir; }) ||
         std::any_of(std::begin(trees), std::end(trees),
                     [&](const char *dir) { return util::is_same_or_under(real, dir); });
}

MountPlan plan_mounts(const std::vector<MountRequest> &requests, const HostView &host) {
  Binds binds;
  for (const auto &request : requests) {
    auto real = host.real_path(request.source);
    if (!real) {
      if (request.is_root) {
        refuse(request.source, "it does not exist");
      }
      continue; // a missing config directory: the tool runs as if it had none
    }
    if (is_system_path(*real) || is_system_path(request.source)) {
      refuse(request.source, *real == request.source
                                 ? "it is a system directory; cd to a project directory first"
                                 : fmt::format("it is {}, a system directory", *real));
    }
    for (const auto &dir : host.private_dirs) {
      if (util::is_same_or_under(*real, dir)) {
        refuse(request.source, fmt::format("it is inside fod's own directory {}", dir));
      }
    }
    if (!util::is_valid_utf8(request.target) || !util::is_valid_utf8(*real)) {
      refuse(request.source, "the engines take only UTF-8 in a mount path");
    }
    // Their CSV reader turns "\r\n" into "\n": they would mount another path.
    if (request.target.find('\r') != std::string::npos || real->find('\r') != std::string::npos) {
      refuse(request.source, "the engines change a carriage return in a mount path");
    }
    // Inside a directory the host runs programs from: never writable.
    binds.add({*real, request.target, request.read_only || inside_any(*real, host.read_only_dirs)},
              true);
  }
  protect_home(binds, host);
  protect_read_only_dirs(binds, host);

  std::vector<std::string> hidden;
  for (const auto &dir : host.private_dirs) {
    for (const auto &bind : binds.holding(dir)) {
      hidden.push_back(target_of(bind, dir));
    }
  }
  // One hidden directory inside another is hidden already.
  std::sort(hidden.begin(), hidden.end());
  std::vector<std::string> outermost;
  for (const auto &path : hidden) {
    if (outermost.empty() || !util::is_same_or_under(path, outermost.back())) {
      outermost.push_back(path);
    }
  }
  pin_parents(binds, outermost);

  MountPlan plan;
  // Nothing is mounted inside a hidden directory (the shims' directory on PATH, say).
  for (auto &bind : binds.all()) {
    if (std::none_of(outermost.begin(), outermost.end(), [&](const std::string &h) {
          return util::is_same_or_under(bind.target, h);
        })) {
      plan.binds.push_back(std::move(bind));
    }
  }
  plan.hidden = std::move(outermost);
  return plan;
}

namespace {

std::optional<std::string> real_path(const std::string &path) {
  char buffer[PATH_MAX];
  if (realpath(path.c_str(), buffer) == nullptr) {
    return std::nullopt;
  }
  return std::string(buffer);
}

std::optional<PathFacts> stat_path(const std::string &path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return std::nullopt;
  }
  return PathFacts{S_ISDIR(st.st_mode), S_ISREG(st.st_mode), st.st_dev, st.st_ino};
}

std::optional<std::string> link_text(const std::string &path) {
  char buffer[PATH_MAX];
  ssize_t length = readlink(path.c_str(), buffer, sizeof buffer);
  if (length < 0 || static_cast<size_t>(length) >= sizeof buffer) {
    return std::nullopt;
  }
  return std::string(buffer, static_cast<size_t>(length));
}

std::vector<std::string> dot_links(const std::string &home) {
  std::vector<std::string> targets;
  DIR *dir = opendir(home.c_str());
  if (dir == nullptr) {
    return targets;
  }
  while (const dirent *e = readdir(dir)) {
    std::string name = e->d_name;
    if (name[0] != '.' || name == "." || name == "..") {
      continue;
    }
    struct stat st {};
    std::string path = util::join(home, name);
    if (lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
      if (auto real = real_path(path)) {
        targets.push_back(*real);
      }
    }
  }
  closedir(dir);
  return targets;
}

std::vector<HomeEntry> list_home(const std::string &home) {
  std::vector<HomeEntry> entries;
  DIR *dir = opendir(home.c_str());
  if (dir == nullptr) {
    return entries;
  }
  while (const dirent *e = readdir(dir)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") {
      continue;
    }
    unsigned char type = e->d_type;
    if (type == DT_UNKNOWN) {
      struct stat st {};
      if (lstat(util::join(home, name).c_str(), &st) != 0) {
        continue;
      }
      type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
    }
    if (type == DT_DIR || type == DT_REG) {
      entries.push_back({name, type == DT_DIR});
    }
  }
  closedir(dir);
  std::sort(entries.begin(), entries.end(),
            [](const HomeEntry &a, const HomeEntry &b) { return a.name < b.name; });
  return entries;
}

void add_real(std::vector<std::string> &dirs, util::RealPaths &real_paths,
              const std::string &path) {
  if (path.empty() || path[0] != '/') {
    return;
  }
  if (auto real = real_paths.resolve(path);
      real && std::find(dirs.begin(), dirs.end(), *real) == dirs.end()) {
    dirs.push_back(*real);
  }
}

} // namespace

HostView this_host(const std::string &home, const std::vector<std::string> &extra_read_only) {
  HostView host;
  // One memory of resolved paths for this view: its directories share their parents.
  auto real_paths = std::make_shared<util::RealPaths>();
  host.real_path = [real_paths](const std::string &path) { return real_paths->resolve(path); };
  host.home = real_paths->resolve(home).value_or(std::string());
  host.home_as_given = util::normalize_path(home);
  for (const auto &dir : dirs::private_dirs()) {
    // Made now if missing, or a container that can write its parent could make
    // it and fill it with what fod reads back.
    util::make_directories(dir, 0700);
    add_real(host.private_dirs, *real_paths, dir);
  }
  if (auto path = util::get_env("PATH")) {
    size_t start = 0;
    while (start <= path->size()) {
      size_t end = path->find(':', start);
      if (end == std::string::npos) {
        end = path->size();
      }
      add_real(host.read_only_dirs, *real_paths, path->substr(start, end - start));
      start = end + 1;
    }
  }
  add_real(host.read_only_dirs, *real_paths, util::dirname(dirs::fod_program()));
  for (const auto &dir : extra_read_only) {
    add_real(host.read_only_dirs, *real_paths, dir);
  }
  host.home_entries = [home = host.home] { return list_home(home); };
  host.stat = stat_path;
  host.link_text = link_text;
  host.home_dot_links = [home = host.home] { return dot_links(home); };
  return host;
}

} // namespace fod::containers
