#pragma once

#include "mapping/entry.hpp"

#include <string>
#include <vector>

namespace fod::cli {

// One function per subcommand; each returns fod's exit status.

// fod run NAME [ARGS...]: runs a mapped command of mapping (its entry for NAME, at least); 127
// when NAME is not mapped.
int run_command(const mapping::Mapping &mapping, const std::string &name,
                const std::vector<std::string> &args);

// fod which NAME: where NAME is defined, its image, engine and warm state; 1 when unmapped.
// The registry is asked about the image only when the engine lacks it, or with ask_registry;
// never about a localhost/ name.
int which_command(const std::string &name, const std::vector<std::string> &args = {},
                  bool ask_registry = false);

// fod allow NAME: records consent to pull NAME's image (mapped or found in a catalog).
int allow_command(const std::string &name);

// fod _catalog NAME: 0 when NAME is mapped or a configured catalog has an image for it (the
// shim is made), 1 on a miss. The shell handlers call it for unmapped names.
int catalog_command(const std::string &name);

// fod ps: the warm containers.
int ps_command();

// fod stop NAME | --all: removes the warm containers of NAME's image, or all.
int stop_command(const std::string &name, bool all);

// fod gc: removes fod's containers whose reaper is gone.
int gc_command();

// fod init SHELL: prints the shell integration for bash, zsh or fish.
int init_command(const std::string &shell);

// fod _sync: re-reads the mapping if it changed and brings the shims in line (the shell hooks call
// it).
int sync_command();

// fod _prewarm NAME SPAWNED_AT: the detached pre-warm helper after a run of NAME
// (internal); SPAWNED_AT is when the run spawned it (seconds since the epoch).
int prewarm_command(const std::string &name, double spawned_at);

// fod update: fetches the mapping_sources now and prints what changed; 1 when a source failed
// (its last good copy stays).
int update_command();

// fod publish FILE REF: checks a mapping file and pushes it as a fod mappings artifact.
int publish_command(const std::string &file, const std::string &reference);

// fod _refresh: the detached helper that fetches the mapping_sources when mapping_refresh has
// passed since the last attempt (internal).
int refresh_command();

// fod _reap DIR: the detached reaper (internal).
int reap_command(const std::string &dir);

} // namespace fod::cli
