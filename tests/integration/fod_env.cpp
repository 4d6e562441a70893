// See fod_env.hpp.
#include "fod_env.hpp"

#include <catch2/catch.hpp>

#include <dirent.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace fod::test {

namespace {

void make_dir(const std::string& path, mode_t mode) {
    if (mkdir(path.c_str(), mode) < 0 && errno != EEXIST)
        throw std::system_error(errno, std::generic_category(), "mkdir " + path);
    chmod(path.c_str(), mode);
}

}  // namespace

FodEnv::FodEnv(Engine engine, bool as_test_user)
    : m_engine(engine), m_as_user(as_test_user || engine == Engine::rootless),
      m_uid(m_as_user ? user_uid(test_user) : geteuid()) {
    const std::string& r = m_root.path();
    for (const char* dir :
         {"config", "config/fod", "cache", "state", "data", "sysconf", "work", "home"})
        make_dir(r + "/" + dir, 0755);
    make_dir(r + "/run", 0700);
    if (m_as_user) m_root.chown_to(test_user);
}

FodEnv::~FodEnv() {
    // Never throws: it may run while a failed assertion unwinds the test.
    try {
        fod({"stop", "--all"}, {.timeout_s = 60});
        // A safety net for containers fod lost track of; tests that care
        // assert containers() themselves before this.
        for (const auto& name : containers()) engine_cli({"rm", "-f", name});
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fod::test::FodEnv: cleanup failed: %s\n", e.what());
    }
}

std::string FodEnv::user_name() const {
    const passwd* pw = getpwuid(m_uid);
    return pw ? pw->pw_name : std::to_string(m_uid);
}

std::string FodEnv::runtime_dir() const {
    if (m_engine == Engine::rootless) return "/run/user/" + std::to_string(m_uid) + "/fod";
    return m_root.path() + "/run/fod";
}

std::string FodEnv::write_config(const std::string& relpath, const std::string& text) const {
    std::string path = m_root.write("config/fod/" + relpath, text);
    if (m_as_user) m_root.chown_to(test_user);
    return path;
}

std::string FodEnv::write_work(const std::string& relpath, const std::string& text) const {
    std::string path = m_root.write("work/" + relpath, text);
    if (m_as_user) m_root.chown_to(test_user);
    return path;
}

std::string FodEnv::make_work_dir(const std::string& relpath) const {
    std::string path = work() + "/" + relpath;
    make_dir(path, 0755);
    if (m_as_user) m_root.chown_to(test_user);
    return path;
}

std::string FodEnv::put(const std::string& relpath, const std::string& text, mode_t mode) const {
    std::string path = m_root.path() + "/" + relpath;
    write_file(path, text, mode);
    give(path);
    return path;
}

std::string FodEnv::put_dir(const std::string& relpath, mode_t mode) const {
    std::string path = m_root.path() + "/" + relpath;
    std::filesystem::create_directories(path);
    chmod(path.c_str(), mode);
    give(path);
    return path;
}

void FodEnv::give(const std::string& path) const {
    const passwd* pw = getpwuid(m_uid);
    REQUIRE(pw != nullptr);
    REQUIRE(lchown(path.c_str(), m_uid, pw->pw_gid) == 0);
}

std::string FodEnv::entry(const std::string& name, const std::string& image,
                          const std::vector<std::string>& entrypoint, const std::string& ttl,
                          const std::string& extra) const {
    std::string yaml = "  " + name + ":\n    image: " + image + "\n";
    if (!entrypoint.empty()) {
        yaml += "    entrypoint: [";
        for (size_t i = 0; i < entrypoint.size(); ++i)
            yaml += (i ? ", \"" : "\"") + entrypoint[i] + "\"";
        yaml += "]\n";
    }
    if (!ttl.empty()) yaml += "    ttl: " + ttl + "\n";
    // Rootless podman's slirp4netns cannot open /dev/net/tun on these machines.
    if (m_engine == Engine::rootless) yaml += "    network: none\n";
    yaml += extra;
    return yaml;
}

void FodEnv::write_mappings(const std::string& entries) const {
    write_config("mappings.yaml", "commands:\n" + entries);
}

RunOptions FodEnv::options(RunOptions base) const {
    const std::string& r = m_root.path();
    std::map<std::string, std::string> env = {
        {"XDG_CONFIG_HOME", r + "/config"}, {"XDG_CACHE_HOME", r + "/cache"},
        {"XDG_STATE_HOME", r + "/state"},   {"FOD_DATADIR", r + "/data"},
        {"FOD_SYSCONFDIR", r + "/sysconf"},
    };
    // Rootless: engine_options() sets the real /run/user/<uid>, which podman needs.
    if (m_engine != Engine::rootless) env["XDG_RUNTIME_DIR"] = r + "/run";
    if (base.cwd.empty()) base.cwd = work();
    env["PWD"] = base.cwd;  // as a shell would
    for (auto& [k, v] : env) base.env_set.emplace(k, v);
    if (m_as_user && !base.as_user) base.as_user = test_user;
    return engine_options(m_engine, std::move(base));
}

RunOptions FodEnv::login_options(RunOptions base) const {
    const std::string& r = m_root.path();
    std::map<std::string, std::string> env = {
        {"PATH", system_path},
        {"HOME", home()},
        {"USER", user_name()},
        {"LOGNAME", user_name()},
        {"LANG", "C.UTF-8"},
        {"TERM", "dumb"},
        {"XDG_CONFIG_HOME", r + "/config"},
        {"XDG_CACHE_HOME", r + "/cache"},
        {"XDG_STATE_HOME", r + "/state"},
        {"XDG_DATA_HOME", home() + "/.local/share"},
        {"FOD_DATADIR", r + "/data"},
        {"FOD_SYSCONFDIR", r + "/sysconf"},
        {"FOD_TRACE", r + "/trace"},
    };
    // Rootless: engine_options() sets the real /run/user/<uid>, which podman needs.
    if (m_engine != Engine::rootless) env["XDG_RUNTIME_DIR"] = r + "/run";
    for (auto& [k, v] : env) base.env_set.emplace(k, v);
    base.clear_env = true;
    if (base.cwd.empty()) base.cwd = work();
    if (m_as_user && !base.as_user) base.as_user = test_user;
    return engine_options(m_engine, std::move(base));
}

RunOptions FodEnv::traced(RunOptions base) const {
    base.env_set["FOD_TRACE"] = m_root.path() + "/trace";
    return base;
}

std::vector<std::string> FodEnv::trace() const {
    std::vector<std::string> ways = raw_trace();
    for (auto& way : ways) {
        if (way.rfind(zygote_prefix, 0) == 0) way.erase(0, zygote_prefix.size());
    }
    return ways;
}

std::vector<std::string> FodEnv::raw_trace() const {
    return lines_of(read_file(m_root.path() + "/trace"));
}

void FodEnv::clear_trace() const { unlink((m_root.path() + "/trace").c_str()); }

Result FodEnv::fod(const std::vector<std::string>& args, RunOptions base) const {
    std::vector<std::string> argv{fod_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, options(std::move(base)));
}

Result FodEnv::run_cmd(const std::string& name, const std::vector<std::string>& args,
                       RunOptions base) const {
    std::vector<std::string> argv{"run", name};
    argv.insert(argv.end(), args.begin(), args.end());
    return fod(argv, std::move(base));
}

Result FodEnv::engine_cli(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{::fod::test::engine_cli(m_engine)};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, engine_options(m_engine, {.timeout_s = 60}));
}

std::vector<std::string> FodEnv::containers() const {
    // Other tests and people may run fod containers at the same time: keep
    // those of this user whose bind mounts come from this test's tree.
    for (int attempt = 0; attempt < 5; ++attempt) {
        Result ps =
            engine_cli({"ps", "--all", "--filter", "label=fod.managed=true", "--filter",
                        "label=fod.owner=" + std::to_string(m_uid), "--format", "{{.Names}}"});
        if (ps.status != 0) throw std::runtime_error("engine ps failed: " + ps.err);
        std::vector<std::string> names = lines_of(ps.out);
        if (names.empty()) return {};
        std::vector<std::string> args{"inspect", "--format",
                                      "{{.Name}}|{{range .Mounts}}{{.Source}}|{{end}}"};
        args.insert(args.end(), names.begin(), names.end());
        Result in = engine_cli(args);
        if (in.status != 0) continue;  // one went away between ps and inspect
        std::vector<std::string> mine;
        for (const auto& line : lines_of(in.out)) {
            auto bar = line.find('|');
            if (bar == std::string::npos) continue;
            std::string name = line.substr(0, bar);
            if (!name.empty() && name[0] == '/') name.erase(0, 1);  // docker
            if (contains(line, "|" + m_root.path() + "/")) mine.push_back(name);
        }
        return mine;
    }
    throw std::runtime_error("engine inspect kept failing");
}

void FodEnv::stop_all_checked() const {
    Result stop = fod({"stop", "--all"});
    INFO("fod stop --all: " << stop.out << stop.err);
    CHECK(stop.status == 0);
    CHECK(containers().empty());
}

bool FodEnv::wait_until_no_containers(double timeout_s) const {
    return poll_until([&] { return containers().empty(); }, timeout_s,
                      std::chrono::milliseconds(250));
}

std::string FodEnv::container_dir(const std::string& container) const {
    const std::string prefix = "fod-" + std::to_string(m_uid) + "-";
    if (container.compare(0, prefix.size(), prefix) != 0)
        throw std::invalid_argument("not a fod container of uid " + std::to_string(m_uid) + ": " +
                                    container);
    return runtime_dir() + "/c/" + container.substr(prefix.size());
}

std::vector<pid_t> FodEnv::reaper_pids(const std::string& container) const {
    return reaper_pids_of_dir(container_dir(container));
}

std::vector<std::string> FodEnv::recorded_dirs() const {
    std::vector<std::string> dirs;
    const std::string base = runtime_dir() + "/c";
    DIR* d = opendir(base.c_str());
    if (!d) return dirs;
    while (const dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        const std::string dir = base + "/" + e->d_name;
        // nlohmann::json::dump() writes "root":"/path" without spaces or escapes.
        if (contains(read_file(dir + "/info.json"), "\"root\":\"" + m_root.path() + "/"))
            dirs.push_back(dir);
    }
    closedir(d);
    return dirs;
}

std::vector<pid_t> FodEnv::reaper_pids_of_dir(const std::string& dir) const {
    std::vector<pid_t> pids;
    for (pid_t p : all_pids()) {
        auto argv = cmdline_of(p);
        if (argv.size() == 3 && argv[1] == "_reap" && argv[2] == dir) pids.push_back(p);
    }
    return pids;
}

std::vector<pid_t> FodEnv::wait_for_reaper(const std::string& container, double timeout_s) const {
    return wait_for_reaper_of_dir(container_dir(container), timeout_s);
}

std::vector<pid_t> FodEnv::wait_for_reaper_of_dir(const std::string& dir, double timeout_s) const {
    std::vector<pid_t> pids;
    poll_until([&] { return !(pids = reaper_pids_of_dir(dir)).empty(); }, timeout_s);
    return pids;
}

OwnImages::~OwnImages() {
    // Never throws: it may run while a failed assertion unwinds the test.
    try {
        const RunOptions options = engine_options(m_engine, {.timeout_s = 60});
        const auto tracked = [&](const std::string& name) {
            return std::find(m_names.begin(), m_names.end(), name) != m_names.end();
        };
        std::vector<std::string> ids;
        std::vector<std::string> untag;
        for (const auto& name : m_names) {
            // "ID TAG..." of the image the name finds.
            Result found = run({engine_cli(m_engine), "image", "inspect", "--format",
                                "{{.Id}}{{range .RepoTags}} {{.}}{{end}}", name},
                               options);
            const auto lines = lines_of(found.out);
            if (found.status != 0 || lines.empty()) continue;
            std::istringstream words(lines.front());
            std::string id;
            words >> id;
            bool alone = true;
            for (std::string tag; words >> tag;) alone = alone && tracked(tag);
            if (alone) {
                if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
            } else if (name.find('@') == std::string::npos) {
                untag.push_back(name);
            }
        }
        for (const auto& name : untag) run({engine_cli(m_engine), "rmi", name}, options);
        for (const auto& id : ids) run({engine_cli(m_engine), "rmi", "-f", id}, options);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fod test: removing this test's images failed: %s\n", e.what());
    }
}

}  // namespace fod::test
