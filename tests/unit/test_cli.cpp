#include "base/error.hpp"
#include "cli/main.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

using fod::test::EnvGuard;
using fod::test::TempDir;

namespace {

// Every directory fod reads or writes, pointed at a fresh temporary tree.
struct Sandbox {
  TempDir dir;
  EnvGuard env;

  Sandbox() {
    env.set("XDG_CONFIG_HOME", dir.mkdir("config"));
    env.set("XDG_CACHE_HOME", dir.mkdir("cache"));
    env.set("XDG_STATE_HOME", dir.mkdir("state"));
    std::string runtime = dir.mkdir("runtime", 0700);
    chmod(runtime.c_str(), 0700);
    env.set("XDG_RUNTIME_DIR", runtime);
    env.set("FOD_DATADIR", dir.mkdir("share"));
    env.set("FOD_SYSCONFDIR", dir.mkdir("etc"));
    env.unset("FOD_ENGINE");
    env.unset("FOD_SHIM_DIR"); // shims then go below XDG_CACHE_HOME
  }

  void map(const std::string &yaml) const { dir.write("config/fod/mappings.yaml", yaml); }
};

// fod::cli::main with argv as given; argv[0] decides between fod and shim mode.
int run_fod(std::vector<std::string> args) {
  std::vector<char *> argv;
  for (auto &a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  return fod::cli::main(static_cast<int>(args.size()), argv.data());
}

} // namespace

TEST_CASE("cli::main exit statuses for the shell", "[unit][cli]") {
  Sandbox sandbox;

  SECTION("`fod run` of an unmapped command is 127, as for a missing command") {
    CHECK(run_fod({"fod", "run", "unmapped"}) == fod::status_not_found);
    CHECK(run_fod({"fod", "run", "unmapped", "--help"}) == fod::status_not_found);
  }
  SECTION("`fod which` of an unmapped command is 1") {
    CHECK(run_fod({"fod", "which", "unmapped"}) == 1);
  }
  SECTION("`fod --version` is 0") {
    CHECK(run_fod({"fod", "--version"}) == 0);
  }
  SECTION("`fod run` without a name is a usage error, 2") {
    CHECK(run_fod({"fod", "run"}) == 2);
    CHECK(run_fod({"fod", "run", "--verbose"}) == 2);
  }
  SECTION("an unknown subcommand is a usage error, 2") {
    CHECK(run_fod({"fod", "bogus-subcommand"}) == 2);
  }
  SECTION("an unknown option is a usage error, 2") {
    CHECK(run_fod({"fod", "--bogus-option"}) == 2);
  }
  SECTION("no subcommand at all is a usage error, 2") {
    CHECK(run_fod({"fod"}) == 2);
  }
  SECTION("`fod which` without a name is a usage error, 2") {
    CHECK(run_fod({"fod", "which"}) == 2);
  }
  SECTION("`fod --help` is 0") {
    CHECK(run_fod({"fod", "--help"}) == 0);
  }
  SECTION("a shim named after an unmapped command is 127") {
    CHECK(run_fod({"/home/u/.local/share/fod/shims/unmapped"}) == fod::status_not_found);
  }
}

TEST_CASE("cli::main with a mapping but no usable engine", "[unit][cli]") {
  Sandbox sandbox;
  sandbox.map("commands:\n  jq:\n    image: ghcr.io/jqlang/jq:1.7\n  yq:\n    disabled: true\n");

  SECTION("FOD_ENGINE naming a missing CLI makes `fod run NAME` fail with 125") {
    sandbox.env.set("FOD_ENGINE", "/nonexistent/podman");
    CHECK(run_fod({"fod", "run", "jq", "."}) == fod::status_engine_failure);
  }
  SECTION("an unknown FOD_ENGINE is 125 too") {
    sandbox.env.set("FOD_ENGINE", "lxc");
    CHECK(run_fod({"fod", "run", "jq"}) == fod::status_engine_failure);
  }
  SECTION("through a shim, the same 125") {
    sandbox.env.set("FOD_ENGINE", "/nonexistent/podman");
    CHECK(run_fod({"jq", "."}) == fod::status_engine_failure);
  }
  SECTION("`fod which` of a mapped command is 0 even without an engine") {
    sandbox.env.set("FOD_ENGINE", "/nonexistent/podman");
    CHECK(run_fod({"fod", "which", "jq"}) == 0);
  }
  SECTION("a disabled command is unmapped: 127") {
    sandbox.env.set("FOD_ENGINE", "/nonexistent/podman");
    CHECK(run_fod({"fod", "run", "yq"}) == fod::status_not_found);
  }
  SECTION("the second call, served from the index, gives the same statuses") {
    sandbox.env.set("FOD_ENGINE", "/nonexistent/podman");
    CHECK(run_fod({"fod", "run", "jq"}) == fod::status_engine_failure);
    CHECK(run_fod({"fod", "run", "jq"}) == fod::status_engine_failure);
    CHECK(run_fod({"fod", "run", "unmapped"}) == fod::status_not_found);
  }
}

TEST_CASE("cli::main keeps working when a mapping file is broken", "[unit][cli]") {
  Sandbox sandbox;
  sandbox.dir.write("share/mappings.yaml", "commands:\n  jq:\n    image: jq:1\n");
  sandbox.map("commands:\n  jq:\n    disabled: true\n   bad: x\n");
  sandbox.env.set("FOD_ENGINE", "/nonexistent/podman");

  CHECK(run_fod({"fod", "run", "unmapped"}) == fod::status_not_found);
  // The broken user file is skipped whole, so the package mapping still applies.
  CHECK(run_fod({"fod", "run", "jq"}) == fod::status_engine_failure);
}
