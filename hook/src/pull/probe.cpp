#include "pull/probe.hpp"

#include "registry/locate.hpp"
#include "registry/reference.hpp"
#include "util/environment.hpp"
#include "util/fs.hpp"
#include "util/process.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace fod::pull {

bool is_insecure(const std::string &reference, const mapping::Config &config) {
  auto parsed = registry::parse_reference(reference);
  if (!parsed) {
    return false;
  }
  return std::find(config.insecure_registries.begin(), config.insecure_registries.end(),
                   parsed->registry) != config.insecure_registries.end();
}

std::vector<std::string> probe_argv(const std::string &helper, const std::string &reference,
                                    const mapping::Config &config) {
  std::vector<std::string> argv = {helper, "probe"};
  for (const auto &host : config.insecure_registries) {
    argv.insert(argv.end(), {"--insecure", host});
  }
  argv.insert(argv.end(),
              {"--connect-timeout", std::to_string(config.registry_connect_timeout.count()),
               "--timeout", std::to_string(config.registry_timeout.count()), reference});
  return argv;
}

ProbeResult parse_probe_output(int status, const std::string &out, const std::string &err) {
  ProbeResult result;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(util::first_line(out));
  } catch (const nlohmann::json::exception &) {
    j = nlohmann::json::object();
  }
  auto text = [&](const char *key) {
    return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>()
                                                                  : std::string();
  };
  result.error = text("error");
  if (result.error.empty()) {
    result.error = util::first_line(err);
  }
  switch (status) {
  case 0:
    result.kind = ProbeResult::Kind::found;
    result.remote.reference = text("reference");
    result.remote.digest = text("digest");
    result.remote.manifest_digest = text("manifest_digest");
    if (j.is_object() && j.contains("size") && j["size"].is_number_unsigned()) {
      result.remote.size = j["size"].get<std::uint64_t>();
    }
    if (result.remote.digest.empty()) {
      result.kind = ProbeResult::Kind::failed;
      result.error = "the registry helper gave no digest";
    }
    break;
  case 1:
    result.kind = ProbeResult::Kind::not_found;
    break;
  case 2:
    result.kind = ProbeResult::Kind::invalid;
    break;
  default:
    result.kind = ProbeResult::Kind::failed;
    if (result.error.empty()) {
      result.error = fmt::format("fod-registry exited with status {}", status);
    }
  }
  return result;
}

bool is_local_name(const std::string &reference) {
  auto parsed = registry::parse_reference(reference);
  return parsed && parsed->registry == "localhost";
}

ProbeResult probe(const std::string &reference, const mapping::Config &config) {
  if (is_local_name(reference)) {
    ProbeResult result;
    result.kind = ProbeResult::Kind::local;
    result.error = fmt::format("{} names a local image (localhost/ is where podman keeps images "
                               "built or imported here); no registry serves it",
                               reference);
    return result;
  }
  std::string helper = registry::helper_path();
  if (access(helper.c_str(), X_OK) != 0) {
    ProbeResult result;
    result.error = fmt::format("{} is missing; reinstall fod", helper);
    return result;
  }
  auto captured = util::capture(probe_argv(helper, reference, config));
  return parse_probe_output(captured.status, captured.out, captured.err);
}

std::string human_size(std::uint64_t bytes) {
  static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1000 && unit + 1 < std::size(units)) {
    value /= 1000;
    ++unit;
  }
  if (unit == 0) {
    return fmt::format("{} B", bytes);
  }
  if (value < 10) {
    return fmt::format("{:.1f} {}", value, units[unit]);
  }
  return fmt::format("{:.0f} {}", value, units[unit]);
}

} // namespace fod::pull
