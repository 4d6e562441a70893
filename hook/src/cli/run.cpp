#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "error.hpp"
#include "warm/runner.hpp"

#include <fmt/format.h>

namespace fod::cli {

int run_command(const std::string &name, const std::vector<std::string> &args) {
  auto mapping = load_mapping_for(name);
  const auto *entry = mapping.find(name);
  if (entry == nullptr) {
    throw UserError(status_not_found,
                    fmt::format("{}: command not found (fod has no mapping for it)", name));
  }
  warm::RunRequest request;
  request.entry = entry;
  request.config = &mapping.config;
  request.engine = require_engine(mapping.config);
  request.args = args;
  return warm::run(request);
}

} // namespace fod::cli
