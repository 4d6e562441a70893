#include "shell/shims.hpp"

#include "base/dirs.hpp"
#include "util/environment.hpp"
#include "util/fs.hpp"

#include <climits>
#include <dirent.h>
#include <set>
#include <unistd.h>

namespace fod::shell {

std::string shim_dir() {
  return dirs::shims();
}

namespace {

std::string link_target(const std::string &path) {
  char buffer[PATH_MAX];
  ssize_t n = readlink(path.c_str(), buffer, sizeof buffer - 1);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
}

} // namespace

void sync_shims(const mapping::Mapping &mapping, const std::vector<std::string> &catalog_names,
                const std::vector<std::string> &sources, const std::string &fod_path,
                const std::string &dir) {
  if (!util::make_directories(dir, 0755)) {
    return;
  }
  std::set<std::string> wanted(catalog_names.begin(), catalog_names.end());
  for (const auto &[name, entry] : mapping.entries) {
    wanted.insert(name);
  }
  std::set<std::string> present;
  if (DIR *d = opendir(dir.c_str())) {
    while (const dirent *e = readdir(d)) {
      if (e->d_name[0] != '.') {
        present.insert(e->d_name);
      }
    }
    closedir(d);
  }
  for (const auto &name : present) {
    std::string path = util::join(dir, name);
    if (wanted.count(name) == 0 || link_target(path) != fod_path) {
      unlink(path.c_str());
    }
  }
  for (const auto &name : wanted) {
    std::string path = util::join(dir, name);
    if (link_target(path) == fod_path) {
      continue;
    }
    // Create beside, then rename: a shell never sees a half-made shim.
    std::string tmp = util::join(dir, ".new-" + name);
    unlink(tmp.c_str());
    if (symlink(fod_path.c_str(), tmp.c_str()) == 0) {
      rename(tmp.c_str(), path.c_str());
    }
  }
  std::string listing;
  for (const auto &source : sources) {
    listing += source + "\n";
  }
  listing += fod_path + "\n";
  util::write_file_atomic(util::join(dir, ".sources"), listing, 0644);
  std::string marker = util::join(dir, ".catalogs");
  if (mapping.config.catalogs.empty()) {
    unlink(marker.c_str());
  } else {
    util::touch(marker);
  }
  util::touch(util::join(dir, ".stamp"));
}

} // namespace fod::shell
