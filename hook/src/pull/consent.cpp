#include "pull/consent.hpp"

#include "base/dirs.hpp"
#include "pull/json_store.hpp"
#include "registry/reference.hpp"
#include "util/fs.hpp"

#include <ctime>
#include <nlohmann/json.hpp>

namespace fod::pull {

using nlohmann::json;

std::string consent_path() {
  return util::join(dirs::state(), "consent.json");
}

std::string canonical_image(const std::string &image) {
  auto parsed = registry::parse_reference(image);
  return parsed ? parsed->canonical() : image;
}

std::optional<Consent> recorded_consent(const std::string &image) {
  json store = read_json_object(consent_path());
  std::string key = canonical_image(image);
  if (!store.contains("images") || !store["images"].is_object() || !store["images"].contains(key)) {
    return std::nullopt;
  }
  const json &j = store["images"][key];
  try {
    Consent consent;
    consent.allowed = j.at("allowed").get<bool>();
    consent.digest = j.value("digest", "");
    consent.command = j.value("command", "");
    consent.time = j.value("time", 0LL);
    return consent;
  } catch (const json::exception &) {
    return std::nullopt;
  }
}

void record_consent(const std::string &image, const Consent &consent) {
  set_image_record(
      consent_path(), canonical_image(image),
      {{"allowed", consent.allowed},
       {"digest", consent.digest},
       {"command", consent.command},
       {"time", consent.time != 0 ? consent.time : static_cast<long long>(std::time(nullptr))}});
}

} // namespace fod::pull
