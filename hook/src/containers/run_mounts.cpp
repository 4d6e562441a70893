#include "containers/run_mounts.hpp"

#include "base/error.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <string_view>

namespace fod::containers {

namespace {

bool inside_any(const std::string &path, const std::vector<std::string> &dirs) {
  return std::any_of(dirs.begin(), dirs.end(),
                     [&](const std::string &dir) { return util::is_same_or_under(path, dir); });
}

bool holds_any(const std::string &path, const std::vector<std::string> &dirs) {
  return std::any_of(dirs.begin(), dirs.end(),
                     [&](const std::string &dir) { return util::is_same_or_under(dir, path); });
}

// The trees the image keeps its own system in: their files are lent read-only one
// by one, their directories never.
bool in_system_tree(const std::string &path) {
  static const char *const trees[] = {"/bin",   "/boot",   "/etc",  "/lib", "/lib32",
                                      "/lib64", "/libx32", "/sbin", "/usr"};
  return std::any_of(std::begin(trees), std::end(trees),
                     [&](const char *tree) { return util::is_same_or_under(path, tree); });
}

bool in_kernel_tree(const std::string &path) {
  static const char *const trees[] = {"/proc", "/sys", "/dev", "/run"};
  return std::any_of(std::begin(trees), std::end(trees),
                     [&](const char *tree) { return util::is_same_or_under(path, tree); });
}

std::string identity_of(const std::optional<PathFacts> &facts) {
  return facts ? fmt::format("{}:{}", facts->device, facts->inode) : std::string("-");
}

// Where a link inside root leads the tool first once it leaves root: the path the
// container must show (the tool follows the link text, not the host's real path).
std::string first_step_out(const std::string &path, const std::string &root,
                           const std::string &real, const HostView &host) {
  std::string current = path;
  for (int hop = 0; hop < 16; ++hop) {
    auto text = host.link_text(current);
    if (!text || text->empty()) {
      break;
    }
    std::string next =
        util::lexically_normal((*text)[0] == '/' ? *text : util::dirname(current) + "/" + *text);
    if (!util::is_same_or_under(next, root)) {
      return next;
    }
    current = next;
  }
  return real; // a link in a middle part of the path: its real path is the best guess
}

class ArgumentPlanner {
public:
  ArgumentPlanner(const std::string &root, const HostView &host)
      : m_root(root), m_real_root(host.real_path(root).value_or(root)), m_host(host) {}

  void consider(const std::string &argument, const std::string &cwd) {
    std::string value = argument;
    if (!value.empty() && value[0] == '-') {
      auto equals = value.find('=');
      if (equals == std::string::npos) {
        return; // an option; its value, if any, is the next argument
      }
      value = value.substr(equals + 1);
    }
    if (value.empty()) {
      return;
    }
    // As the container resolves it: its mount points are plain directories, so
    // ".." goes up the path as written.
    const std::string path = util::lexically_normal(value[0] == '/' ? value : cwd + "/" + value);
    const bool inside = util::is_same_or_under(path, m_root);
    if (auto facts = m_host.stat(path)) {
      auto real = m_host.real_path(path).value_or(path);
      if (!inside) {
        add(argument, path, path, real, *facts, "");
      } else if (!util::is_same_or_under(real, m_real_root)) {
        // A link out of the root. A container may have made it (it can write the
        // root), so it is followed to a regular file only, lent read-only.
        if (!facts->regular) {
          m_paths.push_back({argument, path, std::nullopt,
                             "not mounted: a link out of the project to anything but a file is "
                             "not followed (a container could have made it)"});
          return;
        }
        add(argument, path, first_step_out(path, m_root, real, m_host), real, *facts,
            "read-only: a link out of the project");
      }
      return;
    }
    // Not there yet: an output file, when its directory is.
    const std::string parent = util::dirname(path);
    if (util::is_same_or_under(parent, m_root)) {
      return;
    }
    auto parent_facts = m_host.stat(parent);
    if (!parent_facts || !parent_facts->directory) {
      return;
    }
    add(argument, path, parent, m_host.real_path(parent).value_or(parent), *parent_facts,
        "its directory, for a new file");
  }

  std::vector<ArgumentPath> take() { return std::move(m_paths); }

private:
  void add(const std::string &argument, const std::string &path, const std::string &target,
           const std::string &real, const PathFacts &facts, const std::string &how) {
    ArgumentPath found{argument, path, std::nullopt, how};
    const bool link_out = how.rfind("read-only: a link", 0) == 0;
    if (auto why_not = refusal(target, real, facts)) {
      found.note = *why_not;
    } else if (reaches_home_dot_entry(real) && !in_home_dot_entry(path)) {
      // A link a container could have made (in the project, say) must not lend it
      // a key or a token: only a dot-file named as itself is mounted.
      found.note = "not mounted: a link into a dot-file of $HOME; name the file itself";
    } else if (!util::is_valid_utf8(target) || !util::is_valid_utf8(real)) {
      add_utf8_ancestor(found, target);
      return;
    } else if (auto first = m_mounted.find(target); first != m_mounted.end()) {
      found.mount = first->second; // one mount per target, as the first asked for it
    } else if (m_mounted.size() == max_argument_mounts) {
      found.note = fmt::format("not mounted: more than {} paths", max_argument_mounts);
    } else {
      const bool system = in_system_tree(real) || in_system_tree(target);
      const bool read_only = system || link_out || inside_any(real, m_host.read_only_dirs);
      found.mount = MountRequest{real, target, read_only, false, false, true, identity_of(facts)};
      if (read_only && found.note.empty()) {
        found.note =
            system ? "read-only: a system file" : "read-only: the host runs programs from there";
      }
      m_mounted.emplace(target, *found.mount);
    }
    m_paths.push_back(std::move(found));
  }

  // The engines take only UTF-8 in a mount path: the nearest directory above that
  // is UTF-8 is mounted in its place (inside the root, it is there already).
  void add_utf8_ancestor(ArgumentPath &found, const std::string &target) {
    std::string dir = util::dirname(target);
    while (dir != "/" && !util::is_valid_utf8(dir)) {
      dir = util::dirname(dir);
    }
    if (util::is_same_or_under(dir, m_root) && dir != "/") {
      return;
    }
    auto real = m_host.real_path(dir).value_or(dir);
    if (!util::is_valid_utf8(real)) {
      found.note = "not mounted: the engines take only UTF-8 in a mount path";
      m_paths.push_back(std::move(found));
      return;
    }
    auto facts = m_host.stat(real);
    if (!facts || !facts->directory) {
      return; // gone since its file was found: nothing to lend
    }
    add(found.argument, found.path, dir, real, *facts,
        "its directory: the engines take only UTF-8 in a mount path");
  }

  // Whether path lies in a dot-file or dot-directory of $HOME, as spelled.
  bool in_home_dot_entry(const std::string &path) const {
    for (const std::string *home : {&m_host.home, &m_host.home_as_given}) {
      if (!home->empty() && *home != "/" && path.size() > home->size() + 1 &&
          util::is_same_or_under(path, *home) && path[home->size() + 1] == '.') {
        return true;
      }
    }
    return false;
  }

  // Whether a real path lies in a dot-entry of $HOME, or where one of them that is
  // a link leads (~/.ssh -> ~/dotfiles/ssh).
  bool reaches_home_dot_entry(const std::string &real) const {
    if (in_home_dot_entry(real)) {
      return true;
    }
    if (!m_host.home_dot_links || m_host.home.empty() || m_host.home == "/" ||
        !util::is_same_or_under(real, m_host.home)) {
      return false;
    }
    if (!m_dot_links) {
      m_dot_links = m_host.home_dot_links();
    }
    return inside_any(real, *m_dot_links);
  }

  std::optional<std::string> refusal(const std::string &target, const std::string &real,
                                     const PathFacts &facts) const {
    const bool directory = facts.directory;
    if (in_kernel_tree(target) || in_kernel_tree(real)) {
      return "not mounted: under /proc, /sys, /dev or /run, the container has its own";
    }
    if (!facts.directory && !facts.regular) {
      return "not mounted: sockets, FIFOs and devices are never lent to a container";
    }
    if (target.find('\r') != std::string::npos || real.find('\r') != std::string::npos) {
      return "not mounted: the engines change a carriage return in a mount path";
    }
    if (is_system_path(target) || is_system_path(real) ||
        (directory && (in_system_tree(target) || in_system_tree(real)))) {
      return "not mounted: a system directory, the image's own is used";
    }
    if (!m_host.home.empty() && m_host.home != "/" &&
        (util::is_same_or_under(m_host.home, real) ||
         util::is_same_or_under(m_host.home, target))) {
      return "not mounted: $HOME is never mounted whole but as a project root";
    }
    if (inside_any(real, m_host.private_dirs) || holds_any(real, m_host.private_dirs)) {
      return "not mounted: it is or holds fod's own directory";
    }
    if (util::is_same_or_under(target, "/.fod")) {
      return "not mounted: /.fod is fod's own place in the container";
    }
    return std::nullopt;
  }

  std::string m_root;
  std::string m_real_root;
  const HostView &m_host;
  std::vector<ArgumentPath> m_paths;
  std::map<std::string, MountRequest> m_mounted; // by target
  mutable std::optional<std::vector<std::string>> m_dot_links;
};

// A FieldHash that also takes a list, its length first.
class KeyHash {
public:
  KeyHash &add(std::string_view field) {
    m_hash.add(field);
    return *this;
  }
  KeyHash &add(const std::vector<std::string> &fields) {
    m_hash.add(std::to_string(fields.size()));
    for (const auto &field : fields) {
      m_hash.add(field);
    }
    return *this;
  }
  std::string hex() { return m_hash.hex(16); }

private:
  util::FieldHash m_hash;
};

} // namespace

bool is_project(const std::string &dir, const HostView &host) {
  static const char *const markers[] = {".git", ".hg", ".jj", ".svn"};
  return std::any_of(std::begin(markers), std::end(markers), [&](const char *marker) {
    return host.stat(util::join(dir, marker)).has_value();
  });
}

std::string project_root(const std::string &cwd, const HostView &host) {
  // $HOME as cwd spells it: its real path, or $HOME as set (a link to it).
  std::string home;
  for (const std::string *spelling : {&host.home, &host.home_as_given}) {
    if (!spelling->empty() && *spelling != "/" && util::is_same_or_under(cwd, *spelling)) {
      home = *spelling;
    }
  }
  if (home == cwd) {
    return cwd;
  }
  for (std::string dir = cwd;; dir = util::dirname(dir)) {
    if (dir == home || dir == "/" || is_system_path(dir)) {
      break;
    }
    if (is_project(dir, host)) {
      return dir;
    }
    // Never up into a dot-directory of $HOME from below it (a repository of
    // ~/.config would lend all of ~/.config to a run in ~/.config/nvim).
    if (!home.empty() && util::dirname(dir) != home && util::dirname(util::dirname(dir)) == home &&
        util::basename(util::dirname(dir))[0] == '.') {
      break;
    }
  }
  return cwd;
}

std::vector<ArgumentPath> argument_paths(const std::vector<std::string> &args,
                                         const std::string &cwd, const std::string &root,
                                         const HostView &host) {
  ArgumentPlanner planner(root, host);
  for (const auto &argument : args) {
    planner.consider(argument, cwd);
  }
  return planner.take();
}

std::vector<Need> resolve_needs(const std::vector<MountRequest> &requests, const HostView &host) {
  std::vector<Need> needs;
  for (const auto &request : requests) {
    auto real = request.resolved ? std::optional<std::string>(request.source)
                                 : host.real_path(request.source);
    if (!real) {
      if (request.is_root) {
        throw UserError(status_engine_failure,
                        fmt::format("refusing to mount {}: it does not exist", request.source));
      }
      continue;
    }
    bool read_only = request.read_only || inside_any(*real, host.read_only_dirs);
    std::string identity = request.resolved && !request.identity.empty()
                               ? request.identity
                               : identity_of(host.stat(*real));
    needs.push_back({request.target, *real, read_only, std::move(identity), request.exact});
  }
  return needs;
}

std::string family_key(const std::string &settings, const HostView &host) {
  return KeyHash()
      .add(settings)
      .add(host.home)
      .add(host.private_dirs)
      .add(host.read_only_dirs)
      .hex();
}

std::string identity(const std::string &path, const HostView &host) {
  return identity_of(host.stat(path));
}

std::string container_key(const std::string &family, const std::vector<Need> &needs,
                          const HostView &host) {
  KeyHash key;
  key.add(family).add(std::to_string(needs.size()));
  bool holds_home = false;
  for (const auto &need : needs) {
    key.add(need.target).add(need.source).add(need.read_only ? "ro" : "rw").add(need.identity);
    holds_home = holds_home || (!host.home.empty() && host.home != "/" &&
                                util::is_same_or_under(host.home, need.source));
  }
  // Where $HOME is mounted, its top level is planned entry by entry (mount_plan):
  // a new entry is a new plan.
  if (holds_home) {
    std::vector<std::string> entries;
    for (const auto &entry : host.home_entries()) {
      entries.push_back(entry.name + (entry.is_directory ? "/" : ""));
    }
    key.add(entries);
  }
  return key.hex();
}

bool serves(const MountedView &view, const std::vector<Need> &needs, const HostView &host) {
  for (const auto &need : needs) {
    const engine::BindMount *deepest = nullptr;
    for (const auto &bind : view.binds) {
      if (util::is_same_or_under(need.target, bind.target) &&
          (deepest == nullptr || bind.target.size() > deepest->target.size())) {
        deepest = &bind;
      }
    }
    // An exact need (mount_root: cwd) is not served where anything above it is mounted.
    const bool above =
        need.exact &&
        std::any_of(view.binds.begin(), view.binds.end(), [&](const engine::BindMount &bind) {
          return bind.target != need.target && util::is_same_or_under(need.target, bind.target);
        });
    if (deepest == nullptr || above || deepest->read_only != need.read_only ||
        deepest->source + need.target.substr(deepest->target.size()) != need.source ||
        inside_any(need.target, view.hidden)) {
      return false;
    }
    auto recorded = view.identities.find(deepest->target);
    if (recorded == view.identities.end() ||
        recorded->second != identity_of(host.stat(deepest->source))) {
      return false; // replaced since the container started: it shows the old one
    }
  }
  return true;
}

} // namespace fod::containers
