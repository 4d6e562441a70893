#include "util/lock.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>
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

bool is_locked_exclusively(const std::string &path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  bool locked = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  close(fd);
  return locked;
}

bool is_locked(const std::string &path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  bool locked = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  close(fd);
  return locked;
}

} // namespace fod::util
