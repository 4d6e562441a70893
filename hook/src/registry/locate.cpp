#include "registry/locate.hpp"

#include "util/environment.hpp"
#include "util/fs.hpp"

#include <unistd.h>

namespace fod::registry {

std::string helper_path() {
  if (auto over = util::get_env("FOD_REGISTRY")) {
    return *over;
  }
  std::string exe_dir = util::dirname(util::executable_path());
  std::string installed = util::join(util::dirname(exe_dir), "libexec/fod/fod-registry");
  if (access(installed.c_str(), X_OK) == 0) {
    return installed;
  }
  return util::join(exe_dir, "fod-registry");
}

} // namespace fod::registry
