// Adaptive keep-warm with real engines: the run record, `fod stats`, `ttl: auto`
// containers removed by the reaper after the policy's ttl, and pre-warming of
// a strong sequence within its bounds (prewarm: false, max_warm, the memory
// ceiling), and of a periodic command.
#include "fod_env.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <sstream>
#include <thread>

using namespace fod::test;

namespace {

using Clock = std::chrono::steady_clock;

std::string history_path(const FodEnv& env) { return env.root() + "/state/fod/history"; }

// The record lines of `command` (its 5th field), in file order.
std::vector<std::string> records_of(const FodEnv& env, const std::string& command) {
    std::vector<std::string> out;
    for (const auto& line : lines_of(read_file(history_path(env)))) {
        std::istringstream fields(line);
        std::string kind, time, setup, duration, name;
        fields >> kind >> time >> setup >> duration >> name;
        if (name == command) out.push_back(line);
    }
    return out;
}

// Writes the run record before fod's first run, owned by fod's user.
void seed_history(const FodEnv& env, const std::string& text) {
    const std::string dir = env.root() + "/state/fod";
    mkdir(dir.c_str(), 0700);
    write_file(history_path(env), text);
    struct stat work {};
    REQUIRE(stat(env.work().c_str(), &work) == 0);
    REQUIRE(chown(dir.c_str(), work.st_uid, work.st_gid) == 0);
    REQUIRE(chown(history_path(env).c_str(), work.st_uid, work.st_gid) == 0);
}

// Live `fod _prewarm NAME` processes of this test's fod (its state directory:
// another test run on the machine may have helpers of the same name).
std::vector<pid_t> prewarm_helpers(const FodEnv& env, const std::string& name) {
    std::vector<pid_t> pids;
    const std::string needle = std::string("_prewarm") + '\0' + name + '\0';
    const std::string state = std::string("XDG_STATE_HOME=") + env.root() + "/state" + '\0';
    for (pid_t pid : all_pids()) {
        const std::string proc = "/proc/" + std::to_string(pid);
        if (read_file(proc + "/cmdline").find(needle) == std::string::npos) continue;
        if (read_file(proc + "/environ").find(state) == std::string::npos) continue;
        pids.push_back(pid);
    }
    return pids;
}

void runs_are_recorded_and_shown_by_stats(Engine e) {
    FodEnv env(e);
    // No ttl anywhere: `ttl: auto`.
    env.write_mappings(env.entry("adaptive-rec", scratch_image, {"/tool"}, ""));

    Result first = env.run_cmd("adaptive-rec", {"echo", "one"});
    INFO("stderr: " << first.err);
    REQUIRE(first.status == 0);
    Result second = env.run_cmd("adaptive-rec", {"echo", "two"});
    REQUIRE(second.status == 0);
    CHECK(second.out == "two\n");

    auto records = records_of(env, "adaptive-rec");
    INFO("history:\n" << read_file(history_path(env)));
    REQUIRE(records.size() == 2);
    // Cold with its setup time, then warm with none; the image and the key follow.
    CHECK(records[0].rfind("C ", 0) == 0);
    CHECK(records[1].rfind("W ", 0) == 0);
    CHECK(contains(records[0], std::string(" adaptive-rec ") + scratch_image + " "));
    std::istringstream cold(records[0]);
    std::string kind;
    double start = 0, setup = 0, exec = 0;
    cold >> kind >> start >> setup >> exec;
    CHECK(setup > 0);
    CHECK(exec >= 0);
    CHECK(std::abs(start - static_cast<double>(std::time(nullptr))) < 120);
    struct stat st {};
    REQUIRE(stat(history_path(env).c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    CHECK(contains(env.fod({"ps"}).out, "auto"));
    Result stats = env.fod({"stats"});
    INFO("stats:\n" << stats.out << stats.err);
    CHECK(stats.status == 0);
    CHECK(contains(stats.out, "WARM-HIT"));
    bool row = false;
    for (const auto& line : lines_of(stats.out)) {
        std::istringstream fields(line);
        std::string name, calls;
        fields >> name >> calls;
        if (name == "adaptive-rec") {
            row = true;
            CHECK(calls == "2");
            CHECK(contains(line, " 50% "));
        }
    }
    CHECK(row);

    env.stop_all_checked();
}

void auto_ttl_container_is_reaped(Engine e) {
    FodEnv env(e);
    // The mapping's `ttl: auto` wins over the config's fixed ttl; the bounds
    // make the policy's ttl a few seconds (learning: 10m clamped to ttl_max).
    env.write_config("config.yaml", "ttl: 10m\nttl_min: 2s\nttl_max: 4s\nprewarm: false\n");
    env.write_mappings(env.entry("adaptive-reaped", scratch_image, {"/tool"}, "auto"));

    Result r = env.run_cmd("adaptive-reaped", {"echo", "once"});
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    Result ps = env.fod({"ps"});
    CHECK(contains(ps.out, "adaptive-reaped"));
    CHECK(contains(ps.out, "auto"));
    Result which = env.fod({"which", "adaptive-reaped"});
    CHECK(contains(which.out, "ttl:         auto, now 4s (learning), within 2s..4s"));
    REQUIRE(env.containers().size() == 1);

    const auto begun = Clock::now();
    CHECK(env.wait_until_no_containers(30));
    // Not before the policy's ttl (4s idle; the run itself ended before `begun`).
    CHECK(Clock::now() - begun >= std::chrono::seconds(2));
    CHECK_FALSE(contains(env.fod({"ps"}).out, "adaptive-reaped"));
    // The reaper recorded the removal and its idle time. It writes that once the
    // engine's rm returns, which can be a moment after the container is gone.
    CHECK(poll_until([&] { return records_of(env, "adaptive-reaped").size() >= 2; }, 10));
    auto records = records_of(env, "adaptive-reaped");
    INFO("history:\n" << read_file(history_path(env)));
    INFO("reaper.log:\n" << read_file(env.root() + "/state/fod/reaper.log"));
    REQUIRE(records.size() == 2);
    CHECK(records[1].rfind("R ", 0) == 0);

    env.stop_all_checked();
}

// Six times before, adaptive-seq-b (another image) came `delay` s after the end
// of adaptive-seq-a, at irregular times (no period, so no helper waits for a
// next periodic call).
std::string sequence_history(double delay = 5) {
    const double now = static_cast<double>(std::time(nullptr));
    std::string text;
    char line[256];
    for (double hours_ago : {30.0, 21.5, 20.0, 11.0, 4.2, 3.0}) {
        const double a = now - hours_ago * 3600.0;
        std::snprintf(line, sizeof line, "C %.3f 0.800 1.000 adaptive-seq-a %s -\n", a,
                      busybox_image);
        text += line;
        std::snprintf(line, sizeof line, "C %.3f 0.800 1.000 adaptive-seq-b %s -\n",
                      a + 1.8 + delay, scratch_image);
        text += line;
    }
    return text;
}

std::string sequence_mappings(const FodEnv& env) {
    return env.entry("adaptive-seq-a", busybox_image, {"echo"}, "") +
           env.entry("adaptive-seq-b", scratch_image, {"/tool"}, "");
}

void prewarm_starts_the_follower_of_a_strong_sequence(Engine e) {
    FodEnv env(e);
    env.write_mappings(sequence_mappings(env));
    seed_history(env, sequence_history());

    Result a = env.run_cmd("adaptive-seq-a", {"hello"});
    INFO("stderr: " << a.err);
    REQUIRE(a.status == 0);
    CHECK(a.out == "hello\n");
    // In the background, the helper starts b's container: a's and b's are up.
    CHECK(poll_until([&] { return env.containers().size() == 2; }, 30));
    CHECK(poll_until(
        [&] {
            return !records_of(env, "adaptive-seq-b").empty() &&
                   records_of(env, "adaptive-seq-b").back().rfind("P ", 0) == 0;
        },
        10));
    // b's call is a warm hit.
    Result b = env.run_cmd("adaptive-seq-b", {"echo", "warm"});
    INFO("stderr: " << b.err);
    CHECK(b.status == 0);
    CHECK(b.out == "warm\n");
    auto records = records_of(env, "adaptive-seq-b");
    INFO("history:\n" << read_file(history_path(env)));
    REQUIRE_FALSE(records.empty());
    CHECK(records.back().rfind("W ", 0) == 0);
    CHECK(env.containers().size() == 2);

    env.stop_all_checked();
}

// The same evidence, but a bound says no: only a's container comes up.
void prewarm_respects_its_bounds(Engine e, const std::string& config) {
    FodEnv env(e);
    env.write_config("config.yaml", config);
    env.write_mappings(sequence_mappings(env));
    seed_history(env, sequence_history());

    Result a = env.run_cmd("adaptive-seq-a", {"hello"});
    INFO("stderr: " << a.err);
    REQUIRE(a.status == 0);
    // Whatever helper ran has finished (prewarm: false starts none).
    CHECK(poll_until([&] { return prewarm_helpers(env, "adaptive-seq-a").empty(); }, 30));
    std::this_thread::sleep_for(std::chrono::seconds(1));
    CHECK(env.containers().size() == 1);
    auto records = records_of(env, "adaptive-seq-b");
    INFO("history:\n" << read_file(history_path(env)));
    REQUIRE_FALSE(records.empty());
    CHECK(records.back().rfind("C ", 0) == 0);  // still the seeded runs only

    env.stop_all_checked();
}

// b usually comes 20 s after a, so the helper sleeps before it starts b's
// container; `fod stop --all` meanwhile cancels it.
void stop_cancels_a_pending_prewarm(Engine e) {
    FodEnv env(e);
    env.write_mappings(sequence_mappings(env));
    seed_history(env, sequence_history(20));

    Result a = env.run_cmd("adaptive-seq-a", {"hello"});
    INFO("stderr: " << a.err);
    REQUIRE(a.status == 0);
    // The helper is there, waiting for b's time. It is spawned detached through fod and
    // fod-run to fod-commands: between those execs its argv can read empty for a moment.
    CHECK(poll_until([&] { return !prewarm_helpers(env, "adaptive-seq-a").empty(); }, 5));
    Result stop = env.fod({"stop", "--all"});
    CHECK(stop.status == 0);
    CHECK(poll_until([&] { return prewarm_helpers(env, "adaptive-seq-a").empty(); }, 40));
    CHECK(env.containers().empty());
    auto records = records_of(env, "adaptive-seq-b");
    INFO("history:\n" << read_file(history_path(env)));
    REQUIRE_FALSE(records.empty());
    CHECK(records.back().rfind("C ", 0) == 0);  // no pre-warm

    env.stop_all_checked();
}

// Two commands share one container (same image and options): one with a fixed
// ttl of an hour, one with `ttl: auto` whose policy says 2 s. Whichever ran
// last, the container stays for the longer.
void shared_container_keeps_the_longest_ttl(Engine e) {
    FodEnv env(e);
    env.write_config("config.yaml", "ttl_min: 1s\nttl_max: 2s\nprewarm: false\n");
    env.write_mappings(env.entry("adaptive-mix-fixed", scratch_image, {"/tool"}, "1h") +
                       env.entry("adaptive-mix-auto", scratch_image, {"/tool"}, "auto"));
    for (const char* last : {"adaptive-mix-auto", "adaptive-mix-fixed"}) {
        const char* first =
            std::string(last) == "adaptive-mix-auto" ? "adaptive-mix-fixed" : "adaptive-mix-auto";
        INFO(first << " then " << last);
        REQUIRE(env.run_cmd(first, {"echo", "1"}).status == 0);
        Result r = env.run_cmd(last, {"echo", "2"});
        INFO("stderr: " << r.err);
        REQUIRE(r.status == 0);
        REQUIRE(env.containers().size() == 1);
        CHECK(contains(env.fod({"ps"}).out, "auto>=1h"));
        CHECK(contains(env.fod({"which", last}).out, "auto, at least 1h"));
        // Well past the policy's 2 s: still there.
        std::this_thread::sleep_for(std::chrono::seconds(6));
        CHECK(env.containers().size() == 1);
        INFO("reaper.log:\n" << read_file(env.root() + "/state/fod/reaper.log"));
        env.stop_all_checked();
    }
}

void prewarm_off(Engine e) { prewarm_respects_its_bounds(e, "prewarm: false\n"); }
void prewarm_max_warm(Engine e) { prewarm_respects_its_bounds(e, "max_warm: 1\n"); }
// a's container (--memory 2g, fod's default) and b's would pass 3g.
void prewarm_memory_ceiling(Engine e) { prewarm_respects_its_bounds(e, "memory_ceiling: 3g\n"); }

// adaptive-per ran every `period` s six times before, the last one a period
// before now; the real call now keeps the beat. With ttl_min 1s the reaper
// removes its container soon after (a pre-warm will serve the next call), the
// helper starts it again ahead of the next beat, and that call is warm.
void prewarm_follows_a_period(Engine e) {
    constexpr double period = 20;
    FodEnv env(e);
    env.write_config("config.yaml", "ttl_min: 1s\n");
    env.write_mappings(env.entry("adaptive-per", scratch_image, {"/tool"}, ""));
    const double now = static_cast<double>(std::time(nullptr));
    std::string text;
    char line[256];
    for (int beats_ago = 6; beats_ago >= 1; --beats_ago) {
        std::snprintf(line, sizeof line, "C %.3f 0.800 0.100 adaptive-per %s -\n",
                      now - beats_ago * period, scratch_image);
        text += line;
    }
    seed_history(env, text);

    const auto beat = Clock::now();
    Result first = env.run_cmd("adaptive-per", {"echo", "beat"});
    INFO("stderr: " << first.err);
    REQUIRE(first.status == 0);
    CHECK(first.out == "beat\n");
    auto kinds = [&] {
        std::string out;
        for (const auto& r : records_of(env, "adaptive-per")) out += r.substr(0, 1);
        return out;
    };
    // Removed, then started again by the helper, before the next beat.
    CHECK(poll_until([&] { return contains(kinds(), "CR"); }, period - 4));
    CHECK(poll_until([&] { return contains(kinds(), "CRP"); }, period));
    REQUIRE(env.containers().size() == 1);
    std::this_thread::sleep_until(beat + std::chrono::seconds(static_cast<long>(period)));
    Result next = env.run_cmd("adaptive-per", {"echo", "again"});
    INFO("stderr: " << next.err);
    CHECK(next.status == 0);
    CHECK(next.out == "again\n");
    INFO("history:\n" << read_file(history_path(env)));
    INFO("reaper.log:\n" << read_file(env.root() + "/state/fod/reaper.log"));
    CHECK(contains(kinds(), "CRPW"));

    env.stop_all_checked();
}

}  // namespace

FOD_TEST_ALL_ENGINES("runs are recorded in the state directory and fod stats shows them",
                     "[adaptive]", runs_are_recorded_and_shown_by_stats)
FOD_TEST_ALL_ENGINES("a ttl: auto container is removed by the reaper after the policy's ttl",
                     "[adaptive][reaper]", auto_ttl_container_is_reaped)
FOD_TEST_ALL_ENGINES(
    "a container shared by a fixed-ttl and a ttl: auto command keeps the longer ttl",
    "[adaptive][reaper]", shared_container_keeps_the_longest_ttl)
FOD_TEST_ALL_ENGINES("pre-warm starts the follower of a strong sequence, and its call is warm",
                     "[adaptive][prewarm]", prewarm_starts_the_follower_of_a_strong_sequence)
FOD_TEST_ALL_ENGINES("fod stop --all cancels a pre-warm that is still waiting",
                     "[adaptive][prewarm]", stop_cancels_a_pending_prewarm)
FOD_TEST_ALL_ENGINES("prewarm: false starts no container ahead of time", "[adaptive][prewarm]",
                     prewarm_off)
FOD_TEST_ALL_ENGINES("pre-warm stops at max_warm warm containers", "[adaptive][prewarm]",
                     prewarm_max_warm)
FOD_TEST_ALL_ENGINES("pre-warm stops at the memory ceiling", "[adaptive][prewarm]",
                     prewarm_memory_ceiling)
FOD_TEST_ALL_ENGINES("pre-warm follows a periodic command: removed between beats, warm on the beat",
                     "[adaptive][prewarm]", prewarm_follows_a_period)
