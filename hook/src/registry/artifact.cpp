#include "registry/artifact.hpp"

#include "registry/manifest.hpp"
#include "registry/reference.hpp"

#include <nlohmann/json.hpp>

namespace fod::registry {

using nlohmann::json;

MappingsLayer parse_mappings_artifact(std::string_view manifest) {
  json doc = json::parse(manifest.begin(), manifest.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    throw ArtifactError("the manifest is not a JSON object");
  }
  ParsedManifest parsed;
  try {
    parsed = parse_manifest(manifest, media_type::oci_manifest);
  } catch (const ManifestError &e) {
    throw ArtifactError(e.what());
  }
  if (parsed.is_index || parsed.media_type != media_type::oci_manifest) {
    throw ArtifactError("it is " + parsed.media_type + ", not an OCI artifact manifest");
  }
  auto string_of = [](const json &object, const char *name) {
    auto it = object.find(name);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  std::string type = string_of(doc, "artifactType");
  if (type.empty() && doc.contains("config") && doc["config"].is_object()) {
    type = string_of(doc["config"], "mediaType");
  }
  if (type != mappings_media_type) {
    throw ArtifactError("its artifact type is \"" + type + "\", not " +
                        std::string(mappings_media_type));
  }
  const Descriptor *found = nullptr;
  for (const Descriptor &layer : parsed.layers) {
    if (layer.media_type != mappings_media_type) {
      throw ArtifactError("it has a layer of type \"" + layer.media_type + "\", not " +
                          std::string(mappings_media_type));
    }
    if (found != nullptr) {
      throw ArtifactError("it has more than one mapping layer");
    }
    found = &layer;
  }
  if (found == nullptr) {
    throw ArtifactError("it has no mapping layer");
  }
  if (!is_sha256_digest(found->digest)) {
    throw ArtifactError("its layer is named by a digest that is not sha256: " + found->digest);
  }
  if (found->size > max_mappings_size) {
    throw ArtifactError("its mapping layer has " + std::to_string(found->size) +
                        " bytes, more than fod reads (" + std::to_string(max_mappings_size) + ")");
  }
  return {found->digest, found->size};
}

std::string mappings_manifest(const MappingsLayer &layer, const std::string &empty_config_digest) {
  json manifest = {{"schemaVersion", 2},
                   {"mediaType", media_type::oci_manifest},
                   {"artifactType", mappings_media_type},
                   {"config",
                    {{"mediaType", empty_media_type},
                     {"digest", empty_config_digest},
                     {"size", empty_config.size()}}},
                   {"layers",
                    {{{"mediaType", mappings_media_type},
                      {"digest", layer.digest},
                      {"size", layer.size},
                      {"annotations", {{"org.opencontainers.image.title", "mappings.yaml"}}}}}}};
  return manifest.dump();
}

} // namespace fod::registry
