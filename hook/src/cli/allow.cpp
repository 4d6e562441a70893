#include "base/error.hpp"
#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "pull/catalog.hpp"
#include "pull/flow.hpp"

#include <fmt/format.h>

namespace fod::cli {

int allow_command(const std::string &name) {
  auto mapping = load_mapping_for(name);
  const auto *entry = mapping.find(name);
  std::optional<mapping::Entry> from_catalog;
  if (entry == nullptr) {
    from_catalog = pull::lookup_catalogs(name, mapping.config);
    if (!from_catalog) {
      throw UserError(1, fmt::format("{} is not mapped{}", name,
                                     mapping.config.catalogs.empty()
                                         ? ""
                                         : " and no configured catalog has an image for it"));
    }
    entry = &*from_catalog;
  }
  fmt::print("{}", pull::allow_image(*entry, mapping.config));
  return 0;
}

} // namespace fod::cli
