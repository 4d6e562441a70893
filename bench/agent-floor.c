/* The least any front of a warm run can cost, for the `floor` rows of bench/run only:
 * it connects to a warm container's agent, sends one request (the arguments, the
 * working directory) with its stdin, stdout and stderr attached, and exits with the
 * command's status. No mapping, no key, no boundary checks, no record: none of what
 * makes a run safe, so never a way to run anything but this measurement.
 *
 *   agent-floor SOCKET CWD ARGV...
 *
 * bench/run builds it twice, with glibc and (when musl-gcc is there) with musl, to
 * show what glibc's start-up alone adds to every call. */
#include "agent_proto.h"

#include <string.h>
#include <sys/socket.h>
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

int main(int argc, char **argv) {
  if (argc < 4) {
    return status_failed;
  }
  size_t length = 0;
  for (int i = 3; i < argc && (i == 3 || length != 0); i++) {
    length = add_item(length, 'A', argv[i]);
  }
  if (length == 0 || (length = add_item(length, 'D', argv[2])) == 0) {
    return status_failed;
  }
  struct sockaddr_un address = {.sun_family = AF_UNIX};
  if (strlen(argv[1]) >= sizeof address.sun_path) {
    return status_failed;
  }
  strcpy(address.sun_path, argv[1]);
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0 || connect(sock, (struct sockaddr *)&address, sizeof address) != 0) {
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
