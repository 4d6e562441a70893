#pragma once

#include "engine/engine.hpp"
#include "mapping/entry.hpp"
#include "run/runner.hpp"

#include <optional>
#include <string>

namespace fod::cli {

// The merged mapping, from the index; diagnostics are printed to stderr when the
// YAML was re-read now (or always, with print_all_diagnostics). A re-read also
// brings the shell shims in line with the mapping (or always, with sync_shims).
mapping::Mapping load_mapping(bool print_all_diagnostics = false, bool sync_shims = false);

// The same for one command: when the index is current only its entry is read.
mapping::Mapping load_mapping_for(const std::string &name);

// The engine to use; throws UserError (125) naming the fix when there is none.
engine::Engine require_engine(const mapping::Config &config);

// The request to run entry: a container of an image under a `verify:` scope is started only
// once fod has verified that image with the scope's keys (else run::ImageAbsent, and the
// caller obtains it, which verifies it).
run::RunRequest run_request(const mapping::Entry &entry, const mapping::Config &config,
                            const engine::Engine &engine, std::vector<std::string> args = {});

// Starts the detached helper that fetches the team mappings (fod _refresh) when the config
// lists mapping_sources and mapping_refresh has passed since the last attempt: one stat, and
// nothing at all without sources. A run never waits for a fetch.
void refresh_sources_when_due(const mapping::Config &config);

// NAME's entry: the mapping's, else the one a configured catalog has for it.
struct FoundEntry {
  const mapping::Entry *mapped = nullptr;
  std::optional<mapping::Entry> from_catalog;
  const mapping::Entry &entry() const { return mapped != nullptr ? *mapped : *from_catalog; }
};

// nullopt when neither the mapping nor a catalog knows name.
std::optional<FoundEntry> find_entry(const mapping::Mapping &mapping, const std::string &name);

// Why find_entry found nothing, for `fod which` and `fod allow`: "NAME is not mapped",
// and that no catalog has it when catalogs are configured.
std::string not_mapped_message(const mapping::Config &config, const std::string &name);

} // namespace fod::cli
