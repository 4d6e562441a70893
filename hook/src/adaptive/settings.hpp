#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

namespace fod::adaptive {

// The config.yaml settings of `ttl: auto` and pre-warming. Plain values, so that
// they can travel in the mapping index and in a container's record.
struct Settings {
  bool ttl_auto = true;                  // `ttl: auto`, the default when nothing sets a ttl
  std::chrono::seconds ttl_min{60};      // the shortest ttl auto gives, and the re-check interval
  std::chrono::seconds ttl_max{60 * 60}; // the longest ttl auto gives
  bool prewarm = true;                   // start predicted containers ahead of time
  int max_warm = 8;                      // no pre-warm while this many containers are warm
  std::string memory_ceiling =
      "50%"; // no pre-warm past this sum of --memory limits (size or % of RAM)

  friend bool operator==(const Settings &, const Settings &) = default;
};

// Sets one key from its YAML scalar text; returns the problem (for "file:line: ...")
// and leaves settings unchanged when the value is bad.
std::optional<std::string> apply_setting(Settings &settings, const std::string &key,
                                         const std::string &value);

// Lossless JSON round trip, for the mapping index and info.json. Missing keys
// keep their defaults.
nlohmann::json settings_to_json(const Settings &settings);
Settings settings_from_json(const nlohmann::json &j);

// A memory size as the engines read it ("512m", "2g", "1024"), in bytes.
std::optional<std::uint64_t> parse_memory(const std::string &text);

// The ceiling in bytes for a machine with ram_bytes of memory.
std::uint64_t memory_ceiling_bytes(const Settings &settings, std::uint64_t ram_bytes);

// This machine's physical memory in bytes.
std::uint64_t physical_memory();

} // namespace fod::adaptive
