#include "mapping/index.hpp"
#include "mapping/loader.hpp"
#include "mapping/validate.hpp"
#include "pull/flow.hpp"
#include "pull/probe.hpp"
#include "temp_dir.hpp"

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
    CHECK(fod::pull::parse_probe_output(3, "", "boom\nmore").error == "boom");
    CHECK(fod::pull::parse_probe_output(9, "", "").error.find("9") != std::string::npos);
    CHECK(fod::pull::parse_probe_output(2, "", "").kind == ProbeResult::Kind::invalid);
  }
  SECTION("exit 0 without a digest is a failure, not a hit") {
    CHECK(fod::pull::parse_probe_output(0, "not json", "").kind == ProbeResult::Kind::failed);
  }
}

TEST_CASE("pull::human_size uses decimal units", "[unit][pull]") {
  CHECK(fod::pull::human_size(512) == "512 B");
  CHECK(fod::pull::human_size(338123) == "338 kB");
  CHECK(fod::pull::human_size(2'100'000) == "2.1 MB");
  CHECK(fod::pull::human_size(7'340'000'000) == "7.3 GB");
}

TEST_CASE("pull argv: insecure hosts, timeouts, pull by digest, tag", "[unit][pull]") {
  fod::mapping::Config config;
  config.insecure_registries = {"127.0.0.1:5000"};
  config.registry_connect_timeout = 3s;
  config.registry_timeout = 7s;
  CHECK(fod::pull::probe_argv("/h", "127.0.0.1:5000/x:1", config) ==
        std::vector<std::string>{"/h", "probe", "--insecure", "127.0.0.1:5000", "--connect-timeout",
                                 "3", "--timeout", "7", "127.0.0.1:5000/x:1"});
  CHECK(fod::pull::is_insecure("127.0.0.1:5000/x:1", config));
  CHECK_FALSE(fod::pull::is_insecure("127.0.0.1:5001/x:1", config));
  CHECK_FALSE(fod::pull::is_insecure("jq", config));

  fod::engine::Engine podman{fod::engine::Kind::podman, "podman", false};
  fod::engine::Engine docker{fod::engine::Kind::docker, "docker", false};
  const std::string ref = "r:1/x@sha256:" + std::string(64, 'a');
  CHECK(fod::pull::pull_argv(podman, ref, true) ==
        std::vector<std::string>{"podman", "pull", "--tls-verify=false", ref});
  CHECK(fod::pull::pull_argv(podman, ref, false) == std::vector<std::string>{"podman", "pull", ref});
  // docker has no per-pull flag: its daemon decides.
  CHECK(fod::pull::pull_argv(docker, ref, true) == std::vector<std::string>{"docker", "pull", ref});
  CHECK(fod::pull::tag_argv(docker, ref, "r:1/x:1") ==
        std::vector<std::string>{"docker", "tag", ref, "r:1/x:1"});
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
  CHECK(fod::mapping::check_catalog("tools/x"));  // no registry: would mean docker.io
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
