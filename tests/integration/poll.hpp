// Waiting for a condition in the integration tests.
#pragma once

#include <chrono>
#include <functional>

namespace fod::test {

// Calls done() every `every` until it returns true (then true) or timeout_s
// has passed (then false, after one last call).
bool poll_until(const std::function<bool()>& done, double timeout_s,
                std::chrono::milliseconds every = std::chrono::milliseconds(50));
// Seconds since `start`.
double seconds_since(std::chrono::steady_clock::time_point start);

}  // namespace fod::test
