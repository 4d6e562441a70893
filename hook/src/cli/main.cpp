#include "cli/main.hpp"

#include "base/error.hpp"
#include "base/version.hpp"
#include "cli/commands.hpp"
#include "cli/stats.hpp"
#include "util/fs.hpp"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <fcntl.h>
#include <fmt/format.h>
#include <set>
#include <string_view>

namespace fod::cli {

namespace {

constexpr const char *description =
    "fod runs commands that are not installed in containers of the images mapped to them,\n"
    "keeping each container warm for the next call.";

constexpr const char *usage =
    "usage: fod run NAME [ARGS...] | which [--registry] NAME | allow NAME | ps | stop NAME|--all | "
    "gc | stats | init bash|zsh|fish   (fod --help for more)";

int dispatch(int argc, char **argv) {
  std::string invoked = util::basename(argv[0]);
  // A shim: a symlink named after the command.
  if (invoked != "fod" && invoked.compare(0, 4, "fod.") != 0) {
    return run_command(invoked, std::vector<std::string>(argv + 1, argv + argc));
  }
  // `run` is dispatched by hand: everything after NAME belongs to the command,
  // including its own --help.
  if (argc >= 2 && std::string_view(argv[1]) == "run") {
    if (argc < 3 || argv[2][0] == '-') {
      throw UserError(2, "usage: fod run NAME [ARGS...]");
    }
    return run_command(argv[2], std::vector<std::string>(argv + 3, argv + argc));
  }
  if (argc == 4 && std::string_view(argv[1]) == "_prewarm") {
    return prewarm_command(argv[2], std::strtod(argv[3], nullptr));
  }
  if (argc == 3 && std::string_view(argv[1]) == "_reap") {
    return reap_command(argv[2]);
  }
  if (argc == 3 && std::string_view(argv[1]) == "_catalog") {
    return catalog_command(argv[2]);
  }
  if (argc == 2 && std::string_view(argv[1]) == "_sync") {
    return sync_command();
  }

  static const std::set<std::string_view> subcommands = {"run",  "which", "allow", "ps",
                                                         "stop", "gc",    "init",  "stats"};
  if (argc >= 2 && argv[1][0] != '-' && subcommands.count(argv[1]) == 0) {
    throw UserError(2, fmt::format("unknown subcommand '{}'\n{}", argv[1], usage));
  }

  CLI::App app{description, "fod"};
  app.set_version_flag("--version", fmt::format("fod {}", version));
  app.require_subcommand(1);
  app.footer("Run `fod SUBCOMMAND --help` for details. See fod(1) and fod-mappings(5).");

  app.add_subcommand("run", "Run a mapped command: fod run NAME [ARGS...]");
  std::string which_name;
  auto *which = app.add_subcommand(
      "which", "Show where NAME is mapped, its image, engine and warm container");
  which->add_option("NAME", which_name, "command name")->required();
  bool which_registry = false;
  which->add_flag("--registry", which_registry,
                  "ask the registry about the image even when the engine has it");
  std::string allow_name;
  auto *allow = app.add_subcommand(
      "allow", "Allow fod to pull NAME's image without asking (records its current digest)");
  allow->add_option("NAME", allow_name, "command name")->required();
  auto *ps = app.add_subcommand("ps", "List warm containers");
  std::string stop_name;
  bool stop_all = false;
  auto *stop =
      app.add_subcommand("stop", "Remove the warm containers of NAME's image, or all with --all");
  auto *stop_name_option = stop->add_option("NAME", stop_name, "command name");
  auto *stop_all_flag = stop->add_flag("--all", stop_all, "stop every warm container of yours");
  stop_name_option->excludes(stop_all_flag);
  std::string init_shell;
  auto *init = app.add_subcommand("init", "Print the shell integration: eval \"$(fod init bash)\", "
                                          "eval \"$(fod init zsh)\", fod init fish | source");
  init->add_option("SHELL", init_shell, "bash, zsh or fish")->required();
  auto *gc = app.add_subcommand(
      "gc", "Remove fod's containers whose reaper is gone (after a crash or reboot)");
  auto *stats = app.add_subcommand(
      "stats", "Per command: calls, MTBC, MTTS, MTTE, epsilon, warm-hit rate, idle time");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    if (e.get_exit_code() == 0) {
      return app.exit(e); // --help, --version
    }
    throw UserError(2, fmt::format("{}\n{}", e.what(), usage));
  }
  if (which->parsed()) {
    return which_command(which_name, which_registry);
  }
  if (allow->parsed()) {
    return allow_command(allow_name);
  }
  if (ps->parsed()) {
    return ps_command();
  }
  if (stop->parsed()) {
    if (!stop_all && stop_name.empty()) {
      throw UserError(2, "usage: fod stop NAME | --all");
    }
    return stop_command(stop_name, stop_all);
  }
  if (init->parsed()) {
    return init_command(init_shell);
  }
  if (gc->parsed()) {
    return gc_command();
  }
  if (stats->parsed()) {
    return stats_command();
  }
  throw UserError(2, "usage: fod run NAME [ARGS...]");
}

} // namespace

int main(int argc, char **argv) {
  // A closed stdin, stdout or stderr would otherwise be taken by the next file
  // fod opens (a lock file, the agent's socket) and handed to the command.
  for (int fd = 0; fd <= 2; ++fd) {
    if (fcntl(fd, F_GETFD) < 0) {
      open("/dev/null", O_RDWR);
    }
  }
  try {
    return dispatch(argc, argv);
  } catch (const UserError &e) {
    if (e.status() == 2 || e.status() == status_not_found) {
      fmt::print(stderr, "fod: {}\n", e.what());
    } else {
      fmt::print(stderr, "fod: error: {}\n", e.what());
    }
    return e.status();
  } catch (const std::exception &e) {
    fmt::print(stderr, "fod: error: {}\n", e.what());
    return status_engine_failure;
  }
}

} // namespace fod::cli
