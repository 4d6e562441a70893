#include "registry/reference.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using fod::registry::is_valid_path_component;
using fod::registry::parse_reference;

namespace {
const std::string hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

std::string canonical(const std::string &text) {
  auto ref = parse_reference(text);
  return ref ? ref->canonical() : "<invalid>";
}
} // namespace

TEST_CASE("registry::parse_reference normalizes names as podman and docker do",
          "[unit][registry]") {
  SECTION("a single name is a docker.io library image with tag latest") {
    auto ref = parse_reference("jq");
    REQUIRE(ref);
    CHECK(ref->registry == "docker.io");
    CHECK(ref->repository == "library/jq");
    CHECK(ref->tag == "latest");
    CHECK(ref->digest.empty());
    CHECK(ref->canonical() == "docker.io/library/jq:latest");
  }
  SECTION("a first component without '.' or ':' is a docker.io user") {
    CHECK(canonical("user/tool:1.2") == "docker.io/user/tool:1.2");
    CHECK(canonical("a/b/c") == "docker.io/a/b/c:latest");
  }
  SECTION("a first component with '.' or ':' or localhost is the registry") {
    CHECK(canonical("ghcr.io/owner/tool") == "ghcr.io/owner/tool:latest");
    CHECK(canonical("127.0.0.1:5055/x/y:t") == "127.0.0.1:5055/x/y:t");
    CHECK(canonical("localhost/tool") == "localhost/tool:latest");
    CHECK(canonical("localhost:5000/tool") == "localhost:5000/tool:latest");
    CHECK(canonical("[::1]:5000/tool") == "[::1]:5000/tool:latest");
    auto ref = parse_reference("registry.example.com:443/tools/jq");
    REQUIRE(ref);
    CHECK(ref->registry == "registry.example.com:443");
    CHECK(ref->repository == "tools/jq");
  }
  SECTION("docker.io spellings") {
    CHECK(canonical("docker.io/jq") == "docker.io/library/jq:latest");
    CHECK(canonical("index.docker.io/library/jq") == "docker.io/library/jq:latest");
    CHECK(canonical("docker.io/library/jq:1.7") == "docker.io/library/jq:1.7");
  }
  SECTION("a digest, with or without a tag") {
    auto ref = parse_reference("reg.io/x/y@sha256:" + hex64);
    REQUIRE(ref);
    CHECK(ref->tag.empty());
    CHECK(ref->digest == "sha256:" + hex64);
    CHECK(ref->manifest_reference() == "sha256:" + hex64);
    CHECK(ref->canonical() == "reg.io/x/y@sha256:" + hex64);
    CHECK(canonical("reg.io/x:1@sha256:" + hex64) == "reg.io/x:1@sha256:" + hex64);
    CHECK(parse_reference("jq:1")->manifest_reference() == "1");
  }
  SECTION("a port is not a tag, a tag after a port is") {
    auto ref = parse_reference("localhost:5000/a:b");
    REQUIRE(ref);
    CHECK(ref->registry == "localhost:5000");
    CHECK(ref->tag == "b");
  }
  SECTION("an uppercase first component is taken for a registry, as docker does") {
    CHECK(canonical("Example/tool") == "Example/tool:latest");
  }
  SECTION("tags may hold uppercase, '.', '-' and '_' and be 128 long") {
    CHECK(canonical("jq:V1.2-rc_3") == "docker.io/library/jq:V1.2-rc_3");
    CHECK(parse_reference("jq:" + std::string(128, 'a')));
  }
}

TEST_CASE("registry::parse_reference rejects what the reference grammar rejects",
          "[unit][registry]") {
  for (const std::string &bad : std::vector<std::string>{
           "",
           ":",
           "@",
           "jq:",
           "jq@",
           "/jq",
           "jq/",
           "a//b",
           "Jq",
           "user/Tool",
           "reg.io/Tool",
           "jq tool",
           "jq;rm",
           "-jq",
           "jq-",
           "j..q",
           "j___q",
           "jq:.tag",
           "jq:-tag",
           "jq:a/b",
           "jq@sha256:abc",
           "jq@sha256:" + hex64.substr(0, 63) + "A",
           "jq@md5:" + hex64,
           "jq@sha256:" + hex64 + "0",
           "-reg.io/x",
           "reg.io:/x",
           "reg.io:abc/x",
           "[]/x",
           "[::1/x",
           hex64,
           "jq:" + std::string(129, 'a'),
           "reg.io/" + std::string(249, 'a'),
       }) {
    INFO("reference: '" << bad << "'");
    CHECK_FALSE(parse_reference(bad));
  }
  SECTION("the 255-character limit counts the normalized name") {
    CHECK(parse_reference("reg.io/" + std::string(248, 'a')));
    // docker.io/library/ adds 18 characters.
    CHECK(parse_reference(std::string(237, 'a')));
    CHECK_FALSE(parse_reference(std::string(238, 'a')));
  }
}

TEST_CASE("registry::is_valid_path_component accepts only repository name components",
          "[unit][registry]") {
  for (const char *good :
       {"jq", "a", "0", "ripgrep", "python3", "a.b", "a_b", "a__b", "a-b", "a---b", "x-1.2_3"}) {
    INFO(good);
    CHECK(is_valid_path_component(good));
  }
  for (const char *bad : {"", "Jq", "a b", "a/b", "a:b", ".a", "a.", "_a", "a_", "-a", "a-", "a..b",
                          "a___b", "a.-b", "a_-b", "é", "../x", "a\nb"}) {
    INFO(bad);
    CHECK_FALSE(is_valid_path_component(bad));
  }
}
