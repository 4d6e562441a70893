/* The wire format between fod and the agent in its warm containers (fod-keeper
 * keep). Shared by both sides, and by the fuzz test of the parser: this header
 * and agent_proto.c need nothing but libc.
 *
 * A connection carries one run. fod sends a header (magic, version, payload
 * length) with its stdin, stdout and stderr attached (SCM_RIGHTS), then the
 * payload: items of one tag byte and a NUL-terminated string each:
 *   'A' an argument (argv[0] first; at least one)
 *   'D' the working directory (exactly one, absolute)
 *   'E' NAME=VALUE, merged over the container's own environment
 *   'I' the image, named in messages
 *   'T' the standard streams ("0", "12", "012", ...) that go to a pseudo-terminal
 *       of the command's own instead of the descriptors attached: those that are
 *       the caller's terminal, which never enters the container (fod attaches
 *       /dev/null in their place and relays the pseudo-terminal)
 *   'M' IFLAG:OFLAG:CFLAG:LFLAG:CC, the caller's terminal modes for that
 *       pseudo-terminal: four hexadecimal numbers and the control characters as
 *       2*FOD_AGENT_NCCS hexadecimal digits
 *   'W' ROWSxCOLS, the window size of that terminal
 * Both sides then exchange fixed-size messages (struct fod_agent_message). The
 * agent answers STARTED (with the pty master attached when one was asked for),
 * then STOPPED and CONTINUED as they happen, and EXITED or SIGNALED last; or a
 * single ERROR. fod sends SIGNAL messages for the command's process group.
 * When the command has ended, the agent ends every process it left behind
 * before it reports EXITED or SIGNALED.
 *
 * Version 2: 'T' names the streams for the pseudo-terminal (version 1 had "1"
 * for all three and handed the caller's terminal over), 'M' is new.
 */
#ifndef FOD_AGENT_PROTO_H
#define FOD_AGENT_PROTO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FOD_AGENT_MAGIC 0x41444f46u /* "FODA" */
#define FOD_AGENT_VERSION 2u
#define FOD_AGENT_SOCKET "agent.sock"
#define FOD_AGENT_MAX_PAYLOAD (4u << 20)
#define FOD_AGENT_MAX_ITEMS 65536u
#define FOD_AGENT_NCCS 32 /* control characters in 'M' (glibc's NCCS on Linux) */

struct fod_agent_header {
  uint32_t magic;
  uint32_t version;
  uint32_t length; /* of the payload that follows */
};

enum fod_agent_type {
  FOD_AGENT_STARTED = 1,   /* a: the command's pid in the container */
  FOD_AGENT_EXITED = 2,    /* a: exit status */
  FOD_AGENT_SIGNALED = 3,  /* a: the signal that killed it */
  FOD_AGENT_STOPPED = 4,   /* a: the signal that stopped it */
  FOD_AGENT_CONTINUED = 5, /* the command was continued */
  FOD_AGENT_ERROR = 6,     /* a: enum fod_agent_error; b: the agent's version */
  FOD_AGENT_SIGNAL = 7,    /* from fod: a: a signal for the command's process group */
};

enum fod_agent_error {
  FOD_AGENT_E_VERSION = 1,   /* another version of the protocol */
  FOD_AGENT_E_MALFORMED = 2, /* the request could not be parsed */
  FOD_AGENT_E_REFUSED = 3,   /* the peer is not the container's user */
  FOD_AGENT_E_SETUP = 4,     /* the agent could not set the command up */
};

struct fod_agent_message {
  uint32_t type;
  int32_t a;
  int32_t b;
};

/* Terminal modes as 'M' carries them. */
struct fod_agent_modes {
  uint32_t iflag, oflag, cflag, lflag;
  unsigned char cc[FOD_AGENT_NCCS];
};

/* A parsed request. Its strings point into the payload it was parsed from. */
struct fod_agent_request {
  char **argv; /* NULL-terminated, at least one entry */
  char **env;  /* NULL-terminated NAME=VALUE */
  const char *cwd;
  const char *image;  /* "" when not given */
  unsigned pty_slots; /* bit i: stream i goes to the pseudo-terminal; 0: none */
  int have_modes;     /* modes holds 'M' */
  struct fod_agent_modes modes;
  unsigned short rows, cols; /* 0: not given */
};

/* Formats modes as the text of an 'M' item into out (at least
 * FOD_AGENT_MODES_TEXT bytes). */
#define FOD_AGENT_MODES_TEXT (4 * 9 + 2 * FOD_AGENT_NCCS + 1)
void fod_agent_format_modes(const struct fod_agent_modes *modes, char *out);

/* Parses payload[0..length). Returns 0 and fills *request (release it with
 * fod_agent_request_free), or -1 with a static reason in *why. Never reads
 * outside the payload, whatever it holds. */
int fod_agent_parse(const char *payload, size_t length, struct fod_agent_request *request,
                    const char **why);

void fod_agent_request_free(struct fod_agent_request *request);

/* The transport, the same on both sides: one fixed-size record (the header, or a
 * message) and the descriptors attached to it (SCM_RIGHTS). */
#define FOD_AGENT_MAX_FDS 3

/* Sends length bytes of data with nfds (at most FOD_AGENT_MAX_FDS) descriptors
 * attached; retried on EINTR, never raising SIGPIPE. 0 when all was sent, else -1. */
int fod_agent_send(int sock, const void *data, size_t length, const int *fds, int nfds);

/* Receives exactly length bytes into data (MSG_WAITALL) and the descriptors that came
 * with them, close-on-exec: the first max_fds go to fds, *nfds says how many, any
 * others are closed. 0 when length bytes came and no control data was cut off, else -1
 * (the descriptors received are still in fds). */
int fod_agent_receive(int sock, void *data, size_t length, int *fds, int max_fds, int *nfds);

#ifdef __cplusplus
}
#endif

#endif
