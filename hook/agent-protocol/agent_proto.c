#include "agent_proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int parse_size(const char *text, unsigned short *rows, unsigned short *cols) {
  unsigned long value[2] = {0, 0};
  int part = 0;
  int digits = 0;
  for (const char *p = text;; ++p) {
    if (*p >= '0' && *p <= '9') {
      value[part] = value[part] * 10 + (unsigned long)(*p - '0');
      if (value[part] > 65535 || ++digits > 5) {
        return -1;
      }
    } else if (*p == 'x' && part == 0 && digits > 0) {
      part = 1;
      digits = 0;
    } else if (*p == '\0' && part == 1 && digits > 0) {
      break;
    } else {
      return -1;
    }
  }
  *rows = (unsigned short)value[0];
  *cols = (unsigned short)value[1];
  return 0;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

/* "0", "12", "012": distinct stream numbers 0-2, at least one. */
static int parse_slots(const char *text, unsigned *slots) {
  unsigned seen = 0;
  if (*text == '\0') {
    return -1;
  }
  for (const char *p = text; *p != '\0'; ++p) {
    if (*p < '0' || *p > '2' || (seen & (1u << (*p - '0'))) != 0) {
      return -1;
    }
    seen |= 1u << (*p - '0');
  }
  *slots = seen;
  return 0;
}

/* IFLAG:OFLAG:CFLAG:LFLAG:CC (see agent_proto.h). */
static int parse_modes(const char *text, struct fod_agent_modes *modes) {
  uint32_t words[4];
  const char *p = text;
  for (int w = 0; w < 4; ++w) {
    uint32_t value = 0;
    int digits = 0;
    for (; hex_digit(*p) >= 0; ++p) {
      if (++digits > 8) {
        return -1;
      }
      value = value * 16 + (uint32_t)hex_digit(*p);
    }
    if (digits == 0 || *p != ':') {
      return -1;
    }
    ++p;
    words[w] = value;
  }
  for (int i = 0; i < FOD_AGENT_NCCS; ++i) {
    int high = hex_digit(p[0]);
    int low = high < 0 ? -1 : hex_digit(p[1]);
    if (low < 0) {
      return -1;
    }
    modes->cc[i] = (unsigned char)(high * 16 + low);
    p += 2;
  }
  if (*p != '\0') {
    return -1;
  }
  modes->iflag = words[0];
  modes->oflag = words[1];
  modes->cflag = words[2];
  modes->lflag = words[3];
  return 0;
}

void fod_agent_format_modes(const struct fod_agent_modes *modes, char *out) {
  static const char digits[] = "0123456789abcdef";
  const uint32_t words[4] = {modes->iflag, modes->oflag, modes->cflag, modes->lflag};
  char *p = out;
  for (int w = 0; w < 4; ++w) {
    int started = 0;
    for (int shift = 28; shift >= 0; shift -= 4) {
      unsigned d = (words[w] >> shift) & 0xfu;
      if (d != 0 || started || shift == 0) {
        *p++ = digits[d];
        started = 1;
      }
    }
    *p++ = ':';
  }
  for (int i = 0; i < FOD_AGENT_NCCS; ++i) {
    *p++ = digits[modes->cc[i] >> 4];
    *p++ = digits[modes->cc[i] & 0xfu];
  }
  *p = '\0';
}

int fod_agent_parse(const char *payload, size_t length, struct fod_agent_request *request,
                    const char **why) {
  memset(request, 0, sizeof *request);
  if (length == 0 || length > FOD_AGENT_MAX_PAYLOAD || payload[length - 1] != '\0') {
    *why = "the request is empty, too long or not terminated";
    return -1;
  }
  /* First pass: check every item and count arguments and variables. */
  size_t nargs = 0, nenv = 0, items = 0;
  int have_cwd = 0, have_image = 0, have_size = 0, have_tty = 0, have_modes = 0;
  for (size_t at = 0; at < length;) {
    char tag = payload[at];
    const char *text = payload + at + 1;
    if (at + 1 >= length) {
      *why = "an item without text";
      return -1;
    }
    size_t len = strlen(text); /* bounded: payload[length - 1] is NUL */
    if (++items > FOD_AGENT_MAX_ITEMS) {
      *why = "too many items";
      return -1;
    }
    switch (tag) {
    case 'A':
      ++nargs;
      break;
    case 'E': {
      const char *eq = strchr(text, '=');
      if (eq == NULL || eq == text) {
        *why = "an environment item is not NAME=VALUE";
        return -1;
      }
      ++nenv;
      break;
    }
    case 'D':
      if (have_cwd++ || text[0] != '/') {
        *why = "the working directory is repeated or not absolute";
        return -1;
      }
      break;
    case 'I':
      if (have_image++) {
        *why = "the image is repeated";
        return -1;
      }
      break;
    case 'T': {
      unsigned slots;
      if (have_tty++ || parse_slots(text, &slots) != 0) {
        *why = "a bad terminal item";
        return -1;
      }
      break;
    }
    case 'M': {
      struct fod_agent_modes modes;
      if (have_modes++ || parse_modes(text, &modes) != 0) {
        *why = "bad terminal modes";
        return -1;
      }
      break;
    }
    case 'W': {
      unsigned short r, c;
      if (have_size++ || parse_size(text, &r, &c) != 0) {
        *why = "a bad window size";
        return -1;
      }
      break;
    }
    default:
      *why = "an unknown item";
      return -1;
    }
    at += 1 + len + 1;
  }
  if (nargs == 0 || !have_cwd) {
    *why = "no command or no working directory";
    return -1;
  }
  request->argv = calloc(nargs + 1, sizeof *request->argv);
  request->env = calloc(nenv + 1, sizeof *request->env);
  if (request->argv == NULL || request->env == NULL) {
    fod_agent_request_free(request);
    *why = "out of memory";
    return -1;
  }
  request->image = "";
  size_t ia = 0, ie = 0;
  for (size_t at = 0; at < length;) {
    char tag = payload[at];
    char *text = (char *)payload + at + 1;
    switch (tag) {
    case 'A':
      request->argv[ia++] = text;
      break;
    case 'E':
      request->env[ie++] = text;
      break;
    case 'D':
      request->cwd = text;
      break;
    case 'I':
      request->image = text;
      break;
    case 'T':
      parse_slots(text, &request->pty_slots);
      break;
    case 'M':
      request->have_modes = parse_modes(text, &request->modes) == 0;
      break;
    case 'W':
      parse_size(text, &request->rows, &request->cols);
      break;
    }
    at += 1 + strlen(text) + 1;
  }
  if (ia == 0 || request->argv[0][0] == '\0') {
    fod_agent_request_free(request);
    *why = "an empty command name";
    return -1;
  }
  return 0;
}

void fod_agent_request_free(struct fod_agent_request *request) {
  free(request->argv);
  free(request->env);
  request->argv = NULL;
  request->env = NULL;
}

/* One record's message header, with room for FOD_AGENT_MAX_FDS descriptors. */
struct transfer {
  struct iovec iov;
  _Alignas(struct cmsghdr) char control[CMSG_SPACE(FOD_AGENT_MAX_FDS * sizeof(int))];
  struct msghdr msg;
};

static void transfer_init(struct transfer *t, void *data, size_t length, size_t nfds) {
  memset(t, 0, sizeof *t);
  t->iov.iov_base = data;
  t->iov.iov_len = length;
  t->msg.msg_iov = &t->iov;
  t->msg.msg_iovlen = 1;
  if (nfds > 0) {
    t->msg.msg_control = t->control;
    t->msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
  }
}

int fod_agent_send(int sock, const void *data, size_t length, const int *fds, int nfds) {
  if (nfds < 0 || nfds > FOD_AGENT_MAX_FDS) {
    return -1;
  }
  struct transfer t;
  transfer_init(&t, (void *)data, length, (size_t)nfds);
  if (nfds > 0) {
    struct cmsghdr *c = CMSG_FIRSTHDR(&t.msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
    memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
  }
  ssize_t n;
  while ((n = sendmsg(sock, &t.msg, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
  }
  return n == (ssize_t)length ? 0 : -1;
}

int fod_agent_receive(int sock, void *data, size_t length, int *fds, int max_fds, int *nfds) {
  struct transfer t;
  transfer_init(&t, data, length, FOD_AGENT_MAX_FDS);
  ssize_t n;
  while ((n = recvmsg(sock, &t.msg, MSG_CMSG_CLOEXEC | MSG_WAITALL)) < 0 && errno == EINTR) {
  }
  *nfds = 0;
  if (n < 0) {
    return -1;
  }
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&t.msg); c != NULL; c = CMSG_NXTHDR(&t.msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
      continue;
    }
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (*nfds < max_fds) {
        fds[(*nfds)++] = fd;
      } else {
        close(fd);
      }
    }
  }
  return n == (ssize_t)length && (t.msg.msg_flags & MSG_CTRUNC) == 0 ? 0 : -1;
}
