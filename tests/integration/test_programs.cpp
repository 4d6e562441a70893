// fod and fod-commands (ARCHITECTURE.md, "The programs"): fod serves a shim, `fod run` and
// --version itself while the mapping's index is current, and hands everything else, argv as
// given, to fod-commands, which names fod, never itself, wherever fod is named again (shims,
// the shell integration). Each behaviour runs with rootful podman, docker and rootless podman.
#include "fod_env.hpp"

#include <catch2/catch.hpp>

#include <climits>
#include <cstdlib>
#include <unistd.h>

using namespace fod::test;

namespace {

std::string real(const std::string& path) {
    char buffer[PATH_MAX];
    return realpath(path.c_str(), buffer) != nullptr ? buffer : "";
}

std::string link_target(const std::string& path) {
    char buffer[PATH_MAX];
    ssize_t n = readlink(path.c_str(), buffer, sizeof buffer - 1);
    return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
}

void fod_serves_runs_and_hands_over_the_rest(Engine e) {
    FodEnv env(e);
    env.write_mappings(env.entry("tool-a", scratch_image, {"/tool"}, "71s"));
    // fod-commands out of reach: whatever fod hands over fails with this one line.
    const RunOptions unreachable{.env_set = {{"FOD_COMMANDS", "/nonexistent/fod-commands"}}};
    const std::string unreachable_line =
        "fod: error: cannot run /nonexistent/fod-commands: No such file or directory; "
        "reinstall fod\n";

    // A new mapping: the index is stale, so fod never runs it itself.
    Result stale = env.run_cmd("tool-a", {"echo", "one"}, unreachable);
    CHECK(stale.status == 125);
    CHECK(stale.err == unreachable_line);
    CHECK(stale.out.empty());

    // Handed over: fod-commands rebuilds the index, makes the shims and runs the command.
    Result first = env.run_cmd("tool-a", {"echo", "one"});
    INFO("stderr: " << first.err);
    CHECK(first.status == 0);
    CHECK(first.out == "one\n");
    // The shim names fod, not fod-commands, and so does the shell integration.
    CHECK(real(link_target(env.shims_dir() + "/tool-a")) == real(fod_binary()));
    Result init = env.fod({"init", "bash"});
    CHECK(init.status == 0);
    CHECK(contains(init.out, real(fod_binary())));
    CHECK_FALSE(contains(init.out, "fod-commands"));

    // The index is current: runs, shims and --version need no fod-commands.
    Result warm = env.run_cmd("tool-a", {"echo", "two"}, env.traced(unreachable));
    INFO("stderr: " << warm.err);
    CHECK(warm.status == 0);
    CHECK(warm.out == "two\n");
    CHECK(env.trace() == std::vector<std::string>{"agent"});
    Result shim = run({env.shims_dir() + "/tool-a", "echo", "three"}, env.options(unreachable));
    CHECK(shim.status == 0);
    CHECK(shim.out == "three\n");
    Result version = env.fod({"--version"}, unreachable);
    CHECK(version.status == 0);
    CHECK(version.out.rfind("fod ", 0) == 0);
    Result missing = env.run_cmd("no-such-tool", {}, unreachable);
    CHECK(missing.status == 127);
    CHECK(missing.err == "fod: no-such-tool: command not found (fod has no mapping for it)\n");

    // Everything else is fod-commands'.
    Result ps = env.fod({"ps"}, unreachable);
    CHECK(ps.status == 125);
    CHECK(ps.err == unreachable_line);
    CHECK(env.fod({"ps"}).status == 0);
    Result unknown = env.fod({"no-such-subcommand"});
    CHECK(unknown.status == 2);
    CHECK(contains(unknown.err, "unknown subcommand 'no-such-subcommand'"));

    // A changed mapping makes the index stale again: handed over, never run from the old one.
    env.write_mappings(env.entry("tool-a", scratch_image, {"/tool"}, "71s") +
                       env.entry("tool-b", scratch_image, {"/tool"}, "71s"));
    Result changed = env.run_cmd("tool-a", {"echo", "four"}, unreachable);
    CHECK(changed.status == 125);
    CHECK(changed.err == unreachable_line);
    Result added = env.run_cmd("tool-b", {"echo", "five"});
    INFO("stderr: " << added.err);
    CHECK(added.status == 0);
    CHECK(added.out == "five\n");
    env.stop_all_checked();
}

}  // namespace

FOD_TEST_ALL_ENGINES("programs: fod serves runs while the index is current and hands the rest "
                     "to fod-commands",
                     "[programs]", fod_serves_runs_and_hands_over_the_rest)
