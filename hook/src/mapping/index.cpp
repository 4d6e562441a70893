#include "mapping/index.hpp"

#include "adaptive/settings.hpp"
#include "base/dirs.hpp"
#include "util/environment.hpp"
#include "util/fs.hpp"
#include "util/hash.hpp"

#include <nlohmann/json.hpp>
#include <sys/stat.h>

namespace fod::mapping {

namespace {

using nlohmann::json;

// Format 5: a header line of JSON (sources, config, diagnostics), then one line
// per command: its name, a tab, its entry as JSON. The format changes also when
// validation does (5: images by the reference grammar), so that an index an
// older fod wrote is rebuilt, not trusted.
constexpr int index_format = 5;

// What a source looks like now; "-" when it does not exist.
std::string signature(const std::string &path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    return "-";
  }
  return std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
         std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + ":" +
         std::to_string(st.st_ctim.tv_sec) + "." + std::to_string(st.st_ctim.tv_nsec);
}

// Every path whose change must rebuild the index. A mappings.d directory gets a
// new mtime when a file is added, removed or renamed in it.
std::vector<std::string> source_paths(const std::vector<Layer> &layers) {
  std::vector<std::string> paths;
  for (const auto &layer : layers) {
    paths.push_back(util::join(layer.dir, "config.yaml"));
    paths.push_back(util::join(layer.dir, "mappings.yaml"));
    paths.push_back(util::join(layer.dir, "mappings.d"));
    for (const auto &file : mapping_files(layer)) {
      if (file.find("/mappings.d/") != std::string::npos) {
        paths.push_back(file);
      }
    }
  }
  return paths;
}

json entry_to_json(const Entry &e) {
  json mounts = json::array();
  for (const auto &m : e.mounts) {
    mounts.push_back({{"path", m.path}, {"ro", m.read_only}});
  }
  json j = {{"image", e.image},
            {"entrypoint", e.entrypoint},
            {"network", to_string(e.network)},
            {"env", e.env},
            {"mounts", mounts},
            {"capabilities", e.capabilities},
            {"layer", e.origin.layer},
            {"file", e.origin.file},
            {"line", e.origin.line}};
  if (e.ttl) {
    j["ttl"] = e.ttl->count();
  }
  if (e.ttl_auto) {
    j["ttl_auto"] = true;
  }
  if (e.memory) {
    j["memory"] = *e.memory;
  }
  if (e.pids) {
    j["pids"] = *e.pids;
  }
  return j;
}

Entry entry_from_json(const std::string &name, const json &j) {
  Entry e;
  e.name = name;
  e.image = j.at("image").get<std::string>();
  e.entrypoint = j.at("entrypoint").get<std::vector<std::string>>();
  e.network = parse_network(j.at("network").get<std::string>()).value_or(Network::standard);
  e.env = j.at("env").get<std::vector<std::string>>();
  for (const auto &m : j.at("mounts")) {
    e.mounts.push_back({m.at("path").get<std::string>(), m.at("ro").get<bool>()});
  }
  e.capabilities = j.at("capabilities").get<std::vector<std::string>>();
  e.origin = {j.at("layer").get<std::string>(), j.at("file").get<std::string>(),
              j.at("line").get<int>()};
  if (j.contains("ttl")) {
    e.ttl = std::chrono::seconds(j["ttl"].get<long>());
  }
  e.ttl_auto = j.value("ttl_auto", false);
  if (j.contains("memory")) {
    e.memory = j["memory"].get<std::string>();
  }
  if (j.contains("pids")) {
    e.pids = j["pids"].get<int>();
  }
  return e;
}

std::string index_path(const std::vector<Layer> &layers, const std::string &cache_dir) {
  util::StableHash hash;
  for (const auto &layer : layers) {
    hash.add(layer.name).add(layer.dir);
  }
  return util::join(cache_dir, "index-" + hash.hex() + ".json");
}

std::optional<Mapping> read_index(const std::string &path, const std::optional<std::string> &only) {
  auto text = util::read_file(path);
  if (!text) {
    return std::nullopt;
  }
  try {
    auto header_end = text->find('\n');
    if (header_end == std::string::npos) {
      return std::nullopt;
    }
    auto header = json::parse(text->begin(), text->begin() + static_cast<long>(header_end));
    if (header.at("format").get<int>() != index_format) {
      return std::nullopt;
    }
    for (const auto &[source, sig] : header.at("sources").items()) {
      if (signature(source) != sig.get<std::string>()) {
        return std::nullopt;
      }
    }
    Mapping mapping;
    const auto &c = header.at("config");
    mapping.config.engine = c.at("engine").get<std::string>();
    mapping.config.ttl = std::chrono::seconds(c.at("ttl").get<long>());
    mapping.config.memory = c.at("memory").get<std::string>();
    mapping.config.pids = c.at("pids").get<int>();
    mapping.config.fast_path = c.at("fast_path").get<bool>();
    mapping.config.adaptive = adaptive::settings_from_json(c.at("adaptive"));
    mapping.config.confirm =
        parse_confirm(c.at("confirm").get<std::string>()).value_or(Confirm::ask);
    mapping.config.on_digest_change =
        parse_on_digest_change(c.at("on_digest_change").get<std::string>())
            .value_or(OnDigestChange::ask);
    mapping.config.insecure_registries =
        c.at("insecure_registries").get<std::vector<std::string>>();
    mapping.config.catalogs = c.at("catalogs").get<std::vector<std::string>>();
    mapping.config.catalog_network =
        parse_network(c.at("catalog_network").get<std::string>()).value_or(Network::standard);
    mapping.config.registry_connect_timeout =
        std::chrono::seconds(c.at("registry_connect_timeout").get<long>());
    mapping.config.registry_timeout = std::chrono::seconds(c.at("registry_timeout").get<long>());
    mapping.config.negative_cache_ttl =
        std::chrono::seconds(c.at("negative_cache_ttl").get<long>());
    mapping.diagnostics = header.at("diagnostics").get<std::vector<std::string>>();

    auto parse_line = [&](size_t start) {
      auto tab = text->find('\t', start);
      auto end = text->find('\n', start);
      if (tab == std::string::npos || end == std::string::npos || tab > end) {
        throw json::other_error::create(501, "damaged index line", nullptr);
      }
      std::string name = text->substr(start, tab - start);
      auto entry = json::parse(text->begin() + static_cast<long>(tab + 1),
                               text->begin() + static_cast<long>(end));
      mapping.entries.emplace(name, entry_from_json(name, entry));
      return end + 1;
    };
    if (only) {
      auto at = text->find("\n" + *only + "\t");
      if (at != std::string::npos) {
        parse_line(at + 1);
      }
    } else {
      for (size_t start = header_end + 1; start < text->size();) {
        start = parse_line(start);
      }
    }
    return mapping;
  } catch (const json::exception &) {
    return std::nullopt; // a damaged index is rebuilt
  }
}

void write_index(const std::string &path, const json &signatures, const Mapping &mapping) {
  json header;
  header["format"] = index_format;
  header["sources"] = signatures;
  header["config"] = {{"engine", mapping.config.engine},
                      {"ttl", mapping.config.ttl.count()},
                      {"memory", mapping.config.memory},
                      {"pids", mapping.config.pids},
                      {"fast_path", mapping.config.fast_path},
                      {"adaptive", adaptive::settings_to_json(mapping.config.adaptive)},
                      {"confirm", to_string(mapping.config.confirm)},
                      {"on_digest_change", to_string(mapping.config.on_digest_change)},
                      {"insecure_registries", mapping.config.insecure_registries},
                      {"catalogs", mapping.config.catalogs},
                      {"catalog_network", to_string(mapping.config.catalog_network)},
                      {"registry_connect_timeout", mapping.config.registry_connect_timeout.count()},
                      {"registry_timeout", mapping.config.registry_timeout.count()},
                      {"negative_cache_ttl", mapping.config.negative_cache_ttl.count()}};
  header["diagnostics"] = mapping.diagnostics;
  std::string text = header.dump() + "\n";
  for (const auto &[name, entry] : mapping.entries) {
    text += name + "\t" + entry_to_json(entry).dump() + "\n";
  }
  util::make_directories(util::dirname(path), 0700);
  util::write_file_atomic(path, text, 0600);
}

} // namespace

std::vector<std::string> index_sources(const std::vector<Layer> &layers) {
  return source_paths(layers);
}

std::string default_cache_dir() {
  return dirs::cache();
}

IndexResult load_indexed(const std::vector<Layer> &layers, const std::string &cache_dir,
                         const std::optional<std::string> &only) {
  std::string path = index_path(layers, cache_dir);
  if (auto cached = read_index(path, only)) {
    return {std::move(*cached), false};
  }
  // Signatures are taken before reading, so a change made while loading
  // invalidates the index written here.
  json signatures = json::object();
  for (const auto &source : source_paths(layers)) {
    signatures[source] = signature(source);
  }
  Mapping mapping = load_layers(layers);
  write_index(path, signatures, mapping);
  return {std::move(mapping), true};
}

} // namespace fod::mapping
