#pragma once

#include <optional>
#include <string>
#include <vector>

// Where fod keeps its own files: the one place that knows. No container may see
// or change any of these directories (see containers/mount_plan.hpp).
namespace fod::dirs {

// fod's private runtime directory (records, locks, the boxes of warm containers):
// $XDG_RUNTIME_DIR/fod; without XDG_RUNTIME_DIR /tmp/fod-<uid>, and when another
// user holds that name (or it is not private), $XDG_CACHE_HOME/fod/run instead
// (see runtime_fallback_note). Created 0700; throws std::runtime_error when no
// private directory can be had.
std::string runtime();

// Why runtime() is not where it would usually be, in one line naming the
// directory it uses instead; nullopt when it is.
std::optional<std::string> runtime_fallback_note();

// $XDG_STATE_HOME/fod (default ~/.local/state/fod): the run record, consent,
// the reaper's log.
std::string state();

// $XDG_CACHE_HOME/fod (default ~/.cache/fod): the mapping index, the shims,
// catalog misses.
std::string cache();

// $XDG_CONFIG_HOME/fod (default ~/.config/fod): the user's mappings and config.yaml.
std::string config();

// The directory of the shell shims: $FOD_SHIM_DIR, or cache()/shims.
std::string shims();

// The fod users run, which the shims, the shell integration and the detached helpers
// name: this program, or, in fod-commands, the fod that handed it the call ($FOD_PROGRAM).
std::string fod_program();

// fod's helper programs: $FOD_KEEPER / $FOD_REGISTRY / $FOD_COMMANDS when set, else
// <prefix>/libexec/fod/NAME next to the installed fod, else beside fod in a build tree.
std::string keeper_program();
std::string registry_program();
std::string commands_program();

// The package's mapping layer: $FOD_DATADIR, or <prefix>/share/fod next to fod.
std::string package_mappings();

// The system's mapping layer and config: $FOD_SYSCONFDIR, or /etc/fod.
std::string system_config();

// The team layer: state()/team, the last good copies of the mappings fetched from
// config.yaml's mapping_sources (mappings.d/), and what fod knows of each fetch.
std::string team_mappings();

// All of the above (runtime, state, cache, config, shims), as the paths are
// configured, and $XDG_RUNTIME_DIR, the session's sockets: none may be reached
// from a container.
std::vector<std::string> private_dirs();

} // namespace fod::dirs
