#include "cli/fast.hpp"

#include "base/dirs.hpp"
#include "base/error.hpp"
#include "base/version.hpp"
#include "cli/commands.hpp"
#include "cli/zygote.hpp"
#include "mapping/index.hpp"
#include "run/runner.hpp"
#include "util/fs.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <string_view>
#include <unistd.h>

namespace fod::cli {

namespace {

// The one line of an error, written without anything that could throw again.
void report(const char *prefix, const char *message) noexcept {
  std::fputs(prefix, stderr);
  std::fputs(message, stderr);
  std::fputc('\n', stderr);
}

// Hands the call, argv as given (a shim's name included), to fod-commands, telling it which
// fod it serves.
[[noreturn]] void hand_over(char **argv) {
  run::decline_unless_own_process("fod-commands serves the call");
  const std::string program = dirs::commands_program();
  setenv("FOD_PROGRAM", dirs::fod_program().c_str(), 1);
  execv(program.c_str(), argv);
  throw UserError(status_engine_failure,
                  fmt::format("cannot run {}: {}; reinstall fod", program, std::strerror(errno)));
}

int serve(int argc, char **argv) {
  const std::string invoked = util::basename(argv[0]);
  // A shim: a symlink named after the command.
  const bool shim = invoked != "fod" && invoked.compare(0, 4, "fod.") != 0;
  if (!shim && argc == 2 && std::string_view(argv[1]) == "--version") {
    fmt::print("fod {}\n", version);
    return 0;
  }
  if (!shim && argc == 2 && std::string_view(argv[1]) == "_zygote") {
    run::decline_unless_own_process("a zygote is not started by a call");
    return serve_zygote();
  }
  std::string name;
  int first_arg = 0;
  if (shim) {
    name = invoked;
    first_arg = 1;
  } else if (argc >= 3 && std::string_view(argv[1]) == "run" && argv[2][0] != '-') {
    name = argv[2];
    first_arg = 3;
  }
  if (!name.empty()) {
    start_zygote_when_asked();
    if (auto mapping = mapping::read_current_index(mapping::default_layers(),
                                                   mapping::default_cache_dir(), name)) {
      return run_command(*mapping, name, std::vector<std::string>(argv + first_arg, argv + argc));
    }
  }
  hand_over(argv);
}

} // namespace

void keep_stdio_open() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (fcntl(fd, F_GETFD) < 0) {
      open("/dev/null", O_RDWR);
    }
  }
}

int with_error_lines(const std::function<int()> &body) noexcept {
  try {
    return body();
  } catch (const UserError &e) {
    const bool plain = e.status() == 2 || e.status() == status_not_found;
    report(plain ? "fod: " : "fod: error: ", e.what());
    return e.status();
  } catch (const std::exception &e) {
    report("fod: error: ", e.what());
  } catch (...) {
    report("fod: error: ", "an unexpected failure");
  }
  return status_engine_failure;
}

int fast_main(int argc, char **argv) {
  keep_stdio_open();
  return with_error_lines([&] { return serve(argc, argv); });
}

} // namespace fod::cli
