/* The least any front of a warm run can cost, for the `floor` rows of bench/run only:
 * it connects to a warm container's agent, sends one request (the arguments, the
 * working directory) with its stdin, stdout and stderr attached, and exits with the
 * command's status. No mapping, no key, no boundary checks, no record: none of what
 * makes a run safe, so never a way to run anything but this measurement.
 *
 *   agent-floor BOX CWD ARGV...      (BOX: the container's <runtime>/fod/c/<key>/box)
 *
 * bench/run builds it twice, with glibc and (when musl-gcc is there) with musl, to
 * show what glibc's start-up alone adds to every call. */
#define _GNU_SOURCE /* O_PATH */
#include "agent_proto.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

enum { status_failed = 125 };

static char payload[1 << 16];

/* Appends an item (tag, text, NUL); 0 when it does not fit. */
static size_t add_item(size_t at, char tag, const char *text) {
  size_t length = strlen(text) + 1;
  if (at + 1 + length > sizeof payload) {
    return 0;
  }
  payload[at] = tag;
  memcpy(payload + at + 1, text, length);
  return at + 1 + length;
}

/* Whether fd 0-2 may be handed to the agent as they are, by fod's rule
 * (run/agent_client.cpp, stdio_unfit_for_agent): regular files, pipes and the memory
 * devices such as /dev/null; never a terminal (fod relays one through a pseudo-terminal),
 * a socket, a directory or another device. This client only measures the plain case. */
static int streams_fit(void) {
  for (int fd = 0; fd <= 2; fd++) {
    struct stat st;
    if (isatty(fd) || fstat(fd, &st) != 0) {
      return 0;
    }
    if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) &&
        !(S_ISCHR(st.st_mode) && major(st.st_rdev) == 1)) {
      return 0;
    }
  }
  return 1;
}

/* Connects to the agent in the box directory as fod does (containers/box.cpp): the box
 * opened without following a link, the socket pinned with O_PATH|O_NOFOLLOW and reached
 * through /proc/self/fd, so never a link's target (the container can write the box). */
static int connect_pinned(const char *box_dir) {
  int box = open(box_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (box < 0) {
    return -1;
  }
  int pinned = openat(box, FOD_AGENT_SOCKET, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  close(box);
  if (pinned < 0) {
    return -1;
  }
  struct stat st;
  int sock = -1;
  if (fstat(pinned, &st) == 0 && S_ISSOCK(st.st_mode)) {
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    snprintf(address.sun_path, sizeof address.sun_path, "/proc/self/fd/%d", pinned);
    sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock >= 0 && connect(sock, (struct sockaddr *)&address, sizeof address) != 0) {
      close(sock);
      sock = -1;
    }
  }
  close(pinned);
  return sock;
}

int main(int argc, char **argv) {
  if (argc < 4 || !streams_fit()) {
    return status_failed;
  }
  size_t length = 0;
  for (int i = 3; i < argc && (i == 3 || length != 0); i++) {
    length = add_item(length, 'A', argv[i]);
  }
  if (length == 0 || (length = add_item(length, 'D', argv[2])) == 0) {
    return status_failed;
  }
  int sock = connect_pinned(argv[1]);
  if (sock < 0) {
    return status_failed;
  }
  struct fod_agent_header header = {FOD_AGENT_MAGIC, FOD_AGENT_VERSION, (uint32_t)length};
  const int streams[3] = {0, 1, 2};
  if (fod_agent_send(sock, &header, sizeof header, streams, 3) != 0 ||
      send(sock, payload, length, MSG_NOSIGNAL) != (ssize_t)length) {
    return status_failed;
  }
  for (;;) {
    struct fod_agent_message message;
    int fds[FOD_AGENT_MAX_FDS];
    int nfds = 0;
    if (fod_agent_receive(sock, &message, sizeof message, fds, FOD_AGENT_MAX_FDS, &nfds) != 0) {
      return status_failed;
    }
    for (int i = 0; i < nfds; i++) {
      close(fds[i]);
    }
    switch (message.type) {
    case FOD_AGENT_EXITED:
      return message.a;
    case FOD_AGENT_SIGNALED:
      return 128 + message.a;
    case FOD_AGENT_ERROR:
      return status_failed;
    default:
      break; /* STARTED, STOPPED, CONTINUED */
    }
  }
}
