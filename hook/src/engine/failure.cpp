#include "engine/failure.hpp"

#include "util/text.hpp"

#include <optional>
#include <string_view>

namespace fod::engine {

namespace {

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// Lines that never say why a command failed: podman's logged warnings (its pull retries
// among them) and rootless podman's note on cgroups v1, printed on every run.
bool is_noise(std::string_view line) {
  return line.empty() || contains(line, "level=warning") ||
         contains(line, "Resource limits are not supported");
}

std::string without_prefixes(std::string_view line) {
  if (starts_with(line, "Error: ")) {
    line.remove_prefix(7);
  }
  if (starts_with(line, "docker: ")) {
    line.remove_prefix(8);
  }
  return util::printable(line);
}

} // namespace

Failure classify_failure(const std::string &stderr_text) {
  // podman: "the container name "N" is already in use by ID"; docker: "Conflict. The
  // container name "/N" is already in use by container "ID"".
  if (contains(stderr_text, "already in use") || contains(stderr_text, "Conflict")) {
    return Failure::name_in_use;
  }
  // podman: "Error: NAME: image not known"; docker: "No such image: NAME".
  if (contains(stderr_text, "image not known") || contains(stderr_text, "No such image")) {
    return Failure::image_absent;
  }
  return Failure::other;
}

std::string error_line(const std::string &text) {
  std::optional<std::string_view> first;
  std::string_view rest = text;
  while (!rest.empty()) {
    const size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
    if (is_noise(line)) {
      continue;
    }
    if (contains(line, "rror")) { // "Error: ...", "docker: Error response ...", "... error ..."
      return without_prefixes(line);
    }
    if (!first) {
      first = line;
    }
  }
  return first ? without_prefixes(*first) : std::string();
}

} // namespace fod::engine
