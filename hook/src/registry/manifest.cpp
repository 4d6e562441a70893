#include "registry/manifest.hpp"

#include "registry/reference.hpp"

#include <nlohmann/json.hpp>
#include <sys/utsname.h>

#include <limits>

namespace fod::registry {
namespace {

using nlohmann::json;

std::string_view strip_parameters(std::string_view content_type) {
  auto semicolon = content_type.find(';');
  content_type = content_type.substr(0, semicolon);
  while (!content_type.empty() && (content_type.back() == ' ' || content_type.back() == '\t')) {
    content_type.remove_suffix(1);
  }
  while (!content_type.empty() && (content_type.front() == ' ' || content_type.front() == '\t')) {
    content_type.remove_prefix(1);
  }
  return content_type;
}

const json &field(const json &object, const char *name, json::value_t type, const char *where) {
  auto it = object.find(name);
  if (it == object.end()) {
    throw ManifestError(std::string(where) + " has no \"" + name + "\"");
  }
  bool ok =
      it->type() == type || (type == json::value_t::number_integer && it->is_number_unsigned());
  if (!ok) {
    throw ManifestError(std::string(where) + ": \"" + name + "\" has the wrong type");
  }
  return *it;
}

std::optional<std::string> optional_string(const json &object, const char *name) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_string()) {
    return std::nullopt;
  }
  return it->get<std::string>();
}

Descriptor descriptor(const json &item, const char *where) {
  if (!item.is_object()) {
    throw ManifestError(std::string(where) + " entry is not an object");
  }
  Descriptor d;
  d.media_type = optional_string(item, "mediaType").value_or("");
  d.digest = field(item, "digest", json::value_t::string, where).get<std::string>();
  const json &size = field(item, "size", json::value_t::number_integer, where);
  if (size.is_number_unsigned()) {
    if (size.get<std::uint64_t>() >
        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      throw ManifestError(std::string(where) + " entry size is too large");
    }
    d.size = static_cast<std::int64_t>(size.get<std::uint64_t>());
  } else {
    d.size = size.get<std::int64_t>();
  }
  if (d.size < 0) {
    throw ManifestError(std::string(where) + " entry has a negative size");
  }
  auto platform = item.find("platform");
  if (platform != item.end() && platform->is_object()) {
    Platform p;
    p.os = optional_string(*platform, "os").value_or("");
    p.architecture = optional_string(*platform, "architecture").value_or("");
    p.variant = optional_string(*platform, "variant").value_or("");
    d.platform = p;
  }
  auto annotations = item.find("annotations");
  if (annotations != item.end() && annotations->is_object()) {
    for (const auto &[name, value] : annotations->items()) {
      if (value.is_string()) {
        d.annotations[name] = value.get<std::string>();
      }
    }
  }
  return d;
}

std::string normalized_variant(const Platform &p) {
  if (p.variant.empty() && p.architecture == "arm64") {
    return "v8";
  }
  if (p.variant.empty() && p.architecture == "arm") {
    return "v7";
  }
  return p.variant;
}

bool is_platform_part(std::string_view text) {
  if (text.empty()) {
    return false;
  }
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

} // namespace

std::string manifest_accept_header() {
  return std::string(media_type::oci_index) + ", " + std::string(media_type::oci_manifest) + ", " +
         std::string(media_type::docker_list) + ", " + std::string(media_type::docker_manifest);
}

std::string Platform::text() const {
  return os + "/" + architecture + (variant.empty() ? "" : "/" + variant);
}

std::optional<Platform> parse_platform(std::string_view text) {
  Platform p;
  std::string *parts[] = {&p.os, &p.architecture, &p.variant};
  std::size_t count = 0;
  while (true) {
    auto slash = text.find('/');
    std::string_view part = text.substr(0, slash);
    if (count == 3 || !is_platform_part(part)) {
      return std::nullopt;
    }
    *parts[count++] = part;
    if (slash == std::string_view::npos) {
      break;
    }
    text.remove_prefix(slash + 1);
  }
  if (count < 2) {
    return std::nullopt;
  }
  return p;
}

Platform host_platform() {
  struct utsname names {};
  std::string machine = uname(&names) == 0 ? names.machine : "";
  Platform p{"linux", machine, ""};
  if (machine == "x86_64") {
    p.architecture = "amd64";
  } else if (machine == "aarch64" || machine == "arm64") {
    p.architecture = "arm64";
  } else if (machine == "armv7l" || machine == "armv7") {
    p = {"linux", "arm", "v7"};
  } else if (machine == "armv6l") {
    p = {"linux", "arm", "v6"};
  } else if (machine == "armv5tel" || machine == "armv5l") {
    p = {"linux", "arm", "v5"};
  } else if (machine == "i386" || machine == "i486" || machine == "i586" || machine == "i686") {
    p.architecture = "386";
  } else if (machine == "mips64") {
    p.architecture = "mips64"; // big endian; mips64el stays as it is
  }
  return p;
}

ParsedManifest parse_manifest(std::string_view body, std::string_view content_type) {
  json doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded()) {
    throw ManifestError("the manifest is not valid JSON");
  }
  if (!doc.is_object()) {
    throw ManifestError("the manifest is not a JSON object");
  }
  ParsedManifest parsed;
  parsed.media_type = optional_string(doc, "mediaType").value_or("");
  if (parsed.media_type.empty()) {
    parsed.media_type = strip_parameters(content_type);
  }
  if (parsed.media_type.empty()) {
    // An OCI body may leave out mediaType: an index has "manifests", a manifest "layers".
    parsed.media_type =
        doc.contains("manifests") ? media_type::oci_index : media_type::oci_manifest;
  }
  const std::string &type = parsed.media_type;
  if (type == media_type::oci_index || type == media_type::docker_list) {
    parsed.is_index = true;
    const json &manifests = field(doc, "manifests", json::value_t::array, "the index");
    for (const json &item : manifests) {
      parsed.manifests.push_back(descriptor(item, "the index"));
      if (!is_sha256_digest(parsed.manifests.back().digest)) {
        throw ManifestError("the index names a manifest by a digest that is not sha256: " +
                            parsed.manifests.back().digest);
      }
    }
  } else if (type == media_type::oci_manifest || type == media_type::docker_manifest) {
    const json &layers = field(doc, "layers", json::value_t::array, "the manifest");
    for (const json &item : layers) {
      parsed.layers.push_back(descriptor(item, "the manifest's layers"));
      if (parsed.layers_size >
          std::numeric_limits<std::int64_t>::max() - parsed.layers.back().size) {
        throw ManifestError("the manifest's layer sizes overflow");
      }
      parsed.layers_size += parsed.layers.back().size;
    }
  } else {
    throw ManifestError("unsupported manifest type \"" + type + "\"");
  }
  return parsed;
}

std::optional<Descriptor> select_platform(const std::vector<Descriptor> &manifests,
                                          const Platform &wanted) {
  const std::string wanted_variant = normalized_variant(wanted);
  std::optional<Descriptor> loose;
  for (const Descriptor &d : manifests) {
    if (!d.platform || d.platform->os != wanted.os ||
        d.platform->architecture != wanted.architecture) {
      continue;
    }
    const std::string variant = normalized_variant(*d.platform);
    if (variant == wanted_variant) {
      return d;
    }
    if ((variant.empty() || wanted_variant.empty()) && !loose) {
      loose = d;
    }
  }
  return loose;
}

} // namespace fod::registry
