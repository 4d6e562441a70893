#include "cli/main.hpp"

#include <cstdio>
#include <cstdlib>

int main(int argc, char **argv) {
  int status = fod::cli::main(argc, argv);
  // As fod's: exit's handlers would only free memory. The iostreams CLI11 writes to go
  // through stdio (they are synchronised with it), so flushing stdio flushes them.
  std::fflush(nullptr);
  std::_Exit(status);
}
