// What a run needs mounted and which warm container serves it
// (containers/run_mounts.hpp), on a real tree in a temporary directory: the
// project root, the paths arguments name, the keys and the serving rule.
#include "containers/run_mounts.hpp"
#include "temp_dir.hpp"
#include "util/fs.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <climits>
#include <cstdlib>
#include <sys/stat.h>
#include <unistd.h>

using fod::containers::ArgumentPath;
using fod::containers::HostView;
using fod::containers::MountedView;
using fod::containers::Need;
using fod::test::TempDir;

namespace {

// This machine's file system, with $HOME, fod's directories and the read-only
// directories of a made-up user inside the temporary tree.
struct Tree {
  TempDir dir;
  std::string home = dir.mkdir("home");
  std::string project = dir.mkdir("home/proj");
  std::string sub = dir.mkdir("home/proj/sub");
  std::string outside = dir.mkdir("outside");
  std::string cache = dir.mkdir("home/.cache");
  std::string fod_cache = dir.mkdir("home/.cache/fod");
  std::string bin = dir.mkdir("home/bin");

  Tree() {
    dir.mkdir("home/proj/.git");
    dir.write("home/proj/top.txt", "top\n");
    dir.write("outside/file.txt", "out\n");
    dir.write("home/notes.txt", "notes\n");
    dir.write("home/.bashrc", "rc\n");
    dir.write("home/bin/tool", "#!/bin/sh\n");
  }

  HostView host() const {
    HostView host;
    host.home = real(home);
    host.home_as_given = home;
    host.private_dirs = {real(fod_cache)};
    host.read_only_dirs = {real(bin), "/usr/bin"};
    host.real_path = [](const std::string &path) -> std::optional<std::string> {
      char buffer[PATH_MAX];
      if (realpath(path.c_str(), buffer) == nullptr) {
        return std::nullopt;
      }
      return std::string(buffer);
    };
    host.home_entries = [] { return std::vector<fod::containers::HomeEntry>{}; };
    host.stat = [](const std::string &path) -> std::optional<fod::containers::PathFacts> {
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0) {
        return std::nullopt;
      }
      return fod::containers::PathFacts{S_ISDIR(st.st_mode), S_ISREG(st.st_mode), st.st_dev,
                                        st.st_ino};
    };
    host.link_text = [](const std::string &path) -> std::optional<std::string> {
      char buffer[PATH_MAX];
      ssize_t n = readlink(path.c_str(), buffer, sizeof buffer);
      if (n < 0) {
        return std::nullopt;
      }
      return std::string(buffer, static_cast<size_t>(n));
    };
    host.home_dot_links = [home = real(home)] {
      std::vector<std::string> targets;
      for (const char *name : {".ssh", ".config"}) {
        char buffer[PATH_MAX];
        struct stat st {};
        std::string path = home + "/" + name;
        if (lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode) &&
            realpath(path.c_str(), buffer) != nullptr) {
          targets.emplace_back(buffer);
        }
      }
      return targets;
    };
    return host;
  }

  static std::string real(const std::string &path) {
    char buffer[PATH_MAX];
    REQUIRE(realpath(path.c_str(), buffer) != nullptr);
    return buffer;
  }
};

std::vector<ArgumentPath> paths_of(const Tree &t, const std::vector<std::string> &args,
                                   const std::string &cwd) {
  auto host = t.host();
  return fod::containers::argument_paths(args, cwd, fod::containers::project_root(cwd, host), host);
}

// The one ArgumentPath found, or a failed REQUIRE.
ArgumentPath only(const std::vector<ArgumentPath> &found) {
  REQUIRE(found.size() == 1);
  return found[0];
}

} // namespace

TEST_CASE("containers::project_root: the nearest directory with a VCS marker",
          "[unit][run_mounts]") {
  Tree t;
  auto host = t.host();
  SECTION("from the project and from below it: the project") {
    CHECK(fod::containers::project_root(t.project, host) == t.project);
    CHECK(fod::containers::project_root(t.sub, host) == t.project);
  }
  SECTION("each of .git (a directory or a worktree's file), .hg, .jj, .svn marks one") {
    for (const char *marker : {".hg", ".jj", ".svn"}) {
      INFO(marker);
      Tree other;
      REQUIRE(rmdir((other.project + "/.git").c_str()) == 0);
      other.dir.mkdir(std::string("home/proj/") + marker);
      CHECK(fod::containers::project_root(other.sub, other.host()) == other.project);
    }
    REQUIRE(rmdir((t.project + "/.git").c_str()) == 0);
    t.dir.write("home/proj/.git", "gitdir: /elsewhere\n");
    CHECK(fod::containers::project_root(t.sub, host) == t.project);
  }
  SECTION("no marker: the directory itself") {
    CHECK(fod::containers::project_root(t.outside, host) == t.outside);
    const std::string plain = t.dir.mkdir("home/plain/deeper");
    CHECK(fod::containers::project_root(plain, host) == plain);
  }
  SECTION("a marker in $HOME (dot-files in git) or above it does not make a project") {
    t.dir.mkdir("home/.git");
    t.dir.mkdir(".git"); // the temporary tree holding $HOME
    const std::string plain = t.dir.mkdir("home/plain");
    CHECK(fod::containers::project_root(plain, host) == plain);
    CHECK(fod::containers::project_root(t.home, host) == t.home);
    CHECK(fod::containers::project_root(t.sub, host) == t.project);
  }
  SECTION("never up into a dot-directory of $HOME from below it") {
    t.dir.mkdir("home/.config");
    t.dir.mkdir("home/.config/.git");
    const std::string nvim = t.dir.mkdir("home/.config/nvim");
    CHECK(fod::containers::project_root(nvim, host) == nvim);
    CHECK(fod::containers::project_root(t.home + "/.config", host) == t.home + "/.config");
  }
  SECTION("$HOME reached through a link stops the search as $HOME does") {
    const std::string alias = t.dir.path() + "/home-link";
    REQUIRE(symlink(t.home.c_str(), alias.c_str()) == 0);
    t.dir.mkdir(".git");
    t.dir.mkdir("home/.git");
    host.home_as_given = alias;
    const std::string plain = t.dir.mkdir("home/plain");
    CHECK(fod::containers::project_root(alias + "/plain", host) == alias + "/plain");
    CHECK(fod::containers::project_root(alias + "/proj/sub", host) == alias + "/proj");
  }
  SECTION("outside $HOME a marker above counts") {
    t.dir.mkdir("outside/.git");
    const std::string deeper = t.dir.mkdir("outside/a/b");
    CHECK(fod::containers::project_root(deeper, host) == t.outside);
  }
}

TEST_CASE("containers::argument_paths: what a run's arguments name outside its root",
          "[unit][run_mounts]") {
  Tree t;
  const std::string real_outside = Tree::real(t.outside);
  SECTION("paths inside the root and words that are no paths need nothing") {
    CHECK(
        paths_of(t, {"../top.txt", "top.txt", "hello", "s/a/b/", "-n", "--", "-"}, t.sub).empty());
  }
  SECTION("a file outside, relative or absolute, is mounted at the path as written") {
    for (const std::string &arg :
         {std::string("../../../outside/file.txt"), t.outside + "/file.txt"}) {
      INFO(arg);
      auto found = only(paths_of(t, {arg}, t.sub));
      CHECK(found.argument == arg);
      CHECK(found.path == t.outside + "/file.txt");
      REQUIRE(found.mount);
      CHECK(found.mount->target == t.outside + "/file.txt");
      CHECK(found.mount->source == real_outside + "/file.txt");
      CHECK_FALSE(found.mount->read_only);
    }
  }
  SECTION("the value of --opt=PATH; a directory; a new file's directory") {
    auto found =
        paths_of(t, {"--file=" + t.outside + "/file.txt", t.outside, "-o", t.outside + "/new.txt"},
                 t.project);
    REQUIRE(found.size() == 3);
    CHECK(found[0].mount->target == t.outside + "/file.txt");
    CHECK(found[1].mount->target == t.outside);
    CHECK(found[2].path == t.outside + "/new.txt");
    REQUIRE(found[2].mount);
    CHECK(found[2].mount->target == t.outside); // mounted once, listed for both
    CHECK(found[2].note == "its directory, for a new file");
  }
  SECTION("a new file whose directory does not exist either is no path") {
    CHECK(paths_of(t, {t.outside + "/no/such/file"}, t.project).empty());
  }
  SECTION("a file in $HOME and a named dot-file are mounted writable") {
    auto found =
        paths_of(t, {"~/notes.txt", t.home + "/notes.txt", t.home + "/.bashrc"}, t.project);
    REQUIRE(found.size() == 2); // "~" is the shell's to expand: no path
    CHECK(found[0].mount->target == t.home + "/notes.txt");
    CHECK(found[1].mount->target == t.home + "/.bashrc");
    CHECK_FALSE(found[1].mount->read_only);
  }
  SECTION("$HOME itself, what holds it, and fod's directories are not mounted") {
    auto found = paths_of(t, {t.home, t.dir.path(), t.cache, t.fod_cache + "/x", t.home + "/new"},
                          t.project);
    REQUIRE(found.size() == 5);
    for (const auto &path : found) {
      INFO(path.argument << ": " << path.note);
      CHECK_FALSE(path.mount);
      CHECK(path.note.rfind("not mounted: ", 0) == 0);
    }
  }
  SECTION("system files read-only one by one; system directories, /proc, /dev never") {
    auto found = paths_of(t,
                          {"/etc/passwd", "/etc", "/usr/share", "/proc/self/status", "/dev/null",
                           "/", "/etc/new-file"},
                          t.project);
    REQUIRE(found.size() == 7);
    REQUIRE(found[0].mount);
    CHECK(found[0].mount->target == "/etc/passwd");
    CHECK(found[0].mount->read_only);
    for (size_t i = 1; i < found.size(); ++i) {
      INFO(found[i].argument << ": " << found[i].note);
      CHECK_FALSE(found[i].mount);
    }
  }
  SECTION("a file in a directory the host runs programs from is read-only") {
    auto found = only(paths_of(t, {t.bin + "/tool"}, t.project));
    REQUIRE(found.mount);
    CHECK(found.mount->read_only);
  }
  SECTION("a link in the project that leads out: its destination, where the link says") {
    REQUIRE(symlink((t.outside + "/file.txt").c_str(), (t.project + "/link").c_str()) == 0);
    REQUIRE(symlink("../../outside", (t.project + "/rel").c_str()) == 0);
    auto found = paths_of(t, {"../link", "../rel/file.txt"}, t.sub);
    REQUIRE(found.size() == 2);
    REQUIRE(found[0].mount);
    CHECK(found[0].mount->target == t.outside + "/file.txt");
    CHECK(found[0].mount->source == real_outside + "/file.txt");
    REQUIRE(found[1].mount);
    CHECK(found[1].mount->source == real_outside + "/file.txt");
  }
  SECTION("attack: a link a container planted in the project into a dot-file of $HOME is not "
          "followed; the dot-file named as itself is mounted") {
    t.dir.mkdir("home/.ssh");
    const std::string key = t.dir.write("home/.ssh/id_test", "SECRET\n");
    REQUIRE(symlink(key.c_str(), (t.project + "/notes.txt").c_str()) == 0);
    REQUIRE(symlink((t.home + "/.ssh").c_str(), (t.project + "/docs").c_str()) == 0);
    auto found = paths_of(t, {"notes.txt", "docs/id_test", key}, t.project);
    REQUIRE(found.size() == 3);
    CHECK_FALSE(found[0].mount);
    CHECK(found[0].note == "not mounted: a link into a dot-file of $HOME; name the file itself");
    CHECK_FALSE(found[1].mount);
    REQUIRE(found[2].mount);
    CHECK(found[2].mount->target == key);
  }
  SECTION("attack: links out of the project reach files only, read-only; never a directory, "
          "a socket or a dot-file kept elsewhere") {
    REQUIRE(symlink(t.outside.c_str(), (t.project + "/dir-link").c_str()) == 0);
    REQUIRE(symlink("/dev/null", (t.project + "/dev-link").c_str()) == 0);
    REQUIRE(symlink((t.outside + "/file.txt").c_str(), (t.project + "/file-link").c_str()) == 0);
    // Dot-files kept in ~/dotfiles, linked from ~/.ssh (GNU stow).
    const std::string kept = t.dir.mkdir("home/dotfiles");
    t.dir.mkdir("home/dotfiles/ssh");
    const std::string key = t.dir.write("home/dotfiles/ssh/id", "SECRET\n");
    REQUIRE(symlink((t.dir.path() + "/home/dotfiles/ssh").c_str(), (t.home + "/.ssh").c_str()) ==
            0);
    REQUIRE(symlink(key.c_str(), (t.project + "/key-link").c_str()) == 0);
    auto found = paths_of(t, {"dir-link", "dev-link", "file-link", "key-link"}, t.project);
    REQUIRE(found.size() == 4);
    CHECK_FALSE(found[0].mount);
    CHECK_FALSE(found[1].mount);
    REQUIRE(found[2].mount);
    CHECK(found[2].mount->read_only);
    CHECK_FALSE(found[3].mount);
    CHECK(found[3].note == "not mounted: a link into a dot-file of $HOME; name the file itself");
    // Named through ~/.ssh, as the user would: mounted.
    auto named = only(paths_of(t, {t.home + "/.ssh/id"}, t.project));
    REQUIRE(named.mount);
    CHECK(named.mount->source == Tree::real(key));
  }
  SECTION("sockets, FIFOs and devices are never lent; nor a path with a carriage return") {
    const std::string fifo = t.outside + "/fifo";
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    t.dir.write("outside/cr\r\nx", "x");
    auto found = paths_of(t, {fifo, t.outside + "/cr\r\nx"}, t.project);
    REQUIRE(found.size() == 2);
    CHECK_FALSE(found[0].mount);
    CHECK_FALSE(found[1].mount);
  }
  SECTION("a path named twice is one mount, as the first asked for it") {
    auto found = paths_of(t, {"/etc/passwd", "/etc/passwd"}, t.project);
    REQUIRE(found.size() == 2);
    REQUIRE(found[1].mount);
    CHECK(found[1].mount->read_only);
  }
  SECTION("a link outside the project: the path typed shows what it points to") {
    REQUIRE(symlink((t.outside + "/file.txt").c_str(), (t.outside + "/alias").c_str()) == 0);
    auto found = only(paths_of(t, {t.outside + "/alias"}, t.project));
    REQUIRE(found.mount);
    CHECK(found.mount->target == t.outside + "/alias");
    CHECK(found.mount->source == real_outside + "/file.txt");
  }
  SECTION("spaces, ':', ',' and newlines are kept; a name that is not UTF-8 lends its directory") {
    const std::string odd = t.dir.mkdir("outside/a b:c,d\ne");
    t.dir.write("outside/a b:c,d\ne/f", "x");
    t.dir.write("outside/bad\xff", "x");
    auto found = paths_of(t, {odd + "/f", t.outside + "/bad\xff"}, t.project);
    REQUIRE(found.size() == 2);
    REQUIRE(found[0].mount);
    CHECK(found[0].mount->target == odd + "/f");
    REQUIRE(found[1].mount);
    CHECK(found[1].mount->target == t.outside);
  }
  SECTION("at most max_argument_mounts are mounted") {
    std::vector<std::string> args;
    for (size_t i = 0; i <= fod::containers::max_argument_mounts; ++i) {
      args.push_back(t.dir.write("outside/f" + std::to_string(i), "x"));
    }
    auto found = paths_of(t, args, t.project);
    REQUIRE(found.size() == args.size());
    CHECK(std::count_if(found.begin(), found.end(), [](const ArgumentPath &p) {
            return p.mount.has_value();
          }) == static_cast<long>(fod::containers::max_argument_mounts));
  }
}

TEST_CASE("containers::serves: a warm container serves a run that needs no more than it has",
          "[unit][run_mounts]") {
  Tree t;
  auto host = t.host();
  const std::string project = Tree::real(t.project);
  const std::string outside = Tree::real(t.outside);
  auto needs = [&](const std::vector<fod::containers::MountRequest> &requests) {
    return fod::containers::resolve_needs(requests, host);
  };
  const auto root_only = needs({{project, project, false, true}});
  const auto with_file = needs({{project, project, false, true},
                                {outside + "/file.txt", outside + "/file.txt", false, false}});
  MountedView wide;
  wide.binds = {{project, project, false}, {outside, outside, false}};
  wide.identities = {{project, root_only[0].identity},
                     {outside, fod::containers::identity(outside, host)}};

  CHECK(fod::containers::serves(wide, root_only, host));
  CHECK(fod::containers::serves(wide, with_file, host));
  SECTION("a container of the project alone does not serve a run that needs a file outside") {
    MountedView narrow;
    narrow.binds = {{project, project, false}};
    narrow.identities = {{project, root_only[0].identity}};
    CHECK(fod::containers::serves(narrow, root_only, host));
    CHECK_FALSE(fod::containers::serves(narrow, with_file, host));
  }
  SECTION("a root below the container's serves, unless the run asks for it alone") {
    const std::string sub = Tree::real(t.sub);
    CHECK(fod::containers::serves(wide, needs({{sub, sub, false, true}}), host));
    CHECK_FALSE(fod::containers::serves(wide, needs({{sub, sub, false, true, true}}), host));
    // Even where a bind of exactly it lies inside a wider one (a $HOME entry).
    MountedView nested = wide;
    nested.binds.push_back({sub, sub, false});
    nested.identities[sub] = fod::containers::identity(sub, host);
    CHECK_FALSE(fod::containers::serves(nested, needs({{sub, sub, false, true, true}}), host));
  }
  SECTION("a bind without a recorded identity serves nothing (it may be stale)") {
    MountedView unknown = wide;
    unknown.identities.erase(outside);
    CHECK_FALSE(fod::containers::serves(unknown, with_file, host));
  }
  SECTION("read-only where the run needs it writable, or the other way: no") {
    MountedView read_only = wide;
    read_only.binds[1].read_only = true;
    CHECK_FALSE(fod::containers::serves(read_only, with_file, host));
  }
  SECTION("another host path at the same place: no") {
    MountedView moved = wide;
    moved.binds[1].source = project;
    CHECK_FALSE(fod::containers::serves(moved, with_file, host));
  }
  SECTION("a hidden directory over the need: no") {
    MountedView hidden = wide;
    hidden.hidden = {outside};
    CHECK_FALSE(fod::containers::serves(hidden, with_file, host));
  }
  SECTION("the root replaced since the container started: no") {
    MountedView stale = wide;
    stale.identities[project] = "1:1";
    CHECK_FALSE(fod::containers::serves(stale, root_only, host));
  }
}

TEST_CASE("containers::container_key: one per family and mount set", "[unit][run_mounts]") {
  Tree t;
  auto host = t.host();
  const std::string project = Tree::real(t.project);
  auto key = [&](const std::string &family,
                 const std::vector<fod::containers::MountRequest> &requests) {
    return fod::containers::container_key(family, fod::containers::resolve_needs(requests, host),
                                          host);
  };
  const std::vector<fod::containers::MountRequest> root = {{project, project, false, true}};
  const std::string family = fod::containers::family_key("settings", host);
  CHECK(key(family, root) == key(family, root));
  CHECK(key(family, root).size() == 32);
  CHECK(key(fod::containers::family_key("other settings", host), root) != key(family, root));
  CHECK(key(family, {{t.outside, t.outside, false, true}}) != key(family, root));
  CHECK(key(family, {{project, project, true, true}}) != key(family, root));
  SECTION("a root made anew at the same path is another container") {
    const std::string before = key(family, {{t.outside, t.outside, false, true}});
    // Moved away first, so that the new one cannot reuse the old one's inode.
    REQUIRE(rename(t.outside.c_str(), (t.outside + ".old").c_str()) == 0);
    t.dir.mkdir("outside");
    CHECK(key(family, {{t.outside, t.outside, false, true}}) != before);
  }
}

TEST_CASE("containers::resolve_needs: an argument's need keeps the identity its stat found",
          "[unit][run_mounts]") {
  Tree t;
  auto host = t.host();
  const std::string file = t.outside + "/file.txt";
  auto need_of = [&] {
    auto found = only(paths_of(t, {file}, t.sub));
    REQUIRE(found.mount);
    CHECK(found.mount->identity == fod::containers::identity(file, host));
    auto needs = fod::containers::resolve_needs({*found.mount}, host);
    REQUIRE(needs.size() == 1);
    return needs[0];
  };
  const auto before = need_of();
  CHECK(before.identity == fod::containers::identity(Tree::real(file), host));
  SECTION("a file replaced at the same path is another need") {
    t.dir.write("outside/new.txt", "new\n");
    REQUIRE(rename((t.outside + "/new.txt").c_str(), file.c_str()) == 0);
    CHECK(need_of().identity != before.identity);
  }
}
