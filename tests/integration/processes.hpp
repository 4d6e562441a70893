// The machine's processes as /proc shows them, for the integration tests.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace fod::test {

// Pids of every process.
std::vector<pid_t> all_pids();
// argv of a process; empty when it is gone (or a zombie).
std::vector<std::string> cmdline_of(pid_t pid);
// The parent's pid; -1 when the process is gone.
pid_t parent_of(pid_t pid);
// The state letter of a process (R, S, T, Z, ...); '?' when it is gone.
char process_state(pid_t pid);
// Pids of the processes whose argv is exactly `argv` and whose working
// directory is `cwd` (a container's process shows the bind-mounted path).
std::vector<pid_t> find_processes(const std::vector<std::string>& argv, const std::string& cwd);
// True when pid has a handler for sig (SigCgt in /proc/PID/status): a test that signals a
// program that handles it waits for this, since the program shows in /proc before its
// main() installs the handler.
bool catches_signal(pid_t pid, int sig);
// Polls until some process with exactly `argv` in `cwd` (find_processes) catches sig;
// false after timeout_s.
bool wait_until_catching(const std::vector<std::string>& argv, const std::string& cwd, int sig,
                         double timeout_s);
// Polls until pid has exited for good: gone, or a zombie (a dying process's
// cmdline empties before its files, and so its locks, are released). False
// after timeout_s.
bool wait_for_exit(pid_t pid, double timeout_s);
// The pid of the fod process a run() started: `pid` itself, or (as_user) the
// child of runuser. Waits up to 5 s for it; `pid` if none shows.
pid_t fod_pid_from(pid_t pid);

}  // namespace fod::test
