#pragma once

namespace fod::cli {

// fod's entry point: dispatches argv to a subcommand, or runs the command named
// by argv[0] when invoked through a shim symlink. Never throws: anything
// unexpected becomes one "fod: error:" line and status 125.
int main(int argc, char **argv);

} // namespace fod::cli
