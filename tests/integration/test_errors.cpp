// What a user sees when something is wrong: no engine, a broken mapping file,
// an image that is not there, a wrong command line. Each runs with rootful
// podman, docker and rootless podman (as fodtest).
#include "fod_env.hpp"

#include <catch2/catch.hpp>

#include <cctype>

using namespace fod::test;

namespace {

void no_engine(Engine e) {
    FodEnv env(e);
    env.write_mappings(env.entry("tool-noengine", scratch_image, {"/tool"}, "91s"));
    const std::vector<std::string> argv{fod_binary(), "run", "tool-noengine", "echo", "x"};

    RunOptions missing = env.options();
    missing.env_set["FOD_ENGINE"] = "/nonexistent/podman";
    Result r = run(argv, missing);
    INFO("stderr: " << r.err);
    CHECK(r.status == 125);
    CHECK(r.out.empty());
    CHECK(starts_with(r.err, "fod: error:"));
    CHECK(contains(r.err, "/nonexistent/podman"));

    // Neither CLI on PATH and no FOD_ENGINE: auto finds nothing.
    RunOptions none = env.options();
    none.env_set.erase("FOD_ENGINE");
    none.env_unset.push_back("FOD_ENGINE");
    none.env_set["PATH"] = env.root() + "/data";
    Result n = run(argv, none);
    INFO("stderr: " << n.err);
    CHECK(n.status == 125);
    CHECK(n.out.empty());
    CHECK(starts_with(n.err, "fod: error:"));
    CHECK((contains(n.err, "podman") || contains(n.err, "docker")));

    env.stop_all_checked();
}

void broken_yaml(Engine e) {
    FodEnv env(e);
    // Line 4 is a list item inside a map: not YAML.
    const std::string broken = env.write_config(
        "mappings.yaml",
        "commands:\n  tool-broken:\n    image: " + std::string(scratch_image) + "\n  - oops\n");
    env.write_config("mappings.d/10-good.yaml",
                     "commands:\n" + env.entry("tool-good", scratch_image, {"/tool"}, "92s"));

    Result r = env.run_cmd("tool-good", {"echo", "still", "works"});
    INFO("stderr: " << r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "still works\n");
    std::vector<std::string> warnings;
    for (const auto& line : lines_of(r.err))
        if (starts_with(line, "fod: warning:")) warnings.push_back(line);
    REQUIRE(warnings.size() == 1);
    CHECK(starts_with(warnings[0], "fod: warning: " + broken + ":4: "));

    // Printed once, on the first run after the file changed.
    Result again = env.run_cmd("tool-good", {"echo", "again"});
    INFO("stderr: " << again.err);
    CHECK(again.status == 0);
    CHECK_FALSE(contains(again.err, "fod: warning:"));
    // `fod which` always shows it.
    CHECK(contains(env.fod({"which", "tool-good"}).err, "fod: warning: " + broken + ":4: "));

    // The broken file's command is not mapped, nor is a name never mapped.
    Result skipped = env.run_cmd("tool-broken", {});
    INFO("stderr: " << skipped.err);
    CHECK(skipped.status == 127);
    CHECK(contains(skipped.err, "tool-broken"));
    Result unmapped = env.run_cmd("tool-never-mapped", {"x"});
    INFO("stderr: " << unmapped.err);
    CHECK(unmapped.status == 127);
    CHECK(unmapped.out.empty());
    CHECK(contains(unmapped.err, "tool-never-mapped"));

    env.stop_all_checked();
}

void image_absent(Engine e) {
    FodEnv env(e);
    // A registry image (a localhost/ name is never pulled: test_pull.cpp); port 9 on
    // loopback refuses connections.
    const std::string absent = "127.0.0.1:9/fod-test-absent:1";
    env.write_mappings(env.entry("tool-absent", absent, {"/tool"}, "93s"));

    // No terminal and no consent: nothing is pulled or sent, 127 and how to allow it.
    Result r = env.run_cmd("tool-absent", {"echo", "x"});
    INFO("stderr: " << r.err);
    CHECK(r.status == 127);
    CHECK(r.out.empty());
    CHECK(contains(r.err, "fod allow tool-absent"));
    CHECK(contains(r.err, absent));
    CHECK(env.containers().empty());

    // Allowed, but its registry (https://127.0.0.1:9) does not answer: 125 and why.
    env.write_config("config.yaml", "confirm: never\nregistry_connect_timeout: 1s\n");
    Result u = env.run_cmd("tool-absent", {"echo", "x"});
    INFO("stderr: " << u.err);
    CHECK(u.status == 125);
    CHECK(u.out.empty());
    CHECK(starts_with(u.err, "fod: error:"));
    CHECK(contains(u.err, "cannot pull"));
    CHECK(contains(u.err, "unreachable"));
    CHECK(contains(u.err, absent));
    CHECK(lines_of(u.err).size() == 1);
    CHECK(env.containers().empty());

    env.stop_all_checked();
}

void usage(Engine e) {
    FodEnv env(e);

    Result version = env.fod({"--version"});
    INFO("stdout: " << version.out << "stderr: " << version.err);
    CHECK(version.status == 0);
    REQUIRE(starts_with(version.out, "fod "));
    CHECK(version.out.size() > 4);
    CHECK(std::isdigit(static_cast<unsigned char>(version.out[4])));

    // README: status 2 is a usage error.
    Result bare = env.fod({});
    INFO("bare fod: " << bare.out << bare.err);
    CHECK(bare.status != 0);
    CHECK(bare.status == 2);
    CHECK((contains(bare.err + bare.out, "usage") || contains(bare.err + bare.out, "Usage")));

    Result run_alone = env.fod({"run"});
    INFO("fod run: " << run_alone.out << run_alone.err);
    CHECK(run_alone.status == 2);
    CHECK(contains(run_alone.err, "usage"));
}

}  // namespace

FOD_TEST_ALL_ENGINES("without an engine fod exits 125 with one error line", "[errors]", no_engine)
FOD_TEST_ALL_ENGINES("a broken mappings file is skipped with one file:line warning", "[errors]",
                     broken_yaml)
FOD_TEST_ALL_ENGINES(
    "an absent image: 127 and fod allow without consent, 125 when its registry is unreachable",
    "[errors]", image_absent)
FOD_TEST_ALL_ENGINES("fod --version prints the version, bare fod and bare fod run are usage errors",
                     "[errors][usage]", usage)
