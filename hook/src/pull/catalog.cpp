#include "pull/catalog.hpp"

#include "base/dirs.hpp"
#include "engine/argv.hpp"
#include "mapping/index.hpp"
#include "mapping/validate.hpp"
#include "pull/flow.hpp"
#include "pull/json_store.hpp"
#include "pull/probe.hpp"
#include "registry/reference.hpp"
#include "util/fs.hpp"
#include "util/lock.hpp"
#include "util/process.hpp"
#include "util/secrets.hpp"
#include "util/sha256.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <dirent.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace fod::pull {

namespace {

using nlohmann::json;

constexpr long unreachable_ttl = 600;

std::string resolutions_path() {
  return util::join(dirs::state(), "catalog.json");
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

std::string negative_cache_dir() {
  return util::join(mapping::default_cache_dir(), "catalog-miss");
}

// The file names negative_cache_path gives: 32 lowercase hex digits.
constexpr std::size_t hash_name_size = 32;

bool is_hash_name(std::string_view text) {
  return text.size() == hash_name_size && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Misses that an older fod recorded under the name itself: removed, names and all.
void forget_named_misses(const std::string &dir) {
  DIR *listing = opendir(dir.c_str());
  if (listing == nullptr) {
    return;
  }
  while (const dirent *entry = readdir(listing)) {
    std::string_view file = entry->d_name;
    // A hash name, or util::write_file_atomic's temporary file for one.
    if (file == "." || file == ".." || is_hash_name(file) ||
        (file.size() > hash_name_size && is_hash_name(file.substr(0, hash_name_size)) &&
         file.substr(hash_name_size, 5) == ".tmp.")) {
      continue;
    }
    unlinkat(dirfd(listing), entry->d_name, 0);
  }
  closedir(listing);
}

// The entry of a catalog image, when the image is a valid, pinned reference.
std::optional<mapping::Entry> valid_catalog_entry(const std::string &name,
                                                  const std::string &catalog,
                                                  const mapping::Config &config) {
  auto entry = catalog_entry(name, catalog, config);
  if (mapping::check_image_reference(entry.image)) {
    return std::nullopt;
  }
  return entry;
}

} // namespace

std::string negative_cache_path(const std::string &name) {
  return util::join(negative_cache_dir(), util::Sha256().update(name).hex(hash_name_size / 2));
}

bool may_ask_catalogs(const std::string &name) {
  return registry::is_valid_path_component(name) && !util::looks_like_secret(name);
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
  if (config.catalogs.empty() || !may_ask_catalogs(name)) {
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
  auto entry = valid_catalog_entry(name, catalog, config);
  if (!entry) {
    return std::nullopt;
  }
  if (store[name].contains("entrypoint") && store[name]["entrypoint"].is_array()) {
    try {
      entry->entrypoint = store[name]["entrypoint"].get<std::vector<std::string>>();
    } catch (const json::exception &) {
      entry->entrypoint.clear();
    }
  }
  return entry;
}

std::optional<std::vector<std::string>> image_entrypoint(const engine::Engine &engine,
                                                         const std::string &image) {
  auto inspected =
      util::capture(engine::image_inspect_argv(engine, "{{json .Config.Entrypoint}}", image));
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
    if (it->is_object() && may_ask_catalogs(name) && configured(config, it->value("catalog", "")) &&
        valid_catalog_entry(name, it->value("catalog", ""), config)) {
      names.push_back(name);
    }
  }
  return names;
}

std::optional<mapping::Entry> lookup_catalogs(const std::string &name,
                                              const mapping::Config &config) {
  if (config.catalogs.empty() || !may_ask_catalogs(name)) {
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
    auto entry = valid_catalog_entry(name, catalog, config);
    if (!entry) {
      continue; // never sent
    }
    auto result = probe(entry->image, config);
    if (result.kind == ProbeResult::Kind::found) {
      record_resolution(name, catalog);
      unlink(negative_cache_path(name).c_str());
      return entry;
    }
    if (result.kind != ProbeResult::Kind::not_found && result.kind != ProbeResult::Kind::invalid) {
      unreachable = true; // unreachable, malformed or failed: asked again sooner
    }
  }
  std::string path = negative_cache_path(name);
  util::make_directories(util::dirname(path), 0700);
  forget_named_misses(util::dirname(path));
  util::write_file_atomic(path, miss_record(config, unreachable ? "unreachable" : "miss"), 0600);
  return std::nullopt;
}

} // namespace fod::pull
