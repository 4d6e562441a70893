#pragma once

#include <functional>

namespace fod::cli {

// fod's entry point (hook/fod): the calls on a command's path (a shim, `fod run NAME`, and
// `--version`) are served here when the mapping's index is current. Everything else, and a
// run whose mapping changed since the index was written, is handed whole to fod-commands
// (cli::main), which links CLI11 and yaml-cpp: their start-up (iostreams, locale, a larger
// program to map and relocate) is then paid only by the calls that need them.
int fast_main(int argc, char **argv);

// Reopens a closed stdin, stdout or stderr on /dev/null, or the next file fod opens (a lock
// file, the agent's socket) would take its place and be handed to the command.
void keep_stdio_open();

// Runs body and turns what it throws into fod's one line on stderr and its status: the one
// place that does, for both entry points. Never throws.
int with_error_lines(const std::function<int()> &body) noexcept;

} // namespace fod::cli
