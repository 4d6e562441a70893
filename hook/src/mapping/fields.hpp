#pragma once

#include "mapping/entry.hpp"

#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace YAML {
class Node;
}

namespace fod::mapping {

// A bad value for one key: the message the user sees, and the line it is on.
struct FieldError {
  int line;
  std::string message;
};

// One key of a mapping entry (Target = Entry) or of config.yaml (Target = Config), and
// everything fod does with it. read checks the key's YAML value and stores it in target; a bad
// value throws FieldError and leaves target as it was. save writes it into the JSON index;
// restore reads it back and throws nlohmann::json::exception when the index is damaged.
template <class Target> struct Field {
  std::string key;
  std::function<void(const YAML::Node &value, Target &target)> read;
  std::function<void(const Target &target, nlohmann::json &out)> save;
  std::function<void(const nlohmann::json &in, Target &target)> restore;
};

// The keys of an entry under `commands:`. `disabled` is not among them: the loader reads it
// first, since it decides whether the rest of the entry matters.
const std::vector<Field<Entry>> &entry_fields();

// The keys of config.yaml.
const std::vector<Field<Config>> &config_fields();

// The field called key, or nullptr.
template <class Target>
const Field<Target> *find_field(const std::vector<Field<Target>> &fields, const std::string &key) {
  for (const auto &field : fields) {
    if (field.key == key) {
      return &field;
    }
  }
  return nullptr;
}

// The line of node in its file, counting from 1.
int line_of(const YAML::Node &node);

} // namespace fod::mapping
