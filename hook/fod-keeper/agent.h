/* The agent side of the fast path: fod-keeper, as PID 1 of a warm container,
 * accepts runs on a unix socket in /.fod/run (see agent_proto.h). */
#ifndef FOD_AGENT_H
#define FOD_AGENT_H

/* Listens on /.fod/run/agent.sock; returns the listening fd or -1. */
int agent_listen(void);

/* Forks a spare handler that waits for the next connection, so that a run need
 * not wait for the keeper to fork one. Nothing when a spare waits already. */
void agent_prepare_spare(int listen_fd);

/* How long the keeper may wait before it forks the next spare, in ms, as poll(2) takes
 * it: -1 when a spare waits already, 0 when it is time (no handler runs, or one has run
 * for a while). */
int agent_spare_wait(void);

/* Accepts one connection on the listening fd. A peer of another uid than ours
 * is refused; anyone else's request is handed to the spare handler, or to one
 * forked now when there is none. */
void agent_accept(int listen_fd);

#endif
