/* The agent: one handler per connection, forked before the connection comes (a
 * spare, handed the connection's descriptor), so that a run waits for no fork
 * of the keeper. The handler reads and checks
 * the request, becomes a session leader (so the command's process group is
 * not orphaned and Ctrl-Z can stop it) and the subreaper of everything the run
 * starts, gives the command a pseudo-terminal for the streams fod asks for,
 * forks and execs it, then relays signals from fod to the command's process
 * group and reports its stops, continues and end. When the command has ended,
 * whatever it left behind is killed before the end is reported: nothing of a
 * run outlives it to hold its descriptors or watch the next run. The command
 * is a grandchild of PID 1: it has exactly the container's namespaces, cgroup,
 * capabilities, seccomp filter, no-new-privileges and user. */
#define _GNU_SOURCE
#include "agent.h"

#include "agent_proto.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

#define SOCKET_PATH "/.fod/run/" FOD_AGENT_SOCKET
/* The kernel's default /proc/sys/kernel/overflowuid. */
#define OVERFLOW_UID 65534

extern char **environ;

/* The signals a handler ignores, so the command must have set back to default (exec keeps
 * an ignored signal ignored): those the keeper ignores, found once (agent_listen), and
 * SIGHUP, which a handler ignores as a terminal's controlling process. */
static sigset_t ignored_signals;

static void find_ignored_signals(void) {
  sigemptyset(&ignored_signals);
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction current;
    if (sigaction(sig, NULL, &current) == 0 && current.sa_handler == SIG_IGN) {
      sigaddset(&ignored_signals, sig);
    }
  }
  sigaddset(&ignored_signals, SIGHUP);
}

int agent_listen(void) {
  find_ignored_signals();
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  strcpy(addr.sun_path, SOCKET_PATH);
  unlink(SOCKET_PATH);
  mode_t old = umask(0177);
  int bound = bind(fd, (struct sockaddr *)&addr, sizeof addr);
  umask(old);
  if (bound != 0 || listen(fd, 64) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static void send_message(int sock, uint32_t type, int32_t a, int32_t b, int fd) {
  struct fod_agent_message m = {type, a, b};
  fod_agent_send(sock, &m, sizeof m, &fd, fd >= 0 ? 1 : 0);
}

_Noreturn static void fail(int sock, int error) {
  send_message(sock, FOD_AGENT_ERROR, error, (int32_t)FOD_AGENT_VERSION, -1);
  _exit(0);
}

/* Reads exactly n bytes; -1 on EOF, error or timeout. */
static int read_all(int sock, char *buffer, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(sock, buffer + got, n - got);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r <= 0) {
      return -1;
    }
    got += (size_t)r;
  }
  return 0;
}

/* The container's environment with the request's variables set over it. */
static char **merged_environment(char **over) {
  size_t n = 0, m = 0;
  while (environ != NULL && environ[n] != NULL) {
    ++n;
  }
  while (over[m] != NULL) {
    ++m;
  }
  char **env = calloc(n + m + 1, sizeof *env);
  if (env == NULL) {
    return over;
  }
  size_t k = 0;
  for (size_t i = 0; i < n; ++i) {
    size_t name_len = strcspn(environ[i], "=");
    int replaced = 0;
    for (size_t j = 0; j < m && !replaced; ++j) {
      replaced = strncmp(over[j], environ[i], name_len) == 0 && over[j][name_len] == '=';
    }
    if (!replaced) {
      env[k++] = environ[i];
    }
  }
  for (size_t j = 0; j < m; ++j) {
    env[k++] = over[j];
  }
  env[k] = NULL;
  return env;
}

/* In the command's child, sharing the handler's memory until it execs: from here on
 * only system calls and no allocation (its environment was merged before the clone);
 * a message is formatted on this stack and written at once. */
_Noreturn static void exec_command(const struct fod_agent_request *request, int stdio[3],
                                   int slave) {
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, NULL);
  setpgid(0, 0);
  if (slave >= 0) {
    /* SIGTTOU is blocked: a background group may take the terminal. */
    tcsetpgrp(slave, getpid());
  }
  /* dup2 onto 0..2 in an order that never overwrites a source still needed. */
  int fds[3];
  for (int i = 0; i < 3; ++i) {
    int source = (request->pty_slots & (1u << i)) != 0 ? slave : stdio[i];
    fds[i] = source < 3 ? fcntl(source, F_DUPFD_CLOEXEC, 3) : source;
  }
  for (int i = 0; i < 3; ++i) {
    dup2(fds[i], i);
  }
  /* Signals the handler ignores stay ignored across exec (caught ones are reset by it):
   * they are not the command's. */
  struct sigaction default_action;
  memset(&default_action, 0, sizeof default_action);
  default_action.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sigismember(&ignored_signals, sig) == 1) {
      sigaction(sig, &default_action, NULL);
    }
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  char message[512];
  if (chdir(request->cwd) != 0) {
    snprintf(message, sizeof message, "fod: cannot enter %s in the container of %s: %s\n",
             request->cwd, request->image, strerror(errno));
    (void)!write(STDERR_FILENO, message, strlen(message));
    _exit(125);
  }
  execvp(request->argv[0], request->argv);
  int err = errno;
  if (err == ENOENT || err == ENOTDIR) {
    snprintf(message, sizeof message,
             "fod: %s: not found in image %s (check the mapping's entrypoint)\n", request->argv[0],
             request->image);
    (void)!write(STDERR_FILENO, message, strlen(message));
    _exit(127);
  }
  snprintf(message, sizeof message, "fod: %s: cannot run in image %s: %s\n", request->argv[0],
           request->image, strerror(err));
  (void)!write(STDERR_FILENO, message, strlen(message));
  _exit(126);
}

/* What the command's child is started with. */
struct command_start {
  const struct fod_agent_request *request;
  int *stdio;
  int slave;
};

/* Maps the stack the command's child runs on until it execs, sized for what execvp itself
 * puts there (a path buffer of up to PATH_MAX + NAME_MAX, and for a file the kernel will not
 * run, the argv of /bin/sh: one pointer per argument), over a page that faults, so an
 * overflow can never write the handler's memory. Returns its top, or NULL. */
static char *map_command_stack(const struct fod_agent_request *request, char **base,
                               size_t *length) {
  size_t argc = 0;
  while (request->argv[argc] != NULL) {
    ++argc;
  }
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t needed = (argc + 3) * sizeof(char *) + PATH_MAX + NAME_MAX + (size_t)64 * 1024;
  needed = (needed + page - 1) / page * page;
  *length = needed + page;
  void *mapped =
      mmap(NULL, *length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (mapped == MAP_FAILED) {
    return NULL;
  }
  *base = mapped;
  if (mprotect(mapped, page, PROT_NONE) != 0) {
    munmap(mapped, *length);
    return NULL;
  }
  return *base + *length;
}

static int start_command(void *arg) {
  const struct command_start *start = arg;
  exec_command(start->request, start->stdio, start->slave);
}

/* Opens a pseudo-terminal pair with the caller's terminal modes; returns the master. */
static int open_pty(const struct fod_agent_request *request, int *slave_out) {
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 || unlockpt(master) != 0) {
    return -1;
  }
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) {
    const char *name = ptsname(master);
    slave = name != NULL ? open(name, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
  }
  if (slave < 0) {
    close(master);
    return -1;
  }
  struct termios modes;
  if (request->have_modes && tcgetattr(slave, &modes) == 0) {
    modes.c_iflag = request->modes.iflag;
    modes.c_oflag = request->modes.oflag;
    modes.c_cflag = request->modes.cflag;
    modes.c_lflag = request->modes.lflag;
    for (int i = 0; i < NCCS && i < FOD_AGENT_NCCS; ++i) {
      modes.c_cc[i] = request->modes.cc[i];
    }
    tcsetattr(slave, TCSANOW, &modes);
  }
  if (request->rows > 0 && request->cols > 0) {
    struct winsize ws;
    memset(&ws, 0, sizeof ws);
    ws.ws_row = request->rows;
    ws.ws_col = request->cols;
    ioctl(slave, TIOCSWINSZ, &ws);
  }
  if (ioctl(slave, TIOCSCTTY, 0) != 0) {
    close(slave);
    close(master);
    return -1;
  }
  *slave_out = slave;
  return master;
}

/* Up to max pids of this process's children; -1 when they cannot be listed. */
/* The ppid field of /proc/PID/stat, given what follows the ")" that ends comm:
 * " STATE PPID ...". -1 when it is not there. */
static long parent_in_stat(const char *after_comm) {
  const char *p = after_comm;
  while (*p == ' ') {
    ++p;
  }
  if (*p == '\0' || p[1] != ' ') {
    return -1;
  }
  p += 2; /* the state letter and its space */
  char *end;
  long ppid = strtol(p, &end, 10);
  return end != p ? ppid : -1;
}

static int list_children(pid_t *pids, int max) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%ld/children", (long)getpid());
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char text[4096];
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n >= 0) {
      text[n] = '\0';
      int count = 0;
      for (char *p = text; *p != '\0' && count < max;) {
        char *end;
        long pid = strtol(p, &end, 10);
        if (end == p) {
          break;
        }
        pids[count++] = (pid_t)pid;
        p = end;
      }
      return count;
    }
  }
  /* A kernel without /proc/PID/task/TID/children: look at every process's parent. */
  DIR *proc = opendir("/proc");
  if (proc == NULL) {
    return -1;
  }
  int count = 0;
  struct dirent *e;
  while ((e = readdir(proc)) != NULL && count < max) {
    char *end;
    long pid = strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 1) {
      continue;
    }
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    int sfd = open(path, O_RDONLY | O_CLOEXEC);
    if (sfd < 0) {
      continue;
    }
    char stat[512];
    ssize_t n = read(sfd, stat, sizeof stat - 1);
    close(sfd);
    if (n <= 0) {
      continue;
    }
    stat[n] = '\0';
    /* pid (comm) state ppid ...: comm may hold anything, so read after its last ')'. */
    char *close_paren = strrchr(stat, ')');
    if (close_paren != NULL && parent_in_stat(close_paren + 1) == (long)getpid()) {
      pids[count++] = (pid_t)pid;
    }
  }
  closedir(proc);
  return count;
}

/* Kills what the run left behind: the command's process group, then every child
 * this subreaper has or is given as their parents die, until none is left (or
 * about a second has passed, for a process the kernel holds). */
static void end_leftovers(pid_t group) {
  kill(-group, SIGKILL);
  for (int round = 0; round < 200; ++round) {
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    pid_t pids[256];
    int n = list_children(pids, 256);
    if (n <= 0) {
      return;
    }
    for (int i = 0; i < n; ++i) {
      kill(pids[i], SIGKILL);
    }
    struct timespec pause = {0, 5L * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
}

/* Reports the command's state changes until it has ended. */
static void supervise(int sock, pid_t pid, int sigfd) {
  int peer_open = 1;
  for (;;) {
    struct pollfd fds[2] = {{sigfd, POLLIN, 0}, {peer_open ? sock : -1, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      _exit(1);
    }
    if (fds[1].revents != 0) {
      struct fod_agent_message m;
      ssize_t n = recv(sock, &m, sizeof m, MSG_WAITALL);
      if (n == (ssize_t)sizeof m && m.type == FOD_AGENT_SIGNAL && m.a > 0 && m.a < NSIG) {
        if (kill(-pid, m.a) != 0) {
          kill(pid, m.a);
        }
      } else if (n != (ssize_t)sizeof m) {
        /* fod is gone: the command lost its caller, as on a terminal's hangup. */
        peer_open = 0;
        kill(-pid, SIGHUP);
        kill(-pid, SIGCONT);
      }
    }
    if (fds[0].revents != 0) {
      struct signalfd_siginfo info;
      while (read(sigfd, &info, sizeof info) > 0) {
      }
      int status;
      pid_t done;
      while ((done = waitpid(pid, &status, WNOHANG | WUNTRACED | WCONTINUED)) == pid) {
        if (WIFEXITED(status)) {
          end_leftovers(pid);
          send_message(sock, FOD_AGENT_EXITED, WEXITSTATUS(status), 0, -1);
          _exit(0);
        }
        if (WIFSIGNALED(status)) {
          end_leftovers(pid);
          send_message(sock, FOD_AGENT_SIGNALED, WTERMSIG(status), 0, -1);
          _exit(0);
        }
        if (WIFSTOPPED(status)) {
          send_message(sock, FOD_AGENT_STOPPED, WSTOPSIG(status), 0, -1);
        } else if (WIFCONTINUED(status)) {
          send_message(sock, FOD_AGENT_CONTINUED, 0, 0, -1);
        }
      }
      if (done < 0 && errno == ECHILD) {
        end_leftovers(pid);
        _exit(0);
      }
      /* Orphans given to this subreaper: reaped as they end (zombies count
       * against the pids limit), never the command itself, whose status waits
       * for the loop above. */
      for (;;) {
        siginfo_t info2;
        memset(&info2, 0, sizeof info2);
        if (waitid(P_ALL, 0, &info2, WEXITED | WNOHANG | WNOWAIT) != 0 || info2.si_pid == 0 ||
            info2.si_pid == pid) {
          break;
        }
        waitpid(info2.si_pid, NULL, WNOHANG);
      }
    }
  }
}

/* What a handler sets up before its request comes: its signals. Returns the signalfd that
 * reports SIGCHLD. */
static int prepare_handler(void) {
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN); /* as a terminal's controlling process */
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGCHLD, SIG_DFL);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  return signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
}

static void handle(int sock, int sigfd) {
  struct timeval timeout = {10, 0};
  setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);

  struct fod_agent_header header;
  int stdio[3] = {-1, -1, -1};
  int nfds = 0;
  int received = fod_agent_receive(sock, &header, sizeof header, stdio, 3, &nfds);
  if (received != 0 || header.magic != FOD_AGENT_MAGIC) {
    fail(sock, FOD_AGENT_E_MALFORMED);
  }
  if (header.version != FOD_AGENT_VERSION) {
    fail(sock, FOD_AGENT_E_VERSION);
  }
  if (header.length > FOD_AGENT_MAX_PAYLOAD || nfds != 3) {
    fail(sock, FOD_AGENT_E_MALFORMED);
  }
  /* The request points into the payload until the command is exec'd: it lives as long as
   * this handler. In the zero-filled data segment, only the pages a request fills are used. */
  static char payload[FOD_AGENT_MAX_PAYLOAD + 1];
  if (read_all(sock, payload, header.length) != 0) {
    fail(sock, FOD_AGENT_E_MALFORMED);
  }
  struct fod_agent_request request;
  const char *why = NULL;
  if (fod_agent_parse(payload, header.length, &request, &why) != 0) {
    fail(sock, FOD_AGENT_E_MALFORMED);
  }
  timeout.tv_sec = 0;
  setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);

  setsid();
  /* Orphans of the run become this handler's children, not PID 1's: it ends them. */
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  int master = -1, slave = -1;
  if (request.pty_slots != 0) {
    master = open_pty(&request, &slave);
    if (master < 0) {
      fail(sock, FOD_AGENT_E_SETUP);
    }
  }
  /* The handler execs nothing itself: the command's environment can be its own. */
  environ = merged_environment(request.env);
  /* As posix_spawn does: the child shares the handler's memory (nothing is copied for a
   * process that only execs, so the command starts sooner) and runs on a stack of its own
   * (map_command_stack) while the handler waits for its exec. */
  struct command_start start = {&request, stdio, slave};
  char *stack_base = NULL;
  size_t stack_length = 0;
  char *stack_top = map_command_stack(&request, &stack_base, &stack_length);
  if (stack_top == NULL) {
    fail(sock, FOD_AGENT_E_SETUP);
  }
  pid_t pid = clone(start_command, stack_top, CLONE_VM | CLONE_VFORK | SIGCHLD, &start);
  /* The child has exec'd or ended: its stack is no longer used. */
  munmap(stack_base, stack_length);
  if (pid < 0) {
    fail(sock, FOD_AGENT_E_SETUP);
  }
  setpgid(pid, pid); /* also here, so signals find the group at once */
  for (int i = 0; i < 3; ++i) {
    close(stdio[i]);
  }
  if (slave >= 0) {
    close(slave);
  }
  send_message(sock, FOD_AGENT_STARTED, (int32_t)pid, 0, master);
  if (master >= 0) {
    close(master);
  }
  supervise(sock, pid, sigfd);
}

/* The handlers this agent forked and that may still run. */
static pid_t handlers[1024];
static int handler_count;

/* Drops from handlers[] the handlers that have ended. */
static void prune_handlers(void) {
  int live = 0;
  for (int i = 0; i < handler_count; ++i) {
    if (kill(handlers[i], 0) == 0) {
      handlers[live++] = handlers[i];
    }
  }
  handler_count = live;
}

/* Processes left behind by runs of the engine's exec (the fast path's handlers
 * end their own) become children of PID 1 when their parents end: before each
 * run, every child of the keeper that is not a handler is ended. */
static void end_orphans(void) {
  prune_handlers();
  pid_t pids[256];
  int n = list_children(pids, 256);
  for (int i = 0; i < n; ++i) {
    int is_handler = 0;
    for (int j = 0; j < handler_count && !is_handler; ++j) {
      is_handler = handlers[j] == pids[i];
    }
    if (!is_handler) {
      kill(pids[i], SIGKILL);
    }
  }
}

/* The keeper's end of the socket pair the spare handler waits on for the next
 * connection's descriptor; -1 when there is no spare. */
static int spare_channel = -1;
/* When the last connection was handed over. The next spare is forked when the handlers
 * have ended or after SPARE_DELAY_MS, not at once: on a machine of few cores the fork
 * would take the CPU from the run that was just handed over. */
static struct timespec last_handoff;
#define SPARE_DELAY_MS 20

static void remember_handler(pid_t pid) {
  if (pid > 0 && handler_count < (int)(sizeof handlers / sizeof handlers[0])) {
    handlers[handler_count++] = pid;
  }
}

/* In the spare: waits for a connection's descriptor from the keeper and serves it. A
 * closed channel (the keeper gone) ends the spare. */
_Noreturn static void serve_as_spare(int channel, int listen_fd) {
  close(listen_fd);
  int sigfd = prepare_handler();
  char byte;
  int sock = -1, nfds = 0;
  if (fod_agent_receive(channel, &byte, 1, &sock, 1, &nfds) != 0 || nfds != 1) {
    _exit(0);
  }
  close(channel);
  handle(sock, sigfd);
  _exit(0);
}

void agent_prepare_spare(int listen_fd) {
  if (spare_channel >= 0) {
    return;
  }
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    return;
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(pair[0]);
    serve_as_spare(pair[1], listen_fd);
  }
  close(pair[1]);
  if (pid < 0) {
    close(pair[0]);
    return;
  }
  remember_handler(pid);
  spare_channel = pair[0];
}

/* Gives sock to the spare; 0 when it took it. */
static int hand_to_spare(int sock) {
  if (spare_channel < 0) {
    return -1;
  }
  const char byte = 'c';
  int sent = fod_agent_send(spare_channel, &byte, 1, &sock, 1);
  close(spare_channel);
  spare_channel = -1;
  return sent;
}

void agent_accept(int listen_fd) {
  int sock = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
  if (sock < 0) {
    return;
  }
  struct ucred cred;
  socklen_t len = sizeof cred;
  /* The overflow uid is what any peer outside our user namespace's map looks
     like: never take it for our own, even if the keeper runs as it. */
  if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != geteuid() ||
      cred.uid == OVERFLOW_UID) {
    send_message(sock, FOD_AGENT_ERROR, FOD_AGENT_E_REFUSED, (int32_t)FOD_AGENT_VERSION, -1);
    close(sock);
    return;
  }
  end_orphans();
  if (hand_to_spare(sock) != 0) {
    /* No spare (it could not be forked, or it died): a handler forked now. */
    pid_t pid = fork();
    if (pid == 0) {
      close(listen_fd);
      handle(sock, prepare_handler());
      _exit(0);
    }
    remember_handler(pid);
  }
  close(sock);
  clock_gettime(CLOCK_MONOTONIC, &last_handoff);
}

int agent_spare_wait(void) {
  if (spare_channel >= 0) {
    return -1;
  }
  prune_handlers();
  if (handler_count == 0) {
    return 0;
  }
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  long waited = (long)(now.tv_sec - last_handoff.tv_sec) * 1000L +
                (now.tv_nsec - last_handoff.tv_nsec) / (1000L * 1000L);
  return waited >= SPARE_DELAY_MS ? 0 : (int)(SPARE_DELAY_MS - waited);
}
