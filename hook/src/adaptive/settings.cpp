#include "adaptive/settings.hpp"

#include "util/duration.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace fod::adaptive {

namespace {

std::optional<double> parse_percent(const std::string &text) {
  if (text.size() < 2 || text.back() != '%') {
    return std::nullopt;
  }
  try {
    size_t used = 0;
    double value = std::stod(text.substr(0, text.size() - 1), &used);
    if (used != text.size() - 1 || value <= 0 || value > 100) {
      return std::nullopt;
    }
    return value;
  } catch (const std::exception &) {
    return std::nullopt;
  }
}

} // namespace

std::optional<std::string> apply_setting(Settings &settings, const std::string &key,
                                         const std::string &value) {
  if (key == "ttl_min" || key == "ttl_max") {
    auto parsed = util::parse_duration(value);
    if (!parsed) {
      return fmt::format("'{}: {}' is not a duration like 90s, 10m or 2h", key, value);
    }
    if (parsed->count() < 1) {
      // 0 would make every reaper wake without pause and every run spawn a helper.
      return fmt::format("'{}: {}' must be at least 1s", key, value);
    }
    (key == "ttl_min" ? settings.ttl_min : settings.ttl_max) = *parsed;
    return std::nullopt;
  }
  if (key == "prewarm") {
    if (value == "true" || value == "yes" || value == "on") {
      settings.prewarm = true;
    } else if (value == "false" || value == "no" || value == "off") {
      settings.prewarm = false;
    } else {
      return fmt::format("'prewarm: {}' must be true or false", value);
    }
    return std::nullopt;
  }
  if (key == "max_warm") {
    int number = -1;
    try {
      size_t used = 0;
      number = std::stoi(value, &used);
      if (used != value.size()) {
        number = -1;
      }
    } catch (const std::exception &) {
      number = -1;
    }
    if (number < 0) {
      return fmt::format("'max_warm: {}' must be a whole number (0 turns pre-warming off)", value);
    }
    settings.max_warm = number;
    return std::nullopt;
  }
  if (key == "memory_ceiling") {
    if (!parse_percent(value) && !parse_memory(value)) {
      return fmt::format("'memory_ceiling: {}' must be a size like 8g or a share of RAM like 50%",
                         value);
    }
    settings.memory_ceiling = value;
    return std::nullopt;
  }
  return fmt::format("unknown setting '{}'", key);
}

nlohmann::json settings_to_json(const Settings &s) {
  return {{"ttl_auto", s.ttl_auto},       {"ttl_min", s.ttl_min.count()},
          {"ttl_max", s.ttl_max.count()}, {"prewarm", s.prewarm},
          {"max_warm", s.max_warm},       {"memory_ceiling", s.memory_ceiling}};
}

Settings settings_from_json(const nlohmann::json &j) {
  Settings s;
  if (!j.is_object()) {
    return s;
  }
  s.ttl_auto = j.value("ttl_auto", s.ttl_auto);
  s.ttl_min = std::chrono::seconds(j.value("ttl_min", static_cast<long>(s.ttl_min.count())));
  s.ttl_max = std::chrono::seconds(j.value("ttl_max", static_cast<long>(s.ttl_max.count())));
  s.prewarm = j.value("prewarm", s.prewarm);
  s.max_warm = j.value("max_warm", s.max_warm);
  s.memory_ceiling = j.value("memory_ceiling", s.memory_ceiling);
  return s;
}

std::optional<std::uint64_t> parse_memory(const std::string &text) {
  if (text.empty()) {
    return std::nullopt;
  }
  std::uint64_t number = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    number = number * 10 + static_cast<std::uint64_t>(text[i] - '0');
    if (number > (std::uint64_t{1} << 40)) {
      return std::nullopt;
    }
  }
  if (i == 0 || i + 1 < text.size()) {
    return std::nullopt;
  }
  std::uint64_t unit = 1;
  if (i < text.size()) {
    switch (text[i]) {
    case 'b':
    case 'B':
      unit = 1;
      break;
    case 'k':
    case 'K':
      unit = std::uint64_t{1} << 10;
      break;
    case 'm':
    case 'M':
      unit = std::uint64_t{1} << 20;
      break;
    case 'g':
    case 'G':
      unit = std::uint64_t{1} << 30;
      break;
    default:
      return std::nullopt;
    }
  }
  return number * unit;
}

std::uint64_t memory_ceiling_bytes(const Settings &settings, std::uint64_t ram_bytes) {
  if (auto percent = parse_percent(settings.memory_ceiling)) {
    return static_cast<std::uint64_t>(static_cast<double>(ram_bytes) * *percent / 100.0);
  }
  return parse_memory(settings.memory_ceiling).value_or(ram_bytes / 2);
}

std::uint64_t physical_memory() {
  long pages = sysconf(_SC_PHYS_PAGES);
  long page_size = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_size <= 0) {
    return std::uint64_t{4} << 30;
  }
  return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size);
}

} // namespace fod::adaptive
