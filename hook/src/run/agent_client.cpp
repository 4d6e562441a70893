#include "run/agent_client.hpp"

#include "agent_proto.h"
#include "base/error.hpp"
#include "containers/box.hpp"
#include "util/fs.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

namespace fod::run {

namespace {

bool is_local_engine_url(const char *value) {
  return value == nullptr || value[0] == '\0' || std::strncmp(value, "unix://", 7) == 0;
}

// The first terminal among fd 0-2 (stdout, stderr, stdin): where the command's
// pseudo-terminal shows, and whose modes and size it copies.
int caller_terminal(unsigned streams) {
  for (int fd : {1, 2, 0}) {
    if ((streams & (1u << fd)) != 0) {
      return fd;
    }
  }
  return -1;
}

} // namespace

unsigned terminal_streams() {
  unsigned streams = 0;
  for (int fd = 0; fd <= 2; ++fd) {
    if (isatty(fd) != 0) {
      streams |= 1u << fd;
    }
  }
  return streams;
}

AgentRequest encode_agent_request(const engine::ExecSpec &spec, unsigned streams) {
  AgentRequest request;
  request.streams = streams;
  std::string &payload = request.payload;
  auto item = [&](char tag, const std::string &text) {
    payload += tag;
    payload += text;
    payload += '\0';
    ++request.items;
  };
  for (const auto &arg : spec.command) {
    item('A', arg);
  }
  item('D', spec.workdir);
  item('I', spec.image);
  for (const auto &name : spec.env_names) {
    if (const char *value = getenv(name.c_str())) {
      item('E', name + "=" + value);
    }
  }
  if (streams != 0) {
    std::string slots;
    for (int fd = 0; fd <= 2; ++fd) {
      if ((streams & (1u << fd)) != 0) {
        slots += static_cast<char>('0' + fd);
      }
    }
    item('T', slots);
    termios modes{};
    if (tcgetattr(caller_terminal(streams), &modes) == 0) {
      fod_agent_modes wire{modes.c_iflag, modes.c_oflag, modes.c_cflag, modes.c_lflag, {}};
      for (size_t i = 0; i < FOD_AGENT_NCCS && i < NCCS; ++i) {
        wire.cc[i] = modes.c_cc[i];
      }
      char text[FOD_AGENT_MODES_TEXT];
      fod_agent_format_modes(&wire, text);
      item('M', text);
    }
    winsize ws{};
    if (ioctl(caller_terminal(streams), TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
      item('W', fmt::format("{}x{}", ws.ws_row, ws.ws_col));
    }
  }
  return request;
}

std::optional<std::string> request_unfit_for_agent(const AgentRequest &request) {
  if (request.items <= FOD_AGENT_MAX_ITEMS && request.payload.size() <= FOD_AGENT_MAX_PAYLOAD) {
    return std::nullopt;
  }
  return fmt::format("the request ({} items, {} bytes) is larger than the agent reads ({} items, "
                     "{} bytes)",
                     request.items, request.payload.size(), FOD_AGENT_MAX_ITEMS,
                     FOD_AGENT_MAX_PAYLOAD);
}

namespace {

// Sends the header with fod's stdin, stdout and stderr attached, then the payload;
// a terminal among them is replaced by /dev/null (the agent gives the command a
// pseudo-terminal there instead).
bool send_request(int sock, const std::string &payload, unsigned streams, int null_fd) {
  // fd 0-2 are open: cli::main reopens closed ones on /dev/null first.
  int fds[3] = {0, 1, 2};
  for (int fd = 0; fd <= 2; ++fd) {
    if ((streams & (1u << fd)) != 0) {
      fds[fd] = null_fd;
    }
  }
  fod_agent_header header{FOD_AGENT_MAGIC, FOD_AGENT_VERSION,
                          static_cast<uint32_t>(payload.size())};
  return fod_agent_send(sock, &header, sizeof header, fds, 3) == 0 && util::send_all(sock, payload);
}

// One message from the agent, with the fd it carries (or -1). false on EOF or error.
bool receive(int sock, fod_agent_message &message, int *fd) {
  int count = 0;
  *fd = -1;
  return fod_agent_receive(sock, &message, sizeof message, fd, 1, &count) == 0;
}

void send_signal(int sock, int sig) {
  fod_agent_message m{FOD_AGENT_SIGNAL, sig, 0};
  util::send_all(sock, std::string_view(reinterpret_cast<const char *>(&m), sizeof m));
}

// The caller's terminal in raw mode while the command has a pty of its own;
// its modes come back on every way out.
class RawTerminal {
public:
  // keep_output: leave output processing on (others in the job, such as a `| cat`,
  // write to the terminal meanwhile and expect a newline to return the carriage).
  explicit RawTerminal(bool keep_output)
      : m_saved_ok(tcgetattr(STDIN_FILENO, &m_saved) == 0), m_keep_output(keep_output) {
    enter();
  }
  ~RawTerminal() { leave(); }
  RawTerminal(const RawTerminal &) = delete;
  RawTerminal &operator=(const RawTerminal &) = delete;
  void enter() {
    if (m_saved_ok && !m_raw) {
      termios raw = m_saved;
      cfmakeraw(&raw);
      if (m_keep_output) {
        raw.c_oflag = m_saved.c_oflag;
      }
      m_raw = tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) == 0;
    }
  }
  void leave() {
    if (m_raw) {
      tcsetattr(STDIN_FILENO, TCSADRAIN, &m_saved);
      m_raw = false;
    }
  }
  // The signal the caller's terminal would have sent its foreground job for
  // this input byte (its interrupt or quit character), or 0.
  int signal_for(char byte) const {
    if (!m_saved_ok || (m_saved.c_lflag & ISIG) == 0) {
      return 0;
    }
    auto c = static_cast<cc_t>(byte);
    if (c == m_saved.c_cc[VINTR] && c != _POSIX_VDISABLE) {
      return SIGINT;
    }
    if (c == m_saved.c_cc[VQUIT] && c != _POSIX_VDISABLE) {
      return SIGQUIT;
    }
    return 0;
  }

private:
  termios m_saved{};
  bool m_saved_ok;
  bool m_keep_output;
  bool m_raw = false;
};

void copy_window_size(int terminal, int master) {
  winsize ws{};
  if (ioctl(terminal, TIOCGWINSZ, &ws) == 0) {
    ioctl(master, TIOCSWINSZ, &ws);
  }
}

// Copies what the pty still holds after the command ended (until its last
// writer closed it; at most ~1 s when a background process keeps it open).
void drain(int master, int out) {
  char buffer[16384];
  for (int idle = 0; idle < 20;) {
    pollfd p{master, POLLIN, 0};
    int r = poll(&p, 1, 50);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r == 0) {
      ++idle;
      continue;
    }
    ssize_t n = read(master, buffer, sizeof buffer);
    if (n <= 0) {
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        continue;
      }
      return;
    }
    util::write_all(out, std::string_view(buffer, static_cast<size_t>(n)));
  }
}

// While fod holds the caller's terminal raw, a Ctrl-C or Ctrl-Z reaches only the
// command, through its pseudo-terminal. The terminal would have signalled the
// whole foreground job (a `| less` or `| cat` beside fod): fod does it for the
// terminal, when the job is in the foreground, and takes its own copy back.
void signal_job_as_terminal(int sig) {
  if (tcgetpgrp(STDIN_FILENO) != getpgrp()) {
    return;
  }
  kill(0, sig);
  sigset_t just;
  sigemptyset(&just);
  sigaddset(&just, sig);
  timespec none{0, 0};
  sigtimedwait(&just, nullptr, &none); // blocked in fod: pending, taken back here
}

struct SignalGuard {
  sigset_t previous{};
  int fd = -1;
  bool command_started = false;
  SignalGuard() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGTSTP, SIGCONT, SIGWINCH}) {
      sigaddset(&set, sig);
    }
    sigprocmask(SIG_BLOCK, &set, &previous);
    fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  }
  ~SignalGuard() {
    // Once the command ran, what is still pending was meant for it: consume it, so that
    // unblocking neither stops nor kills fod. Before that (the run falls back to the engine's
    // exec) a Ctrl-C must still take effect, and does when the mask is restored.
    signalfd_siginfo info{};
    while (command_started && fd >= 0 && read(fd, &info, sizeof info) > 0) {
    }
    if (fd >= 0) {
      close(fd);
    }
    sigprocmask(SIG_SETMASK, &previous, nullptr);
  }
  SignalGuard(const SignalGuard &) = delete;
  SignalGuard &operator=(const SignalGuard &) = delete;
};

} // namespace

std::optional<std::string> fast_path_unusable(const mapping::Config &config,
                                              const engine::Engine &engine) {
  if (!config.fast_path) {
    return "fast_path: false in config.yaml";
  }
  const char *host = getenv(engine.kind == engine::Kind::docker ? "DOCKER_HOST" : "CONTAINER_HOST");
  if (!is_local_engine_url(host)) {
    return fmt::format("the engine is remote ({})",
                       engine.kind == engine::Kind::docker ? "DOCKER_HOST" : "CONTAINER_HOST");
  }
  return std::nullopt;
}

std::optional<std::string> stdio_unfit_for_agent() {
  static const char *const names[] = {"stdin", "stdout", "stderr"};
  for (int fd = 0; fd <= 2; ++fd) {
    struct stat st {};
    if (fstat(fd, &st) != 0 || isatty(fd) != 0 || S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode)) {
      continue;
    }
    // The memory devices (/dev/null, zero, full, random, urandom) are harmless.
    if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 1) {
      continue;
    }
    const char *kind = S_ISSOCK(st.st_mode)  ? "a socket"
                       : S_ISDIR(st.st_mode) ? "a directory"
                                             : "a device";
    return fmt::format("{} is {}, which the container gets only through the engine", names[fd],
                       kind);
  }
  return std::nullopt;
}

std::optional<EngineExecResult> run_via_agent(const containers::ContainerPaths &paths,
                                              const engine::ExecSpec &spec,
                                              const AgentRequest &request) {
  util::UniqueFd sock(containers::box::connect_agent(paths));
  if (sock.get() < 0) {
    return std::nullopt;
  }
  const unsigned streams = request.streams;
  const int terminal = caller_terminal(streams);
  SignalGuard signals;
  {
    util::UniqueFd null_fd(streams != 0 ? open("/dev/null", O_RDWR | O_CLOEXEC) : -1);
    if ((streams != 0 && null_fd.get() < 0) ||
        !send_request(sock.get(), request.payload, streams, null_fd.get())) {
      return std::nullopt;
    }
  }
  fod_agent_message message{};
  int received_fd = -1;
  if (!receive(sock.get(), message, &received_fd) || message.type != FOD_AGENT_STARTED) {
    if (received_fd >= 0) {
      close(received_fd);
    }
    return std::nullopt; // an error, another version, or the agent went away: not started
  }
  signals.command_started = true;
  util::UniqueFd master(streams != 0 ? received_fd : -1);
  if (streams == 0 && received_fd >= 0) {
    close(received_fd);
  }
  EngineExecResult result;
  result.command_started = true;
  // The caller's terminal is raw while the command reads its own pseudo-terminal.
  const bool relay_input = (streams & 1u) != 0;
  std::optional<RawTerminal> raw;
  if (master.get() >= 0) {
    fcntl(master.get(), F_SETFL, fcntl(master.get(), F_GETFL) | O_NONBLOCK);
    if (relay_input) {
      raw.emplace((streams & 2u) == 0); // stdout not on the pty: someone else's output
    }
    copy_window_size(terminal, master.get());
  }

  int forwarded = 0; // the last signal fod passed on (but stop and continue)
  bool stdin_open = master.get() >= 0 && relay_input;
  std::string to_master;
  char buffer[16384];
  for (;;) {
    pollfd fds[4] = {
        {sock.get(), POLLIN, 0},
        {signals.fd, POLLIN, 0},
        {stdin_open && to_master.size() < 65536 ? STDIN_FILENO : -1, POLLIN, 0},
        {master.get(), static_cast<short>(POLLIN | (to_master.empty() ? 0 : POLLOUT)), 0}};
    if (poll(fds, 4, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo info{};
      while (read(signals.fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        int sig = static_cast<int>(info.ssi_signo);
        if (sig == SIGWINCH) {
          if (master.get() >= 0) {
            copy_window_size(terminal, master.get());
          }
          continue;
        }
        if (sig != SIGTSTP && sig != SIGCONT) {
          forwarded = sig;
        }
        send_signal(sock.get(), sig);
      }
    }
    if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(STDIN_FILENO, buffer, sizeof buffer);
      if (n > 0) {
        to_master.append(buffer, static_cast<size_t>(n));
        // The command gets its Ctrl-C from its pseudo-terminal; the rest of the job
        // from fod, as from the terminal.
        for (ssize_t i = 0; raw && i < n; ++i) {
          if (int sig = raw->signal_for(buffer[i]); sig != 0) {
            signal_job_as_terminal(sig);
          }
        }
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        stdin_open = false;
      }
    }
    if (master.get() >= 0 && (fds[3].revents & POLLOUT) && !to_master.empty()) {
      ssize_t n = write(master.get(), to_master.data(), to_master.size());
      if (n > 0) {
        to_master.erase(0, static_cast<size_t>(n));
      }
    }
    if (master.get() >= 0 && (fds[3].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = read(master.get(), buffer, sizeof buffer);
      if (n > 0) {
        util::write_all(terminal, std::string_view(buffer, static_cast<size_t>(n)));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        // Every writer of the pty is gone; the status follows on the socket.
        stdin_open = false;
        to_master.clear();
        master.reset();
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      int fd = -1;
      if (!receive(sock.get(), message, &fd)) {
        if (raw) {
          raw->leave();
        }
        fmt::print(stderr, "fod: error: the container of {} went away while {} ran\n", spec.image,
                   spec.command.empty() ? "the command" : spec.command.front());
        result.status = status_engine_failure;
        return result;
      }
      if (fd >= 0) {
        close(fd);
      }
      if (message.type == FOD_AGENT_EXITED) {
        result.status = message.a;
        break;
      }
      if (message.type == FOD_AGENT_SIGNALED) {
        int sig = message.a;
        result.status = 128 + sig;
        if (sig == forwarded || sig == SIGINT || sig == SIGQUIT) {
          result.raise_signal = sig;
        }
        break;
      }
      if (message.type == FOD_AGENT_STOPPED) {
        // The command stopped (Ctrl-Z): so does fod, with the terminal as it found it,
        // and the shell shows the job stopped. `fg` continues fod, and fod the command.
        if (raw) {
          raw->leave();
          signal_job_as_terminal(SIGTSTP);
        }
        raise(SIGSTOP);
        if (raw) {
          raw->enter();
        }
        if (master.get() >= 0) {
          copy_window_size(terminal, master.get());
        }
        send_signal(sock.get(), SIGCONT);
      }
    }
  }
  if (master.get() >= 0) {
    drain(master.get(), terminal);
  }
  return result;
}

} // namespace fod::run
