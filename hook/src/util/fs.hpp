#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <sys/types.h>
#include <unordered_map>

namespace fod::util {

// A file descriptor, closed when it goes out of scope; get() is -1 for none.
class UniqueFd {
public:
  explicit UniqueFd(int fd = -1) : m_fd(fd) {}
  ~UniqueFd();
  UniqueFd(const UniqueFd &) = delete;
  UniqueFd &operator=(const UniqueFd &) = delete;
  int get() const { return m_fd; }
  // Closes it now.
  void reset();

private:
  int m_fd;
};

// The file's whole content, or nullopt when it cannot be read.
std::optional<std::string> read_file(const std::string &path);

// Everything left to read from fd, or nullopt on a read error.
std::optional<std::string> read_all(int fd);

// Writes all of data to fd, again after a partial write or EINTR; false on an error.
bool write_all(int fd, std::string_view data);

// The same on a socket, with MSG_NOSIGNAL: a peer that went away is an error, not SIGPIPE.
bool send_all(int socket, std::string_view data);

// Replaces path's content atomically (write to a temporary file, then rename).
// Returns false when it could not.
bool write_file_atomic(const std::string &path, const std::string &content, mode_t mode = 0600);

// Creates path and its parents with mode; true when it exists as a directory.
bool make_directories(const std::string &path, mode_t mode = 0700);

// A directory only the calling user can use: created 0700 when missing, and
// refused (false) when it exists but belongs to someone else or is group/other
// accessible. Used for the runtime directory that holds locks and sockets.
bool make_private_directory(const std::string &path);

// Removes path and everything below it, never following a symbolic link below
// path's directory (safe in a directory that someone else can change meanwhile)
// and going at most max_depth levels deep. True when path is gone (or was
// never there).
bool remove_tree(const std::string &path, int max_depth = 64);

// Sets path's modification time to now, creating it when missing.
void touch(const std::string &path);

// The modification time of path in seconds since the epoch, if it exists.
std::optional<double> modification_time(const std::string &path);

// An absolute path written the one way: repeated slashes collapsed, "." parts
// and a trailing slash removed ("//usr/./bin/" -> "/usr/bin"). ".." is kept.
std::string normalize_path(const std::string &path);

// An absolute path with its ".." parts applied to the text, as the container's
// mount points see it ("/a/b/../c" -> "/a/c", "/.." -> "/"); links are not consulted.
std::string lexically_normal(const std::string &path);

// Joins two path pieces with exactly one '/'.
std::string join(const std::string &a, const std::string &b);

// The directory part of path ("/a/b" -> "/a").
std::string dirname(const std::string &path);

// The last component of path ("/a/b" -> "b").
std::string basename(const std::string &path);

// True when inner is outer or lies below it ("/a/b" is under "/a", "/ab" is not).
bool is_same_or_under(const std::string &inner, const std::string &outer);

// The absolute path of the running executable, as it was when first asked.
std::string executable_path();

// realpath(3) that remembers what it resolved: the paths fod checks (PATH's directories, its
// own, the project's) share their parents, and each component costs a readlink otherwise,
// once per path. Only for paths resolved within one decision: what it remembers goes stale
// when a link changes.
class RealPaths {
public:
  // The real path of path, or nothing when it does not exist or cannot be resolved.
  std::optional<std::string> resolve(const std::string &path);

private:
  std::optional<std::string> walk(const std::string &path, int &links_left);
  // A path whose parent is real -> its real path (nothing when it does not exist).
  std::unordered_map<std::string, std::optional<std::string>> m_known;
};

} // namespace fod::util
