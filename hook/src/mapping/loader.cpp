#include "mapping/loader.hpp"

#include "base/dirs.hpp"
#include "mapping/fields.hpp"
#include "mapping/index.hpp"
#include "mapping/validate.hpp"
#include "util/environment.hpp"
#include "util/fs.hpp"

#include <algorithm>
#include <dirent.h>
#include <fmt/format.h>
#include <functional>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

namespace fod::mapping {

namespace {

// Reports one problem at a line of the file being read.
using Reporter = std::function<void(int, const std::string &)>;

// Parses one entry; returns nullopt for `disabled: true`. Each key is read by its row in
// entry_fields(); unknown keys are reported through warn and otherwise ignored.
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
  for (const auto &item : node) {
    const auto key = item.first.Scalar();
    if (const auto *field = find_field(entry_fields(), key)) {
      field->read(item.second, entry);
    } else if (key != "disabled") {
      warn(line_of(item.first), fmt::format("{}: unknown key '{}' ignored", name, key));
    }
  }
  if (entry.image.empty()) {
    throw FieldError{line_of(node), fmt::format("'{}' has no 'image'", name)};
  }
  return entry;
}

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

bool apply_mapping_text(const std::string &text, const std::string &layer, const std::string &file,
                        Mapping &mapping) {
  Reporter report = [&](int line, const std::string &message) {
    mapping.diagnostics.push_back(fmt::format("{}:{}: {}", file, line, message));
  };
  auto parsed = parse_top_map(text, report, "a map with 'commands:'");
  if (!parsed) {
    return false;
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
    return true;
  }
  if (!commands.IsMap()) {
    report(line_of(commands), "'commands' must be a map of command names; file skipped");
    return false;
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
  return true;
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
      if (const auto *field = find_field(config_fields(), key)) {
        field->read(value, mapping.config);
      } else {
        report(line_of(item.first), fmt::format("unknown setting '{}' ignored", key));
      }
    } catch (const FieldError &e) {
      report(e.line, fmt::format("{}; setting ignored", e.message));
    }
  }
}

Mapping load_layers(const std::vector<Layer> &layers) {
  Mapping mapping;
  for (const auto &layer : layers) {
    std::string config_file = util::join(layer.dir, "config.yaml");
    if (auto text = layer.has_config ? util::read_file(config_file) : std::nullopt) {
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

IndexResult load_indexed(const std::vector<Layer> &layers, const std::string &cache_dir,
                         const std::optional<std::string> &only) {
  if (auto current = read_current_index(layers, cache_dir, only)) {
    return {std::move(*current), false};
  }
  // Signatures are taken before reading, so a change made while loading
  // invalidates the index written here.
  auto signatures = source_signatures(layers);
  Mapping mapping = load_layers(layers);
  write_index(layers, cache_dir, signatures, mapping);
  return {std::move(mapping), true};
}

} // namespace fod::mapping
