/* fod-keeper: the main process of every warm container, and the wrapper that
 * each run of a command goes through.
 *
 * It is linked statically and mounted read-only at /.fod/keeper, because images
 * may hold nothing but the tool: no shell, no sleep, no libc.
 *
 *   fod-keeper keep
 *       PID 1. Holds an exclusive flock on /.fod/run/alive for as long as the
 *       container lives (the host tests liveness with a non-blocking flock, no
 *       engine call), reaps orphans, and delivers signals the host asks for
 *       through the FIFO /.fod/run/signal ("PID SIGNAL\n"): engine exec CLIs do
 *       not forward signals to the process they started. It is also the agent
 *       of fod's fast path (agent.c): it serves runs on /.fod/run/agent.sock.
 *   fod-keeper exec SESSION IMAGE SIZE -- COMMAND [ARGS...]
 *       Records its pid in /.fod/run/s/SESSION, makes itself a process group the
 *       keeper can signal as a whole, gives its terminal the caller's SIZE
 *       (ROWSxCOLS, or "-"; docker sets the size only after the command has
 *       started), and execs COMMAND in place, so the command
 *       keeps the container's user, capabilities and namespaces. A COMMAND that
 *       is not in the image gives one clear line and status 127.
 */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define BOX "/.fod/run"

static void exit_now(int sig) {
  (void)sig;
  _exit(0);
}

static void reap_children(int sig) {
  (void)sig;
  int saved = errno;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  errno = saved;
}

static int parse_positive(const char *text, long max, long *out) {
  char *end = NULL;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v <= 0 || v > max) {
    return -1;
  }
  *out = v;
  return 0;
}

/* One request line "PID SIGNAL". Anything malformed is ignored. */
/* "ROWSxCOLS", each 1..65535: 1 and the numbers, else 0. */
static int parse_size(const char *text, unsigned long *rows, unsigned long *cols) {
  char *end;
  if (text[0] < '0' || text[0] > '9') {
    return 0;
  }
  *rows = strtoul(text, &end, 10);
  if (*end != 'x' || end[1] < '0' || end[1] > '9') {
    return 0;
  }
  const char *rest = end + 1;
  *cols = strtoul(rest, &end, 10);
  return *end == '\0' && *rows >= 1 && *rows <= 65535 && *cols >= 1 && *cols <= 65535;
}

static void deliver(char *line) {
  char *space = strchr(line, ' ');
  if (space == NULL) {
    return;
  }
  *space = '\0';
  long pid = 0, sig = 0;
  if (parse_positive(line, 1L << 22, &pid) != 0 || parse_positive(space + 1, 64, &sig) != 0 ||
      pid <= 1) {
    return;
  }
  /* The command leads its own process group: signal the whole group, as a
   * terminal would, falling back to the single process. */
  if (kill((pid_t)-pid, (int)sig) != 0) {
    kill((pid_t)pid, (int)sig);
  }
}

/* Reads what the FIFO holds and delivers each complete line. */
static void read_signal_requests(int fifo, char *buffer, size_t size, size_t *used) {
  ssize_t n = read(fifo, buffer + *used, size - 1 - *used);
  if (n <= 0) {
    return;
  }
  *used += (size_t)n;
  buffer[*used] = '\0';
  char *start = buffer;
  char *newline;
  while ((newline = strchr(start, '\n')) != NULL) {
    *newline = '\0';
    deliver(start);
    start = newline + 1;
  }
  *used = (size_t)(buffer + *used - start);
  memmove(buffer, start, *used);
  if (*used == size - 1) {
    *used = 0; /* an overlong line: drop it */
  }
}

static int keep(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = exit_now;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  sa.sa_handler = reap_children;
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  /* The agent listens before the lock is taken: a container that fod sees
   * alive already accepts runs. */
  int agent = agent_listen();
  int alive = open(BOX "/alive", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (alive < 0 || flock(alive, LOCK_EX) != 0) {
    fprintf(stderr, "fod-keeper: cannot lock " BOX "/alive: %s\n", strerror(errno));
    return 1;
  }
  /* O_RDWR: the FIFO always has a writer, so read() blocks instead of seeing EOF. */
  int fifo = open(BOX "/signal", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  char buffer[512];
  size_t used = 0;
  for (;;) {
    int wait = agent >= 0 ? agent_spare_wait() : -1;
    if (wait == 0) {
      agent_prepare_spare(agent);
      wait = -1;
    }
    struct pollfd fds[2] = {{fifo, POLLIN, 0}, {agent, POLLIN, 0}};
    if (poll(fds, 2, wait) <= 0) {
      continue; /* EINTR: a child was reaped (a handler may have ended); or time for a spare */
    }
    if (fds[0].revents & POLLIN) {
      read_signal_requests(fifo, buffer, sizeof buffer, &used);
    }
    if (fds[1].revents & POLLIN) {
      agent_accept(agent);
    }
  }
}

static int run_command(int argc, char **argv) {
  /* argv: exec SESSION IMAGE SIZE -- COMMAND [ARGS...] */
  if (argc < 7 || strcmp(argv[5], "--") != 0) {
    fprintf(stderr, "fod-keeper: usage: exec SESSION IMAGE SIZE -- COMMAND [ARGS...]\n");
    return 125;
  }
  const char *session = argv[2];
  const char *image = argv[3];
  const char *size = argv[4];
  const char *command = argv[6];
  if (session[0] == '\0' || strspn(session, "0123456789") != strlen(session)) {
    fprintf(stderr, "fod-keeper: bad session '%s'\n", session);
    return 125;
  }
  char path[128];
  snprintf(path, sizeof path, BOX "/s/%s", session);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd >= 0) {
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (write(fd, pid, (size_t)len) != len) {
      /* without the record, signals fall back to the engine CLI's behaviour */
    }
    close(fd);
  }
  unsigned long rows = 0, cols = 0;
  if (strcmp(size, "-") != 0 && parse_size(size, &rows, &cols) && isatty(STDIN_FILENO)) {
    struct winsize ws;
    memset(&ws, 0, sizeof ws);
    ws.ws_row = (unsigned short)rows;
    ws.ws_col = (unsigned short)cols;
    ioctl(STDIN_FILENO, TIOCSWINSZ, &ws);
  }
  setpgid(0, 0); /* fails harmlessly when exec -t already made us a session leader */
  execvp(command, argv + 6);
  int err = errno;
  if (err == ENOENT || err == ENOTDIR) {
    fprintf(stderr, "fod: %s: not found in image %s (check the mapping's entrypoint)\n", command,
            image);
    return 127;
  }
  fprintf(stderr, "fod: %s: cannot run in image %s: %s\n", command, image, strerror(err));
  return 126;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "keep") == 0) {
    return keep();
  }
  if (argc >= 2 && strcmp(argv[1], "exec") == 0) {
    return run_command(argc, argv);
  }
  fprintf(stderr, "fod-keeper: internal helper of fod; not meant to be run by hand\n");
  return 2;
}
