#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace fod::util {

// Parses "90", "90s", "10m", "2h", "1h30m" into seconds; nullopt when malformed.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

// Formats seconds the way parse_duration reads them, compactly ("1h30m", "45s").
std::string format_duration(std::chrono::seconds duration);

} // namespace fod::util
