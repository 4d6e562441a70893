#include "util/process.hpp"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <string_view>
#include <sys/stat.h>
#include <sys/wait.h>
#include <system_error>
#include <unistd.h>

extern char **environ;

namespace fod::util {

namespace {

std::vector<char *> to_c_array(const std::vector<std::string> &strings) {
  std::vector<char *> result;
  result.reserve(strings.size() + 1);
  for (const auto &s : strings) {
    result.push_back(const_cast<char *>(s.c_str()));
  }
  result.push_back(nullptr);
  return result;
}

sigset_t make_forwarded_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD, SIGPIPE, SIGTSTP, SIGCONT}) {
    sigaddset(&set, sig);
  }
  return set;
}

class SpawnAttributes {
public:
  SpawnAttributes() {
    posix_spawnattr_init(&m_attr);
    posix_spawn_file_actions_init(&m_actions);
  }
  ~SpawnAttributes() {
    posix_spawnattr_destroy(&m_attr);
    posix_spawn_file_actions_destroy(&m_actions);
  }
  SpawnAttributes(const SpawnAttributes &) = delete;
  SpawnAttributes &operator=(const SpawnAttributes &) = delete;

  posix_spawnattr_t m_attr;
  posix_spawn_file_actions_t m_actions;
};

} // namespace

const sigset_t &forwarded_signals() {
  static const sigset_t set = make_forwarded_signals();
  return set;
}

pid_t spawn(const std::vector<std::string> &argv, const SpawnOptions &options) {
  SpawnAttributes sa;
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&sa.m_attr, &empty);
  posix_spawnattr_setsigdefault(&sa.m_attr, &forwarded_signals());
  if (options.new_session) {
    flags |= POSIX_SPAWN_SETSID;
  } else if (options.new_process_group) {
    flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setpgroup(&sa.m_attr, 0);
  }
  posix_spawnattr_setflags(&sa.m_attr, flags);

  const std::pair<std::optional<int>, int> redirections[] = {
      {options.stdin_fd, 0}, {options.stdout_fd, 1}, {options.stderr_fd, 2}};
  for (const auto &[from, to] : redirections) {
    if (from && *from != to) {
      posix_spawn_file_actions_adddup2(&sa.m_actions, *from, to);
    }
  }
  if (options.new_session) {
    // After the dup2s (their sources are >= 3): a detached helper may outlive
    // the caller by hours and must not hold the caller's pipes open.
    posix_spawn_file_actions_addclosefrom_np(&sa.m_actions, 3);
  }

  auto c_argv = to_c_array(argv);
  std::vector<char *> c_env;
  char **envp = environ;
  if (options.environment) {
    c_env = to_c_array(*options.environment);
    envp = c_env.data();
  }
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, c_argv[0], &sa.m_actions, &sa.m_attr, c_argv.data(), envp);
  if (rc != 0) {
    throw std::system_error(rc, std::generic_category(), argv[0]);
  }
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      throw std::system_error(errno, std::generic_category(), "waitpid");
    }
  }
  return status;
}

int shell_status(int wait_status) {
  if (WIFEXITED(wait_status)) {
    return WEXITSTATUS(wait_status);
  }
  if (WIFSIGNALED(wait_status)) {
    return 128 + WTERMSIG(wait_status);
  }
  return 255;
}

Captured capture(const std::vector<std::string> &argv) {
  return capture(argv, CaptureOptions{});
}

Captured capture(const std::vector<std::string> &argv, const CaptureOptions &options) {
  int out_pipe[2];
  int err_pipe[2];
  int in_pipe[2] = {-1, -1};
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::system_error(errno, std::generic_category(), "pipe");
  }
  int in_fd = -1;
  if (options.input.empty()) {
    in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  } else {
    if (pipe2(in_pipe, O_CLOEXEC) != 0) {
      throw std::system_error(errno, std::generic_category(), "pipe");
    }
    in_fd = in_pipe[0];
    fcntl(in_pipe[1], F_SETFL, fcntl(in_pipe[1], F_GETFL) | O_NONBLOCK);
  }
  SpawnOptions spawn_options;
  spawn_options.stdin_fd = in_fd;
  spawn_options.stdout_fd = out_pipe[1];
  spawn_options.stderr_fd = err_pipe[1];
  Captured result;
  pid_t pid = -1;
  try {
    pid = spawn(argv, spawn_options);
  } catch (...) {
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1], in_fd, in_pipe[1]}) {
      if (fd >= 0) {
        close(fd);
      }
    }
    throw;
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  close(in_fd);

  // A child that exits without reading its input must not kill the caller with SIGPIPE.
  struct sigaction ignore {};
  struct sigaction old_pipe {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &old_pipe);

  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + options.timeout.value_or(std::chrono::milliseconds(0));
  pollfd fds[3] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}, {in_pipe[1], POLLOUT, 0}};
  std::string *sinks[2] = {&result.out, &result.err};
  size_t written = 0;
  int open_count = 2;
  char buffer[4096];
  while (open_count > 0) {
    int wait_ms = -1;
    if (options.timeout) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
      if (left.count() <= 0) {
        kill(pid, SIGKILL);
        result.timed_out = true;
        break;
      }
      wait_ms = static_cast<int>(left.count());
    }
    if (poll(fds, 3, wait_ms) < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    if (fds[2].fd >= 0 && fds[2].revents != 0) {
      ssize_t n = (fds[2].revents & POLLOUT) != 0 ? write(fds[2].fd, options.input.data() + written,
                                                          options.input.size() - written)
                                                  : -1;
      if (n > 0) {
        written += static_cast<size_t>(n);
      }
      if (written == options.input.size() || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        close(fds[2].fd);
        fds[2].fd = -1;
      }
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd >= 0 && fds[i].revents != 0) {
        ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
        if (n > 0) {
          sinks[i]->append(buffer, static_cast<size_t>(n));
        } else if (n == 0 || errno != EINTR) {
          close(fds[i].fd);
          fds[i].fd = -1;
          --open_count;
        }
      }
    }
  }
  for (const pollfd &entry : fds) {
    if (entry.fd >= 0) {
      close(entry.fd);
    }
  }
  sigaction(SIGPIPE, &old_pipe, nullptr);
  result.status = shell_status(wait_for(pid));
  return result;
}

namespace {

// An executable regular file: a directory also passes access(X_OK).
bool is_executable_file(const std::string &path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

} // namespace

std::optional<std::string> find_in_path(const std::string &name) {
  if (name.find('/') != std::string::npos) {
    return is_executable_file(name) ? std::optional<std::string>(name) : std::nullopt;
  }
  const char *path = std::getenv("PATH");
  std::string_view rest = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    auto colon = rest.find(':');
    std::string_view dir = rest.substr(0, colon);
    if (!dir.empty() && dir.front() == '/') {
      std::string candidate = std::string(dir) + "/" + name;
      if (is_executable_file(candidate)) {
        return candidate;
      }
    }
    if (colon == std::string_view::npos) {
      return std::nullopt;
    }
    rest.remove_prefix(colon + 1);
  }
}

void exec(const std::vector<std::string> &argv) {
  auto c_argv = to_c_array(argv);
  execvp(c_argv[0], c_argv.data());
}

} // namespace fod::util
