#pragma once

// When the team mappings are fetched again: a stamp marks each attempt. A file of its own, with
// nothing of the fetch: fod's run path asks it and must not link the YAML reader.

#include "mapping/entry.hpp"

#include <string>

namespace fod::pull {

// dirs::team_mappings()/fetched, touched at each attempt to fetch the sources.
std::string attempt_stamp();

// Whether sources are listed and the last attempt is older than mapping_refresh (or none was
// made). One stat; nothing when no source is listed.
bool refresh_due(const mapping::Config &config);

// Whether fod fetched sources before (their copies may be left after the list was emptied).
bool has_team_copies();

} // namespace fod::pull
