#pragma once

#include "util/fs.hpp"

#include <nlohmann/json.hpp>
#include <string>

namespace fod::pull {

// A small JSON object kept in a file of fod's (consent answers, catalog hits).
// Missing or damaged reads as empty: the worst case is a question asked again.
inline nlohmann::json read_json_object(const std::string &path) {
  auto text = util::read_file(path);
  if (!text) {
    return nlohmann::json::object();
  }
  auto j = nlohmann::json::parse(*text, nullptr, false);
  return j.is_object() ? j : nlohmann::json::object();
}

} // namespace fod::pull
