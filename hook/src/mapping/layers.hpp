#pragma once

#include <string>
#include <vector>

namespace fod::mapping {

// One configuration layer: its name and directory.
struct Layer {
  std::string name; // "package", "system" or "user"
  std::string dir;
};

// The layers in the order they apply, lowest first, from the environment:
// package ($FOD_DATADIR or <prefix>/share/fod), system ($FOD_SYSCONFDIR or /etc/fod),
// user ($XDG_CONFIG_HOME/fod or ~/.config/fod).
std::vector<Layer> default_layers();

// The mapping files of a layer in the order they apply: mappings.yaml, then
// mappings.d/*.yaml in name order. Only files that exist.
std::vector<std::string> mapping_files(const Layer &layer);

} // namespace fod::mapping
