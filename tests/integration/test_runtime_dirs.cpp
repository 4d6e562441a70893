// Two runtime directories of one user (a desktop session's $XDG_RUNTIME_DIR and
// an ssh session without one, or two test suites) keep their warm containers
// apart: the same command gets a container in each, and `fod gc`, `fod stop
// --all` and `fod ps` in one never see or touch the other's. And `fod gc` with
// the containers of an older fod, which carry no fod.runtime label.
// Each runs with rootful podman, docker and rootless podman (as fodtest).
#include "fod_env.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>

using namespace fod::test;

namespace {

// The second runtime directory, B. Rootful: another $XDG_RUNTIME_DIR. Rootless
// podman needs its real /run/user/<uid> (its own state lives there), so B is an
// ssh-like session without XDG_RUNTIME_DIR, where fod falls back to /tmp/fod-<uid>
// and podman to /run/user/<uid>.
std::string b_runtime_dir(const FodEnv& env) {
    if (env.engine() == Engine::rootless) return "/tmp/fod-" + std::to_string(env.uid());
    return env.root() + "/run-b/fod";
}

RunOptions b_options(const FodEnv& env, RunOptions base = {}) {
    if (env.engine() == Engine::rootless) {
        RunOptions o = env.options(std::move(base));
        o.env_set.erase("XDG_RUNTIME_DIR");
        o.env_unset.push_back("XDG_RUNTIME_DIR");
        return o;
    }
    base.env_set.emplace("XDG_RUNTIME_DIR", env.root() + "/run-b");
    return env.options(std::move(base));
}

Result fod_in_b(const FodEnv& env, const std::vector<std::string>& args) {
    std::vector<std::string> argv{fod_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, b_options(env));
}

// The data lines of `fod ps` (without its header).
std::vector<std::string> ps_rows(const Result& ps) {
    auto rows = lines_of(ps.out);
    if (!rows.empty()) rows.erase(rows.begin());
    return rows;
}

std::string label_of(const FodEnv& env, const std::string& container, const std::string& label) {
    Result r = env.engine_cli(
        {"inspect", "--format", "{{index .Config.Labels \"" + label + "\"}}", container});
    auto lines = lines_of(r.out);
    return r.status == 0 && !lines.empty() ? lines[0] : "<inspect failed: " + r.err + ">";
}

bool exists(const FodEnv& env, const std::string& container) {
    Result r = env.engine_cli(
        {"ps", "--all", "--filter", "name=^" + container + "$", "--format", "{{.Names}}"});
    return contains(r.out, container);
}

// Containers of this user that are not this test's, that `fod gc` with these
// runtime ids could remove: unlabelled (an older fod) or labelled with one of the
// ids, and no live reaper for their box. Other people's tests share the engines:
// when one is there, the test does not run gc rather than remove what is not its own.
std::vector<std::string> others_gc_could_remove(const FodEnv& env,
                                                const std::set<std::string>& runtime_ids) {
    Result ps =
        env.engine_cli({"ps", "--all", "--filter", "label=fod.managed=true", "--filter",
                        "label=fod.owner=" + std::to_string(env.uid()), "--format", "{{.Names}}"});
    auto mine = env.containers();
    std::vector<std::string> at_risk;
    for (const auto& name : lines_of(ps.out)) {
        if (std::find(mine.begin(), mine.end(), name) != mine.end()) continue;
        Result in = env.engine_cli(
            {"inspect", "--format",
             "{{index .Config.Labels \"fod.runtime\"}}|{{range .Mounts}}{{if eq .Destination "
             "\"/.fod/run\"}}{{.Source}}{{end}}{{end}}",
             name});
        if (in.status != 0) continue;  // gone meanwhile
        std::string line = lines_of(in.out).empty() ? "" : lines_of(in.out)[0];
        auto bar = line.find('|');
        std::string runtime = line.substr(0, bar);
        std::string box = bar == std::string::npos ? "" : line.substr(bar + 1);
        if (!runtime.empty() && runtime_ids.count(runtime) == 0) continue;  // never touched
        auto slash = box.rfind('/');
        if (slash == std::string::npos) continue;  // gc leaves it alone
        if (env.reaper_pids_of_dir(box.substr(0, slash)).empty()) at_risk.push_back(name);
    }
    return at_risk;
}

void two_runtime_dirs_keep_apart(Engine e) {
    FodEnv env(e);
    if (e != Engine::rootless) {
        // fod makes <dir>/fod itself; the directory above is the session's.
        REQUIRE(run({"mkdir", "-m", "0700", env.root() + "/run-b"},
                    env.as_test_user() ? RunOptions{.as_user = test_user} : RunOptions{})
                    .status == 0);
    }
    env.write_mappings(env.entry("tool-rt", scratch_image, {"/tool"}, "5m"));

    // The same command in the same directory, in A and then in B: two containers.
    Result in_a = env.run_cmd("tool-rt", {"echo", "in-a"});
    INFO("A: " << in_a.err);
    REQUIRE(in_a.status == 0);
    CHECK(in_a.out == "in-a\n");
    auto after_a = env.containers();
    REQUIRE(after_a.size() == 1);
    const std::string a = after_a[0];

    Result in_b = fod_in_b(env, {"run", "tool-rt", "echo", "in-b"});
    INFO("B: " << in_b.err);
    REQUIRE(in_b.status == 0);
    CHECK(in_b.out == "in-b\n");
    auto both = env.containers();
    REQUIRE(both.size() == 2);
    const std::string b = both[0] == a ? both[1] : both[0];
    CHECK(b != a);
    const std::string id_a = label_of(env, a, "fod.runtime");
    const std::string id_b = label_of(env, b, "fod.runtime");
    CHECK(id_a.size() == 16);
    CHECK(id_b.size() == 16);
    CHECK(id_a != id_b);
    CHECK(env.recorded_dirs().size() == 1);  // A's own record, of A's container
    const std::string a_dir = env.runtime_dir() + "/c/" + label_of(env, a, "fod.key");
    const std::string b_dir = b_runtime_dir(env) + "/c/" + label_of(env, b, "fod.key");

    // Each ps lists its own container only.
    Result ps_a = env.fod({"ps"});
    Result ps_b = fod_in_b(env, {"ps"});
    INFO("ps A: " << ps_a.out << ps_a.err << "ps B: " << ps_b.out << ps_b.err);
    CHECK(ps_rows(ps_a).size() == 1);
    CHECK(ps_rows(ps_b).size() == 1);

    // stop --all in B stops B's container, not A's, and ps in B then lists nothing.
    Result stop_b = fod_in_b(env, {"stop", "--all"});
    INFO("stop B: " << stop_b.out << stop_b.err);
    CHECK(stop_b.status == 0);
    CHECK(contains(stop_b.out, b));
    CHECK_FALSE(contains(stop_b.out, a));
    CHECK(env.containers() == std::vector<std::string>{a});
    CHECK(ps_rows(fod_in_b(env, {"ps"})).empty());
    CHECK(ps_rows(env.fod({"ps"})).size() == 1);

    // B's container again, then A's reaper killed: A's container is an orphan that
    // only gc in A may remove; gc in B removes neither A's nor its own watched one.
    REQUIRE(fod_in_b(env, {"run", "tool-rt", "echo", "again"}).out == "again\n");
    REQUIRE(env.containers().size() == 2);
    auto a_reapers = env.wait_for_reaper_of_dir(a_dir);
    REQUIRE(a_reapers.size() == 1);
    REQUIRE(env.wait_for_reaper_of_dir(b_dir).size() == 1);
    kill(a_reapers[0], SIGKILL);
    REQUIRE(poll_until([&] { return env.reaper_pids_of_dir(a_dir).empty(); }, 5));

    auto at_risk = others_gc_could_remove(env, {id_a, id_b});
    // Skipped only outside CI (a CI machine has no one else's containers).
    if (require_or_skip(at_risk.empty(), "fod gc could remove containers of others (" +
                                             (at_risk.empty() ? "" : at_risk[0]) + ")")) {
        Result gc_b = fod_in_b(env, {"gc"});
        INFO("gc B: " << gc_b.out << gc_b.err);
        CHECK(gc_b.status == 0);
        CHECK(contains(gc_b.out, "0 container(s) removed"));
        CHECK(exists(env, a));
        CHECK(exists(env, b));
        // A's container still runs commands.
        Result still = env.run_cmd("tool-rt", {"echo", "still"});
        CHECK(still.out == "still\n");
        auto new_reaper = env.wait_for_reaper_of_dir(a_dir);
        REQUIRE(new_reaper.size() == 1);
        kill(new_reaper[0], SIGKILL);
        poll_until([&] { return env.reaper_pids_of_dir(a_dir).empty(); }, 5);

        // gc in A removes its own orphan, and leaves B's alone.
        Result gc_a = env.fod({"gc"});
        INFO("gc A: " << gc_a.out << gc_a.err);
        CHECK(gc_a.status == 0);
        CHECK(contains(gc_a.out, "removed " + a));
        CHECK_FALSE(contains(gc_a.out, b));
        CHECK(env.containers() == std::vector<std::string>{b});
    }

    Result stop = fod_in_b(env, {"stop", "--all"});
    CHECK(stop.status == 0);
    env.stop_all_checked();
}

// An older fod's container: fod's labels but no fod.runtime, its box bind-mounted
// from <runtime>/c/<key>/box of some runtime directory (here not this test's A).
void older_fods_containers(Engine e) {
    FodEnv env(e);
    env.write_mappings(env.entry("tool-rt", scratch_image, {"/tool"}, "5m"));
    const std::string uid = std::to_string(env.uid());
    // Older fods' keys were 16 hex digits (FNV-1a); today's are 32.
    auto old_key = [](unsigned long long prefix) {
        char text[17];
        snprintf(text, sizeof text, "%016llx", prefix + static_cast<unsigned long long>(getpid()));
        return std::string(text);
    };
    const std::string key = old_key(0x0ddf000000000000ull);
    const std::string record_key = old_key(0x0dde000000000000ull);
    const std::string dir = env.make_work_dir("old-runtime") + "/c/" + key;
    env.make_work_dir("old-runtime/c");
    env.make_work_dir("old-runtime/c/" + key);
    const std::string box = env.make_work_dir("old-runtime/c/" + key + "/box");
    const std::string watched = "fod-" + uid + "-" + key;
    const std::string unknown = "fod-" + uid + "-" + key + "x";
    auto start = [&](const std::string& name, const std::string& mount) {
        Result r = env.engine_cli({"run", "--detach", "--rm", "--name", name, "--network", "none",
                                   "--label", "fod.managed=true", "--label", "fod.owner=" + uid,
                                   "--label", "fod.key=" + key, "--volume", mount, "--entrypoint",
                                   "/bin/sleep", busybox_image, "300"});
        INFO("start " << name << ": " << r.err);
        REQUIRE(r.status == 0);
    };
    start(watched, box + ":/.fod/run");
    start(unknown, env.work() + ":/elsewhere");  // no box: its runtime directory is unknown

    // Its reaper, as an older fod's would: a live exclusive lock on <dir>/reaper.
    const std::string reaper = dir + "/reaper";
    int fd = open(reaper.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    fchmod(fd, 0644);
    REQUIRE(flock(fd, LOCK_EX) == 0);

    auto at_risk = others_gc_could_remove(env, {});
    if (!at_risk.empty()) close(fd);
    // Skipped only outside CI (a CI machine has no one else's containers).
    if (!require_or_skip(at_risk.empty(), "fod gc could remove containers of others (" +
                                              (at_risk.empty() ? "" : at_risk[0]) + ")"))
        return;
    Result watched_gc = env.fod({"gc"});
    INFO("gc while watched: " << watched_gc.out << watched_gc.err);
    CHECK(watched_gc.status == 0);
    CHECK_FALSE(contains(watched_gc.out, watched));
    CHECK(exists(env, watched));
    CHECK(exists(env, unknown));
    CHECK(contains(watched_gc.err, "left " + unknown));

    // An older fod's record in this runtime directory naming that container: with no
    // keeper of this directory holding it, the name may be another directory's
    // container (older names did not depend on it), so stop forgets only the record.
    const std::string record_dir = env.runtime_dir() + "/c/" + record_key;
    REQUIRE(run({"mkdir", "-p", "-m", "0700", record_dir}).status == 0);
    const std::string cli = engine_cli(e);
    {
        std::ofstream info(record_dir + "/info.json");
        info << "{\"key\":\"" << record_key << "\",\"container\":\"" << watched << "\",\"image\":\""
             << busybox_image << "\",\"root\":\"" << env.work() << "\",\"engine\":\"" << cli
             << "\",\"engine_cli\":\"" << cli
             << "\",\"rootless\":" << (e == Engine::rootless ? "true" : "false")
             << ",\"commands\":[\"old-tool\"],\"ttl\":300,\"created\":1}";
    }
    if (env.as_test_user()) REQUIRE(run({"chown", "-R", test_user, record_dir}).status == 0);
    Result stop = env.fod({"stop", "--all"});
    INFO("stop with an older record: " << stop.out << stop.err);
    CHECK(stop.status == 0);
    CHECK_FALSE(contains(stop.out, watched));
    CHECK(exists(env, watched));
    CHECK(access((record_dir + "/info.json").c_str(), F_OK) != 0);

    close(fd);  // its reaper is gone: an orphan
    Result orphan_gc = env.fod({"gc"});
    INFO("gc of the orphan: " << orphan_gc.out << orphan_gc.err);
    CHECK(orphan_gc.status == 0);
    CHECK(contains(orphan_gc.out, "removed " + watched));
    CHECK_FALSE(exists(env, watched));
    CHECK(exists(env, unknown));  // never removed by gc

    if (e == Engine::docker)
        env.engine_cli({"rm", "--force", unknown});
    else
        env.engine_cli({"rm", "--force", "--time", "0", unknown});
    CHECK(env.containers().empty());
}

}  // namespace

FOD_TEST_ALL_ENGINES("two runtime directories of one user get two containers and gc stop and ps "
                     "in one leave the other's alone",
                     "[warm][gc]", two_runtime_dirs_keep_apart)
FOD_TEST_ALL_ENGINES("gc removes an older fod's unlabelled container only once its reaper is gone",
                     "[warm][gc]", older_fods_containers)
