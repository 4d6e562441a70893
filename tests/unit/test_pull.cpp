#include "mapping/index.hpp"
#include "mapping/loader.hpp"
#include "mapping/validate.hpp"
#include "pull/catalog.hpp"
#include "pull/flow.hpp"
#include "pull/probe.hpp"
#include "temp_dir.hpp"

#include <algorithm>
#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using fod::mapping::Mapping;
using fod::pull::ProbeResult;

TEST_CASE("pull::parse_probe_output reads fod-registry's exit status and JSON line",
          "[unit][pull]") {
  const std::string d = "sha256:" + std::string(64, 'b');
  SECTION("found") {
    auto r = fod::pull::parse_probe_output(
        0,
        R"({"reference":"r/x:1","digest":")" + d +
            R"(","manifest_digest":"sha256:c","size":338123,"media_type":"m","platform":"p"})" +
            "\n",
        "");
    CHECK(r.kind == ProbeResult::Kind::found);
    CHECK(r.remote.digest == d);
    CHECK(r.remote.size == 338123);
  }
  SECTION("not found carries the registry's message") {
    auto r = fod::pull::parse_probe_output(1, R"({"error":"manifest unknown"})", "");
    CHECK(r.kind == ProbeResult::Kind::not_found);
    CHECK(r.error == "manifest unknown");
  }
  SECTION("failure: the error line, or stderr, or the status") {
    CHECK(fod::pull::parse_probe_output(3, R"({"error":"timed out"})", "").error == "timed out");
    CHECK(fod::pull::parse_probe_output(4, "", "boom\nmore").error == "boom");
    CHECK(fod::pull::parse_probe_output(9, "", "").error.find("9") != std::string::npos);
    CHECK(fod::pull::parse_probe_output(2, "", "").kind == ProbeResult::Kind::invalid);
  }
  SECTION("exit 0 without a sha256 digest is a failure, not a hit") {
    CHECK(fod::pull::parse_probe_output(0, "not json", "").kind == ProbeResult::Kind::failed);
    CHECK(fod::pull::parse_probe_output(0, R"({"digest":"sha256:x -u0"})", "").kind ==
          ProbeResult::Kind::failed);
  }
  SECTION("only a transport failure is unreachable; a malformed answer is its own kind") {
    CHECK(fod::pull::parse_probe_output(3, R"({"error":"cannot connect"})", "").kind ==
          ProbeResult::Kind::unreachable);
    CHECK(fod::pull::parse_probe_output(4, R"({"error":"HTTP 500"})", "").kind ==
          ProbeResult::Kind::failed);
    CHECK(fod::pull::parse_probe_output(5, R"({"error":"not valid JSON"})", "").kind ==
          ProbeResult::Kind::malformed);
    CHECK(fod::pull::parse_probe_output(139, "", "").kind == ProbeResult::Kind::failed);
  }
  SECTION("every string taken from the helper is printable") {
    auto r = fod::pull::parse_probe_output(
        5, "{\"error\":\"type \\u001b]0;pwned\\u0007\\u001b[2J\\u009b1m\"}\n", "");
    CHECK(r.error == "type ]0;pwned[2J1m");
    auto e = fod::pull::parse_probe_output(4, "", "\x1b[2Jboom\n");
    CHECK(e.error == "[2Jboom");
    auto f = fod::pull::parse_probe_output(
        0, R"({"reference":"r/x:1\u001b[2J","digest":")" + d + R"(","size":1})", "");
    CHECK(f.remote.reference == "r/x:1[2J");
  }
}

TEST_CASE("pull::describe_failure names the kind of failure and the registry", "[unit][pull]") {
  ProbeResult r;
  r.registry = "127.0.0.1:5000";
  r.error = "why";
  r.kind = ProbeResult::Kind::unreachable;
  CHECK(fod::pull::describe_failure(r) == "registry unreachable: why");
  r.kind = ProbeResult::Kind::malformed;
  CHECK(fod::pull::describe_failure(r) == "malformed answer from 127.0.0.1:5000: why");
  r.kind = ProbeResult::Kind::failed;
  CHECK(fod::pull::describe_failure(r) == "registry error: why");
  r.kind = ProbeResult::Kind::not_found;
  CHECK(fod::pull::describe_failure(r) == "not found in its registry: why");
}

TEST_CASE("pull::human_size uses decimal units", "[unit][pull]") {
  CHECK(fod::pull::human_size(512) == "512 B");
  CHECK(fod::pull::human_size(338123) == "338 kB");
  CHECK(fod::pull::human_size(2'100'000) == "2.1 MB");
  CHECK(fod::pull::human_size(7'340'000'000) == "7.3 GB");
}

TEST_CASE("pull argv: insecure hosts, timeouts", "[unit][pull]") {
  fod::mapping::Config config;
  config.insecure_registries = {"127.0.0.1:5000"};
  config.registry_connect_timeout = 3s;
  config.registry_timeout = 7s;
  CHECK(fod::pull::probe_argv("/h", "127.0.0.1:5000/x:1", config) ==
        std::vector<std::string>{"/h", "probe", "--insecure", "127.0.0.1:5000", "--connect-timeout",
                                 "3", "--timeout", "7", "--", "127.0.0.1:5000/x:1"});
  CHECK(fod::pull::is_insecure("127.0.0.1:5000/x:1", config));
  CHECK_FALSE(fod::pull::is_insecure("127.0.0.1:5001/x:1", config));
  CHECK_FALSE(fod::pull::is_insecure("jq", config));
}

TEST_CASE("pull argv: -- comes before the image the registry helper probes", "[unit][pull]") {
  fod::mapping::Config config;
  const std::string image = "-u0:0/x:1"; // what validation refuses; argv must hold it anyway
  auto probe = fod::pull::probe_argv("/h", image, config);
  CHECK(probe.end()[-2] == "--");
  CHECK(probe.back() == image);
}

TEST_CASE("pull::may_ask_catalogs sends image names, never a secret pasted at the prompt",
          "[unit][pull][catalog]") {
  using fod::pull::may_ask_catalogs;
  for (const std::string name :
       {"jq", "ripgrep", "x86_64-linux-gnu-gcc-12", "python3.11", "aws-vault"}) {
    INFO(name);
    CHECK(may_ask_catalogs(name));
  }
  for (const std::string name :
       {"Upper", "c++", "a..b", "-x",                                // not image names
        "d41d8cd98f00b204e9800998ecf8427e",                          // hex
        "3f2504e0-4f89-41d3-9a0c-0305e82c3301",                      // a UUID
        "ghp_a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8",                  // upper case aside, a token
        "correct-horse-battery-staple-and-some-more-words-to-it"}) { // over 48
    INFO(name);
    CHECK_FALSE(may_ask_catalogs(name));
  }
}

TEST_CASE("pull::negative_cache_path keeps a SHA-256 of the name, not the name",
          "[unit][pull][catalog]") {
  fod::test::TempDir dir;
  fod::test::EnvGuard env;
  env.set("XDG_CACHE_HOME", dir.path());
  const std::string path = fod::pull::negative_cache_path("mytypo");
  CHECK(fod::util::dirname(path) == dir.path() + "/fod/catalog-miss");
  const std::string file = fod::util::basename(path);
  CHECK(file.size() == 32);
  CHECK(file.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(file.find("mytypo") == std::string::npos);
  CHECK(fod::pull::negative_cache_path("mytypo") == path);
  CHECK(file == "8871d152a8f9abc848f71c204e532d21"); // the first half of sha256("mytypo")
  CHECK(fod::pull::negative_cache_path("mytypp") != path);
}

TEST_CASE("mapping: the pull and catalog settings of config.yaml", "[unit][pull][mapping]") {
  Mapping m;
  fod::mapping::apply_config_text("confirm: never\non_digest_change: refuse\n"
                                  "insecure_registries: [\"127.0.0.1:5000\", localhost]\n"
                                  "catalogs: [\"registry.example.com/tools/\"]\n"
                                  "catalog_network: none\n"
                                  "registry_connect_timeout: 1s\nregistry_timeout: 10s\n"
                                  "negative_cache_ttl: 2h\n",
                                  "c.yaml", m);
  INFO(m.diagnostics.size());
  CHECK(m.diagnostics.empty());
  CHECK(m.config.confirm == fod::mapping::Confirm::never);
  CHECK(m.config.on_digest_change == fod::mapping::OnDigestChange::refuse);
  CHECK(m.config.insecure_registries == std::vector<std::string>{"127.0.0.1:5000", "localhost"});
  CHECK(m.config.catalogs == std::vector<std::string>{"registry.example.com/tools"});
  CHECK(m.config.catalog_network == fod::mapping::Network::none);
  CHECK(m.config.registry_connect_timeout == 1s);
  CHECK(m.config.registry_timeout == 10s);
  CHECK(m.config.negative_cache_ttl == 2h);

  Mapping bad;
  fod::mapping::apply_config_text("confirm: sometimes\non_digest_change: maybe\n"
                                  "catalogs: [tools]\ninsecure_registries: [\"a/b\"]\n"
                                  "registry_timeout: 0s\n",
                                  "c.yaml", bad);
  CHECK(bad.diagnostics.size() == 5);
  CHECK(bad.config.confirm == fod::mapping::Confirm::ask);
  CHECK(bad.config.catalogs.empty());
  CHECK(bad.config.registry_timeout == 5s);
}

TEST_CASE("mapping::check_catalog wants a registry and a repository prefix", "[unit][pull]") {
  CHECK_FALSE(fod::mapping::check_catalog("registry.example.com/tools"));
  CHECK_FALSE(fod::mapping::check_catalog("127.0.0.1:5000/a/b"));
  CHECK(fod::mapping::check_catalog("tools"));
  CHECK(fod::mapping::check_catalog("tools/x")); // no registry: would mean docker.io
  CHECK(fod::mapping::check_catalog("registry.example.com/Tools"));
  CHECK(fod::mapping::check_catalog("registry.example.com/tools:1"));
}

TEST_CASE("mapping index keeps the pull settings", "[unit][pull][index]") {
  fod::test::TempDir dir;
  std::string layer = dir.path() + "/user";
  std::string cache = dir.path() + "/cache";
  dir.write("user/config.yaml",
            "confirm: never\ncatalogs: [\"r.example/t\"]\ninsecure_registries: [r.example]\n"
            "negative_cache_ttl: 5m\ncatalog_network: host\n");
  std::vector<fod::mapping::Layer> layers = {{"user", layer}};
  auto first = fod::mapping::load_indexed(layers, cache);
  REQUIRE(first.rebuilt);
  auto second = fod::mapping::load_indexed(layers, cache);
  REQUIRE_FALSE(second.rebuilt);
  CHECK(second.mapping.config.confirm == fod::mapping::Confirm::never);
  CHECK(second.mapping.config.catalogs == std::vector<std::string>{"r.example/t"});
  CHECK(second.mapping.config.insecure_registries == std::vector<std::string>{"r.example"});
  CHECK(second.mapping.config.negative_cache_ttl == 5min);
  CHECK(second.mapping.config.catalog_network == fod::mapping::Network::host);
}

TEST_CASE("pull::lookup_catalogs never sends nor caches a secret-looking name, and misses are kept "
          "by hash",
          "[unit][pull][catalog]") {
  fod::test::TempDir dir;
  fod::test::EnvGuard env;
  env.set("XDG_CACHE_HOME", dir / "cache");
  env.set("XDG_STATE_HOME", dir / "state");
  // A registry helper that records what it is asked and answers "not found".
  const std::string asked = dir / "asked";
  env.set("FOD_REGISTRY", dir.write("fod-registry",
                                    "#!/bin/sh\necho \"$@\" >> '" + asked +
                                        "'\necho '{\"error\":\"no such image\"}'\nexit 1\n",
                                    0755));
  fod::mapping::Config config;
  config.catalogs = {"registry.example.com/tools"};
  const std::string misses = dir / "cache/fod/catalog-miss";
  dir.write("cache/fod/catalog-miss/an-older-typo", "registry.example.com/tools\nmiss\n");

  for (const std::string secret :
       {"ghp_k3j9x0q8w2m5n7b1v4c6z8l0p2r4t6y8u0i1", "d41d8cd98f00b204e9800998ecf8427e",
        "3f2504e0-4f89-41d3-9a0c-0305e82c3301"}) {
    CHECK_FALSE(fod::pull::lookup_catalogs(secret, config));
  }
  CHECK_FALSE(fod::util::read_file(asked)); // nothing was sent

  CHECK_FALSE(fod::pull::lookup_catalogs("mytypo", config));
  CHECK(fod::util::read_file(asked).value_or("") ==
        "probe --connect-timeout 2 --timeout 5 -- registry.example.com/tools/mytypo:latest\n");
  std::vector<std::string> files;
  for (const auto &item : std::filesystem::directory_iterator(misses)) {
    files.push_back(item.path().filename().string());
  }
  // The miss under its hash; the file an older fod named after a name is gone.
  CHECK(files ==
        std::vector<std::string>{fod::util::basename(fod::pull::negative_cache_path("mytypo"))});
  CHECK_FALSE(fod::pull::lookup_catalogs("mytypo", config)); // cached: not asked again
  CHECK(fod::util::read_file(asked).value_or("").size() ==
        std::string(
            "probe --connect-timeout 2 --timeout 5 -- registry.example.com/tools/mytypo:latest\n")
            .size());
}
