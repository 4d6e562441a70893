#pragma once

// Small RAII helpers shared by the unit tests: a private temporary directory,
// files written into it, and environment variables restored on scope exit.

#include "util/fs.hpp"

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace fod::test {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/fod-unit-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (mkdtemp(buffer.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed for " + pattern);
    }
    m_path = buffer.data();
  }
  ~TempDir() { util::remove_tree(m_path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return m_path; }

  // The absolute path of relative inside the directory.
  std::string operator/(const std::string& relative) const { return util::join(m_path, relative); }

  // Writes relative (creating its parent directories) and returns its absolute path.
  std::string write(const std::string& relative, const std::string& content, mode_t mode = 0644) const {
    std::string file = *this / relative;
    util::make_directories(util::dirname(file), 0755);
    if (!util::write_file_atomic(file, content, mode)) {
      throw std::runtime_error("cannot write " + file);
    }
    chmod(file.c_str(), mode); // write_file_atomic's mode is filtered by the umask
    return file;
  }

  // Creates relative as a directory (and its parents) and returns its absolute path.
  std::string mkdir(const std::string& relative, mode_t mode = 0755) const {
    std::string dir = *this / relative;
    util::make_directories(dir, mode);
    return dir;
  }

private:
  std::string m_path;
};

// Changes the working directory for a scope; restores the previous one.
class CwdGuard {
public:
  explicit CwdGuard(const std::string& dir) : m_old(std::filesystem::current_path()) {
    std::filesystem::current_path(dir);
  }
  ~CwdGuard() { std::filesystem::current_path(m_old); }
  CwdGuard(const CwdGuard&) = delete;
  CwdGuard& operator=(const CwdGuard&) = delete;

private:
  std::filesystem::path m_old;
};

// Sets or unsets environment variables for a scope; restores every previous value.
class EnvGuard {
public:
  EnvGuard() = default;
  ~EnvGuard() {
    for (auto it = m_saved.rbegin(); it != m_saved.rend(); ++it) {
      if (it->second) {
        setenv(it->first.c_str(), it->second->c_str(), 1);
      } else {
        unsetenv(it->first.c_str());
      }
    }
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;

  void set(const std::string& name, const std::string& value) {
    save(name);
    setenv(name.c_str(), value.c_str(), 1);
  }
  void unset(const std::string& name) {
    save(name);
    unsetenv(name.c_str());
  }

private:
  void save(const std::string& name) {
    const char* old = std::getenv(name.c_str());
    m_saved.emplace_back(name, old != nullptr ? std::optional<std::string>(old) : std::nullopt);
  }

  std::vector<std::pair<std::string, std::optional<std::string>>> m_saved;
};

} // namespace fod::test
