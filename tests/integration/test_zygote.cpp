// fod's zygote (hook/agent-protocol/zygote_proto.h): fod, the front on the path, hands a warm
// run whose streams are not a terminal to a per-user server that forks a started fod-run for
// it. What it must keep: each call is the caller's (status, output, signals, its own
// environment and directory), another user, a link in place of fod's runtime directory or
// an older program never gets a call, and FOD_ZYGOTE=off keeps fod away from it. Which
// process served a call is read from FOD_TRACE ("zygote: agent"), never from timings.
#include "fod_env.hpp"

#include "agent_proto.h"
#include "zygote_proto.h"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

using namespace fod::test;

namespace {

const std::string zygote_way = std::string(FodEnv::zygote_prefix) + "agent";

// Runs warm calls until one is served by the zygote (the first call starts it, detached);
// false when none is within 10 s.
bool until_zygote_serves(const FodEnv& env, const std::string& name) {
    return poll_until(
        [&] {
            Result r = env.run_cmd(name, {"exit", "0"}, env.traced());
            auto ways = env.raw_trace();
            return r.status == 0 && !ways.empty() && ways.back() == zygote_way;
        },
        10, std::chrono::milliseconds(100));
}

// fod-run beside fod's helpers, where fod finds it: ../libexec/fod of an installed fod, else
// beside it (the build directory).
std::string fod_run_program() {
    const std::string dir = fod_binary().substr(0, fod_binary().rfind('/'));
    const std::string installed = dir.substr(0, dir.rfind('/')) + "/libexec/fod/fod-run";
    return access(installed.c_str(), X_OK) == 0 ? installed : dir + "/fod-run";
}

// The zygote's socket name for the fod-run file `program` (zygote_proto.h).
std::string zygote_socket_name(const struct stat& program) {
    char name[64];
    std::snprintf(name, sizeof name, FOD_ZYGOTE_SOCKET_FORMAT,
                  static_cast<unsigned long long>(program.st_dev),
                  static_cast<unsigned long long>(program.st_ino));
    return name;
}

// Pids of the zygotes started through the fod at `program` (their argv as fod passed it on),
// not their children (the spare waiting for a call, calls being served).
std::vector<pid_t> zygotes_of(const std::string& program) {
    std::vector<pid_t> named;
    for (pid_t pid : all_pids()) {
        if (cmdline_of(pid) == std::vector<std::string>{program, "_zygote"}) named.push_back(pid);
    }
    std::vector<pid_t> found;
    for (pid_t pid : named) {
        if (std::find(named.begin(), named.end(), parent_of(pid)) == named.end()) {
            found.push_back(pid);
        }
    }
    return found;
}

void calls_are_served_as_their_own(Engine e) {
    FodEnv env(e);
    env.write_mappings(
        env.entry("tool-z", scratch_image, {"/tool"}, "91s", "    env: [ZYGOTE_TEST]\n"));
    // Warm in both directories the calls below run in, so each call is served warm.
    RunOptions in_a = env.traced();
    in_a.cwd = env.make_work_dir("a");
    RunOptions in_b = env.traced();
    in_b.cwd = env.make_work_dir("b");
    REQUIRE(env.run_cmd("tool-z", {"exit", "0"}, in_a).status == 0);
    REQUIRE(env.run_cmd("tool-z", {"exit", "0"}, in_b).status == 0);
    REQUIRE(until_zygote_serves(env, "tool-z"));
    env.clear_trace();

    // Output, stdin through a pipe, the exit status.
    RunOptions with_input = env.traced();
    with_input.stdin_data = "through the zygote\n";
    Result cat = env.run_cmd("tool-z", {"cat"}, with_input);
    INFO("stderr: " << cat.err);
    CHECK(cat.status == 0);
    CHECK(cat.out == "through the zygote\n");
    CHECK(env.run_cmd("tool-z", {"exit", "7"}, env.traced()).status == 7);

    // Each call brings its own environment and directory: nothing of the call before stays.
    RunOptions first = in_a;
    first.env_set["ZYGOTE_TEST"] = "first caller";
    Result a = env.run_cmd("tool-z", {"env", "ZYGOTE_TEST"}, first);
    CHECK(a.out == "first caller\n");
    CHECK(env.run_cmd("tool-z", {"pwd"}, first).out == env.work() + "/a\n");
    RunOptions second = in_b;
    second.env_unset.push_back("ZYGOTE_TEST");
    CHECK(env.run_cmd("tool-z", {"env", "ZYGOTE_TEST"}, second).out == "unset\n");
    CHECK(env.run_cmd("tool-z", {"pwd"}, second).out == env.work() + "/b\n");
    CHECK(env.raw_trace() == std::vector<std::string>(6, zygote_way));

    // A signal to fod reaches the command, and fod ends as the command did.
    const std::vector<std::string> sleeping{"/tool", "sleep", "30"};
    pid_t target = 0;
    std::thread killer;
    RunOptions terminated = env.traced();
    terminated.on_start = [&](pid_t pid) {
        killer = std::thread([&, pid] {
            target = fod_pid_from(pid);
            wait_until_catching(sleeping, env.work(), SIGTERM, 20);
            kill(target, SIGTERM);
        });
    };
    Result slept = env.run_cmd("tool-z", {"sleep", "30"}, terminated);
    killer.join();
    CHECK(contains(slept.err, "tool: got signal 15"));
    CHECK(slept.status == 128 + SIGTERM);
    CHECK(env.raw_trace().back() == zygote_way);

    // fod killed (SIGKILL, nothing passed on) ends the call as fod-run's death would: the
    // command does not run on.
    const std::vector<std::string> sleeper{"/tool", "sleep", "31"};
    bool seen_running = false;
    RunOptions killed = env.traced();
    killed.on_start = [&](pid_t pid) {
        killer = std::thread([&, pid] {
            pid_t front = fod_pid_from(pid);
            seen_running =
                poll_until([&] { return !find_processes(sleeper, env.work()).empty(); }, 20);
            kill(front, SIGKILL);
        });
    };
    Result gone = env.run_cmd("tool-z", {"sleep", "31"}, killed);
    killer.join();
    CHECK(seen_running);
    CHECK(gone.status == 128 + SIGKILL);
    CHECK(poll_until([&] { return find_processes(sleeper, env.work()).empty(); }, 15));

    // A terminal, or FOD_ZYGOTE=off, is fod-run's own.
    env.clear_trace();
    RunOptions off = env.traced();
    off.env_set["FOD_ZYGOTE"] = "off";
    CHECK(env.run_cmd("tool-z", {"exit", "3"}, off).status == 3);
    CHECK(env.raw_trace() == std::vector<std::string>{"agent"});
    env.stop_all_checked();
}

// Speaks to the zygote at socket_path as a raw client, as `as` (another user) or as the test
// itself: sends a call (tool-z write attack x) whose hello names the fod-run file dev/ino,
// and returns the types of the first two answers (0: none). What the call would have done
// is not looked for: the answers say it never ran (REFUSED, never EXITED).
std::pair<int, int> ask_zygote(const std::string& socket_path, const passwd* as, uint64_t dev,
                               uint64_t ino) {
    pid_t child = fork();
    if (child == 0) {
        if (as != nullptr &&
            (setgroups(0, nullptr) != 0 || setgid(as->pw_gid) != 0 || setuid(as->pw_uid) != 0)) {
            _exit(100);
        }
        int sock = socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::snprintf(address.sun_path, sizeof address.sun_path, "%s", socket_path.c_str());
        if (connect(sock, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) _exit(101);
        const char payload[] = "D/\0Atool-z\0Awrite\0Aattack\0Ax\0";
        fod_zygote_hello hello{
            FOD_ZYGOTE_MAGIC, FOD_ZYGOTE_VERSION, sizeof payload - 1, 022, 0, 0, dev, ino};
        int streams[3] = {0, 1, 2};
        int cwd = open("/", O_PATH | O_DIRECTORY);
        fod_agent_send(sock, &hello, sizeof hello, streams, 3);
        fod_agent_send(sock, payload, sizeof payload - 1, &cwd, 1);
        int types[2] = {0, 0};
        for (int& type : types) {
            fod_agent_message message{};
            int fd = -1, nfds = 0;
            if (fod_agent_receive(sock, &message, sizeof message, &fd, 1, &nfds) != 0) break;
            type = static_cast<int>(message.type);
        }
        _exit(types[0] * 16 + types[1]);
    }
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status)) return {-1, -1};
    return {WEXITSTATUS(status) / 16, WEXITSTATUS(status) % 16};
}

// The attacks on the zygote's socket: another user reaches it (here made reachable on
// purpose) and asks it to serve a call: the zygote refuses before it says which process
// would serve it. And a caller of the same user whose hello names another fod-run (another
// install): refused once started, before anything runs.
void other_user_is_refused(Engine e) {
    FodEnv env(e);
    env.write_mappings(env.entry("tool-z", scratch_image, {"/tool"}, "91s"));
    REQUIRE(until_zygote_serves(env, "tool-z"));
    struct stat program {};
    REQUIRE(stat(fod_run_program().c_str(), &program) == 0);
    const std::string name = zygote_socket_name(program);
    const std::string socket_path = env.runtime_dir() + "/" + name;
    REQUIRE(chmod(env.root().c_str(), 0711) == 0);
    REQUIRE(chmod((env.root() + "/run").c_str(), 0711) == 0);
    REQUIRE(chmod(env.runtime_dir().c_str(), 0711) == 0);
    REQUIRE(chmod(socket_path.c_str(), 0666) == 0);
    passwd* other = getpwnam(test_user);
    REQUIRE(other != nullptr);

    auto answers = ask_zygote(socket_path, other, program.st_dev, program.st_ino);
    CHECK(answers.first == FOD_ZYGOTE_REFUSED);
    CHECK(answers.second != FOD_ZYGOTE_STARTED);  // then only the refused child's end
    answers = ask_zygote(socket_path, nullptr, program.st_dev, program.st_ino + 1);
    CHECK(answers.first == FOD_ZYGOTE_STARTED);
    CHECK(answers.second == FOD_ZYGOTE_REFUSED);
    REQUIRE(chmod(env.runtime_dir().c_str(), 0700) == 0);
    REQUIRE(chmod((env.root() + "/run").c_str(), 0700) == 0);
    env.stop_all_checked();
}

// The attack: a caller with fewer privileges than the user's zygote (a capability dropped
// from its bounding set, as a sandbox does) or in other namespaces asks it to serve a call. The
// zygote refuses, and the caller's own fod-run serves it with what the caller has.
void lesser_caller_is_not_served(Engine e) {
    FodEnv env(e);
    env.write_mappings(env.entry("tool-z", scratch_image, {"/tool"}, "91s"));
    REQUIRE(until_zygote_serves(env, "tool-z"));
    for (const auto& wrapper : std::vector<std::vector<std::string>>{
             {"setpriv", "--bounding-set=-sys_module"}, {"unshare", "--uts"}}) {
        env.clear_trace();
        std::vector<std::string> argv = wrapper;
        argv.insert(argv.end(), {fod_binary(), "run", "tool-z", "echo", "mine"});
        Result r = run(argv, env.options(env.traced()));
        INFO(wrapper[0] << ": " << r.err);
        CHECK(r.status == 0);
        CHECK(r.out == "mine\n");
        CHECK(env.raw_trace() == std::vector<std::string>{"agent"});
    }
    // The zygote still serves its equals.
    CHECK(until_zygote_serves(env, "tool-z"));
    env.stop_all_checked();
}

// The attack: fod's runtime directory replaced by a link to a directory where another
// process listens under the zygote's name (the test, here). fod must not connect through
// the link, whatever listens behind it.
void linked_runtime_directory_is_not_followed(Engine e) {
    FodEnv env(e);
    env.write_mappings(env.entry("tool-z", scratch_image, {"/tool"}, "91s"));
    REQUIRE(env.run_cmd("tool-z", {"exit", "0"}).status == 0);
    struct stat program {};
    REQUIRE(stat(fod_run_program().c_str(), &program) == 0);
    const std::string name = zygote_socket_name(program);
    TempDir elsewhere;
    REQUIRE(chmod(elsewhere.path().c_str(), 0700) == 0);
    int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s/%s", elsewhere.path().c_str(),
                  name.c_str());
    REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(listen(listener, 8) == 0);
    // The link in place of fod's runtime directory (its containers stopped first).
    env.stop_all_checked();
    REQUIRE(run({"rm", "-rf", env.runtime_dir()}).status == 0);
    REQUIRE(symlink(elsewhere.path().c_str(), env.runtime_dir().c_str()) == 0);

    env.run_cmd("tool-z", {"exit", "0"}, env.traced());
    int taken = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    CHECK(taken < 0);  // nobody connected
    if (taken >= 0) close(taken);
    close(listener);
    unlink(env.runtime_dir().c_str());
}

// After an upgrade (fod-run replaced), the old zygote serves no call: it refuses and goes,
// and the next call starts one of the new program.
void replaced_program_retires_its_zygote(Engine e) {
    FodEnv env(e);
    env.write_mappings(env.entry("tool-z", scratch_image, {"/tool"}, "91s"));
    TempDir install;
    // fod and its helpers, beside each other as in a build directory.
    const std::string helpers = fod_run_program().substr(0, fod_run_program().rfind('/'));
    REQUIRE(run({"cp", fod_binary(), install.path() + "/fod"}).status == 0);
    for (const char* program : {"fod-run", "fod-commands", "fod-keeper", "fod-registry"}) {
        Result copied = run({"cp", helpers + "/" + program, install.path() + "/" + program});
        REQUIRE(copied.status == 0);
    }
    const std::string fod = install.path() + "/fod";
    auto call = [&](const std::vector<std::string>& args) {
        std::vector<std::string> argv{fod, "run", "tool-z"};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv, env.options(env.traced()));
    };
    REQUIRE(poll_until(
        [&] {
            return call({"exit", "0"}).status == 0 && env.raw_trace().back() == zygote_way;
        },
        10, std::chrono::milliseconds(100)));
    auto old_zygotes = zygotes_of(fod);
    REQUIRE(old_zygotes.size() == 1);

    // The upgrade: a new file in fod-run's place, as a package manager renames it there.
    REQUIRE(run({"cp", fod_run_program(), install.path() + "/fod-run.new"}).status == 0);
    REQUIRE(rename((install.path() + "/fod-run.new").c_str(),
                   (install.path() + "/fod-run").c_str()) == 0);
    env.clear_trace();
    Result after = call({"echo", "upgraded"});
    CHECK(after.status == 0);
    CHECK(after.out == "upgraded\n");
    CHECK(env.raw_trace() == std::vector<std::string>{"agent"});
    CHECK(wait_for_exit(old_zygotes[0], 15));
    CHECK(poll_until(
        [&] {
            return call({"exit", "0"}).status == 0 && env.raw_trace().back() == zygote_way;
        },
        10, std::chrono::milliseconds(100)));
    auto new_zygotes = zygotes_of(fod);
    CHECK(new_zygotes.size() == 1);
    env.stop_all_checked();
    for (pid_t pid : new_zygotes) kill(pid, SIGTERM);
}

}  // namespace

FOD_TEST_ALL_ENGINES("a warm call without a terminal is served by the zygote as its own",
                     "[zygote]", calls_are_served_as_their_own)
TEST_CASE("another user's call is refused by a user's zygote (podman, fodtest connects)",
          "[integration][podman][zygote]") {
    FOD_REQUIRE_ENGINE(Engine::podman);
    other_user_is_refused(Engine::podman);
}
TEST_CASE("a caller with fewer privileges or other namespaces is not served by the zygote",
          "[integration][podman][zygote]") {
    FOD_REQUIRE_ENGINE(Engine::podman);
    lesser_caller_is_not_served(Engine::podman);
}
TEST_CASE("fod does not reach a zygote through a link in place of its runtime directory",
          "[integration][podman][zygote]") {
    FOD_REQUIRE_ENGINE(Engine::podman);
    linked_runtime_directory_is_not_followed(Engine::podman);
}
TEST_CASE("a replaced fod-run retires its zygote, and the next call starts a new one",
          "[integration][podman][zygote]") {
    FOD_REQUIRE_ENGINE(Engine::podman);
    replaced_program_retires_its_zygote(Engine::podman);
}
