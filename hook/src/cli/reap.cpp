#include "cli/commands.hpp"
#include "warm/reaper.hpp"

namespace fod::cli {

int reap_command(const std::string &dir) {
  return warm::reap(warm::ContainerPaths(dir));
}

} // namespace fod::cli
