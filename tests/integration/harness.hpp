// Test harness for fod's integration tests (Catch2 v2, C++20).
//
// Runs programs without a shell, checks which container engines the machine
// offers, and makes throw-away directories. The machine is prepared by
// tests/env/setup-all (packages, dockerd, user "fodtest", test images).
//
// Skipping: Catch2 v2 has no SKIP, and any exception escaping a test case
// counts as a failure. So a test that needs an engine starts with
//
//     TEST_CASE("...", "[integration]") {
//         FOD_REQUIRE_ENGINE(fod::test::Engine::rootless);
//         ...
//     }
//
// which, when the engine is unavailable, FAILs the test case under CI=true
// and otherwise WARNs with the reason and returns from the test case (Catch2
// then counts it as passed, with the warning printed; a summary of skipped
// cases is printed to stderr at exit). require_engine() is the same check as a
// [[nodiscard]] bool for tests that want to branch themselves.
// Use FOD_REQUIRE_ENGINE before any SECTION, never inside one: its `return`
// ends the test case before Catch2 has seen the later sections, which then
// never run. Inside a SECTION write `if (!require_engine(e)) return;` only if
// it is the last section, or better `if (require_engine(e)) { ... }`.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fod::test {

// Unprivileged user for rootless podman, made by tests/env/make-test-user.
inline constexpr const char* test_user = "fodtest";
// Images made by tests/env/build-images in every engine.
inline constexpr const char* busybox_image = "localhost/fod-test-busybox:1";  // /bin/sh + applets
inline constexpr const char* scratch_image = "localhost/fod-test-scratch:1";  // only /tool
// World-readable copy of tests/env/containers.conf, made by make-test-user.
inline constexpr const char* shared_containers_conf = "/etc/fod-test/containers.conf";
// The system's directories, as root's PATH has them on Debian.
inline constexpr const char* system_path =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct Result {
    int status = -1;  // exit code, 128+N if killed by signal N, -1 on timeout
    std::string out{}, err{};
};

// Every member has a default member initializer so designated initializers
// ({.stdin_data = "x", .timeout_s = 5}) compile cleanly with -Wextra -Werror.
struct RunOptions {
    std::string stdin_data{};  // written to the child's stdin (a pipe), then EOF
    bool close_stdin = false;  // child starts with fd 0 closed (stdin_data ignored)
    std::map<std::string, std::string> env_set{};  // applied last
    std::vector<std::string> env_unset{};
    bool clear_env = false;  // start from an empty environment
    std::string cwd{};       // empty: inherit (as_user: the user's home directory)
    // Run as this user: `runuser -u USER -- env -i K=V... argv` (needs root).
    // Its environment is built here: clear_env ? {} : the caller's environment
    // with HOME USER LOGNAME SHELL set for USER and XDG_RUNTIME_DIR dropped;
    // then env_unset, env_set; PATH is always passed (the caller's if unset).
    std::optional<std::string> as_user{};
    double timeout_s = 120;
    // Called with the child's pid (with as_user: the pid of runuser) right
    // after it started, before run() waits for it; the child leads its own
    // process group. Runs on the calling thread: start a thread here for
    // anything that must happen while the child runs (e.g. a signal later).
    std::function<void(pid_t)> on_start{};
};

// Runs argv[0] (searched on PATH, posix_spawnp) in its own process group,
// capturing stdout and stderr. On timeout the process group is SIGKILLed,
// status is -1 and a note is appended to err. If the child exits but a
// descendant keeps stdout/stderr open for 5 s more, that is reported the same
// way (status -1, note in err): it would hang a `$(...)` in a shell.
// A program that cannot be started gives status 127 and the reason in err.
Result run(const std::vector<std::string>& argv, const RunOptions& opts = {});

enum class Engine { podman, docker, rootless };
inline constexpr Engine all_engines[] = {Engine::podman, Engine::docker, Engine::rootless};

std::string engine_name(Engine);  // "podman", "docker", "rootless"
std::string engine_cli(Engine);   // "podman" or "docker"

// Environment a test sets for fod or the engine CLI with this engine:
// podman:   CONTAINERS_CONF=<repo>/tests/env/containers.conf (or the /etc copy), FOD_ENGINE=podman
// docker:   FOD_ENGINE=docker
// rootless: CONTAINERS_CONF=/etc/fod-test/containers.conf,
//           XDG_RUNTIME_DIR=/run/user/<uid of fodtest>, FOD_ENGINE=podman
std::map<std::string, std::string> engine_env(Engine);

// `base` plus engine_env(e) (entries already in base.env_set win) and, for
// rootless, as_user = test_user. Rootless containers need `--network none`.
RunOptions engine_options(Engine e, RunOptions base = {});

// Whether the engine works and has both test images. Checked once per process.
bool engine_available(Engine);
// Empty when available, else why not.
std::string engine_unavailable_reason(Engine);

// true: go on. false: skipped (WARN printed; only outside CI). Under CI=true
// an unavailable engine FAILs the test case (Catch2 FAIL, which throws).
[[nodiscard]] bool require_engine(Engine);
// The same for any precondition: ok -> true; else FAIL under CI, WARN + false.
[[nodiscard]] bool require_or_skip(bool ok, const std::string& why);
// Number of test cases skipped so far in this process.
int skipped_count();

bool in_ci();  // env CI == "true"

// A fresh directory /tmp/fod-test.XXXXXX, mode 0755 (fodtest can traverse it),
// removed recursively on destruction.
struct TempDir {
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    TempDir(TempDir&& other) noexcept;
    TempDir& operator=(TempDir&& other) noexcept;

    const std::string& path() const { return path_; }
    // Writes relpath (parent dirs made 0755) with exactly `content`; returns
    // the full path.
    std::string write(const std::string& relpath, const std::string& content,
                      mode_t mode = 0644) const;
    // Recursively chowns the directory and everything in it to user.
    void chown_to(const std::string& user) const;

private:
    std::string path_;
};

// $FOD_TEST_PREFIX/bin/fod when FOD_TEST_PREFIX is set, else the build-tree
// binary given at compile time as FOD_BUILD_BINARY. Throws if neither.
std::string fod_binary();

// uid of a user; throws if there is none.
uid_t user_uid(const std::string& user);

}  // namespace fod::test

#define FOD_REQUIRE_ENGINE(engine)                                                                 \
    do {                                                                                           \
        if (!::fod::test::require_engine(engine)) {                                                \
            return;                                                                                \
        }                                                                                          \
    } while (0)
