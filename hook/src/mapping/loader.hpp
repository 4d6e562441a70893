#pragma once

#include "mapping/entry.hpp"
#include "mapping/layers.hpp"

#include <optional>
#include <string>
#include <vector>

namespace fod::mapping {

// Applies one mapping file's text on top of mapping: a later entry replaces an
// earlier one whole, `disabled: true` removes it. Problems go to diagnostics;
// a file that does not parse changes nothing and gives false.
bool apply_mapping_text(const std::string &text, const std::string &layer, const std::string &file,
                        Mapping &mapping);

// Applies one config.yaml's text on top of mapping.config, key by key.
void apply_config_text(const std::string &text, const std::string &file, Mapping &mapping);

// Loads every layer from disk.
Mapping load_layers(const std::vector<Layer> &layers);

// Parsing YAML costs milliseconds; fod runs on every missing command. The merged
// mapping is therefore kept as a compact JSON index in the cache directory
// (mapping/index.hpp) and rebuilt from the YAML here only when a source changed.
struct IndexResult {
  Mapping mapping;
  bool rebuilt = false; // true when the YAML was read now (diagnostics are fresh)
};

// The merged mapping of layers, from the index in cache_dir when it is current, else from
// the YAML, writing the index again. With only set, a current index yields just that
// command's entry (or none).
IndexResult load_indexed(const std::vector<Layer> &layers, const std::string &cache_dir,
                         const std::optional<std::string> &only = std::nullopt);

} // namespace fod::mapping
