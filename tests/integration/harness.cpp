// See harness.hpp.
#include "harness.hpp"

#include "files.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

extern char** environ;

namespace fod::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr double held_pipe_grace_s = 5.0;

// Process-wide set-up, before any test runs:
// - CI runs us with no stdin; make sure fds 0-2 are open so pipe() never
//   returns one of them (dup2 onto the same fd would keep O_CLOEXEC).
// - Ignore SIGPIPE so a child that stops reading its stdin cannot kill us;
//   children get the default action back (POSIX_SPAWN_SETSIGDEF).
// - At exit, say how many test cases were skipped.
int skipped = 0;
struct ProcessSetup {
    ProcessSetup() {
        for (int fd = 0; fd <= 2; ++fd) {
            if (fcntl(fd, F_GETFD) < 0) {
                int n = open("/dev/null", O_RDWR);
                if (n >= 0 && n != fd) {
                    dup2(n, fd);
                    close(n);
                }
            }
        }
        signal(SIGPIPE, SIG_IGN);
    }
    ~ProcessSetup() {
        if (skipped > 0) {
            std::fprintf(
                stderr,
                "fod::test: %d test case(s)/section(s) were SKIPPED (preconditions missing; "
                "see the warnings above). Run tests/env/setup-all as root.\n",
                skipped);
        }
    }
} process_setup;

std::string errno_text(int e) { return std::strerror(e); }

struct Fd {
    int fd = -1;
    Fd() = default;
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }
    void reset() {
        if (fd >= 0) close(fd);
        fd = -1;
    }
};

void make_pipe(Fd& r, Fd& w) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) throw std::system_error(errno, std::generic_category(), "pipe2");
    r.fd = p[0];
    w.fd = p[1];
}

std::map<std::string, std::string> current_env() {
    std::map<std::string, std::string> env;
    for (char** e = environ; e && *e; ++e) {
        std::string kv = *e;
        auto eq = kv.find('=');
        if (eq == std::string::npos) continue;
        env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
    }
    return env;
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
    return s;
}

struct Passwd {
    uid_t uid;
    gid_t gid;
    std::string home, shell;
};

std::optional<Passwd> lookup_user(const std::string& name) {
    std::array<char, 16384> buf{};
    passwd pw{};
    passwd* res = nullptr;
    if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &res) != 0 || !res)
        return std::nullopt;
    return Passwd{pw.pw_uid, pw.pw_gid, pw.pw_dir ? pw.pw_dir : "/",
                  pw.pw_shell ? pw.pw_shell : "/bin/sh"};
}

std::string rootful_containers_conf() {
#ifdef FOD_SOURCE_DIR
    std::string p = std::string(FOD_SOURCE_DIR) + "/tests/env/containers.conf";
    if (access(p.c_str(), R_OK) == 0) return p;
#endif
    return shared_containers_conf;
}

// Drains fd into out; returns false at EOF or on a hard error.
bool drain(int fd, std::string& out) {
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) {
            out.append(buf, static_cast<size_t>(n));
            continue;
        }
        if (n == 0) return false;
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return true;
        return false;
    }
}

int decode_status(int ws) {
    if (WIFEXITED(ws)) return WEXITSTATUS(ws);
    if (WIFSIGNALED(ws)) return 128 + WTERMSIG(ws);
    return -1;
}

}  // namespace

bool in_ci() {
    const char* ci = std::getenv("CI");
    return ci && std::string(ci) == "true";
}

uid_t user_uid(const std::string& user) {
    auto pw = lookup_user(user);
    if (!pw) throw std::runtime_error("no such user: " + user);
    return pw->uid;
}

Result run(const std::vector<std::string>& argv_in, const RunOptions& opts) {
    if (argv_in.empty()) throw std::invalid_argument("fod::test::run: empty argv");

    // Final argv and environment.
    std::vector<std::string> argv;
    std::map<std::string, std::string> env;
    std::string cwd = opts.cwd;
    std::map<std::string, std::string> spawn_env;
    if (opts.as_user) {
        auto pw = lookup_user(*opts.as_user);
        if (!pw) throw std::invalid_argument("fod::test::run: no such user: " + *opts.as_user);
        if (argv_in[0].find('=') != std::string::npos)
            throw std::invalid_argument("fod::test::run: as_user with '=' in argv[0]");
        const auto caller_env = current_env();
        const auto path_it = caller_env.find("PATH");
        const std::string caller_path = path_it != caller_env.end() ? path_it->second : system_path;
        if (!opts.clear_env) {
            env = caller_env;
            env.erase("XDG_RUNTIME_DIR");
            env["HOME"] = pw->home;
            env["USER"] = *opts.as_user;
            env["LOGNAME"] = *opts.as_user;
            env["SHELL"] = pw->shell;
        }
        for (const auto& k : opts.env_unset) env.erase(k);
        for (const auto& [k, v] : opts.env_set) env[k] = v;
        if (!env.count("PATH")) env["PATH"] = caller_path;
        if (cwd.empty()) cwd = access(pw->home.c_str(), F_OK) == 0 ? pw->home : "/";

        argv = {access("/usr/sbin/runuser", X_OK) == 0 ? "/usr/sbin/runuser" : "runuser",
                "-u",
                *opts.as_user,
                "--",
                "/usr/bin/env",
                "-i"};
        for (const auto& [k, v] : env) argv.push_back(k + "=" + v);
        argv.insert(argv.end(), argv_in.begin(), argv_in.end());
        spawn_env = caller_env;  // runuser itself runs with ours; env -i resets it
    } else {
        argv = argv_in;
        if (!opts.clear_env) env = current_env();
        for (const auto& k : opts.env_unset) env.erase(k);
        for (const auto& [k, v] : opts.env_set) env[k] = v;
        spawn_env = env;
    }

    std::vector<std::string> env_strings;
    for (const auto& [k, v] : spawn_env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<char*> argvp;
    for (auto& s : argv) argvp.push_back(s.data());
    argvp.push_back(nullptr);

    Fd in_r, in_w, out_r, out_w, err_r, err_w;
    if (!opts.close_stdin) make_pipe(in_r, in_w);
    make_pipe(out_r, out_w);
    make_pipe(err_r, err_w);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (opts.close_stdin)
        posix_spawn_file_actions_addclose(&fa, 0);
    else
        posix_spawn_file_actions_adddup2(&fa, in_r.fd, 0);
    posix_spawn_file_actions_adddup2(&fa, out_w.fd, 1);
    posix_spawn_file_actions_adddup2(&fa, err_w.fd, 2);
    if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());

    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);  // own group: a timeout kills all of it
    sigset_t mask;
    sigemptyset(&mask);
    posix_spawnattr_setsigmask(&attr, &mask);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGTTIN, SIGTTOU, SIGTSTP,
                  SIGUSR1, SIGUSR2, SIGALRM})
        sigaddset(&defaults, s);
    posix_spawnattr_setsigdefault(&attr, &defaults);

    pid_t pid = -1;
    int rc = posix_spawnp(&pid, argvp[0], &fa, &attr, argvp.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    in_r.reset();
    out_w.reset();
    err_w.reset();
    if (rc != 0) {
        return Result{127, "",
                      "fod::test::run: cannot run '" + argv[0] + "'" +
                          (cwd.empty() ? "" : " in '" + cwd + "'") + ": " + errno_text(rc) + "\n"};
    }
    if (opts.on_start) opts.on_start(pid);

    Result res;
    for (int fd : {in_w.fd, out_r.fd, err_r.fd})
        if (fd >= 0) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    size_t in_off = 0;
    if (opts.stdin_data.empty()) in_w.reset();

    const auto start = Clock::now();
    const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(opts.timeout_s));
    std::optional<Clock::time_point> exited_at;
    bool reaped = false;
    int wstatus = 0;
    std::string note;

    for (;;) {
        if (!reaped) {
            pid_t r = waitpid(pid, &wstatus, WNOHANG);
            if (r == pid) {
                reaped = true;
                exited_at = Clock::now();
                in_w.reset();  // nobody will read it any more
            }
        }
        if (reaped && out_r.fd < 0 && err_r.fd < 0) break;
        const auto now = Clock::now();
        if (now >= deadline) {
            note = "fod::test::run: timed out after " + std::to_string(opts.timeout_s) +
                   " s; killed its process group";
            if (reaped)
                note += " (the program had exited with status " +
                        std::to_string(decode_status(wstatus)) +
                        " but something kept its stdout/stderr open)";
            break;
        }
        if (reaped && now - *exited_at >= std::chrono::duration<double>(held_pipe_grace_s)) {
            note = "fod::test::run: the program exited with status " +
                   std::to_string(decode_status(wstatus)) + " but its stdout/stderr stayed open " +
                   std::to_string(held_pipe_grace_s) +
                   " s later (held by a descendant); killed its process group";
            break;
        }

        std::vector<pollfd> pfds;
        if (in_w.fd >= 0) pfds.push_back({in_w.fd, POLLOUT, 0});
        if (out_r.fd >= 0) pfds.push_back({out_r.fd, POLLIN, 0});
        if (err_r.fd >= 0) pfds.push_back({err_r.fd, POLLIN, 0});
        // Short slices so a child exit is noticed even while pipes stay open.
        auto left_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
        int slice = static_cast<int>(std::min<long long>(left_ms + 1, pfds.empty() ? 5 : 50));
        int n = poll(pfds.data(), pfds.size(), slice);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), "poll");
        }
        for (const auto& p : pfds) {
            if (!p.revents) continue;
            if (p.fd == in_w.fd) {
                if (p.revents & (POLLERR | POLLHUP)) {
                    in_w.reset();
                    continue;
                }
                ssize_t w = write(in_w.fd, opts.stdin_data.data() + in_off,
                                  opts.stdin_data.size() - in_off);
                if (w > 0) {
                    in_off += static_cast<size_t>(w);
                    if (in_off == opts.stdin_data.size()) in_w.reset();
                } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                    in_w.reset();  // EPIPE: the child stopped reading
                }
            } else if (p.fd == out_r.fd) {
                if (!drain(out_r.fd, res.out)) out_r.reset();
            } else if (p.fd == err_r.fd) {
                if (!drain(err_r.fd, res.err)) err_r.reset();
            }
        }
    }

    if (!note.empty()) {
        kill(-pid, SIGKILL);
        if (!reaped) {
            kill(pid, SIGKILL);  // in case it left its process group
            while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
            }
        }
        // Keep whatever is already buffered in the pipes.
        if (out_r.fd >= 0) drain(out_r.fd, res.out);
        if (err_r.fd >= 0) drain(err_r.fd, res.err);
        res.status = -1;
        if (!res.err.empty() && res.err.back() != '\n') res.err += '\n';
        res.err += note + "\n";
        return res;
    }
    res.status = decode_status(wstatus);
    return res;
}

// ---------------------------------------------------------------- engines

std::string engine_name(Engine e) {
    switch (e) {
    case Engine::podman: return "podman";
    case Engine::docker: return "docker";
    case Engine::rootless: return "rootless";
    }
    return "?";
}

std::string engine_cli(Engine e) { return e == Engine::docker ? "docker" : "podman"; }

std::map<std::string, std::string> engine_env(Engine e) {
    switch (e) {
    case Engine::podman:
        return {{"CONTAINERS_CONF", rootful_containers_conf()}, {"FOD_ENGINE", "podman"}};
    case Engine::docker: return {{"FOD_ENGINE", "docker"}};
    case Engine::rootless: {
        std::map<std::string, std::string> env{{"CONTAINERS_CONF", shared_containers_conf},
                                               {"FOD_ENGINE", "podman"}};
        if (auto pw = lookup_user(test_user))
            env["XDG_RUNTIME_DIR"] = "/run/user/" + std::to_string(pw->uid);
        return env;
    }
    }
    return {};
}

RunOptions engine_options(Engine e, RunOptions base) {
    for (auto& [k, v] : engine_env(e)) base.env_set.emplace(k, v);
    if (e == Engine::rootless && !base.as_user) base.as_user = test_user;
    return base;
}

namespace {

std::string probe_engine(Engine e) {
    const std::string cli = engine_cli(e);
    if (e != Engine::docker && geteuid() != 0)
        return engine_name(e) + " tests need root (rootful podman, or runuser to " + test_user +
               ")";
    if (e == Engine::rootless && !lookup_user(test_user))
        return std::string("user ") + test_user + " does not exist (run tests/env/make-test-user)";

    RunOptions o = engine_options(e);
    o.timeout_s = 60;
    Result info = run({cli, "info"}, o);
    if (info.status != 0)
        return "'" + cli + " info' failed (status " + std::to_string(info.status) +
               "): " + trim(info.err);
    for (const char* image : {busybox_image, scratch_image}) {
        Result r = run({cli, "image", "inspect", image}, o);
        if (r.status != 0)
            return std::string("image ") + image + " is missing (run tests/env/build-images " +
                   engine_name(e) + "): " + trim(r.err);
    }
    return "";
}

std::map<Engine, std::string>& probe_cache() {
    static std::map<Engine, std::string> cache;
    return cache;
}

}  // namespace

std::string engine_unavailable_reason(Engine e) {
    auto& cache = probe_cache();
    auto it = cache.find(e);
    if (it == cache.end()) it = cache.emplace(e, probe_engine(e)).first;
    return it->second;
}

bool engine_available(Engine e) { return engine_unavailable_reason(e).empty(); }

bool require_or_skip(bool ok, const std::string& why) {
    if (ok) return true;
    if (in_ci()) FAIL("required under CI=true but unavailable: " << why);
    ++skipped;
    WARN("SKIPPED (not under CI): " << why);
    return false;
}

bool require_engine(Engine e) {
    std::string why = engine_unavailable_reason(e);
    return require_or_skip(why.empty(), "engine " + engine_name(e) + ": " + why);
}

int skipped_count() { return skipped; }

// ---------------------------------------------------------------- TempDir

TempDir::TempDir() {
    std::string tmpl = "/tmp/fod-test.XXXXXX";
    if (!mkdtemp(tmpl.data())) throw std::system_error(errno, std::generic_category(), "mkdtemp");
    if (chmod(tmpl.c_str(), 0755) < 0) {
        int e = errno;
        rmdir(tmpl.c_str());
        throw std::system_error(e, std::generic_category(), "chmod " + tmpl);
    }
    path_ = tmpl;
}

TempDir::~TempDir() {
    if (path_.empty()) return;
    std::error_code ec;
    fs::remove_all(path_, ec);
    if (ec)
        std::fprintf(stderr, "fod::test: could not remove %s: %s\n", path_.c_str(),
                     ec.message().c_str());
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }

TempDir& TempDir::operator=(TempDir&& other) noexcept {
    if (this != &other) {
        if (!path_.empty()) {
            std::error_code ec;
            fs::remove_all(path_, ec);
        }
        path_ = std::move(other.path_);
        other.path_.clear();
    }
    return *this;
}

std::string TempDir::write(const std::string& relpath, const std::string& content,
                           mode_t mode) const {
    fs::path rel(relpath);
    if (rel.is_absolute() || relpath.empty())
        throw std::invalid_argument("TempDir::write: need a relative path: " + relpath);
    fs::path full = fs::path(path_) / rel;
    // Parent dirs one by one, each 0755 whatever the umask.
    fs::path dir = path_;
    for (const auto& part : rel.parent_path()) {
        dir /= part;
        if (mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST)
            throw std::system_error(errno, std::generic_category(), "mkdir " + dir.string());
        chmod(dir.c_str(), 0755);
    }
    write_file(full.string(), content, mode);
    return full.string();
}

void TempDir::chown_to(const std::string& user) const {
    auto pw = lookup_user(user);
    if (!pw) throw std::invalid_argument("TempDir::chown_to: no such user: " + user);
    auto do_chown = [&](const fs::path& p) {
        if (lchown(p.c_str(), pw->uid, pw->gid) < 0)
            throw std::system_error(errno, std::generic_category(), "lchown " + p.string());
    };
    do_chown(path_);
    for (const auto& entry : fs::recursive_directory_iterator(path_)) do_chown(entry.path());
}

// ---------------------------------------------------------------- fod

std::string fod_binary() {
    if (const char* prefix = std::getenv("FOD_TEST_PREFIX"); prefix && *prefix)
        return std::string(prefix) + "/bin/fod";
#ifdef FOD_BUILD_BINARY
    return FOD_BUILD_BINARY;
#else
    throw std::runtime_error(
        "fod_binary: set FOD_TEST_PREFIX or compile with -DFOD_BUILD_BINARY=...");
#endif
}

}  // namespace fod::test
