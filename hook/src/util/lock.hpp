#pragma once

#include <string>

namespace fod::util {

// An open lock file and the flock(2) held on it, released on destruction.
// Locks follow the open file, so they also work across the bind mount into a
// container and vanish with the process that held them.
class FileLock {
public:
  enum class Mode { shared, exclusive };

  // Opens (creating) path; throws std::system_error when it cannot.
  explicit FileLock(const std::string &path);
  ~FileLock();
  FileLock(const FileLock &) = delete;
  FileLock &operator=(const FileLock &) = delete;

  // Blocks until the lock is held in mode.
  void lock(Mode mode);
  // Takes the lock in mode if nobody holds a conflicting one; false otherwise.
  bool try_lock(Mode mode);
  void unlock();

private:
  int m_fd = -1;
};

// True when some process holds a lock on path that conflicts with a shared one
// (the holder is alive). A missing file means nobody holds it.
bool is_locked_exclusively(const std::string &path);

// True when some process holds any lock on path, shared or exclusive. A missing
// file means nobody holds it.
bool is_locked(const std::string &path);

} // namespace fod::util
