#include "cli/main.hpp"

int main(int argc, char **argv) {
  return fod::cli::main(argc, argv);
}
