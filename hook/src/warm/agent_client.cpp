#include "warm/agent_client.hpp"

#include "agent_proto.h"

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
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

namespace fod::warm {

namespace {

bool is_local_engine_url(const char *value) {
  return value == nullptr || value[0] == '\0' || std::strncmp(value, "unix://", 7) == 0;
}

int connect_to(const std::string &path) {
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) {
    return -1;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string target = path;
  int dir_fd = -1;
  if (target.size() >= sizeof addr.sun_path) {
    // Too long for sun_path: reach it through an fd of its directory.
    size_t slash = path.rfind('/');
    dir_fd = open(path.substr(0, slash).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    target = fmt::format("/proc/self/fd/{}/{}", dir_fd, path.substr(slash + 1));
  }
  int rc = -1;
  if (target.size() < sizeof addr.sun_path) {
    std::memcpy(addr.sun_path, target.c_str(), target.size() + 1);
    rc = connect(sock, reinterpret_cast<sockaddr *>(&addr), sizeof addr);
  }
  if (dir_fd >= 0) {
    close(dir_fd);
  }
  if (rc != 0) {
    close(sock);
    return -1;
  }
  return sock;
}

std::string encode(const engine::ExecSpec &spec) {
  std::string payload;
  auto item = [&](char tag, const std::string &text) {
    payload += tag;
    payload += text;
    payload += '\0';
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
  if (spec.tty) {
    item('T', "1");
    if (spec.rows > 0 && spec.cols > 0) {
      item('W', fmt::format("{}x{}", spec.rows, spec.cols));
    }
  }
  return payload;
}

bool write_all(int fd, const char *data, size_t size) {
  while (size > 0) {
    ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Sends the header with fod's stdin, stdout and stderr attached, then the payload.
bool send_request(int sock, const std::string &payload) {
  // fd 0-2 are open: cli::main reopens closed ones on /dev/null first.
  const int fds[3] = {0, 1, 2};
  fod_agent_header header{FOD_AGENT_MAGIC, FOD_AGENT_VERSION,
                          static_cast<uint32_t>(payload.size())};
  iovec iov{&header, sizeof header};
  union {
    char buf[CMSG_SPACE(sizeof fds)];
    cmsghdr align;
  } control{};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof fds);
  std::memcpy(CMSG_DATA(c), fds, sizeof fds);
  ssize_t n;
  while ((n = sendmsg(sock, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
  }
  return n == static_cast<ssize_t>(sizeof header) &&
         write_all(sock, payload.data(), payload.size());
}

// One message from the agent, with the fd it carries (or -1). false on EOF or error.
bool receive(int sock, fod_agent_message &message, int *fd) {
  iovec iov{&message, sizeof message};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    cmsghdr align;
  } control{};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  ssize_t n;
  while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL)) < 0 && errno == EINTR) {
  }
  *fd = -1;
  for (cmsghdr *c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int received;
        std::memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof received);
        if (*fd < 0) {
          *fd = received;
        } else {
          close(received);
        }
      }
    }
  }
  return n == static_cast<ssize_t>(sizeof message);
}

void send_signal(int sock, int sig) {
  fod_agent_message m{FOD_AGENT_SIGNAL, sig, 0};
  write_all(sock, reinterpret_cast<const char *>(&m), sizeof m);
}

// The caller's terminal in raw mode while the command has a pty of its own;
// its modes come back on every way out.
class RawTerminal {
public:
  RawTerminal() : m_saved_ok(tcgetattr(STDIN_FILENO, &m_saved) == 0) { enter(); }
  ~RawTerminal() { leave(); }
  RawTerminal(const RawTerminal &) = delete;
  RawTerminal &operator=(const RawTerminal &) = delete;
  void enter() {
    if (m_saved_ok && !m_raw) {
      termios raw = m_saved;
      cfmakeraw(&raw);
      m_raw = tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) == 0;
    }
  }
  void leave() {
    if (m_raw) {
      tcsetattr(STDIN_FILENO, TCSADRAIN, &m_saved);
      m_raw = false;
    }
  }

private:
  termios m_saved{};
  bool m_saved_ok;
  bool m_raw = false;
};

void copy_window_size(int master) {
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) {
    ioctl(master, TIOCSWINSZ, &ws);
  }
}

bool write_fully(int fd, const char *data, size_t size) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Copies what the pty still holds after the command ended (until its last
// writer closed it; at most ~1 s when a background process keeps it open).
void drain(int master) {
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
    write_fully(STDOUT_FILENO, buffer, static_cast<size_t>(n));
  }
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

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) {
      close(fd);
    }
  }
  Fd(const Fd &) = delete;
  Fd &operator=(const Fd &) = delete;
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

std::string agent_socket(const ContainerPaths &paths) {
  return paths.box() + "/" + FOD_AGENT_SOCKET;
}

std::optional<SessionResult> run_via_agent(const ContainerPaths &paths,
                                           const engine::ExecSpec &spec) {
  Fd sock(connect_to(agent_socket(paths)));
  if (sock.fd < 0) {
    return std::nullopt;
  }
  SignalGuard signals;
  if (!send_request(sock.fd, encode(spec))) {
    return std::nullopt;
  }
  fod_agent_message message{};
  int received_fd = -1;
  if (!receive(sock.fd, message, &received_fd) || message.type != FOD_AGENT_STARTED) {
    if (received_fd >= 0) {
      close(received_fd);
    }
    return std::nullopt; // an error, another version, or the agent went away: not started
  }
  signals.command_started = true;
  Fd master(spec.tty ? received_fd : -1);
  if (!spec.tty && received_fd >= 0) {
    close(received_fd);
  }
  SessionResult result;
  result.command_started = true;
  std::optional<RawTerminal> raw;
  if (master.fd >= 0) {
    fcntl(master.fd, F_SETFL, fcntl(master.fd, F_GETFL) | O_NONBLOCK);
    raw.emplace();
    copy_window_size(master.fd);
  }

  int forwarded = 0; // the last signal fod passed on (but stop and continue)
  bool stdin_open = master.fd >= 0;
  std::string to_master;
  char buffer[16384];
  for (;;) {
    pollfd fds[4] = {
        {sock.fd, POLLIN, 0},
        {signals.fd, POLLIN, 0},
        {stdin_open && to_master.size() < 65536 ? STDIN_FILENO : -1, POLLIN, 0},
        {master.fd, static_cast<short>(POLLIN | (to_master.empty() ? 0 : POLLOUT)), 0}};
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
          if (master.fd >= 0) {
            copy_window_size(master.fd);
          }
          continue;
        }
        if (sig != SIGTSTP && sig != SIGCONT) {
          forwarded = sig;
        }
        send_signal(sock.fd, sig);
      }
    }
    if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(STDIN_FILENO, buffer, sizeof buffer);
      if (n > 0) {
        to_master.append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        stdin_open = false;
      }
    }
    if (master.fd >= 0 && (fds[3].revents & POLLOUT) && !to_master.empty()) {
      ssize_t n = write(master.fd, to_master.data(), to_master.size());
      if (n > 0) {
        to_master.erase(0, static_cast<size_t>(n));
      }
    }
    if (master.fd >= 0 && (fds[3].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = read(master.fd, buffer, sizeof buffer);
      if (n > 0) {
        write_fully(STDOUT_FILENO, buffer, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        // Every writer of the pty is gone; the status follows on the socket.
        stdin_open = false;
        to_master.clear();
        close(master.fd);
        master.fd = -1;
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      int fd = -1;
      if (!receive(sock.fd, message, &fd)) {
        if (raw) {
          raw->leave();
        }
        fmt::print(stderr, "fod: error: the container of {} went away while {} ran\n", spec.image,
                   spec.command.empty() ? "the command" : spec.command.front());
        result.status = 125;
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
        }
        raise(SIGSTOP);
        if (raw) {
          raw->enter();
          copy_window_size(master.fd);
        }
        send_signal(sock.fd, SIGCONT);
      }
    }
  }
  if (master.fd >= 0) {
    drain(master.fd);
  }
  return result;
}

} // namespace fod::warm
