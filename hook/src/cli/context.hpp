#pragma once

#include "engine/engine.hpp"
#include "mapping/entry.hpp"

namespace fod::cli {

// The merged mapping, from the index; diagnostics are printed to stderr when the
// YAML was re-read now (or always, with print_all_diagnostics).
mapping::Mapping load_mapping(bool print_all_diagnostics = false);

// The engine to use; throws UserError (125) naming the fix when there is none.
engine::Engine require_engine(const mapping::Config& config);

} // namespace fod::cli
