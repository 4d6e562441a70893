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
  length = snprintf(fod_run, sizeof fod_run, "%s/fod-run", dir);
  return length > 0 && (size_t)length < sizeof fod_run ? 0 : -1;
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
 * listening is the user's. -1 with errno ENOENT or ECONNREFUSED when nothing listens
 * there, another errno when it must not be used. */
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
    if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0 || peer.uid != geteuid()) {
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
  for (int sig = 1; sig < 64; sig++) {
    struct sigaction action;
    if (sigaction(sig, NULL, &action) == 0 && action.sa_handler == SIG_IGN) {
      ignored |= (uint64_t)1 << (sig - 1);
    }
  }
  return ignored;
}

static uint64_t signal_bits(const sigset_t *set) {
  uint64_t bits = 0;
  for (int sig = 1; sig < 64; sig++) {
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

static void send_signal(int pidfd, int sig) {
  syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* Sends the call and relays until it ends. Returns only when fod-run must serve the call
 * itself (nothing was run for it). */
static int served_by_zygote(int sock, const struct stat *program, char **argv) {
  struct payload p = {0};
  if (encode(&p, argv) != 0) {
    return -1;
  }
  mode_t mask = umask(0);
  umask(mask);
  struct fod_zygote_hello hello = {
      .magic = FOD_ZYGOTE_MAGIC,
      .version = FOD_ZYGOTE_VERSION,
      .length = (uint32_t)p.length,
      .umask = (uint32_t)mask,
      .ignored = ignored_signals(),
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
  if (!sent) {
    return -1;
  }
  /* What the caller's job gets (Ctrl-C, Ctrl-Z, a kill) goes to the serving process,
   * which handles it as fod-run does; signals the caller ignores stay ignored. */
  sigset_t relayed = forwarded;
  for (int sig = 1; sig < 64; sig++) {
    if (sigismember(&relayed, sig) == 1 && (hello.ignored >> (sig - 1) & 1) != 0) {
      sigdelset(&relayed, sig);
    }
  }
  int signals = signalfd(-1, &relayed, SFD_CLOEXEC | SFD_NONBLOCK);
  int pidfd = -1;
  uint64_t pending = 0, received = 0;
  int started = 0;
  for (;;) {
    struct pollfd fds[2] = {{sock, POLLIN, 0}, {signals, POLLIN, 0}};
    if (poll(fds, signals >= 0 ? 2 : 1, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    if (signals >= 0 && (fds[1].revents & POLLIN)) {
      struct signalfd_siginfo info;
      while (read(signals, &info, sizeof info) == (ssize_t)sizeof info) {
        received |= (uint64_t)1 << (info.ssi_signo - 1);
        if (pidfd >= 0) {
          send_signal(pidfd, (int)info.ssi_signo);
        } else {
          pending |= (uint64_t)1 << (info.ssi_signo - 1);
        }
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
    switch (message.type) {
    case FOD_ZYGOTE_STARTED:
      started = 1;
      pidfd = nfds == 1 ? fd : -1;
      for (int sig = 1; pidfd >= 0 && sig < 64; sig++) {
        if (pending >> (sig - 1) & 1) {
          send_signal(pidfd, sig);
        }
      }
      continue;
    case FOD_ZYGOTE_EXITED:
      exit(message.a);
    case FOD_ZYGOTE_SIGNALED:
      die_of_signal(message.a);
      break;
    case FOD_ZYGOTE_STOPPED:
      /* It stopped (Ctrl-Z reached the command): so does fod, and the shell shows the
       * job stopped; `fg` continues fod, which passes SIGCONT on. */
      raise(SIGSTOP);
      continue;
    case FOD_ZYGOTE_DECLINED:
    case FOD_ZYGOTE_REFUSED:
      started = 0;
      break;
    default:
      break;
    }
    if (nfds == 1 && fd != pidfd) {
      close(fd);
    }
    break;
  }
  if (started) {
    /* The zygote went away while serving the call: whether the command ran is unknown,
     * so it is not run again. */
    fprintf(stderr, "fod: error: fod's zygote ended before the command did\n");
    exit(status_failed);
  }
  if (signals >= 0) {
    close(signals);
  }
  if (pidfd >= 0) {
    close(pidfd);
  }
  /* Declined: what fod got meanwhile (a Ctrl-C) is fod-run's, pending until it starts. */
  for (int sig = 1; sig < 64; sig++) {
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
    fprintf(stderr, "fod: error: cannot find fod-run beside %s; reinstall fod\n", self);
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
  int allowed = setting == NULL || strcmp(setting, "off") != 0;
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
