#include "base/error.hpp"
#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "pull/catalog.hpp"
#include "pull/flow.hpp"
#include "run/runner.hpp"

#include <csignal>
#include <cstdio>
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

namespace fod::cli {

namespace {

// Ends fod by sig, as the command it ran ended (mold's `raise(WTERMSIG(status))`), so that
// the shell, and a loop around the command, see it die of that signal. No core file.
[[noreturn]] void die_of_signal(int sig) {
  std::fflush(stdout);
  std::fflush(stderr);
  rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  signal(sig, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  sigprocmask(SIG_UNBLOCK, &set, nullptr);
  raise(sig);
  _exit(128 + sig);
}

int finish(const run::RunOutcome &outcome) {
  if (outcome.signal != 0) {
    die_of_signal(outcome.signal);
  }
  return outcome.status;
}

run::RunOutcome run_mapped(const mapping::Mapping &mapping, const std::string &name,
                           FoundEntry &found, const std::vector<std::string> &args) {
  auto &from_catalog = found.from_catalog;
  const auto *entry = &found.entry();
  run::RunRequest request =
      run_request(*entry, mapping.config, require_engine(mapping.config), args);
  if (from_catalog && from_catalog->entrypoint.empty()) {
    // First use of a catalog name: the image (pulled with consent if absent) says what runs.
    run::decline_unless_own_process("a catalog name's first use");
    auto entrypoint = pull::image_entrypoint(request.engine, entry->image);
    if (!entrypoint) {
      pull::obtain_image(*entry, mapping.config, request.engine);
      entrypoint = pull::image_entrypoint(request.engine, entry->image);
    }
    from_catalog->entrypoint =
        entrypoint && !entrypoint->empty() ? *entrypoint : std::vector<std::string>{name};
    pull::record_entrypoint(name, from_catalog->entrypoint);
  }
  refresh_sources_when_due(mapping.config);
  try {
    return run::execute(request);
  } catch (const run::ImageAbsent &) {
    // The only path that reaches the network: the image is not there yet.
  }
  pull::obtain_image(*entry, mapping.config, request.engine);
  return run::execute(request);
}

} // namespace

int run_command(const mapping::Mapping &mapping, const std::string &name,
                const std::vector<std::string> &args) {
  auto found = find_entry(mapping, name);
  if (!found) {
    // Said here rather than thrown: an unmapped name is the shell's everyday miss, and the
    // first throw of a process costs it the unwinder's start-up.
    fmt::print(stderr, "fod: {}: command not found (fod has no mapping for it)\n", name);
    return status_not_found;
  }
  try {
    return finish(run_mapped(mapping, name, *found, args));
  } catch (const Interrupted &e) {
    fmt::print(stderr, "fod: {}\n", e.what());
    die_of_signal(e.signal());
  }
}

} // namespace fod::cli
