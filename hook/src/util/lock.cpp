#include "util/lock.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace fod::util {

FileLock::FileLock(const std::string &path) {
  m_fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (m_fd < 0) {
    throw std::system_error(errno, std::generic_category(), path);
  }
}

FileLock::~FileLock() {
  if (m_fd >= 0) {
    close(m_fd);
  }
}

void FileLock::lock(Mode mode) {
  int op = mode == Mode::shared ? LOCK_SH : LOCK_EX;
  while (flock(m_fd, op) != 0) {
    if (errno != EINTR) {
      throw std::system_error(errno, std::generic_category(), "flock");
    }
  }
}

bool FileLock::try_lock(Mode mode) {
  int op = (mode == Mode::shared ? LOCK_SH : LOCK_EX) | LOCK_NB;
  return flock(m_fd, op) == 0;
}

void FileLock::unlock() {
  flock(m_fd, LOCK_UN);
}

namespace {

// Whether flock(op | LOCK_NB) on a new descriptor of path would block: some
// process holds a lock that conflicts with op. A missing file: nobody does.
bool would_block(const std::string &path, int op) {
  // Never blocking, never through a link: a FIFO or a link there is nobody's lock.
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
  if (fd < 0) {
    return false;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return false;
  }
  bool blocked = flock(fd, op | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  close(fd);
  return blocked;
}

} // namespace

bool is_locked_exclusively(const std::string &path) {
  return would_block(path, LOCK_SH);
}

bool is_locked(const std::string &path) {
  return would_block(path, LOCK_EX);
}

} // namespace fod::util
