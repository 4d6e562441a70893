#include "containers/box.hpp"

#include "agent_proto.h"
#include "base/error.hpp"
#include "util/fs.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace fod::containers::box {

namespace {

// The box itself: fod made it, inside its own directory, so only what is in it
// can have been planted.
int open_box(const ContainerPaths &paths) {
  return open(paths.box().c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

// name in the box, opened without following a link and without blocking, if it
// is of the file type `type` (S_IFREG, S_IFIFO, S_IFSOCK, S_IFDIR).
int open_in(int dir_fd, const char *name, int flags, mode_t type) {
  if (dir_fd < 0) {
    return -1;
  }
  int fd = openat(dir_fd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    return -1;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || (st.st_mode & S_IFMT) != type) {
    close(fd);
    return -1;
  }
  return fd;
}

int open_sessions(int box_fd) {
  return open_in(box_fd, "s", O_RDONLY | O_DIRECTORY, S_IFDIR);
}

} // namespace

bool remove(const ContainerPaths &paths) {
  return util::remove_tree(paths.box(), 8);
}

void prepare(const ContainerPaths &paths) {
  if (!remove(paths)) {
    // Left by a container that made it deeper than fod goes: out of the way.
    std::string aside = fmt::format("{}.stale.{}", paths.box(), getpid());
    rename(paths.box().c_str(), aside.c_str());
  }
  if (mkdir(paths.box().c_str(), 0700) != 0) {
    throw UserError(status_engine_failure,
                    fmt::format("cannot prepare {}: {}", paths.box(), strerror(errno)));
  }
  util::UniqueFd box(open_box(paths));
  int alive = box.get() < 0 ? -1
                            : openat(box.get(), "alive",
                                     O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (alive < 0 || mkdirat(box.get(), "s", 0700) != 0 || mkfifoat(box.get(), "signal", 0600) != 0) {
    int error = errno;
    if (alive >= 0) {
      close(alive);
    }
    throw UserError(status_engine_failure,
                    fmt::format("cannot prepare {}: {}", paths.box(), strerror(error)));
  }
  close(alive);
}

bool keeper_alive(const ContainerPaths &paths) {
  util::UniqueFd box(open_box(paths));
  int fd = open_in(box.get(), "alive", O_RDONLY, S_IFREG);
  if (fd < 0) {
    return false;
  }
  bool locked = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  close(fd);
  return locked;
}

std::optional<long> session_pid(const ContainerPaths &paths, const std::string &session) {
  util::UniqueFd box(open_box(paths));
  util::UniqueFd sessions(open_sessions(box.get()));
  int fd = open_in(sessions.get(), session.c_str(), O_RDONLY, S_IFREG);
  if (fd < 0) {
    return std::nullopt;
  }
  char text[24] = {};
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0) {
    return std::nullopt;
  }
  char *end = nullptr;
  long pid = std::strtol(text, &end, 10);
  if (end == text || (*end != '\n' && *end != '\0') || pid <= 1 || pid > (1L << 22)) {
    return std::nullopt;
  }
  return pid;
}

bool forget_session(const ContainerPaths &paths, const std::string &session) {
  util::UniqueFd box(open_box(paths));
  util::UniqueFd sessions(open_sessions(box.get()));
  return sessions.get() >= 0 && unlinkat(sessions.get(), session.c_str(), 0) == 0;
}

int open_signal_fifo(const ContainerPaths &paths) {
  util::UniqueFd box(open_box(paths));
  return open_in(box.get(), "signal", O_WRONLY, S_IFIFO);
}

int connect_agent(const ContainerPaths &paths) {
  util::UniqueFd box(open_box(paths));
  // O_PATH|O_NOFOLLOW pins the socket itself; connecting through its
  // /proc/self/fd link reaches that inode, never a link's target.
  int pinned =
      box.get() < 0 ? -1 : openat(box.get(), FOD_AGENT_SOCKET, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (pinned < 0) {
    return -1;
  }
  struct stat st {};
  int sock = -1;
  if (fstat(pinned, &st) == 0 && S_ISSOCK(st.st_mode)) {
    sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string target = fmt::format("/proc/self/fd/{}", pinned);
    std::memcpy(addr.sun_path, target.c_str(), target.size() + 1);
    if (sock >= 0 && connect(sock, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
      close(sock);
      sock = -1;
    }
  }
  close(pinned);
  return sock;
}

bool has_agent_socket(const ContainerPaths &paths) {
  util::UniqueFd box(open_box(paths));
  if (box.get() < 0) {
    return false;
  }
  struct stat st {};
  return fstatat(box.get(), FOD_AGENT_SOCKET, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
         S_ISSOCK(st.st_mode);
}

} // namespace fod::containers::box
