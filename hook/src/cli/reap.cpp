#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "containers/reaper.hpp"

namespace fod::cli {

int reap_command(const std::string &dir) {
  // Only a container directory of this runtime directory, whatever argv says.
  auto paths = containers::paths_for_dir(dir);
  if (!paths) {
    return 2;
  }
  auto mapping = load_mapping();
  std::string why;
  return containers::reap(*paths, engine::select_engine(mapping.config.engine, &why));
}

} // namespace fod::cli
