#include "cli/main.hpp"

#include "base/error.hpp"
#include "base/version.hpp"
#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/fast.hpp"
#include "cli/stats.hpp"
#include "util/fs.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <string_view>
#include <utility>
#include <vector>

namespace fod::cli {

namespace {

constexpr const char *description =
    "fod runs commands that are not installed in containers of the images mapped to them,\n"
    "keeping each container warm for the next call.";

// The values a subcommand's options and arguments are parsed into.
struct Arguments {
  std::string name;              // NAME, SHELL, DIR: the one positional argument
  bool flag = false;             // --registry, --all
  double number = 0;             // _prewarm's SPAWNED_AT
  std::vector<std::string> rest; // which's ARGS: everything after NAME, as given
};

// One subcommand: its name, its part of the one-line usage, its --help text, how its
// options are declared and the function that runs it. Internal subcommands (the
// reaper, the pre-warm helper, the shell hooks' calls) have no help text: they take
// exactly `args` positional arguments and are dispatched without CLI11.
struct Subcommand {
  std::string_view name;
  std::string_view usage;
  std::string_view help;
  void (*declare)(CLI::App &subcommand, Arguments &arguments);
  int (*handle)(const Arguments &arguments);
  int internal_args = 0;
};

void no_options(CLI::App & /*subcommand*/, Arguments & /*arguments*/) {}

const Subcommand subcommands[] = {
    // `run` is dispatched by hand: everything after NAME belongs to the command, its own --help
    // included. It is here for the usage line and `fod --help`.
    {"run", "run NAME [ARGS...]", "Run a mapped command: fod run NAME [ARGS...]", no_options,
     nullptr},
    {"which", "which [--registry] NAME [ARGS...]",
     "Show where NAME is mapped, its image, engine, and what a run with ARGS here would mount "
     "and which container would serve it",
     [](CLI::App &sub, Arguments &a) {
       sub.add_option("NAME", a.name, "command name")->required();
       sub.add_flag("--registry", a.flag,
                    "ask the registry about the image even when the engine has it");
       // Everything after NAME is the run's, options too (`fod which wc -l ../x`).
       sub.prefix_command();
       sub.final_callback([&sub, &a] { a.rest = sub.remaining(); });
     },
     [](const Arguments &a) { return which_command(a.name, a.rest, a.flag); }},
    {"allow", "allow NAME",
     "Allow fod to pull NAME's image without asking (records its current digest)",
     [](CLI::App &sub, Arguments &a) {
       sub.add_option("NAME", a.name, "command name")->required();
     },
     [](const Arguments &a) { return allow_command(a.name); }},
    {"ps", "ps", "List warm containers", no_options,
     [](const Arguments &) { return ps_command(); }},
    {"stop", "stop NAME|--all", "Remove the warm containers of NAME's image, or all with --all",
     [](CLI::App &sub, Arguments &a) {
       auto *name = sub.add_option("NAME", a.name, "command name");
       name->excludes(sub.add_flag("--all", a.flag, "stop every warm container of yours"));
     },
     [](const Arguments &a) {
       if (!a.flag && a.name.empty()) {
         throw UserError(2, "usage: fod stop NAME | --all");
       }
       return stop_command(a.name, a.flag);
     }},
    {"gc", "gc", "Remove fod's containers whose reaper is gone (after a crash or reboot)",
     no_options, [](const Arguments &) { return gc_command(); }},
    {"stats", "stats", "Per command: calls, MTBC, MTTS, MTTE, epsilon, warm-hit rate, idle time",
     no_options, [](const Arguments &) { return stats_command(); }},
    {"init", "init bash|zsh|fish",
     "Print the shell integration: eval \"$(fod init bash)\", eval \"$(fod init zsh)\", fod init "
     "fish | source",
     [](CLI::App &sub, Arguments &a) {
       sub.add_option("SHELL", a.name, "bash, zsh or fish")->required();
     },
     [](const Arguments &a) { return init_command(a.name); }},
    {"update", "update",
     "Fetch the team mappings of mapping_sources now and print the commands added, removed and "
     "changed",
     no_options, [](const Arguments &) { return update_command(); }},
    {"publish", "publish FILE REF",
     "Check a mapping file and push it to a registry as a fod mappings artifact",
     [](CLI::App &sub, Arguments &a) {
       sub.add_option("FILE", a.name, "mapping file")->required();
       sub.add_option("REF", a.rest, "registry/repository:tag")->required()->expected(1);
     },
     [](const Arguments &a) { return publish_command(a.name, a.rest.at(0)); }},
    // Internal: fod _prewarm NAME SPAWNED_AT, fod _reap DIR, fod _catalog NAME, fod _sync,
    // fod _refresh.
    {"_prewarm", "", "", no_options,
     [](const Arguments &a) { return prewarm_command(a.name, a.number); }, 2},
    {"_reap", "", "", no_options, [](const Arguments &a) { return reap_command(a.name); }, 1},
    {"_catalog", "", "", no_options, [](const Arguments &a) { return catalog_command(a.name); }, 1},
    {"_sync", "", "", no_options, [](const Arguments &) { return sync_command(); }, 0},
    {"_refresh", "", "", no_options, [](const Arguments &) { return refresh_command(); }, 0},
};

// "usage: fod run NAME [ARGS...] | which [--registry] NAME | ...", from the table.
std::string usage_line() {
  std::string line = "usage: fod";
  const char *separator = " ";
  for (const auto &subcommand : subcommands) {
    if (!subcommand.usage.empty()) {
      line += separator;
      line += subcommand.usage;
      separator = " | ";
    }
  }
  return line + "   (fod --help for more)";
}

const Subcommand *find_subcommand(std::string_view name) {
  for (const auto &subcommand : subcommands) {
    if (subcommand.name == name) {
      return &subcommand;
    }
  }
  return nullptr;
}

int dispatch(int argc, char **argv) {
  std::string invoked = util::basename(argv[0]);
  // A shim: a symlink named after the command.
  if (invoked != "fod" && invoked.compare(0, 4, "fod.") != 0) {
    return run_command(load_mapping_for(invoked), invoked,
                       std::vector<std::string>(argv + 1, argv + argc));
  }
  if (argc >= 2 && std::string_view(argv[1]) == "run") {
    if (argc < 3 || argv[2][0] == '-') {
      throw UserError(2, "usage: fod run NAME [ARGS...]");
    }
    return run_command(load_mapping_for(argv[2]), argv[2],
                       std::vector<std::string>(argv + 3, argv + argc));
  }
  const Subcommand *named = argc >= 2 ? find_subcommand(argv[1]) : nullptr;
  if (named != nullptr && named->help.empty() && argc == 2 + named->internal_args) {
    Arguments arguments;
    if (argc >= 3) {
      arguments.name = argv[2];
    }
    if (argc >= 4) {
      arguments.number = std::strtod(argv[3], nullptr);
    }
    return named->handle(arguments);
  }
  if (argc >= 2 && argv[1][0] != '-' && (named == nullptr || named->help.empty())) {
    throw UserError(2, fmt::format("unknown subcommand '{}'\n{}", argv[1], usage_line()));
  }

  CLI::App app{description, "fod"};
  app.set_version_flag("--version", fmt::format("fod {}", version));
  app.require_subcommand(1);
  app.footer("Run `fod SUBCOMMAND --help` for details. See fod(1) and fod-mappings(5).");
  Arguments arguments;
  std::vector<std::pair<CLI::App *, const Subcommand *>> declared;
  for (const auto &subcommand : subcommands) {
    if (!subcommand.help.empty()) {
      auto *sub = app.add_subcommand(std::string(subcommand.name), std::string(subcommand.help));
      subcommand.declare(*sub, arguments);
      declared.emplace_back(sub, &subcommand);
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    if (e.get_exit_code() == 0) {
      return app.exit(e); // --help, --version
    }
    throw UserError(2, fmt::format("{}\n{}", e.what(), usage_line()));
  }
  for (const auto &[sub, subcommand] : declared) {
    if (sub->parsed() && subcommand->handle != nullptr) {
      return subcommand->handle(arguments);
    }
  }
  throw UserError(2, "usage: fod run NAME [ARGS...]");
}

} // namespace

int main(int argc, char **argv) {
  keep_stdio_open();
  return with_error_lines([&] { return dispatch(argc, argv); });
}

} // namespace fod::cli
