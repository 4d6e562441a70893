#include "cli/zygote.hpp"

#include "agent_proto.h"
#include "base/dirs.hpp"
#include "cli/fast.hpp"
#include "containers/reaper.hpp"
#include "run/runner.hpp"
#include "util/fs.hpp"
#include "zygote_proto.h"

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <map>
#include <poll.h>
#include <string>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace fod::cli {

namespace {

constexpr int idle_seconds = 120;
constexpr int check_every_ms = 10'000;

struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator==(const FileId &other) const { return dev == other.dev && ino == other.ino; }
  bool operator!=(const FileId &other) const { return !(*this == other); }
};

FileId id_of(const struct stat &st) {
  return {st.st_dev, st.st_ino};
}

std::optional<FileId> id_of_path(const std::string &path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    return std::nullopt;
  }
  return id_of(st);
}

// What a process may do, as /proc/PID/status and /proc/PID/ns say it: a caller is served
// only when all of it is the zygote's own, so that no call gains what its caller lacks.
std::string privileges_of(pid_t pid) {
  const std::string proc = "/proc/" + std::to_string(pid);
  std::string view;
  auto status = util::read_file(proc + "/status");
  if (!status) {
    return {};
  }
  static constexpr std::array<const char *, 11> fields = {
      "Uid:",    "Gid:",    "Groups:",     "CapInh:",  "CapPrm:",         "CapEff:",
      "CapBnd:", "CapAmb:", "NoNewPrivs:", "Seccomp:", "Seccomp_filters:"};
  size_t start = 0;
  while (start < status->size()) {
    size_t end = status->find('\n', start);
    end = end == std::string::npos ? status->size() : end;
    std::string_view line(status->data() + start, end - start);
    for (const char *field : fields) {
      if (line.substr(0, std::strlen(field)) == field) {
        view.append(line).push_back('\n');
      }
    }
    start = end + 1;
  }
  // The security module's label (AppArmor, SELinux): a confined caller is not served by an
  // unconfined zygote. Unreadable without such a module, for the zygote as for the caller.
  view += "LSM:" + util::read_file(proc + "/attr/current").value_or("") + "\n";
  // Its root directory: a chrooted caller sees another tree under the same paths.
  auto root = id_of_path(proc + "/root");
  if (!root) {
    return {};
  }
  view += "root:" + std::to_string(root->dev) + ":" + std::to_string(root->ino) + "\n";
  for (const char *ns : {"mnt", "user", "pid", "net", "ipc", "uts"}) {
    auto id = id_of_path(proc + "/ns/" + ns);
    if (!id) {
      return {};
    }
    view += std::string(ns) + ":" + std::to_string(id->ino) + "\n";
  }
  return view;
}

struct Zygote {
  FileId program; // the fod-run this zygote runs
  std::string program_path;
  std::string privileges; // privileges_of(getpid())
};

int connection = -1; // the child's, for decline()

void send_message(int sock, uint32_t type, int a, int fd = -1) {
  fod_agent_message message{type, a, 0};
  fod_agent_send(sock, &message, sizeof message, fd >= 0 ? &fd : nullptr, fd >= 0 ? 1 : 0);
}

[[noreturn]] void decline(const char * /*why*/) {
  // Nothing was done for the call: what stdio holds is dropped, not written twice.
  send_message(connection, FOD_ZYGOTE_DECLINED, 0);
  _exit(0);
}

[[noreturn]] void refuse(int sock) {
  send_message(sock, FOD_ZYGOTE_REFUSED, 0);
  _exit(0);
}

// The child's whole life: takes the call and runs it as the caller's own fod-run would.
[[noreturn]] void serve_call(int sock, const Zygote &zygote) {
  connection = sock;
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  ucred peer{};
  socklen_t size = sizeof peer;
  if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0 ||
      privileges_of(peer.pid) != zygote.privileges || zygote.privileges.empty()) {
    refuse(sock);
  }
  // Only now the caller learns which process serves it (and may signal it).
  int self = static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0));
  send_message(sock, FOD_ZYGOTE_STARTED, getpid(), self);
  if (self >= 0) {
    close(self);
  }
  timeval patience{2, 0};
  setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
  fod_zygote_hello hello{};
  std::array<int, 3> streams{-1, -1, -1};
  int received = 0;
  if (fod_agent_receive(sock, &hello, sizeof hello, streams.data(), 3, &received) != 0 ||
      received != 3 || hello.magic != FOD_ZYGOTE_MAGIC || hello.version != FOD_ZYGOTE_VERSION ||
      hello.length > FOD_AGENT_MAX_PAYLOAD ||
      FileId{static_cast<dev_t>(hello.program_dev), static_cast<ino_t>(hello.program_ino)} !=
          zygote.program) {
    refuse(sock);
  }
  std::string payload(hello.length, '\0');
  int cwd = -1;
  fod_agent_request request{};
  const char *why = nullptr;
  if (fod_agent_receive(sock, payload.data(), payload.size(), &cwd, 1, &received) != 0 ||
      received != 1 || fod_agent_parse(payload.data(), payload.size(), &request, &why) != 0) {
    refuse(sock);
  }
  for (int fd = 0; fd <= 2; ++fd) {
    dup2(streams[static_cast<size_t>(fd)], fd);
  }
  for (int fd : streams) {
    close(fd);
  }
  if (fchdir(cwd) != 0) {
    refuse(sock);
  }
  close(cwd);
  umask(static_cast<mode_t>(hello.umask & 0777));
  clearenv();
  for (char **variable = request.env; *variable != nullptr; ++variable) {
    putenv(*variable);
  }
  unsetenv(FOD_ZYGOTE_START_VARIABLE); // a zygote is started by fod-run, never from here
  // The caller's dispositions, not those of whoever started the zygote: ignored or default.
  sigset_t blocked;
  sigemptyset(&blocked);
  for (int sig = 1; sig <= 64; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) {
      signal(sig, (hello.ignored >> (sig - 1) & 1) != 0 ? SIG_IGN : SIG_DFL);
    }
    if ((hello.blocked >> (sig - 1) & 1) != 0) {
      sigaddset(&blocked, sig);
    }
  }
  // Ctrl-Z, relayed by fod: the child's process group is the zygote's, orphaned, where the
  // kernel drops a stop by SIGTSTP's default action; so it stops itself, and the zygote
  // tells fod, which stops too (outside the agent's relay, which passes it to the command).
  if ((hello.ignored >> (SIGTSTP - 1) & 1) == 0) {
    signal(SIGTSTP, [](int) { raise(SIGSTOP); });
  }
  sigprocmask(SIG_SETMASK, &blocked, nullptr);
  run::serve_warm_only(decline);
  int argc = 0;
  while (request.argv[argc] != nullptr) {
    ++argc;
  }
  int status = fast_main(argc, request.argv);
  std::fflush(nullptr);
  _exit(status);
}

// The calls the spares took: each sends its pid with a copy of its connection before it
// serves, so the zygote can report the call's end. Reads all that are there.
void take_handoffs(int handoff, std::map<pid_t, int> &callers, pid_t &spare) {
  for (;;) {
    pid_t served = 0;
    int sock = -1;
    int received = 0;
    if (fod_agent_receive(handoff, &served, sizeof served, &sock, 1, &received) != 0) {
      if (received == 1) {
        close(sock);
      }
      return;
    }
    if (received == 1) {
      callers[served] = sock;
    }
    if (served == spare) {
      spare = -1;
    }
  }
}

// Tells each caller how its child ended, or that it stopped. A child that ended before its
// handoff was read sent it before it ended: it is read first.
void report_children(int handoff, std::map<pid_t, int> &callers, pid_t &spare) {
  int status = 0;
  pid_t pid = 0;
  while ((pid = waitpid(-1, &status, WNOHANG | WUNTRACED)) > 0) {
    if (callers.count(pid) == 0) {
      take_handoffs(handoff, callers, spare);
    }
    if (pid == spare) {
      spare = -1; // it failed before it had a call
    }
    auto caller = callers.find(pid);
    if (caller == callers.end()) {
      continue;
    }
    if (WIFSTOPPED(status)) {
      send_message(caller->second, FOD_ZYGOTE_STOPPED, WSTOPSIG(status));
      continue;
    }
    if (WIFSIGNALED(status)) {
      send_message(caller->second, FOD_ZYGOTE_SIGNALED, WTERMSIG(status));
    } else {
      send_message(caller->second, FOD_ZYGOTE_EXITED, WEXITSTATUS(status));
    }
    close(caller->second);
    callers.erase(caller);
  }
}

// A caller gone before its call ended (fod killed with SIGKILL) ends the call as fod-run's
// own death would: the child dies, and the agent ends the command when its connection goes.
void end_calls_of_gone_callers(const std::vector<pollfd> &fds,
                               const std::map<pid_t, int> &callers) {
  for (size_t i = 2; i < fds.size(); ++i) {
    if ((fds[i].revents & (POLLRDHUP | POLLHUP | POLLERR)) == 0) {
      continue;
    }
    for (const auto &[pid, caller] : callers) {
      if (caller == fds[i].fd) {
        kill(pid, SIGKILL);
      }
    }
  }
}

} // namespace

int serve_zygote() {
  const std::string runtime = dirs::runtime();
  Zygote zygote;
  zygote.program_path = util::executable_path();
  struct stat self {};
  if (stat("/proc/self/exe", &self) != 0) {
    return 1;
  }
  zygote.program = id_of(self);
  zygote.privileges = privileges_of(getpid());
  std::array<char, 64> name{};
  std::snprintf(name.data(), name.size(), FOD_ZYGOTE_SOCKET_FORMAT,
                static_cast<unsigned long long>(self.st_dev),
                static_cast<unsigned long long>(self.st_ino));
  const std::string socket_name = name.data();
  const std::string lock_path = util::join(runtime, socket_name + ".lock");
  int lock = open(lock_path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) != 0) {
    return 0; // another zygote serves this runtime directory
  }
  struct stat lock_stat {};
  fstat(lock, &lock_stat);
  const std::string socket_path = util::join(runtime, socket_name);
  // Bound through /proc/self/fd, as fod connects: a runtime directory of any length fits.
  int runtime_dir = open(runtime.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  const std::string short_path = "/proc/self/fd/" + std::to_string(runtime_dir) + "/" + socket_name;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (runtime_dir < 0 || short_path.size() >= sizeof address.sun_path) {
    return 1;
  }
  std::memcpy(address.sun_path, short_path.c_str(), short_path.size() + 1);
  unlink(socket_path.c_str());
  int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  mode_t old_mask = umask(077);
  bool bound = listener >= 0 &&
               bind(listener, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0 &&
               listen(listener, 64) == 0;
  umask(old_mask);
  if (!bound) {
    return 1;
  }
  // Nothing of the process that started it stays: each call brings its own.
  clearenv();
  if (chdir("/") != 0) {
    return 1;
  }
  // SIGCHLD, and the signals that end it, which it ends on as when idle (its socket removed).
  sigset_t handled;
  sigemptyset(&handled);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) {
    sigaddset(&handled, sig);
  }
  sigprocmask(SIG_BLOCK, &handled, nullptr);
  int children = signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK);
  // The spare: a child forked before the call comes, waiting in accept(), so that a call
  // waits for no fork. Once it has a call, it hands the zygote a copy of the connection
  // (for the status) through `handoff`, and the zygote forks the next spare.
  std::array<int, 2> handoff{-1, -1};
  if (children < 0 || socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, handoff.data()) != 0) {
    return 1;
  }
  std::map<pid_t, int> callers;
  auto fork_spare = [&]() -> pid_t {
    pid_t pid = fork();
    if (pid == 0) {
      // Nothing of the zygote's, or of another call, stays open in the child.
      close(children);
      close(lock);
      close(runtime_dir);
      close(handoff[0]);
      for (const auto &[other_pid, other] : callers) {
        close(other);
      }
      int sock = -1;
      while ((sock = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC)) < 0 && errno == EINTR) {
      }
      pid_t self = getpid();
      if (sock < 0 || fod_agent_send(handoff[1], &self, sizeof self, &sock, 1) != 0) {
        _exit(1);
      }
      close(handoff[1]);
      close(listener);
      if (id_of_path(zygote.program_path) != zygote.program) {
        refuse(sock); // an upgrade: the zygote goes when it hears of this call
      }
      serve_call(sock, zygote);
    }
    return pid;
  };
  fcntl(handoff[0], F_SETFL, O_NONBLOCK);
  pid_t spare = fork_spare();
  time_t last_call = time(nullptr);
  bool closing = false;
  std::vector<pollfd> fds;
  while (!closing || spare > 0 || !callers.empty()) {
    fds.assign({{handoff[0], POLLIN, 0}, {children, POLLIN, 0}});
    for (const auto &[pid, caller] : callers) {
      fds.push_back({caller, POLLRDHUP, 0});
    }
    int ready = poll(fds.data(), fds.size(), check_every_ms);
    if (ready < 0 && errno != EINTR) {
      break;
    }
    size_t before = callers.size();
    take_handoffs(handoff[0], callers, spare);
    last_call = callers.size() > before ? time(nullptr) : last_call;
    bool ended = false;
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo info{};
      while (read(children, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        ended = ended || info.ssi_signo != SIGCHLD;
      }
      report_children(handoff[0], callers, spare);
    }
    end_calls_of_gone_callers(fds, callers);
    // An upgrade replaced the program, or the runtime directory went: a new zygote
    // (of the new program) takes over when the next call finds none.
    bool stale = id_of_path(zygote.program_path) != zygote.program ||
                 id_of_path(lock_path) != id_of(lock_stat);
    bool idle = ready == 0 && callers.empty() && time(nullptr) - last_call >= idle_seconds;
    if (!closing && (stale || idle || ended)) {
      // No call is cut off: the socket goes from the path, a call already queued is
      // refused (reset), the spare's accept() fails, and the calls taken run to their end.
      closing = true;
      if (id_of_path(lock_path) == id_of(lock_stat)) {
        unlink(socket_path.c_str());
        unlink(lock_path.c_str());
      }
      shutdown(listener, SHUT_RDWR);
    }
    if (spare < 0 && !closing) {
      spare = fork_spare();
    }
  }
  close(listener);
  close(handoff[0]);
  close(handoff[1]);
  return 0;
}

void start_zygote_when_asked() {
  if (getenv(FOD_ZYGOTE_START_VARIABLE) == nullptr) {
    return;
  }
  unsetenv(FOD_ZYGOTE_START_VARIABLE);
  containers::spawn_detached({"_zygote"});
}

} // namespace fod::cli
