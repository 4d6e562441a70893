#include "pull/catalog.hpp"
#include "cli/commands.hpp"
#include "cli/context.hpp"

namespace fod::cli {

int catalog_command(const std::string &name) {
  auto mapping = load_mapping_for(name);
  if (mapping.find(name) != nullptr) {
    return 0;
  }
  if (!pull::lookup_catalogs(name, mapping.config)) {
    return 1;
  }
  // A shim from now on: the next call needs neither the handler nor a lookup.
  load_mapping(false, true);
  return 0;
}

} // namespace fod::cli
