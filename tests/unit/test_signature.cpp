// Signed images (issue 17): cosign signature manifests and simple-signing payloads
// (registry/signature), the `verify:` key of config.yaml, which keys an image needs and what fod
// remembers it verified (pull/verify), and how fod-registry is asked and answers (pull/probe).
#include "mapping/entry.hpp"
#include "mapping/index.hpp"
#include "mapping/loader.hpp"
#include "pull/probe.hpp"
#include "pull/verify.hpp"
#include "registry/manifest.hpp"
#include "registry/reference.hpp"
#include "registry/signature.hpp"
#include "temp_dir.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <tuple>
#include <vector>

using fod::mapping::Mapping;
using fod::pull::ProbeResult;
using fod::registry::SignatureFormatError;
using fod::registry::SignedClaim;
using fod::test::EnvGuard;
using fod::test::TempDir;
using Scopes = std::map<std::string, std::vector<std::string>>;

namespace {

const std::string image_digest =
    "sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945";
const std::string payload_digest =
    "sha256:8f6d94b3cd8b4e6a2f1c59d2b0b77d1c3e8c1b2d7a9e0f4c5d6b7a8c9d0e1f2a";
const std::string other_payload_digest =
    "sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";
const std::string config_digest =
    "sha256:b6e5e0f1b3c4d2a19f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928";
const std::string signature_value = "MEUCIQDaYb7Z8V3/9mP+qkKfLQ1xWr0yZ3b4c5d6e7f8g9h0iAIgT2u3v4w5x6"
                                    "y7z8A9B0C1D2E3F4G5H6I7J8K9L0M1N2O3P=";

// A signature layer as cosign writes it: the payload's digest and size, the signature in the
// annotation (and, from a keyless signing, a bundle next to it).
nlohmann::json signature_layer(const std::string &digest, std::int64_t size,
                               const std::string &signature) {
  return {{"mediaType", fod::registry::simple_signing_media_type},
          {"size", size},
          {"digest", digest},
          {"annotations",
           {{std::string(fod::registry::signature_annotation), signature},
            {"dev.sigstore.cosign/bundle", R"({"SignedEntryTimestamp":"MEQCI..."})"}}}};
}

// A signature manifest with an OCI config and these layers.
std::string signature_manifest(const nlohmann::json &layers) {
  nlohmann::json manifest = {{"schemaVersion", 2},
                             {"mediaType", fod::registry::media_type::oci_manifest},
                             {"config",
                              {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                               {"size", 233},
                               {"digest", config_digest}}},
                             {"layers", layers}};
  return manifest.dump();
}

// A simple-signing payload as cosign signs it.
std::string payload(const std::string &reference, const std::string &digest,
                    const std::string &type = std::string(fod::registry::cosign_signature_type)) {
  return R"({"critical":{"identity":{"docker-reference":")" + reference +
         R"("},"image":{"docker-manifest-digest":")" + digest + R"("},"type":")" + type +
         R"("},"optional":{"creator":"cosign"}})";
}

fod::registry::Reference reference(const std::string &text) {
  auto parsed = fod::registry::parse_reference(text);
  REQUIRE(parsed);
  return *parsed;
}

} // namespace

TEST_CASE("registry::signature_tag names cosign's .sig tag of a digest", "[unit][signature]") {
  const std::string tag = fod::registry::signature_tag(image_digest);
  CHECK(tag == "sha256-4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945.sig");
  // A tag the reference grammar takes: fod-registry asks the registry for it by name.
  auto tagged = fod::registry::parse_reference("reg.example.com/team/tool:" + tag);
  REQUIRE(tagged);
  CHECK(tagged->tag == tag);
  CHECK(tagged->digest.empty());
}

TEST_CASE("registry::parse_signature_manifest reads cosign's signature manifest",
          "[unit][signature]") {
  SECTION("a manifest as cosign pushes it: one signed payload") {
    const std::string body =
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
        R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":233,)"
        R"("digest":")" +
        config_digest +
        R"("},"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json",)"
        R"("size":242,"digest":")" +
        payload_digest + R"(","annotations":{"dev.cosignproject.cosign/signature":")" +
        signature_value + R"("}}]})";
    auto layers = fod::registry::parse_signature_manifest(body);
    REQUIRE(layers.size() == 1);
    CHECK(layers[0].digest == payload_digest);
    CHECK(layers[0].size == 242);
    CHECK(layers[0].signature == signature_value);
  }
  SECTION("without mediaType it is read as an OCI manifest; a Docker v2 manifest is read too") {
    nlohmann::json layers = nlohmann::json::array({signature_layer(payload_digest, 242, "c2ln")});
    auto j = nlohmann::json::parse(signature_manifest(layers));
    j.erase("mediaType");
    CHECK(fod::registry::parse_signature_manifest(j.dump()).size() == 1);
    j["mediaType"] = fod::registry::media_type::docker_manifest;
    CHECK(fod::registry::parse_signature_manifest(j.dump()).size() == 1);
  }
  SECTION("several signatures, in the manifest's order; other layers are skipped") {
    nlohmann::json foreign_type = signature_layer(payload_digest, 10, "Zm9yZWlnbg==");
    foreign_type["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip";
    nlohmann::json unsigned_layer = signature_layer(payload_digest, 11, "");
    unsigned_layer["annotations"] = {{"dev.sigstore.cosign/bundle", "{}"}};
    nlohmann::json no_annotations = signature_layer(payload_digest, 12, "");
    no_annotations.erase("annotations");
    nlohmann::json number_signature = signature_layer(payload_digest, 13, "");
    number_signature["annotations"][std::string(fod::registry::signature_annotation)] = 42;
    // Another media type is skipped before its digest is looked at.
    nlohmann::json foreign_sha512 = foreign_type;
    foreign_sha512["digest"] = "sha512:" + std::string(128, 'a');
    nlohmann::json layers =
        nlohmann::json::array({foreign_type, signature_layer(payload_digest, 242, "Zmlyc3Q="),
                               unsigned_layer, no_annotations, number_signature, foreign_sha512,
                               signature_layer(other_payload_digest, 243, "c2Vjb25k")});
    auto read = fod::registry::parse_signature_manifest(signature_manifest(layers));
    REQUIRE(read.size() == 2);
    CHECK(read[0].digest == payload_digest);
    CHECK(read[0].size == 242);
    CHECK(read[0].signature == "Zmlyc3Q=");
    CHECK(read[1].digest == other_payload_digest);
    CHECK(read[1].size == 243);
    CHECK(read[1].signature == "c2Vjb25k");
  }
  SECTION("a manifest without signature layers yields none") {
    CHECK(fod::registry::parse_signature_manifest(signature_manifest(nlohmann::json::array()))
              .empty());
    nlohmann::json image_layer = signature_layer(payload_digest, 10, "eA==");
    image_layer["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip";
    CHECK(fod::registry::parse_signature_manifest(
              signature_manifest(nlohmann::json::array({image_layer})))
              .empty());
  }
  SECTION("at most 16 signatures are read: the first 16") {
    nlohmann::json layers = nlohmann::json::array();
    for (int i = 0; i < 20; ++i) {
      layers.push_back(signature_layer(payload_digest, 200 + i, "sig" + std::to_string(i)));
    }
    auto read = fod::registry::parse_signature_manifest(signature_manifest(layers));
    REQUIRE(read.size() == fod::registry::max_signature_layers);
    CHECK(read.size() == 16);
    CHECK(read.front().signature == "sig0");
    CHECK(read.back().signature == "sig15");
    CHECK(read.back().size == 215);
  }
  SECTION("a payload of up to 64 KiB is read; a larger one refuses the manifest") {
    const std::int64_t limit = 64 * 1024;
    CHECK(fod::registry::max_payload_size == limit);
    CHECK(fod::registry::parse_signature_manifest(
              signature_manifest(
                  nlohmann::json::array({signature_layer(payload_digest, limit, "eA==")})))
              .at(0)
              .size == limit);
    for (std::int64_t size : {limit + 1, std::int64_t{1} << 40}) {
      INFO(size);
      CHECK_THROWS_AS(
          fod::registry::parse_signature_manifest(signature_manifest(
              nlohmann::json::array({signature_layer(payload_digest, 242, "eA=="),
                                     signature_layer(other_payload_digest, size, "eA==")}))),
          SignatureFormatError);
    }
    CHECK_THROWS_WITH(
        fod::registry::parse_signature_manifest(signature_manifest(
            nlohmann::json::array({signature_layer(payload_digest, limit + 1, "x")}))),
        Catch::Contains("65537") && Catch::Contains("65536"));
  }
  SECTION("a signature layer named by another digest than sha256 refuses the manifest") {
    for (const std::string &digest : std::vector<std::string>{
             "sha512:" + std::string(128, 'a'), "sha256:" + std::string(64, 'A'), "sha256:abc"}) {
      INFO(digest);
      CHECK_THROWS_AS(fod::registry::parse_signature_manifest(signature_manifest(
                          nlohmann::json::array({signature_layer(payload_digest, 242, "eA=="),
                                                 signature_layer(digest, 242, "eA==")}))),
                      SignatureFormatError);
    }
  }
  SECTION("what is not a signature manifest throws SignatureFormatError, never ManifestError") {
    nlohmann::json negative = signature_layer(payload_digest, -1, "eA==");
    nlohmann::json no_size = signature_layer(payload_digest, 1, "eA==");
    no_size.erase("size");
    nlohmann::json text_size = signature_layer(payload_digest, 1, "eA==");
    text_size["size"] = "242";
    const std::vector<std::string> bodies = {
        "",
        "{",
        "not json",
        R"({"schemaVersion":2,"layers":[)",
        "[]",
        "\"manifest\"",
        "{}", // no layers
        R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":{}})",
        R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[7]})",
        R"({"mediaType":"text/plain","layers":[]})",
        signature_manifest(nlohmann::json::array({negative})),
        signature_manifest(nlohmann::json::array({no_size})),
        signature_manifest(nlohmann::json::array({text_size})),
    };
    for (const auto &body : bodies) {
      INFO(body);
      CHECK_THROWS_AS(fod::registry::parse_signature_manifest(body), SignatureFormatError);
    }
  }
  SECTION("an index at the signature tag is refused") {
    const std::string entry = R"({"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
                              R"("digest":")" +
                              image_digest + R"(","size":500})";
    for (const std::string type : {"application/vnd.oci.image.index.v1+json",
                                   "application/vnd.docker.distribution.manifest.list.v2+json"}) {
      INFO(type);
      const std::string index =
          R"({"schemaVersion":2,"mediaType":")" + type + R"(","manifests":[)" + entry + "]}";
      CHECK_THROWS_AS(fod::registry::parse_signature_manifest(index), SignatureFormatError);
      CHECK_THROWS_WITH(fod::registry::parse_signature_manifest(index), Catch::Contains("index"));
    }
    // Without a mediaType the body is read as the manifest fod asked for, which it is not.
    CHECK_THROWS_AS(fod::registry::parse_signature_manifest(R"({"schemaVersion":2,"manifests":[)" +
                                                            entry + "]}"),
                    SignatureFormatError);
  }
}

TEST_CASE("registry::parse_manifest keeps a descriptor's string annotations only",
          "[unit][signature][registry]") {
  const std::string body =
      R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[)"
      R"({"mediaType":"l","digest":")" +
      payload_digest +
      R"(","size":1,"annotations":{"a":"x","n":1,"o":{"k":"v"},"l":["x"],"t":true,"z":null,"b":""}},)"
      R"({"mediaType":"l","digest":")" +
      payload_digest + R"(","size":2,"annotations":["a","x"]},)" +
      R"({"mediaType":"l","digest":")" + payload_digest + R"(","size":3}]})";
  auto parsed = fod::registry::parse_manifest(body, "");
  REQUIRE(parsed.layers.size() == 3);
  CHECK(parsed.layers[0].annotations == std::map<std::string, std::string>{{"a", "x"}, {"b", ""}});
  CHECK(parsed.layers[1].annotations.empty()); // not an object: ignored, not an error
  CHECK(parsed.layers[2].annotations.empty());
  CHECK(parsed.layers_size == 6);
}

TEST_CASE("registry::parse_simple_signing reads what a cosign payload claims",
          "[unit][signature]") {
  SECTION("cosign's payload") {
    const std::string text =
        R"({"critical":{"identity":{"docker-reference":"reg.example.com/team/tool"},)"
        R"("image":{"docker-manifest-digest":")" +
        image_digest +
        R"("},"type":"cosign container image signature"},"optional":{"creator":"cosign"}})";
    SignedClaim claim = fod::registry::parse_simple_signing(text);
    CHECK(claim.manifest_digest == image_digest);
    CHECK(claim.docker_reference == "reg.example.com/team/tool");
  }
  SECTION("optional may be null or missing; other keys are ignored") {
    const std::string text =
        R"({"optional":null,"critical":{"type":"cosign container image signature","extra":1,)"
        R"("image":{"docker-manifest-digest":")" +
        image_digest + R"("},"identity":{"docker-reference":"index.docker.io/library/x"}}})";
    SignedClaim claim = fod::registry::parse_simple_signing(text);
    CHECK(claim.manifest_digest == image_digest);
    CHECK(claim.docker_reference == "index.docker.io/library/x");
    CHECK_NOTHROW(fod::registry::parse_simple_signing(payload("r.io/x", image_digest)));
  }
  SECTION("a payload that claims less, or something else, is refused") {
    const std::vector<std::string> refused = {
        "",
        "not json",
        "[]",
        "null",
        payload("r.io/x", image_digest) + "x", // trailing garbage
        R"({"critical":{"identity":{"docker-reference":"r.io/x"},"image":{"docker-manifest-digest":")" +
            image_digest + R"("}}})", // no critical.type
        R"({"critical":{"identity":{"docker-reference":"r.io/x"},"image":{"docker-manifest-digest":")" +
            image_digest + R"("},"type":7}})", // a type that is not a string
        R"({"critical":"cosign container image signature"})",
        R"({"type":"cosign container image signature"})",
        payload("r.io/x", image_digest, "atomic container signature"),
        payload("r.io/x", image_digest, "Cosign Container Image Signature"),
        payload("r.io/x", image_digest, "cosign container image signature "),
        payload("r.io/x", "sha512:" + std::string(128, 'a')),
        payload("r.io/x", "sha256:" + std::string(64, 'A')),
        payload("r.io/x", "sha256:" + std::string(63, 'a')),
        payload("r.io/x", std::string(64, 'a')),
        payload("r.io/x", ""),
        payload("", image_digest),
        R"({"critical":{"image":{"docker-manifest-digest":")" + image_digest +
            R"("},"type":"cosign container image signature"}})", // no docker-reference
        R"({"critical":{"identity":{"docker-reference":["r.io/x"]},"image":{"docker-manifest-digest":")" +
            image_digest + R"("},"type":"cosign container image signature"}})",
        R"({"critical":{"identity":{"docker-reference":"r.io/x"},"type":"cosign container image signature"}})",
    };
    for (const auto &text : refused) {
      INFO(text);
      CHECK_THROWS_AS(fod::registry::parse_simple_signing(text), SignatureFormatError);
    }
  }
}

TEST_CASE("registry::names_repository compares registry and repository in canonical form",
          "[unit][signature]") {
  auto claim = [](const std::string &reference) { return SignedClaim{image_digest, reference}; };
  SECTION("Docker Hub's names") {
    for (const std::string &image :
         std::vector<std::string>{"docker.io/library/x:1", "x", "library/x:2", "x@" + image_digest,
                                  "index.docker.io/library/x:latest"}) {
      INFO(image);
      CHECK(fod::registry::names_repository(claim("index.docker.io/library/x"), reference(image)));
      CHECK(fod::registry::names_repository(claim("docker.io/library/x"), reference(image)));
      CHECK(fod::registry::names_repository(claim("x"), reference(image)));
      CHECK_FALSE(
          fod::registry::names_repository(claim("index.docker.io/other/x"), reference(image)));
    }
  }
  SECTION("a tag or digest in the claim is ignored") {
    const auto image = reference("reg.example.com/team/tool:2");
    CHECK(fod::registry::names_repository(claim("reg.example.com/team/tool"), image));
    CHECK(fod::registry::names_repository(claim("reg.example.com/team/tool:1"), image));
    CHECK(
        fod::registry::names_repository(claim("reg.example.com/team/tool@" + image_digest), image));
    CHECK(fod::registry::names_repository(claim("reg.example.com/team/tool:1@" + image_digest),
                                          image));
  }
  SECTION("another repository or registry is not named") {
    const auto image = reference("reg.example.com:5000/team/tool:1");
    CHECK(fod::registry::names_repository(claim("reg.example.com:5000/team/tool"), image));
    CHECK_FALSE(fod::registry::names_repository(claim("reg.example.com/team/tool"), image));
    CHECK_FALSE(fod::registry::names_repository(claim("reg.example.com:5001/team/tool"), image));
    CHECK_FALSE(fod::registry::names_repository(claim("reg.example.com:5000/team"), image));
    CHECK_FALSE(fod::registry::names_repository(claim("reg.example.com:5000/team/tool/x"), image));
    CHECK_FALSE(fod::registry::names_repository(claim("reg.example.com:5000/team/toolx"), image));
    CHECK_FALSE(fod::registry::names_repository(claim("team/tool"), image));
    CHECK_FALSE(
        fod::registry::names_repository(claim("x"), reference("reg.example.com/library/x:1")));
  }
  SECTION("a claim that is not a reference names nothing") {
    const auto image = reference("reg.example.com/team/tool:1");
    for (const std::string text : {"", "reg.example.com/Team/Tool", "reg.example.com/team/tool:",
                                   "reg.example.com//team/tool", " reg.example.com/team/tool",
                                   "reg.example.com/team/tool@sha256:abc"}) {
      INFO(text);
      CHECK_FALSE(fod::registry::names_repository(claim(text), image));
    }
  }
}

TEST_CASE("registry::in_scope: the scope's registry, then its repository path, by components",
          "[unit][signature]") {
  SECTION("a registry alone covers all of it") {
    CHECK(fod::registry::in_scope(reference("reg:5000/x:1"), "reg:5000"));
    CHECK(fod::registry::in_scope(reference("reg:5000/team/x/y@" + image_digest), "reg:5000"));
    CHECK_FALSE(fod::registry::in_scope(reference("reg:5001/x:1"), "reg:5000"));
    CHECK_FALSE(fod::registry::in_scope(reference("reg/x:1"), "reg")); // docker.io/reg/x
    CHECK_FALSE(fod::registry::in_scope(reference("reg.io/x:1"), "reg"));
    CHECK_FALSE(fod::registry::in_scope(reference("reg:5000/x:1"), "reg"));
  }
  SECTION("a registry and a prefix: the prefix itself and what lies under it") {
    CHECK(fod::registry::in_scope(reference("reg:5000/team:1"), "reg:5000/team"));
    CHECK(fod::registry::in_scope(reference("reg:5000/team/x:1"), "reg:5000/team"));
    CHECK(fod::registry::in_scope(reference("reg:5000/team/x/y:1"), "reg:5000/team"));
    CHECK_FALSE(fod::registry::in_scope(reference("reg:5000/teamx/y:1"), "reg:5000/team"));
    CHECK_FALSE(fod::registry::in_scope(reference("reg:5000/teamx:1"), "reg:5000/team"));
    CHECK_FALSE(fod::registry::in_scope(reference("reg:5000/tea:1"), "reg:5000/team"));
    CHECK_FALSE(fod::registry::in_scope(reference("reg:5000/other/team:1"), "reg:5000/team"));
    CHECK_FALSE(fod::registry::in_scope(reference("reg:5001/team/x:1"), "reg:5000/team"));
    CHECK_FALSE(fod::registry::in_scope(reference("other.io/team/x:1"), "reg:5000/team"));
    CHECK(fod::registry::in_scope(reference("reg:5000/team/x/y:1"), "reg:5000/team/x"));
    CHECK_FALSE(fod::registry::in_scope(reference("reg:5000/team/y:1"), "reg:5000/team/x"));
    CHECK_FALSE(fod::registry::in_scope(reference("reg:5000/team:1"), "reg:5000/team/x"));
  }
  SECTION("Docker Hub's short names lie under docker.io/library") {
    CHECK(fod::registry::in_scope(reference("alpine"), "docker.io/library"));
    CHECK(fod::registry::in_scope(reference("alpine"), "docker.io"));
    CHECK_FALSE(fod::registry::in_scope(reference("someone/alpine"), "docker.io/library"));
  }
}

TEST_CASE("registry::is_valid_scope wants a registry host and valid path components",
          "[unit][signature]") {
  for (const std::string scope :
       {"reg.io", "reg.io/team", "reg.io/team/sub", "reg:5000", "reg:5000/team", "localhost",
        "localhost/team", "localhost:5000/a", "127.0.0.1:5000/a", "[::1]:5000/team", "docker.io",
        "docker.io/library", "reg.io/a.b/c_d/e__f/g--h"}) {
    INFO(scope);
    CHECK(fod::registry::is_valid_scope(scope));
  }
  for (const std::string &scope : std::vector<std::string>{"",
                                                           "team",
                                                           "team/x",
                                                           "/team",
                                                           "reg.io/",
                                                           "reg.io/Team",
                                                           "reg.io/a//b",
                                                           "reg.io/a/",
                                                           "reg.io//a",
                                                           "reg.io/team:1",
                                                           "reg.io/team@" + image_digest,
                                                           "reg.io:port/x",
                                                           "reg.io:",
                                                           "-reg.io/x",
                                                           "reg..io/x",
                                                           " reg.io",
                                                           "reg.io/a b",
                                                           "reg.io/-a",
                                                           "reg.io/a/../b",
                                                           "index.docker.io/library",
                                                           "reg.io/a\n"}) {
    INFO(scope);
    CHECK_FALSE(fod::registry::is_valid_scope(scope));
  }
}

TEST_CASE("mapping: verify: in config.yaml maps image scopes to public key files",
          "[unit][signature][mapping]") {
  EnvGuard env;
  env.set("HOME", "/home/someone");
  SECTION("a key file or a list of them; ~/ is the home directory") {
    Mapping m;
    fod::mapping::apply_config_text("verify:\n"
                                    "  reg.example.com/team: /etc/fod/keys/team.pem\n"
                                    "  127.0.0.1:5000: [/k1.pem, ~/k2.pem]\n"
                                    "  localhost:5000/a/b:\n"
                                    "    - ~/.config/fod/b.pem\n",
                                    "c.yaml", m);
    CHECK(m.diagnostics.empty());
    CHECK(m.config.verify == Scopes{{"reg.example.com/team", {"/etc/fod/keys/team.pem"}},
                                    {"127.0.0.1:5000", {"/k1.pem", "/home/someone/k2.pem"}},
                                    {"localhost:5000/a/b", {"/home/someone/.config/fod/b.pem"}}});
  }
  SECTION("none by default; an empty verify: changes nothing") {
    Mapping m;
    CHECK(m.config.verify.empty());
    fod::mapping::apply_config_text("verify: {reg.io/a: /a.pem}\n", "c.yaml", m);
    fod::mapping::apply_config_text("verify:\n", "d.yaml", m);
    fod::mapping::apply_config_text("verify: {}\n", "e.yaml", m);
    CHECK(m.diagnostics.empty());
    CHECK(m.config.verify == Scopes{{"reg.io/a", {"/a.pem"}}});
  }
  SECTION("each bad value: one line on its line, and the setting is ignored") {
    const std::vector<std::tuple<std::string, int, std::string>> cases = {
        {"verify: /k.pem", 2,
         "'verify' must map image scopes (registry/prefix) to public key files"},
        {"verify: [reg.io/a]", 2,
         "'verify' must map image scopes (registry/prefix) to public key files"},
        {"verify:\n  team/x: /k.pem", 3,
         "verify: 'team/x' is not an image scope like registry.example.com/team"},
        {"verify:\n  reg.io/Team: /k.pem", 3,
         "verify: 'reg.io/Team' is not an image scope like registry.example.com/team"},
        {"verify:\n  reg.io/a//b: /k.pem", 3,
         "verify: 'reg.io/a//b' is not an image scope like registry.example.com/team"},
        {"verify:\n  reg.io/a: []", 3, "verify: 'reg.io/a' names no key file"},
        {"verify:\n  reg.io/a: ~", 3, "verify: 'reg.io/a' names no key file"},
        {"verify:\n  reg.io/a: keys/a.pem", 3,
         "verify: 'reg.io/a': the key file 'keys/a.pem' must be an absolute path (or start with "
         "~/)"},
        {"verify:\n  reg.io/a: [/a.pem, ~a.pem]", 3,
         "verify: 'reg.io/a': the key file '~a.pem' must be an absolute path (or start with ~/)"},
        {"verify:\n  reg.io/a: ['']", 3,
         "verify: 'reg.io/a': the key file '' must be an absolute path (or start with ~/)"},
        {"verify:\n  reg.io/a: {k: /a.pem}", 3, "'verify: reg.io/a' must be a list of strings"},
        {"verify:\n  reg.io/a:\n    - [/a.pem]", 4, "'verify: reg.io/a' must be a list of strings"},
    };
    for (const auto &[yaml, line, message] : cases) {
      INFO(yaml);
      Mapping m;
      fod::mapping::apply_config_text("pids: 7\n" + yaml + "\n", "c.yaml", m);
      CHECK(m.config.pids == 7);
      CHECK(m.config.verify.empty());
      REQUIRE(m.diagnostics.size() == 1);
      CHECK(m.diagnostics[0] ==
            "c.yaml:" + std::to_string(line) + ": " + message + "; setting ignored");
    }
  }
  SECTION("a bad scope leaves verify as it was, like every other setting") {
    // mapping/fields.hpp: "a bad value throws FieldError and leaves target as it was".
    Mapping m;
    fod::mapping::apply_config_text("verify: {reg.io/a: /old.pem}\n", "c.yaml", m);
    REQUIRE(m.diagnostics.empty());
    fod::mapping::apply_config_text("verify:\n  reg.io/a: /new.pem\n  reg.io/b: /b.pem\n"
                                    "  reg.io/c: c.pem\n",
                                    "d.yaml", m);
    REQUIRE(m.diagnostics.size() == 1);
    CHECK(m.diagnostics[0].rfind("d.yaml:4: verify: 'reg.io/c'", 0) == 0);
    CHECK(m.config.verify == Scopes{{"reg.io/a", {"/old.pem"}}});
  }
}

TEST_CASE("mapping: verify: merges by scope across layers and survives the index",
          "[unit][signature][mapping][index]") {
  TempDir root;
  EnvGuard env;
  env.set("HOME", "/home/someone");
  std::vector<fod::mapping::Layer> layers = {
      {"package", root / "share"}, {"system", root / "etc"}, {"user", root / "config"}};
  root.write("share/config.yaml",
             "verify:\n  reg.io/a: /share/a.pem\n  reg.io/b: [/share/b1.pem, /share/b2.pem]\n");
  root.write("etc/config.yaml", "verify:\n  reg.io/a: [/etc/a1.pem, /etc/a2.pem]\n");
  root.write("config/config.yaml", "verify:\n  reg.io/c: ~/c.pem\n");
  const Scopes merged = {{"reg.io/a", {"/etc/a1.pem", "/etc/a2.pem"}},
                         {"reg.io/b", {"/share/b1.pem", "/share/b2.pem"}},
                         {"reg.io/c", {"/home/someone/c.pem"}}};

  SECTION("a later layer replaces the keys of a scope both name and keeps the others") {
    auto m = fod::mapping::load_layers(layers);
    CHECK(m.diagnostics.empty());
    CHECK(m.config.verify == merged);
  }
  SECTION("a user layer cannot drop a scope of the system layer") {
    root.write("config/config.yaml", "verify:\n");
    CHECK(fod::mapping::load_layers(layers).config.verify.count("reg.io/a") == 1);
    root.write("config/config.yaml", "verify: {}\n");
    CHECK(fod::mapping::load_layers(layers).config.verify.count("reg.io/a") == 1);
  }
  SECTION("a bad verify: warns with its file and line; the other layers' scopes stay") {
    root.write("config/config.yaml", "ttl: 5m\nverify:\n  team/x: /k.pem\n");
    auto m = fod::mapping::load_layers(layers);
    REQUIRE(m.diagnostics.size() == 1);
    CHECK(m.diagnostics[0] == root / "config/config.yaml" +
                                  ":3: verify: 'team/x' is not an image scope like "
                                  "registry.example.com/team; setting ignored");
    CHECK(m.config.verify.size() == 2);
    CHECK(m.config.verify.at("reg.io/a") == std::vector<std::string>{"/etc/a1.pem", "/etc/a2.pem"});
  }
  SECTION("the JSON index gives back the same scopes") {
    const std::string cache = root / "cache/fod";
    auto first = fod::mapping::load_indexed(layers, cache);
    REQUIRE(first.rebuilt);
    CHECK(first.mapping.config.verify == merged);
    auto second = fod::mapping::load_indexed(layers, cache);
    REQUIRE_FALSE(second.rebuilt);
    CHECK(second.mapping.config.verify == merged);

    // An index without verify (as an older fod wrote it) is rebuilt rather than read as "no
    // scopes": a scope must never be lost on the way.
    std::string index_file;
    for (const auto &entry : std::filesystem::directory_iterator(cache)) {
      if (entry.path().filename().string().rfind("index-", 0) == 0) {
        index_file = entry.path().string();
      }
    }
    REQUIRE_FALSE(index_file.empty());
    std::string text = fod::util::read_file(index_file).value_or("");
    const auto header_end = text.find('\n');
    REQUIRE(header_end != std::string::npos);
    auto header = nlohmann::json::parse(text.substr(0, header_end));
    REQUIRE(header.at("config").contains("verify"));
    header["config"].erase("verify");
    REQUIRE(
        fod::util::write_file_atomic(index_file, header.dump() + text.substr(header_end), 0600));
    auto third = fod::mapping::load_indexed(layers, cache);
    CHECK(third.rebuilt);
    CHECK(third.mapping.config.verify == merged);
  }
}

TEST_CASE("pull::verify_keys: the keys of the longest scope an image lies under",
          "[unit][signature][pull]") {
  fod::mapping::Config config;
  CHECK(fod::pull::verify_keys("reg.io/team/x:1", config).empty());
  config.verify = {{"reg.io", {"/r.pem"}},
                   {"reg.io/team", {"/t1.pem", "/t2.pem"}},
                   {"reg.io/team/sub", {"/s.pem"}},
                   {"docker.io/library", {"/d.pem"}},
                   {"127.0.0.1:5000/a", {"/l.pem"}}};
  using Keys = std::vector<std::string>;
  CHECK(fod::pull::verify_keys("reg.io/team/sub/x:1", config) == Keys{"/s.pem"});
  CHECK(fod::pull::verify_keys("reg.io/team/sub:1", config) == Keys{"/s.pem"});
  CHECK(fod::pull::verify_keys("reg.io/team/subx:1", config) == Keys{"/t1.pem", "/t2.pem"});
  CHECK(fod::pull::verify_keys("reg.io/team/x@" + image_digest, config) ==
        Keys{"/t1.pem", "/t2.pem"});
  CHECK(fod::pull::verify_keys("reg.io/teamx/y:1", config) == Keys{"/r.pem"});
  CHECK(fod::pull::verify_keys("reg.io/x", config) == Keys{"/r.pem"});
  CHECK(fod::pull::verify_keys("jq", config) == Keys{"/d.pem"});
  CHECK(fod::pull::verify_keys("docker.io/library/jq:1.7", config) == Keys{"/d.pem"});
  CHECK(fod::pull::verify_keys("127.0.0.1:5000/a/b:1", config) == Keys{"/l.pem"});
  SECTION("no scope, no keys") {
    CHECK(fod::pull::verify_keys("other.io/team/x:1", config).empty());
    CHECK(fod::pull::verify_keys("someone/jq:1", config).empty());
    CHECK(fod::pull::verify_keys("127.0.0.1:5000/b:1", config).empty());
    CHECK(fod::pull::verify_keys("127.0.0.1:5001/a:1", config).empty());
    CHECK(fod::pull::verify_keys("localhost/reg.io/team:1", config).empty());
  }
  SECTION("an invalid reference has no keys") {
    for (const std::string image : {"", "reg.io/Team/x:1", "-reg.io/team/x", "reg.io/team/x:",
                                    "reg.io//team/x", "reg.io/team/x@sha256:abc"}) {
      INFO(image);
      CHECK(fod::pull::verify_keys(image, config).empty());
    }
  }
}

TEST_CASE("pull::keys_fingerprint follows the key files' paths and contents",
          "[unit][signature][pull]") {
  TempDir dir;
  const std::string a = dir.write("a.pem", "-----BEGIN PUBLIC KEY-----\nAAAA\n");
  const std::string b = dir.write("b.pem", "-----BEGIN PUBLIC KEY-----\nBBBB\n");
  const std::string fingerprint = fod::pull::keys_fingerprint({a, b});
  CHECK(fingerprint.size() == 64);
  CHECK(fingerprint.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(fod::pull::keys_fingerprint({a, b}) == fingerprint);

  SECTION("a key's content changes") {
    dir.write("b.pem", "-----BEGIN PUBLIC KEY-----\nCCCC\n");
    CHECK(fod::pull::keys_fingerprint({a, b}) != fingerprint);
  }
  SECTION("a path changes, the content being the same") {
    const std::string c = dir.write("c.pem", "-----BEGIN PUBLIC KEY-----\nBBBB\n");
    CHECK(fod::pull::keys_fingerprint({a, c}) != fingerprint);
  }
  SECTION("a key is added or left out") {
    CHECK(fod::pull::keys_fingerprint({a}) != fingerprint);
    CHECK(fod::pull::keys_fingerprint({a, b, a}) != fingerprint);
    CHECK(fod::pull::keys_fingerprint({}) != fingerprint);
  }
  SECTION("a key that cannot be read counts by its path") {
    const std::string missing = dir / "missing.pem";
    const std::string gone = fod::pull::keys_fingerprint({a, missing});
    CHECK(gone != fingerprint);
    CHECK(fod::pull::keys_fingerprint({a, missing}) == gone);
    CHECK(fod::pull::keys_fingerprint({a, dir / "other-missing.pem"}) != gone);
    dir.write("missing.pem", "-----BEGIN PUBLIC KEY-----\nDDDD\n");
    CHECK(fod::pull::keys_fingerprint({a, missing}) != gone);
  }
  SECTION("where one key ends and the next begins is part of it") {
    const std::string x = dir.write("x", "yz");
    const std::string xy = dir.write("xy", "z");
    CHECK(fod::pull::keys_fingerprint({x}) != fod::pull::keys_fingerprint({xy}));
  }
}

TEST_CASE("pull::record_verification and recorded_verification keep verified.json",
          "[unit][signature][pull]") {
  TempDir dir;
  EnvGuard env;
  env.set("XDG_STATE_HOME", dir / "state");
  const std::string key = dir.write("keys/team.pem", "-----BEGIN PUBLIC KEY-----\nAAAA\n");
  const std::string other = dir.write("keys/other.pem", "-----BEGIN PUBLIC KEY-----\nBBBB\n");
  const std::vector<std::string> keys = {key, other};
  const std::string image = "reg.example.com/team/tool:1";

  CHECK(fod::pull::verified_path() == dir / "state/fod/verified.json");
  CHECK_FALSE(fod::pull::recorded_verification(image, keys)); // no file yet

  fod::pull::record_verification(image, {image_digest, key, fod::pull::keys_fingerprint(keys)});
  struct stat st {};
  REQUIRE(stat(fod::pull::verified_path().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  SECTION("the record comes back for the same image and keys") {
    auto verified = fod::pull::recorded_verification(image, keys);
    REQUIRE(verified);
    CHECK(verified->digest == image_digest);
    CHECK(verified->key == key);
    CHECK(verified->fingerprint == fod::pull::keys_fingerprint(keys));
    // Kept by canonical name.
    CHECK(fod::pull::recorded_verification("reg.example.com/team/tool:1", keys));
    CHECK_FALSE(fod::pull::recorded_verification("reg.example.com/team/tool:2", keys));
    CHECK_FALSE(fod::pull::recorded_verification("reg.example.com/team/tool", keys));
    CHECK_FALSE(fod::pull::recorded_verification("reg.example.com/team/other:1", keys));
  }
  SECTION("a record made with other keys is not returned") {
    CHECK_FALSE(fod::pull::recorded_verification(image, {key}));
    CHECK_FALSE(fod::pull::recorded_verification(image, {other, key}));
    CHECK_FALSE(fod::pull::recorded_verification(image, {}));
    const std::string moved = dir.write("elsewhere/team.pem", "-----BEGIN PUBLIC KEY-----\nAAAA\n");
    CHECK_FALSE(fod::pull::recorded_verification(image, {moved, other}));
  }
  SECTION("a key file whose content changed voids the record") {
    dir.write("keys/other.pem", "-----BEGIN PUBLIC KEY-----\nEEEE\n");
    CHECK_FALSE(fod::pull::recorded_verification(image, keys));
    // Verified again with the new key: found again.
    fod::pull::record_verification(image, {image_digest, other, fod::pull::keys_fingerprint(keys)});
    auto verified = fod::pull::recorded_verification(image, keys);
    REQUIRE(verified);
    CHECK(verified->key == other);
  }
  SECTION("records of several images; a new one replaces the image's old one") {
    const std::string second_digest = "sha256:" + std::string(64, 'c');
    fod::pull::record_verification("jq", {second_digest, key, fod::pull::keys_fingerprint({key})});
    auto jq = fod::pull::recorded_verification("docker.io/library/jq:latest", {key});
    REQUIRE(jq);
    CHECK(jq->digest == second_digest);
    REQUIRE(fod::pull::recorded_verification(image, keys));
    CHECK(fod::pull::recorded_verification(image, keys)->digest == image_digest);

    fod::pull::record_verification(image,
                                   {second_digest, other, fod::pull::keys_fingerprint(keys)});
    auto replaced = fod::pull::recorded_verification(image, keys);
    REQUIRE(replaced);
    CHECK(replaced->digest == second_digest);
    CHECK(replaced->key == other);
  }
  SECTION("a record whose digest is not sha256 is not returned") {
    fod::pull::record_verification(image, {"sha256:abc", key, fod::pull::keys_fingerprint(keys)});
    CHECK_FALSE(fod::pull::recorded_verification(image, keys));
  }
}

TEST_CASE("pull::recorded_verification reads a damaged verified.json as no record",
          "[unit][signature][pull]") {
  TempDir dir;
  EnvGuard env;
  env.set("XDG_STATE_HOME", dir / "state");
  const std::string key = dir.write("k.pem", "-----BEGIN PUBLIC KEY-----\nAAAA\n");
  const std::string image = "reg.example.com/team/tool:1";
  const std::string name = "reg.example.com/team/tool:1"; // canonical already
  const std::string fingerprint = fod::pull::keys_fingerprint({key});
  const std::string good = R"({"digest":")" + image_digest + R"(","key":")" + key +
                           R"(","fingerprint":")" + fingerprint + R"("})";
  dir.write("state/fod/verified.json", R"({"images":{")" + name + R"(":)" + good + "}}");
  REQUIRE(fod::pull::recorded_verification(image, {key})); // the file as fod writes it

  const std::vector<std::string> damaged = {
      "",
      "not json",
      "[]",
      R"({"images":[]})",
      R"({"images":{")" + name + R"(":5}})",
      R"({"images":{")" + name + R"(":{}}})",
      R"({"images":{")" + name + R"(":{"digest":5,"key":"k","fingerprint":")" + fingerprint +
          R"("}}})",
      R"({"images":{")" + name + R"(":{"digest":")" + image_digest +
          R"(","key":"k","fingerprint":null}}})",
      R"({"images":{")" + name + R"(":{"digest":")" + image_digest +
          R"(","key":["k"],"fingerprint":")" + fingerprint + R"("}}})",
  };
  for (const auto &text : damaged) {
    INFO(text);
    dir.write("state/fod/verified.json", text);
    std::optional<fod::pull::Verified> verified;
    CHECK_NOTHROW(verified = fod::pull::recorded_verification(image, {key}));
    CHECK_FALSE(verified);
  }
  // Recording over a damaged file writes a good one.
  dir.write("state/fod/verified.json", R"({"images":[1,2]})");
  fod::pull::record_verification(image, {image_digest, key, fingerprint});
  CHECK(fod::pull::recorded_verification(image, {key}));
}

TEST_CASE("pull argv: --verify-key for each key, before --", "[unit][signature][pull]") {
  fod::mapping::Config config;
  config.insecure_registries = {"127.0.0.1:5000"};
  CHECK(fod::pull::probe_argv("/h", "127.0.0.1:5000/x:1", config, {"/k1.pem", "/home/u/k 2.pem"}) ==
        std::vector<std::string>{"/h", "probe", "--insecure", "127.0.0.1:5000", "--verify-key",
                                 "/k1.pem", "--verify-key", "/home/u/k 2.pem", "--connect-timeout",
                                 "2", "--timeout", "5", "--", "127.0.0.1:5000/x:1"});
  config.insecure_registries.clear();
  auto plain = fod::pull::probe_argv("/h", "reg.io/x:1", config);
  CHECK(std::find(plain.begin(), plain.end(), "--verify-key") == plain.end());
  CHECK(plain == fod::pull::probe_argv("/h", "reg.io/x:1", config, {}));
  auto one = fod::pull::probe_argv("/h", "reg.io/x:1", config, {"/k.pem"});
  CHECK(one.end()[-2] == "--");
  CHECK(one.back() == "reg.io/x:1");
  CHECK(std::count(one.begin(), one.end(), "--verify-key") == 1);
}

TEST_CASE("pull::parse_probe_output: status 6 is unverified, verified_by on success",
          "[unit][signature][pull]") {
  SECTION("unverified, with fod-registry's error line") {
    const std::string why =
        "no signature of " + image_digest + " for reg.io/team/x verifies with /k.pem";
    auto r = fod::pull::parse_probe_output(6, R"({"error":")" + why + "\"}\n", "");
    CHECK(r.kind == ProbeResult::Kind::unverified);
    CHECK(r.error == why);
    CHECK(r.remote.digest.empty());
    r.registry = "reg.io";
    CHECK(fod::pull::describe_failure(r) == "refused: " + why);
  }
  SECTION("unverified without a JSON line: the first line of stderr, made printable") {
    auto r = fod::pull::parse_probe_output(6, "", "bad \x1b[2Jsignature\nmore\n");
    CHECK(r.kind == ProbeResult::Kind::unverified);
    CHECK(r.error == "bad [2Jsignature");
    auto s = fod::pull::parse_probe_output(6, "{\"error\":\"no\\u001b]0;x\\u0007 key\"}", "");
    CHECK(s.error == "no]0;x key");
  }
  SECTION("found: verified_by names the key file") {
    auto r = fod::pull::parse_probe_output(
        0,
        R"({"reference":"reg.io/team/x:1","digest":")" + image_digest + R"(","manifest_digest":")" +
            image_digest +
            R"(","size":1234,"media_type":"m","platform":"linux/amd64","verified_by":"/etc/fod/k.pem"})" +
            "\n",
        "");
    CHECK(r.kind == ProbeResult::Kind::found);
    CHECK(r.remote.digest == image_digest);
    CHECK(r.remote.verified_by == "/etc/fod/k.pem");
  }
  SECTION("found without keys: no verified_by; a bad one is dropped or made printable") {
    const std::string base = R"({"digest":")" + image_digest + R"(","size":1)";
    CHECK(fod::pull::parse_probe_output(0, base + "}", "").remote.verified_by.empty());
    CHECK(fod::pull::parse_probe_output(0, base + R"(,"verified_by":7})", "")
              .remote.verified_by.empty());
    CHECK(fod::pull::parse_probe_output(0, base + R"(,"verified_by":"/k\u001b[2J.pem"})", "")
              .remote.verified_by == "/k[2J.pem");
  }
}
