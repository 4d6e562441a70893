/* fod, the program on the user's path and the target of every shim, when musl-gcc
 * builds it: a static C program without glibc's start-up (about 0.7 ms per process
 * in a VM, mostly cpuid probing), which a warm call would otherwise pay on top of the
 * tool's own start. It serves `--version`, hands a run whose streams the agent can
 * take (no terminal) to the user's zygote (zygote_proto.h), and runs fod-run, argv
 * unchanged, for everything else: a terminal, no zygote, or a call the zygote
 * declines or refuses. It decides nothing about the run itself. */
#define _GNU_SOURCE
#include "agent_proto.h"
#include "zygote_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef FOD_VERSION
#error "FOD_VERSION must be defined"
#endif

enum { status_failed = 125 };

extern char **environ;

static char self[PATH_MAX];
static char fod_run[PATH_MAX];

/* fod-run beside fod's helpers, found as dirs::program finds them: in
 * ../libexec/fod of an installed fod, else beside it (a build directory). */
static int find_fod_run(void) {
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    return -1;
  }
  self[n] = '\0';
  char dir[PATH_MAX];
  memcpy(dir, self, (size_t)n + 1);
  char *slash = strrchr(dir, '/');
  if (slash == NULL) {
    return -1;
  }
  *slash = '\0';
  const char *parent_end = strrchr(dir, '/');
  int length = parent_end == NULL ? -1
                                  : snprintf(fod_run, sizeof fod_run, "%.*s/libexec/fod/fod-run",
                                             (int)(parent_end - dir), dir);
  if (length > 0 && (size_t)length < sizeof fod_run && access(fod_run, X_OK) == 0) {
    return 0;
  }
  char beside[PATH_MAX];
  length = snprintf(beside, sizeof beside, "%s/fod-run", dir);
  if (length > 0 && (size_t)length < sizeof beside && access(beside, X_OK) == 0) {
    memcpy(fod_run, beside, (size_t)length + 1);
  }
  return 0; /* fod_run names the installed place when neither is there: the error says it */
}

static sigset_t forwarded;
static sigset_t caller_mask;

/* Runs fod-run with argv as given; fod's own signal mask restored first. */
static void run_fod_run(char **argv) {
  sigprocmask(SIG_SETMASK, &caller_mask, NULL);
  execv(fod_run, argv);
  fprintf(stderr, "fod: error: cannot run %s: %s; reinstall fod\n", fod_run, strerror(errno));
  exit(status_failed);
}

/* fod-run's rule for streams the agent takes as they are (run/agent_client.cpp,
 * stdio_unfit_for_agent): regular files, pipes and memory devices such as /dev/null.
 * A terminal (relayed through a pseudo-terminal), a socket, a directory or another
 * device go to fod-run itself, which knows what to do with each. */
static int streams_fit(void) {
  for (int fd = 0; fd <= 2; fd++) {
    struct stat st;
    if (fstat(fd, &st) != 0) {
      return 0;
    }
    if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) &&
        !(S_ISCHR(st.st_mode) && major(st.st_rdev) == 1)) {
      return 0;
    }
  }
  return 1;
}

/* The zygote's socket, connected, when the runtime directory is fod's own as fod-run
 * makes it ($XDG_RUNTIME_DIR/fod: the user's, mode 0700, not a link) and the process
 * listening is the user's and runs this fod-run (so the zygote's own checks of fod
 * apply, whoever made the socket). -1 with errno ENOENT or ECONNREFUSED when nothing
 * listens there, another errno when it must not be used. */
static int connect_zygote(const struct stat *program) {
  const char *runtime = getenv("XDG_RUNTIME_DIR");
  if (runtime == NULL || runtime[0] != '/') {
    errno = EPERM;
    return -1;
  }
  int base = open(runtime, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int dir = base < 0 ? -1 : openat(base, "fod", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  int sock = -1;
  if (dir >= 0 && fstat(dir, &st) == 0 && st.st_uid == geteuid() && (st.st_mode & 077) == 0) {
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    int length = snprintf(address.sun_path, sizeof address.sun_path, "/proc/self/fd/%d/", dir);
    snprintf(address.sun_path + length, sizeof address.sun_path - (size_t)length,
             FOD_ZYGOTE_SOCKET_FORMAT, (unsigned long long)program->st_dev,
             (unsigned long long)program->st_ino);
    sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock >= 0 && connect(sock, (struct sockaddr *)&address, sizeof address) != 0) {
      int saved = errno;
      close(sock);
      sock = -1;
      errno = saved;
    }
  } else if (dir >= 0 || errno != ENOENT) {
    errno = EPERM; /* not fod's own directory; a missing one is made by fod-run */
  }
  int saved = errno;
  if (dir >= 0) {
    close(dir);
  }
  if (base >= 0) {
    close(base);
  }
  errno = saved;
  if (sock >= 0) {
    struct ucred peer;
    socklen_t size = sizeof peer;
    char exe[64];
    struct stat listener;
    if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0 || peer.uid != geteuid() ||
        snprintf(exe, sizeof exe, "/proc/%d/exe", (int)peer.pid) <= 0 ||
        stat(exe, &listener) != 0 || listener.st_dev != program->st_dev ||
        listener.st_ino != program->st_ino) {
      close(sock);
      errno = EPERM;
      return -1;
    }
  }
  return sock;
}

/* Appends an item (tag, text, NUL) to the payload; -1 when it would pass the agent's limits. */
struct payload {
  char *data;
  size_t length, capacity, items;
};

static int add_item(struct payload *p, char tag, const char *text) {
  size_t size = strlen(text) + 1;
  if (p->items + 1 > FOD_AGENT_MAX_ITEMS || p->length + 1 + size > FOD_AGENT_MAX_PAYLOAD) {
    return -1;
  }
  if (p->length + 1 + size > p->capacity) {
    size_t capacity = p->capacity * 2 + 1 + size;
    char *grown = realloc(p->data, capacity);
    if (grown == NULL) {
      return -1;
    }
    p->data = grown;
    p->capacity = capacity;
  }
  p->data[p->length] = tag;
  memcpy(p->data + p->length + 1, text, size);
  p->length += 1 + size;
  p->items += 1;
  return 0;
}

static int encode(struct payload *p, char **argv) {
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof cwd) == NULL || add_item(p, 'D', cwd) != 0) {
    return -1;
  }
  for (char **a = argv; *a != NULL; a++) {
    if (add_item(p, 'A', *a) != 0) {
      return -1;
    }
  }
  for (char **e = environ; *e != NULL; e++) {
    if (add_item(p, 'E', *e) != 0) {
      return -1;
    }
  }
  return 0;
}

static uint64_t ignored_signals(void) {
  uint64_t ignored = 0;
  for (int sig = 1; sig <= 64; sig++) {
    struct sigaction action;
    if (sigaction(sig, NULL, &action) == 0 && action.sa_handler == SIG_IGN) {
      ignored |= (uint64_t)1 << (sig - 1);
    }
  }
  return ignored;
}

static uint64_t signal_bits(const sigset_t *set) {
  uint64_t bits = 0;
  for (int sig = 1; sig <= 64; sig++) {
    if (sigismember(set, sig) == 1) {
      bits |= (uint64_t)1 << (sig - 1);
    }
  }
  return bits;
}

/* Ends fod as the served process ended: by its signal (no core file), as fod-run does. */
static void die_of_signal(int sig) {
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  signal(sig, SIG_DFL);
  sigset_t just;
  sigemptyset(&just);
  sigaddset(&just, sig);
  sigprocmask(SIG_UNBLOCK, &just, NULL);
  raise(sig);
  _exit(128 + sig);
}

static void send_signal(int pidfd, pid_t pid, int sig) {
  if (pidfd >= 0) {
    syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
  } else {
    kill(pid, sig); /* no pidfd (an older kernel): the zygote has not reaped it yet */
  }
}

/* Waits (at most 2 s: a zygote stopped or frozen must not hang the call) for the zygote's
 * STARTED, sent once it has checked fod: only then does it get the call. */
static int wait_started(int sock, int *pidfd, pid_t *pid) {
  struct pollfd ready = {sock, POLLIN, 0};
  struct fod_agent_message message;
  int fd = -1, nfds = 0;
  if (poll(&ready, 1, 2000) != 1 ||
      fod_agent_receive(sock, &message, sizeof message, &fd, 1, &nfds) != 0 ||
      message.type != FOD_ZYGOTE_STARTED || message.a <= 0) {
    if (nfds == 1) {
      close(fd);
    }
    return -1;
  }
  *pidfd = nfds == 1 ? fd : -1;
  *pid = (pid_t)message.a;
  return 0;
}

/* Sends the call and relays until it ends. Returns only when fod-run must serve the call
 * itself (nothing was run for it). */
static int served_by_zygote(int sock, const struct stat *program, char **argv) {
  /* What the caller's job gets (Ctrl-C, Ctrl-Z, a kill) goes to the serving process,
   * which handles it as fod-run does; signals the caller ignores stay ignored, but for
   * SIGCONT, which continues a stopped call whatever its disposition. */
  uint64_t ignored = ignored_signals();
  sigset_t relayed = forwarded;
  for (int sig = 1; sig <= 64; sig++) {
    if (sig != SIGCONT && sigismember(&relayed, sig) == 1 && (ignored >> (sig - 1) & 1) != 0) {
      sigdelset(&relayed, sig);
    }
  }
  int signals = signalfd(-1, &relayed, SFD_CLOEXEC | SFD_NONBLOCK);
  int pidfd = -1;
  pid_t pid = 0;
  struct payload p = {0};
  if (signals < 0 || encode(&p, argv) != 0 || wait_started(sock, &pidfd, &pid) != 0) {
    free(p.data);
    if (signals >= 0) {
      close(signals);
    }
    return -1;
  }
  mode_t mask = umask(0);
  umask(mask);
  struct fod_zygote_hello hello = {
      .magic = FOD_ZYGOTE_MAGIC,
      .version = FOD_ZYGOTE_VERSION,
      .length = (uint32_t)p.length,
      .umask = (uint32_t)mask,
      .ignored = ignored,
      .blocked = signal_bits(&caller_mask),
      .program_dev = (uint64_t)program->st_dev,
      .program_ino = (uint64_t)program->st_ino,
  };
  int streams[3] = {0, 1, 2};
  int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  int sent = cwd >= 0 && fod_agent_send(sock, &hello, sizeof hello, streams, 3) == 0 &&
             fod_agent_send(sock, p.data, p.length, &cwd, 1) == 0;
  free(p.data);
  if (cwd >= 0) {
    close(cwd);
  }
  /* From here the call may run: fod waits for its end, whatever comes. */
  int served = sent;
  uint64_t received = 0;
  while (served) {
    struct pollfd fds[2] = {{sock, POLLIN, 0}, {signals, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    if (fds[1].revents & POLLIN) {
      struct signalfd_siginfo info;
      while (read(signals, &info, sizeof info) == (ssize_t)sizeof info) {
        received |= (uint64_t)1 << (info.ssi_signo - 1);
        send_signal(pidfd, pid, (int)info.ssi_signo);
      }
    }
    if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      continue;
    }
    struct fod_agent_message message;
    int fd = -1, nfds = 0;
    if (fod_agent_receive(sock, &message, sizeof message, &fd, 1, &nfds) != 0) {
      break;
    }
    if (nfds == 1) {
      close(fd);
    }
    if (message.type == FOD_ZYGOTE_EXITED) {
      exit(message.a);
    }
    if (message.type == FOD_ZYGOTE_SIGNALED) {
      die_of_signal(message.a);
    }
    if (message.type == FOD_ZYGOTE_STOPPED) {
      /* It stopped (Ctrl-Z): so does fod, and the shell shows the job stopped; `fg`
       * continues fod, which passes SIGCONT on. */
      raise(SIGSTOP);
    } else if (message.type == FOD_ZYGOTE_DECLINED || message.type == FOD_ZYGOTE_REFUSED) {
      served = 0;
    }
  }
  if (served) {
    /* The zygote went away while serving the call: whether the command ran is unknown,
     * so it is not run again. */
    fprintf(stderr, "fod: error: fod's zygote ended before the command did\n");
    exit(status_failed);
  }
  close(signals);
  if (pidfd >= 0) {
    close(pidfd);
  }
  /* Declined: what fod got meanwhile (a Ctrl-C) is made pending again, and takes effect as
   * fod restores its mask before it runs fod-run: fod ends, or stops, as fod-run would
   * have at that point. */
  for (int sig = 1; sig <= 64; sig++) {
    if (received >> (sig - 1) & 1) {
      kill(getpid(), sig);
    }
  }
  return -1;
}

int main(int argc, char **argv) {
  sigemptyset(&forwarded);
  static const int relayed[] = {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGTSTP, SIGCONT};
  for (size_t i = 0; i < sizeof relayed / sizeof relayed[0]; i++) {
    sigaddset(&forwarded, relayed[i]);
  }
  sigprocmask(SIG_BLOCK, &forwarded, &caller_mask);
  if (argc < 1 || find_fod_run() != 0) {
    fprintf(stderr,
            "fod: error: cannot find fod-run (/proc/self/exe unreadable: %s); reinstall fod\n",
            strerror(errno));
    return status_failed;
  }
  const char *slash = strrchr(argv[0], '/');
  const char *invoked = slash != NULL ? slash + 1 : argv[0];
  int shim = strcmp(invoked, "fod") != 0 && strncmp(invoked, "fod.", 4) != 0;
  if (!shim && argc == 2 && strcmp(argv[1], "--version") == 0) {
    sigprocmask(SIG_SETMASK, &caller_mask, NULL);
    printf("fod %s\n", FOD_VERSION);
    return fflush(stdout) == 0 ? 0 : status_failed;
  }
  /* fod-run names fod (dirs::fod_program) wherever it is named again: shims, helpers. */
  if (getenv("FOD_PROGRAM") == NULL) {
    setenv("FOD_PROGRAM", self, 1);
  }
  int run = shim || (argc >= 3 && strcmp(argv[1], "run") == 0 && argv[2][0] != '-');
  const char *setting = getenv(FOD_ZYGOTE_VARIABLE);
  /* A sandboxed fod (no-new-privileges, a seccomp filter: a sandbox's marks, Landlock's
   * too) keeps to its own fod-run: the zygote is for processes with all the user's rights. */
  int allowed = (setting == NULL || strcmp(setting, "off") != 0) &&
                prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0 &&
                prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 0;
  if (!run || !allowed || !streams_fit()) {
    run_fod_run(argv);
  }
  struct stat program;
  if (stat(fod_run, &program) != 0) {
    run_fod_run(argv); /* which says what is missing */
  }
  int sock = connect_zygote(&program);
  if (sock < 0) {
    if (errno == ENOENT || errno == ECONNREFUSED) {
      setenv(FOD_ZYGOTE_START_VARIABLE, "1", 1);
    }
    run_fod_run(argv);
  }
  served_by_zygote(sock, &program, argv);
  close(sock);
  run_fod_run(argv);
  return status_failed;
}
