#include "pull/catalog.hpp"

#include "mapping/index.hpp"
#include "pull/json_store.hpp"
#include "pull/probe.hpp"
#include "registry/reference.hpp"
#include "util/fs.hpp"
#include "util/lock.hpp"
#include "util/process.hpp"
#include "warm/state.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace fod::pull {

namespace {

using nlohmann::json;

constexpr long unreachable_ttl = 600;

std::string resolutions_path() {
  return util::join(warm::state_dir(), "catalog.json");
}

json read_resolutions() {
  return read_json_object(resolutions_path());
}

void record_resolution(const std::string &name, const std::string &catalog) {
  std::string path = resolutions_path();
  util::make_directories(util::dirname(path), 0700);
  util::FileLock lock(path + ".lock");
  lock.lock(util::FileLock::Mode::exclusive);
  json store = read_resolutions();
  store[name] = {{"catalog", catalog}, {"time", static_cast<long long>(std::time(nullptr))}};
  util::write_file_atomic(path, store.dump(2) + "\n", 0600);
}

bool configured(const mapping::Config &config, const std::string &catalog) {
  return std::find(config.catalogs.begin(), config.catalogs.end(), catalog) !=
         config.catalogs.end();
}

// The catalogs a miss was recorded for, one per line, then the kind ("miss" or
// "unreachable").
std::string miss_record(const mapping::Config &config, const char *kind) {
  std::string text;
  for (const auto &catalog : config.catalogs) {
    text += catalog + "\n";
  }
  return text + kind + "\n";
}

bool recently_missed(const std::string &name, const mapping::Config &config) {
  std::string path = negative_cache_path(name);
  auto text = util::read_file(path);
  auto mtime = util::modification_time(path);
  if (!text || !mtime) {
    return false;
  }
  long ttl = config.negative_cache_ttl.count();
  if (*text == miss_record(config, "unreachable")) {
    ttl = std::min(ttl, unreachable_ttl);
  } else if (*text != miss_record(config, "miss")) {
    return false; // recorded for other catalogs
  }
  double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  double age = now - *mtime;
  return age > -1 && age < static_cast<double>(ttl); // -1: a clock a moment behind the file's
}

} // namespace

std::string negative_cache_path(const std::string &name) {
  return util::join(util::join(mapping::default_cache_dir(), "catalog-miss"), name);
}

std::string catalog_image(const std::string &catalog, const std::string &name) {
  return catalog + "/" + name + ":latest";
}

mapping::Entry catalog_entry(const std::string &name, const std::string &catalog,
                             const mapping::Config &config) {
  mapping::Entry entry;
  entry.name = name;
  entry.image = catalog_image(catalog, name);
  entry.network = config.catalog_network;
  entry.origin = {"catalog", catalog, 0};
  return entry;
}

std::optional<mapping::Entry> resolved_entry(const std::string &name,
                                             const mapping::Config &config) {
  if (config.catalogs.empty() || !registry::is_valid_path_component(name)) {
    return std::nullopt;
  }
  json store = read_resolutions();
  if (!store.contains(name) || !store[name].is_object()) {
    return std::nullopt;
  }
  std::string catalog = store[name].value("catalog", "");
  if (!configured(config, catalog)) {
    return std::nullopt;
  }
  auto entry = catalog_entry(name, catalog, config);
  if (store[name].contains("entrypoint") && store[name]["entrypoint"].is_array()) {
    try {
      entry.entrypoint = store[name]["entrypoint"].get<std::vector<std::string>>();
    } catch (const json::exception &) {
      entry.entrypoint.clear();
    }
  }
  return entry;
}

std::optional<std::vector<std::string>> image_entrypoint(const engine::Engine &engine,
                                                         const std::string &image) {
  auto inspected = util::capture(
      {engine.cli, "image", "inspect", "--format", "{{json .Config.Entrypoint}}", image});
  if (inspected.status != 0) {
    return std::nullopt;
  }
  try {
    auto j = json::parse(inspected.out);
    if (j.is_array()) {
      return j.get<std::vector<std::string>>();
    }
  } catch (const json::exception &) {
  }
  return std::vector<std::string>{};
}

void record_entrypoint(const std::string &name, const std::vector<std::string> &entrypoint) {
  std::string path = resolutions_path();
  util::FileLock lock(path + ".lock");
  lock.lock(util::FileLock::Mode::exclusive);
  json store = read_resolutions();
  if (store.contains(name) && store[name].is_object()) {
    store[name]["entrypoint"] = entrypoint;
    util::write_file_atomic(path, store.dump(2) + "\n", 0600);
  }
}

std::vector<std::string> resolved_names(const mapping::Config &config) {
  std::vector<std::string> names;
  if (config.catalogs.empty()) {
    return names;
  }
  const json store = read_resolutions();
  for (auto it = store.begin(); it != store.end(); ++it) {
    const std::string &name = it.key();
    if (it->is_object() && registry::is_valid_path_component(name) &&
        configured(config, it->value("catalog", ""))) {
      names.push_back(name);
    }
  }
  return names;
}

std::optional<mapping::Entry> lookup_catalogs(const std::string &name,
                                              const mapping::Config &config) {
  if (config.catalogs.empty() || !registry::is_valid_path_component(name)) {
    return std::nullopt;
  }
  if (auto known = resolved_entry(name, config)) {
    return known;
  }
  if (recently_missed(name, config)) {
    return std::nullopt;
  }
  bool unreachable = false;
  for (const auto &catalog : config.catalogs) {
    auto result = probe(catalog_image(catalog, name), config);
    if (result.kind == ProbeResult::Kind::found) {
      record_resolution(name, catalog);
      unlink(negative_cache_path(name).c_str());
      return catalog_entry(name, catalog, config);
    }
    if (result.kind == ProbeResult::Kind::failed) {
      unreachable = true;
    }
  }
  std::string path = negative_cache_path(name);
  util::make_directories(util::dirname(path), 0700);
  util::write_file_atomic(path, miss_record(config, unreachable ? "unreachable" : "miss"), 0600);
  return std::nullopt;
}

} // namespace fod::pull
