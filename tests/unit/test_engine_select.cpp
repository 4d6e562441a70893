#include "engine/engine.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>
#include <unistd.h>

using fod::engine::Kind;
using fod::engine::select_engine;
using fod::test::EnvGuard;
using fod::test::TempDir;

namespace {

bool mentions(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

// A directory of fake engine CLIs that is the whole PATH for the test.
struct FakePath {
  TempDir dir;
  EnvGuard env;

  FakePath() {
    env.set("PATH", dir / "bin");
    env.unset("FOD_ENGINE");
  }
  std::string add(const std::string &name, const std::string &subdir = "bin", mode_t mode = 0755) {
    return dir.write(subdir + "/" + name, "#!/bin/sh\nexit 0\n", mode);
  }
};

} // namespace

TEST_CASE("engine::select_engine picks podman, then docker, from PATH", "[unit][engine]") {
  FakePath fake;

  SECTION("auto prefers podman when both are installed") {
    std::string podman = fake.add("podman");
    fake.add("docker");
    std::string why;
    auto engine = select_engine("auto", &why);
    REQUIRE(engine);
    CHECK(engine->kind == Kind::podman);
    CHECK(engine->cli == podman);
    CHECK(engine->rootless == (geteuid() != 0));
  }
  SECTION("auto falls back to docker, which is never rootless") {
    std::string docker = fake.add("docker");
    std::string why;
    auto engine = select_engine("auto", &why);
    REQUIRE(engine);
    CHECK(engine->kind == Kind::docker);
    CHECK(engine->cli == docker);
    CHECK_FALSE(engine->rootless);
  }
  SECTION("a configured engine is used even when the other is preferred") {
    fake.add("podman");
    std::string docker = fake.add("docker");
    std::string why;
    auto engine = select_engine("docker", &why);
    REQUIRE(engine);
    CHECK(engine->kind == Kind::docker);
    CHECK(engine->cli == docker);
  }
  SECTION("PATH is searched in order") {
    fake.env.set("PATH", fake.dir / "first" + ":" + fake.dir / "second");
    fake.add("podman", "second");
    std::string first = fake.add("podman", "first");
    std::string why;
    auto engine = select_engine("auto", &why);
    REQUIRE(engine);
    CHECK(engine->cli == first);
  }
  SECTION("a podman file that is not executable is passed over") {
    fake.env.set("PATH", fake.dir / "first" + ":" + fake.dir / "second");
    fake.add("podman", "first", 0644);
    std::string usable = fake.add("podman", "second");
    std::string why;
    auto engine = select_engine("auto", &why);
    REQUIRE(engine);
    CHECK(engine->cli == usable);
  }
}

// Known bug, reported: find_in_path takes any path access(X_OK) accepts, and
// directories pass. execvp (and `command -v`) skip them; fod then fails with 125
// "Permission denied" although a real podman is later in PATH.
TEST_CASE("engine::select_engine passes over a directory named like the engine", "[unit][engine]") {
  FakePath fake;
  fake.env.set("PATH", fake.dir / "first" + ":" + fake.dir / "second");
  fake.dir.mkdir("first/podman");
  fake.dir.mkdir("first/tool");
  std::string usable = fake.add("podman", "second");
  std::string why;
  auto engine = select_engine("auto", &why);
  REQUIRE(engine);
  CHECK(engine->cli == usable);
  CHECK(fod::engine::find_in_path("tool").empty());
}

TEST_CASE("engine::select_engine lets FOD_ENGINE beat the configuration", "[unit][engine]") {
  FakePath fake;
  std::string podman = fake.add("podman");
  std::string docker = fake.add("docker");
  std::string why;

  SECTION("FOD_ENGINE=docker beats engine: podman") {
    fake.env.set("FOD_ENGINE", "docker");
    auto engine = select_engine("podman", &why);
    REQUIRE(engine);
    CHECK(engine->kind == Kind::docker);
    CHECK(engine->cli == docker);
  }
  SECTION("FOD_ENGINE=podman beats engine: docker") {
    fake.env.set("FOD_ENGINE", "podman");
    auto engine = select_engine("docker", &why);
    REQUIRE(engine);
    CHECK(engine->kind == Kind::podman);
  }
  SECTION("an empty FOD_ENGINE is as if unset") {
    fake.env.set("FOD_ENGINE", "");
    auto engine = select_engine("docker", &why);
    REQUIRE(engine);
    CHECK(engine->kind == Kind::docker);
  }
  SECTION("FOD_ENGINE as a path to docker, outside PATH") {
    std::string elsewhere = fake.add("docker", "opt");
    fake.env.set("FOD_ENGINE", elsewhere);
    auto engine = select_engine("podman", &why);
    REQUIRE(engine);
    CHECK(engine->kind == Kind::docker);
    CHECK(engine->cli == elsewhere);
    CHECK_FALSE(engine->rootless);
  }
  SECTION("FOD_ENGINE as a path to podman") {
    std::string elsewhere = fake.add("podman", "opt");
    fake.env.set("FOD_ENGINE", elsewhere);
    auto engine = select_engine("docker", &why);
    REQUIRE(engine);
    CHECK(engine->kind == Kind::podman);
    CHECK(engine->cli == elsewhere);
  }
  SECTION("FOD_ENGINE naming a missing path fails and says which") {
    fake.env.set("FOD_ENGINE", "/nonexistent/podman");
    CHECK_FALSE(select_engine("auto", &why));
    CHECK(mentions(why, "/nonexistent/podman"));
  }
  SECTION("FOD_ENGINE naming an unknown engine fails, even when the config is fine") {
    fake.env.set("FOD_ENGINE", "lxc");
    CHECK_FALSE(select_engine("podman", &why));
    CHECK(mentions(why, "lxc"));
  }
}

TEST_CASE("engine::select_engine explains why there is no engine", "[unit][engine]") {
  FakePath fake;
  std::string why;

  SECTION("nothing installed: nullopt, naming podman or docker") {
    CHECK_FALSE(select_engine("auto", &why));
    CHECK((mentions(why, "podman") || mentions(why, "docker")));
  }
  SECTION("the configured engine is missing, though the other is installed") {
    fake.add("docker");
    CHECK_FALSE(select_engine("podman", &why));
    CHECK(mentions(why, "podman"));
  }
  SECTION("an unknown configured engine") {
    fake.add("podman");
    CHECK_FALSE(select_engine("lxc", &why));
    CHECK(mentions(why, "lxc"));
    CHECK_FALSE(select_engine("", &why));
  }
}

TEST_CASE("engine::find_in_path finds executables only", "[unit][engine]") {
  FakePath fake;
  std::string tool = fake.add("tool");
  fake.add("data", "bin", 0644);

  CHECK(fod::engine::find_in_path("tool") == tool);
  CHECK(fod::engine::find_in_path("missing").empty());
  CHECK(fod::engine::find_in_path("data").empty());
  CHECK(fod::engine::find_in_path(tool) == tool);
  CHECK(fod::engine::find_in_path("/nonexistent/tool").empty());
  // Never an engine from the current directory: relative PATH entries are skipped.
  fake.add("podman", "here");
  fod::test::CwdGuard cwd(fake.dir.path());
  fake.env.set("PATH", "here:.");
  CHECK(fod::engine::find_in_path("podman").empty());
}
