#include "cli/fast.hpp"

#include <cstdio>
#include <cstdlib>

int main(int argc, char **argv) {
  int status = fod::cli::fast_main(argc, argv);
  // All that exit's handlers would still do is free memory (the static tables): flush stdio
  // and end, since every warm call would pay for it.
  std::fflush(nullptr);
  std::_Exit(status);
}
