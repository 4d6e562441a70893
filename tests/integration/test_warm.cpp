// Warm containers: reuse, concurrent first runs, the reaper, recovery from a
// container removed behind fod's back, and Ctrl-C. Each behaviour runs with
// rootful podman, docker and rootless podman (as fodtest).
#include "fod_env.hpp"

#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <thread>

using namespace fod::test;

namespace {

using Clock = std::chrono::steady_clock;

void warm_reuse(Engine e) {
    FodEnv env(e);
    env.write_mappings(env.entry("tool-warm", scratch_image, {"/tool"}, "81s") +
                       env.entry("tool-warm-b", scratch_image, {"/tool"}, "81s"));

    Result first = env.run_cmd("tool-warm", {"echo", "one"});
    INFO("stderr: " << first.err);
    CHECK(first.status == 0);
    CHECK(first.out == "one\n");
    Result second = env.run_cmd("tool-warm", {"echo", "two"});
    INFO("stderr: " << second.err);
    CHECK(second.status == 0);
    CHECK(second.out == "two\n");
    auto names = env.containers();
    CHECK(names.size() == 1);

    // Another command of the same image in the same directory: same container.
    Result other = env.run_cmd("tool-warm-b", {"echo", "three"});
    INFO("stderr: " << other.err);
    CHECK(other.status == 0);
    CHECK(other.out == "three\n");
    CHECK(env.containers() == names);

    Result ps = env.fod({"ps"});
    INFO("fod ps: " << ps.out << ps.err);
    CHECK(ps.status == 0);
    bool listed = false;
    for (const auto& line : lines_of(ps.out))
        if (contains(line, "tool-warm") && contains(line, "tool-warm-b") &&
            contains(line, scratch_image) && contains(line, env.work()))
            listed = true;
    CHECK(listed);

    Result which = env.fod({"which", "tool-warm"});
    INFO("fod which: " << which.out << which.err);
    CHECK(which.status == 0);
    CHECK(contains(which.out, "warm here:   yes"));

    env.stop_all_checked();

    Result after = env.fod({"which", "tool-warm"});
    CHECK(contains(after.out, "warm here:   no"));
}

void concurrent_first_runs(Engine e) {
    FodEnv env(e);
    env.write_mappings(env.entry("tool-concurrent", scratch_image, {"/tool"}, "82s"));

    constexpr int runs = 10;
    std::array<Result, runs> results;
    std::vector<std::thread> threads;
    for (int i = 0; i < runs; ++i) {
        threads.emplace_back([&env, &results, i] {
            results[i] = env.run_cmd("tool-concurrent", {"echo", "run", std::to_string(i)},
                                     {.timeout_s = 90});
        });
    }
    for (auto& t : threads) t.join();

    for (int i = 0; i < runs; ++i) {
        INFO("run " << i << " stderr: " << results[i].err);
        CHECK(results[i].status == 0);
        CHECK(results[i].out == "run " + std::to_string(i) + "\n");
    }
    CHECK(env.containers().size() == 1);

    env.stop_all_checked();
}

void reaper_removes_idle_container(Engine e) {
    FodEnv env(e);
    env.write_mappings(env.entry("tool-reaped", scratch_image, {"/tool"}, "3s"));

    Result r = env.run_cmd("tool-reaped", {"echo", "once"});
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    CHECK(r.out == "once\n");
    // The cheap checks first, well within the ttl.
    CHECK(contains(env.fod({"ps"}).out, "tool-reaped"));
    auto dirs = env.recorded_dirs();
    REQUIRE(dirs.size() == 1);
    const auto reapers = env.reaper_pids_of_dir(dirs[0]);
    CHECK(reapers.size() == 1);
    CHECK(env.containers().size() == 1);

    CHECK(env.wait_until_no_containers(20));
    Result ps = env.fod({"ps"});
    CHECK(ps.status == 0);
    CHECK_FALSE(contains(ps.out, "tool-reaped"));
    // Its work done, the reaper exits.
    poll_until([&] { return env.reaper_pids_of_dir(dirs[0]).empty(); }, 5);
    CHECK(env.reaper_pids_of_dir(dirs[0]).empty());

    env.stop_all_checked();
}

void reaper_waits_for_run_in_flight(Engine e) {
    FodEnv env(e);
    env.write_mappings(env.entry("tool-inflight", scratch_image, {"/tool"}, "2s"));

    // Runs three times as long as the ttl: the reaper must wait for it.
    Result r = env.run_cmd("tool-inflight", {"sleep", "6"});
    INFO("stderr: " << r.err);
    CHECK(r.status == 0);
    CHECK_FALSE(contains(r.err, "got signal"));
    // And a run right after still finds a working container (or starts one).
    Result again = env.run_cmd("tool-inflight", {"exit", "4"});
    INFO("stderr: " << again.err);
    CHECK(again.status == 4);

    CHECK(env.wait_until_no_containers(20));
    env.stop_all_checked();
}

void killed_reaper_is_replaced(Engine e) {
    FodEnv env(e);
    env.write_mappings(env.entry("tool-reaper-killed", scratch_image, {"/tool"}, "4s"));

    Result r = env.run_cmd("tool-reaper-killed", {"echo", "first"});
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    auto names = env.containers();
    REQUIRE(names.size() == 1);
    auto before = env.wait_for_reaper(names[0]);
    REQUIRE(before.size() == 1);
    REQUIRE(kill(before[0], SIGKILL) == 0);
    REQUIRE(wait_for_exit(before[0], 5));
    REQUIRE(poll_until([&] { return env.reaper_pids(names[0]).empty(); }, 5));

    Result again = env.run_cmd("tool-reaper-killed", {"echo", "second"});
    INFO("stderr: " << again.err);
    CHECK(again.status == 0);
    CHECK(again.out == "second\n");
    CHECK(env.containers() == names);
    auto after = env.wait_for_reaper(names[0]);
    CHECK(after.size() == 1);
    CHECK(after != before);

    CHECK(env.wait_until_no_containers(20));
    env.stop_all_checked();
}

// A container whose reaper was killed and whose command is never run again: the
// next cold start of another container gives it a reaper, which removes it.
void orphan_adopted_by_a_cold_start(Engine e) {
    FodEnv env(e);
    env.write_mappings(env.entry("tool-orphan", scratch_image, {"/tool"}, "3s") +
                       env.entry("tool-adopter", busybox_image, {"echo"}, "84s"));

    Result r = env.run_cmd("tool-orphan", {"echo", "once"});
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    auto names = env.containers();
    REQUIRE(names.size() == 1);
    auto reaper = env.wait_for_reaper(names[0]);
    REQUIRE(reaper.size() == 1);
    REQUIRE(kill(reaper[0], SIGKILL) == 0);
    REQUIRE(wait_for_exit(reaper[0], 5));
    // Orphaned: well past its ttl it is still there.
    std::this_thread::sleep_for(std::chrono::seconds(5));
    REQUIRE(env.containers().size() == 1);

    Result other = env.run_cmd("tool-adopter", {"cold"});
    INFO("stderr: " << other.err);
    CHECK(other.status == 0);
    // Its new reaper finds it idle past its ttl and removes it at once.
    auto gone = [&] {
        auto now = env.containers();
        return std::find(now.begin(), now.end(), names[0]) == now.end();
    };
    poll_until(gone, 20, std::chrono::milliseconds(200));
    CHECK(gone());
    CHECK(env.containers().size() == 1);  // the adopter's own

    env.stop_all_checked();
}

void container_removed_behind_fods_back(Engine e) {
    FodEnv env(e);
    env.write_mappings(env.entry("tool-removed", scratch_image, {"/tool"}, "83s"));

    Result r = env.run_cmd("tool-removed", {"echo", "before"});
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    auto names = env.containers();
    REQUIRE(names.size() == 1);
    Result rm = env.engine_cli({"rm", "-f", names[0]});
    INFO("rm: " << rm.err);
    REQUIRE(rm.status == 0);
    REQUIRE(env.containers().empty());

    Result again = env.run_cmd("tool-removed", {"echo", "after"});
    INFO("stderr: " << again.err);
    CHECK(again.status == 0);
    CHECK(again.out == "after\n");
    CHECK(env.containers().size() == 1);

    env.stop_all_checked();
}

void ctrl_c_interrupts_the_command(Engine e) {
    FodEnv env(e);
    env.write_mappings(env.entry("tool-interrupt", scratch_image, {"/tool"}, "84s"));
    // Warm first, so the signal reaches a command that is surely running.
    Result warm = env.run_cmd("tool-interrupt", {"echo", "warm"});
    INFO("stderr: " << warm.err);
    REQUIRE(warm.status == 0);
    auto names = env.containers();
    REQUIRE(names.size() == 1);

    std::thread interrupter;
    pid_t interrupted = -1;
    const auto start = Clock::now();
    RunOptions opts{.close_stdin = true, .timeout_s = 20};
    opts.on_start = [&](pid_t pid) {
        interrupter = std::thread([pid, &interrupted] {
            std::this_thread::sleep_for(std::chrono::seconds(2));
            interrupted = fod_pid_from(pid);
            kill(interrupted, SIGINT);
        });
    };
    Result r = env.run_cmd("tool-interrupt", {"sleep", "30"}, opts);
    const double took = seconds_since(start);
    interrupter.join();
    INFO("stderr: " << r.err << "took " << took << " s");
    CHECK(interrupted > 0);
    CHECK(r.status == 128 + SIGINT);
    CHECK(contains(r.err, "tool: got signal 2"));
    CHECK(took < 12);

    // Nothing of the command is left in the warm container.
    Result top = env.engine_cli({"top", names[0]});
    INFO("top: " << top.out << top.err);
    CHECK(top.status == 0);
    CHECK(contains(top.out, "keep"));  // the listing works: fod's keeper is there
    CHECK_FALSE(contains(top.out, "sleep"));

    env.stop_all_checked();
}

}  // namespace

FOD_TEST_ALL_ENGINES("a second run reuses the warm container, and ps and which show it", "[warm]",
                     warm_reuse)
FOD_TEST_ALL_ENGINES("ten concurrent first runs all succeed and start one container", "[warm]",
                     concurrent_first_runs)
FOD_TEST_ALL_ENGINES("the reaper removes a container idle for its ttl", "[warm][reaper]",
                     reaper_removes_idle_container)
FOD_TEST_ALL_ENGINES("the reaper never removes a container while a run is in flight",
                     "[warm][reaper]", reaper_waits_for_run_in_flight)
FOD_TEST_ALL_ENGINES("a killed reaper is replaced by the next run and still removes the container",
                     "[warm][reaper]", killed_reaper_is_replaced)
FOD_TEST_ALL_ENGINES(
    "an orphaned container (its reaper killed) gets a reaper at the next cold start",
    "[warm][reaper]", orphan_adopted_by_a_cold_start)
FOD_TEST_ALL_ENGINES("a run after the container was removed behind fod's back still works",
                     "[warm]", container_removed_behind_fods_back)
FOD_TEST_ALL_ENGINES("Ctrl-C stops the command in the container and fod exits 130",
                     "[warm][signal]", ctrl_c_interrupts_the_command)
