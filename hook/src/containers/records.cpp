#include "containers/records.hpp"

#include "base/dirs.hpp"
#include "containers/box.hpp"
#include "util/duration.hpp"
#include "util/environment.hpp"
#include "util/fs.hpp"
#include "util/hash.hpp"
#include "util/lock.hpp"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <dirent.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <time.h>
#include <unistd.h>

namespace fod::containers {

using nlohmann::json;

std::string runtime_id() {
  std::string dir = dirs::runtime();
  char canonical[PATH_MAX];
  if (realpath(dir.c_str(), canonical) != nullptr) {
    dir = canonical;
  }
  return util::StableHash().add(dir).hex();
}

bool is_key(const std::string &text) {
  // 32 hex digits; an older fod's keys had 16.
  return (text.size() == 32 || text.size() == 16) &&
         std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

ContainerPaths paths_for_key(const std::string &key) {
  return ContainerPaths(util::join(util::join(dirs::runtime(), "c"), key));
}

std::optional<ContainerPaths> paths_for_dir(const std::string &dir) {
  std::string key = util::basename(dir);
  if (!is_key(key) || paths_for_key(key).dir != dir) {
    return std::nullopt;
  }
  return paths_for_key(key);
}

namespace {

MountedView mounted_from_json(const json &j) {
  MountedView mounted;
  for (const auto &bind : j.value("binds", json::array())) {
    mounted.binds.push_back({bind.at("source").get<std::string>(),
                             bind.at("target").get<std::string>(), bind.at("ro").get<bool>()});
  }
  mounted.hidden = j.value("hidden", std::vector<std::string>());
  mounted.identities = j.value("identities", std::map<std::string, std::string>());
  return mounted;
}

json mounted_to_json(const MountedView &mounted) {
  json binds = json::array();
  for (const auto &bind : mounted.binds) {
    binds.push_back({{"source", bind.source}, {"target", bind.target}, {"ro", bind.read_only}});
  }
  return {{"binds", binds}, {"hidden", mounted.hidden}, {"identities", mounted.identities}};
}

} // namespace

std::optional<Info> read_info(const ContainerPaths &paths, RecordPart part) {
  auto text = util::read_file(paths.info());
  if (!text) {
    return std::nullopt;
  }
  try {
    const size_t newline = text->find('\n');
    const auto first_end =
        newline == std::string::npos ? text->end() : text->begin() + static_cast<long>(newline);
    auto j = json::parse(text->begin(), first_end);
    Info info;
    info.key = j.at("key").get<std::string>();
    info.container = j.at("container").get<std::string>();
    info.runtime = j.value("runtime", std::string());
    info.image = j.at("image").get<std::string>();
    info.root = j.at("root").get<std::string>();
    info.engine.kind =
        j.at("engine").get<std::string>() == "docker" ? engine::Kind::docker : engine::Kind::podman;
    info.engine.rootless = j.at("rootless").get<bool>();
    info.commands = j.at("commands").get<std::vector<std::string>>();
    info.ttl = std::chrono::seconds(j.at("ttl").get<long>());
    info.created = j.at("created").get<double>();
    if (j.contains("adaptive")) {
      info.adaptive = adaptive::settings_from_json(j["adaptive"]);
    }
    info.family = j.value("family", std::string());
    if (part == RecordPart::whole) {
      // An older fod wrote one line, its mounts in it.
      const bool second_line = first_end != text->end() && first_end + 1 != text->end();
      info.mounted = mounted_from_json(second_line ? json::parse(first_end + 1, text->end()) : j);
    }
    return info;
  } catch (const json::exception &) {
    return std::nullopt;
  }
}

bool write_info(const ContainerPaths &paths, const Info &info) {
  json j = {{"key", info.key},
            {"container", info.container},
            {"runtime", info.runtime},
            {"image", info.image},
            {"root", info.root},
            {"engine", engine::to_string(info.engine.kind)},
            {"rootless", info.engine.rootless},
            {"commands", info.commands},
            {"ttl", info.ttl.count()},
            {"created", info.created}};
  if (info.adaptive) {
    j["adaptive"] = adaptive::settings_to_json(*info.adaptive);
  }
  // A path that is not UTF-8 is written with U+FFFD: such a record serves no other run.
  auto line = [](const json &value) {
    return value.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  };
  std::string text;
  if (info.family.empty()) {
    text = line(j);
  } else {
    j["family"] = info.family;
    text = line(j) + line(mounted_to_json(info.mounted));
  }
  return util::write_file_atomic(paths.info(), text, 0600);
}

void forget(const ContainerPaths &paths) {
  unlink(paths.info().c_str());
  unlink(paths.stamp().c_str());
  box::remove(paths);
}

std::vector<std::pair<ContainerPaths, Info>> list_recorded() {
  std::vector<std::pair<ContainerPaths, Info>> result;
  std::string base = util::join(dirs::runtime(), "c");
  DIR *dir = opendir(base.c_str());
  if (dir == nullptr) {
    return result;
  }
  while (const dirent *e = readdir(dir)) {
    if (!is_key(e->d_name)) {
      continue;
    }
    ContainerPaths paths(util::join(base, e->d_name));
    if (auto info = read_info(paths)) {
      result.emplace_back(paths, std::move(*info));
    }
  }
  closedir(dir);
  return result;
}

namespace {

std::string serving_hint_path(const std::string &family) {
  return util::join(util::join(dirs::runtime(), "served"), family);
}

} // namespace

std::optional<std::string> serving_hint(const std::string &family) {
  if (!is_key(family)) {
    return std::nullopt;
  }
  auto key = util::read_file(serving_hint_path(family));
  if (!key || !is_key(*key)) {
    return std::nullopt;
  }
  return key;
}

void remember_serving(const std::string &family, const std::string &key) {
  if (!is_key(family) || !is_key(key) || serving_hint(family) == key) {
    return;
  }
  const std::string path = serving_hint_path(family);
  util::make_directories(util::dirname(path), 0700);
  util::write_file_atomic(path, key, 0600); // a hint: not written (a full disk) is no hint
}

bool keeper_alive(const ContainerPaths &paths) {
  return box::keeper_alive(paths);
}

bool reaper_alive(const ContainerPaths &paths) {
  return util::is_locked_exclusively(paths.reaper_lock());
}

double now_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double idle_seconds(const ContainerPaths &paths, const Info &info) {
  double last = util::modification_time(paths.stamp()).value_or(info.created);
  return std::max(0.0, now_seconds() - last);
}

std::string describe_ttl(const Info &info, bool compact) {
  if (!info.adaptive) {
    return util::format_duration(info.ttl);
  }
  if (info.ttl.count() > 0) {
    return (compact ? "auto>=" : "auto, at least ") + util::format_duration(info.ttl);
  }
  return "auto";
}

} // namespace fod::containers
