#include "mapping/layers.hpp"

#include "base/dirs.hpp"
#include "util/fs.hpp"

#include <algorithm>
#include <dirent.h>
#include <unistd.h>

namespace fod::mapping {

std::vector<Layer> default_layers() {
  return {{"package", dirs::package_mappings()},
          {"team", dirs::team_mappings(), false},
          {"system", dirs::system_config()},
          {"user", dirs::config()}};
}

std::vector<std::string> mapping_files(const Layer &layer) {
  std::vector<std::string> files;
  std::string main_file = util::join(layer.dir, "mappings.yaml");
  if (access(main_file.c_str(), F_OK) == 0) {
    files.push_back(main_file);
  }
  std::string drop_in = util::join(layer.dir, "mappings.d");
  std::vector<std::string> names;
  if (DIR *dir = opendir(drop_in.c_str())) {
    while (const dirent *e = readdir(dir)) {
      std::string name = e->d_name;
      if (name.size() > 5 && name.compare(name.size() - 5, 5, ".yaml") == 0 && name[0] != '.') {
        names.push_back(name);
      }
    }
    closedir(dir);
  }
  std::sort(names.begin(), names.end());
  for (const auto &name : names) {
    files.push_back(util::join(drop_in, name));
  }
  return files;
}

} // namespace fod::mapping
