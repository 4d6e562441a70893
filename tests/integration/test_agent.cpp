// The fast path: runs go through the agent (fod-keeper) in the warm container
// instead of the engine's exec CLI. Which way a run took is read from the file
// named by FOD_TRACE (one line per run: "agent" or "exec: REASON"), never
// guessed from timings. Each behaviour runs with rootful podman, docker and
// rootless podman (as fodtest) unless it needs a particular user.
#include "fod_env.hpp"

#include "agent_proto.h"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

using namespace fod::test;

namespace {

// The socket of the one warm container this test has.
std::string agent_socket(const FodEnv& env) {
    auto dirs = env.recorded_dirs();
    REQUIRE(dirs.size() == 1);
    return dirs[0] + "/box/agent.sock";
}

// Sends SIGTERM to fod `delay` after it started.
RunOptions terminate_after(pid_t& target, std::thread& thread, std::chrono::milliseconds delay,
                           RunOptions base) {
    base.on_start = [&target, &thread, delay](pid_t pid) {
        thread = std::thread([pid, &target, delay] {
            std::this_thread::sleep_for(delay);
            target = fod_pid_from(pid);
            kill(target, SIGTERM);
        });
    };
    return base;
}

void fast_path_is_taken(Engine e) {
    FodEnv env(e);
    env.write_mappings(env.entry("tool-agent", scratch_image, {"/tool"}, "91s"));

    Result which_cold = env.fod({"which", "tool-agent"});
    CHECK(contains(which_cold.out, "runs via:    agent (fast path)"));

    Result first = env.run_cmd("tool-agent", {"echo", "first"}, env.traced());
    INFO("stderr: " << first.err);
    CHECK(first.status == 0);
    CHECK(first.out == "first\n");
    Result second = env.run_cmd("tool-agent", {"echo", "second"}, env.traced());
    INFO("stderr: " << second.err);
    CHECK(second.status == 0);
    CHECK(second.out == "second\n");
    // The first run (the container started) and the warm one both took the agent.
    CHECK(env.trace() == std::vector<std::string>{"agent", "agent"});

    struct stat st {};
    REQUIRE(stat(agent_socket(env).c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 0077) == 0);
    CHECK(st.st_uid == env.uid());

    Result which = env.fod({"which", "tool-agent"});
    INFO("fod which: " << which.out << which.err);
    CHECK(contains(which.out, "warm here:   yes"));
    CHECK(contains(which.out, "runs via:    agent (fast path)"));

    env.stop_all_checked();
}

void fast_path_off_in_config(Engine e) {
    FodEnv env(e);
    env.write_mappings(env.entry("tool-noagent", scratch_image, {"/tool"}, "92s"));
    env.write_config("config.yaml", "fast_path: false\n");

    Result r = env.run_cmd("tool-noagent", {"echo", "via", "exec"}, env.traced());
    INFO("stderr: " << r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "via exec\n");
    Result seven = env.run_cmd("tool-noagent", {"exit", "7"}, env.traced());
    CHECK(seven.status == 7);
    // Signals still reach the command through the keeper's FIFO.
    pid_t target = -1;
    std::thread t;
    Result term = env.run_cmd("tool-noagent", {"sleep", "30"},
                              terminate_after(target, t, std::chrono::seconds(3),
                                              env.traced({.close_stdin = true, .timeout_s = 30})));
    t.join();
    INFO("stderr: " << term.err);
    CHECK(term.status == 128 + SIGTERM);
    CHECK(contains(term.err, "tool: got signal 15"));
    CHECK(env.trace() == std::vector<std::string>(3, "exec: fast_path: false in config.yaml"));
    Result which = env.fod({"which", "tool-noagent"});
    INFO("fod which: " << which.out << which.err);
    CHECK(contains(which.out, "runs via:    " + engine_cli(e) + " exec (fast_path: false"));

    env.stop_all_checked();
}

void socket_removed_falls_back(Engine e) {
    FodEnv env(e);
    env.write_mappings(env.entry("tool-nosock", scratch_image, {"/tool"}, "93s"));

    Result warm = env.run_cmd("tool-nosock", {"echo", "warm"}, env.traced());
    INFO("stderr: " << warm.err);
    REQUIRE(warm.status == 0);
    const std::string sock = agent_socket(env);
    REQUIRE(unlink(sock.c_str()) == 0);
    env.clear_trace();

    Result r = env.run_cmd("tool-nosock", {"echo", "still", "runs"}, env.traced());
    INFO("stderr: " << r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "still runs\n");
    Result cat = env.run_cmd("tool-nosock", {"cat"}, env.traced({.stdin_data = "in\n"}));
    CHECK(cat.status == 0);
    CHECK(cat.out == "in\n");
    CHECK(env.trace() ==
          std::vector<std::string>{"exec: the container has no agent that takes the run",
                                   "exec: the container has no agent that takes the run"});
    Result which = env.fod({"which", "tool-nosock"});
    CHECK(contains(which.out, "exec (the warm container has no agent)"));
    CHECK(env.containers().size() == 1);

    env.stop_all_checked();
}

// "pipe:[N]" or the path a descriptor's /proc link names, from `ls -l` output.
std::string link_target(const std::string& ls_line) {
    auto arrow = ls_line.find(" -> ");
    return arrow == std::string::npos ? "" : ls_line.substr(arrow + 4);
}

void caller_streams_are_passed(Engine e) {
    FodEnv env(e);
    env.write_mappings(env.entry("bb-agent", busybox_image, {"/bin/sh"}, "94s"));
    const std::string fod = fod_binary();

    // Output to a file the caller opened: the command writes into that very file.
    // Stdin from the caller's pipe: the command reads that very pipe.
    const std::string script =
        "\"$0\" run bb-agent -c 'echo line; ls -l /proc/self/fd/1' >out.txt || exit 11\n"
        "printf 'a\\nb\\n' | \"$0\" run bb-agent -c 'cat; ls -l /proc/self/fd/0' || exit 12\n"
        "{ ls -l /proc/self/fd/0; \"$0\" run bb-agent -c 'ls -l /proc/self/fd/0'; } < <(sleep 1)\n"
        "\"$0\" run bb-agent -c 'echo to-stderr >&2' 2>err.txt || exit 13\n"
        // A closed stdin: fod must not hand the command a file of its own (a lock file).
        "\"$0\" run bb-agent -c 'ls -l /proc/self/fd/0' <&- >closed.txt || exit 14\n";
    Result r = run({"bash", "-c", script, fod}, env.options(env.traced()));
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    REQUIRE(r.status == 0);

    auto file = lines_of(read_file(env.work() + "/out.txt"));
    REQUIRE(file.size() == 2);
    CHECK(file[0] == "line");
    CHECK(link_target(file[1]) == env.work() + "/out.txt");
    CHECK(read_file(env.work() + "/err.txt") == "to-stderr\n");
    auto closed = lines_of(read_file(env.work() + "/closed.txt"));
    REQUIRE(closed.size() == 1);
    INFO("stdin of a run with stdin closed: " << closed[0]);
    CHECK(link_target(closed[0]).find("null") != std::string::npos);

    auto out = lines_of(r.out);
    REQUIRE(out.size() == 5);
    CHECK(out[0] == "a");
    CHECK(out[1] == "b");
    CHECK(link_target(out[2]).rfind("pipe:[", 0) == 0);
    // The same pipe on both sides: the host's ls and the command in the container.
    CHECK(link_target(out[3]).rfind("pipe:[", 0) == 0);
    CHECK(link_target(out[3]) == link_target(out[4]));
    CHECK(env.trace() == std::vector<std::string>(5, "agent"));

    env.stop_all_checked();
}

void status_and_signals(Engine e) {
    FodEnv env(e);
    env.write_mappings(env.entry("tool-sig", scratch_image, {"/tool"}, "95s") +
                       env.entry("bb-sig", busybox_image, {"/bin/sh"}, "95s"));
    Result warm = env.run_cmd("tool-sig", {"echo", "warm"}, env.traced());
    REQUIRE(warm.status == 0);
    Result warm_bb = env.run_cmd("bb-sig", {"-c", "true"}, env.traced());
    REQUIRE(warm_bb.status == 0);

    Result nine = env.run_cmd("tool-sig", {"kill-self", "9"}, env.traced());
    CHECK(nine.status == 128 + 9);

    // SIGTERM reaches the command, which dies of it: so does fod.
    {
        pid_t target = -1;
        std::thread t;
        Result r = env.run_cmd("tool-sig", {"sleep", "30"},
                               terminate_after(target, t, std::chrono::seconds(2),
                                               env.traced({.close_stdin = true, .timeout_s = 20})));
        t.join();
        INFO("stderr: " << r.err);
        CHECK(target > 0);
        CHECK(r.status == 128 + SIGTERM);
        CHECK(contains(r.err, "tool: got signal 15"));
    }
    // A command that traps SIGTERM exits with the status its trap chose.
    {
        pid_t target = -1;
        std::thread t;
        Result r = env.run_cmd(
            "bb-sig",
            {"-c", "trap 'echo trapped; exit 42' TERM; echo ready; while :; do sleep 0.1; done"},
            terminate_after(target, t, std::chrono::seconds(2), env.traced({.timeout_s = 20})));
        t.join();
        INFO("stderr: " << r.err);
        CHECK(r.status == 42);
        CHECK(r.out == "ready\ntrapped\n");
    }
    CHECK(env.trace() == std::vector<std::string>(5, "agent"));

    env.stop_all_checked();
}

// Maps `bb-count`, a script (first_line, then one line) that prints how many arguments it got,
// the first and the Nth, runs it with the arguments "1" to "N" and then with "a", and returns
// the trace of the two runs.
std::vector<std::string> count_arguments(const FodEnv& env, int n, const std::string& first_line) {
    const std::string count = std::to_string(n);
    const std::string script =
        env.put("work/count-args", first_line + "echo \"$# $1 ${" + count + "}\"\n", 0755);
    env.write_mappings(env.entry("bb-count", busybox_image, {script}, "95s"));
    std::vector<std::string> args;
    for (int i = 1; i <= n; ++i) {
        args.push_back(std::to_string(i));
    }
    Result many = env.run_cmd("bb-count", args, env.traced({.timeout_s = 60}));
    INFO("stderr: " << many.err.substr(0, 2000));
    CHECK(many.status == 0);
    CHECK(many.out == count + " 1 " + count + "\n");
    Result few = env.run_cmd("bb-count", {"a"}, env.traced());
    CHECK(few.status == 0);
    CHECK(few.out == "1 a \n");
    return env.trace();
}

// A file the kernel will not run (no "#!") is run by the image's /bin/sh, as execvp does: it
// builds sh's argv on the stack of the command's child, a pointer per argument. That stack is
// the agent's own mapping (the child shares the handler's memory until it execs): with 60,000
// arguments (480 KB of pointers; a request holds at most 65,536 items) the command must still
// run through the agent, and the agent go on serving.
void script_without_interpreter_line(Engine e) {
    FodEnv env(e);
    CHECK(count_arguments(env, 60000, "") == std::vector<std::string>{"agent", "agent"});
    env.stop_all_checked();
}

// More arguments than the agent reads in one request (65,536 items): the run takes the engine's
// exec, and FOD_TRACE says why; the next run takes the agent again.
void request_larger_than_the_agent_reads(Engine e) {
    FodEnv env(e);
    const auto trace = count_arguments(env, 70000, "#!/bin/sh\n");
    REQUIRE(trace.size() == 2);
    CHECK(trace[0].rfind("exec: the request (700", 0) == 0);
    CHECK(ends_with(trace[0], " is larger than the agent reads (65536 items, 4194304 bytes)"));
    CHECK(trace[1] == "agent");
    env.stop_all_checked();
}

// ---------------------------------------------------------------- raw protocol

struct Reply {
    bool got = false;
    fod_agent_message message{};
};

int connect_socket(const std::string& path) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path.size() < sizeof addr.sun_path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    INFO("connect " << path << ": " << std::strerror(errno));
    REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    return fd;
}

// Sends header (with /dev/null three times attached when with_fds) and payload;
// returns the agent's first message.
Reply exchange(const std::string& path, fod_agent_header header, const std::string& payload,
               bool with_fds = true) {
    int sock = connect_socket(path);
    timeval timeout{10, 0};
    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    int fds[3] = {null_fd, null_fd, null_fd};
    iovec iov{&header, sizeof header};
    union {
        char buf[CMSG_SPACE(sizeof fds)];
        cmsghdr align;
    } control{};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (with_fds) {
        msg.msg_control = control.buf;
        msg.msg_controllen = sizeof control.buf;
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof fds);
        std::memcpy(CMSG_DATA(c), fds, sizeof fds);
    }
    sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (!payload.empty()) send(sock, payload.data(), payload.size(), MSG_NOSIGNAL);
    Reply reply;
    reply.got = recv(sock, &reply.message, sizeof reply.message, MSG_WAITALL) ==
                static_cast<ssize_t>(sizeof reply.message);
    // A started command: wait for its end (closing now would hang it up).
    fod_agent_message last{};
    while (reply.got && reply.message.type == FOD_AGENT_STARTED &&
           recv(sock, &last, sizeof last, MSG_WAITALL) == static_cast<ssize_t>(sizeof last) &&
           last.type != FOD_AGENT_EXITED && last.type != FOD_AGENT_SIGNALED) {
    }
    close(null_fd);
    close(sock);
    return reply;
}

std::string request_payload(const std::vector<std::string>& argv, const std::string& cwd) {
    std::string p;
    for (const auto& a : argv) p += "A" + a + std::string(1, '\0');
    p += "D" + cwd + std::string(1, '\0');
    return p;
}

fod_agent_header header_for(const std::string& payload, uint32_t version = FOD_AGENT_VERSION) {
    return {FOD_AGENT_MAGIC, version, static_cast<uint32_t>(payload.size())};
}

// Connections from root to an agent running as fodtest (rootless podman, or
// docker with --user fodtest): the agent sees another uid and refuses.
void other_user_is_refused(Engine e) {
    FodEnv env(e, true);
    REQUIRE(env.uid() != getuid());
    env.write_mappings(env.entry("tool-peer", scratch_image, {"/tool"}, "96s"));
    Result warm = env.run_cmd("tool-peer", {"echo", "warm"}, env.traced());
    INFO("stderr: " << warm.err);
    REQUIRE(warm.status == 0);

    // A well-formed request that would create a file in the mounted directory.
    const std::string payload =
        request_payload({"/tool", "write", "intruder.txt", "x"}, env.work());
    Reply reply = exchange(agent_socket(env), header_for(payload), payload);
    CHECK(reply.got);
    CHECK(reply.message.type == FOD_AGENT_ERROR);
    CHECK(reply.message.a == FOD_AGENT_E_REFUSED);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    CHECK(access((env.work() + "/intruder.txt").c_str(), F_OK) != 0);

    // The owner still gets served.
    Result after = env.run_cmd("tool-peer", {"echo", "owner"}, env.traced());
    CHECK(after.status == 0);
    CHECK(after.out == "owner\n");
    CHECK(env.trace() == std::vector<std::string>(2, "agent"));

    env.stop_all_checked();
}

// Same uid (root, as fod): malformed and foreign requests get an error, the
// agent keeps serving.
void malformed_requests_get_errors(Engine e) {
    FodEnv env(e);
    env.write_mappings(env.entry("tool-bad", scratch_image, {"/tool"}, "97s"));
    Result warm = env.run_cmd("tool-bad", {"echo", "warm"}, env.traced());
    INFO("stderr: " << warm.err);
    REQUIRE(warm.status == 0);
    const std::string sock = agent_socket(env);
    const std::string good = request_payload({"/tool", "write", "made.txt", "x"}, env.work());

    SECTION("a well-formed request runs: the test speaks the protocol right") {
        Reply ok = exchange(sock, header_for(good), good);
        CHECK(ok.got);
        CHECK(ok.message.type == FOD_AGENT_STARTED);
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        CHECK(read_file(env.work() + "/made.txt") == "x");
    }
    SECTION("bad magic, another version, bad payloads, missing fds") {
        Reply magic = exchange(sock, {0x12345678u, FOD_AGENT_VERSION, 0}, "");
        CHECK(magic.got);
        CHECK(magic.message.type == FOD_AGENT_ERROR);
        CHECK(magic.message.a == FOD_AGENT_E_MALFORMED);

        Reply version = exchange(sock, header_for(good, FOD_AGENT_VERSION + 1), good);
        CHECK(version.got);
        CHECK(version.message.type == FOD_AGENT_ERROR);
        CHECK(version.message.a == FOD_AGENT_E_VERSION);
        CHECK(version.message.b == static_cast<int32_t>(FOD_AGENT_VERSION));

        for (const std::string& bad :
             {std::string("Xjunk", 6), std::string("A/tool", 6), request_payload({}, env.work()),
              request_payload({"/tool"}, "relative"), std::string("A/tool\0Wbig\0D/\0", 15),
              std::string("\0\0\0\0", 4)}) {
            Reply r = exchange(sock, header_for(bad), bad);
            CHECK(r.got);
            CHECK(r.message.type == FOD_AGENT_ERROR);
            CHECK(r.message.a == FOD_AGENT_E_MALFORMED);
        }
        Reply no_fds = exchange(sock, header_for(good), good, false);
        CHECK(no_fds.message.type == FOD_AGENT_ERROR);
        Reply huge = exchange(sock, {FOD_AGENT_MAGIC, FOD_AGENT_VERSION, 0xffffffffu}, "");
        CHECK(huge.message.type == FOD_AGENT_ERROR);
        CHECK(access((env.work() + "/made.txt").c_str(), F_OK) != 0);
    }
    // Still serving fod.
    Result after = env.run_cmd("tool-bad", {"echo", "served"}, env.traced());
    INFO("stderr: " << after.err);
    CHECK(after.status == 0);
    CHECK(after.out == "served\n");
    CHECK(env.trace() == std::vector<std::string>(2, "agent"));

    env.stop_all_checked();
}

// An agent of another protocol version: a stand-in on the socket answers as a
// newer agent would (a real one cannot be made to on demand); fod runs the
// command through the engine's exec instead.
void other_version_falls_back(Engine e) {
    FodEnv env(e);
    env.write_mappings(env.entry("tool-version", scratch_image, {"/tool"}, "98s"));
    Result warm = env.run_cmd("tool-version", {"echo", "warm"}, env.traced());
    INFO("stderr: " << warm.err);
    REQUIRE(warm.status == 0);
    const std::string path = agent_socket(env);
    REQUIRE(unlink(path.c_str()) == 0);
    int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(listen(listener, 4) == 0);
    fod_agent_header seen{};
    std::thread newer([&] {
        int conn = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (conn < 0) return;
        if (recv(conn, &seen, sizeof seen, MSG_WAITALL) == static_cast<ssize_t>(sizeof seen)) {
            fod_agent_message m{FOD_AGENT_ERROR, FOD_AGENT_E_VERSION,
                                static_cast<int32_t>(FOD_AGENT_VERSION + 1)};
            send(conn, &m, sizeof m, MSG_NOSIGNAL);
        }
        close(conn);
    });
    env.clear_trace();
    Result r = env.run_cmd("tool-version", {"echo", "via", "exec"}, env.traced());
    shutdown(listener, SHUT_RDWR);
    newer.join();
    close(listener);
    INFO("stderr: " << r.err);
    CHECK(seen.magic == FOD_AGENT_MAGIC);
    CHECK(seen.version == FOD_AGENT_VERSION);
    CHECK(r.status == 0);
    CHECK(r.out == "via exec\n");
    CHECK(env.trace() ==
          std::vector<std::string>{"exec: the container has no agent that takes the run"});

    env.stop_all_checked();
}

}  // namespace

TEST_CASE("an agent of another version makes fod take the engine's exec (podman)",
          "[integration][podman][agent]") {
    FOD_REQUIRE_ENGINE(Engine::podman);
    other_version_falls_back(Engine::podman);
}
TEST_CASE("an agent of another version makes fod take the engine's exec (docker)",
          "[integration][docker][agent]") {
    FOD_REQUIRE_ENGINE(Engine::docker);
    other_version_falls_back(Engine::docker);
}

FOD_TEST_ALL_ENGINES("runs take the fast path through the agent and fod which says so", "[agent]",
                     fast_path_is_taken)
FOD_TEST_ALL_ENGINES("with fast_path: false runs take the engine's exec", "[agent]",
                     fast_path_off_in_config)
FOD_TEST_ALL_ENGINES("with the agent's socket gone runs fall back to the engine's exec", "[agent]",
                     socket_removed_falls_back)
FOD_TEST_ALL_ENGINES("the command writes to and reads from the caller's own files and pipes",
                     "[agent]", caller_streams_are_passed)
FOD_TEST_ALL_ENGINES("exit status, SIGTERM and a trapped SIGTERM come back through the agent",
                     "[agent][signal]", status_and_signals)
FOD_TEST_ALL_ENGINES("a script without #! and 60,000 arguments runs through the image's sh",
                     "[agent]", script_without_interpreter_line)
FOD_TEST_ALL_ENGINES("a request larger than the agent reads takes the engine's exec, said so",
                     "[agent]", request_larger_than_the_agent_reads)

TEST_CASE("another user's connection is refused (rootless podman as fodtest, root connects)",
          "[integration][rootless][agent]") {
    FOD_REQUIRE_ENGINE(Engine::rootless);
    other_user_is_refused(Engine::rootless);
}
TEST_CASE("another user's connection is refused (docker as fodtest, root connects)",
          "[integration][docker][agent]") {
    FOD_REQUIRE_ENGINE(Engine::docker);
    other_user_is_refused(Engine::docker);
}
TEST_CASE("malformed requests get an error and the agent goes on serving (podman)",
          "[integration][podman][agent]") {
    FOD_REQUIRE_ENGINE(Engine::podman);
    malformed_requests_get_errors(Engine::podman);
}
TEST_CASE("malformed requests get an error and the agent goes on serving (docker)",
          "[integration][docker][agent]") {
    FOD_REQUIRE_ENGINE(Engine::docker);
    malformed_requests_get_errors(Engine::docker);
}
