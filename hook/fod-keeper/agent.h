/* The agent side of the fast path: fod-keeper, as PID 1 of a warm container,
 * accepts runs on a unix socket in /.fod/run (see agent_proto.h). */
#ifndef FOD_AGENT_H
#define FOD_AGENT_H

/* Listens on /.fod/run/agent.sock; returns the listening fd or -1. */
int agent_listen(void);

/* Accepts one connection on the listening fd. A peer of another uid than ours
 * is refused; anyone else gets a forked handler that runs the request. */
void agent_accept(int listen_fd);

#endif
