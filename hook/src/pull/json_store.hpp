#pragma once

#include "util/fs.hpp"
#include "util/lock.hpp"

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

// Sets store["images"][key] = value in the file at path, under its lock (path + ".lock"), and
// replaces the file atomically (0600).
inline void set_image_record(const std::string &path, const std::string &key,
                             nlohmann::json value) {
  util::make_directories(util::dirname(path), 0700);
  util::FileLock lock(path + ".lock");
  lock.lock(util::FileLock::Mode::exclusive);
  nlohmann::json store = read_json_object(path);
  if (!store.contains("images") || !store["images"].is_object()) {
    store["images"] = nlohmann::json::object();
  }
  store["images"][key] = std::move(value);
  util::write_file_atomic(path, store.dump(2) + "\n", 0600);
}

} // namespace fod::pull
