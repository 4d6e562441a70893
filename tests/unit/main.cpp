// The Catch2 runner for the unit tests.
#define CATCH_CONFIG_MAIN
// Catch2's implementation pulls in <regex>, where GCC 12 with -fsanitize and
// -Werror reports a false -Wmaybe-uninitialized inside libstdc++.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <catch2/catch.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
