#include "shell/init.hpp"
#include "base/dirs.hpp"
#include "base/error.hpp"
#include "cli/commands.hpp"
#include "cli/context.hpp"

#include <fmt/format.h>

namespace fod::cli {

int init_command(const std::string &shell) {
  auto script = shell::init_script(shell, dirs::fod_program());
  if (!script) {
    throw UserError(2, fmt::format("init: unknown shell '{}': use bash, zsh or fish", shell));
  }
  fmt::print("{}", *script);
  refresh_sources_when_due(load_mapping().config);
  return 0;
}

int sync_command() {
  load_mapping(false, true);
  return 0;
}

} // namespace fod::cli
