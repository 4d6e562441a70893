// The container boundary (issue 13): the host never executes, trusts or follows
// anything a container can write, and the container gets nothing of the host
// beyond the files the run names and the descriptors it must have.
//
// Each test runs a hostile payload (busybox sh) in the container and asserts
// what a user would see on the host afterwards. The payloads aim only at files
// and directories inside the test's own temporary tree (a file they would
// change is a "victim" the test made there), never at real user files; paths
// outside the tree that a test must touch (/tmp/fod-<uid>) are put back as they
// were.
//
// Inside the container the box (host <runtime>/c/<key>/box) is /.fod/run: the
// exec path's session files s/<fod's pid>, the signal FIFO, the keeper's lock
// `alive` and the agent socket `agent.sock`.
//
// Safety on a fod without the fixes: the `/` in disguise test puts the engine
// CLI behind a guard script, because podman takes `-v /:/` and then writes into
// the host's / (see guarded_engine); the /dev/zero test kills fod past 64 MB;
// the FIFO test unblocks and removes the FIFO at its end (until then, other
// runs of the same user in that runtime directory may hang at a cold start);
// the /tmp/fod-<uid> tests move an existing directory of that name aside and
// put it back.
#include "fod_env.hpp"
#include "tmux_pane.hpp"

#include <catch2/catch.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <thread>

using namespace fod::test;
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* user_image = "localhost/fod-test-user:1";  // busybox with USER 4242:4242

// RunOptions for fod in `cwd` (PWD follows, as a shell would set it).
RunOptions in_dir(const std::string& cwd, RunOptions base = {}) {
    base.cwd = cwd;
    return base;
}

// fod refused the run: status 125 and exactly one line "fod: error: ... refusing ...".
void check_refused(const Result& r, const std::string& what) {
    INFO(what << "\nstatus " << r.status << "\nstdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.status == 125);
    CHECK(r.out.empty());
    CHECK(lines_of(r.err).size() == 1);
    CHECK(starts_with(r.err, "fod: error: "));
    CHECK(contains(r.err, "refusing"));
}

// Every info.json of fod's runtime directory that records a run in this test's
// tree (ROOT itself included), by path, with its bytes.
std::map<std::string, std::string> records_of(const FodEnv& env) {
    std::map<std::string, std::string> records;
    const std::string base = env.runtime_dir() + "/c";
    DIR* d = opendir(base.c_str());
    if (!d) return records;
    while (const dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        const std::string file = base + "/" + e->d_name + "/info.json";
        std::string text = read_file(file);
        if (contains(text, "\"root\":\"" + env.root() + "/") ||
            contains(text, "\"root\":\"" + env.root() + "\""))
            records[file] = text;
    }
    closedir(d);
    return records;
}

// ============================================================ 1. fod's records

// The payload that attacks fod's directories under ROOT (and, for rootless, the
// real runtime directory RT when a mapping mounts it): it reports what it sees
// of each of them into work/report, rewrites the records of this test's runs
// (the engine CLI becomes the test's marker script, the ttl 0), plants a
// container directory with a keeper lock, and writes into the cache and config.
std::string records_payload(const FodEnv& env, const std::vector<std::string>& dirs,
                            const std::string& evil) {
    const std::string& r = env.root();
    std::string s = "R=" + r + "\n: > " + r + "/work/report\n";
    for (const auto& d : dirs) {
        s += "if [ -d " + d + " ]; then echo \"" + d + " dir $(ls -A " + d +
             " | wc -l)\"; else echo \"" + d + " missing\"; fi >> $R/work/report\n";
        s += "if touch " + d + "/probe 2>/dev/null; then echo '" + d + " writable'; else echo '" +
             d + " read-only'; fi >> $R/work/report\n";
        // Only records of this test's runs (a shared runtime directory holds others').
        s += "for f in " + d +
             "/c/*/info.json; do\n"
             "  [ -f \"$f\" ] && grep -q '\"root\":\"'$R \"$f\" || continue\n"
             "  sed -i -e 's#\"engine_cli\":\"[^\"]*\",##' -e 's#^{#{\"engine_cli\":\"" +
             evil +
             "\",#' -e 's#\"ttl\":[0-9]*#\"ttl\":0#' \"$f\" && echo \"tampered $f\" >> "
             "$R/work/report\n"
             "done\n";
        s += "mkdir -p " + d + "/c/planted/box 2>/dev/null && touch " + d +
             "/c/planted/box/alive 2>/dev/null && echo 'planted " + d + "' >> $R/work/report\n";
        s += "echo x > " + d + "/planted.yaml 2>/dev/null\n";
        s += "mkdir -p " + d + "/mappings.d 2>/dev/null && echo x > " + d +
             "/mappings.d/planted.yaml 2>/dev/null\n";
    }
    s += "exit 0\n";
    return s;
}

// Whether the payload's report says each of dirs was an empty read-only
// directory, or not there at all (hidden with a parent that is), and that it
// tampered with and planted nothing.
bool saw_nothing(const std::string& report, const std::vector<std::string>& dirs) {
    const auto lines = lines_of(report);
    if (lines.size() != 2 * dirs.size()) return false;
    for (size_t i = 0; i < dirs.size(); ++i) {
        const std::string& d = dirs[i];
        if (lines[2 * i] != d + " dir 0" && lines[2 * i] != d + " missing") return false;
        if (lines[2 * i + 1] != d + " read-only") return false;
    }
    return true;
}

void records_out_of_reach(Engine e) {
    FodEnv env(e);
    const std::string& r = env.root();
    const std::string marker = r + "/PWNED";
    // What a rewritten record would make the host run: it leaves a marker, then
    // does what the engine CLI would.
    const std::string evil = env.put(
        "evil.sh", "#!/bin/sh\necho \"$@\" >> " + marker + "\nexec " + engine_cli(e) + " \"$@\"\n",
        0755);
    env.write_config("config.yaml", "prewarm: false\n");
    env.write_mappings(env.entry("bb", busybox_image, {"/bin/sh"}, "10s") +
                       env.entry("tl", scratch_image, {"/tool"}, "10s"));

    // Records to attack: two in work/, one for ROOT itself.
    Result a = env.run_cmd("bb", {"-c", "true"});
    INFO("stderr: " << a.err);
    REQUIRE(a.status == 0);
    Result b = env.run_cmd("tl", {"echo", "b"});
    REQUIRE(b.status == 0);
    Result c = env.run_cmd("bb", {"-c", "true"}, in_dir(r));
    INFO("stderr: " << c.err);
    REQUIRE(c.status == 0);
    const auto before = records_of(env);
    REQUIRE(before.size() == 3);
    for (const auto& [file, text] : before) {
        INFO(file << ": " << text);
        CHECK_FALSE(contains(text, "engine_cli"));  // nothing there names a program
    }

    // fod's directories in ROOT. Rootless podman needs its real runtime
    // directory: there ROOT has no fod/ in run/.
    std::vector<std::string> dirs{r + "/cache/fod", r + "/config/fod", r + "/state/fod"};
    if (e != Engine::rootless) dirs.insert(dirs.begin(), r + "/run/fod");
    for (const auto& d : dirs) REQUIRE(fs::is_directory(d));
    const std::string report = env.work() + "/report";

    Result attack = env.run_cmd("bb", {"-c", records_payload(env, dirs, evil)}, in_dir(r));
    {
        INFO("stdout: " << attack.out << "\nstderr: " << attack.err << "\nreport:\n"
                        << read_file(report));
        CHECK(attack.status == 0);
        CHECK(saw_nothing(read_file(report), dirs));
    }
    CHECK(records_of(env) == before);
    CHECK_FALSE(path_exists(env.runtime_dir() + "/c/planted"));
    for (const auto& d : dirs) {
        INFO(d);
        CHECK_FALSE(path_exists(d + "/probe"));
        CHECK_FALSE(path_exists(d + "/planted.yaml"));
        CHECK_FALSE(path_exists(d + "/mappings.d/planted.yaml"));
    }

    if (e == Engine::rootless) {
        // Its runtime directory is not in ROOT: a mapping mounts it. fod refuses
        // the run or hides the directory; either way nothing of it is reached.
        const std::string rt = env.runtime_dir();
        env.write_mappings(env.entry("bb", busybox_image, {"/bin/sh"}, "10s") +
                           env.entry("tl", scratch_image, {"/tool"}, "10s") +
                           env.entry("bbrt", busybox_image, {"/bin/sh"}, "10s",
                                     "    mounts: [\"" + rt + ":rw\"]\n"));
        const auto records = records_of(env);
        Result via_mount = env.run_cmd("bbrt", {"-c", records_payload(env, {rt}, evil)});
        const std::string seen = read_file(report);
        INFO("mapping mounting " << rt << ": status " << via_mount.status
                                 << "\nstderr: " << via_mount.err << "\nreport:\n"
                                 << seen);
        if (via_mount.status == 125) {
            CHECK(lines_of(via_mount.err).size() == 1);
            CHECK(starts_with(via_mount.err, "fod: error: "));
        } else {
            CHECK(via_mount.status == 0);
            CHECK(saw_nothing(seen, {rt}));
        }
        CHECK(records_of(env) == records);
        CHECK_FALSE(path_exists(rt + "/c/planted"));
        CHECK_FALSE(path_exists(rt + "/probe"));
        // What the payload made there if it could (the directory is shared).
        std::error_code ec;
        fs::remove_all(rt + "/c/planted", ec);
        for (const char* made : {"/probe", "/planted.yaml", "/mappings.d/planted.yaml"})
            unlink((rt + made).c_str());
        rmdir((rt + "/mappings.d").c_str());
    }

    // fod keeps working.
    Result after = env.run_cmd("bb", {"-c", "echo still-works"});
    INFO("stderr: " << after.err);
    CHECK(after.status == 0);
    CHECK(after.out == "still-works\n");

    // Past the ttl and through the reapers' removals: the marker script never ran.
    CHECK(env.wait_until_no_containers(40));
    std::this_thread::sleep_for(std::chrono::seconds(1));
    CHECK_FALSE(path_exists(marker));

    // A run from inside one of fod's directories is refused.
    for (const std::string& inside : {env.runtime_dir(), r + "/cache/fod", r + "/config/fod"}) {
        Result refused = env.run_cmd("bb", {"-c", "echo RAN"}, in_dir(inside));
        check_refused(refused, "run from " + inside);
    }
    CHECK(env.containers().empty());
    env.stop_all_checked();
    CHECK_FALSE(path_exists(marker));
}

// A container that mounts ROOT cannot change fod's directories under it by
// renaming a parent of theirs and making a directory of its own in its place:
// the host would then read the container's records, cache (shims on PATH) and
// config as its own.
void parents_not_swapped(Engine e) {
    FodEnv env(e);
    const std::string& r = env.root();
    env.write_config("config.yaml", "prewarm: false\n");
    env.write_mappings(env.entry("bb", busybox_image, {"/bin/sh"}, "2m"));
    Result warm = env.run_cmd("bb", {"-c", "true"});
    INFO("stderr: " << warm.err);
    REQUIRE(warm.status == 0);
    const std::string mappings = read_file(env.config_dir() + "/mappings.yaml");

    // run/ holds fod's runtime directory except with rootless podman.
    std::vector<std::string> parents{"cache", "config", "state"};
    if (e != Engine::rootless) parents.push_back("run");
    std::string payload = "cd " + r + " || exit 3\n: > work/report\n";
    for (const auto& p : parents)
        payload += "if mv " + p + " " + p + ".moved 2>/dev/null; then echo 'moved " + p +
                   "'; mkdir -p " + p + "/fod/shims " + p + "/fod/c/planted/box && echo x > " + p +
                   "/fod/planted && echo x > " + p + "/fod/mappings.yaml && echo 'planted " + p +
                   "'; fi >> work/report\n";
    payload += "exit 0\n";
    Result attack = env.run_cmd("bb", {"-c", payload}, in_dir(r));
    const std::string report = read_file(env.work() + "/report");
    INFO("stderr: " << attack.err << "\nreport:\n" << report);
    CHECK(attack.status == 0);
    CHECK(report.empty());
    for (const auto& p : parents) {
        INFO(p);
        CHECK_FALSE(path_exists(r + "/" + p + ".moved"));
        CHECK_FALSE(path_exists(r + "/" + p + "/fod/planted"));
        CHECK_FALSE(path_exists(r + "/" + p + "/fod/c/planted"));
    }
    CHECK(read_file(env.config_dir() + "/mappings.yaml") == mappings);

    Result after = env.run_cmd("bb", {"-c", "echo still-works"});
    INFO("stderr: " << after.err);
    CHECK(after.status == 0);
    CHECK(after.out == "still-works\n");
    env.stop_all_checked();
}

// The same with the runtime directory /tmp/fod-<uid> (XDG_RUNTIME_DIR unset):
// a run from /tmp mounts its parent. The payload only looks at it and tries to
// create one probe file there (other runs of this user may have records in it).
void tmp_runtime_out_of_reach(Engine e) {
    FodEnv env(e);
    const std::string rt = "/tmp/fod-" + std::to_string(env.uid());
    const std::string probe = rt + "/probe-boundary-" + std::to_string(getpid());
    env.put_dir("uniq");
    env.write_config("config.yaml", "prewarm: false\n");
    // The extra mount makes the container this test's own (FodEnv::containers).
    env.write_mappings(env.entry("bbtmp", busybox_image, {"/bin/sh"}, "3s",
                                 "    mounts: [\"" + env.root() + "/uniq:ro\"]\n"));
    auto no_xdg = [&](const std::string& cwd) {
        RunOptions o = env.options(in_dir(cwd));
        o.env_set.erase("XDG_RUNTIME_DIR");
        o.env_unset.push_back("XDG_RUNTIME_DIR");
        return o;
    };
    const std::vector<std::string> fod{fod_binary(), "run", "bbtmp", "-c"};
    auto run_in = [&](const std::string& cwd, const std::string& script) {
        std::vector<std::string> argv = fod;
        argv.push_back(script);
        return run(argv, no_xdg(cwd));
    };

    Result warm = run_in(env.work(), "true");
    INFO("stderr: " << warm.err);
    REQUIRE(warm.status == 0);
    REQUIRE(fs::is_directory(rt + "/c"));

    const std::string report = env.work() + "/report";
    Result look = run_in("/tmp", "if [ -d " + rt + " ]; then echo \"dir $(ls -A " + rt +
                                     " | wc -l)\"; else echo missing; fi > " + report +
                                     "; if touch " + probe +
                                     " 2>/dev/null; then echo writable; else echo read-only; "
                                     "fi >> " +
                                     report);
    const bool probed = path_exists(probe);
    unlink(probe.c_str());
    {
        INFO("stderr: " << look.err << "\nreport:\n" << read_file(report));
        CHECK(look.status == 0);
        CHECK(read_file(report) == "dir 0\nread-only\n");
        CHECK_FALSE(probed);
    }

    for (const std::string& inside : {rt, rt + "/c"}) {
        Result refused = run_in(inside, "echo RAN");
        check_refused(refused, "run from " + inside);
    }
    // The reapers remove this test's containers (and their records in rt).
    CHECK(env.wait_until_no_containers(30));
}

// ============================================================ 2. the terminal

constexpr const char* prompt = "BOUNDARY> ";

// An interactive bash (no rc files) in a pane of 120x40 with fod's environment
// and $F naming fod. The tmux server runs as root (it allocates the terminal);
// the shell runs as the user fod runs as.
TmuxPane bash_pane(const FodEnv& env) {
    RunOptions o =
        env.options({.env_set = {{"PS1", prompt}, {"F", fod_binary()}}, .timeout_s = 30});
    std::vector<std::string> argv;
    if (o.as_user) {
        // As run() would start it as that user, with the terminal tmux made.
        const passwd* pw = getpwnam(o.as_user->c_str());
        REQUIRE(pw != nullptr);
        std::map<std::string, std::string> vars = o.env_set;
        vars["HOME"] = pw->pw_dir;
        vars["USER"] = vars["LOGNAME"] = *o.as_user;
        vars["TERM"] = "screen";
        const char* path = std::getenv("PATH");
        vars.emplace("PATH", path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
        argv = {"/usr/sbin/runuser", "-u", *o.as_user, "--", "/usr/bin/env", "-i"};
        for (const auto& [k, v] : vars) argv.push_back(k + "=" + v);
        o.as_user.reset();
    }
    argv.insert(argv.end(), {"bash", "--norc", "--noprofile", "-i"});
    return TmuxPane(env.root(), argv,
                    {.cols = 120,
                     .rows = 40,
                     .cwd = env.work(),
                     .run = o,
                     .prompt = prompt,
                     .indented_lines = true});
}

// Background readers of descriptor `fd` (0 or 1) of the command that outlive
// it: one reads the descriptor itself, one opens it again through /proc. Each
// writes what it gets to <prefix>-<n> in the work directory.
std::string stealers(int fd, const std::string& prefix) {
    const std::string keep = "( exec </dev/null >/dev/null 2>&1; sleep 1; ";
    return "exec 3<&" + std::to_string(fd) + "; " + keep + "cat <&3 > " + prefix + "-1 ) & " +
           keep + "cat <&3 > " + prefix + "-2 ) & " + keep + "dd if=/proc/self/fd/3 of=" + prefix +
           "-3 bs=1 count=4096 ) & exec 3<&-; echo started";
}

// Types five lines at the prompt; returns how many of them the shell ran.
int type_secret_lines(TmuxPane& p) {
    int ran = 0;
    for (int i = 1; i <= 5; ++i) {
        p.type("echo SECRET-LINE-$((100+" + std::to_string(i) + "))");
        if (p.wait_for_line("SECRET-LINE-" + std::to_string(100 + i), 5)) ++ran;
    }
    return ran;
}

// Everything the stealers of `prefix` got.
std::string stolen(const FodEnv& env, const std::string& prefix) {
    std::string all;
    for (int n = 1; n <= 3; ++n)
        all += read_file(env.work() + "/" + prefix + "-" + std::to_string(n));
    return all;
}

// One round: `line` runs a command that leaves readers of the terminal behind;
// two seconds after it returned, lines typed at the prompt go to the shell.
void check_no_theft(const FodEnv& env, TmuxPane& p, const std::string& line,
                    const std::string& prefix) {
    // Readers left by an earlier round die with their container.
    Result stop = env.fod({"stop", "--all"});
    REQUIRE(stop.status == 0);
    // And what they left half-typed at the prompt goes.
    p.key("C-c");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const bool done = p.run_line(line);
    {
        INFO("screen:\n" << p.screen());
        REQUIRE(done);
    }
    std::this_thread::sleep_for(std::chrono::seconds(2));
    const int ran = type_secret_lines(p);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const std::string got = stolen(env, prefix);
    INFO("screen:\n" << p.screen() << "\nstolen: " << got);
    CHECK_FALSE(contains(got, "SECRET"));
    CHECK(ran == 5);
}

void terminal_not_kept(Engine e) {
    FodEnv env(e);
    env.write_config("config.yaml", "prewarm: false\n");
    env.write_mappings(env.entry("bb", busybox_image, {"/bin/sh"}, "2m"));
    Result warm = env.run_cmd("bb", {"-c", "true"}, env.traced());
    INFO("stderr: " << warm.err);
    REQUIRE(warm.status == 0);
    REQUIRE(env.trace() == std::vector<std::string>{"agent"});

    // A process the command leaves behind ends with it.
    const std::string heartbeat = env.work() + "/heartbeat";
    Result beat = env.run_cmd(
        "bb",
        {"-c", "( while true; do date >> heartbeat; sleep 0.2; done ) </dev/null >/dev/null 2>&1 &"
               " sleep 1; echo left"});
    {
        INFO("stderr: " << beat.err);
        CHECK(beat.status == 0);
        CHECK(beat.out == "left\n");
        std::this_thread::sleep_for(std::chrono::milliseconds(1200));
        const auto size1 = read_file(heartbeat).size();
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        const auto size2 = read_file(heartbeat).size();
        INFO("heartbeat " << size1 << " bytes 1.2 s after fod returned, " << size2
                          << " 1.5 s later");
        CHECK(size1 > 0);
        CHECK(size2 == size1);
    }

    TmuxPane p = bash_pane(env);
    // stdout a terminal, stdin a pipe: the command's stdout is a terminal, as natively.
    CHECK(
        p.run_line("echo x | \"$F\" run bb -c 'test -t 1 && echo OUT-IS-TTY || echo OUT-NOT-TTY'"));
    {
        const std::string screen = p.screen();
        INFO("screen:\n" << screen);
        CHECK(has_trimmed_line(screen, "OUT-IS-TTY"));
    }
    // Readers of stdout (the terminal) left behind by `echo x | bb ...`.
    check_no_theft(env, p, "echo x | \"$F\" run bb -c '" + stealers(1, "stolen-out") + "'",
                   "stolen-out");
    // Readers of stdin (the terminal) left behind by `bb ... | cat`.
    check_no_theft(env, p, "\"$F\" run bb -c '" + stealers(0, "stolen-in") + "' | cat",
                   "stolen-in");

    env.stop_all_checked();
}

// ============================================================ 3. the box

// Runs `fod run NAME -c SCRIPT` with stdin closed; once fod's pid is known,
// calls at_pid(pid) on another thread, then (with interrupt) waits for the
// script to make work/ready and sends fod SIGINT. Returns the result and how
// long fod ran after the signal.
struct Interrupted {
    Result result{};
    pid_t pid = -1;
    bool signalled = false;
    double after_signal_s = 0;
};

Interrupted run_and_interrupt(const FodEnv& env, const std::string& name, const std::string& script,
                              const std::function<void(pid_t)>& at_pid = {}, double timeout_s = 60,
                              bool interrupt = true) {
    Interrupted out;
    std::thread helper;
    Clock::time_point signalled_at{};
    RunOptions o{.close_stdin = true, .timeout_s = timeout_s};
    const std::string ready = env.work() + "/ready";
    unlink(ready.c_str());
    o.on_start = [&](pid_t pid) {
        helper = std::thread([&, pid] {
            out.pid = fod_pid_from(pid);
            if (at_pid) at_pid(out.pid);
            if (interrupt && poll_until([&] { return path_exists(ready); }, 30)) {
                signalled_at = Clock::now();
                out.signalled = kill(out.pid, SIGINT) == 0;
            }
        });
    };
    out.result = env.run_cmd(name, {"-c", script}, o);
    const auto ended = Clock::now();
    if (helper.joinable()) helper.join();
    if (out.signalled)
        out.after_signal_s = std::chrono::duration<double>(ended - signalled_at).count();
    return out;
}

void box_mappings(const FodEnv& env, bool fast_path) {
    env.write_config("config.yaml",
                     std::string("prewarm: false\n") + (fast_path ? "" : "fast_path: false\n"));
    env.write_mappings(env.entry("bb", busybox_image, {"/bin/sh"}, "2m") +
                       env.entry("bb2", busybox_image, {"/bin/sh"}, "2m"));
}

void warm_up(const FodEnv& env) {
    Result warm = env.run_cmd("bb", {"-c", "true"});
    INFO("stderr: " << warm.err);
    REQUIRE(warm.status == 0);
}

// a. The signal FIFO replaced by a link to a file of the host.
void signal_fifo_link(Engine e) {
    FodEnv env(e);
    box_mappings(env, false);
    const std::string victim = env.put("victim.txt", "UNCHANGED");
    warm_up(env);

    auto r = run_and_interrupt(env, "bb",
                               "rm -f /.fod/run/signal && ln -s " + victim +
                                   " /.fod/run/signal && touch ready; sleep 6; echo finished");
    INFO("status " << r.result.status << "\nstdout: " << r.result.out
                   << "\nstderr: " << r.result.err);
    REQUIRE(r.signalled);
    CHECK(r.result.status != -1);
    CHECK(read_file(victim) == "UNCHANGED");
    env.stop_all_checked();
    CHECK(read_file(victim) == "UNCHANGED");
}

// b. The session files replaced by links to /dev/zero. A watchdog kills fod if
// it grows past 64 MB (reading /dev/zero without a bound would take the machine).
void session_file_dev_zero(Engine e) {
    FodEnv env(e);
    box_mappings(env, false);
    warm_up(env);

    std::atomic<bool> done{false};
    std::atomic<long> peak_kb{0};
    std::atomic<bool> killed{false};
    std::thread watchdog;
    auto r = run_and_interrupt(
        env, "bb",
        "for f in /.fod/run/s/*; do rm -f \"$f\"; ln -s /dev/zero \"$f\"; done; touch ready; "
        "sleep 5; echo finished",
        [&](pid_t pid) {
            watchdog = std::thread([&, pid] {
                const std::string status = "/proc/" + std::to_string(pid) + "/status";
                while (!done) {
                    std::ifstream in(status);
                    if (!in) break;
                    for (std::string line; std::getline(in, line);) {
                        if (starts_with(line, "VmRSS:") || starts_with(line, "VmHWM:")) {
                            long kb = std::strtol(line.c_str() + 6, nullptr, 10);
                            if (kb > peak_kb) peak_kb = kb;
                            if (kb > 64 * 1024 && !killed) {
                                killed = true;
                                kill(pid, SIGKILL);
                            }
                        }
                    }
                    std::this_thread::sleep_for(std::chrono::milliseconds(2));
                }
            });
        },
        40);
    done = true;
    if (watchdog.joinable()) watchdog.join();
    INFO("status " << r.result.status << "\nstdout: " << r.result.out
                   << "\nstderr: " << r.result.err << "\nfod's peak memory " << peak_kb
                   << " kB, ran " << r.after_signal_s << " s after SIGINT");
    REQUIRE(r.signalled);
    CHECK_FALSE(killed);
    CHECK(peak_kb < 64 * 1024);
    CHECK(r.result.status != -1);
    CHECK(r.after_signal_s < 10);
    env.stop_all_checked();
}

// Unblocks anyone waiting to open the FIFO at path and removes it, on destruction.
struct FifoRemover {
    std::string path;
    ~FifoRemover() {
        struct stat st {};
        if (path.empty() || lstat(path.c_str(), &st) != 0 || !S_ISFIFO(st.st_mode)) return;
        int fd = open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
        unlink(path.c_str());
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        if (fd >= 0) close(fd);
    }
};

// c. The keeper's lock replaced by a FIFO.
void alive_fifo(Engine e) {
    FodEnv env(e);
    box_mappings(env, true);
    warm_up(env);
    auto dirs = env.recorded_dirs();
    REQUIRE(dirs.size() == 1);
    FifoRemover cleanup{dirs[0] + "/box/alive"};

    Result swap =
        env.run_cmd("bb", {"-c", "rm /.fod/run/alive && mkfifo /.fod/run/alive && echo swapped"});
    INFO("stderr: " << swap.err);
    REQUIRE(swap.status == 0);
    REQUIRE(swap.out == "swapped\n");
    struct stat st {};
    REQUIRE(lstat(cleanup.path.c_str(), &st) == 0);
    REQUIRE(S_ISFIFO(st.st_mode));

    const auto t0 = Clock::now();
    Result again = env.run_cmd("bb", {"-c", "echo again"}, {.timeout_s = 15});
    {
        INFO("same command: status " << again.status << " after " << seconds_since(t0)
                                     << " s\nstderr: " << again.err);
        CHECK(again.status == 0);
        CHECK(again.out == "again\n");
    }
    const auto t1 = Clock::now();
    Result other = env.run_cmd("bb2", {"-c", "echo other"}, {.timeout_s = 15});
    {
        INFO("another command: status " << other.status << " after " << seconds_since(t1)
                                        << " s\nstderr: " << other.err);
        CHECK(other.status == 0);
        CHECK(other.out == "other\n");
    }
}

// d. The session directory replaced by a link to a directory of the host that
// holds a file named like the session.
void session_dir_link(Engine e) {
    FodEnv env(e);
    box_mappings(env, false);
    const std::string victim = env.put_dir("victim");
    env.put("victim/other.txt", "KEEP");
    warm_up(env);

    std::string session_file;
    auto r = run_and_interrupt(
        env, "bb",
        "rm -rf /.fod/run/s && ln -s " + victim +
            " /.fod/run/s && i=0; while [ ! -e go ] && [ $i -lt 100 ]; do sleep 0.1; "
            "i=$((i+1)); done; echo finished",
        [&](pid_t pid) {
            session_file = victim + "/" + std::to_string(pid);
            std::ofstream(session_file) << "KEEP";
            chmod(session_file.c_str(), 0644);
            const passwd* pw = getpwuid(env.uid());
            if (pw) lchown(session_file.c_str(), env.uid(), pw->pw_gid);
            std::ofstream(env.work() + "/go") << "";
        },
        60, false);
    INFO("status " << r.result.status << "\nstdout: " << r.result.out
                   << "\nstderr: " << r.result.err);
    CHECK(r.result.status == 0);
    CHECK(r.result.out == "finished\n");
    REQUIRE_FALSE(session_file.empty());
    CHECK(read_file(session_file) == "KEEP");
    CHECK(read_file(victim + "/other.txt") == "KEEP");

    Result stop = env.fod({"stop", "--all"});
    INFO("fod stop --all: " << stop.out << stop.err);
    CHECK(stop.status == 0);
    CHECK(env.containers().empty());
    CHECK(fs::is_directory(victim));
    CHECK(read_file(session_file) == "KEEP");
    CHECK(read_file(victim + "/other.txt") == "KEEP");
}

// A unix socket the test listens on, counting connections until destroyed.
class Listener {
public:
    explicit Listener(const std::string& path) : m_path(path) {
        m_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        REQUIRE(m_fd >= 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        REQUIRE(path.size() < sizeof addr.sun_path);
        std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
        REQUIRE(bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        chmod(path.c_str(), 0777);  // whoever fod runs as may connect
        REQUIRE(listen(m_fd, 8) == 0);
        m_thread = std::thread([this] {
            while (!m_stop) {
                pollfd p{m_fd, POLLIN, 0};
                if (poll(&p, 1, 50) > 0) {
                    int c = accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
                    if (c >= 0) {
                        ++m_accepted;
                        close(c);
                    }
                }
            }
        });
    }
    ~Listener() {
        m_stop = true;
        m_thread.join();
        close(m_fd);
        unlink(m_path.c_str());
    }
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;
    int accepted() const { return m_accepted; }

private:
    std::string m_path;
    int m_fd = -1;
    std::atomic<bool> m_stop{false};
    std::atomic<int> m_accepted{0};
    std::thread m_thread;
};

// e. The agent socket replaced by a link to a socket the test listens on.
void agent_socket_link(Engine e) {
    FodEnv env(e);
    box_mappings(env, true);
    warm_up(env);
    const std::string sock = env.root() + "/evil.sock";
    Listener listener(sock);

    Result swap = env.run_cmd("bb", {"-c", "rm -f /.fod/run/agent.sock && ln -s " + sock +
                                               " /.fod/run/agent.sock && echo swapped"});
    INFO("stderr: " << swap.err);
    REQUIRE(swap.status == 0);
    REQUIRE(swap.out == "swapped\n");

    Result next = env.run_cmd("bb", {"-c", "echo next"}, {.timeout_s = 30});
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    INFO("status " << next.status << "\nstderr: " << next.err);
    CHECK(listener.accepted() == 0);
    CHECK(next.status == 0);
    CHECK(next.out == "next\n");
    env.stop_all_checked();
}

// ============================================================ 4. $HOME

// The payload tries each change from $HOME and records in proj/report whether
// it worked; it always exits 0.
const char* home_payload =
    "cd \"$HOME\" || exit 3\n"
    "t() { if sh -c \"$2\" >/dev/null 2>&1; then echo \"$1 ok\"; else echo \"$1 denied\"; fi >> "
    "proj/report; }\n"
    "t bashrc 'echo EVIL >> .bashrc'\n"
    "t profile 'echo EVIL > .bash_profile'\n"
    "t newdot 'mkdir .newdot && echo x > .newdot/x'\n"
    "t rename 'mv .bashrc .bashrc.old'\n"
    "t notes 'echo changed > notes.txt'\n"
    "t proj 'echo new > proj/new.txt'\n"
    "t newfile 'echo x > newfile'\n"
    "t home 'mv \"$HOME\" \"$HOME.moved\"'\n"
    "exit 0\n";

void home_protected(Engine e) {
    FodEnv env(e);
    env.write_config("config.yaml", "prewarm: false\n");
    env.write_mappings(env.entry("bb", busybox_image, {"/bin/sh"}, "2m"));

    // cwd = $HOME, and cwd = an ancestor of $HOME.
    for (const bool ancestor : {false, true}) {
        const std::string rel = ancestor ? "work/anc/home" : "work/home";
        env.put_dir("work/anc");
        const std::string home = env.put_dir(rel);
        env.put(rel + "/.bashrc", "ORIGINAL\n");
        env.put(rel + "/notes.txt", "notes\n");
        env.put_dir(rel + "/proj");
        RunOptions o = in_dir(ancestor ? env.root() + "/work/anc" : home);
        o.env_set["HOME"] = home;
        // Rootless podman finds its storage through XDG_DATA_HOME or HOME.
        if (e == Engine::rootless)
            o.env_set["XDG_DATA_HOME"] = "/home/" + std::string(test_user) + "/.local/share";

        Result r = env.run_cmd("bb", {"-c", home_payload}, o);
        const std::string report = read_file(home + "/proj/report");
        INFO((ancestor ? "cwd = the parent of $HOME" : "cwd = $HOME")
             << "\nstatus " << r.status << "\nstderr: " << r.err << "\nreport:\n"
             << report);
        CHECK(r.status == 0);
        CHECK(report ==
              "bashrc denied\nprofile denied\nnewdot denied\nrename denied\nnotes ok\nproj ok\n"
              "newfile denied\nhome denied\n");
        CHECK(read_file(home + "/.bashrc") == "ORIGINAL\n");
        CHECK_FALSE(path_exists(home + "/.bash_profile"));
        CHECK_FALSE(path_exists(home + "/.newdot"));
        CHECK_FALSE(path_exists(home + "/.bashrc.old"));
        CHECK_FALSE(path_exists(home + "/newfile"));
        CHECK_FALSE(path_exists(home + ".moved"));
        CHECK(read_file(home + "/notes.txt") == "changed\n");
        CHECK(read_file(home + "/proj/new.txt") == "new\n");
    }
    env.stop_all_checked();
}

// ============================================================ 5. `/` in disguise

// A safety net for fods that do not refuse: the engine CLI behind a script that
// blocks any volume whose source is the host's / before the engine sees it.
// Mounted as a container's / (podman takes `-v /:/`, `-v /..:/..`), the host's
// root becomes the container's root file system and the runtime writes into it
// (mount points in /, /run/.containerenv, /dev/ptmx). With a fod that refuses,
// the script never sees such a volume and runs the real CLI.
std::string guarded_engine(const FodEnv& env) {
    env.put_dir("guard");
    const std::string cli = engine_cli(env.engine());
    return env.put(
        "guard/" + cli,
        "#!/bin/sh\n"
        "prev=\n"
        "for a in \"$@\"; do\n"
        "  src=\n"
        "  case $prev in\n"
        "  --volume | -v) src=${a%%:*} ;;\n"
        "  --mount) src=$(echo \"$a\" |\n"
        "    sed -n 's/.*\\(^\\|,\\)\\(src\\|source\\)=\\([^,]*\\).*/\\3/p') ;;\n"
        "  esac\n"
        "  if [ -n \"$src\" ] && [ \"$(realpath -m -- \"$src\")\" = / ]; then\n"
        "    echo \"fod-test guard: blocked a volume of the host's / ($a)\" >&2; exit 125\n"
        "  fi\n"
        "  prev=$a\n"
        "done\n"
        "exec " +
            cli + " \"$@\"\n",
        0755);
}

void root_in_disguise_refused(Engine e) {
    FodEnv env(e);
    const std::string& r = env.root();
    const std::string link = r + "/r";
    REQUIRE(symlink("/", link.c_str()) == 0);
    env.give(link);
    env.write_config("config.yaml", "prewarm: false\n");
    const std::string guard = guarded_engine(env);
    // The marker path is relative to the working directory, which is the host's
    // / if the link were mounted: it lands in this test's tree, nowhere else.
    const std::string marker = r + "/ran-marker";
    std::string entries = env.entry("bb", busybox_image, {"/bin/sh"}, "2m");
    const std::vector<std::string> mounts{"//", "/..", "/usr/..", link};
    for (size_t i = 0; i < mounts.size(); ++i)
        entries += env.entry("bbm" + std::to_string(i), busybox_image, {"/bin/sh"}, "2m",
                             "    mounts: [\"" + mounts[i] + "\"]\n");
    env.write_mappings(entries);
    auto guarded = [&](RunOptions o) {
        o.env_set["FOD_ENGINE"] = guard;
        return o;
    };

    Result cwd = env.run_cmd("bb", {"-c", "echo RAN; touch ." + marker}, guarded(in_dir(link)));
    check_refused(cwd, "cwd " + link + " (a link to /), PWD=" + link);
    CHECK_FALSE(contains(cwd.out, "RAN"));
    CHECK_FALSE(path_exists(marker));

    for (size_t i = 0; i < mounts.size(); ++i) {
        Result m = env.run_cmd("bbm" + std::to_string(i), {"-c", "echo RAN"}, guarded({}));
        check_refused(m, "a mapping mounting " + mounts[i]);
        CHECK(env.containers().empty());
    }
    unlink(marker.c_str());
    // The guard passes ordinary runs on to the engine.
    Result ok = env.run_cmd("bb", {"-c", "echo fine"}, guarded({}));
    INFO("stderr: " << ok.err);
    CHECK(ok.status == 0);
    CHECK(ok.out == "fine\n");
    env.stop_all_checked();
}

// ============================================================ 6. USER in the image

bool user_image_present(Engine e) {
    Result r =
        run({engine_cli(e), "image", "inspect", user_image}, engine_options(e, {.timeout_s = 60}));
    return require_or_skip(r.status == 0, std::string("image ") + user_image +
                                              " is missing (run tests/env/build-images " +
                                              engine_name(e) + ")");
}

void non_root_user_image(Engine e) {
    if (!user_image_present(e)) return;
    FodEnv env(e);
    env.write_config("config.yaml", "prewarm: false\n");
    env.write_mappings(env.entry("bbuser", user_image, {"/bin/sh"}, "2m"));
    Result r = env.run_cmd("bbuser", {"-c", "id; touch created"});
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.status == 0);
    struct stat st {};
    REQUIRE(lstat((env.work() + "/created").c_str(), &st) == 0);
    CHECK(st.st_uid == env.uid());
    Result again = env.run_cmd("bbuser", {"-c", "echo warm"});
    INFO("stderr: " << again.err);
    CHECK(again.status == 0);
    CHECK(again.out == "warm\n");
    env.stop_all_checked();
}

// ============================================================ 8. /tmp/fod-<uid>

// Moves an existing path aside for the test and puts it back afterwards; what
// the test made there in between is removed.
class SavedPath {
public:
    explicit SavedPath(std::string path) : m_path(std::move(path)) {
        if (path_exists(m_path)) {
            m_saved = m_path + ".saved-by-boundary-test." + std::to_string(getpid());
            REQUIRE(rename(m_path.c_str(), m_saved.c_str()) == 0);
        }
    }
    ~SavedPath() {
        clear();
        if (!m_saved.empty()) rename(m_saved.c_str(), m_path.c_str());
    }
    SavedPath(const SavedPath&) = delete;
    SavedPath& operator=(const SavedPath&) = delete;
    void clear() const {
        std::error_code ec;
        if (fs::is_symlink(m_path, ec)) {
            unlink(m_path.c_str());
        } else {
            fs::remove_all(m_path, ec);
        }
    }

private:
    std::string m_path;
    std::string m_saved;
};

void squatted_tmp_runtime(bool as_link) {
    FodEnv env(Engine::docker, true);
    const std::string squat = "/tmp/fod-" + std::to_string(env.uid());
    SavedPath saved(squat);
    if (as_link) {
        // A link to a private directory of the user's own: still not fod's to use.
        const std::string target = env.put_dir("link-target", 0700);
        REQUIRE(symlink(target.c_str(), squat.c_str()) == 0);
    } else {
        REQUIRE(mkdir(squat.c_str(), 0755) == 0);
        chmod(squat.c_str(), 0755);
        REQUIRE(lchown(squat.c_str(), 0, 0) == 0);
    }
    env.write_config("config.yaml", "prewarm: false\n");
    env.write_mappings(env.entry("bb", busybox_image, {"/bin/sh"}, "2m"));
    RunOptions o = env.options();
    o.env_set.erase("XDG_RUNTIME_DIR");
    o.env_unset.push_back("XDG_RUNTIME_DIR");
    const std::string fallback = env.root() + "/cache/fod/run";

    Result cold = run({fod_binary(), "run", "bb", "-c", "echo cold"}, o);
    {
        INFO((as_link ? "a link" : "a root-owned directory")
             << " at " << squat << "\nstatus " << cold.status << "\nstderr: " << cold.err);
        CHECK(cold.status == 0);
        CHECK(cold.out == "cold\n");
        CHECK(lines_of(cold.err).size() == 1);
        CHECK(contains(cold.err, fallback));
    }
    Result warm = run({fod_binary(), "run", "bb", "-c", "echo warm"}, o);
    INFO("stderr: " << warm.err);
    CHECK(warm.status == 0);
    CHECK(warm.out == "warm\n");
    CHECK(fs::is_directory(fallback));

    Result stop = run({fod_binary(), "stop", "--all"}, o);
    INFO("fod stop --all: " << stop.out << stop.err);
    CHECK(stop.status == 0);
    CHECK(env.containers().empty());
    // The squatter's directory is as it was.
    struct stat st {};
    REQUIRE(lstat(squat.c_str(), &st) == 0);
    if (as_link) {
        CHECK(S_ISLNK(st.st_mode));
    } else {
        CHECK(st.st_uid == 0);
        CHECK(fs::is_empty(squat));
    }
}

// ============================================================ 9. records lost

// Mounts a tiny tmpfs (root only) and unmounts it on destruction, after the
// test's containers are gone.
class TinyTmpfs {
public:
    TinyTmpfs(const FodEnv& env, std::string dir) : m_env(env), m_dir(std::move(dir)) {
        Result r = run({"mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", m_dir});
        INFO("mount: " << r.err);
        REQUIRE(r.status == 0);
        m_mounted = true;
    }
    ~TinyTmpfs() {
        try {
            for (const auto& name : m_env.containers()) m_env.engine_cli({"rm", "-f", name});
        } catch (const std::exception&) {
        }
        if (m_mounted && run({"umount", m_dir}).status != 0) run({"umount", "-l", m_dir});
    }
    TinyTmpfs(const TinyTmpfs&) = delete;
    TinyTmpfs& operator=(const TinyTmpfs&) = delete;

private:
    const FodEnv& m_env;
    std::string m_dir;
    bool m_mounted = false;
};

void record_cannot_be_written(Engine e) {
    FodEnv env(e);
    env.write_config("config.yaml", "prewarm: false\n");
    env.write_mappings(env.entry("bb", busybox_image, {"/bin/sh"}, "2m"));
    const std::string run_dir = env.root() + "/run";
    TinyTmpfs tmpfs(env, run_dir);
    REQUIRE(mkdir((run_dir + "/fod").c_str(), 0700) == 0);
    {
        // Fill it to the last byte.
        int fd =
            open((run_dir + "/filler").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        REQUIRE(fd >= 0);
        const std::string block(4096, 'x');
        while (write(fd, block.data(), block.size()) > 0) {
        }
        while (write(fd, block.data(), 1) > 0) {
        }
        close(fd);
    }

    Result r = env.run_cmd("bb", {"-c", "echo RAN"});
    INFO("status " << r.status << "\nstdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.status == 125);
    CHECK(lines_of(r.err).size() == 1);
    CHECK(starts_with(r.err, "fod: error: "));
    CHECK(env.containers().empty());
}

void killed_fod_leaves_recorded_container(Engine e) {
    FodEnv env(e);
    env.write_config("config.yaml", "prewarm: false\n");
    env.write_mappings(env.entry("bbkill", busybox_image, {"/bin/sh"}, "3s"));
    std::thread killer;
    pid_t target = -1;
    const std::string ready = env.work() + "/ready";
    RunOptions o{.close_stdin = true, .timeout_s = 60};
    o.on_start = [&](pid_t pid) {
        killer = std::thread([&, pid] {
            target = fod_pid_from(pid);
            if (poll_until([&] { return path_exists(ready); }, 30)) kill(target, SIGKILL);
        });
    };
    Result r = env.run_cmd("bbkill", {"-c", "touch ready; sleep 5"}, o);
    killer.join();
    INFO("status " << r.status << "\nstderr: " << r.err);
    CHECK(r.status == 128 + SIGKILL);

    Result ps = env.fod({"ps"});
    INFO("fod ps: " << ps.out << ps.err);
    CHECK(ps.status == 0);
    CHECK(contains(ps.out, "bbkill"));
    CHECK(env.containers().size() == 1);
    CHECK(env.wait_until_no_containers(20));
    env.stop_all_checked();
}

}  // namespace

FOD_TEST_ALL_ENGINES("boundary: a container cannot see or change fod's records, cache and config "
                     "in a directory it mounts, and a run from inside them is refused",
                     "[boundary]", records_out_of_reach)
FOD_TEST_ALL_ENGINES("boundary: a container cannot swap a parent of fod's directories for one "
                     "of its own",
                     "[boundary]", parents_not_swapped)
FOD_TEST_ROOTFUL_ENGINES("boundary: without XDG_RUNTIME_DIR a run from /tmp cannot reach "
                         "/tmp/fod-<uid>, and a run from inside it is refused",
                         "[boundary]", tmp_runtime_out_of_reach)
FOD_TEST_ALL_ENGINES("boundary: a command cannot read the terminal or keep running after it "
                     "returned, and its stdout is a terminal as natively",
                     "[boundary]", terminal_not_kept)
FOD_TEST_ALL_ENGINES("boundary: Ctrl-C does not follow a signal FIFO the container replaced by a "
                     "link",
                     "[boundary]", signal_fifo_link)
FOD_TEST_ALL_ENGINES("boundary: Ctrl-C does not make fod read a session file the container linked "
                     "to /dev/zero",
                     "[boundary]", session_file_dev_zero)
FOD_TEST_ALL_ENGINES("boundary: a keeper lock the container replaced by a FIFO does not hang the "
                     "next runs",
                     "[boundary]", alive_fifo)
FOD_TEST_ALL_ENGINES("boundary: a session directory the container replaced by a link is not "
                     "followed by the run or fod stop",
                     "[boundary]", session_dir_link)
FOD_TEST_ALL_ENGINES("boundary: an agent socket the container replaced by a link is not "
                     "connected to",
                     "[boundary]", agent_socket_link)
FOD_TEST_ALL_ENGINES("boundary: a run from $HOME or above it cannot change dot-files or add "
                     "entries to $HOME",
                     "[boundary]", home_protected)
FOD_TEST_ALL_ENGINES("boundary: a working directory or mount that is / in disguise is refused",
                     "[boundary]", root_in_disguise_refused)
FOD_TEST_ALL_ENGINES("boundary: an image with a non-root USER runs and its files belong to the "
                     "caller",
                     "[boundary]", non_root_user_image)
TEST_CASE("boundary: a root-owned /tmp/fod-<uid> of another user moves the runtime directory, "
          "with one note (docker as fodtest)",
          "[integration][docker][boundary]") {
    FOD_REQUIRE_ENGINE(Engine::docker);
    squatted_tmp_runtime(false);
}
TEST_CASE("boundary: a link at /tmp/fod-<uid> moves the runtime directory, with one note "
          "(docker as fodtest)",
          "[integration][docker][boundary]") {
    FOD_REQUIRE_ENGINE(Engine::docker);
    squatted_tmp_runtime(true);
}
FOD_TEST_ROOTFUL_ENGINES("boundary: a run whose record cannot be written fails and leaves no "
                         "container",
                         "[boundary]", record_cannot_be_written)
FOD_TEST_ROOTFUL_ENGINES("boundary: a fod killed while its command runs leaves a recorded "
                         "container that its reaper removes",
                         "[boundary]", killed_fod_leaves_recorded_container)
