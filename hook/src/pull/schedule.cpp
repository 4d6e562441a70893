#include "pull/schedule.hpp"

#include "base/dirs.hpp"
#include "util/fs.hpp"

#include <ctime>
#include <sys/stat.h>
#include <unistd.h>

namespace fod::pull {

std::string attempt_stamp() {
  return util::join(dirs::team_mappings(), "fetched");
}

bool has_team_copies() {
  return access(attempt_stamp().c_str(), F_OK) == 0;
}

bool refresh_due(const mapping::Config &config) {
  if (config.mapping_sources.empty()) {
    return false;
  }
  struct stat st {};
  if (stat(attempt_stamp().c_str(), &st) != 0) {
    return true;
  }
  return std::time(nullptr) - st.st_mtim.tv_sec >= config.mapping_refresh.count();
}

} // namespace fod::pull
