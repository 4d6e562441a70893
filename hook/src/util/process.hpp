#pragma once

#include <chrono>
#include <csignal>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace fod::util {

// How a spawned child is set up. Unset fds are inherited as they are.
struct SpawnOptions {
  std::optional<int> stdin_fd;
  std::optional<int> stdout_fd;
  std::optional<int> stderr_fd;
  bool new_process_group = false;
  bool new_session = false;
  // Full environment ("NAME=value"); the caller's when unset.
  const std::vector<std::string> *environment = nullptr;
};

// Starts argv[0] (searched in PATH) with an empty signal mask and default
// dispositions for the signals fod handles. Throws std::system_error on failure.
pid_t spawn(const std::vector<std::string> &argv, const SpawnOptions &options = {});

// Waits for pid, retrying on EINTR; returns the raw wait status.
int wait_for(pid_t pid);

// The shell's view of a wait status: the exit code, or 128+N for death by signal N.
int shell_status(int wait_status);

struct Captured {
  int status = -1; // shell_status() of the child
  std::string out;
  std::string err;
  bool timed_out = false; // killed (SIGKILL) when CaptureOptions::timeout ran out
};

struct CaptureOptions {
  // Written to the child's stdin, which is then closed; empty: stdin is /dev/null.
  std::string input;
  // How long the child may run; then it is killed and what it wrote so far is kept.
  std::optional<std::chrono::milliseconds> timeout;
};

// Runs argv to completion with stdin on /dev/null and stdout and stderr captured.
Captured capture(const std::vector<std::string> &argv);
// The same with stdin fed from options.input and an optional time limit.
Captured capture(const std::vector<std::string> &argv, const CaptureOptions &options);

// The first executable regular file NAME in $PATH's absolute directories (relative and
// empty entries are skipped, as Go's exec.LookPath refuses them: never a program from
// the current directory); a NAME with a '/' is taken as it is. nullopt when none.
std::optional<std::string> find_in_path(const std::string &name);

// Replaces the process image; returns only on failure (errno set).
void exec(const std::vector<std::string> &argv);

// The signals fod waits for and forwards; blocked in fod, reset in children.
const sigset_t &forwarded_signals();

} // namespace fod::util
