#include "engine/argv.hpp"
#include "temp_dir.hpp"

#include <algorithm>
#include <catch2/catch.hpp>

using fod::engine::ContainerSpec;
using fod::engine::Engine;
using fod::engine::ExecSpec;
using fod::engine::Kind;
using fod::engine::Network;
using Argv = std::vector<std::string>;

namespace {

const Engine podman_rootful{Kind::podman, "/usr/bin/podman", false};
const Engine podman_rootless{Kind::podman, "podman", true};
const Engine docker{Kind::docker, "docker", false};

ContainerSpec sample_spec(bool with_user) {
  ContainerSpec spec;
  spec.name = "fod-1000-0123456789abcdef";
  spec.image = "ghcr.io/jqlang/jq:1.7";
  spec.labels = {{"fod.managed", "true"}, {"fod.owner", "1000"}, {"fod.key", "0123456789abcdef"}};
  spec.keeper_path = "/usr/libexec/fod/fod-keeper";
  spec.box_dir = "/run/user/1000/fod/c/0123456789abcdef/box";
  spec.binds = {{"/home/u/project", "/home/u/project", false},
                {"/home/u/.config/jq", "/home/u/.config/jq", true}};
  spec.home = "/home/u";
  spec.home_on_tmpfs = true;
  spec.tmp_on_tmpfs = true;
  spec.capabilities = {"NET_ADMIN", "NET_RAW"};
  spec.memory = "512m";
  spec.pids = 64;
  if (with_user) {
    spec.user = std::make_pair(uid_t{1000}, gid_t{1001});
  }
  return spec;
}

// Index of the first element equal to value, or argv.size().
size_t index_of(const Argv &argv, const std::string &value, size_t from = 0) {
  auto it = std::find(argv.begin() + static_cast<std::ptrdiff_t>(std::min(from, argv.size())),
                      argv.end(), value);
  return static_cast<size_t>(it - argv.begin());
}

bool contains(const Argv &argv, const std::string &value) {
  return index_of(argv, value) < argv.size();
}

// True when option is followed by value somewhere in argv.
bool has_option(const Argv &argv, const std::string &option, const std::string &value) {
  for (size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == option && argv[i + 1] == value) {
      return true;
    }
  }
  return false;
}

// Every value given to option, in order.
Argv option_values(const Argv &argv, const std::string &option) {
  Argv values;
  for (size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == option) {
      values.push_back(argv[i + 1]);
    }
  }
  return values;
}

bool any_contains(const Argv &argv, const std::string &part) {
  return std::any_of(argv.begin(), argv.end(),
                     [&](const std::string &a) { return a.find(part) != std::string::npos; });
}

} // namespace

TEST_CASE("engine::run_detached_argv starts a locked-down warm container", "[unit][engine]") {
  struct Case {
    const char *what;
    Engine engine;
    bool with_user;
  };
  for (const auto &c :
       {Case{"podman rootful", podman_rootful, true},
        Case{"podman rootless", podman_rootless, false}, Case{"docker", docker, true}}) {
    DYNAMIC_SECTION(c.what) {
      const ContainerSpec spec = sample_spec(c.with_user);
      const Argv argv = fod::engine::run_detached_argv(c.engine, spec);
      INFO("argv: " << ::Catch::Detail::stringify(argv));

      REQUIRE(argv.size() > 3);
      CHECK(argv[0] == c.engine.cli);
      CHECK(argv[1] == "run");
      CHECK(contains(argv, "--detach"));
      CHECK(contains(argv, "--rm"));
      CHECK(has_option(argv, "--name", spec.name));
      CHECK(has_option(argv, "--pull", "never"));
      CHECK(option_values(argv, "--label") ==
            Argv{"fod.key=0123456789abcdef", "fod.managed=true", "fod.owner=1000"});
      CHECK(has_option(argv, "--entrypoint", "/.fod/keeper"));

      // Bind mounts by --mount: a path may hold ':', which --volume cannot carry.
      CHECK_FALSE(contains(argv, "--volume"));
      auto mounts = option_values(argv, "--mount");
      CHECK(std::count(mounts.begin(), mounts.end(),
                       "type=bind,src=/usr/libexec/fod/fod-keeper,dst=/.fod/keeper,ro") == 1);
      CHECK(std::count(mounts.begin(), mounts.end(),
                       "type=bind,src=" + spec.box_dir + ",dst=/.fod/run") == 1);
      CHECK(std::count(mounts.begin(), mounts.end(),
                       "type=bind,src=/home/u/project,dst=/home/u/project") == 1);
      CHECK(std::count(mounts.begin(), mounts.end(),
                       "type=bind,src=/home/u/.config/jq,dst=/home/u/.config/jq,ro") == 1);
      CHECK(mounts.size() == 4);

      CHECK(has_option(argv, "--env", "HOME=/home/u"));
      CHECK(has_option(argv, "--tmpfs", "/tmp:rw,mode=1777"));

      // Every capability dropped first, then only the listed ones added.
      size_t drop = index_of(argv, "--cap-drop");
      REQUIRE(drop + 1 < argv.size());
      CHECK(argv[drop + 1] == "all");
      CHECK(option_values(argv, "--cap-add") == Argv{"NET_ADMIN", "NET_RAW"});
      CHECK(index_of(argv, "--cap-add") > drop);
      CHECK(has_option(argv, "--security-opt", "no-new-privileges"));
      CHECK(has_option(argv, "--pids-limit", "64"));
      CHECK(has_option(argv, "--memory", "512m"));
      CHECK_FALSE(contains(argv, "--network"));
      CHECK_FALSE(contains(argv, "--privileged"));

      // "--", the image, then the keeper's mode, last of all: no image is an option.
      REQUIRE(argv.size() >= 3);
      CHECK(argv[argv.size() - 3] == "--");
      CHECK(argv[argv.size() - 2] == spec.image);
      CHECK(argv.back() == "keep");

      auto tmpfs = option_values(argv, "--tmpfs");
      auto home = std::find_if(tmpfs.begin(), tmpfs.end(), [](const std::string &t) {
        return t.compare(0, 8, "/home/u:") == 0;
      });
      REQUIRE(home != tmpfs.end());
      CHECK(home->find("rw") != std::string::npos);
      CHECK(home->find("mode=0700") != std::string::npos);

      if (c.engine.kind == Kind::podman && !c.engine.rootless) {
        CHECK(has_option(argv, "--user", "1000:1001"));
        CHECK(home->size() >= 2);
        CHECK(home->substr(home->size() - 2) == ",U");
        CHECK(home->find("uid=") == std::string::npos);
      } else if (c.engine.kind == Kind::docker) {
        CHECK(has_option(argv, "--user", "1000:1001"));
        CHECK(home->find("uid=1000") != std::string::npos);
        CHECK(home->find("gid=1001") != std::string::npos);
        CHECK(home->find(",U") == std::string::npos);
      } else {
        CHECK_FALSE(contains(argv, "--user"));
        CHECK(home->find(",U") == std::string::npos);
        CHECK(home->find("uid=") == std::string::npos);
        CHECK(home->find("gid=") == std::string::npos);
      }
    }
  }
}

TEST_CASE("engine::run_detached_argv follows the spec's options", "[unit][engine]") {
  ContainerSpec spec = sample_spec(true);

  SECTION("--network only when not the default") {
    spec.network = Network::none;
    CHECK(has_option(fod::engine::run_detached_argv(docker, spec), "--network", "none"));
    spec.network = Network::host;
    CHECK(has_option(fod::engine::run_detached_argv(docker, spec), "--network", "host"));
    spec.network = Network::standard;
    CHECK_FALSE(contains(fod::engine::run_detached_argv(docker, spec), "--network"));
  }
  SECTION("--user only when set") {
    spec.user.reset();
    for (const auto &engine : {podman_rootful, docker}) {
      auto argv = fod::engine::run_detached_argv(engine, spec);
      CHECK_FALSE(contains(argv, "--user"));
      CHECK_FALSE(any_contains(option_values(argv, "--tmpfs"), ",U"));
      CHECK_FALSE(any_contains(option_values(argv, "--tmpfs"), "uid="));
    }
  }
  SECTION("no HOME tmpfs when HOME is already mounted") {
    spec.home_on_tmpfs = false;
    auto tmpfs = option_values(fod::engine::run_detached_argv(podman_rootful, spec), "--tmpfs");
    CHECK(tmpfs == Argv{"/tmp:rw,mode=1777"});
  }
  SECTION("no /tmp tmpfs when /tmp is mounted") {
    spec.tmp_on_tmpfs = false;
    spec.home_on_tmpfs = false;
    CHECK_FALSE(contains(fod::engine::run_detached_argv(podman_rootful, spec), "--tmpfs"));
  }
  SECTION("no capabilities: everything dropped, nothing added") {
    spec.capabilities.clear();
    auto argv = fod::engine::run_detached_argv(docker, spec);
    CHECK(has_option(argv, "--cap-drop", "all"));
    CHECK_FALSE(contains(argv, "--cap-add"));
  }
  SECTION("pure: the same spec gives the same argv") {
    CHECK(fod::engine::run_detached_argv(docker, spec) ==
          fod::engine::run_detached_argv(docker, spec));
  }
  SECTION("the image comes after every option, so it cannot be read as one") {
    auto argv = fod::engine::run_detached_argv(podman_rootful, spec);
    size_t image = index_of(argv, spec.image);
    for (size_t i = image + 1; i < argv.size(); ++i) {
      CHECK(argv[i].compare(0, 1, "-") != 0);
    }
  }
}

TEST_CASE("engine::exec_argv runs a command through the keeper", "[unit][engine]") {
  ExecSpec spec;
  spec.container = "fod-1000-0123456789abcdef";
  spec.image = "jq:1.7";
  spec.workdir = "/home/u/project";
  spec.session = "4242";
  spec.command = {"jq", "--help", "; rm -rf /", "$(x)", "", "a b", "--", "-e"};

  auto tail_after_container = [&](const Argv &argv) {
    size_t at = index_of(argv, spec.container);
    REQUIRE(at < argv.size());
    return Argv(argv.begin() + static_cast<std::ptrdiff_t>(at), argv.end());
  };

  SECTION("container, keeper exec SESSION IMAGE SIZE --, then the command verbatim") {
    for (const auto &engine : {podman_rootful, podman_rootless, docker}) {
      auto argv = fod::engine::exec_argv(engine, spec);
      CHECK(argv[0] == engine.cli);
      CHECK(argv[1] == "exec");
      Argv expected = {spec.container, "/.fod/keeper", "exec", "4242", "jq:1.7", "-", "--"};
      expected.insert(expected.end(), spec.command.begin(), spec.command.end());
      CHECK(tail_after_container(argv) == expected);
      CHECK(has_option(argv, "--workdir", "/home/u/project"));
    }
  }
  SECTION("--interactive only when interactive") {
    spec.interactive = true;
    CHECK(contains(fod::engine::exec_argv(docker, spec), "--interactive"));
    spec.interactive = false;
    CHECK_FALSE(contains(fod::engine::exec_argv(docker, spec), "--interactive"));
  }
  SECTION("--tty and --detach-keys only with a terminal") {
    for (const auto &engine : {podman_rootful, docker}) {
      spec.tty = false;
      auto plain = fod::engine::exec_argv(engine, spec);
      CHECK_FALSE(contains(plain, "--tty"));
      CHECK_FALSE(contains(plain, "--detach-keys"));
      spec.tty = true;
      auto tty = fod::engine::exec_argv(engine, spec);
      CHECK(contains(tty, "--tty"));
      size_t keys = index_of(tty, "--detach-keys");
      REQUIRE(keys + 1 < tty.size());
      CHECK(keys < index_of(tty, spec.container));
      // The default ctrl-p,ctrl-q would swallow Ctrl-P in the tool.
      CHECK(tty[keys + 1].find("ctrl-p") == std::string::npos);
    }
  }
  SECTION("the keeper gets the terminal size as ROWSxCOLS only with a terminal of known size") {
    auto size_given = [&]() {
      auto tail = tail_after_container(fod::engine::exec_argv(docker, spec));
      REQUIRE(tail.size() > 6);
      CHECK(tail[6] == "--");
      return tail[5];
    };
    spec.tty = true;
    spec.rows = 40;
    spec.cols = 120;
    CHECK(size_given() == "40x120");
    spec.tty = false;
    CHECK(size_given() == "-");
    spec.tty = true;
    spec.rows = 0;
    CHECK(size_given() == "-");
    spec.rows = 40;
    spec.cols = 0;
    CHECK(size_given() == "-");
  }
  SECTION("environment variables are passed by name; their values never appear") {
    fod::test::EnvGuard env;
    env.set("FOD_UNIT_SECRET", "s3cr3t-value");
    spec.env_names = {"TERM", "FOD_UNIT_SECRET"};
    for (const auto &engine : {podman_rootful, podman_rootless, docker}) {
      auto argv = fod::engine::exec_argv(engine, spec);
      CHECK(option_values(argv, "--env") == Argv{"TERM", "FOD_UNIT_SECRET"});
      CHECK_FALSE(any_contains(argv, "s3cr3t"));
      CHECK_FALSE(any_contains(argv, "="));
      // options come before the container name
      CHECK(index_of(argv, "--env") < index_of(argv, spec.container));
    }
  }
  SECTION("no options between the command's arguments") {
    spec.interactive = true;
    spec.tty = true;
    spec.env_names = {"TERM"};
    auto argv = fod::engine::exec_argv(docker, spec);
    Argv tail(argv.end() - static_cast<std::ptrdiff_t>(spec.command.size()), argv.end());
    CHECK(tail == spec.command);
  }
}

TEST_CASE("engine::remove_argv and list_argv", "[unit][engine]") {
  SECTION("remove forces the container away and tolerates its absence") {
    auto p = fod::engine::remove_argv(podman_rootful, "fod-1-x");
    CHECK(p.front() == "/usr/bin/podman");
    CHECK(p[1] == "rm");
    CHECK(contains(p, "--force"));
    CHECK(p.back() == "fod-1-x");
    CHECK(p[p.size() - 2] == "--");
    auto d = fod::engine::remove_argv(docker, "fod-1-x");
    CHECK(d.front() == "docker");
    CHECK(d[1] == "rm");
    CHECK(contains(d, "--force"));
    CHECK(d.back() == "fod-1-x");
    CHECK(d[d.size() - 2] == "--");
  }
  SECTION("list filters by fod's labels and the owner's uid") {
    for (const auto &engine : {podman_rootful, podman_rootless, docker}) {
      auto argv = fod::engine::list_argv(engine, 1234);
      CHECK(argv[0] == engine.cli);
      CHECK(argv[1] == "ps");
      CHECK(contains(argv, "--all"));
      auto filters = option_values(argv, "--filter");
      CHECK(std::count(filters.begin(), filters.end(), "label=fod.managed=true") == 1);
      CHECK(std::count(filters.begin(), filters.end(), "label=fod.owner=1234") == 1);
      CHECK(has_option(argv, "--format", "{{.Names}}"));
      CHECK(filters.size() == 2);
    }
  }
  SECTION("each label given narrows the list, by presence or by value") {
    auto argv =
        fod::engine::list_argv(docker, 1234, {"fod.runtime=0123456789abcdef", "fod.runtime"});
    auto filters = option_values(argv, "--filter");
    CHECK(filters == Argv{"label=fod.managed=true", "label=fod.owner=1234",
                          "label=fod.runtime=0123456789abcdef", "label=fod.runtime"});
    CHECK(argv[argv.size() - 2] == "--format");
  }
  SECTION("box_source_argv asks for the host source of the box mount only") {
    for (const auto &engine : {podman_rootful, podman_rootless, docker}) {
      auto argv = fod::engine::box_source_argv(engine, "fod-1-x");
      CHECK(argv ==
            Argv{engine.cli, "inspect", "--format",
                 "{{range .Mounts}}{{if eq .Destination \"/.fod/run\"}}{{.Source}}{{end}}{{end}}",
                 "fod-1-x"});
    }
  }
}

TEST_CASE("engine::pull_argv, tag_argv and image_inspect_argv", "[unit][engine]") {
  const std::string ref = "r:1/x@sha256:" + std::string(64, 'a');
  SECTION("pull by digest; only podman takes a per-pull flag for an insecure registry") {
    CHECK(fod::engine::pull_argv(podman_rootful, ref, true) ==
          Argv{"/usr/bin/podman", "pull", "--tls-verify=false", "--", ref});
    CHECK(fod::engine::pull_argv(podman_rootless, ref, false) == Argv{"podman", "pull", "--", ref});
    // docker has no per-pull flag: its daemon decides.
    CHECK(fod::engine::pull_argv(docker, ref, true) == Argv{"docker", "pull", "--", ref});
  }
  SECTION("tag names the pulled digest as the mapping does") {
    CHECK(fod::engine::tag_argv(docker, ref, "r:1/x:1") ==
          Argv{"docker", "tag", "--", ref, "r:1/x:1"});
    CHECK(fod::engine::tag_argv(podman_rootless, ref, "r:1/x:1") ==
          Argv{"podman", "tag", "--", ref, "r:1/x:1"});
  }
  SECTION("image inspect prints the template given") {
    CHECK(fod::engine::image_inspect_argv(podman_rootful, "{{.Id}}", "r/x:1") ==
          Argv{"/usr/bin/podman", "image", "inspect", "--format", "{{.Id}}", "--", "r/x:1"});
    CHECK(fod::engine::image_inspect_argv(docker, "{{json .Config.Entrypoint}}", "r/x:1") ==
          Argv{"docker", "image", "inspect", "--format", "{{json .Config.Entrypoint}}", "--",
               "r/x:1"});
  }
  SECTION("-- comes before every image operand, so no image is read as an option") {
    const std::string image = "-u0:0/x:1"; // what validation refuses; argv must hold it anyway
    for (const auto &engine : {podman_rootful, podman_rootless, docker}) {
      for (const auto &argv : {fod::engine::pull_argv(engine, image, true),
                               fod::engine::tag_argv(engine, image, image),
                               fod::engine::image_inspect_argv(engine, "{{.Id}}", image)}) {
        INFO(::Catch::Detail::stringify(argv));
        auto dashes = std::find(argv.begin(), argv.end(), "--");
        auto operand = std::find(argv.begin(), argv.end(), image);
        REQUIRE(dashes != argv.end());
        REQUIRE(operand != argv.end());
        CHECK(dashes < operand);
        CHECK(std::count(argv.begin(), dashes, image) == 0);
      }
    }
  }
}

TEST_CASE("engine::run_detached_argv quotes a mount's path as CSV where it must",
          "[unit][engine]") {
  ContainerSpec spec = sample_spec(true);
  spec.binds = {{"/a b:c", "/a b:c", false},
                {"/x,y", "/x,y", true},
                {"/q\"uote", "/q\"uote", false},
                {"/new\nline", "/new\nline", false}};
  auto mounts = option_values(fod::engine::run_detached_argv(docker, spec), "--mount");
  CHECK(std::count(mounts.begin(), mounts.end(), "type=bind,src=/a b:c,dst=/a b:c") == 1);
  CHECK(std::count(mounts.begin(), mounts.end(), "type=bind,\"src=/x,y\",\"dst=/x,y\",ro") == 1);
  CHECK(std::count(mounts.begin(), mounts.end(),
                   "type=bind,\"src=/q\"\"uote\",\"dst=/q\"\"uote\"") == 1);
  CHECK(std::count(mounts.begin(), mounts.end(),
                   "type=bind,\"src=/new\nline\",\"dst=/new\nline\"") == 1);
}

TEST_CASE("engine::settings_key identifies a container's settings, not its name or mounts",
          "[unit][engine]") {
  const ContainerSpec base = sample_spec(true);
  const std::string key = fod::engine::settings_key(podman_rootful, base);

  SECTION("32 lowercase hex digits (128 bits of SHA-256)") {
    CHECK(key.size() == 32);
    CHECK(key.find_first_not_of("0123456789abcdef") == std::string::npos);
  }
  SECTION("equal specs give equal keys; name, labels, box and mounts do not count") {
    ContainerSpec same = sample_spec(true);
    CHECK(fod::engine::settings_key(podman_rootful, same) == key);
    same.name = "another-name";
    same.labels["fod.key"] = "other";
    same.box_dir = "/elsewhere";
    // The mounts are keyed by containers/run_mounts (unit-tested in test_run_mounts.cpp).
    same.binds.push_back({"/data", "/data", true});
    same.hidden.push_back("/home/u/.cache/fod");
    same.home_on_tmpfs = !same.home_on_tmpfs;
    same.tmp_on_tmpfs = !same.tmp_on_tmpfs;
    CHECK(fod::engine::settings_key(podman_rootful, same) == key);
  }
  SECTION("each defining property changes the key") {
    std::vector<std::pair<std::string, ContainerSpec>> variants;
    auto vary = [&](const std::string &what, auto change) {
      ContainerSpec s = base;
      change(s);
      variants.emplace_back(what, s);
    };
    vary("image", [](ContainerSpec &s) { s.image = "ghcr.io/jqlang/jq:1.8"; });
    vary("network none", [](ContainerSpec &s) { s.network = Network::none; });
    vary("network host", [](ContainerSpec &s) { s.network = Network::host; });
    vary("capability added", [](ContainerSpec &s) { s.capabilities.push_back("SYS_PTRACE"); });
    vary("capability removed", [](ContainerSpec &s) { s.capabilities.pop_back(); });
    vary("memory", [](ContainerSpec &s) { s.memory = "1g"; });
    vary("pids", [](ContainerSpec &s) { s.pids = 65; });
    vary("user uid", [](ContainerSpec &s) { s.user->first = 1002; });
    vary("user gid", [](ContainerSpec &s) { s.user->second = 1002; });
    vary("no user", [](ContainerSpec &s) { s.user.reset(); });
    vary("home", [](ContainerSpec &s) { s.home = "/home/v"; });
    vary("keeper", [](ContainerSpec &s) { s.keeper_path = "/opt/fod/fod-keeper"; });
    vary("runtime directory", [](ContainerSpec &s) { s.runtime = "0123456789abcdef"; });
    for (const auto &[what, spec] : variants) {
      INFO("changed: " << what);
      CHECK(fod::engine::settings_key(podman_rootful, spec) != key);
    }
  }
  SECTION("the engine kind, CLI and mode change the key") {
    CHECK(fod::engine::settings_key(Engine{Kind::docker, "/usr/bin/podman", false}, base) != key);
    CHECK(fod::engine::settings_key(Engine{Kind::podman, "/usr/local/bin/podman", false}, base) !=
          key);
    CHECK(fod::engine::settings_key(Engine{Kind::podman, "/usr/bin/podman", true}, base) != key);
  }
  SECTION("moving a value between neighbouring fields changes the key") {
    ContainerSpec a = base;
    ContainerSpec b = base;
    a.memory = "5";
    a.pids = 12;
    b.memory = "51";
    b.pids = 2;
    CHECK(fod::engine::settings_key(docker, a) != fod::engine::settings_key(docker, b));
  }
}
