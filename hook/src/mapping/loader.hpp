#pragma once

#include "mapping/entry.hpp"

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

// Applies one mapping file's text on top of mapping: a later entry replaces an
// earlier one whole, `disabled: true` removes it. Problems go to diagnostics;
// a file that does not parse changes nothing.
void apply_mapping_text(const std::string &text, const std::string &layer, const std::string &file,
                        Mapping &mapping);

// Applies one config.yaml's text on top of mapping.config, key by key.
void apply_config_text(const std::string &text, const std::string &file, Mapping &mapping);

// Loads every layer from disk.
Mapping load_layers(const std::vector<Layer> &layers);

} // namespace fod::mapping
