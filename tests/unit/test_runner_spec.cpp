#include "agent_proto.h"
#include "base/dirs.hpp"
#include "base/error.hpp"
#include "containers/records.hpp"
#include "run/agent_client.hpp"
#include "run/runner.hpp"
#include "temp_dir.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <unistd.h>

using fod::engine::BindMount;
using fod::engine::Engine;
using fod::engine::Kind;
using fod::mapping::Network;
using fod::run::container_spec;
using fod::test::TempDir;

namespace {

const std::string keeper = "/usr/libexec/fod/fod-keeper";

// An entry, a config and a home directory with a project in it.
struct Fixture {
  TempDir dir;
  std::string home = dir.mkdir("home/u");
  std::string project = dir.mkdir("home/u/src/project");
  fod::mapping::Entry entry;
  fod::mapping::Config config;
  fod::run::RunRequest request;

  Fixture() {
    entry.name = "jq";
    entry.image = "ghcr.io/jqlang/jq:1.7";
    entry.entrypoint = {"jq"};
    request.entry = &entry;
    request.config = &config;
    request.engine = Engine{Kind::podman, "podman", false};
  }

  fod::engine::ContainerSpec spec(const std::string &cwd) const {
    return container_spec(request, cwd, home, keeper);
  }
  fod::engine::ContainerSpec spec() const { return spec(project); }
};

const BindMount *find_bind(const fod::engine::ContainerSpec &spec, const std::string &target) {
  auto it = std::find_if(spec.binds.begin(), spec.binds.end(),
                         [&](const BindMount &b) { return b.target == target; });
  return it == spec.binds.end() ? nullptr : &*it;
}

// The status of the UserError that container_spec throws for cwd; 0 when it does not throw.
int refusal_status(const Fixture &f, const std::string &cwd) {
  try {
    f.spec(cwd);
  } catch (const fod::UserError &e) {
    return e.status();
  }
  return 0;
}

} // namespace

TEST_CASE("run::container_spec mounts the working directory and the mapping's paths",
          "[unit][runner]") {
  Fixture f;

  SECTION("the current directory is bound read-write at the same path") {
    auto spec = f.spec();
    REQUIRE_FALSE(spec.binds.empty());
    CHECK(spec.binds[0].source == f.project);
    CHECK(spec.binds[0].target == f.project);
    CHECK_FALSE(spec.binds[0].read_only);
    CHECK(spec.binds.size() == 1);
  }
  SECTION("image, keeper and HOME come through") {
    auto spec = f.spec();
    CHECK(spec.image == "ghcr.io/jqlang/jq:1.7");
    CHECK(spec.keeper_path == keeper);
    CHECK(spec.home == f.home);
  }
  SECTION("a ~ mount that exists is expanded and mounted read-write at the same path") {
    std::string config_dir = f.dir.mkdir("home/u/.config/jq");
    f.entry.mounts = {{"~/.config/jq", false}};
    auto spec = f.spec();
    const auto *bind = find_bind(spec, config_dir);
    REQUIRE(bind != nullptr);
    CHECK(bind->source == config_dir);
    CHECK_FALSE(bind->read_only);
  }
  SECTION("a :ro mount stays read-only") {
    std::string config_dir = f.dir.mkdir("home/u/.config/jq");
    f.entry.mounts = {{"~/.config/jq", true}};
    auto spec = f.spec();
    const auto *bind = find_bind(spec, config_dir);
    REQUIRE(bind != nullptr);
    CHECK(bind->read_only);
  }
  SECTION("an absolute mount that exists is mounted; a file is fine too") {
    std::string data = f.dir.mkdir("data");
    std::string file = f.dir.write("home/u/.jqrc", "def x: 1;");
    f.entry.mounts = {{data, true}, {"~/.jqrc", false}};
    auto spec = f.spec();
    REQUIRE(find_bind(spec, data) != nullptr);
    CHECK(find_bind(spec, data)->read_only);
    CHECK(find_bind(spec, file) != nullptr);
  }
  SECTION("a mount that does not exist is skipped, the others kept") {
    std::string present = f.dir.mkdir("home/u/.cache/jq");
    f.entry.mounts = {{"~/.config/missing", false}, {"~/.cache/jq", false}, {f.dir / "nope", true}};
    auto spec = f.spec();
    CHECK(spec.binds.size() == 2);
    CHECK(find_bind(spec, f.home + "/.config/missing") == nullptr);
    CHECK(find_bind(spec, present) != nullptr);
  }
  SECTION("a mount of the current directory is not bound twice") {
    f.entry.mounts = {{f.project, true}};
    auto spec = f.spec();
    CHECK(spec.binds.size() == 1);
    CHECK_FALSE(spec.binds[0].read_only);
  }
}

TEST_CASE("run::container_spec gives HOME and /tmp a tmpfs only when not mounted",
          "[unit][runner]") {
  Fixture f;

  SECTION("cwd below HOME: HOME is on a tmpfs") {
    CHECK(f.spec().home_on_tmpfs);
  }
  SECTION("cwd beside HOME: HOME is on a tmpfs") {
    CHECK(f.spec(f.dir.mkdir("elsewhere")).home_on_tmpfs);
  }
  SECTION("cwd == HOME: HOME is the bind mount, no tmpfs") {
    CHECK_FALSE(f.spec(f.home).home_on_tmpfs);
  }
  SECTION("cwd an ancestor of HOME: no tmpfs") {
    CHECK_FALSE(f.spec(f.dir / "home").home_on_tmpfs);
    CHECK_FALSE(f.spec(f.dir.path()).home_on_tmpfs);
  }
  SECTION("a sibling whose name starts with HOME's is not an ancestor") {
    CHECK(f.spec(f.dir.mkdir("home/u2")).home_on_tmpfs);
  }
  SECTION("a mapping mount of ~ covers HOME") {
    f.entry.mounts = {{"~", false}};
    CHECK_FALSE(f.spec().home_on_tmpfs);
  }
  SECTION("/tmp gets a tmpfs unless cwd is /tmp") {
    CHECK(f.spec().tmp_on_tmpfs);
    CHECK_FALSE(f.spec("/tmp").tmp_on_tmpfs);
  }
  SECTION("a directory below /tmp still leaves /tmp itself to a tmpfs") {
    CHECK(f.spec(f.project).tmp_on_tmpfs);
  }
}

TEST_CASE("run::container_spec refuses directories that must not be mounted", "[unit][runner]") {
  Fixture f;

  SECTION("/, /usr, /etc and the other system directories: UserError with status 125") {
    for (const char *cwd :
         {"/", "/usr", "/etc", "/bin", "/lib", "/proc", "/sys", "/dev", "/var", "/run"}) {
      INFO("cwd: " << cwd);
      CHECK(refusal_status(f, cwd) == fod::status_engine_failure);
    }
  }
  SECTION("the message names the directory and the fix") {
    try {
      f.spec("/usr");
      FAIL("no UserError for /usr");
    } catch (const fod::UserError &e) {
      std::string message = e.what();
      CHECK(message.find("/usr") != std::string::npos);
      CHECK(message.find("cd") != std::string::npos);
    }
  }
  SECTION("a directory below a system directory is allowed") {
    CHECK(refusal_status(f, "/usr/local/src") == 0);
    CHECK(refusal_status(f, "/var/tmp") == 0);
  }
  SECTION("a directory that does not exist is refused") {
    CHECK(refusal_status(f, f.dir / "gone") == fod::status_engine_failure);
  }
  SECTION("a symlink to / or to /usr is refused as what it resolves to") {
    std::string to_root = f.dir / "r";
    std::string to_usr = f.dir / "u";
    REQUIRE(symlink("/", to_root.c_str()) == 0);
    REQUIRE(symlink("/usr", to_usr.c_str()) == 0);
    CHECK(refusal_status(f, to_root) == fod::status_engine_failure);
    CHECK(refusal_status(f, to_usr) == fod::status_engine_failure);
    CHECK(refusal_status(f, "/usr/..") == fod::status_engine_failure);
  }
  SECTION("a mapping mount of //, /.. or a link to / is refused, not skipped") {
    std::string to_root = f.dir / "r";
    REQUIRE(symlink("/", to_root.c_str()) == 0);
    for (const std::string &mount : {std::string("//"), std::string("/.."), to_root}) {
      INFO("mount: " << mount);
      f.entry.mounts = {{mount, true}};
      CHECK(refusal_status(f, f.project) == fod::status_engine_failure);
    }
  }
  SECTION("a cwd that is not UTF-8 cannot be mounted (the engines mangle it)") {
    CHECK(refusal_status(f, f.dir.mkdir("bad\xff", 0700)) == fod::status_engine_failure);
  }
}

TEST_CASE("run::container_spec refuses other spellings of system directories", "[unit][runner]") {
  // Known bug, reported: bash keeps a leading "//" in $PWD after `cd //usr` (or
  // `cd //`), current_directory() returns that $PWD, is_system_directory compares
  // strings, and podman cleans "//usr" to /usr: the host's /usr replaces the image's.
  Fixture f;
  for (const char *cwd : {"//usr", "//", "//etc", "/usr/"}) {
    INFO("cwd: " << cwd);
    CHECK(refusal_status(f, cwd) == fod::status_engine_failure);
  }
}

TEST_CASE("run::container_spec sets the user and limits", "[unit][runner]") {
  Fixture f;

  SECTION("rootful podman and docker run as the caller's uid:gid") {
    for (const auto &engine :
         {Engine{Kind::podman, "podman", false}, Engine{Kind::docker, "docker", false}}) {
      f.request.engine = engine;
      auto spec = f.spec();
      REQUIRE(spec.user);
      CHECK(spec.user->first == getuid());
      CHECK(spec.user->second == getgid());
    }
  }
  SECTION("rootless podman runs as 0:0, the caller mapped, whatever USER the image names") {
    f.request.engine = Engine{Kind::podman, "podman", true};
    REQUIRE(f.spec().user);
    CHECK(f.spec().user->first == 0u);
    CHECK(f.spec().user->second == 0u);
  }
  SECTION("memory and pids come from config when the entry has none") {
    f.config.memory = "3g";
    f.config.pids = 333;
    auto spec = f.spec();
    CHECK(spec.memory == "3g");
    CHECK(spec.pids == 333);
  }
  SECTION("the entry's memory and pids win over config") {
    f.config.memory = "3g";
    f.config.pids = 333;
    f.entry.memory = "256m";
    f.entry.pids = 16;
    auto spec = f.spec();
    CHECK(spec.memory == "256m");
    CHECK(spec.pids == 16);
  }
  SECTION("network and capabilities are the entry's; capability order does not matter") {
    f.entry.network = Network::none;
    f.entry.capabilities = {"NET_RAW", "CHOWN"};
    auto spec = f.spec();
    CHECK(spec.network == Network::none);
    CHECK(spec.capabilities == std::vector<std::string>{"CHOWN", "NET_RAW"});

    fod::mapping::Entry reordered = f.entry;
    reordered.capabilities = {"CHOWN", "NET_RAW"};
    fod::run::RunRequest other = f.request;
    other.entry = &reordered;
    auto again = container_spec(other, f.project, f.home, keeper);
    CHECK(fod::engine::settings_key(f.request.engine, spec) ==
          fod::engine::settings_key(f.request.engine, again));
  }
  SECTION("the same run in the same place gives the same container key; elsewhere another") {
    CHECK(fod::run::target_for(f.request, f.project).key ==
          fod::run::target_for(f.request, f.project).key);
    CHECK(fod::run::target_for(f.request, f.project).key !=
          fod::run::target_for(f.request, f.dir.mkdir("elsewhere", 0700)).key);
  }
}

TEST_CASE("containers::runtime_id is one per canonical runtime directory", "[unit][runner]") {
  TempDir dir;
  fod::test::EnvGuard env;
  const std::string a = dir.mkdir("a", 0700);
  const std::string b = dir.mkdir("b", 0700);
  REQUIRE(symlink(a.c_str(), (dir / "link-to-a").c_str()) == 0);

  env.set("XDG_RUNTIME_DIR", a);
  const std::string id_a = fod::containers::runtime_id();
  CHECK(id_a.size() == 16);
  CHECK(id_a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(fod::containers::runtime_id() == id_a);
  env.set("XDG_RUNTIME_DIR", b);
  CHECK(fod::containers::runtime_id() != id_a);
  env.set("XDG_RUNTIME_DIR", dir / "link-to-a");
  CHECK(fod::containers::runtime_id() == id_a);
  env.set("XDG_RUNTIME_DIR", a + "/");
  CHECK(fod::containers::runtime_id() == id_a);
}

TEST_CASE("containers::serving_hint: one key per family, and only a key is read back",
          "[unit][runner]") {
  TempDir dir;
  fod::test::EnvGuard env;
  env.set("XDG_RUNTIME_DIR", dir.mkdir("run", 0700));
  const std::string family(32, 'a');
  const std::string key(32, 'b');
  const std::string other(32, 'c');
  CHECK_FALSE(fod::containers::serving_hint(family));
  fod::containers::remember_serving(family, key);
  CHECK(fod::containers::serving_hint(family) == key);
  CHECK_FALSE(fod::containers::serving_hint(other));
  fod::containers::remember_serving(family, other);
  CHECK(fod::containers::serving_hint(family) == other);
  // Neither a family nor a key that is not one names a file.
  fod::containers::remember_serving("../" + family, key);
  fod::containers::remember_serving(family, "../" + key);
  CHECK(fod::containers::serving_hint(family) == other);
  CHECK_FALSE(fod::containers::serving_hint("../served/" + family));
  const std::string file = fod::util::join(fod::dirs::runtime(), "served/" + family);
  REQUIRE(fod::util::write_file_atomic(file, "../../c/" + key));
  CHECK_FALSE(fod::containers::serving_hint(family));
}

TEST_CASE("containers::read_info: the mounts on a line of their own, read only when asked",
          "[unit][runner]") {
  using fod::containers::RecordPart;
  TempDir dir;
  fod::containers::ContainerPaths paths(dir.path());
  fod::containers::Info info;
  info.key = std::string(32, 'b');
  info.container = "fod-1-" + info.key;
  info.image = "localhost/a:1";
  info.root = "/work";
  info.family = std::string(32, 'a');
  info.mounted.binds = {{"/work", "/work", false}, {"/data/x", "/x", true}};
  info.mounted.hidden = {"/work/.cache/fod"};
  info.mounted.identities = {{"/work", "1:2"}, {"/x", "1:3"}};
  REQUIRE(fod::containers::write_info(paths, info));
  const std::string text = fod::util::read_file(paths.info()).value_or("");
  CHECK(std::count(text.begin(), text.end(), '\n') == 2);

  auto whole = fod::containers::read_info(paths);
  REQUIRE(whole);
  CHECK(whole->key == info.key);
  CHECK(whole->family == info.family);
  auto spelled = [](const std::vector<BindMount> &binds) {
    std::vector<std::string> out;
    out.reserve(binds.size());
    for (const auto &bind : binds) {
      out.push_back(bind.source + " " + bind.target + (bind.read_only ? " ro" : " rw"));
    }
    return out;
  };
  CHECK(spelled(whole->mounted.binds) == spelled(info.mounted.binds));
  CHECK(whole->mounted.hidden == info.mounted.hidden);
  CHECK(whole->mounted.identities == info.mounted.identities);
  auto first_line = fod::containers::read_info(paths, RecordPart::without_mounts);
  REQUIRE(first_line);
  CHECK(first_line->family == info.family);
  CHECK(first_line->mounted.binds.empty());
  CHECK(first_line->mounted.identities.empty());

  SECTION("an older fod's record: one line, the mounts in it") {
    REQUIRE(fod::util::write_file_atomic(
        paths.info(), "{\"key\":\"k\",\"container\":\"c\",\"image\":\"i\",\"root\":\"/work\","
                      "\"engine\":\"podman\",\"rootless\":false,\"commands\":[],\"ttl\":60,"
                      "\"created\":1,\"family\":\"f\",\"binds\":[{\"source\":\"/work\","
                      "\"target\":\"/work\",\"ro\":false}],\"hidden\":[],"
                      "\"identities\":{\"/work\":\"1:2\"}}"));
    auto older = fod::containers::read_info(paths);
    REQUIRE(older);
    REQUIRE(older->mounted.binds.size() == 1);
    CHECK(older->mounted.binds[0].target == "/work");
    CHECK(older->mounted.identities.at("/work") == "1:2");
  }
  SECTION("a damaged second line: no record") {
    REQUIRE(fod::util::write_file_atomic(paths.info(),
                                         *fod::util::read_file(paths.info()) + "{\"binds\":"));
    CHECK_FALSE(fod::containers::read_info(paths));
  }
}

TEST_CASE("run::target_for: the same run in two runtime directories gets two containers",
          "[unit][runner]") {
  Fixture f;
  fod::test::EnvGuard env;
  const std::string a = f.dir.mkdir("run-a", 0700);
  const std::string b = f.dir.mkdir("run-b", 0700);
  const std::string prefix = "fod-" + std::to_string(getuid()) + "-";

  env.set("XDG_RUNTIME_DIR", a);
  const auto in_a = fod::run::target_for(f.request, f.project);
  const auto again_in_a = fod::run::target_for(f.request, f.project);
  const std::string id_a = fod::containers::runtime_id();
  env.set("XDG_RUNTIME_DIR", b);
  const auto in_b = fod::run::target_for(f.request, f.project);
  const std::string id_b = fod::containers::runtime_id();

  SECTION("one runtime directory: the same key and name each time") {
    CHECK(again_in_a.key == in_a.key);
    CHECK(again_in_a.spec.name == in_a.spec.name);
  }
  SECTION("two runtime directories: different keys and names") {
    CHECK(in_a.key != in_b.key);
    CHECK(in_a.spec.name != in_b.spec.name);
    CHECK(in_a.spec.name == prefix + in_a.key);
    CHECK(in_b.spec.name == prefix + in_b.key);
  }
  SECTION("the label fod.runtime and the key carry the runtime directory's id") {
    CHECK(in_a.spec.runtime == id_a);
    CHECK(in_b.spec.runtime == id_b);
    CHECK(in_a.spec.labels.at("fod.runtime") == id_a);
    CHECK(in_b.spec.labels.at("fod.runtime") == id_b);
    CHECK(in_a.spec.labels.at("fod.key") == in_a.key);
  }
  SECTION("only the runtime directory differs between the two specs") {
    auto spec_b = in_b.spec;
    spec_b.runtime = in_a.spec.runtime;
    CHECK(fod::engine::settings_key(f.request.engine, spec_b) ==
          fod::engine::settings_key(f.request.engine, in_a.spec));
  }
}

TEST_CASE("run::fast_path_unusable: config, local and remote engines", "[unit][agent]") {
  fod::mapping::Config config;
  Engine podman{Kind::podman, "podman", false};
  Engine docker{Kind::docker, "docker", false};
  unsetenv("DOCKER_HOST");
  unsetenv("CONTAINER_HOST");

  SECTION("on by default with a local engine") {
    CHECK_FALSE(fod::run::fast_path_unusable(config, podman));
    CHECK_FALSE(fod::run::fast_path_unusable(config, docker));
    setenv("DOCKER_HOST", "unix:///var/run/docker.sock", 1);
    setenv("CONTAINER_HOST", "", 1);
    CHECK_FALSE(fod::run::fast_path_unusable(config, docker));
    CHECK_FALSE(fod::run::fast_path_unusable(config, podman));
  }
  SECTION("off in config") {
    config.fast_path = false;
    auto why = fod::run::fast_path_unusable(config, podman);
    REQUIRE(why);
    CHECK(*why == "fast_path: false in config.yaml");
  }
  SECTION("a remote engine: the engine's own variable decides") {
    setenv("DOCKER_HOST", "tcp://10.0.0.1:2376", 1);
    auto why = fod::run::fast_path_unusable(config, docker);
    REQUIRE(why);
    CHECK(why->find("DOCKER_HOST") != std::string::npos);
    CHECK_FALSE(fod::run::fast_path_unusable(config, podman));
    setenv("CONTAINER_HOST", "ssh://user@host/run/podman/podman.sock", 1);
    CHECK(fod::run::fast_path_unusable(config, podman));
  }
  unsetenv("DOCKER_HOST");
  unsetenv("CONTAINER_HOST");
}

TEST_CASE("run::encode_agent_request: what the agent's parser reads back", "[unit][agent]") {
  fod::engine::ExecSpec spec;
  spec.image = "localhost/tool:1";
  spec.workdir = "/work";
  spec.command = {"/tool", "echo", "a b", ""};
  fod::test::EnvGuard env;
  env.set("FOD_TEST_SENT", "v=1");
  env.unset("FOD_TEST_UNSET_NAME");
  spec.env_names = {"FOD_TEST_SENT", "FOD_TEST_UNSET_NAME"}; // an unset name is not sent
  // Every item ends in a NUL, and no text here holds one: the NULs count the items.
  auto items_in = [](const fod::run::AgentRequest &request) {
    return static_cast<size_t>(std::count(request.payload.begin(), request.payload.end(), '\0'));
  };
  auto request = fod::run::encode_agent_request(spec, 0);
  CHECK(request.streams == 0);
  CHECK(request.items == 7); // 4 arguments, D, I, one E
  CHECK(items_in(request) == request.items);
  fod_agent_request parsed{};
  const char *why = nullptr;
  REQUIRE(fod_agent_parse(request.payload.data(), request.payload.size(), &parsed, &why) == 0);
  std::vector<std::string> argv;
  for (char **arg = parsed.argv; *arg != nullptr; ++arg) {
    argv.emplace_back(*arg);
  }
  CHECK(argv == spec.command);
  CHECK(std::string(parsed.cwd) == "/work");
  CHECK(std::string(parsed.image) == "localhost/tool:1");
  REQUIRE(parsed.env[0] != nullptr);
  CHECK(std::string(parsed.env[0]) == "FOD_TEST_SENT=v=1");
  CHECK(parsed.env[1] == nullptr);
  CHECK(parsed.pty_slots == 0);
  fod_agent_request_free(&parsed);

  // A terminal on stdin: its stream is named for the pseudo-terminal (T), counted as an item.
  // (M and W follow when stdin is a terminal indeed, as when the tests run at one.)
  auto with_terminal = fod::run::encode_agent_request(spec, 1u);
  CHECK(with_terminal.streams == 1u);
  CHECK(with_terminal.items > request.items);
  CHECK(items_in(with_terminal) == with_terminal.items);
  REQUIRE(fod_agent_parse(with_terminal.payload.data(), with_terminal.payload.size(), &parsed,
                          &why) == 0);
  CHECK(parsed.pty_slots == 1u);
  fod_agent_request_free(&parsed);
}

TEST_CASE("run::request_unfit_for_agent: the agent's item and byte limits", "[unit][agent]") {
  fod::engine::ExecSpec spec;
  spec.image = "localhost/tool:1";
  spec.workdir = "/work";
  // Two items beside the arguments: D and I.
  // Each request is also given to the agent's parser: fod's limits must be the agent's.
  auto agent_reads = [](const fod::run::AgentRequest &request) {
    fod_agent_request parsed{};
    const char *why = nullptr;
    const bool read =
        fod_agent_parse(request.payload.data(), request.payload.size(), &parsed, &why) == 0;
    if (read) {
      fod_agent_request_free(&parsed);
    }
    return read;
  };
  spec.command.assign(FOD_AGENT_MAX_ITEMS - 2, "x");
  auto at_item_limit = fod::run::encode_agent_request(spec, 0);
  CHECK_FALSE(fod::run::request_unfit_for_agent(at_item_limit));
  CHECK(agent_reads(at_item_limit));
  spec.command.emplace_back("x");
  CHECK_FALSE(agent_reads(fod::run::encode_agent_request(spec, 0)));
  auto why = fod::run::request_unfit_for_agent(fod::run::encode_agent_request(spec, 0));
  REQUIRE(why);
  // 65,535 items "Ax\0", "D/work\0", "Ilocalhost/tool:1\0"
  CHECK(*why == "the request (65537 items, 196630 bytes) is larger than the agent reads "
                "(65536 items, 4194304 bytes)");

  // Bytes: a payload of exactly the limit is read, one byte more is not. Beside the variable's
  // value: "Acat\0", "D/work\0", "Ilocalhost/tool:1\0" and the item's "EFOD_TEST_BIG=" and NUL.
  spec.command = {"cat"};
  fod::test::EnvGuard env;
  const size_t around_value = 5 + 7 + 18 + std::string("EFOD_TEST_BIG=").size() + 1;
  env.set("FOD_TEST_BIG", std::string(FOD_AGENT_MAX_PAYLOAD - around_value, 'v'));
  spec.env_names = {"FOD_TEST_BIG"};
  auto at_limit = fod::run::encode_agent_request(spec, 0);
  CHECK(at_limit.payload.size() == FOD_AGENT_MAX_PAYLOAD);
  CHECK_FALSE(fod::run::request_unfit_for_agent(at_limit));
  CHECK(agent_reads(at_limit));
  env.set("FOD_TEST_BIG", std::string(FOD_AGENT_MAX_PAYLOAD - around_value + 1, 'v'));
  CHECK_FALSE(agent_reads(fod::run::encode_agent_request(spec, 0)));
  why = fod::run::request_unfit_for_agent(fod::run::encode_agent_request(spec, 0));
  REQUIRE(why);
  CHECK(*why == "the request (4 items, 4194305 bytes) is larger than the agent reads (65536 "
                "items, 4194304 bytes)");
  env.unset("FOD_TEST_BIG");
  CHECK_FALSE(fod::run::request_unfit_for_agent(fod::run::encode_agent_request(spec, 0)));
}
