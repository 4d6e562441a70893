// See processes.hpp.
#include "processes.hpp"

#include "files.hpp"
#include "poll.hpp"
#include "text.hpp"

#include <dirent.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <system_error>

namespace fod::test {

std::vector<pid_t> all_pids() {
    std::vector<pid_t> pids;
    DIR* dir = opendir("/proc");
    if (!dir) return pids;
    while (const dirent* e = readdir(dir)) {
        char* end = nullptr;
        long pid = std::strtol(e->d_name, &end, 10);
        if (end != e->d_name && *end == '\0' && pid > 0) pids.push_back(static_cast<pid_t>(pid));
    }
    closedir(dir);
    return pids;
}

std::vector<std::string> cmdline_of(pid_t pid) {
    std::string raw = read_file("/proc/" + std::to_string(pid) + "/cmdline");
    std::vector<std::string> argv;
    size_t start = 0;
    while (start < raw.size()) {
        size_t end = raw.find('\0', start);
        if (end == std::string::npos) end = raw.size();
        argv.push_back(raw.substr(start, end - start));
        start = end + 1;
    }
    return argv;
}

pid_t parent_of(pid_t pid) {
    // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces.
    std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    auto close = stat.rfind(')');
    if (close == std::string::npos) return -1;
    std::istringstream rest(stat.substr(close + 1));
    std::string state;
    long ppid = -1;
    rest >> state >> ppid;
    return static_cast<pid_t>(ppid);
}

char process_state(pid_t pid) {
    std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    auto paren = stat.rfind(')');
    return paren == std::string::npos || paren + 2 >= stat.size() ? '?' : stat[paren + 2];
}

std::vector<pid_t> find_processes(const std::vector<std::string>& argv, const std::string& cwd) {
    std::vector<pid_t> pids;
    for (pid_t pid : all_pids()) {
        if (cmdline_of(pid) != argv) continue;
        std::error_code ec;
        const auto dir = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/cwd", ec);
        if (dir.string() == cwd) pids.push_back(pid);
    }
    return pids;
}

bool catches_signal(pid_t pid, int sig) {
    const std::string status = read_file("/proc/" + std::to_string(pid) + "/status");
    const auto at = status.find("SigCgt:");
    if (at == std::string::npos) return false;
    const unsigned long long caught = std::stoull(status.substr(at + 7, 24), nullptr, 16);
    return (caught >> (sig - 1) & 1) != 0;
}

bool wait_until_catching(const std::vector<std::string>& argv, const std::string& cwd, int sig,
                         double timeout_s) {
    return poll_until(
        [&] {
            for (pid_t pid : find_processes(argv, cwd)) {
                if (catches_signal(pid, sig)) return true;
            }
            return false;
        },
        timeout_s);
}

bool wait_for_exit(pid_t pid, double timeout_s) {
    return poll_until(
        [&] {
            const char state = process_state(pid);
            return state == '?' || state == 'Z';
        },
        timeout_s, std::chrono::milliseconds(20));
}

pid_t fod_pid_from(pid_t pid) {
    pid_t fod = pid;
    poll_until(
        [&] {
            auto argv = cmdline_of(pid);
            if (!argv.empty() && ends_with(argv[0], "/fod")) return true;
            for (pid_t p : all_pids()) {
                if (parent_of(p) != pid) continue;
                auto child = cmdline_of(p);
                if (!child.empty() && ends_with(child[0], "/fod")) {
                    fod = p;
                    return true;
                }
            }
            return false;
        },
        5, std::chrono::milliseconds(20));
    return fod;
}

}  // namespace fod::test
