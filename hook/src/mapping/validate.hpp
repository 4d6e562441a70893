#pragma once

#include <optional>
#include <string>

namespace fod::mapping {

// Each check returns nullopt when valid, else the reason, phrased for the user.

// A command name: letters, digits and ._+- ; not starting with '-' or '.'.
std::optional<std::string> check_command_name(const std::string &name);

// An image reference that pins a tag or a sha256 digest, as the engines accept it:
// [host[:port]/]path[:tag][@sha256:<64 hex>], by the one grammar of
// registry::parse_reference (so no image can start with '-' or hold "a..b").
std::optional<std::string> check_image_reference(const std::string &image);

// A catalog: a registry and repository prefix under which images are named after the
// command they provide (registry.example.com/tools: tools/jq:latest is jq).
std::optional<std::string> check_catalog(const std::string &catalog);

// A capability name such as NET_RAW (CAP_ prefix and case are normalised first).
std::optional<std::string> check_capability(const std::string &capability);

// A memory size for the engine's --memory: digits with an optional b, k, m or g.
std::optional<std::string> check_memory(const std::string &memory);

// Upper-cases a capability and strips a leading "CAP_".
std::string normalize_capability(const std::string &capability);

} // namespace fod::mapping
