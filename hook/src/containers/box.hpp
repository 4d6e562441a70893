#pragma once

#include "containers/records.hpp"

#include <optional>
#include <string>

// The host's side of a warm container's box: the directory bind-mounted
// read-write at /.fod/run, which the container (and so a hostile image) can
// change at will. Everything fod does there goes through these functions: no
// path in the box is followed through a symbolic link, nothing there is opened
// blocking or read without a bound, and the agent socket is connected to only
// when it is a socket.
namespace fod::containers::box {

// Makes a fresh, empty box (the keeper's lock file, the signal FIFO, s/). A box
// that cannot be removed (someone made it too deep) is moved aside. Throws
// UserError (125) when it cannot be made.
void prepare(const ContainerPaths &paths);

// Removes the box; false when something in it could not be removed.
bool remove(const ContainerPaths &paths);

// The keeper holds its lock: the container is running. A lock file that is not
// a regular file (a FIFO, a link) counts as no keeper.
bool keeper_alive(const ContainerPaths &paths);

// The pid an exec session recorded in s/<session>: a positive number > 1, read
// from at most a few bytes of a regular file; nullopt otherwise.
std::optional<long> session_pid(const ContainerPaths &paths, const std::string &session);

// Removes s/<session>; true when it was there (the command started).
bool forget_session(const ContainerPaths &paths, const std::string &session);

// The signal FIFO opened for writing without blocking, or -1 (gone, full, or
// not a FIFO).
int open_signal_fifo(const ContainerPaths &paths);

// A connected stream socket to the agent, or -1 when there is no socket (a
// planted link or file is never followed).
int connect_agent(const ContainerPaths &paths);

// Whether the box holds an agent socket (for `fod which`).
bool has_agent_socket(const ContainerPaths &paths);

} // namespace fod::containers::box
