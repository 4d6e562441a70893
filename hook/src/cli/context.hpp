#pragma once

#include "engine/engine.hpp"
#include "mapping/entry.hpp"

namespace fod::cli {

// The merged mapping, from the index; diagnostics are printed to stderr when the
// YAML was re-read now (or always, with print_all_diagnostics). A re-read also
// brings the shell shims in line with the mapping (or always, with sync_shims).
mapping::Mapping load_mapping(bool print_all_diagnostics = false, bool sync_shims = false);

// The same for one command: when the index is current only its entry is read.
mapping::Mapping load_mapping_for(const std::string &name);

// The engine to use; throws UserError (125) naming the fix when there is none.
engine::Engine require_engine(const mapping::Config &config);

} // namespace fod::cli
