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
        add(argument, path, path, real, facts->directory, "");
      } else if (!util::is_same_or_under(real, m_real_root)) {
        // A link out of the root: show where it leads.
        add(argument, path, first_step_out(path, m_root, real, m_host), real, facts->directory, "");
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
    add(argument, path, parent, m_host.real_path(parent).value_or(parent), true,
        "its directory, for a new file");
  }

  std::vector<ArgumentPath> take() { return std::move(m_paths); }

private:
  void add(const std::string &argument, const std::string &path, const std::string &target,
           const std::string &real, bool directory, const std::string &how) {
    ArgumentPath found{argument, path, std::nullopt, how};
    if (auto why_not = refusal(target, real, directory)) {
      found.note = *why_not;
    } else if (real != path && in_home_dot_entry(real)) {
      // A link a container could have made (in the project, say) must not lend it
      // a key or a token: only a dot-file named as itself is mounted.
      found.note = "not mounted: a link into a dot-file of $HOME; name the file itself";
    } else if (!util::is_valid_utf8(target) || !util::is_valid_utf8(real)) {
      add_utf8_ancestor(found, target);
      return;
    } else if (mounted_already(target)) {
      found.note = how;
      found.mount = MountRequest{real, target, false, false, false, true};
      m_paths.push_back(std::move(found));
      return; // shown, but mounted once
    } else if (m_mounts == max_argument_mounts) {
      found.note = fmt::format("not mounted: more than {} paths", max_argument_mounts);
    } else {
      bool read_only =
          in_system_tree(real) || in_system_tree(target) || inside_any(real, m_host.read_only_dirs);
      found.mount = MountRequest{real, target, read_only, false, false, true};
      if (read_only && found.note.empty()) {
        found.note = in_system_tree(real) || in_system_tree(target)
                         ? "read-only: a system file"
                         : "read-only: the host runs programs from there";
      }
      ++m_mounts;
      m_targets.push_back(target);
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
    add(found.argument, found.path, dir, real, true,
        "its directory: the engines take only UTF-8 in a mount path");
  }

  bool in_home_dot_entry(const std::string &real) const {
    const std::string &home = m_host.home;
    return !home.empty() && home != "/" && real.size() > home.size() + 1 &&
           util::is_same_or_under(real, home) && real[home.size() + 1] == '.';
  }

  bool mounted_already(const std::string &target) const {
    return std::find(m_targets.begin(), m_targets.end(), target) != m_targets.end();
  }

  std::optional<std::string> refusal(const std::string &target, const std::string &real,
                                     bool directory) const {
    if (in_kernel_tree(target) || in_kernel_tree(real)) {
      return "not mounted: under /proc, /sys, /dev or /run, the container has its own";
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
  std::vector<std::string> m_targets;
  std::size_t m_mounts = 0;
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
  const bool under_home = !host.home.empty() && host.home != "/" &&
                          util::is_same_or_under(cwd, host.home) && cwd != host.home;
  for (std::string dir = cwd;; dir = util::dirname(dir)) {
    if ((under_home && !util::is_same_or_under(dir, host.home)) ||
        (under_home && dir == host.home) || dir == "/" || is_system_path(dir)) {
      break;
    }
    if (is_project(dir, host)) {
      return dir;
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
    needs.push_back(
        {request.target, *real, read_only, identity_of(host.stat(*real)), request.exact});
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
    if (deepest == nullptr || deepest->read_only != need.read_only ||
        (need.exact && deepest->target != need.target) ||
        deepest->source + need.target.substr(deepest->target.size()) != need.source ||
        inside_any(need.target, view.hidden)) {
      return false;
    }
    auto recorded = view.identities.find(deepest->target);
    if (recorded != view.identities.end() &&
        recorded->second != identity_of(host.stat(deepest->source))) {
      return false; // replaced since the container started: it shows the old one
    }
  }
  return true;
}

} // namespace fod::containers
