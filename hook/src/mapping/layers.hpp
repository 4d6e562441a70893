#pragma once

#include <string>
#include <vector>

namespace fod::mapping {

// One configuration layer: its name and directory.
struct Layer {
  std::string name; // "package", "team", "system" or "user"
  std::string dir;
  // Whether its config.yaml is read: not the team layer's, which holds only what fod fetched
  // from mapping_sources (commands, never settings such as verify:).
  bool has_config = true;
};

// The layers in the order they apply, lowest first, from the environment:
// package ($FOD_DATADIR or <prefix>/share/fod), team (dirs::team_mappings(): the mappings
// fetched from config.yaml's mapping_sources), system ($FOD_SYSCONFDIR or /etc/fod),
// user ($XDG_CONFIG_HOME/fod or ~/.config/fod).
std::vector<Layer> default_layers();

// The mapping files of a layer in the order they apply: mappings.yaml, then
// mappings.d/*.yaml in name order. Only files that exist.
std::vector<std::string> mapping_files(const Layer &layer);

} // namespace fod::mapping
