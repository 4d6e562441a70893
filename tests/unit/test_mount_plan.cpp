// The mount plan: what a container may see of the host (containers/mount_plan.hpp).
// A made-up host (real paths, $HOME's entries) so that every rule is checked
// without touching the machine.
#include "base/error.hpp"
#include "containers/mount_plan.hpp"
#include "util/fs.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>

using fod::containers::HomeEntry;
using fod::containers::HostView;
using fod::containers::MountPlan;
using fod::containers::MountRequest;
using fod::containers::plan_mounts;
using fod::engine::BindMount;

namespace {

// A host whose existing paths are those in `links` (path -> real path) and
// everything under the directories listed in `dirs` (real already).
struct FakeHost {
  std::map<std::string, std::string> links;
  std::vector<std::string> dirs = {"/home/u", "/home/u/src/p", "/srv/data", "/tmp/t"};
  HostView view() const {
    HostView host;
    host.home = "/home/u";
    host.private_dirs = {"/run/user/1000/fod", "/home/u/.local/state/fod", "/home/u/.cache/fod",
                         "/home/u/.config/fod"};
    host.read_only_dirs = {"/usr/bin", "/home/u/.local/bin", "/home/u/bin"};
    auto links_copy = links;
    auto dirs_copy = dirs;
    host.real_path = [links_copy,
                      dirs_copy](const std::string &path) -> std::optional<std::string> {
      if (auto it = links_copy.find(path); it != links_copy.end())
        return it->second;
      for (const auto &dir : dirs_copy) {
        if (path == dir || path.rfind(dir + "/", 0) == 0)
          return path;
      }
      if (path == "/" || path.rfind("/usr", 0) == 0 || path.rfind("/proc", 0) == 0 ||
          path.rfind("/run", 0) == 0 || path == "/home") {
        return path;
      }
      return std::nullopt;
    };
    host.home_entries = [] {
      return std::vector<HomeEntry>{{".bashrc", false}, {".cache", true},     {".ssh", true},
                                    {"bin", true},      {"notes.txt", false}, {"src", true},
                                    {"we:ird", true},   {"bad\xff", true}};
    };
    return host;
  }
};

MountRequest root(const std::string &path) {
  return {path, path, false, true};
}

const BindMount *at(const MountPlan &plan, const std::string &target) {
  auto it = std::find_if(plan.binds.begin(), plan.binds.end(),
                         [&](const BindMount &b) { return b.target == target; });
  return it == plan.binds.end() ? nullptr : &*it;
}

// The message of the UserError plan_mounts throws (status 125), or "" when none.
std::string refusal(const std::vector<MountRequest> &requests, const HostView &host) {
  try {
    plan_mounts(requests, host);
  } catch (const fod::UserError &e) {
    CHECK(e.status() == fod::status_engine_failure);
    return e.what();
  }
  return "";
}

} // namespace

TEST_CASE("mount_plan: a project directory is bound read-write by its real path",
          "[unit][mounts]") {
  FakeHost fake;
  fake.links["/home/u/link"] = "/srv/data";
  auto plan = plan_mounts({root("/home/u/src/p")}, fake.view());
  REQUIRE(plan.binds.size() == 1);
  CHECK(plan.binds[0].source == "/home/u/src/p");
  CHECK_FALSE(plan.binds[0].read_only);
  CHECK(plan.hidden.empty());

  SECTION("a symlinked working directory: the real source at the path the user sees") {
    auto linked = plan_mounts({root("/home/u/link")}, fake.view());
    REQUIRE(linked.binds.size() == 1);
    CHECK(linked.binds[0].source == "/srv/data");
    CHECK(linked.binds[0].target == "/home/u/link");
  }
}

TEST_CASE("mount_plan: what resolves to a system directory is refused, however it is spelled",
          "[unit][mounts]") {
  FakeHost fake;
  fake.links["/tmp/t/r"] = "/";
  fake.links["/.."] = "/";
  fake.links["/usr/.."] = "/";
  fake.links["/tmp/t/etc"] = "/etc";
  auto host = fake.view();
  for (const char *path :
       {"/tmp/t/r", "/..", "/usr/..", "/", "/usr", "/proc/1", "/run/user/1000"}) {
    INFO(path);
    std::string why = refusal({root(path)}, host);
    CHECK(why.find("refusing to mount") != std::string::npos);
    CHECK(why.find(path) != std::string::npos);
  }
  SECTION("the same for a mapping's mount, not only the working directory") {
    CHECK_FALSE(refusal({root("/srv/data"), {"/tmp/t/r", "/tmp/t/r", true, false}}, host).empty());
  }
  SECTION("below a system directory is allowed (but /proc, /sys, /dev, /run)") {
    CHECK(refusal({root("/usr/local/src")}, host).empty());
  }
  SECTION("a missing mapping mount is skipped; a missing working directory refused") {
    CHECK(plan_mounts({root("/srv/data"), {"/nope", "/nope", false, false}}, host).binds.size() ==
          1);
    CHECK(refusal({root("/nope")}, host).find("does not exist") != std::string::npos);
  }
}

TEST_CASE("mount_plan: fod's own directories are hidden, and never a root", "[unit][mounts]") {
  FakeHost fake;
  fake.dirs.push_back("/run/user/1000/fod");
  auto host = fake.view();
  SECTION("a run from inside one is refused") {
    std::string why = refusal({root("/home/u/.cache/fod/shims")}, host);
    CHECK(why.find("fod's own directory /home/u/.cache/fod") != std::string::npos);
  }
  SECTION("$HOME as root: each of them is hidden") {
    auto plan = plan_mounts({root("/home/u")}, host);
    CHECK(plan.hidden == std::vector<std::string>{"/home/u/.cache/fod", "/home/u/.config/fod",
                                                  "/home/u/.local/state/fod"});
  }
  SECTION("hidden at the path the container sees, through a symlinked root") {
    fake.links["/srv/alias"] = "/home/u";
    auto plan = plan_mounts({root("/srv/alias")}, fake.view());
    CHECK(std::find(plan.hidden.begin(), plan.hidden.end(), "/srv/alias/.cache/fod") !=
          plan.hidden.end());
  }
  SECTION("one inside another is hidden once") {
    host.private_dirs.push_back("/home/u/.cache/fod/shims");
    auto plan = plan_mounts({root("/home/u")}, host);
    CHECK(std::count(plan.hidden.begin(), plan.hidden.end(), "/home/u/.cache/fod/shims") == 0);
  }
}

TEST_CASE("mount_plan: where $HOME is mounted its top level is read-only", "[unit][mounts]") {
  FakeHost fake;
  auto host = fake.view();
  SECTION("$HOME as root: read-only, its non-dot entries read-write, no dot-entry bound") {
    auto plan = plan_mounts({root("/home/u")}, host);
    REQUIRE(at(plan, "/home/u"));
    CHECK(at(plan, "/home/u")->read_only);
    REQUIRE(at(plan, "/home/u/src"));
    CHECK_FALSE(at(plan, "/home/u/src")->read_only);
    REQUIRE(at(plan, "/home/u/notes.txt"));
    CHECK_FALSE(at(plan, "/home/u/notes.txt")->read_only);
    CHECK(at(plan, "/home/u/.bashrc") == nullptr);
    CHECK(at(plan, "/home/u/.ssh") == nullptr);
    REQUIRE(at(plan, "/home/u/we:ird")); // --mount carries a ':'
    CHECK_FALSE(at(plan, "/home/u/we:ird")->read_only);
    CHECK(at(plan, "/home/u/bad\xff") == nullptr); // the engines cannot mount it: stays read-only
  }
  SECTION("an ancestor of $HOME as root: $HOME gets the same treatment") {
    auto plan = plan_mounts({root("/home")}, host);
    REQUIRE(at(plan, "/home"));
    CHECK_FALSE(at(plan, "/home")->read_only);
    REQUIRE(at(plan, "/home/u"));
    CHECK(at(plan, "/home/u")->read_only);
    REQUIRE(at(plan, "/home/u/src"));
    CHECK_FALSE(at(plan, "/home/u/src")->read_only);
  }
  SECTION("a directory inside $HOME as root: nothing of the rule applies") {
    auto plan = plan_mounts({root("/home/u/src/p")}, host);
    CHECK(plan.binds.size() == 1);
  }
  SECTION("a mapping may still ask for a dot-directory read-write") {
    auto plan =
        plan_mounts({root("/home/u"), {"/home/u/.ssh", "/home/u/.ssh", false, false}}, host);
    REQUIRE(at(plan, "/home/u/.ssh"));
    CHECK_FALSE(at(plan, "/home/u/.ssh")->read_only);
  }
  SECTION("a read-only mount of $HOME stays as it is") {
    auto plan = plan_mounts({root("/srv/data"), {"/home/u", "/home/u", true, false}}, host);
    CHECK(at(plan, "/home/u/src") == nullptr);
  }
}

TEST_CASE("mount_plan: directories the host runs programs from are read-only", "[unit][mounts]") {
  FakeHost fake;
  auto host = fake.view();
  SECTION("one of $HOME's entries on PATH: read-only, not read-write") {
    auto plan = plan_mounts({root("/home/u")}, host);
    REQUIRE(at(plan, "/home/u/bin"));
    CHECK(at(plan, "/home/u/bin")->read_only);
  }
  SECTION("the root itself on PATH: the root is read-only") {
    auto plan = plan_mounts({root("/home/u/bin")}, host);
    REQUIRE(plan.binds.size() == 1);
    CHECK(plan.binds[0].read_only);
  }
  SECTION("inside a project: an extra read-only bind") {
    host.read_only_dirs.push_back("/home/u/src/p/node_modules/.bin");
    fake.dirs.push_back("/home/u/src/p/node_modules/.bin");
    auto plan = plan_mounts({root("/home/u/src/p")}, host);
    REQUIRE(at(plan, "/home/u/src/p/node_modules/.bin"));
    CHECK(at(plan, "/home/u/src/p/node_modules/.bin")->read_only);
  }
}

TEST_CASE("mount_plan: the parents of what it protects cannot be moved aside", "[unit][mounts]") {
  // A mount point cannot be renamed, its parent can: `mv cache x; mkdir -p cache/fod`
  // would give the host a cache of the container's making.
  FakeHost fake;
  fake.dirs.push_back("/tmp/t/root");
  auto host = fake.view();
  host.private_dirs = {"/tmp/t/root/cache/fod", "/tmp/t/root/a/b/c/fod"};
  host.read_only_dirs = {"/tmp/t/root/tools/bin"};
  auto plan = plan_mounts({root("/tmp/t/root")}, host);
  for (const char *parent : {"/tmp/t/root/cache", "/tmp/t/root/a", "/tmp/t/root/a/b",
                             "/tmp/t/root/a/b/c", "/tmp/t/root/tools"}) {
    INFO(parent);
    REQUIRE(at(plan, parent));
    CHECK(at(plan, parent)->source == parent);
    CHECK_FALSE(at(plan, parent)->read_only);
  }
  REQUIRE(at(plan, "/tmp/t/root/tools/bin"));
  CHECK(at(plan, "/tmp/t/root/tools/bin")->read_only);

  SECTION("never a bind where a directory is hidden, nor inside one") {
    host.private_dirs.push_back("/tmp/t/root/cache/fod/shims");
    host.private_dirs.push_back("/tmp/t/root/run");
    host.private_dirs.push_back("/tmp/t/root/run/fod");
    host.read_only_dirs.push_back("/tmp/t/root/cache/fod/shims"); // on PATH
    auto nested = plan_mounts({root("/tmp/t/root")}, host);
    CHECK(at(nested, "/tmp/t/root/cache/fod") == nullptr);
    CHECK(at(nested, "/tmp/t/root/run") == nullptr);
    for (const auto &bind : nested.binds) {
      for (const auto &hidden : nested.hidden) {
        INFO(bind.target << " vs hidden " << hidden);
        CHECK_FALSE(fod::util::is_same_or_under(bind.target, hidden));
      }
    }
  }
  SECTION("inside a read-only bind nothing is added: nothing there can be moved") {
    auto home = plan_mounts({root("/home/u")}, fake.view());
    CHECK(at(home, "/home/u/.cache") == nullptr);
    CHECK(at(home, "/home/u/.config") == nullptr);
  }
  SECTION("an ancestor of $HOME: $HOME's dot-directories stay read-only") {
    auto above = plan_mounts({root("/home")}, fake.view());
    CHECK(at(above, "/home/u/.cache") == nullptr);
  }
}
