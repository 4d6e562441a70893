#pragma once

namespace fod::cli {

// fod-commands' entry point, for what fod (cli/fast.hpp) hands over: dispatches argv to a
// subcommand, or runs the command named by argv[0] when invoked through a shim symlink (the
// mapping rebuilt from the YAML first when it changed). Never throws: anything unexpected
// becomes one "fod: error:" line and status 125.
int main(int argc, char **argv);

} // namespace fod::cli
