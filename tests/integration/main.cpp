// Catch2 v2 main for fod's integration tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
