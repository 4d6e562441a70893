#include "run/engine_exec.hpp"

#include "containers/box.hpp"
#include "util/process.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace fod::run {

namespace {

// Asks the keeper to signal the session's command; false when the command has
// not recorded its pid yet.
bool forward_signal(const containers::ContainerPaths &paths, const std::string &session, int sig) {
  auto pid = containers::box::session_pid(paths, session);
  if (!pid) {
    return false;
  }
  int fd = containers::box::open_signal_fifo(paths);
  if (fd < 0) {
    return true; // the keeper is gone; nothing left to signal
  }
  std::string request = std::to_string(*pid) + " " + std::to_string(sig) + "\n";
  ssize_t written = write(fd, request.data(), request.size());
  (void)written; // a full FIFO means the keeper is stuck; the CLI's end decides
  close(fd);
  return true;
}

sigset_t waited_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD}) {
    sigaddset(&set, sig);
  }
  return set;
}

} // namespace

EngineExecResult exec_through_engine(const engine::Engine &engine, const engine::ExecSpec &spec,
                                     const containers::ContainerPaths &paths) {
  const auto argv = engine::exec_argv(engine, spec);
  const bool stdin_is_tty = isatty(STDIN_FILENO) != 0;

  sigset_t waited = waited_signals();
  sigset_t previous;
  sigprocmask(SIG_BLOCK, &waited, &previous);

  // Without a terminal to read, the CLI gets its own process group, so a Ctrl-C
  // reaches only fod, which forwards it; the CLI then reports the command's own
  // status. A CLI that reads the terminal must stay in the foreground group.
  util::SpawnOptions options;
  options.new_process_group = !stdin_is_tty;
  pid_t pid = util::spawn(argv, options);

  int received = 0; // the last signal the user sent fod
  int pending = 0;  // a signal not yet delivered to the command
  int pending_tries = 0;
  int wait_status = 0;
  for (;;) {
    siginfo_t info{};
    int sig;
    if (pending != 0) {
      timespec timeout{0, 20'000'000};
      sig = sigtimedwait(&waited, &info, &timeout);
    } else {
      sig = sigwaitinfo(&waited, &info);
    }
    if (sig == SIGCHLD || sig < 0) {
      pid_t done = waitpid(pid, &wait_status, WNOHANG);
      if (done == pid) {
        break;
      }
    } else if (sig == SIGTERM || sig == SIGHUP ||
               ((sig == SIGINT || sig == SIGQUIT) && !spec.tty)) {
      received = sig;
      pending = sig;
      pending_tries = 0;
    }
    if (pending != 0) {
      // The pid record appears a moment after the CLI starts; keep trying for ~5 s.
      if (forward_signal(paths, spec.session, pending) || ++pending_tries > 250) {
        pending = 0;
      }
    }
  }
  sigprocmask(SIG_SETMASK, &previous, nullptr);
  EngineExecResult result;
  result.command_started = containers::box::forget_session(paths, spec.session);
  if (WIFSIGNALED(wait_status)) {
    // The CLI itself died (SIGPIPE from a closed reader, a kill): take the command down the same
    // way.
    int sig = WTERMSIG(wait_status);
    forward_signal(paths, spec.session, sig == SIGKILL ? SIGTERM : sig);
    result.status = 128 + sig;
    result.raise_signal = sig;
    return result;
  }
  int code = WEXITSTATUS(wait_status);
  if (received != 0 && !options.new_process_group && (received == SIGINT || received == SIGQUIT)) {
    // The terminal signalled the CLI too, which then exits with a status of its own.
    code = 128 + received;
  }
  result.status = code;
  if (received != 0 && code == 128 + received) {
    result.raise_signal = received;
  } else if (spec.tty && (code == 128 + SIGINT || code == 128 + SIGQUIT)) {
    result.raise_signal = code - 128; // Ctrl-C typed into the command's own terminal
  }
  return result;
}

} // namespace fod::run
