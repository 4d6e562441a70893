// `fod run` as a user sees it: streams, exit status, signals, a FROM-scratch
// image, file ownership, paths and the environment allowlist. Each behaviour
// runs with rootful podman, docker and rootless podman (as fodtest).
#include "fod_env.hpp"

#include <catch2/catch.hpp>

#include <pwd.h>
#include <sys/stat.h>

using namespace fod::test;

namespace {

void streams(Engine e) {
    FodEnv env(e);
    env.write_mappings(env.entry("tool-streams", scratch_image, {"/tool"}, "71s"));

    Result r = env.run_cmd("tool-streams", {"echo", "hello", "world"});
    INFO("stderr: " << r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "hello world\n");
    CHECK(r.err.empty());  // no engine chatter on a plain run

    Result c = env.run_cmd("tool-streams", {"cat"}, {.stdin_data = "line one\nline two\n"});
    INFO("stderr: " << c.err);
    CHECK(c.status == 0);
    CHECK(c.out == "line one\nline two\n");

    std::string big;
    for (int i = 0; big.size() < (1u << 20); ++i) big += "payload line " + std::to_string(i) + "\n";
    big.resize(1u << 20);
    Result b = env.run_cmd("tool-streams", {"cat"}, {.stdin_data = big});
    INFO("stderr: " << b.err);
    CHECK(b.status == 0);
    CHECK(b.out.size() == big.size());
    const bool same = b.out == big;  // not CHECK(a == b): it would print 1 MiB
    CHECK(same);

    Result n = env.run_cmd("tool-streams", {"echo", "no", "stdin"}, {.close_stdin = true});
    INFO("stderr: " << n.err);
    CHECK(n.status == 0);
    CHECK(n.out == "no stdin\n");

    env.stop_all_checked();
}

void exit_status(Engine e) {
    FodEnv env(e);
    env.write_mappings(env.entry("tool-status", scratch_image, {"/tool"}, "72s") +
                       env.entry("sh-status", busybox_image, {"sh"}, "72s"));

    Result seven = env.run_cmd("tool-status", {"exit", "7"});
    INFO("stderr: " << seven.err);
    CHECK(seven.status == 7);
    CHECK(seven.out.empty());

    Result three = env.run_cmd("sh-status", {"-c", "exit 3"});
    INFO("stderr: " << three.err);
    CHECK(three.status == 3);

    Result zero = env.run_cmd("tool-status", {"exit", "0"});
    CHECK(zero.status == 0);

    env.stop_all_checked();
}

void death_by_signal(Engine e) {
    FodEnv env(e);
    env.write_mappings(env.entry("tool-signal", scratch_image, {"/tool"}, "73s"));

    Result killed = env.run_cmd("tool-signal", {"kill-self", "9"});
    INFO("stderr: " << killed.err);
    CHECK(killed.status == 128 + 9);
    // The tool's own note when the kernel ignored the signal (it would be PID 1).
    CHECK_FALSE(contains(killed.err, "still alive"));

    Result terminated = env.run_cmd("tool-signal", {"kill-self", "15"});
    INFO("stderr: " << terminated.err);
    CHECK(terminated.status == 128 + 15);
    CHECK_FALSE(contains(terminated.err, "still alive"));

    env.stop_all_checked();
}

void entrypoint_missing(Engine e) {
    FodEnv env(e);
    env.write_mappings(env.entry("tool-noentry", scratch_image, {"/no/such/program"}, "74s"));

    Result r = env.run_cmd("tool-noentry", {"x"});
    INFO("stderr: " << r.err);
    CHECK(r.status == 127);
    CHECK(r.out.empty());
    bool names_image = false;
    for (const auto& line : lines_of(r.err))
        if (contains(line, "/no/such/program") && contains(line, scratch_image)) names_image = true;
    CHECK(names_image);

    env.stop_all_checked();
}

void file_ownership(Engine e, bool as_test_user) {
    FodEnv env(e, as_test_user);
    env.write_mappings(env.entry("tool-owner", scratch_image, {"/tool"}, "75s"));

    Result r = env.run_cmd("tool-owner", {"write", "out.txt", "hi"});
    INFO("stderr: " << r.err);
    CHECK(r.status == 0);
    const std::string file = env.work() + "/out.txt";
    CHECK(read_file(file) == "hi");
    struct stat st {};
    REQUIRE(stat(file.c_str(), &st) == 0);
    CHECK(st.st_uid == env.uid());
    const passwd* pw = getpwuid(env.uid());
    REQUIRE(pw != nullptr);
    CHECK(st.st_gid == pw->pw_gid);

    // What the command itself sees: the invoking user (rootless: container
    // root, which is that user on the host).
    Result id = env.run_cmd("tool-owner", {"id"});
    CHECK(id.status == 0);
    if (e == Engine::rootless)
        CHECK(id.out == "uid=0 gid=0\n");
    else
        CHECK(id.out ==
              "uid=" + std::to_string(env.uid()) + " gid=" + std::to_string(pw->pw_gid) + "\n");

    env.stop_all_checked();
}

void paths(Engine e) {
    FodEnv env(e);
    env.write_mappings(env.entry("tool-paths", scratch_image, {"/tool"}, "76s") +
                       env.entry("cat-paths", busybox_image, {"cat"}, "76s"));
    const std::string top = env.write_work("file", "top file\n");
    env.write_work("sub/inner", "inner file\n");
    const std::string sub = env.work() + "/sub";

    Result pwd = env.run_cmd("tool-paths", {"pwd"}, {.cwd = sub});
    INFO("stderr: " << pwd.err);
    CHECK(pwd.status == 0);
    CHECK(pwd.out == sub + "\n");

    // From the test directory: relative and absolute paths under it work.
    Result rel = env.run_cmd("cat-paths", {"file"});
    INFO("stderr: " << rel.err);
    CHECK(rel.status == 0);
    CHECK(rel.out == "top file\n");
    Result down = env.run_cmd("cat-paths", {"sub/inner", "sub/../file"});
    INFO("stderr: " << down.err);
    CHECK(down.status == 0);
    CHECK(down.out == "inner file\ntop file\n");
    Result abs = env.run_cmd("cat-paths", {top});
    INFO("stderr: " << abs.err);
    CHECK(abs.status == 0);
    CHECK(abs.out == "top file\n");

    // From sub/ (no project around it): sub/ is the root, and its parent's files
    // are there because the arguments name them (README, "Mounts").
    Result inner = env.run_cmd("cat-paths", {"inner"}, {.cwd = sub});
    INFO("stderr: " << inner.err);
    CHECK(inner.status == 0);
    CHECK(inner.out == "inner file\n");
    Result up = env.run_cmd("cat-paths", {"../file"}, {.cwd = sub});
    INFO("stderr: " << up.err);
    CHECK(up.status == 0);
    CHECK(up.out == "top file\n");
    Result up_abs = env.run_cmd("cat-paths", {top}, {.cwd = sub});
    INFO("stderr: " << up_abs.err);
    CHECK(up_abs.status == 0);
    CHECK(up_abs.out == "top file\n");

    env.stop_all_checked();
}

void environment(Engine e) {
    FodEnv env(e);
    env.write_mappings(
        env.entry("tool-env", scratch_image, {"/tool"}, "77s") +
        env.entry("tool-env-secret", scratch_image, {"/tool"}, "77s", "    env: [SECRET_TOKEN]\n"));
    const RunOptions with_env{.env_set = {{"LANG", "C.UTF-8"}, {"SECRET_TOKEN", "x"}}};

    Result lang = env.run_cmd("tool-env", {"env", "LANG"}, with_env);
    INFO("stderr: " << lang.err);
    CHECK(lang.status == 0);
    CHECK(lang.out == "C.UTF-8\n");

    Result hidden = env.run_cmd("tool-env", {"env", "SECRET_TOKEN"}, with_env);
    INFO("stderr: " << hidden.err);
    CHECK(hidden.status == 0);
    CHECK(hidden.out == "unset\n");

    Result asked = env.run_cmd("tool-env-secret", {"env", "SECRET_TOKEN"}, with_env);
    INFO("stderr: " << asked.err);
    CHECK(asked.status == 0);
    CHECK(asked.out == "x\n");

    env.stop_all_checked();
}

void ownership_as_invoker(Engine e) { file_ownership(e, false); }

}  // namespace

FOD_TEST_ALL_ENGINES("fod run passes stdout and stdin through, also 1 MiB and with stdin closed",
                     "[run]", streams)
FOD_TEST_ALL_ENGINES("fod run exits with the command's status", "[run]", exit_status)
FOD_TEST_ALL_ENGINES("fod run reports a command killed by signal N as 128+N", "[run]",
                     death_by_signal)
FOD_TEST_ALL_ENGINES("an entrypoint missing from a FROM-scratch image gives 127 naming the image",
                     "[run]", entrypoint_missing)
FOD_TEST_ALL_ENGINES("files the command creates belong to the invoking user", "[run]",
                     ownership_as_invoker)

TEST_CASE("files the command creates belong to the invoking user (docker as fodtest)",
          "[integration][docker][run]") {
    FOD_REQUIRE_ENGINE(Engine::docker);
    file_ownership(Engine::docker, true);
}

FOD_TEST_ALL_ENGINES("relative and absolute paths under the current directory work, above it not",
                     "[run]", paths)
FOD_TEST_ALL_ENGINES("only allowlisted and mapped environment variables reach the command", "[run]",
                     environment)
