/* The wire format between fod (hook/fod/front.c, the program on the user's path) and
 * the zygote (fod-run _zygote, hook/src/cli/zygote.cpp): a per-user server that forks
 * a ready fod-run for each call, so that a call through a shim does not pay for
 * glibc's and fod-run's start-up. Shared by both sides; needs nothing but libc.
 *
 * The socket is <runtime>/zygote-DEV-INO.sock ($XDG_RUNTIME_DIR/fod/...), DEV and INO the
 * device and inode numbers of the fod-run file in hexadecimal (FOD_ZYGOTE_SOCKET_FORMAT):
 * one zygote per program, so that two installs of fod (a package and a build) each have
 * their own, and an upgraded fod-run starts a new one (the old one exits when it sees its
 * program replaced). Its lock is the same name with ".lock".
 *
 * A connection carries one call. The serving process checks fod (its peer) and sends
 * FOD_ZYGOTE_STARTED, with its pidfd attached when it has one, or FOD_ZYGOTE_REFUSED.
 * Only after STARTED does fod send struct fod_zygote_hello with its stdin, stdout and
 * stderr attached (SCM_RIGHTS), then the payload (hello.length bytes) with an O_PATH
 * descriptor of its working directory attached. The payload is agent-protocol items
 * (agent_proto.h, parsed by fod_agent_parse): 'A' fod's argv as given (a shim's name
 * first), 'D' the working directory, 'E' fod's whole environment. Then the serving process
 * may send FOD_ZYGOTE_DECLINED or FOD_ZYGOTE_REFUSED, after which fod runs fod-run itself
 * with argv unchanged (nothing was run for the call); else the zygote sends
 * FOD_ZYGOTE_STOPPED as it happens, and FOD_ZYGOTE_EXITED or FOD_ZYGOTE_SIGNALED last,
 * from the serving process's wait status. The zygote serves only runs that need nothing
 * but the warm container's agent. */
#ifndef FOD_ZYGOTE_PROTO_H
#define FOD_ZYGOTE_PROTO_H

#include <stdint.h>

#define FOD_ZYGOTE_MAGIC 0x5a444f46u /* "FODZ" */
#define FOD_ZYGOTE_VERSION 1u
#define FOD_ZYGOTE_SOCKET_FORMAT "zygote-%llx-%llx.sock"
/* Set by fod when it found no zygote listening: fod-run starts one (and unsets it). */
#define FOD_ZYGOTE_START_VARIABLE "FOD_ZYGOTE_START"
/* FOD_ZYGOTE=off: fod never uses a zygote (and never starts one). */
#define FOD_ZYGOTE_VARIABLE "FOD_ZYGOTE"

struct fod_zygote_hello {
  uint32_t magic;
  uint32_t version;
  uint32_t length; /* of the payload, at most FOD_AGENT_MAX_PAYLOAD */
  uint32_t umask;
  uint64_t ignored; /* bit N-1: signal N is ignored by the caller (nohup) */
  uint64_t blocked; /* bit N-1: signal N is blocked by the caller */
  /* The fod-run the caller would run itself: a zygote of another program (another
   * install, or an older one still running after an upgrade) refuses the call. */
  uint64_t program_dev;
  uint64_t program_ino;
};

enum fod_zygote_type {
  FOD_ZYGOTE_STARTED = 1,  /* a: the serving process's pid; its pidfd attached */
  FOD_ZYGOTE_EXITED = 2,   /* a: exit status */
  FOD_ZYGOTE_SIGNALED = 3, /* a: the signal it died of */
  FOD_ZYGOTE_STOPPED = 4,  /* a: the signal that stopped it: fod stops too */
  FOD_ZYGOTE_DECLINED = 8, /* the call needs more than the warm fast path */
  FOD_ZYGOTE_REFUSED = 9,  /* another user, namespace, privilege or program */
};

#endif
