// Checks of the test harness itself (harness.hpp), so that a failing fod test
// can be trusted to be about fod. The `sh -c` scripts below are constants.
#include "harness.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

using namespace fod::test;

TEST_CASE("run captures output, exit status and death by signal", "[unit][harness]") {
    SECTION("echo") {
        Result r = run({"echo", "hello", "world"});
        CHECK(r.status == 0);
        CHECK(r.out == "hello world\n");
        CHECK(r.err.empty());
    }
    SECTION("exit status") {
        CHECK(run({"false"}).status == 1);
        CHECK(run({"sh", "-c", "echo oops >&2; exit 42"}).status == 42);
        CHECK(run({"sh", "-c", "echo oops >&2; exit 42"}).err == "oops\n");
    }
    SECTION("death by signal is 128+N") {
        CHECK(run({"sh", "-c", "kill -TERM $$"}).status == 128 + 15);
        CHECK(run({"sh", "-c", "kill -KILL $$"}).status == 128 + 9);
    }
    SECTION("a missing program is 127") {
        Result r = run({"fod-test-no-such-program"});
        CHECK(r.status == 127);
        CHECK(r.err.find("cannot run") != std::string::npos);
    }
}

TEST_CASE("run passes stdin, big outputs, env and cwd", "[unit][harness]") {
    SECTION("stdin passthrough, 4 MiB each way without deadlock") {
        std::string big;
        for (int i = 0; big.size() < (4u << 20); ++i) big += "line " + std::to_string(i) + "\n";
        Result r = run({"cat"}, {.stdin_data = big});
        CHECK(r.status == 0);
        CHECK(r.out.size() == big.size());
        CHECK(r.out == big);
        Result e = run({"sh", "-c", "cat >&2"}, {.stdin_data = big});
        CHECK(e.status == 0);
        CHECK(e.err == big);
    }
    SECTION("empty stdin is EOF, close_stdin closes fd 0") {
        CHECK(run({"cat"}).out.empty());
        CHECK(run({"readlink", "/proc/self/fd/0"}).status == 0);
        CHECK(run({"readlink", "/proc/self/fd/0"}, {.close_stdin = true}).status != 0);
    }
    SECTION("child that does not read stdin") {
        Result r = run({"true"}, {.stdin_data = std::string(1 << 20, 'x')});
        CHECK(r.status == 0);
    }
    SECTION("environment") {
        Result r = run({"env"}, {.env_set = {{"FOO", "bar"}}, .clear_env = true});
        CHECK(r.out == "FOO=bar\n");
        setenv("FOD_HARNESS_SELFCHECK", "1", 1);
        CHECK(run({"printenv", "FOD_HARNESS_SELFCHECK"}).out == "1\n");
        CHECK(run({"printenv", "FOD_HARNESS_SELFCHECK"}, {.env_unset = {"FOD_HARNESS_SELFCHECK"}})
                  .status == 1);
        unsetenv("FOD_HARNESS_SELFCHECK");
    }
    SECTION("cwd and TempDir") {
        TempDir dir;
        std::string file = dir.write("a/b/c.txt", "content");
        CHECK(file == dir.path() + "/a/b/c.txt");
        Result r = run({"cat", "a/b/c.txt"}, {.cwd = dir.path()});
        CHECK(r.out == "content");
        CHECK(run({"pwd"}, {.cwd = dir.path()}).out == dir.path() + "\n");
        CHECK(run({"stat", "-c", "%a", dir.path(), dir.path() + "/a"}).out == "755\n755\n");
    }
}

TEST_CASE("run times out and kills the process group", "[unit][harness]") {
    auto t0 = std::chrono::steady_clock::now();
    // The grandchild `sleep` shares the process group and must die too.
    Result r = run({"sh", "-c", "echo started; sleep 30 & wait"}, {.timeout_s = 0.5});
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(r.status == -1);
    CHECK(r.out == "started\n");
    CHECK(r.err.find("timed out") != std::string::npos);
    CHECK(took < 5);
}

TEST_CASE("run reports a descendant holding stdout after the child exits", "[unit][harness]") {
    Result h = run({"sh", "-c", "sleep 30 & echo bye"}, {.timeout_s = 60});
    CHECK(h.status == -1);
    CHECK(h.out == "bye\n");
    CHECK(h.err.find("stayed open") != std::string::npos);
}

TEST_CASE("TempDir is removed and can be given away", "[unit][harness]") {
    std::string path;
    {
        TempDir dir;
        path = dir.path();
        dir.write("x", "y");
        CHECK(access(path.c_str(), F_OK) == 0);
        if (geteuid() == 0 &&
            require_or_skip(access("/usr/sbin/runuser", X_OK) == 0, "no runuser")) {
            bool have_user = true;
            try {
                (void)user_uid(test_user);
            } catch (const std::exception&) {
                have_user = false;
            }
            if (require_or_skip(have_user, std::string("user ") + test_user + " is missing")) {
                dir.chown_to(test_user);
                Result w = run({"touch", dir.path() + "/made-by-user"}, {.as_user = test_user});
                CHECK(w.status == 0);
                Result id = run({"id", "-un"}, {.as_user = test_user});
                CHECK(id.out == std::string(test_user) + "\n");
                Result env = run(
                    {"env"}, {.env_set = {{"A", "b"}}, .clear_env = true, .as_user = test_user});
                CHECK(env.out.find("A=b\n") != std::string::npos);
                CHECK(env.out.find("PATH=") != std::string::npos);
                Result home = run({"printenv", "HOME"}, {.as_user = test_user});
                CHECK(home.out == "/home/" + std::string(test_user) + "\n");
            }
        }
    }
    CHECK(access(path.c_str(), F_OK) != 0);
}

TEST_CASE("each engine runs the scratch image", "[integration][harness]") {
    for (Engine e : all_engines) {
        // Not FOD_REQUIRE_ENGINE here: its `return` would end the test case
        // before Catch2 sees the later sections, so they would never run.
        DYNAMIC_SECTION(engine_name(e)) {
            if (!require_engine(e)) continue;
            // --network none: rootless podman's slirp4netns cannot open /dev/net/tun here.
            Result r = run(
                {engine_cli(e), "run", "--rm", "--network", "none", scratch_image, "echo", "hi"},
                engine_options(e));
            INFO(r.err);
            CHECK(r.status == 0);
            CHECK(r.out == "hi\n");
            Result b = run({engine_cli(e), "run", "--rm", "-i", "--network", "none", busybox_image,
                            "-c", "cat; exit 3"},
                           engine_options(e, {.stdin_data = "piped\n"}));
            INFO(b.err);
            CHECK(b.status == 3);
            CHECK(b.out == "piped\n");
        }
    }
}
