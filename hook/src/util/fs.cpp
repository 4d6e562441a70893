#include "util/fs.hpp"

#include <cerrno>
#include <climits>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace fod::util {

UniqueFd::~UniqueFd() {
  reset();
}

void UniqueFd::reset() {
  if (m_fd >= 0) {
    close(m_fd);
    m_fd = -1;
  }
}

std::optional<std::string> read_file(const std::string &path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return std::nullopt;
  }
  auto content = read_all(fd);
  close(fd);
  return content;
}

namespace {

// The one write loop: put is write(2) or send(2).
template <typename Put> bool put_all(std::string_view data, Put put) {
  while (!data.empty()) {
    ssize_t n = put(data.data(), data.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

} // namespace

std::optional<std::string> read_all(int fd) {
  std::string content;
  char buffer[65536];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n > 0) {
      content.append(buffer, static_cast<size_t>(n));
    } else if (n == 0) {
      return content;
    } else if (errno != EINTR) {
      return std::nullopt;
    }
  }
}

bool write_all(int fd, std::string_view data) {
  return put_all(data, [fd](const char *p, size_t n) { return write(fd, p, n); });
}

bool send_all(int socket, std::string_view data) {
  return put_all(data,
                 [socket](const char *p, size_t n) { return send(socket, p, n, MSG_NOSIGNAL); });
}

bool write_file_atomic(const std::string &path, const std::string &content, mode_t mode) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    return false;
  }
  if (!write_all(fd, content)) {
    close(fd);
    unlink(tmp.c_str());
    return false;
  }
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return false;
  }
  return true;
}

bool make_directories(const std::string &path, mode_t mode) {
  struct stat st {};
  if (stat(path.c_str(), &st) == 0) {
    return S_ISDIR(st.st_mode);
  }
  std::string parent = dirname(path);
  if (parent != path && !parent.empty()) {
    make_directories(parent, mode);
  }
  return mkdir(path.c_str(), mode) == 0 || errno == EEXIST;
}

bool make_private_directory(const std::string &path) {
  if (!make_directories(dirname(path), 0700)) {
    return false;
  }
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return false;
  }
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return false;
  }
  return st.st_uid == geteuid() && (st.st_mode & 077) == 0;
}

namespace {

// Removes name in the directory dir_fd and everything below it, never following
// a symbolic link: a directory is entered only through openat(O_NOFOLLOW), so an
// entry swapped for a link meanwhile is removed as the link. Gives up below
// max_depth (a tree someone made to exhaust the stack or the descriptors).
bool remove_at(int dir_fd, const char *name, int depth) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (unlinkat(dir_fd, name, 0) == 0 || errno == ENOENT) {
      return true;
    }
    if (errno != EISDIR && errno != EPERM) {
      return false;
    }
    if (depth <= 0) {
      return false;
    }
    int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      continue; // no longer a directory: unlink it as what it is now
    }
    DIR *dir = fdopendir(fd);
    if (dir == nullptr) {
      close(fd);
      return false;
    }
    while (const dirent *e = readdir(dir)) {
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
        remove_at(fd, e->d_name, depth - 1);
      }
    }
    closedir(dir);
    if (unlinkat(dir_fd, name, AT_REMOVEDIR) == 0 || errno == ENOENT) {
      return true;
    }
  }
  return false;
}

} // namespace

bool remove_tree(const std::string &path, int max_depth) {
  int parent = open(dirname(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (parent < 0) {
    return errno == ENOENT;
  }
  bool removed = remove_at(parent, basename(path).c_str(), max_depth);
  close(parent);
  return removed;
}

void touch(const std::string &path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0) {
    futimens(fd, nullptr);
    close(fd);
  }
}

std::optional<double> modification_time(const std::string &path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    return std::nullopt;
  }
  return static_cast<double>(st.st_mtim.tv_sec) + static_cast<double>(st.st_mtim.tv_nsec) * 1e-9;
}

std::string normalize_path(const std::string &path) {
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    size_t end = path.find('/', i);
    if (end == std::string::npos) {
      end = path.size();
    }
    std::string part = path.substr(i, end - i);
    if (!part.empty() && part != ".") {
      out += "/" + part;
    }
    i = end + 1;
  }
  if (out.empty()) {
    return path.empty() || path[0] != '/' ? path : "/";
  }
  return path[0] == '/' ? out : out.substr(1);
}

std::string lexically_normal(const std::string &path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= path.size()) {
    size_t end = path.find('/', i);
    if (end == std::string::npos) {
      end = path.size();
    }
    std::string part = path.substr(i, end - i);
    if (part == "..") {
      if (!parts.empty()) {
        parts.pop_back();
      }
    } else if (!part.empty() && part != ".") {
      parts.push_back(std::move(part));
    }
    i = end + 1;
  }
  std::string out;
  for (const auto &part : parts) {
    out += "/" + part;
  }
  return out.empty() ? "/" : out;
}

std::string join(const std::string &a, const std::string &b) {
  if (a.empty()) {
    return b;
  }
  if (a.back() == '/') {
    return a + b;
  }
  return a + "/" + b;
}

std::string dirname(const std::string &path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) {
    return ".";
  }
  if (slash == 0) {
    return "/";
  }
  return path.substr(0, slash);
}

std::string basename(const std::string &path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool is_same_or_under(const std::string &inner, const std::string &outer) {
  if (outer == "/") {
    return !inner.empty() && inner[0] == '/';
  }
  if (inner.compare(0, outer.size(), outer) != 0) {
    return false;
  }
  return inner.size() == outer.size() || inner[outer.size()] == '/';
}

std::string executable_path() {
  // Read once: a run asks for it for the package layer and for the keeper.
  static const std::string path = [] {
    char buffer[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buffer, sizeof buffer - 1);
    return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
  }();
  return path;
}

namespace {

bool is_directory(const std::string &path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

} // namespace

std::optional<std::string> RealPaths::resolve(const std::string &path) {
  // ".." after a non-directory, and a trailing slash, are realpath's to judge.
  const bool ends_with_dotdot = path.size() >= 3 && path.compare(path.size() - 3, 3, "/..") == 0;
  if (path.empty() || path[0] != '/' || (path.size() > 1 && path.back() == '/') ||
      path.find("/../") != std::string::npos || ends_with_dotdot) {
    char buffer[PATH_MAX];
    if (realpath(path.c_str(), buffer) == nullptr) {
      return std::nullopt;
    }
    return std::string(buffer);
  }
  int links_left = 40; // as the kernel's MAXSYMLINKS
  return walk(path, links_left);
}

std::optional<std::string> RealPaths::walk(const std::string &path, int &links_left) {
  std::string current = "/";
  for (size_t start = 1; start <= path.size();) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) {
      end = path.size();
    }
    std::string name = path.substr(start, end - start);
    start = end + 1;
    if (name.empty() || name == ".") {
      continue;
    }
    if (name == "..") { // only in a link's text; as for realpath, only out of a directory
      if (!is_directory(current)) {
        return std::nullopt;
      }
      current = dirname(current);
      continue;
    }
    std::string candidate = join(current, name);
    auto known = m_known.find(candidate);
    if (known == m_known.end()) {
      std::optional<std::string> real;
      char text[PATH_MAX];
      ssize_t length = readlink(candidate.c_str(), text, sizeof text);
      if (length >= 0 && static_cast<size_t>(length) < sizeof text) {
        std::string target(text, static_cast<size_t>(length));
        if (--links_left >= 0 && !target.empty()) {
          real = walk(target[0] == '/' ? target : join(current, target), links_left);
        }
      } else if (length < 0 && errno == EINVAL) {
        real = candidate; // there, and not a link
      }
      known = m_known.emplace(candidate, std::move(real)).first;
    }
    if (!known->second) {
      return std::nullopt;
    }
    current = *known->second;
  }
  if (path.back() == '/' && !is_directory(current)) {
    return std::nullopt;
  }
  return current;
}

} // namespace fod::util
