// fod-registry: asks an image registry what a reference resolves to. fod runs it only when it
// needs the network, so that fod itself never loads libcurl. See README.md, "Registry".
//
//   fod-registry probe [--insecure HOST[:PORT]]... [--connect-timeout S] [--timeout S]
//                      [--platform OS/ARCH[/VARIANT]] REFERENCE
//
// Prints one JSON line on stdout. Exit 0 found, 1 not found, 2 usage or invalid reference
// (nothing sent), 3 any other failure.

#include "probe.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <sys/time.h>
#include <unistd.h>

namespace {

constexpr int status_found = 0;
constexpr int status_not_found = 1;
constexpr int status_usage = 2;
constexpr int status_failure = 3;

void print(const nlohmann::ordered_json &line) {
  std::string text =
      line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

int fail(int status, const std::string &message) {
  print({{"error", message}});
  return status;
}

// The last resort against a hang libcurl's own timeouts would miss (a blocking resolver):
// the message is prepared before the alarm is armed, the handler only writes and exits.
char alarm_message[256];
void on_alarm(int /*signal*/) {
  ssize_t ignored = write(STDOUT_FILENO, alarm_message, std::strlen(alarm_message));
  (void)ignored;
  _exit(status_failure);
}

void arm_alarm(double seconds) {
  std::snprintf(alarm_message, sizeof alarm_message,
                "{\"error\":\"timed out: the probe took longer than %g s (timeout)\"}\n", seconds);
  struct sigaction action {};
  action.sa_handler = on_alarm;
  sigaction(SIGALRM, &action, nullptr);
  double total = seconds + 0.5;
  itimerval timer{};
  timer.it_value.tv_sec = static_cast<time_t>(total);
  timer.it_value.tv_usec =
      static_cast<suseconds_t>((total - static_cast<double>(timer.it_value.tv_sec)) * 1e6);
  setitimer(ITIMER_REAL, &timer, nullptr);
}

} // namespace

int main(int argc, char **argv) {
  using namespace fod::registry;
  CLI::App app{"Asks an image registry what a reference resolves to", "fod-registry"};
  app.require_subcommand(1);
  CLI::App *probe_command = app.add_subcommand("probe", "Resolve REFERENCE for a platform");
  std::vector<std::string> insecure;
  double connect_timeout = 2;
  double timeout = 5;
  std::string platform_text;
  std::string reference_text;
  probe_command->add_option("--insecure", insecure, "Use plain HTTP for this HOST[:PORT]")
      ->type_name("HOST[:PORT]");
  probe_command->add_option("--connect-timeout", connect_timeout, "Seconds per connection")
      ->check(CLI::Range(0.001, 3600.0));
  probe_command->add_option("--timeout", timeout, "Seconds for the whole probe")
      ->check(CLI::Range(0.001, 3600.0));
  probe_command->add_option("--platform", platform_text,
                            "OS/ARCH[/VARIANT], default: this machine");
  probe_command->add_option("reference", reference_text, "Image reference")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    return fail(status_usage, std::string("usage: ") + e.what());
  }

  auto reference = parse_reference(reference_text);
  if (!reference) {
    return fail(status_usage, "invalid image reference: \"" + reference_text + "\"");
  }
  ProbeOptions options;
  options.insecure = insecure;
  options.connect_timeout = std::chrono::milliseconds(static_cast<long>(connect_timeout * 1000));
  options.timeout = std::chrono::milliseconds(static_cast<long>(timeout * 1000));
  if (!platform_text.empty()) {
    auto platform = parse_platform(platform_text);
    if (!platform) {
      return fail(status_usage,
                  "invalid platform: \"" + platform_text + "\" (want OS/ARCH[/VARIANT])");
    }
    options.platform = *platform;
  }

  arm_alarm(timeout);
  try {
    ProbeResult result = probe(*reference, options);
    print({{"reference", result.reference},
           {"digest", result.digest},
           {"manifest_digest", result.manifest_digest},
           {"size", result.size},
           {"media_type", result.media_type},
           {"platform", result.platform}});
    return status_found;
  } catch (const NotFound &e) {
    return fail(status_not_found, e.what());
  } catch (const std::exception &e) {
    return fail(status_failure, e.what());
  }
}
