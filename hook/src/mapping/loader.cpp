#include "mapping/loader.hpp"

#include "adaptive/settings.hpp"
#include "base/dirs.hpp"
#include "mapping/validate.hpp"
#include "util/duration.hpp"
#include "util/environment.hpp"
#include "util/fs.hpp"

#include <algorithm>
#include <dirent.h>
#include <fmt/format.h>
#include <functional>
#include <set>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

namespace fod::mapping {

namespace {

// A bad value for one field: the entry it belongs to is skipped.
struct FieldError {
  int line;
  std::string message;
};

int line_of(const YAML::Node &node) {
  return node.Mark().line + 1;
}

// Reports one problem at a line of the file being read.
using Reporter = std::function<void(int, const std::string &)>;

std::string scalar(const YAML::Node &node, const std::string &field) {
  if (!node.IsScalar()) {
    throw FieldError{line_of(node), fmt::format("'{}' must be a single value", field)};
  }
  return node.Scalar();
}

std::vector<std::string> string_list(const YAML::Node &node, const std::string &field) {
  if (node.IsNull()) {
    return {};
  }
  if (node.IsScalar()) {
    return {node.Scalar()};
  }
  if (!node.IsSequence()) {
    throw FieldError{line_of(node), fmt::format("'{}' must be a list of strings", field)};
  }
  std::vector<std::string> out;
  for (const auto &item : node) {
    if (!item.IsScalar()) {
      throw FieldError{line_of(item), fmt::format("'{}' must be a list of strings", field)};
    }
    out.push_back(item.Scalar());
  }
  return out;
}

std::chrono::seconds duration_field(const YAML::Node &node, const std::string &field) {
  auto text = scalar(node, field);
  auto parsed = util::parse_duration(text);
  if (!parsed) {
    throw FieldError{line_of(node),
                     fmt::format("'{}: {}' is not a duration like 90s, 10m or 2h", field, text)};
  }
  return *parsed;
}

std::chrono::seconds positive_duration_field(const YAML::Node &node, const std::string &field) {
  auto duration = duration_field(node, field);
  if (duration.count() <= 0) {
    throw FieldError{line_of(node), fmt::format("'{}' must be at least 1s", field)};
  }
  return duration;
}

int positive_int_field(const YAML::Node &node, const std::string &field) {
  auto text = scalar(node, field);
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
                     fmt::format("'{}: {}' must be a positive whole number", field, text)};
  }
  return value;
}

bool bool_field(const YAML::Node &node, const std::string &field) {
  auto text = scalar(node, field);
  if (text != "true" && text != "false") {
    throw FieldError{line_of(node), fmt::format("'{}: {}' must be true or false", field, text)};
  }
  return text == "true";
}

std::string memory_field(const YAML::Node &node) {
  auto text = scalar(node, "memory");
  if (auto problem = check_memory(text)) {
    throw FieldError{line_of(node), *problem};
  }
  return text;
}

Mount parse_mount(const YAML::Node &node) {
  auto text = scalar(node, "mounts");
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

// Parses one entry; returns nullopt for `disabled: true`. Unknown keys are reported
// through warn and otherwise ignored.
std::optional<Entry> parse_entry(const std::string &name, const YAML::Node &node,
                                 const Origin &origin, const Reporter &warn) {
  if (!node.IsMap()) {
    throw FieldError{line_of(node), fmt::format("'{}' must be a map with at least 'image'", name)};
  }
  if (auto disabled = node["disabled"]) {
    bool value = false;
    if (!YAML::convert<bool>::decode(disabled, value)) {
      throw FieldError{line_of(disabled), "'disabled' must be true or false"};
    }
    if (value) {
      return std::nullopt;
    }
  }
  Entry entry;
  entry.name = name;
  entry.origin = origin;
  entry.entrypoint = {name};
  bool have_image = false;
  for (const auto &field : node) {
    const auto key = field.first.Scalar();
    const auto &value = field.second;
    if (key == "image") {
      entry.image = scalar(value, key);
      if (auto problem = check_image_reference(entry.image)) {
        throw FieldError{line_of(value), fmt::format("image '{}': {}", entry.image, *problem)};
      }
      have_image = true;
    } else if (key == "entrypoint") {
      entry.entrypoint = string_list(value, key);
      if (entry.entrypoint.empty() || entry.entrypoint[0].empty()) {
        throw FieldError{line_of(value), "'entrypoint' must name the program to run"};
      }
    } else if (key == "network") {
      auto text = scalar(value, key);
      auto network = parse_network(text);
      if (!network) {
        throw FieldError{line_of(value),
                         fmt::format("'network: {}' must be none, default or host", text)};
      }
      entry.network = *network;
    } else if (key == "env") {
      entry.env = string_list(value, key);
      for (const auto &var : entry.env) {
        if (!util::is_env_name(var)) {
          throw FieldError{line_of(value),
                           fmt::format("'{}' is not an environment variable name", var)};
        }
      }
    } else if (key == "mounts") {
      if (!value.IsSequence()) {
        throw FieldError{line_of(value), "'mounts' must be a list of paths"};
      }
      for (const auto &item : value) {
        entry.mounts.push_back(parse_mount(item));
      }
    } else if (key == "capabilities") {
      for (const auto &cap : string_list(value, key)) {
        if (auto problem = check_capability(cap)) {
          throw FieldError{line_of(value), *problem};
        }
        entry.capabilities.push_back(normalize_capability(cap));
      }
    } else if (key == "ttl") {
      if (value.IsScalar() && value.Scalar() == "auto") {
        entry.ttl_auto = true;
      } else {
        entry.ttl = duration_field(value, key);
      }
    } else if (key == "memory") {
      entry.memory = memory_field(value);
    } else if (key == "pids") {
      entry.pids = positive_int_field(value, key);
    } else if (key == "disabled") {
      // handled above
    } else {
      warn(line_of(field.first), fmt::format("{}: unknown key '{}' ignored", name, key));
    }
  }
  if (!have_image) {
    throw FieldError{line_of(node), fmt::format("'{}' has no 'image'", name)};
  }
  return entry;
}

} // namespace

namespace {

// The top-level map of a file, or nullopt (reported) when it does not parse or
// is not a map; an empty file is an empty map.
std::optional<YAML::Node> parse_top_map(const std::string &text, const Reporter &report,
                                        const char *expected) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception &e) {
    report(e.mark.line + 1, fmt::format("{}; file skipped", e.msg));
    return std::nullopt;
  }
  if (root.IsNull()) {
    return YAML::Node(YAML::NodeType::Map);
  }
  if (!root.IsMap()) {
    report(line_of(root), fmt::format("expected {}; file skipped", expected));
    return std::nullopt;
  }
  return root;
}

} // namespace

void apply_mapping_text(const std::string &text, const std::string &layer, const std::string &file,
                        Mapping &mapping) {
  Reporter report = [&](int line, const std::string &message) {
    mapping.diagnostics.push_back(fmt::format("{}:{}: {}", file, line, message));
  };
  auto parsed = parse_top_map(text, report, "a map with 'commands:'");
  if (!parsed) {
    return;
  }
  const YAML::Node &root = *parsed;
  for (const auto &top : root) {
    const auto key = top.first.Scalar();
    if (key != "commands") {
      report(line_of(top.first), fmt::format("unknown key '{}' ignored", key));
    }
  }
  auto commands = root["commands"];
  if (!commands || commands.IsNull()) {
    return;
  }
  if (!commands.IsMap()) {
    report(line_of(commands), "'commands' must be a map of command names; file skipped");
    return;
  }
  for (const auto &item : commands) {
    const auto name = item.first.Scalar();
    const int line = line_of(item.first);
    if (auto problem = check_command_name(name)) {
      report(line, fmt::format("'{}': {}; entry skipped", name, *problem));
      continue;
    }
    try {
      auto entry = parse_entry(name, item.second, Origin{layer, file, line}, report);
      if (entry) {
        mapping.entries[name] = std::move(*entry);
      } else {
        mapping.entries.erase(name);
      }
    } catch (const FieldError &e) {
      report(e.line, fmt::format("{}; entry '{}' skipped", e.message, name));
    } catch (const YAML::Exception &e) {
      report(e.mark.line + 1, fmt::format("{}; entry '{}' skipped", e.msg, name));
    }
  }
}

void apply_config_text(const std::string &text, const std::string &file, Mapping &mapping) {
  Reporter report = [&](int line, const std::string &message) {
    mapping.diagnostics.push_back(fmt::format("{}:{}: {}", file, line, message));
  };
  auto parsed = parse_top_map(text, report, "a map of settings");
  if (!parsed) {
    return;
  }
  const YAML::Node &root = *parsed;
  // Each setting is applied on its own, so one bad value keeps the others.
  for (const auto &item : root) {
    const auto key = item.first.Scalar();
    const auto &value = item.second;
    try {
      if (key == "engine") {
        auto engine = scalar(value, key);
        if (engine != "auto" && engine != "podman" && engine != "docker") {
          throw FieldError{line_of(value),
                           fmt::format("'engine: {}' must be auto, podman or docker", engine)};
        }
        mapping.config.engine = engine;
      } else if (key == "ttl") {
        if (value.IsScalar() && value.Scalar() == "auto") {
          mapping.config.adaptive.ttl_auto = true;
        } else {
          mapping.config.ttl = duration_field(value, key);
          mapping.config.adaptive.ttl_auto = false;
        }
      } else if (adaptive::is_setting(key)) {
        if (auto problem =
                adaptive::apply_setting(mapping.config.adaptive, key, scalar(value, key))) {
          throw FieldError{line_of(value), *problem};
        }
      } else if (key == "memory") {
        mapping.config.memory = memory_field(value);
      } else if (key == "pids") {
        mapping.config.pids = positive_int_field(value, key);
      } else if (key == "fast_path") {
        mapping.config.fast_path = bool_field(value, key);
      } else if (key == "confirm") {
        auto text = scalar(value, key);
        auto confirm = parse_confirm(text);
        if (!confirm) {
          throw FieldError{line_of(value), fmt::format("'confirm: {}' must be ask or never", text)};
        }
        mapping.config.confirm = *confirm;
      } else if (key == "on_digest_change") {
        auto text = scalar(value, key);
        auto change = parse_on_digest_change(text);
        if (!change) {
          throw FieldError{
              line_of(value),
              fmt::format("'on_digest_change: {}' must be ask, allow or refuse", text)};
        }
        mapping.config.on_digest_change = *change;
      } else if (key == "insecure_registries") {
        auto hosts = string_list(value, key);
        for (const auto &host : hosts) {
          if (host.empty() || host.find('/') != std::string::npos ||
              host.find_first_of(" \t") != std::string::npos) {
            throw FieldError{
                line_of(value),
                fmt::format("'{}' in insecure_registries must be host or host:port", host)};
          }
        }
        mapping.config.insecure_registries = hosts;
      } else if (key == "catalogs") {
        auto catalogs = string_list(value, key);
        for (auto &catalog : catalogs) {
          while (!catalog.empty() && catalog.back() == '/') {
            catalog.pop_back();
          }
          if (auto problem = check_catalog(catalog)) {
            throw FieldError{line_of(value), fmt::format("catalog '{}': {}", catalog, *problem)};
          }
        }
        mapping.config.catalogs = catalogs;
      } else if (key == "catalog_network") {
        auto text = scalar(value, key);
        auto network = parse_network(text);
        if (!network) {
          throw FieldError{
              line_of(value),
              fmt::format("'catalog_network: {}' must be none, default or host", text)};
        }
        mapping.config.catalog_network = *network;
      } else if (key == "registry_connect_timeout") {
        mapping.config.registry_connect_timeout = positive_duration_field(value, key);
      } else if (key == "registry_timeout") {
        mapping.config.registry_timeout = positive_duration_field(value, key);
      } else if (key == "negative_cache_ttl") {
        mapping.config.negative_cache_ttl = duration_field(value, key);
      } else {
        report(line_of(item.first), fmt::format("unknown setting '{}' ignored", key));
      }
    } catch (const FieldError &e) {
      report(e.line, fmt::format("{}; setting ignored", e.message));
    }
  }
}

std::vector<Layer> default_layers() {
  std::string exe_dir = util::dirname(util::executable_path());
  std::string package =
      util::get_env("FOD_DATADIR").value_or(util::join(util::dirname(exe_dir), "share/fod"));
  std::string system = util::get_env("FOD_SYSCONFDIR").value_or("/etc/fod");
  return {{"package", package}, {"system", system}, {"user", dirs::config()}};
}

std::vector<std::string> mapping_files(const Layer &layer) {
  std::vector<std::string> files;
  std::string main_file = util::join(layer.dir, "mappings.yaml");
  if (access(main_file.c_str(), F_OK) == 0) {
    files.push_back(main_file);
  }
  std::string drop_in = util::join(layer.dir, "mappings.d");
  std::vector<std::string> names;
  if (DIR *dir = opendir(drop_in.c_str())) {
    while (const dirent *e = readdir(dir)) {
      std::string name = e->d_name;
      if (name.size() > 5 && name.compare(name.size() - 5, 5, ".yaml") == 0 && name[0] != '.') {
        names.push_back(name);
      }
    }
    closedir(dir);
  }
  std::sort(names.begin(), names.end());
  for (const auto &name : names) {
    files.push_back(util::join(drop_in, name));
  }
  return files;
}

Mapping load_layers(const std::vector<Layer> &layers) {
  Mapping mapping;
  for (const auto &layer : layers) {
    std::string config_file = util::join(layer.dir, "config.yaml");
    if (auto text = util::read_file(config_file)) {
      apply_config_text(*text, config_file, mapping);
    }
    for (const auto &file : mapping_files(layer)) {
      if (auto text = util::read_file(file)) {
        apply_mapping_text(*text, layer.name, file, mapping);
      } else {
        mapping.diagnostics.push_back(fmt::format("{}: cannot be read; file skipped", file));
      }
    }
  }
  return mapping;
}

} // namespace fod::mapping
