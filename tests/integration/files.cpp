// See files.hpp.
#include "files.hpp"

#include "harness.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <sstream>
#include <system_error>

namespace fod::test {

std::string read_file(const std::string& path) {
    // read(2), not an ifstream: libstdc++ throws from a failed read, as of a /proc file
    // whose process has just exited (ESRCH); here that is the text read so far.
    std::string text;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return text;
    char buffer[65536];
    for (;;) {
        ssize_t n = read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        text.append(buffer, static_cast<size_t>(n));
    }
    close(fd);
    return text;
}

void write_file(const std::string& path, const std::string& text, mode_t mode) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "open " + path);
    size_t off = 0;
    while (off < text.size()) {
        ssize_t n = write(fd, text.data() + off, text.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            throw std::system_error(e, std::generic_category(), "write " + path);
        }
        off += static_cast<size_t>(n);
    }
    fchmod(fd, mode);
    close(fd);
}

void replace_file(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp";
    write_file(tmp, text);
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
        throw std::system_error(errno, std::generic_category(), "rename " + tmp + " " + path);
}

bool path_exists(const std::string& path) {
    struct stat st {};
    return lstat(path.c_str(), &st) == 0;
}

std::string find_program(const std::string& name) {
    std::istringstream dirs(system_path);
    for (std::string dir; std::getline(dirs, dir, ':');) {
        const std::string path = dir + "/" + name;
        if (access(path.c_str(), X_OK) == 0) return path;
    }
    return "";
}

}  // namespace fod::test
