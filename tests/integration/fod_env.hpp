// A fully isolated fod for one integration test (see harness.hpp for run()).
//
// FodEnv makes a throw-away tree
//     ROOT/config/fod/mappings.yaml   $XDG_CONFIG_HOME (user layer)
//     ROOT/cache  ROOT/state          $XDG_CACHE_HOME, $XDG_STATE_HOME
//     ROOT/run    (0700)              $XDG_RUNTIME_DIR, except rootless (below)
//     ROOT/data   ROOT/sysconf        $FOD_DATADIR, $FOD_SYSCONFDIR: empty layers
//     ROOT/work                       the directory fod runs in
//     ROOT/home                       $HOME of login_options() (shells)
//     ROOT/trace                      $FOD_TRACE of traced() and login_options()
// and runs the installed fod (fod_binary()) there with the engine's
// environment: options() adds fod's variables to the caller's environment,
// login_options() gives a clean one, as a new login in the tree would have it,
// for shells that must read nothing of the caller's. Rootless podman needs its
// real XDG_RUNTIME_DIR (/run/user/<uid>), so there fod's runtime directory is
// the real one too and the test relies on `fod stop --all`, which the
// destructor always runs, to leave no container behind. With `as fodtest`
// (docker as an unprivileged member of group docker, and rootless), the whole
// tree belongs to fodtest.
//
// The shared fixture of every suite: this header brings the harness (run(),
// engines, TempDir) and the helpers for files, text, polling and processes;
// tmux_pane.hpp adds a program at a terminal, registry_fixture.hpp a registry.
#pragma once

#include "files.hpp"
#include "harness.hpp"
#include "poll.hpp"
#include "processes.hpp"
#include "text.hpp"

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace fod::test {

class FodEnv {
public:
    // as_test_user: run fod as fodtest (implied for Engine::rootless).
    explicit FodEnv(Engine engine, bool as_test_user = false);
    ~FodEnv();  // `fod stop --all` with the same environment
    FodEnv(const FodEnv&) = delete;
    FodEnv& operator=(const FodEnv&) = delete;

    Engine engine() const { return m_engine; }
    // The user fod runs as: root, or fodtest.
    uid_t uid() const { return m_uid; }
    std::string user_name() const;
    bool as_test_user() const { return m_as_user; }

    const std::string& root() const { return m_root.path(); }
    std::string work() const { return m_root.path() + "/work"; }
    std::string home() const { return m_root.path() + "/home"; }
    std::string config_dir() const { return m_root.path() + "/config/fod"; }
    // The shim directory `fod init` puts on PATH.
    std::string shims_dir() const { return m_root.path() + "/cache/fod/shims"; }
    // fod's own runtime directory: $XDG_RUNTIME_DIR/fod.
    std::string runtime_dir() const;

    // Writes `text` under config_dir() (e.g. "mappings.yaml", "mappings.d/a.yaml")
    // and returns the full path; the file belongs to the user fod runs as.
    std::string write_config(const std::string& relpath, const std::string& text) const;
    // Writes a file under work() (relpath "a/b" makes work/a), owned by fod's user.
    std::string write_work(const std::string& relpath, const std::string& text) const;
    // Makes a directory under work() owned by fod's user; returns its path.
    std::string make_work_dir(const std::string& relpath) const;
    // Writes ROOT/relpath (its directory must exist) and gives that file alone
    // to fod's user; returns its path.
    std::string put(const std::string& relpath, const std::string& text, mode_t mode = 0644) const;
    // Makes the directory ROOT/relpath (and its parents) and gives it alone to
    // fod's user; returns its path.
    std::string put_dir(const std::string& relpath, mode_t mode = 0755) const;
    // Gives path (not following a link) to fod's user.
    void give(const std::string& path) const;

    // One mapping entry as YAML (indented for `commands:`); `network: none`
    // is added for rootless. `extra` lines are inserted as they are (indent 4).
    std::string entry(const std::string& name, const std::string& image,
                      const std::vector<std::string>& entrypoint, const std::string& ttl,
                      const std::string& extra = "") const;
    // Writes config/fod/mappings.yaml holding "commands:\n" + entries.
    void write_mappings(const std::string& entries) const;

    // RunOptions that run a program as fod's user with fod's environment
    // (the cwd is work() unless base.cwd is set).
    RunOptions options(RunOptions base = {}) const;
    // RunOptions with a clean environment, as a new login in the tree would
    // have it: PATH=system_path, HOME=home(), USER, LOGNAME, LANG=C.UTF-8,
    // TERM=dumb, XDG_DATA_HOME under home(), fod's variables, FOD_TRACE and the
    // engine's variables; base.env_set wins. The cwd is work() unless set.
    RunOptions login_options(RunOptions base = {}) const;
    // `base` with FOD_TRACE set: each run appends the way it took ("agent" or
    // "exec: REASON") to ROOT/trace.
    RunOptions traced(RunOptions base = {}) const;
    // The ways the traced runs took so far, one line each, whether fod's zygote served
    // the call or fod-run did (test_zygote.cpp tells them apart with raw_trace()).
    std::vector<std::string> trace() const;
    // The same as fod wrote them: "zygote: agent" for a call the zygote served.
    std::vector<std::string> raw_trace() const;
    static constexpr std::string_view zygote_prefix = "zygote: ";
    // Empties the trace.
    void clear_trace() const;

    // `fod ARGS...`
    Result fod(const std::vector<std::string>& args, RunOptions base = {}) const;
    // `fod run NAME ARGS...`
    Result run_cmd(const std::string& name, const std::vector<std::string>& args,
                   RunOptions base = {}) const;
    // The engine CLI (podman or docker) as the engine's user, without fod's env.
    Result engine_cli(const std::vector<std::string>& args) const;

    // Names of the fod containers of this user (label fod.owner) that
    // bind-mount a directory of this test's tree, from the engine itself.
    std::vector<std::string> containers() const;
    // `fod stop --all`, CHECKing that it succeeds and leaves none of
    // containers(); tests end with it (the destructor only cleans up).
    void stop_all_checked() const;
    // Polls containers() until it is empty; false after timeout_s.
    bool wait_until_no_containers(double timeout_s) const;
    // fod's directory for a container named fod-<uid>-<key>.
    std::string container_dir(const std::string& container) const;
    // Pids of live `fod _reap DIR` processes for that container.
    std::vector<pid_t> reaper_pids(const std::string& container) const;
    // fod's directories of the containers it recorded for runs in this test's
    // tree (from info.json; asks the engine nothing).
    std::vector<std::string> recorded_dirs() const;
    // Pids of live `fod _reap DIR` processes for one of those directories.
    std::vector<pid_t> reaper_pids_of_dir(const std::string& dir) const;
    // Polls (up to timeout_s) until the reaper of a container, or of a
    // directory, is up (it is spawned detached); its pids, or none.
    std::vector<pid_t> wait_for_reaper(const std::string& container, double timeout_s = 5) const;
    std::vector<pid_t> wait_for_reaper_of_dir(const std::string& dir, double timeout_s = 5) const;

private:
    Engine m_engine;
    bool m_as_user;
    uid_t m_uid;
    TempDir m_root;
};

// Removes, when it goes (also when a check fails), the images a test made under
// names of its own (REPO:TAG or REPO@DIGEST): an image that no other name holds
// goes whole, by its ID (podman keeps an image pulled by digest under that digest
// when only its tag is removed); an image that also has names the test did not
// make (rootful podman pulls the test image back as the image it already has)
// only loses the tracked tags. It asks the engine itself, not FodEnv: declared
// before the FodEnv, it runs after FodEnv has stopped the test's containers.
class OwnImages {
public:
    explicit OwnImages(Engine e) : m_engine(e) {}
    ~OwnImages();  // never throws
    OwnImages(const OwnImages&) = delete;
    OwnImages& operator=(const OwnImages&) = delete;
    // A name whose image this test made (pulled or tagged) under that name.
    void track(const std::string& name) { m_names.push_back(name); }

private:
    Engine m_engine;
    std::vector<std::string> m_names;
};

}  // namespace fod::test

// One TEST_CASE per engine, each tagged with its engine, calling
// `void body(fod::test::Engine)`. FOD_REQUIRE_ENGINE runs outside any SECTION.
#define FOD_TEST_ALL_ENGINES(title, tags, body)                                                    \
    FOD_TEST_ROOTFUL_ENGINES(title, tags, body)                                                    \
    TEST_CASE(title " (rootless)", "[integration][rootless]" tags) {                               \
        FOD_REQUIRE_ENGINE(::fod::test::Engine::rootless);                                         \
        body(::fod::test::Engine::rootless);                                                       \
    }
// The same for the rootful engines only (podman and docker).
#define FOD_TEST_ROOTFUL_ENGINES(title, tags, body)                                                \
    TEST_CASE(title " (podman)", "[integration][podman]" tags) {                                   \
        FOD_REQUIRE_ENGINE(::fod::test::Engine::podman);                                           \
        body(::fod::test::Engine::podman);                                                         \
    }                                                                                              \
    TEST_CASE(title " (docker)", "[integration][docker]" tags) {                                   \
        FOD_REQUIRE_ENGINE(::fod::test::Engine::docker);                                           \
        body(::fod::test::Engine::docker);                                                         \
    }
