#include "pull/probe.hpp"

#include "base/dirs.hpp"
#include "registry/helper_proto.hpp"
#include "registry/manifest.hpp"
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

std::vector<std::string> helper_argv(const std::string &helper, const char *command,
                                     const mapping::Config &config,
                                     const std::vector<std::string> &options,
                                     const std::string &reference) {
  std::vector<std::string> argv = {helper, command};
  for (const auto &host : config.insecure_registries) {
    argv.insert(argv.end(), {"--insecure", host});
  }
  argv.insert(argv.end(), options.begin(), options.end());
  argv.insert(argv.end(),
              {"--connect-timeout", std::to_string(config.registry_connect_timeout.count()),
               "--timeout", std::to_string(config.registry_timeout.count()),
               registry::helper::end_of_options, reference});
  return argv;
}

std::vector<std::string> probe_argv(const std::string &helper, const std::string &reference,
                                    const mapping::Config &config,
                                    const std::vector<std::string> &verify_keys) {
  std::vector<std::string> options;
  for (const auto &key : verify_keys) {
    options.insert(options.end(), {"--verify-key", key});
  }
  return helper_argv(helper, registry::helper::probe_command, config, options, reference);
}

ProbeResult parse_probe_output(int status, const std::string &out, const std::string &err) {
  namespace key = registry::helper::key;
  using registry::helper::Status;
  ProbeResult result;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(util::first_line(out));
  } catch (const nlohmann::json::exception &) {
    j = nlohmann::json::object();
  }
  auto text = [&](const char *name) {
    return j.is_object() && j.contains(name) && j[name].is_string()
               ? util::printable(j[name].get<std::string>())
               : std::string();
  };
  result.error = text(key::error);
  if (result.error.empty()) {
    result.error = util::printable(util::first_line(err));
  }
  switch (status) {
  case static_cast<int>(Status::found):
    result.kind = ProbeResult::Kind::found;
    result.remote.reference = text(key::reference);
    result.remote.digest = text(key::digest);
    result.remote.manifest_digest = text(key::manifest_digest);
    result.remote.verified_by = text(key::verified_by);
    if (j.is_object() && j.contains(key::size) && j[key::size].is_number_unsigned()) {
      result.remote.size = j[key::size].get<std::uint64_t>();
    }
    if (!registry::is_sha256_digest(result.remote.digest)) {
      result.kind = ProbeResult::Kind::failed;
      result.error = "the registry helper gave no digest";
    }
    break;
  case static_cast<int>(Status::not_found):
    result.kind = ProbeResult::Kind::not_found;
    break;
  case static_cast<int>(Status::usage):
    result.kind = ProbeResult::Kind::invalid;
    break;
  case static_cast<int>(Status::unreachable):
    result.kind = ProbeResult::Kind::unreachable;
    break;
  case static_cast<int>(Status::malformed):
    result.kind = ProbeResult::Kind::malformed;
    break;
  case static_cast<int>(Status::unverified):
    result.kind = ProbeResult::Kind::unverified;
    break;
  default:
    result.kind = ProbeResult::Kind::failed;
    if (result.error.empty()) {
      result.error = fmt::format("fod-registry exited with status {}", status);
    }
  }
  return result;
}

std::string describe_failure(const ProbeResult &result) {
  const std::string registry = result.registry.empty() ? "the registry" : result.registry;
  switch (result.kind) {
  case ProbeResult::Kind::unreachable:
    return "registry unreachable: " + result.error;
  case ProbeResult::Kind::malformed:
    return fmt::format("malformed answer from {}: {}", registry, result.error);
  case ProbeResult::Kind::not_found:
    return "not found in its registry" + (result.error.empty() ? "" : ": " + result.error);
  case ProbeResult::Kind::invalid:
    return "not a valid image reference" + (result.error.empty() ? "" : ": " + result.error);
  case ProbeResult::Kind::unverified:
    return "refused: " + result.error;
  default:
    return "registry error: " + result.error;
  }
}

bool is_local_name(const std::string &reference) {
  auto parsed = registry::parse_reference(reference);
  return parsed && parsed->registry == "localhost";
}

ProbeResult probe(const std::string &reference, const mapping::Config &config,
                  const std::vector<std::string> &verify_keys) {
  if (is_local_name(reference)) {
    ProbeResult result;
    result.kind = ProbeResult::Kind::local;
    result.error = fmt::format("{} names a local image (localhost/ is where podman keeps images "
                               "built or imported here); no registry serves it",
                               reference);
    return result;
  }
  auto parsed = registry::parse_reference(reference);
  std::string helper = dirs::registry_program();
  ProbeResult result;
  if (access(helper.c_str(), X_OK) != 0) {
    result.error = fmt::format("{} is missing; reinstall fod", helper);
  } else {
    auto captured = util::capture(probe_argv(helper, reference, config, verify_keys));
    result = parse_probe_output(captured.status, captured.out, captured.err);
  }
  result.registry = parsed ? parsed->registry : std::string();
  return result;
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
