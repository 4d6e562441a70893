#include "base/error.hpp"
#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "pull/flow.hpp"

#include <fmt/format.h>

namespace fod::cli {

int allow_command(const std::string &name) {
  auto mapping = load_mapping_for(name);
  const auto found = find_entry(mapping, name);
  if (!found) {
    throw UserError(1, not_mapped_message(mapping.config, name));
  }
  fmt::print("{}", pull::allow_image(found->entry(), mapping.config));
  return 0;
}

} // namespace fod::cli
