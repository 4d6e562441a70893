// fod-registry: asks an image registry what a reference resolves to. fod runs it only when it
// needs the network, so that fod itself never loads libcurl. See README.md, "Registry".
//
//   fod-registry probe [--insecure HOST[:PORT]]... [--connect-timeout S] [--timeout S]
//                      [--platform OS/ARCH[/VARIANT]] [--cert-dir DIR]
//                      [--verify-key PEM]... [--] REFERENCE
//
// Prints one JSON line on stdout and exits with a status of registry/helper_proto.hpp: found,
// not found, usage (nothing sent), unreachable, failed, malformed or unverified.

#include "probe.hpp"
#include "registry/helper_proto.hpp"
#include "util/text.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <sys/time.h>
#include <unistd.h>

namespace {

using fod::registry::helper::Status;
namespace key = fod::registry::helper::key;

int exit_status(Status status) {
  return static_cast<int>(status);
}

// Prints the line with every string made printable: what a registry sent (a media type, a
// platform, an error message) never reaches a terminal as a control sequence.
void print(nlohmann::ordered_json line) {
  for (auto &value : line) {
    if (value.is_string()) {
      value = fod::util::printable(value.get<std::string>());
    }
  }
  std::string text =
      line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

int fail(Status status, const std::string &message) {
  print({{key::error, message}});
  return exit_status(status);
}

// The last resort against a hang libcurl's own timeouts would miss (a blocking resolver):
// the message is prepared before the alarm is armed, the handler only writes and exits.
char alarm_message[256];
void on_alarm(int /*signal*/) {
  ssize_t ignored = write(STDOUT_FILENO, alarm_message, std::strlen(alarm_message));
  (void)ignored;
  _exit(exit_status(Status::unreachable));
}

void arm_alarm(double seconds) {
  std::snprintf(alarm_message, sizeof alarm_message,
                "{\"%s\":\"timed out: the probe took longer than %g s (timeout)\"}\n", key::error,
                seconds);
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

static int probe_main(int argc, char **argv) {
  using namespace fod::registry;
  CLI::App app{"Asks an image registry what a reference resolves to", "fod-registry"};
  app.require_subcommand(1);
  CLI::App *probe_command =
      app.add_subcommand(fod::registry::helper::probe_command, "Resolve REFERENCE for a platform");
  std::vector<std::string> insecure;
  double connect_timeout = 2;
  double timeout = 5;
  std::string platform_text;
  std::string reference_text;
  // One HOST per --insecure: a list would end at "--" and leave REFERENCE to be read as options.
  probe_command->add_option("--insecure", insecure, "Use plain HTTP for this HOST[:PORT]")
      ->type_name("HOST[:PORT]")
      ->allow_extra_args(false);
  probe_command->add_option("--connect-timeout", connect_timeout, "Seconds per connection")
      ->check(CLI::Range(0.001, 3600.0));
  probe_command->add_option("--timeout", timeout, "Seconds for the whole probe")
      ->check(CLI::Range(0.001, 3600.0));
  std::string cert_dir;
  probe_command->add_option("--cert-dir", cert_dir,
                            "Trust the *.crt certificates of DIR (default: the engines' certs.d)");
  std::vector<std::string> key_paths;
  probe_command
      ->add_option("--verify-key", key_paths,
                   "Require a cosign signature of the digest that this PEM public key verifies")
      ->type_name("PEM")
      ->allow_extra_args(false);
  probe_command->add_option("--platform", platform_text,
                            "OS/ARCH[/VARIANT], default: this machine");
  // After "--" (helper::end_of_options) REFERENCE is taken as it is, even if it starts with '-'.
  probe_command->add_option("reference", reference_text, "Image reference")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    return fail(Status::usage, std::string("usage: ") + e.what());
  }

  auto reference = parse_reference(reference_text);
  if (!reference) {
    return fail(Status::usage, "invalid image reference: \"" + reference_text + "\"");
  }
  ProbeOptions options;
  options.insecure = insecure;
  options.cert_dir = cert_dir;
  options.connect_timeout = std::chrono::milliseconds(static_cast<long>(connect_timeout * 1000));
  options.timeout = std::chrono::milliseconds(static_cast<long>(timeout * 1000));
  if (!platform_text.empty()) {
    auto platform = parse_platform(platform_text);
    if (!platform) {
      return fail(Status::usage,
                  "invalid platform: \"" + platform_text + "\" (want OS/ARCH[/VARIANT])");
    }
    options.platform = *platform;
  }

  // Keys are read before anything is sent: a key fod cannot use is the user's to fix.
  std::vector<PublicKey> keys;
  try {
    for (const auto &path : key_paths) {
      keys.emplace_back(path);
    }
  } catch (const KeyError &e) {
    return fail(Status::usage, e.what());
  }
  options.verify_keys = &keys;

  arm_alarm(timeout);
  try {
    ProbeResult result = probe(*reference, options);
    print({{key::reference, result.reference},
           {key::digest, result.digest},
           {key::manifest_digest, result.manifest_digest},
           {key::size, result.size},
           {key::media_type, result.media_type},
           {key::platform, result.platform},
           {key::verified_by, result.verified_by}});
    return exit_status(Status::found);
  } catch (const Unverified &e) {
    return fail(Status::unverified, e.what());
  } catch (const NotFound &e) {
    return fail(Status::not_found, e.what());
  } catch (const Unreachable &e) {
    return fail(Status::unreachable, e.what());
  } catch (const MalformedAnswer &e) {
    return fail(Status::malformed, e.what());
  } catch (const std::exception &e) {
    return fail(Status::failed, e.what());
  }
}

int main(int argc, char **argv) {
  try {
    return probe_main(argc, argv);
  } catch (...) { // a failure printing the answer, or of CLI11's set-up
    return static_cast<int>(fod::registry::helper::Status::failed);
  }
}
