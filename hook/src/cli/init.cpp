#include "shell/init.hpp"
#include "base/dirs.hpp"
#include "base/error.hpp"
#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "mapping/index.hpp"
#include "mapping/loader.hpp"

#include <fmt/format.h>

namespace fod::cli {

int init_command(const std::string &shell) {
  auto script = shell::init_script(shell, dirs::fod_program());
  if (!script) {
    throw UserError(2, fmt::format("init: unknown shell '{}': use bash, zsh or fish", shell));
  }
  fmt::print("{}", *script);
  // The config from a current index, else from the YAML, without writing the index or the shims:
  // `fod init` itself never makes them (a shell that is not hooked gets none).
  auto layers = mapping::default_layers();
  auto current = mapping::read_current_index(layers, mapping::default_cache_dir(), std::string());
  refresh_sources_when_due(current ? current->config : mapping::load_layers(layers).config);
  return 0;
}

int sync_command() {
  load_mapping(false, true);
  return 0;
}

} // namespace fod::cli
