#include "mapping/fields.hpp"

#include "adaptive/settings.hpp"
#include "mapping/validate.hpp"
#include "registry/reference.hpp"
#include "registry/signature.hpp"
#include "util/duration.hpp"
#include "util/environment.hpp"
#include "util/names.hpp"

#include <array>
#include <fmt/format.h>
#include <iterator>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>
#include <yaml-cpp/yaml.h>

namespace fod::mapping {

using nlohmann::json;

int line_of(const YAML::Node &node) {
  return node.Mark().line + 1;
}

namespace {

// Kinds of value: each reads a YAML value for key, or throws FieldError with the message the
// user sees. The tables at the end of this file pick one per key.

std::string scalar(const YAML::Node &node, const std::string &key) {
  if (!node.IsScalar()) {
    throw FieldError{line_of(node), fmt::format("'{}' must be a single value", key)};
  }
  return node.Scalar();
}

// A list of strings; a single string is a list of one, nothing an empty list.
std::vector<std::string> string_list(const YAML::Node &node, const std::string &key) {
  if (node.IsNull()) {
    return {};
  }
  if (node.IsScalar()) {
    return {node.Scalar()};
  }
  if (!node.IsSequence()) {
    throw FieldError{line_of(node), fmt::format("'{}' must be a list of strings", key)};
  }
  std::vector<std::string> out;
  for (const auto &item : node) {
    if (!item.IsScalar()) {
      throw FieldError{line_of(item), fmt::format("'{}' must be a list of strings", key)};
    }
    out.push_back(item.Scalar());
  }
  return out;
}

std::chrono::seconds duration(const YAML::Node &node, const std::string &key) {
  auto text = scalar(node, key);
  auto parsed = util::parse_duration(text);
  if (!parsed) {
    throw FieldError{line_of(node),
                     fmt::format("'{}: {}' is not a duration like 90s, 10m or 2h", key, text)};
  }
  return *parsed;
}

std::chrono::seconds positive_duration(const YAML::Node &node, const std::string &key) {
  auto value = duration(node, key);
  if (value.count() <= 0) {
    throw FieldError{line_of(node), fmt::format("'{}' must be at least 1s", key)};
  }
  return value;
}

bool is_auto(const YAML::Node &node) {
  return node.IsScalar() && node.Scalar() == "auto";
}

int positive_int(const YAML::Node &node, const std::string &key) {
  auto text = scalar(node, key);
  int value = 0;
  try {
    size_t used = 0;
    value = std::stoi(text, &used);
    if (used != text.size()) {
      value = 0;
    }
  } catch (const std::exception &) {
    value = 0;
  }
  if (value <= 0) {
    throw FieldError{line_of(node),
                     fmt::format("'{}: {}' must be a positive whole number", key, text)};
  }
  return value;
}

bool boolean(const YAML::Node &node, const std::string &key) {
  auto text = scalar(node, key);
  if (text != "true" && text != "false") {
    throw FieldError{line_of(node), fmt::format("'{}: {}' must be true or false", key, text)};
  }
  return text == "true";
}

std::string memory_size(const YAML::Node &node, const std::string &key) {
  auto text = scalar(node, key);
  if (auto problem = check_memory(text)) {
    throw FieldError{line_of(node), *problem};
  }
  return text;
}

std::string image_reference(const YAML::Node &node, const std::string &key) {
  auto image = scalar(node, key);
  if (auto problem = check_image_reference(image)) {
    throw FieldError{line_of(node), fmt::format("image '{}': {}", image, *problem)};
  }
  return image;
}

std::vector<std::string> program_argv(const YAML::Node &node, const std::string &key) {
  auto argv = string_list(node, key);
  if (argv.empty() || argv[0].empty()) {
    throw FieldError{line_of(node), fmt::format("'{}' must name the program to run", key)};
  }
  return argv;
}

// A reader for a key whose value is one of an enum's names.
template <class Enum, std::size_t N> auto one_of(const util::Name<Enum> (&names)[N]) {
  return [&names](const YAML::Node &node, const std::string &key) {
    auto text = scalar(node, key);
    auto parsed = util::value_of(names, text);
    if (!parsed) {
      throw FieldError{line_of(node),
                       fmt::format("'{}: {}' must be {}", key, text, util::choices(names))};
    }
    return *parsed;
  };
}

std::vector<std::string> env_names(const YAML::Node &node, const std::string &key) {
  auto names = string_list(node, key);
  for (const auto &name : names) {
    if (!util::is_env_name(name)) {
      throw FieldError{line_of(node),
                       fmt::format("'{}' is not an environment variable name", name)};
    }
  }
  return names;
}

// "PATH", "PATH:ro" or "PATH:rw", PATH absolute or starting with ~.
Mount mount(const YAML::Node &node, const std::string &key) {
  auto text = scalar(node, key);
  Mount mount;
  auto colon = text.rfind(':');
  mount.path = text;
  if (colon != std::string::npos) {
    std::string option = text.substr(colon + 1);
    if (option == "ro" || option == "rw") {
      mount.read_only = option == "ro";
      mount.path = text.substr(0, colon);
    }
  }
  bool absolute = !mount.path.empty() && mount.path[0] == '/';
  bool in_home = mount.path == "~" || mount.path.compare(0, 2, "~/") == 0;
  if (!absolute && !in_home) {
    throw FieldError{line_of(node),
                     fmt::format("mount '{}' must be an absolute path or start with ~/", text)};
  }
  if (mount.path.find(':') != std::string::npos || mount.path.find(',') != std::string::npos) {
    throw FieldError{line_of(node),
                     fmt::format("mount '{}': paths with ':' or ',' cannot be mounted", text)};
  }
  if (mount.path == "/") {
    throw FieldError{line_of(node), "mounting / is not allowed"};
  }
  return mount;
}

std::vector<Mount> mount_list(const YAML::Node &node, const std::string &key) {
  if (!node.IsSequence()) {
    throw FieldError{line_of(node), fmt::format("'{}' must be a list of paths", key)};
  }
  std::vector<Mount> mounts;
  for (const auto &item : node) {
    mounts.push_back(mount(item, key));
  }
  return mounts;
}

// Capability names, upper case without "CAP_".
std::vector<std::string> capability_list(const YAML::Node &node, const std::string &key) {
  std::vector<std::string> capabilities;
  for (const auto &capability : string_list(node, key)) {
    if (auto problem = check_capability(capability)) {
      throw FieldError{line_of(node), *problem};
    }
    capabilities.push_back(normalize_capability(capability));
  }
  return capabilities;
}

std::string engine_name(const YAML::Node &node, const std::string &key) {
  auto text = scalar(node, key);
  if (text != "auto" && text != "podman" && text != "docker") {
    throw FieldError{line_of(node),
                     fmt::format("'{}: {}' must be auto, podman or docker", key, text)};
  }
  return text;
}

// host or host:port, spoken to over plain HTTP.
std::vector<std::string> registry_hosts(const YAML::Node &node, const std::string &key) {
  auto hosts = string_list(node, key);
  for (const auto &host : hosts) {
    if (host.empty() || host.find('/') != std::string::npos ||
        host.find_first_of(" \t") != std::string::npos) {
      throw FieldError{line_of(node),
                       fmt::format("'{}' in {} must be host or host:port", host, key)};
    }
  }
  return hosts;
}

// registry/prefix, without a trailing '/'.
std::vector<std::string> catalog_list(const YAML::Node &node, const std::string &key) {
  auto catalogs = string_list(node, key);
  for (auto &catalog : catalogs) {
    while (!catalog.empty() && catalog.back() == '/') {
      catalog.pop_back();
    }
    if (auto problem = check_catalog(catalog)) {
      throw FieldError{line_of(node), fmt::format("catalog '{}': {}", catalog, *problem)};
    }
  }
  return catalogs;
}

// Artifact references: the grammar of images, with no localhost/ (no registry serves it).
std::vector<std::string> source_list(const YAML::Node &node, const std::string &key) {
  auto sources = string_list(node, key);
  for (const auto &source : sources) {
    if (auto problem = check_image_reference(source)) {
      throw FieldError{line_of(node), fmt::format("{}: '{}': {}", key, source, *problem)};
    }
    auto parsed = registry::parse_reference(source);
    if (!parsed || parsed->registry == "localhost") {
      throw FieldError{line_of(node), fmt::format("{}: '{}' names no registry", key, source)};
    }
  }
  return sources;
}

// `verify:`, a map from image scope to a key file or a list of them. A layer's scopes are added
// to those of the layers below it, replacing the keys of a scope both name.
Field<Config> verify_scopes() {
  return {"verify",
          [](const YAML::Node &value, Config &config) {
            if (value.IsNull()) {
              return;
            }
            if (!value.IsMap()) {
              throw FieldError{line_of(value), "'verify' must map image scopes (registry/prefix) "
                                               "to public key files"};
            }
            // Read whole before it is applied: a bad scope leaves verify as it was.
            auto scopes = config.verify;
            for (const auto &item : value) {
              const std::string scope = scalar(item.first, "verify");
              if (!registry::is_valid_scope(scope)) {
                throw FieldError{line_of(item.first),
                                 fmt::format("verify: '{}' is not an image scope like "
                                             "registry.example.com/team",
                                             scope)};
              }
              auto keys = string_list(item.second, "verify: " + scope);
              if (keys.empty()) {
                throw FieldError{line_of(item.second),
                                 fmt::format("verify: '{}' names no key file", scope)};
              }
              for (auto &key : keys) {
                if (key.rfind("~/", 0) == 0) {
                  key = util::home_directory() + key.substr(1);
                }
                if (key.empty() || key[0] != '/') {
                  throw FieldError{line_of(item.second),
                                   fmt::format("verify: '{}': the key file '{}' must be an "
                                               "absolute path (or start with ~/)",
                                               scope, key)};
                }
              }
              scopes[scope] = keys;
            }
            config.verify = std::move(scopes);
          },
          [](const Config &config, json &out) { out["verify"] = config.verify; },
          [](const json &in, Config &config) {
            config.verify = in.at("verify").get<std::map<std::string, std::vector<std::string>>>();
          }};
}

// How each type of value is kept in the index. Reading throws json::exception for anything
// fod would not have written, so that a damaged index is rebuilt.

[[noreturn]] void damaged(const std::string &what) {
  throw json::other_error::create(501, "damaged index: " + what, nullptr);
}

// An enum stored by its name.
template <class Enum, std::size_t N>
Enum restore_named(const json &j, const util::Name<Enum> (&names)[N], const char *what) {
  auto parsed = util::value_of(names, j.get<std::string>());
  if (!parsed) {
    damaged(what);
  }
  return *parsed;
}

json to_index(const std::string &value) {
  return value;
}
json to_index(int value) {
  return value;
}
json to_index(bool value) {
  return value;
}
json to_index(std::chrono::seconds value) {
  return value.count();
}
json to_index(const std::vector<std::string> &value) {
  return value;
}
template <class Enum> json to_index(Enum value) requires std::is_enum_v<Enum> {
  return to_string(value);
}
json to_index(const std::vector<Mount> &value) {
  json mounts = json::array();
  for (const auto &m : value) {
    mounts.push_back({{"path", m.path}, {"ro", m.read_only}});
  }
  return mounts;
}

void from_index(const json &j, std::string &value) {
  value = j.get<std::string>();
}
void from_index(const json &j, int &value) {
  value = j.get<int>();
}
void from_index(const json &j, bool &value) {
  value = j.get<bool>();
}
void from_index(const json &j, std::chrono::seconds &value) {
  value = std::chrono::seconds(j.get<std::chrono::seconds::rep>());
}
void from_index(const json &j, std::vector<std::string> &value) {
  value = j.get<std::vector<std::string>>();
}
void from_index(const json &j, Network &value) {
  value = restore_named(j, network_names, "network");
}
void from_index(const json &j, MountRoot &value) {
  value = restore_named(j, mount_root_names, "mount_root");
}
void from_index(const json &j, Confirm &value) {
  value = restore_named(j, confirm_names, "confirm");
}
void from_index(const json &j, OnDigestChange &value) {
  value = restore_named(j, on_digest_change_names, "on_digest_change");
}
void from_index(const json &j, std::vector<Mount> &value) {
  value.clear();
  for (const auto &m : j) {
    value.push_back({m.at("path").get<std::string>(), m.at("ro").get<bool>()});
  }
}

// A value under key in an index object; an unset optional is left out.
template <class T> void put(json &out, const std::string &key, const T &value) {
  out[key] = to_index(value);
}
template <class T> void put(json &out, const std::string &key, const std::optional<T> &value) {
  if (value) {
    out[key] = to_index(*value);
  }
}
template <class T> void get(const json &in, const std::string &key, T &value) {
  from_index(in.at(key), value);
}
template <class T> void get(const json &in, const std::string &key, std::optional<T> &value) {
  value.reset();
  if (in.contains(key)) {
    T inner{};
    from_index(in.at(key), inner);
    value = std::move(inner);
  }
}

// Kinds of row.

// A key kept in one member of Target: read from YAML by read_value, kept in the index under
// the same key.
template <class Target, class Member, class Read>
Field<Target> field(const std::string &key, Member Target::*member, Read read_value) {
  return {key,
          [=](const YAML::Node &value, Target &target) { target.*member = read_value(value, key); },
          [=](const Target &target, json &out) { put(out, key, target.*member); },
          [=](const json &in, Target &target) { get(in, key, target.*member); }};
}

// A setting of `ttl: auto` and pre-warming (config.yaml), read by adaptive::apply_setting.
template <class Member>
Field<Config> adaptive_setting(const std::string &key, Member adaptive::Settings::*member) {
  return {key,
          [=](const YAML::Node &value, Config &config) {
            if (auto problem = adaptive::apply_setting(config.adaptive, key, scalar(value, key))) {
              throw FieldError{line_of(value), *problem};
            }
          },
          [=](const Config &config, json &out) { put(out, key, config.adaptive.*member); },
          [=](const json &in, Config &config) { get(in, key, config.adaptive.*member); }};
}

// An entry's `ttl`: a duration, or `auto` (Entry::ttl_auto).
Field<Entry> entry_ttl() {
  return {"ttl",
          [](const YAML::Node &value, Entry &entry) {
            if (is_auto(value)) {
              entry.ttl_auto = true;
            } else {
              entry.ttl = duration(value, "ttl");
            }
          },
          [](const Entry &entry, json &out) {
            put(out, "ttl", entry.ttl);
            put(out, "ttl_auto", entry.ttl_auto);
          },
          [](const json &in, Entry &entry) {
            get(in, "ttl", entry.ttl);
            get(in, "ttl_auto", entry.ttl_auto);
          }};
}

// config.yaml's `ttl`: `auto` (adaptive.ttl_auto), or a duration that turns auto off.
Field<Config> config_ttl() {
  return {"ttl",
          [](const YAML::Node &value, Config &config) {
            if (is_auto(value)) {
              config.adaptive.ttl_auto = true;
            } else {
              config.ttl = duration(value, "ttl");
              config.adaptive.ttl_auto = false;
            }
          },
          [](const Config &config, json &out) {
            put(out, "ttl", config.ttl);
            put(out, "ttl_auto", config.adaptive.ttl_auto);
          },
          [](const json &in, Config &config) {
            get(in, "ttl", config.ttl);
            get(in, "ttl_auto", config.adaptive.ttl_auto);
          }};
}

// The rows are built in place in an array and moved into the table: a braced list straight
// into the vector would copy every row's three std::functions, and each call of fod builds
// its tables once.
template <class Target, std::size_t N>
std::vector<Field<Target>> table(std::array<Field<Target>, N> &&rows) {
  return std::vector<Field<Target>>(std::make_move_iterator(rows.begin()),
                                    std::make_move_iterator(rows.end()));
}

} // namespace

// The tables. A new key is one row here plus its member in entry.hpp; the loader, the
// index and the unknown-key warnings follow from the row.

const std::vector<Field<Entry>> &entry_fields() {
  static const std::vector<Field<Entry>> fields = table(std::array{
      field("image", &Entry::image, image_reference),
      field("entrypoint", &Entry::entrypoint, program_argv),
      field("network", &Entry::network, one_of(network_names)),
      field("env", &Entry::env, env_names),
      field("mounts", &Entry::mounts, mount_list),
      field("capabilities", &Entry::capabilities, capability_list),
      entry_ttl(),
      field("memory", &Entry::memory, memory_size),
      field("pids", &Entry::pids, positive_int),
      field("mount_root", &Entry::mount_root, one_of(mount_root_names)),
      field("path_args", &Entry::path_args, boolean),
  });
  return fields;
}

const std::vector<Field<Config>> &config_fields() {
  static const std::vector<Field<Config>> fields = table(std::array{
      field("engine", &Config::engine, engine_name),
      config_ttl(),
      adaptive_setting("ttl_min", &adaptive::Settings::ttl_min),
      adaptive_setting("ttl_max", &adaptive::Settings::ttl_max),
      adaptive_setting("prewarm", &adaptive::Settings::prewarm),
      adaptive_setting("max_warm", &adaptive::Settings::max_warm),
      adaptive_setting("memory_ceiling", &adaptive::Settings::memory_ceiling),
      field("memory", &Config::memory, memory_size),
      field("pids", &Config::pids, positive_int),
      field("fast_path", &Config::fast_path, boolean),
      field("mount_root", &Config::mount_root, one_of(mount_root_names)),
      field("path_args", &Config::path_args, boolean),
      field("confirm", &Config::confirm, one_of(confirm_names)),
      field("on_digest_change", &Config::on_digest_change, one_of(on_digest_change_names)),
      field("insecure_registries", &Config::insecure_registries, registry_hosts),
      field("catalogs", &Config::catalogs, catalog_list),
      verify_scopes(),
      field("mapping_sources", &Config::mapping_sources, source_list),
      field("mapping_refresh", &Config::mapping_refresh, positive_duration),
      field("catalog_network", &Config::catalog_network, one_of(network_names)),
      field("registry_connect_timeout", &Config::registry_connect_timeout, positive_duration),
      field("registry_timeout", &Config::registry_timeout, positive_duration),
      field("negative_cache_ttl", &Config::negative_cache_ttl, duration),
  });
  return fields;
}

} // namespace fod::mapping
