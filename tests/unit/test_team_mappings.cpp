// Team mappings: the artifact fod publishes and fetches (registry/artifact.hpp), where the
// copies go and how fod-registry is asked (pull/sources.hpp), the team layer (mapping/layers).

#include "mapping/layers.hpp"
#include "mapping/loader.hpp"
#include "pull/schedule.hpp"
#include "pull/sources.hpp"
#include "registry/artifact.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>

using fod::registry::ArtifactError;
using fod::registry::MappingsLayer;
using fod::test::EnvGuard;
using fod::test::TempDir;
using nlohmann::json;

namespace {

const std::string empty_digest =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
const std::string layer_digest = "sha256:" + std::string(64, 'a');

json published() {
  return json::parse(fod::registry::mappings_manifest({layer_digest, 120}, empty_digest));
}

} // namespace

TEST_CASE("registry: the mappings artifact fod publishes is the one it reads", "[unit][team]") {
  const json manifest = published();
  CHECK(manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json");
  CHECK(manifest["artifactType"] == "application/vnd.fod.mappings.v1+yaml");
  CHECK(manifest["config"]["mediaType"] == "application/vnd.oci.empty.v1+json");
  CHECK(manifest["config"]["size"] == 2);
  CHECK(manifest["layers"].size() == 1);
  MappingsLayer layer = fod::registry::parse_mappings_artifact(manifest.dump());
  CHECK(layer.digest == layer_digest);
  CHECK(layer.size == 120);
}

TEST_CASE("registry: a manifest that is not a fod mappings artifact is refused, saying why",
          "[unit][team]") {
  auto refused = [](const json &manifest, const std::string &why) {
    try {
      fod::registry::parse_mappings_artifact(manifest.dump());
      FAIL("accepted: " << manifest.dump());
    } catch (const ArtifactError &e) {
      INFO(e.what());
      CHECK(std::string(e.what()).find(why) != std::string::npos);
    }
  };
  json other_type = published();
  other_type["artifactType"] = "application/vnd.example.other";
  refused(other_type, "artifact type");

  json image = published();
  image.erase("artifactType");
  image["config"]["mediaType"] = "application/vnd.oci.image.config.v1+json";
  refused(image, "artifact type");

  json older = published(); // as older tools write it: the type as the config's media type
  older.erase("artifactType");
  older["config"]["mediaType"] = "application/vnd.fod.mappings.v1+yaml";
  CHECK(fod::registry::parse_mappings_artifact(older.dump()).digest == layer_digest);

  json two = published();
  two["layers"].push_back(two["layers"][0]);
  refused(two, "more than one");

  json none = published();
  none["layers"] = json::array();
  refused(none, "no mapping layer");

  json foreign = published();
  foreign["layers"][0]["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip";
  refused(foreign, "layer of type");

  json huge = published();
  huge["layers"][0]["size"] = (1 << 20) + 1;
  refused(huge, "more than fod reads");
  json at_limit = published();
  at_limit["layers"][0]["size"] = 1 << 20;
  CHECK(fod::registry::parse_mappings_artifact(at_limit.dump()).size == 1 << 20);

  json bad_digest = published();
  bad_digest["layers"][0]["digest"] = "sha512:" + std::string(128, 'a');
  refused(bad_digest, "digest");

  json index = {{"schemaVersion", 2},
                {"mediaType", "application/vnd.oci.image.index.v1+json"},
                {"manifests", json::array()}};
  refused(index, "not an OCI artifact manifest");

  CHECK_THROWS_AS(fod::registry::parse_mappings_artifact("commands: ["), ArtifactError);
  CHECK_THROWS_AS(fod::registry::parse_mappings_artifact("[]"), ArtifactError);
}

TEST_CASE("pull: team copies are named by position and source, in the team layer", "[unit][team]") {
  TempDir dir;
  EnvGuard env;
  env.set("XDG_STATE_HOME", dir / "state");
  CHECK(fod::pull::source_file(0, "registry.example.com:5000/team/fod-mappings:v1") ==
        dir / "state/fod/team/mappings.d/00-registry.example.com_5000_team_fod-mappings_v1.yaml");
  // Position first: a later source's file sorts later and wins, as mappings.d files do.
  CHECK(fod::pull::source_file(1, "a.io/z:1") > fod::pull::source_file(0, "z.io/a:1"));
  CHECK(fod::pull::source_file(2, "r.io/x@sha256:" + std::string(64, 'f')).find('@') ==
        std::string::npos);

  auto layers = fod::mapping::default_layers();
  auto team = std::find_if(layers.begin(), layers.end(),
                           [](const auto &layer) { return layer.name == "team"; });
  REQUIRE(team != layers.end());
  CHECK(team->dir == dir / "state/fod/team");
  CHECK_FALSE(team->has_config);
  CHECK(layers.front().name == "package");
  CHECK(team == layers.begin() + 1);
  CHECK(layers.back().name == "user");
}

TEST_CASE("pull: the team layer's config.yaml is never read", "[unit][team]") {
  TempDir dir;
  dir.write("team/config.yaml", "verify: {}\ninsecure_registries: [evil.example.com]\n");
  dir.write("team/mappings.d/00-x.yaml", "commands:\n  tool:\n    image: r.io/t:1\n");
  dir.write("user/config.yaml", "insecure_registries: [ok.example.com]\n");
  auto mapping =
      fod::mapping::load_layers({{"team", dir / "team", false}, {"user", dir / "user", true}});
  CHECK(mapping.config.insecure_registries == std::vector<std::string>{"ok.example.com"});
  REQUIRE(mapping.find("tool") != nullptr);
  CHECK(mapping.find("tool")->origin.layer == "team");
}

TEST_CASE("pull: fod-registry is asked for a source with its keys, into a new file",
          "[unit][team]") {
  fod::mapping::Config config;
  config.insecure_registries = {"127.0.0.1:5000"};
  CHECK(
      fod::pull::fetch_argv("/h", "127.0.0.1:5000/team/m:v1", "/s/.incoming", config, {"/k.pem"}) ==
      std::vector<std::string>{"/h", "fetch-mappings", "--insecure", "127.0.0.1:5000", "--output",
                               "/s/.incoming", "--verify-key", "/k.pem", "--connect-timeout", "2",
                               "--timeout", "5", "--", "127.0.0.1:5000/team/m:v1"});
}

TEST_CASE("pull: a refresh is due only with sources, when mapping_refresh has passed",
          "[unit][team]") {
  TempDir dir;
  EnvGuard env;
  env.set("XDG_STATE_HOME", dir / "state");
  fod::mapping::Config config;
  CHECK_FALSE(fod::pull::refresh_due(config)); // no sources: nothing, not even a stat
  config.mapping_sources = {"127.0.0.1:1/team/m:v1"};
  CHECK(fod::pull::refresh_due(config)); // never fetched
  CHECK_FALSE(fod::pull::has_team_copies());
  dir.write("state/fod/team/fetched", "");
  CHECK(fod::pull::has_team_copies());
  CHECK_FALSE(fod::pull::refresh_due(config)); // just attempted, 1h default
  config.mapping_refresh = std::chrono::seconds(0);
  CHECK(fod::pull::refresh_due(config));
}

TEST_CASE("pull: emptying mapping_sources removes every team copy and the stamp", "[unit][team]") {
  TempDir dir;
  EnvGuard env;
  env.set("XDG_STATE_HOME", dir / "state");
  const std::string copy = dir.write("state/fod/team/mappings.d/00-r.io_t_m_1.yaml", "commands:\n");
  dir.write("state/fod/team/fetched", "");
  fod::mapping::Config config;
  CHECK(fod::pull::refresh_sources(config).empty());
  CHECK_FALSE(fod::util::read_file(copy));
  CHECK_FALSE(fod::pull::has_team_copies());
}
