#include "adaptive/history.hpp"
#include "adaptive/policy.hpp"
#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "containers/keep_warm.hpp"
#include "containers/records.hpp"
#include "run/runner.hpp"

namespace fod::cli {

int prewarm_command(const std::string &trigger, double spawned_at) {
  {
    // Most runs predict nothing: find out from the record and the config alone.
    const auto settings = load_mapping_for(trigger).config.adaptive;
    const bool nothing =
        adaptive::plan_prewarm(adaptive::read_history(adaptive::default_history_path()), trigger,
                               containers::now_seconds(), settings)
            .empty();
    containers::mark_prewarm_idle(trigger, nothing);
    if (nothing) {
      return 0;
    }
  }
  auto mapping = load_mapping();
  const auto &settings = mapping.config.adaptive;
  if (!settings.prewarm) {
    return 0;
  }
  const auto engine = require_engine(mapping.config);
  auto request_for = [&](const std::string &command) -> std::optional<run::RunRequest> {
    const auto *entry = mapping.find(command);
    if (entry == nullptr) {
      return std::nullopt;
    }
    return run_request(*entry, mapping.config, engine);
  };
  auto hooks = containers::default_prewarm_hooks(
      [&](const std::string &command) {
        const auto *entry = mapping.find(command);
        return adaptive::parse_memory(entry != nullptr
                                          ? entry->memory.value_or(mapping.config.memory)
                                          : mapping.config.memory)
            .value_or(0);
      },
      spawned_at);
  hooks.warm_key = [&](const std::string &command) -> std::optional<std::string> {
    auto request = request_for(command);
    if (!request) {
      return std::nullopt;
    }
    // Its own container, or another that mounts all a run here needs.
    return run::serving_key(run::target_for(*request, run::current_directory()));
  };
  hooks.start = [&](const std::string &command) -> std::optional<std::string> {
    auto request = request_for(command);
    if (!request) {
      return std::nullopt;
    }
    try {
      return run::start_ahead(*request);
    } catch (const std::exception &) {
      return std::nullopt; // not startable now: the call starts it as usual
    }
  };
  adaptive::run_prewarm_helper(
      trigger, settings, adaptive::memory_ceiling_bytes(settings, adaptive::physical_memory()),
      hooks);
  return 0;
}

} // namespace fod::cli
