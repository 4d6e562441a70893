#include "mapping/index.hpp"
#include "mapping/loader.hpp"
#include "temp_dir.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace std::chrono_literals;
using fod::mapping::Layer;
using fod::mapping::load_indexed;
using fod::test::EnvGuard;
using fod::test::TempDir;

namespace {

// The index files in cache_dir.
std::vector<std::string> index_files(const std::string &cache_dir) {
  std::vector<std::string> files;
  if (DIR *dir = opendir(cache_dir.c_str())) {
    while (const dirent *e = readdir(dir)) {
      std::string name = e->d_name;
      if (name.compare(0, 6, "index-") == 0) {
        files.push_back(fod::util::join(cache_dir, name));
      }
    }
    closedir(dir);
  }
  return files;
}

// Rewrites path in place (same inode) with content.
void rewrite_in_place(const std::string &path, const std::string &content) {
  int fd = open(path.c_str(), O_WRONLY | O_TRUNC);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
  close(fd);
}

// Moves path's modification time seconds into the future.
void push_mtime_forward(const std::string &path, long seconds) {
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  timespec times[2] = {st.st_atim, st.st_mtim};
  times[1].tv_sec += seconds;
  REQUIRE(utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
}

void check_same_entry(const fod::mapping::Entry &a, const fod::mapping::Entry &b) {
  INFO("entry " << a.name);
  CHECK(a.name == b.name);
  CHECK(a.image == b.image);
  CHECK(a.entrypoint == b.entrypoint);
  CHECK(a.network == b.network);
  CHECK(a.env == b.env);
  REQUIRE(a.mounts.size() == b.mounts.size());
  for (size_t i = 0; i < a.mounts.size(); ++i) {
    CHECK(a.mounts[i].path == b.mounts[i].path);
    CHECK(a.mounts[i].read_only == b.mounts[i].read_only);
  }
  CHECK(a.capabilities == b.capabilities);
  CHECK(a.ttl == b.ttl);
  CHECK(a.memory == b.memory);
  CHECK(a.pids == b.pids);
  CHECK(a.origin.layer == b.origin.layer);
  CHECK(a.origin.file == b.origin.file);
  CHECK(a.origin.line == b.origin.line);
}

} // namespace

TEST_CASE("mapping::load_indexed reads YAML once and then serves the index", "[unit][index]") {
  TempDir root;
  std::vector<Layer> layers = {
      {"package", root / "share"}, {"system", root / "etc"}, {"user", root / "config"}};
  const std::string cache = root / "cache/fod";
  const std::string user_file =
      root.write("config/mappings.yaml", "commands:\n  jq:\n    image: jq:1\n");

  auto first = load_indexed(layers, cache);
  REQUIRE(first.rebuilt);
  REQUIRE(first.mapping.find("jq") != nullptr);
  CHECK(first.mapping.find("jq")->image == "jq:1");
  CHECK(index_files(cache).size() == 1);

  SECTION("an unchanged source gives the same mapping from the index") {
    auto second = load_indexed(layers, cache);
    CHECK_FALSE(second.rebuilt);
    REQUIRE(second.mapping.find("jq") != nullptr);
    CHECK(second.mapping.find("jq")->image == "jq:1");
    CHECK_FALSE(load_indexed(layers, cache).rebuilt);
  }
  SECTION("editing a file to a different size rebuilds, once") {
    root.write("config/mappings.yaml", "commands:\n  jq:\n    image: jq:1.7\n");
    auto second = load_indexed(layers, cache);
    CHECK(second.rebuilt);
    CHECK(second.mapping.find("jq")->image == "jq:1.7");
    CHECK_FALSE(load_indexed(layers, cache).rebuilt);
  }
  SECTION("a same-size edit in place, with the mtime moved forward, rebuilds") {
    rewrite_in_place(user_file, "commands:\n  jq:\n    image: jq:2\n");
    push_mtime_forward(user_file, 10);
    auto second = load_indexed(layers, cache);
    CHECK(second.rebuilt);
    CHECK(second.mapping.find("jq")->image == "jq:2");
  }
  SECTION("a same-size edit with the old mtime restored still rebuilds (ctime changed)") {
    struct stat before {};
    REQUIRE(stat(user_file.c_str(), &before) == 0);
    rewrite_in_place(user_file, "commands:\n  jq:\n    image: jq:3\n");
    timespec times[2] = {before.st_atim, before.st_mtim};
    REQUIRE(utimensat(AT_FDCWD, user_file.c_str(), times, 0) == 0);
    auto second = load_indexed(layers, cache);
    CHECK(second.rebuilt);
    CHECK(second.mapping.find("jq")->image == "jq:3");
  }
  SECTION("adding a file in mappings.d rebuilds, also when the directory is new") {
    root.write("config/mappings.d/tools.yaml", "commands:\n  yq:\n    image: yq:4\n");
    auto second = load_indexed(layers, cache);
    CHECK(second.rebuilt);
    CHECK(second.mapping.find("yq") != nullptr);

    root.write("config/mappings.d/more.yaml", "commands:\n  rg:\n    image: rg:14\n");
    auto third = load_indexed(layers, cache);
    CHECK(third.rebuilt);
    CHECK(third.mapping.find("rg") != nullptr);
    CHECK_FALSE(load_indexed(layers, cache).rebuilt);
  }
  SECTION("removing a file in mappings.d rebuilds") {
    std::string extra =
        root.write("etc/mappings.d/extra.yaml", "commands:\n  yq:\n    image: yq:4\n");
    REQUIRE(load_indexed(layers, cache).mapping.find("yq") != nullptr);
    REQUIRE(unlink(extra.c_str()) == 0);
    auto second = load_indexed(layers, cache);
    CHECK(second.rebuilt);
    CHECK(second.mapping.find("yq") == nullptr);
    CHECK(second.mapping.find("jq") != nullptr);
  }
  SECTION("removing mappings.yaml rebuilds") {
    REQUIRE(unlink(user_file.c_str()) == 0);
    auto second = load_indexed(layers, cache);
    CHECK(second.rebuilt);
    CHECK(second.mapping.entries.empty());
  }
  SECTION("a new file in a lower layer rebuilds") {
    root.write("share/mappings.yaml", "commands:\n  fd:\n    image: fd:9\n");
    auto second = load_indexed(layers, cache);
    CHECK(second.rebuilt);
    CHECK(second.mapping.find("fd") != nullptr);
  }
  SECTION("a new config.yaml rebuilds and its settings apply") {
    root.write("config/config.yaml", "ttl: 5m\n");
    auto second = load_indexed(layers, cache);
    CHECK(second.rebuilt);
    CHECK(second.mapping.config.ttl == 300s);
  }
  SECTION("a corrupt index is rebuilt and then served again") {
    auto files = index_files(cache);
    REQUIRE(files.size() == 1);
    auto good = fod::util::read_file(files[0]);
    REQUIRE(good);
    const std::string header = good->substr(0, good->find('\n') + 1);
    const std::vector<std::string> damaged = {
        "",
        "not json at all",
        "not json at all\n",
        "{\"format\": 1, \"sources\": {\n",
        "{}\n",
        "[1,2,3]\n",
        "{\"format\": 999, \"sources\": {}}\n",
        header.substr(0, header.size() - 1),   // header without its newline
        header + "jq\t{\"image\": \"jq:1\"",   // truncated entry line
        header + "jq {\"image\": \"jq:1\"}\n", // entry line without a tab
        header + "jq\t[]\n",                   // entry that is not an object
        good->substr(0, good->size() - 1)};    // last newline lost
    for (const auto &garbage : damaged) {
      INFO("index content: " << garbage);
      REQUIRE(fod::util::write_file_atomic(files[0], garbage));
      auto again = load_indexed(layers, cache);
      CHECK(again.rebuilt);
      REQUIRE(again.mapping.find("jq") != nullptr);
      CHECK(again.mapping.find("jq")->image == "jq:1");
      CHECK_FALSE(load_indexed(layers, cache).rebuilt);
    }
  }
  SECTION("an index with an entry missing fields is rebuilt") {
    auto files = index_files(cache);
    REQUIRE(files.size() == 1);
    auto text = fod::util::read_file(files[0]);
    REQUIRE(text);
    auto at = text->find("\"entrypoint\"");
    REQUIRE(at != std::string::npos);
    std::string damaged = *text;
    damaged.replace(at, 12, "\"entrypoinx\"");
    REQUIRE(fod::util::write_file_atomic(files[0], damaged));
    auto again = load_indexed(layers, cache);
    CHECK(again.rebuilt);
    REQUIRE(again.mapping.find("jq") != nullptr);
    CHECK(again.mapping.find("jq")->entrypoint == std::vector<std::string>{"jq"});
  }
  SECTION("another set of layers has its own index in the same cache") {
    TempDir other;
    other.write("mappings.yaml", "commands:\n  jq:\n    image: jq:other\n");
    std::vector<Layer> other_layers = {{"user", other.path()}};
    auto second = load_indexed(other_layers, cache);
    CHECK(second.rebuilt);
    CHECK(second.mapping.find("jq")->image == "jq:other");
    CHECK_FALSE(load_indexed(layers, cache).rebuilt);
    CHECK(load_indexed(layers, cache).mapping.find("jq")->image == "jq:1");
    CHECK(index_files(cache).size() == 2);
  }
}

TEST_CASE("mapping::load_indexed keeps diagnostics across the round trip", "[unit][index]") {
  TempDir root;
  std::vector<Layer> layers = {{"user", root / "config"}};
  const std::string file =
      root.write("config/mappings.yaml",
                 "commands:\n  ok:\n    image: ok:1\n    colour: red\n  bad:\n    image: bad\n");

  auto first = load_indexed(layers, root / "cache");
  REQUIRE(first.rebuilt);
  REQUIRE(first.mapping.diagnostics.size() == 2);
  CHECK(first.mapping.diagnostics[0].compare(0, file.size() + 3, file + ":4:") == 0);
  CHECK(first.mapping.diagnostics[1].compare(0, file.size() + 3, file + ":6:") == 0);

  auto second = load_indexed(layers, root / "cache");
  CHECK_FALSE(second.rebuilt);
  CHECK(second.mapping.diagnostics == first.mapping.diagnostics);
  CHECK(second.mapping.find("ok") != nullptr);
  CHECK(second.mapping.find("bad") == nullptr);
}

TEST_CASE("mapping::load_indexed round-trips every field of entries and config", "[unit][index]") {
  TempDir root;
  std::vector<Layer> layers = {{"package", root / "share"}, {"user", root / "config"}};
  root.write("share/mappings.yaml", "commands:\n  plain:\n    image: plain:1\n");
  root.write("config/config.yaml",
             "engine: docker\nttl: 1h\nmemory: 3g\npids: 77\nfast_path: false\n");
  root.write("config/mappings.d/full.yaml", R"(commands:
  full:
    image: localhost:5000/team/full:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
    entrypoint: [/bin/full, --flag, "with space", ""]
    network: host
    env: [FULL_TOKEN, OTHER]
    mounts: [/srv/data:ro, ~/.config/full:rw, ~/.cache/full]
    capabilities: [cap_net_raw, SYS_PTRACE]
    ttl: 2h30m
    memory: 256m
    pids: 32
  none:
    image: none:1
    network: none
)");

  auto fresh = load_indexed(layers, root / "cache");
  REQUIRE(fresh.rebuilt);
  REQUIRE(fresh.mapping.diagnostics.empty());
  REQUIRE(fresh.mapping.entries.size() == 3);
  const auto *full = fresh.mapping.find("full");
  REQUIRE(full != nullptr);
  CHECK(full->entrypoint == std::vector<std::string>{"/bin/full", "--flag", "with space", ""});
  CHECK(full->ttl == 9000s);

  auto cached = load_indexed(layers, root / "cache");
  REQUIRE_FALSE(cached.rebuilt);
  REQUIRE(cached.mapping.entries.size() == fresh.mapping.entries.size());
  for (const auto &[name, entry] : fresh.mapping.entries) {
    const auto *again = cached.mapping.find(name);
    REQUIRE(again != nullptr);
    check_same_entry(entry, *again);
  }
  CHECK(cached.mapping.config.engine == "docker");
  CHECK(cached.mapping.config.ttl == 3600s);
  CHECK(cached.mapping.config.memory == "3g");
  CHECK(cached.mapping.config.pids == 77);
  CHECK_FALSE(cached.mapping.config.fast_path);
}

TEST_CASE("mapping::load_indexed round-trips every config.yaml setting and ttl: auto",
          "[unit][index]") {
  TempDir root;
  std::vector<Layer> layers = {{"user", root / "config"}};
  root.write("config/config.yaml", R"(engine: podman
ttl: 45m
ttl_min: 2m
ttl_max: 3h
prewarm: false
max_warm: 3
memory_ceiling: 6g
memory: 1g
pids: 99
fast_path: false
confirm: never
on_digest_change: refuse
insecure_registries: [127.0.0.1:5000, reg.local]
catalogs: [registry.example.com/tools/, ghcr.io/team]
catalog_network: none
registry_connect_timeout: 4s
registry_timeout: 11s
negative_cache_ttl: 0
mount_root: cwd
path_args: false
)");
  root.write("config/mappings.yaml",
             "commands:\n  a:\n    image: a:1\n    ttl: auto\n  b:\n    image: b:1\n");

  auto fresh = load_indexed(layers, root / "cache");
  REQUIRE(fresh.rebuilt);
  REQUIRE(fresh.mapping.diagnostics.empty());
  auto cached = load_indexed(layers, root / "cache");
  REQUIRE_FALSE(cached.rebuilt);

  const auto &want = fresh.mapping.config;
  const auto &got = cached.mapping.config;
  CHECK(want.engine == "podman");
  CHECK(want.ttl == 45min);
  CHECK_FALSE(want.adaptive.ttl_auto);
  CHECK(want.catalogs == std::vector<std::string>{"registry.example.com/tools", "ghcr.io/team"});
  CHECK(got.engine == want.engine);
  CHECK(got.ttl == want.ttl);
  CHECK(got.memory == want.memory);
  CHECK(got.pids == want.pids);
  CHECK(got.fast_path == want.fast_path);
  CHECK(got.adaptive == want.adaptive);
  CHECK(got.confirm == want.confirm);
  CHECK(got.on_digest_change == want.on_digest_change);
  CHECK(got.insecure_registries == want.insecure_registries);
  CHECK(got.catalogs == want.catalogs);
  CHECK(got.catalog_network == want.catalog_network);
  CHECK(got.registry_connect_timeout == want.registry_connect_timeout);
  CHECK(got.registry_timeout == want.registry_timeout);
  CHECK(got.negative_cache_ttl == want.negative_cache_ttl);
  CHECK(want.mount_root == fod::mapping::MountRoot::cwd);
  CHECK_FALSE(want.path_args);
  CHECK(got.mount_root == want.mount_root);
  CHECK(got.path_args == want.path_args);

  REQUIRE(cached.mapping.find("a") != nullptr);
  CHECK(cached.mapping.find("a")->ttl_auto);
  CHECK_FALSE(cached.mapping.find("a")->ttl);
  REQUIRE(cached.mapping.find("b") != nullptr);
  CHECK_FALSE(cached.mapping.find("b")->ttl_auto);

  SECTION("config.yaml's ttl: auto survives the index too") {
    root.write("config/config.yaml", "ttl: auto\n");
    REQUIRE(load_indexed(layers, root / "cache").rebuilt);
    auto again = load_indexed(layers, root / "cache");
    REQUIRE_FALSE(again.rebuilt);
    CHECK(again.mapping.config.adaptive.ttl_auto);
  }
  SECTION("an index of the previous format (6) is rebuilt, not read") {
    auto files = index_files(root / "cache");
    REQUIRE(files.size() == 1);
    auto text = fod::util::read_file(files[0]);
    REQUIRE(text);
    const std::string current = "\"format\":7";
    auto at = text->find(current);
    REQUIRE(at != std::string::npos);
    std::string older = *text;
    older.replace(at, current.size(), "\"format\":6");
    REQUIRE(fod::util::write_file_atomic(files[0], older));
    CHECK(load_indexed(layers, root / "cache").rebuilt);
  }
}

TEST_CASE("mapping::load_indexed with only reads one command from a current index",
          "[unit][index]") {
  TempDir root;
  std::vector<Layer> layers = {{"package", root / "share"}, {"user", root / "config"}};
  const std::string cache = root / "cache";
  root.write("share/config.yaml", "pids: 55\n");
  root.write("share/mappings.yaml", "commands:\n  jq:\n    image: jq:1\n    network: none\n"
                                    "  yq:\n    image: yq:4\n  rg:\n    image: rg:14\n");
  root.write("config/mappings.yaml",
             "commands:\n  rg:\n    disabled: true\n  fd:\n    image: fd\n");

  SECTION("a stale index is rebuilt in full, whatever only says") {
    auto first = load_indexed(layers, cache, std::string("yq"));
    CHECK(first.rebuilt);
    CHECK(first.mapping.entries.size() == 2);
    CHECK(first.mapping.find("jq") != nullptr);
  }
  SECTION("a current index yields just the asked-for entry, config and diagnostics") {
    auto full = load_indexed(layers, cache);
    REQUIRE(full.rebuilt);
    auto one = load_indexed(layers, cache, std::string("jq"));
    CHECK_FALSE(one.rebuilt);
    REQUIRE(one.mapping.entries.size() == 1);
    REQUIRE(one.mapping.find("jq") != nullptr);
    check_same_entry(*full.mapping.find("jq"), *one.mapping.find("jq"));
    CHECK(one.mapping.config.pids == 55);
    CHECK(one.mapping.diagnostics == full.mapping.diagnostics);
    CHECK(one.mapping.diagnostics.size() == 1);
  }
  SECTION("every entry, first and last alike, can be read alone") {
    auto full = load_indexed(layers, cache);
    REQUIRE(full.mapping.entries.size() == 2);
    for (const auto &[name, entry] : full.mapping.entries) {
      auto one = load_indexed(layers, cache, name);
      CHECK_FALSE(one.rebuilt);
      REQUIRE(one.mapping.find(name) != nullptr);
      check_same_entry(entry, *one.mapping.find(name));
    }
  }
  SECTION("an unmapped, disabled or rejected command yields no entry") {
    load_indexed(layers, cache);
    for (const char *name : {"missing", "rg", "fd", "", "j", "jq\t", "config"}) {
      INFO("only: " << name);
      auto none = load_indexed(layers, cache, std::string(name));
      CHECK_FALSE(none.rebuilt);
      CHECK(none.mapping.entries.empty());
    }
  }
  SECTION("the asked-for line damaged: the index is rebuilt") {
    load_indexed(layers, cache);
    auto files = index_files(cache);
    REQUIRE(files.size() == 1);
    auto text = fod::util::read_file(files[0]);
    REQUIRE(text);
    auto at = text->find("\njq\t");
    REQUIRE(at != std::string::npos);
    std::string damaged =
        text->substr(0, at + 4) + "{\"image\": " + text->substr(text->find('\n', at + 1));
    REQUIRE(fod::util::write_file_atomic(files[0], damaged));
    auto again = load_indexed(layers, cache, std::string("jq"));
    CHECK(again.rebuilt);
    REQUIRE(again.mapping.find("jq") != nullptr);
    CHECK(again.mapping.find("jq")->network == fod::mapping::Network::none);
  }
  SECTION("a change to a source is seen through only too") {
    load_indexed(layers, cache);
    root.write("config/mappings.d/jq.yaml", "commands:\n  jq:\n    image: jq:2\n");
    auto again = load_indexed(layers, cache, std::string("jq"));
    CHECK(again.rebuilt);
    CHECK(again.mapping.find("jq")->image == "jq:2");
  }
}

TEST_CASE("mapping::index_sources lists every path whose change makes the index stale",
          "[unit][index]") {
  TempDir root;
  std::vector<Layer> layers = {{"package", root / "share"}, {"user", root / "config"}};
  root.write("config/mappings.d/a.yaml", "");
  root.write("config/mappings.d/notes.txt", "");
  auto sources = fod::mapping::index_sources(layers);
  auto has = [&](const std::string &path) {
    return std::find(sources.begin(), sources.end(), path) != sources.end();
  };
  for (const auto &layer : layers) {
    INFO("layer " << layer.name);
    CHECK(has(layer.dir + "/config.yaml"));
    CHECK(has(layer.dir + "/mappings.yaml"));
    CHECK(has(layer.dir + "/mappings.d"));
  }
  CHECK(has(root / "config/mappings.d/a.yaml"));
  CHECK_FALSE(has(root / "config/mappings.d/notes.txt"));
}

TEST_CASE("mapping::default_cache_dir follows XDG_CACHE_HOME, else ~/.cache", "[unit][index]") {
  EnvGuard env;
  env.set("XDG_CACHE_HOME", "/x/cache");
  CHECK(fod::mapping::default_cache_dir() == "/x/cache/fod");
  env.unset("XDG_CACHE_HOME");
  env.set("HOME", "/home/someone");
  CHECK(fod::mapping::default_cache_dir() == "/home/someone/.cache/fod");
}
