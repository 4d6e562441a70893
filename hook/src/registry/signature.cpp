#include "registry/signature.hpp"

#include "registry/manifest.hpp"

#include <nlohmann/json.hpp>

namespace fod::registry {

namespace {

using nlohmann::json;

// The string at a path of objects, or "".
std::string string_at(const json &doc, std::initializer_list<const char *> path) {
  const json *node = &doc;
  for (const char *name : path) {
    if (!node->is_object()) {
      return {};
    }
    auto it = node->find(name);
    if (it == node->end()) {
      return {};
    }
    node = &*it;
  }
  return node->is_string() ? node->get<std::string>() : std::string();
}

} // namespace

std::string signature_tag(std::string_view digest) {
  constexpr std::string_view prefix = "sha256:";
  std::string hex(digest.substr(digest.compare(0, prefix.size(), prefix) == 0 ? prefix.size() : 0));
  return "sha256-" + hex + ".sig";
}

std::vector<SignatureLayer> parse_signature_manifest(std::string_view body) {
  ParsedManifest parsed;
  try {
    parsed = parse_manifest(body, media_type::oci_manifest);
  } catch (const ManifestError &e) {
    throw SignatureFormatError(std::string("the signature manifest: ") + e.what());
  }
  if (parsed.is_index) {
    throw SignatureFormatError("the signature tag names an index, not a signature manifest");
  }
  std::vector<SignatureLayer> layers;
  for (const Descriptor &layer : parsed.layers) {
    auto signature = layer.annotations.find(std::string(signature_annotation));
    if (layer.media_type != simple_signing_media_type || signature == layer.annotations.end()) {
      continue;
    }
    if (!is_sha256_digest(layer.digest)) {
      throw SignatureFormatError("a signed payload is named by a digest that is not sha256: " +
                                 layer.digest);
    }
    if (layer.size > max_payload_size) {
      throw SignatureFormatError("a signed payload of " + std::to_string(layer.size) +
                                 " bytes is larger than fod reads (" +
                                 std::to_string(max_payload_size) + ")");
    }
    layers.push_back({layer.digest, layer.size, signature->second});
    if (layers.size() == max_signature_layers) {
      break;
    }
  }
  return layers;
}

SignedClaim parse_simple_signing(std::string_view payload) {
  json doc = json::parse(payload.begin(), payload.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    throw SignatureFormatError("the signed payload is not a JSON object");
  }
  if (string_at(doc, {"critical", "type"}) != cosign_signature_type) {
    throw SignatureFormatError("the signed payload is not a cosign container image signature");
  }
  SignedClaim claim;
  claim.manifest_digest = string_at(doc, {"critical", "image", "docker-manifest-digest"});
  claim.docker_reference = string_at(doc, {"critical", "identity", "docker-reference"});
  if (!is_sha256_digest(claim.manifest_digest)) {
    throw SignatureFormatError("the signed payload names no sha256 manifest digest");
  }
  if (claim.docker_reference.empty()) {
    throw SignatureFormatError("the signed payload names no repository");
  }
  return claim;
}

bool names_repository(const SignedClaim &claim, const Reference &image) {
  auto named = parse_reference(claim.docker_reference);
  return named && named->registry == image.registry && named->repository == image.repository;
}

bool in_scope(const Reference &image, std::string_view scope) {
  const std::string_view registry = scope.substr(0, scope.find('/'));
  if (registry != image.registry) {
    return false;
  }
  if (registry.size() == scope.size()) {
    return true;
  }
  const std::string_view prefix = scope.substr(registry.size() + 1);
  const std::string_view repository = image.repository;
  return repository == prefix ||
         (repository.size() > prefix.size() && repository.compare(0, prefix.size(), prefix) == 0 &&
          repository[prefix.size()] == '/');
}

bool is_valid_scope(std::string_view scope) {
  const auto slash = scope.find('/');
  const std::string_view registry = scope.substr(0, slash);
  // A registry names a host: parse_reference reads "host/x" as registry "host" only when it
  // has '.' or ':' or is localhost, which is what a scope's first part must be.
  auto probe = parse_reference(std::string(registry) + "/x");
  if (!probe || probe->registry != registry) {
    return false;
  }
  if (slash == std::string_view::npos) {
    return true;
  }
  std::string_view rest = scope.substr(slash + 1);
  while (true) {
    const auto next = rest.find('/');
    if (!is_valid_path_component(rest.substr(0, next))) {
      return false;
    }
    if (next == std::string_view::npos) {
      return true;
    }
    rest.remove_prefix(next + 1);
  }
}

} // namespace fod::registry
