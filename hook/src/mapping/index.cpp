#include "mapping/index.hpp"

#include "base/dirs.hpp"
#include "mapping/fields.hpp"
#include "util/environment.hpp"
#include "util/fs.hpp"
#include "util/hash.hpp"

#include <nlohmann/json.hpp>
#include <sys/stat.h>

namespace fod::mapping {

namespace {

using nlohmann::json;

// Format 6: a header line of JSON (sources, config, diagnostics), then one line
// per command: its name, a tab, its entry as JSON. Config and entries are written
// by the field tables (fields.cpp), each key as in the YAML. The format changes
// also when validation does (5: images by the reference grammar; 6: the config's
// `ttl: auto` settings no longer nested under "adaptive"), so that an index an
// older fod wrote is rebuilt, not trusted.
constexpr int index_format = 7;

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

// An entry as one line of the index: its fields (by entry_fields()) and where it came from.
json entry_to_json(const Entry &entry) {
  json j = json::object();
  for (const auto &field : entry_fields()) {
    field.save(entry, j);
  }
  j["layer"] = entry.origin.layer;
  j["file"] = entry.origin.file;
  j["line"] = entry.origin.line;
  return j;
}

Entry entry_from_json(const std::string &name, const json &j) {
  Entry entry;
  entry.name = name;
  for (const auto &field : entry_fields()) {
    field.restore(j, entry);
  }
  entry.origin = {j.at("layer").get<std::string>(), j.at("file").get<std::string>(),
                  j.at("line").get<int>()};
  return entry;
}

json config_to_json(const Config &config) {
  json j = json::object();
  for (const auto &field : config_fields()) {
    field.save(config, j);
  }
  return j;
}

Config config_from_json(const json &j) {
  Config config;
  for (const auto &field : config_fields()) {
    field.restore(j, config);
  }
  return config;
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
    mapping.config = config_from_json(header.at("config"));
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

} // namespace

SourceSignatures source_signatures(const std::vector<Layer> &layers) {
  SourceSignatures signatures;
  for (const auto &source : source_paths(layers)) {
    signatures.emplace_back(source, signature(source));
  }
  return signatures;
}

std::optional<Mapping> read_current_index(const std::vector<Layer> &layers,
                                          const std::string &cache_dir,
                                          const std::optional<std::string> &only) {
  return read_index(index_path(layers, cache_dir), only);
}

void write_index(const std::vector<Layer> &layers, const std::string &cache_dir,
                 const SourceSignatures &signatures, const Mapping &mapping) {
  json header;
  header["format"] = index_format;
  json sources = json::object();
  for (const auto &[source, sig] : signatures) {
    sources[source] = sig;
  }
  header["sources"] = sources;
  header["config"] = config_to_json(mapping.config);
  header["diagnostics"] = mapping.diagnostics;
  std::string text = header.dump() + "\n";
  for (const auto &[name, entry] : mapping.entries) {
    text += name + "\t" + entry_to_json(entry).dump() + "\n";
  }
  std::string path = index_path(layers, cache_dir);
  util::make_directories(util::dirname(path), 0700);
  util::write_file_atomic(path, text, 0600);
}

std::vector<std::string> index_sources(const std::vector<Layer> &layers) {
  return source_paths(layers);
}

std::string default_cache_dir() {
  return dirs::cache();
}

} // namespace fod::mapping
