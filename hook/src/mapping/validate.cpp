#include "mapping/validate.hpp"

#include "registry/reference.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <vector>

namespace fod::mapping {

namespace {

// Why registry::parse_reference refused image, as precisely as can be said. Every verdict
// here is parse_reference's own, asked of one part of image at a time (with the other parts
// replaced by ones known to be good), so this only words the reason and never decides.
std::string why_not_a_reference(const std::string &image) {
  std::string rest = image;
  if (auto at = rest.find('@'); at != std::string::npos) {
    std::string digest = rest.substr(at + 1);
    rest = rest.substr(0, at);
    if (!registry::parse_reference("x@" + digest)) {
      return "the digest must be sha256: followed by 64 lowercase hex digits";
    }
  }
  auto last_slash = rest.rfind('/');
  auto colon = rest.rfind(':');
  if (colon != std::string::npos && (last_slash == std::string::npos || colon > last_slash)) {
    std::string tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    if (!registry::parse_reference("x:" + tag)) {
      return "the tag may hold only letters, digits and _ . - and not start with . or - (at "
             "most 128)";
    }
  }
  std::vector<std::string> components;
  size_t start = 0;
  while (true) {
    auto slash = rest.find('/', start);
    components.push_back(rest.substr(start, slash - start));
    if (slash == std::string::npos) {
      break;
    }
    start = slash + 1;
  }
  for (size_t i = 0; i < components.size(); ++i) {
    const auto &c = components[i];
    const bool host =
        i == 0 && components.size() > 1 &&
        (c.find_first_of(".:") != std::string::npos || c == "localhost" ||
         std::any_of(c.begin(), c.end(), [](char ch) { return ch >= 'A' && ch <= 'Z'; }));
    if (host) {
      if (!registry::parse_reference(c + "/x:1")) {
        return "'" + c +
               "' is not a registry host[:port] (letters, digits, . and -, not "
               "starting or ending with -)";
      }
    } else if (!registry::is_valid_path_component(c)) {
      return "'" + c +
             "' is not a valid part of an image name (lowercase letters and digits, "
             "joined by one . _ __ or a run of -)";
    }
  }
  return "not a valid image reference (at most 255 characters for registry and name)";
}

} // namespace

std::optional<std::string> check_command_name(const std::string &name) {
  if (name.empty() || name.size() > 128) {
    return "a command name must have 1 to 128 characters";
  }
  if (name[0] == '-' || name[0] == '.') {
    return "a command name may not start with '-' or '.'";
  }
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-' &&
        c != '+') {
      return "a command name may hold only letters, digits and . _ - +";
    }
  }
  return std::nullopt;
}

std::optional<std::string> check_catalog(const std::string &catalog) {
  auto first_slash = catalog.find('/');
  std::string host = catalog.substr(0, first_slash);
  if (first_slash == std::string::npos ||
      (host.find('.') == std::string::npos && host.find(':') == std::string::npos &&
       host != "localhost")) {
    return "must name a registry and a repository prefix, like registry.example.com/tools";
  }
  auto reference = registry::parse_reference(catalog + "/probe:latest");
  if (!reference || catalog.find('@') != std::string::npos ||
      reference->registry + "/" + reference->repository != catalog + "/probe") {
    return "is not a registry and repository prefix (lowercase, no tag or digest)";
  }
  return std::nullopt;
}

std::optional<std::string> check_image_reference(const std::string &image) {
  if (image.empty() || image.size() > 512) {
    return "the image reference is empty or too long";
  }
  // The grammar the engines and fod-registry read references with (fuzzed): nothing else
  // decides, so an image that passes can be neither an option nor a path trick.
  auto reference = registry::parse_reference(image);
  if (!reference) {
    return why_not_a_reference(image);
  }
  // parse_reference adds ":latest" to a bare name; the mapping must say what it runs.
  std::string name = image.substr(0, image.find('@'));
  auto colon = name.rfind(':');
  const bool has_tag = colon != std::string::npos && name.find('/', colon) == std::string::npos;
  if (!has_tag && reference->digest.empty()) {
    return "the image must be pinned to a tag (name:1.2) or a digest (name@sha256:...)";
  }
  return std::nullopt;
}

std::string normalize_capability(const std::string &capability) {
  std::string upper;
  for (char c : capability) {
    upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (upper.compare(0, 4, "CAP_") == 0) {
    upper = upper.substr(4);
  }
  return upper;
}

std::optional<std::string> check_capability(const std::string &capability) {
  static const std::set<std::string> known = {
      "AUDIT_CONTROL",   "AUDIT_READ",   "AUDIT_WRITE",
      "BLOCK_SUSPEND",   "BPF",          "CHECKPOINT_RESTORE",
      "CHOWN",           "DAC_OVERRIDE", "DAC_READ_SEARCH",
      "FOWNER",          "FSETID",       "IPC_LOCK",
      "IPC_OWNER",       "KILL",         "LEASE",
      "LINUX_IMMUTABLE", "MAC_ADMIN",    "MAC_OVERRIDE",
      "MKNOD",           "NET_ADMIN",    "NET_BIND_SERVICE",
      "NET_BROADCAST",   "NET_RAW",      "PERFMON",
      "SETFCAP",         "SETGID",       "SETPCAP",
      "SETUID",          "SYS_ADMIN",    "SYS_BOOT",
      "SYS_CHROOT",      "SYS_MODULE",   "SYS_NICE",
      "SYS_PACCT",       "SYS_PTRACE",   "SYS_RAWIO",
      "SYS_RESOURCE",    "SYS_TIME",     "SYS_TTY_CONFIG",
      "SYSLOG",          "WAKE_ALARM"};
  std::string name = normalize_capability(capability);
  if (name == "ALL") {
    return "capabilities: ALL is not allowed; list the capabilities the tool needs";
  }
  if (known.count(name) == 0) {
    return "unknown capability '" + capability + "'";
  }
  return std::nullopt;
}

std::optional<std::string> check_memory(const std::string &memory) {
  size_t i = 0;
  while (i < memory.size() && std::isdigit(static_cast<unsigned char>(memory[i]))) {
    ++i;
  }
  std::string unit = memory.substr(i);
  for (auto &c : unit) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (i == 0 || !(unit.empty() || unit == "b" || unit == "k" || unit == "m" || unit == "g")) {
    return "memory must be a number with an optional unit b, k, m or g (e.g. 512m)";
  }
  return std::nullopt;
}

} // namespace fod::mapping
