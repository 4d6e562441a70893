#include "pull/verify.hpp"

#include "base/dirs.hpp"
#include "pull/consent.hpp"
#include "pull/json_store.hpp"
#include "registry/reference.hpp"
#include "registry/signature.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"

#include <nlohmann/json.hpp>

namespace fod::pull {

using nlohmann::json;

std::vector<std::string> verify_keys(const std::string &image, const mapping::Config &config) {
  if (config.verify.empty()) {
    return {};
  }
  auto reference = registry::parse_reference(image);
  if (!reference) {
    return {};
  }
  const std::vector<std::string> *keys = nullptr;
  std::size_t longest = 0;
  for (const auto &[scope, scope_keys] : config.verify) {
    if (registry::in_scope(*reference, scope) && (keys == nullptr || scope.size() > longest)) {
      keys = &scope_keys;
      longest = scope.size();
    }
  }
  return keys != nullptr ? *keys : std::vector<std::string>{};
}

std::string verified_path() {
  return util::join(dirs::state(), "verified.json");
}

std::string keys_fingerprint(const std::vector<std::string> &keys) {
  util::Sha256 hash;
  for (const auto &key : keys) {
    auto content = util::read_file(key);
    hash.update(key).update(std::string(1, '\0'));
    hash.update(content.value_or("")).update(std::string(1, '\0'));
  }
  return hash.hex();
}

std::optional<Verified> recorded_verification(const std::string &image,
                                              const std::vector<std::string> &keys) {
  json store = read_json_object(verified_path());
  const std::string name = canonical_image(image);
  if (!store.contains("images") || !store["images"].is_object() ||
      !store["images"].contains(name)) {
    return std::nullopt;
  }
  const json &j = store["images"][name];
  if (!j.is_object()) {
    return std::nullopt;
  }
  // A damaged record (another type where a string belongs) is no record.
  auto text = [&j](const char *name) {
    auto it = j.find(name);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  Verified verified{text("digest"), text("key"), text("fingerprint")};
  if (!registry::is_sha256_digest(verified.digest) || verified.key.empty() ||
      verified.fingerprint != keys_fingerprint(keys)) {
    return std::nullopt;
  }
  return verified;
}

void record_verification(const std::string &image, const Verified &verified) {
  set_image_record(
      verified_path(), canonical_image(image),
      {{"digest", verified.digest}, {"key", verified.key}, {"fingerprint", verified.fingerprint}});
}

} // namespace fod::pull
