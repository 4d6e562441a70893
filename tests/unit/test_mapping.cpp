#include "mapping/entry.hpp"
#include "mapping/fields.hpp"
#include "mapping/loader.hpp"
#include "mapping/validate.hpp"
#include "registry/reference.hpp"
#include "temp_dir.hpp"

#include <algorithm>
#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using fod::mapping::Mapping;
using fod::mapping::Network;
using fod::test::EnvGuard;
using fod::test::TempDir;

namespace {

const std::string digest = "sha256:" + std::string(64, 'a');

Mapping parse(const std::string &text, const std::string &file = "m.yaml") {
  Mapping mapping;
  fod::mapping::apply_mapping_text(text, "user", file, mapping);
  return mapping;
}

// The diagnostics that start with prefix ("file:line:").
std::vector<std::string> diagnostics_at(const Mapping &mapping, const std::string &prefix) {
  std::vector<std::string> out;
  std::copy_if(mapping.diagnostics.begin(), mapping.diagnostics.end(), std::back_inserter(out),
               [&](const std::string &d) { return d.compare(0, prefix.size(), prefix) == 0; });
  return out;
}

bool mentions(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

// Applies one entry for name with body (indented fields) and expects it to be
// skipped with exactly one diagnostic on line.
void expect_entry_rejected(const std::string &body, int line, const std::string &reason_part = "") {
  std::string text = "commands:\n  good:\n    image: good:1\n  bad:\n" + body;
  Mapping m = parse(text);
  INFO("yaml:\n" << text);
  INFO("diagnostics: " << ::Catch::Detail::stringify(m.diagnostics));
  CHECK(m.find("bad") == nullptr);
  CHECK(m.find("good") != nullptr);
  REQUIRE(m.diagnostics.size() == 1);
  CHECK(diagnostics_at(m, "m.yaml:" + std::to_string(line) + ":").size() == 1);
  CHECK(mentions(m.diagnostics[0], "'bad'"));
  CHECK(mentions(m.diagnostics[0], "skipped"));
  if (!reason_part.empty()) {
    CHECK(mentions(m.diagnostics[0], reason_part));
  }
}

} // namespace

TEST_CASE("mapping::apply_mapping_text parses every field of an entry", "[unit][mapping]") {
  SECTION("a minimal entry runs its own name, with the default network and no extras") {
    Mapping m = parse("commands:\n  jq:\n    image: ghcr.io/jqlang/jq:1.7\n");
    CHECK(m.diagnostics.empty());
    const auto *e = m.find("jq");
    REQUIRE(e != nullptr);
    CHECK(e->name == "jq");
    CHECK(e->image == "ghcr.io/jqlang/jq:1.7");
    CHECK(e->entrypoint == std::vector<std::string>{"jq"});
    CHECK(e->network == Network::standard);
    CHECK(e->env.empty());
    CHECK(e->mounts.empty());
    CHECK(e->capabilities.empty());
    CHECK_FALSE(e->ttl);
    CHECK_FALSE(e->memory);
    CHECK_FALSE(e->pids);
  }

  SECTION("every field") {
    Mapping m = parse(R"(commands:
  tool:
    image: registry.example.com/team/tool:2.0
    entrypoint: [/usr/bin/python3, -m, tool]
    network: none
    env: [GITHUB_TOKEN, TOOL_HOME]
    mounts:
      - /data:ro
      - ~/.config/tool:rw
      - ~/.cache/tool
      - "~"
    capabilities: [cap_net_raw, NET_ADMIN, Chown]
    ttl: 1h30m
    memory: 512m
    pids: 64
)");
    CHECK(m.diagnostics.empty());
    const auto *e = m.find("tool");
    REQUIRE(e != nullptr);
    CHECK(e->image == "registry.example.com/team/tool:2.0");
    CHECK(e->entrypoint == std::vector<std::string>{"/usr/bin/python3", "-m", "tool"});
    CHECK(e->network == Network::none);
    CHECK(e->env == std::vector<std::string>{"GITHUB_TOKEN", "TOOL_HOME"});
    REQUIRE(e->mounts.size() == 4);
    CHECK(e->mounts[0].path == "/data");
    CHECK(e->mounts[0].read_only);
    CHECK(e->mounts[1].path == "~/.config/tool");
    CHECK_FALSE(e->mounts[1].read_only);
    CHECK(e->mounts[2].path == "~/.cache/tool");
    CHECK_FALSE(e->mounts[2].read_only);
    CHECK(e->mounts[3].path == "~");
    CHECK(e->capabilities == std::vector<std::string>{"NET_RAW", "NET_ADMIN", "CHOWN"});
    CHECK(e->ttl == 5400s);
    CHECK(e->memory == "512m");
    CHECK(e->pids == 64);
  }

  SECTION("network host and default") {
    Mapping m = parse("commands:\n  a:\n    image: a:1\n    network: host\n  b:\n    image: b:1\n"
                      "    network: default\n");
    REQUIRE(m.find("a") != nullptr);
    REQUIRE(m.find("b") != nullptr);
    CHECK(m.find("a")->network == Network::host);
    CHECK(m.find("b")->network == Network::standard);
  }

  SECTION("a single string is a one-element list for entrypoint and env") {
    Mapping m =
        parse("commands:\n  rg:\n    image: rg:14\n    entrypoint: ripgrep\n    env: RG_CONFIG\n");
    const auto *e = m.find("rg");
    REQUIRE(e != nullptr);
    CHECK(e->entrypoint == std::vector<std::string>{"ripgrep"});
    CHECK(e->env == std::vector<std::string>{"RG_CONFIG"});
  }

  SECTION("ttl accepts each duration form") {
    Mapping m =
        parse("commands:\n  a:\n    image: a:1\n    ttl: 90\n  b:\n    image: b:1\n    ttl: 10m\n"
              "  c:\n    image: c:1\n    ttl: 2h\n");
    REQUIRE(m.diagnostics.empty());
    CHECK(m.find("a")->ttl == 90s);
    CHECK(m.find("b")->ttl == 600s);
    CHECK(m.find("c")->ttl == 7200s);
  }

  SECTION("the origin names the layer, the file and the line of the command") {
    Mapping mapping;
    fod::mapping::apply_mapping_text(
        "# tools\ncommands:\n  jq:\n    image: jq:1\n\n  yq:\n    image: yq:4\n", "system",
        "/etc/fod/mappings.yaml", mapping);
    REQUIRE(mapping.find("yq") != nullptr);
    CHECK(mapping.find("jq")->origin.layer == "system");
    CHECK(mapping.find("jq")->origin.file == "/etc/fod/mappings.yaml");
    CHECK(mapping.find("jq")->origin.line == 3);
    CHECK(mapping.find("yq")->origin.line == 6);
  }

  SECTION("an empty file or empty commands change nothing and say nothing") {
    CHECK(parse("").entries.empty());
    CHECK(parse("").diagnostics.empty());
    CHECK(parse("# only a comment\n").diagnostics.empty());
    CHECK(parse("commands:\n").diagnostics.empty());
  }
}

TEST_CASE("mapping::apply_mapping_text replaces and disables entries", "[unit][mapping]") {
  Mapping m;
  fod::mapping::apply_mapping_text(
      "commands:\n  jq:\n    image: jq:1\n    env: [JQ_COLORS]\n    network: none\n    pids: 10\n"
      "  yq:\n    image: yq:4\n",
      "package", "low.yaml", m);
  REQUIRE(m.find("jq") != nullptr);

  SECTION("a later entry replaces an earlier one whole: unset fields fall back to defaults") {
    fod::mapping::apply_mapping_text("commands:\n  jq:\n    image: jq:2\n", "user", "high.yaml", m);
    const auto *e = m.find("jq");
    REQUIRE(e != nullptr);
    CHECK(e->image == "jq:2");
    CHECK(e->env.empty());
    CHECK(e->network == Network::standard);
    CHECK_FALSE(e->pids);
    CHECK(e->origin.layer == "user");
    CHECK(e->origin.file == "high.yaml");
    CHECK(m.find("yq") != nullptr);
  }
  SECTION("disabled: true hides an earlier entry, and needs no image") {
    fod::mapping::apply_mapping_text("commands:\n  jq:\n    disabled: true\n", "user", "high.yaml",
                                     m);
    CHECK(m.find("jq") == nullptr);
    CHECK(m.find("yq") != nullptr);
    CHECK(m.diagnostics.empty());
  }
  SECTION("disabled: false is an ordinary entry") {
    fod::mapping::apply_mapping_text("commands:\n  jq:\n    image: jq:3\n    disabled: false\n",
                                     "user", "high.yaml", m);
    REQUIRE(m.find("jq") != nullptr);
    CHECK(m.find("jq")->image == "jq:3");
    CHECK(m.diagnostics.empty());
  }
  SECTION("disabling a command nobody mapped is harmless") {
    fod::mapping::apply_mapping_text("commands:\n  zz:\n    disabled: true\n", "user", "high.yaml",
                                     m);
    CHECK(m.find("zz") == nullptr);
    CHECK(m.diagnostics.empty());
  }
  SECTION("an invalid replacement keeps the earlier entry") {
    fod::mapping::apply_mapping_text("commands:\n  jq:\n    image: jq\n", "user", "high.yaml", m);
    REQUIRE(m.find("jq") != nullptr);
    CHECK(m.find("jq")->image == "jq:1");
    CHECK(m.diagnostics.size() == 1);
  }
  SECTION("a file that does not parse changes nothing") {
    fod::mapping::apply_mapping_text("commands:\n  jq:\n    disabled: true\n   yq: x\n", "user",
                                     "high.yaml", m);
    CHECK(m.find("jq") != nullptr);
    CHECK(m.find("yq") != nullptr);
    CHECK(m.diagnostics.size() == 1);
  }
}

TEST_CASE("mapping::apply_mapping_text skips only an invalid entry, naming file:line",
          "[unit][mapping]") {
  // In these bodies the bad entry's name is on line 4 and its fields start on line 5.
  SECTION("missing image: reported at the entry") {
    expect_entry_rejected("    network: none\n", 5, "no 'image'");
  }
  SECTION("an entry that is not a map") {
    expect_entry_rejected("    - image: x:1\n", 5);
  }
  SECTION("image without tag or digest") {
    expect_entry_rejected("    image: ubuntu\n", 5, "ubuntu");
  }
  SECTION("image on a later line is reported on its own line") {
    expect_entry_rejected("    network: none\n    env: [A]\n    image: ubuntu\n", 7, "pinned");
  }
  SECTION("image with upper-case repository") {
    expect_entry_rejected("    image: Ubuntu:22.04\n", 5);
  }
  SECTION("image with a malformed digest") {
    expect_entry_rejected("    image: x@sha256:abc\n", 5, "digest");
  }
  SECTION("network other than none, default, host") {
    expect_entry_rejected("    image: x:1\n    network: bridge\n", 6, "bridge");
  }
  SECTION("env that is not a variable name") {
    expect_entry_rejected("    image: x:1\n    env: [OK, 1BAD]\n", 6);
  }
  SECTION("env given as a map") {
    expect_entry_rejected("    image: x:1\n    env: {A: b}\n", 6);
  }
  SECTION("relative mount") {
    expect_entry_rejected("    image: x:1\n    mounts: [data]\n", 6, "data");
  }
  SECTION("mounting /") {
    expect_entry_rejected("    image: x:1\n    mounts:\n      - /:ro\n", 7);
  }
  SECTION("mount path with ':'") {
    expect_entry_rejected("    image: x:1\n    mounts:\n      - /a:b\n", 7);
  }
  SECTION("mount path with ','") {
    expect_entry_rejected("    image: x:1\n    mounts:\n      - /a,b\n", 7);
  }
  SECTION("mounts not a list") {
    expect_entry_rejected("    image: x:1\n    mounts: /data\n", 6);
  }
  SECTION("capability ALL, in any spelling") {
    expect_entry_rejected("    image: x:1\n    capabilities: [ALL]\n", 6, "ALL");
    expect_entry_rejected("    image: x:1\n    capabilities: [cap_all]\n", 6, "ALL");
  }
  SECTION("unknown capability") {
    expect_entry_rejected("    image: x:1\n    capabilities: [FLY]\n", 6, "FLY");
  }
  SECTION("ttl that is not a duration") {
    expect_entry_rejected("    image: x:1\n    ttl: soon\n", 6, "soon");
  }
  SECTION("memory without a number") {
    expect_entry_rejected("    image: x:1\n    memory: lots\n", 6);
  }
  SECTION("pids zero, negative or not a number") {
    expect_entry_rejected("    image: x:1\n    pids: 0\n", 6);
    expect_entry_rejected("    image: x:1\n    pids: -5\n", 6);
    expect_entry_rejected("    image: x:1\n    pids: 12abc\n", 6);
    expect_entry_rejected("    image: x:1\n    pids: 99999999999999\n", 6);
  }
  SECTION("empty entrypoint") {
    expect_entry_rejected("    image: x:1\n    entrypoint: []\n", 6);
  }
  SECTION("disabled that is not a boolean") {
    expect_entry_rejected("    image: x:1\n    disabled: maybe\n", 6);
  }

  SECTION("several bad entries each give their own line, good ones all load") {
    Mapping m = parse(R"(commands:
  a:
    image: a:1
  b:
    image: b
  c:
    image: c:1
    network: wifi
  d:
    image: d:1
)");
    CHECK(m.find("a") != nullptr);
    CHECK(m.find("b") == nullptr);
    CHECK(m.find("c") == nullptr);
    CHECK(m.find("d") != nullptr);
    REQUIRE(m.diagnostics.size() == 2);
    CHECK(diagnostics_at(m, "m.yaml:5:").size() == 1);
    CHECK(diagnostics_at(m, "m.yaml:8:").size() == 1);
  }
}

TEST_CASE("mapping::apply_mapping_text rejects bad command names", "[unit][mapping]") {
  SECTION("a name starting with '-' could pass as an option") {
    Mapping m = parse("commands:\n  ok:\n    image: ok:1\n  -rf:\n    image: x:1\n");
    CHECK(m.find("-rf") == nullptr);
    CHECK(m.find("ok") != nullptr);
    REQUIRE(m.diagnostics.size() == 1);
    CHECK(diagnostics_at(m, "m.yaml:4:").size() == 1);
    CHECK(mentions(m.diagnostics[0], "-rf"));
  }
  SECTION("a name containing '/' is a path, not a command") {
    Mapping m = parse("commands:\n  bin/sh:\n    image: x:1\n");
    CHECK(m.entries.empty());
    REQUIRE(m.diagnostics.size() == 1);
    CHECK(diagnostics_at(m, "m.yaml:2:").size() == 1);
  }
  SECTION("the name check itself") {
    using fod::mapping::check_command_name;
    CHECK_FALSE(check_command_name("jq"));
    CHECK_FALSE(check_command_name("g++"));
    CHECK_FALSE(check_command_name("python3.12"));
    CHECK_FALSE(check_command_name("x_y-z"));
    CHECK(check_command_name(""));
    CHECK(check_command_name("-rf"));
    CHECK(check_command_name(".hidden"));
    CHECK(check_command_name("a/b"));
    CHECK(check_command_name("../x"));
    CHECK(check_command_name("a b"));
    CHECK(check_command_name("a;b"));
    CHECK(check_command_name("$(x)"));
    CHECK(check_command_name(std::string(129, 'a')));
    CHECK_FALSE(check_command_name(std::string(128, 'a')));
  }
}

TEST_CASE("mapping::apply_mapping_text warns about unknown keys and keeps the entry",
          "[unit][mapping]") {
  SECTION("an unknown key in an entry is reported on its line") {
    Mapping m = parse("commands:\n  jq:\n    image: jq:1\n    imgae: jq:2\n");
    const auto *e = m.find("jq");
    REQUIRE(e != nullptr);
    CHECK(e->image == "jq:1");
    REQUIRE(m.diagnostics.size() == 1);
    CHECK(diagnostics_at(m, "m.yaml:4:").size() == 1);
    CHECK(mentions(m.diagnostics[0], "imgae"));
  }
  SECTION("an unknown top-level key is reported and commands still load") {
    Mapping m = parse("version: 1\ncommands:\n  jq:\n    image: jq:1\n");
    CHECK(m.find("jq") != nullptr);
    REQUIRE(m.diagnostics.size() == 1);
    CHECK(diagnostics_at(m, "m.yaml:1:").size() == 1);
    CHECK(mentions(m.diagnostics[0], "version"));
  }
}

TEST_CASE("mapping::apply_mapping_text skips a broken file whole with one diagnostic",
          "[unit][mapping]") {
  SECTION("bad indentation: reported on its line, nothing from the file applies") {
    Mapping m = parse("commands:\n  jq:\n    image: jq:1\n   bad: x\n");
    CHECK(m.entries.empty());
    REQUIRE(m.diagnostics.size() == 1);
    CHECK(diagnostics_at(m, "m.yaml:4:").size() == 1);
    CHECK(mentions(m.diagnostics[0], "file skipped"));
  }
  SECTION("a tab where indentation is expected") {
    Mapping m = parse("commands:\n  jq:\n    image: jq:1\n\tyq:\n");
    CHECK(m.entries.empty());
    REQUIRE(m.diagnostics.size() == 1);
    CHECK(diagnostics_at(m, "m.yaml:4:").size() == 1);
  }
  SECTION("a list at the top level") {
    Mapping m = parse("- jq\n- yq\n");
    CHECK(m.entries.empty());
    REQUIRE(m.diagnostics.size() == 1);
    CHECK(diagnostics_at(m, "m.yaml:1:").size() == 1);
    CHECK(mentions(m.diagnostics[0], "file skipped"));
  }
  SECTION("a plain string at the top level") {
    Mapping m = parse("just some text\n");
    CHECK(m.entries.empty());
    REQUIRE(m.diagnostics.size() == 1);
    CHECK(mentions(m.diagnostics[0], "m.yaml:1:"));
  }
  SECTION("commands that is not a map") {
    Mapping m = parse("# header\ncommands:\n  - jq\n");
    CHECK(m.entries.empty());
    REQUIRE(m.diagnostics.size() == 1);
    CHECK(diagnostics_at(m, "m.yaml:3:").size() == 1);
  }
}

TEST_CASE("mapping::check_image_reference accepts pinned references only", "[unit][mapping]") {
  using fod::mapping::check_image_reference;

  SECTION("tags, registries with ports, and digests are accepted") {
    const std::vector<std::string> images = {"ubuntu:22.04",
                                             "docker.io/library/ubuntu:22.04",
                                             "ghcr.io/owner/repo:v1.2.3",
                                             "localhost:5000/x:1",
                                             "localhost/x:1",
                                             "registry.example.com:443/team/sub/tool:latest",
                                             "my-registry.io/a_b/c.d:1_0-rc",
                                             "x@" + digest,
                                             "x:1@" + digest,
                                             "localhost:5000/x@" + digest};
    for (const auto &image : images) {
      INFO(image);
      CHECK_FALSE(check_image_reference(image));
    }
  }
  SECTION("unpinned references are rejected, including a registry port without a tag") {
    for (const std::string image :
         {"ubuntu", "library/ubuntu", "localhost:5000/x", "ghcr.io/o/r"}) {
      INFO(image);
      auto problem = check_image_reference(image);
      REQUIRE(problem);
      CHECK(mentions(*problem, "tag"));
    }
  }
  SECTION("malformed digests are rejected") {
    const std::vector<std::string> images = {"x@sha256:abc",
                                             "x@sha256:" + std::string(64, 'A'),
                                             "x@sha256:" + std::string(65, 'a'),
                                             "x@md5:" + std::string(32, 'a'),
                                             "x@" + std::string(64, 'a'),
                                             "x@sha256:" + std::string(63, 'a') + "g"};
    for (const auto &image : images) {
      INFO(image);
      CHECK(check_image_reference(image));
    }
  }
  SECTION("malformed names and tags are rejected") {
    const std::vector<std::string> images = {"",
                                             "Ubuntu:1",
                                             "x:",
                                             "x:-bad",
                                             "x:.bad",
                                             "x:1 2",
                                             "x:1;rm",
                                             "/x:1",
                                             "x//y:1",
                                             "x/:1",
                                             "-x:1",
                                             "x-:1",
                                             "a/B:1",
                                             "bad host:1/x:1",
                                             "host:port/x:1",
                                             "x:" + std::string(129, 'a')};
    for (const auto &image : images) {
      INFO(image);
      CHECK(check_image_reference(image));
    }
  }
  SECTION("through a mapping file, a digest-pinned image loads") {
    Mapping m = parse("commands:\n  jq:\n    image: ghcr.io/jqlang/jq@" + digest + "\n");
    CHECK(m.diagnostics.empty());
    REQUIRE(m.find("jq") != nullptr);
    CHECK(m.find("jq")->image == "ghcr.io/jqlang/jq@" + digest);
  }
}

TEST_CASE("mapping: an image that an engine could read as an option or a path trick is rejected",
          "[unit][mapping]") {
  using fod::mapping::check_image_reference;

  SECTION("through a mapping file: the entry is skipped with one diagnostic naming it") {
    expect_entry_rejected("    image: -u0:0/x:1\n", 5, "-u0:0");
    expect_entry_rejected("    image: a..b/x:1\n", 5, "a..b");
    expect_entry_rejected("    image: x/-y:1\n", 5, "-y");
  }
  SECTION("the reason says which part is wrong") {
    for (const std::string &image : std::vector<std::string>{
             "-u0:0/x:1", "-x:1", "--privileged:1", "-v/:/host/x:1", "a..b/x:1", "x/a..b:1",
             "x/-y:1", "x/y-:1", "x/.y:1", "-host.example/x:1", "host-.example/x:1", "x/y:-1",
             "x@sha256:" + std::string(64, 'g')}) {
      INFO(image);
      auto problem = check_image_reference(image);
      REQUIRE(problem);
      CHECK_FALSE(problem->empty());
    }
    CHECK(mentions(*check_image_reference("-u0:0/x:1"), "'-u0:0' is not a registry host"));
    CHECK(mentions(*check_image_reference("a..b/x:1"),
                   "'a..b' is not a registry host")); // a '.': a host
    CHECK(mentions(*check_image_reference("x/a..b:1"), "'a..b' is not a valid part"));
    CHECK(mentions(*check_image_reference("x/-y:1"), "'-y' is not a valid part"));
  }
  SECTION("what the engines accept still loads: separators, ports, IPv6, digests") {
    for (const std::string &image :
         std::vector<std::string>{"a__b/c--d/e.f_g:1", "127.0.0.1:5000/x:1", "[::1]:5000/x:1",
                                  "Registry.Example/x:1", "x:1@" + digest, "x@" + digest}) {
      INFO(image);
      CHECK_FALSE(check_image_reference(image));
    }
  }
}

TEST_CASE("mapping: a..b/x:1, which registry::parse_reference refuses, is refused with one line",
          "[unit][mapping]") {
  // The engines refuse "a..b" (two separators in a row), and so does the one grammar fod has.
  REQUIRE_FALSE(fod::registry::parse_reference("a..b/x:1"));
  auto problem = fod::mapping::check_image_reference("a..b/x:1");
  REQUIRE(problem);

  Mapping m = parse("commands:\n  tool:\n    image: a..b/x:1\n");
  CHECK(m.entries.empty());
  REQUIRE(m.diagnostics.size() == 1);
  CHECK(m.diagnostics[0] ==
        "m.yaml:3: image 'a..b/x:1': 'a..b' is not a registry host[:port] (letters, digits, . and "
        "-, not starting or ending with -); entry 'tool' skipped");
  CHECK(m.diagnostics[0].find('\n') == std::string::npos);
}

TEST_CASE("mapping: validation and registry::parse_reference agree on every image",
          "[unit][mapping]") {
  // check_image_reference adds only that a reference must be pinned; the grammar is the
  // registry's, so whatever it refuses is refused, and whatever it accepts with a tag or a
  // digest is accepted.
  const std::vector<std::string> images = {"a..b/x:1",
                                           "x/a..b:1",
                                           "a.b/x:1",
                                           "x/a.b:1",
                                           "x/a__b:1",
                                           "x/a___b:1",
                                           "x/a--b:1",
                                           "x/a-.b:1",
                                           "-x:1",
                                           "x/-y:1",
                                           "x/y-:1",
                                           "x/.y:1",
                                           "x/_y:1",
                                           "host-.io/x:1",
                                           "-host.io/x:1",
                                           "h.io:5/x:1",
                                           "h.io:/x:1",
                                           "h.io:p/x:1",
                                           "[::1]:5000/x:1",
                                           "[]:1/x:1",
                                           "Host.io/x:1",
                                           "HOST/x:1",
                                           "x/Y:1",
                                           "x:1",
                                           "x:_1",
                                           "x:.1",
                                           "x:-1",
                                           "x@" + digest,
                                           "x:1@" + digest,
                                           "x@sha256:" + std::string(64, 'A'),
                                           "localhost/x:1",
                                           "localhost:5000/x:1",
                                           std::string(64, 'a') + ":1"};
  for (const auto &image : images) {
    INFO(image);
    const bool grammar = fod::registry::parse_reference(image).has_value();
    auto problem = fod::mapping::check_image_reference(image);
    CHECK(grammar == !problem);
    if (problem) {
      CHECK_FALSE(problem->empty());
      CHECK(problem->find('\n') == std::string::npos);
    }
  }
}

TEST_CASE("mapping::normalize_capability and check_capability", "[unit][mapping]") {
  using fod::mapping::check_capability;
  using fod::mapping::normalize_capability;

  SECTION("case and the CAP_ prefix are normalised") {
    CHECK(normalize_capability("cap_net_raw") == "NET_RAW");
    CHECK(normalize_capability("CAP_SYS_PTRACE") == "SYS_PTRACE");
    CHECK(normalize_capability("Net_Bind_Service") == "NET_BIND_SERVICE");
    CHECK(normalize_capability("CHOWN") == "CHOWN");
  }
  SECTION("known capabilities pass in any spelling") {
    CHECK_FALSE(check_capability("NET_RAW"));
    CHECK_FALSE(check_capability("cap_net_raw"));
    CHECK_FALSE(check_capability("sys_ptrace"));
  }
  SECTION("ALL is refused with a reason that says so") {
    for (const char *all : {"ALL", "all", "CAP_ALL", "cap_all"}) {
      auto problem = check_capability(all);
      REQUIRE(problem);
      CHECK(mentions(*problem, "ALL"));
    }
  }
  SECTION("unknown names are refused") {
    CHECK(check_capability("FLY"));
    CHECK(check_capability(""));
    CHECK(check_capability("CAP_"));
    CHECK(check_capability("NET RAW"));
  }
}

TEST_CASE("mapping::check_memory accepts a number with an optional unit", "[unit][mapping]") {
  using fod::mapping::check_memory;
  for (const char *ok : {"512m", "2g", "2G", "1024", "100k", "4096b"}) {
    INFO(ok);
    CHECK_FALSE(check_memory(ok));
  }
  for (const char *bad : {"", "m", "1.5g", "10t", "-1", "10 m", "10mb", "g2"}) {
    INFO(bad);
    CHECK(check_memory(bad));
  }
}

TEST_CASE("mapping::parse_network and to_string round trip", "[unit][mapping]") {
  for (auto network : {Network::none, Network::standard, Network::host}) {
    CHECK(fod::mapping::parse_network(fod::mapping::to_string(network)) == network);
  }
  CHECK(std::string(fod::mapping::to_string(Network::standard)) == "default");
  CHECK_FALSE(fod::mapping::parse_network("bridge"));
  CHECK_FALSE(fod::mapping::parse_network("None"));
}

TEST_CASE("mapping::apply_config_text applies each setting on its own", "[unit][mapping]") {
  SECTION("defaults") {
    Mapping m;
    CHECK(m.config.engine == "auto");
    CHECK(m.config.ttl == 600s);
    CHECK(m.config.memory == "2g");
    CHECK(m.config.pids == 1024);
    CHECK(m.config.fast_path);
  }
  SECTION("every setting") {
    Mapping m;
    fod::mapping::apply_config_text(
        "engine: docker\nttl: 30m\nmemory: 4g\npids: 256\nfast_path: false\n", "c.yaml", m);
    CHECK(m.diagnostics.empty());
    CHECK(m.config.engine == "docker");
    CHECK(m.config.ttl == 1800s);
    CHECK(m.config.memory == "4g");
    CHECK(m.config.pids == 256);
    CHECK_FALSE(m.config.fast_path);
  }
  SECTION("fast_path takes true or false only") {
    Mapping m;
    fod::mapping::apply_config_text("fast_path: false\n", "c.yaml", m);
    fod::mapping::apply_config_text("ttl: 1m\nfast_path: maybe\n", "d.yaml", m);
    CHECK_FALSE(m.config.fast_path);
    REQUIRE(m.diagnostics.size() == 1);
    CHECK(diagnostics_at(m, "d.yaml:2:").size() == 1);
    CHECK(mentions(m.diagnostics[0], "maybe"));
  }
  SECTION("a bad value is reported on its line and leaves the other settings applied") {
    Mapping m;
    fod::mapping::apply_config_text("engine: lxc\nttl: 5m\nmemory: plenty\npids: 10\n", "c.yaml",
                                    m);
    CHECK(m.config.engine == "auto");
    CHECK(m.config.ttl == 300s);
    CHECK(m.config.memory == "2g");
    CHECK(m.config.pids == 10);
    REQUIRE(m.diagnostics.size() == 2);
    CHECK(diagnostics_at(m, "c.yaml:1:").size() == 1);
    CHECK(diagnostics_at(m, "c.yaml:3:").size() == 1);
    CHECK(mentions(m.diagnostics[0], "lxc"));
  }
  SECTION("bad ttl and pids keep the earlier values") {
    Mapping m;
    fod::mapping::apply_config_text("engine: podman\nttl: forever\npids: none\n", "c.yaml", m);
    CHECK(m.config.engine == "podman");
    CHECK(m.config.ttl == 600s);
    CHECK(m.config.pids == 1024);
    CHECK(m.diagnostics.size() == 2);
  }
  SECTION("an unknown setting warns on its line") {
    Mapping m;
    fod::mapping::apply_config_text("engine: podman\nengnie: docker\n", "c.yaml", m);
    CHECK(m.config.engine == "podman");
    REQUIRE(m.diagnostics.size() == 1);
    CHECK(diagnostics_at(m, "c.yaml:2:").size() == 1);
    CHECK(mentions(m.diagnostics[0], "engnie"));
  }
  SECTION("a config that does not parse or is not a map changes nothing") {
    Mapping m;
    fod::mapping::apply_config_text("engine: docker\nttl: [5m\n", "c.yaml", m);
    fod::mapping::apply_config_text("- engine\n", "d.yaml", m);
    CHECK(m.config.engine == "auto");
    CHECK(m.config.ttl == 600s);
    CHECK(m.diagnostics.size() == 2);
    CHECK(diagnostics_at(m, "d.yaml:1:").size() == 1);
  }
}

TEST_CASE("mapping: each bad value gives the same one-line message through the field table",
          "[unit][mapping]") {
  SECTION("config.yaml: the key, the value and what it must be; the setting is ignored") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"engine: lxc", "'engine: lxc' must be auto, podman or docker"},
        {"engine: [a]", "'engine' must be a single value"},
        {"ttl: forever", "'ttl: forever' is not a duration like 90s, 10m or 2h"},
        {"ttl_min: 0", "'ttl_min: 0' must be at least 1s"},
        {"prewarm: maybe", "'prewarm: maybe' must be true or false"},
        {"max_warm: -1", "'max_warm: -1' must be a whole number (0 turns pre-warming off)"},
        {"memory_ceiling: 120%",
         "'memory_ceiling: 120%' must be a size like 8g or a share of RAM like 50%"},
        {"memory: x", "memory must be a number with an optional unit b, k, m or g (e.g. 512m)"},
        {"pids: 0", "'pids: 0' must be a positive whole number"},
        {"fast_path: no", "'fast_path: no' must be true or false"},
        {"confirm: sometimes", "'confirm: sometimes' must be ask or never"},
        {"on_digest_change: x", "'on_digest_change: x' must be ask, allow or refuse"},
        {"insecure_registries: ['a/b']", "'a/b' in insecure_registries must be host or host:port"},
        {"insecure_registries: {a: 1}", "'insecure_registries' must be a list of strings"},
        {"catalogs: [tools]", "catalog 'tools': must name a registry and a repository prefix, like "
                              "registry.example.com/tools"},
        {"catalog_network: x", "'catalog_network: x' must be none, default or host"},
        {"registry_connect_timeout: 0", "'registry_connect_timeout' must be at least 1s"},
        {"registry_timeout: x", "'registry_timeout: x' is not a duration like 90s, 10m or 2h"},
        {"negative_cache_ttl: x", "'negative_cache_ttl: x' is not a duration like 90s, 10m or 2h"},
        {"engnie: docker", "unknown setting 'engnie' ignored"}};
    for (const auto &[yaml, message] : cases) {
      INFO(yaml);
      Mapping m;
      fod::mapping::apply_config_text("pids: 7\n" + yaml + "\n", "c.yaml", m);
      CHECK(m.config.pids == 7); // the other setting applies; a bad pids leaves it as it was
      REQUIRE(m.diagnostics.size() == 1);
      const bool unknown = message.find("unknown") == 0;
      CHECK(m.diagnostics[0] == "c.yaml:2: " + message + (unknown ? "" : "; setting ignored"));
    }
  }
  SECTION("an entry: the message, then which entry was skipped") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"entrypoint: []", "'entrypoint' must name the program to run"},
        {"entrypoint: {a: b}", "'entrypoint' must be a list of strings"},
        {"network: bridge", "'network: bridge' must be none, default or host"},
        {"env: [1A]", "'1A' is not an environment variable name"},
        {"mounts: /a", "'mounts' must be a list of paths"},
        {"mounts: [rel]", "mount 'rel' must be an absolute path or start with ~/"},
        {"mounts: ['/a:b']", "mount '/a:b': paths with ':' or ',' cannot be mounted"},
        {"mounts: ['/:ro']", "mounting / is not allowed"},
        {"mounts: [[a]]", "'mounts' must be a single value"},
        {"capabilities: [all]",
         "capabilities: ALL is not allowed; list the capabilities the tool needs"},
        {"capabilities: [FOO]", "unknown capability 'FOO'"},
        {"ttl: forever", "'ttl: forever' is not a duration like 90s, 10m or 2h"},
        {"memory: lots", "memory must be a number with an optional unit b, k, m or g (e.g. 512m)"},
        {"pids: 5x", "'pids: 5x' must be a positive whole number"}};
    for (const auto &[yaml, message] : cases) {
      INFO(yaml);
      Mapping m = parse("commands:\n  bad:\n    image: x:1\n    " + yaml + "\n");
      CHECK(m.entries.empty());
      REQUIRE(m.diagnostics.size() == 1);
      CHECK(m.diagnostics[0] == "m.yaml:4: " + message + "; entry 'bad' skipped");
    }
  }
  SECTION("every key of the tables is known: none draws an unknown-key warning") {
    for (const auto &field : fod::mapping::config_fields()) {
      INFO(field.key);
      Mapping m;
      fod::mapping::apply_config_text(field.key + ": x\n", "c.yaml", m);
      for (const auto &d : m.diagnostics) {
        CHECK(d.find("unknown setting") == std::string::npos);
      }
    }
    for (const auto &field : fod::mapping::entry_fields()) {
      INFO(field.key);
      Mapping m = parse("commands:\n  t:\n    image: x:1\n    " + field.key + ": x\n");
      for (const auto &d : m.diagnostics) {
        CHECK(d.find("unknown key") == std::string::npos);
      }
    }
  }
}

TEST_CASE("mapping::mapping_files lists mappings.yaml, then mappings.d/*.yaml by name",
          "[unit][mapping]") {
  TempDir dir;
  fod::mapping::Layer layer{"user", dir.path()};

  SECTION("an empty or missing layer has no files") {
    CHECK(fod::mapping::mapping_files(layer).empty());
    CHECK(fod::mapping::mapping_files({"user", dir / "missing"}).empty());
  }
  SECTION("order and filtering") {
    dir.write("mappings.d/20-b.yaml", "");
    dir.write("mappings.d/10-a.yaml", "");
    dir.write("mappings.d/9-z.yaml", "");
    dir.write("mappings.d/notes.txt", "");
    dir.write("mappings.d/old.yml", "");
    dir.write("mappings.d/edit.yaml~", "");
    dir.write("mappings.d/.hidden.yaml", "");
    dir.write("mappings.yaml", "");
    auto files = fod::mapping::mapping_files(layer);
    CHECK(files == std::vector<std::string>{dir / "mappings.yaml", dir / "mappings.d/10-a.yaml",
                                            dir / "mappings.d/20-b.yaml",
                                            dir / "mappings.d/9-z.yaml"});
  }
}

TEST_CASE("mapping::load_layers merges package < system < user", "[unit][mapping]") {
  TempDir root;
  std::vector<fod::mapping::Layer> layers = {
      {"package", root / "share"}, {"system", root / "etc"}, {"user", root / "config"}};

  SECTION("a higher layer replaces a lower one's entry; the rest stays") {
    root.write("share/mappings.yaml", "commands:\n  jq:\n    image: jq:1\n  yq:\n    image: yq:1\n"
                                      "  rg:\n    image: rg:1\n");
    root.write("etc/mappings.yaml", "commands:\n  jq:\n    image: jq:2\n  yq:\n    image: yq:2\n");
    root.write("config/mappings.yaml", "commands:\n  jq:\n    image: jq:3\n");
    auto m = fod::mapping::load_layers(layers);
    CHECK(m.diagnostics.empty());
    REQUIRE(m.entries.size() == 3);
    CHECK(m.find("jq")->image == "jq:3");
    CHECK(m.find("jq")->origin.layer == "user");
    CHECK(m.find("jq")->origin.file == root / "config/mappings.yaml");
    CHECK(m.find("yq")->image == "yq:2");
    CHECK(m.find("yq")->origin.layer == "system");
    CHECK(m.find("rg")->image == "rg:1");
    CHECK(m.find("rg")->origin.layer == "package");
  }
  SECTION("the order of the layer list decides, not the layer names") {
    root.write("share/mappings.yaml", "commands:\n  jq:\n    image: jq:1\n");
    root.write("config/mappings.yaml", "commands:\n  jq:\n    image: jq:3\n");
    auto m = fod::mapping::load_layers({layers[2], layers[0]});
    CHECK(m.find("jq")->image == "jq:1");
  }
  SECTION("within a layer: mappings.yaml, then mappings.d in name order") {
    root.write("config/mappings.yaml",
               "commands:\n  jq:\n    image: jq:1\n  yq:\n    image: yq:1\n");
    root.write("config/mappings.d/10-a.yaml",
               "commands:\n  jq:\n    image: jq:2\n  rg:\n    image: rg:2\n");
    root.write("config/mappings.d/2-b.yaml", "commands:\n  jq:\n    image: jq:3\n");
    root.write("config/mappings.d/zz.yml", "commands:\n  jq:\n    image: jq:ignored\n");
    auto m = fod::mapping::load_layers(layers);
    CHECK(m.find("jq")->image == "jq:3");
    CHECK(m.find("jq")->origin.file == root / "config/mappings.d/2-b.yaml");
    CHECK(m.find("yq")->image == "yq:1");
    CHECK(m.find("rg")->image == "rg:2");
  }
  SECTION("a lower layer's mappings.d is still below a higher layer's mappings.yaml") {
    root.write("share/mappings.d/99-last.yaml", "commands:\n  jq:\n    image: jq:1\n");
    root.write("etc/mappings.yaml", "commands:\n  jq:\n    image: jq:2\n");
    auto m = fod::mapping::load_layers(layers);
    CHECK(m.find("jq")->image == "jq:2");
  }
  SECTION("an earlier entry's fields are not merged into the replacement") {
    root.write("share/mappings.yaml", "commands:\n  gh:\n    image: gh:1\n    env: [GH_TOKEN]\n"
                                      "    mounts: [~/.config/gh]\n    network: host\n");
    root.write("config/mappings.yaml", "commands:\n  gh:\n    image: gh:2\n");
    auto m = fod::mapping::load_layers(layers);
    const auto *e = m.find("gh");
    REQUIRE(e != nullptr);
    CHECK(e->image == "gh:2");
    CHECK(e->env.empty());
    CHECK(e->mounts.empty());
    CHECK(e->network == Network::standard);
  }
  SECTION("disabled: true in the user layer hides a package entry") {
    root.write("share/mappings.yaml",
               "commands:\n  jq:\n    image: jq:1\n  yq:\n    image: yq:1\n");
    root.write("config/mappings.d/off.yaml", "commands:\n  jq:\n    disabled: true\n");
    auto m = fod::mapping::load_layers(layers);
    CHECK(m.find("jq") == nullptr);
    CHECK(m.find("yq") != nullptr);
  }
  SECTION("a broken file is skipped whole; the other files and layers still load") {
    root.write("share/mappings.yaml", "commands:\n  jq:\n    image: jq:1\n");
    root.write("etc/mappings.yaml", "commands:\n  jq:\n    disabled: true\n   yq: x\n");
    root.write("config/mappings.yaml", "commands:\n  rg:\n    image: rg:1\n");
    auto m = fod::mapping::load_layers(layers);
    CHECK(m.find("jq") != nullptr);
    CHECK(m.find("rg") != nullptr);
    REQUIRE(m.diagnostics.size() == 1);
    CHECK(diagnostics_at(m, root / "etc/mappings.yaml" + ":4:").size() == 1);
  }
  SECTION("a diagnostic names the real file and line") {
    root.write("config/mappings.d/tools.yaml",
               "commands:\n  ok:\n    image: ok:1\n  bad:\n    image: bad\n");
    auto m = fod::mapping::load_layers(layers);
    CHECK(m.find("ok") != nullptr);
    REQUIRE(m.diagnostics.size() == 1);
    CHECK(diagnostics_at(m, root / "config/mappings.d/tools.yaml" + ":5:").size() == 1);
  }
  SECTION("config.yaml of each layer applies key by key, higher layers last") {
    root.write("share/config.yaml", "ttl: 5m\nmemory: 1g\n");
    root.write("etc/config.yaml", "memory: 3g\npids: 99\n");
    root.write("config/config.yaml", "engine: docker\npids: oops\n");
    auto m = fod::mapping::load_layers(layers);
    CHECK(m.config.engine == "docker");
    CHECK(m.config.ttl == 300s);
    CHECK(m.config.memory == "3g");
    CHECK(m.config.pids == 99);
    REQUIRE(m.diagnostics.size() == 1);
    CHECK(diagnostics_at(m, root / "config/config.yaml" + ":2:").size() == 1);
  }
  SECTION("missing layer directories are fine") {
    auto m = fod::mapping::load_layers(layers);
    CHECK(m.entries.empty());
    CHECK(m.diagnostics.empty());
  }
}

TEST_CASE("mapping::default_layers follows the environment", "[unit][mapping]") {
  EnvGuard env;
  env.set("FOD_DATADIR", "/opt/fod/share");
  env.set("FOD_SYSCONFDIR", "/opt/fod/etc");
  env.set("XDG_CONFIG_HOME", "/home/someone/.cfg");
  env.set("XDG_STATE_HOME", "/home/someone/.st");
  auto layers = fod::mapping::default_layers();
  REQUIRE(layers.size() == 4);
  CHECK(layers[0].name == "package");
  CHECK(layers[0].dir == "/opt/fod/share");
  CHECK(layers[1].name == "team");
  CHECK(layers[1].dir == "/home/someone/.st/fod/team");
  CHECK_FALSE(layers[1].has_config);
  CHECK(layers[2].name == "system");
  CHECK(layers[2].dir == "/opt/fod/etc");
  CHECK(layers[3].name == "user");
  CHECK(layers[3].dir == "/home/someone/.cfg/fod");

  SECTION("without overrides: /etc/fod and ~/.config/fod") {
    env.unset("FOD_SYSCONFDIR");
    env.unset("XDG_CONFIG_HOME");
    env.set("HOME", "/home/someone");
    env.unset("XDG_STATE_HOME");
    auto plain = fod::mapping::default_layers();
    CHECK(plain[1].dir == "/home/someone/.local/state/fod/team");
    CHECK(plain[2].dir == "/etc/fod");
    CHECK(plain[3].dir == "/home/someone/.config/fod");
  }
}
