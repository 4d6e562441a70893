// fod-registry: asks an image registry what a reference resolves to, fetches and publishes
// team mappings. fod runs it only when it needs the network, so that fod itself never loads
// libcurl. See README.md, "Registry".
//
//   fod-registry probe [COMMON] [--platform OS/ARCH[/VARIANT]] [--verify-key PEM]... [--] REF
//   fod-registry fetch-mappings [COMMON] --output FILE [--verify-key PEM]... [--] REF
//   fod-registry publish-mappings [COMMON] --file FILE [--] REF
//   COMMON: [--insecure HOST[:PORT]]... [--connect-timeout S] [--timeout S] [--cert-dir DIR]
//
// Prints one JSON line on stdout and exits with a status of registry/helper_proto.hpp: found,
// not found, usage (nothing sent), unreachable, failed, malformed or unverified.

#include "probe.hpp"
#include "registry/helper_proto.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
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

// The options every subcommand takes: how to reach the registry, and the keys to verify with.
struct Common {
  std::vector<std::string> insecure;
  double connect_timeout = 2;
  double timeout = 5;
  std::string cert_dir;
  std::vector<std::string> key_paths;
  std::string reference_text;
};

void add_common(CLI::App *command, Common &common, bool with_keys) {
  // One HOST per --insecure: a list would end at "--" and leave REFERENCE to be read as options.
  command->add_option("--insecure", common.insecure, "Use plain HTTP for this HOST[:PORT]")
      ->type_name("HOST[:PORT]")
      ->allow_extra_args(false);
  command->add_option("--connect-timeout", common.connect_timeout, "Seconds per connection")
      ->check(CLI::Range(0.001, 3600.0));
  command->add_option("--timeout", common.timeout, "Seconds for the whole exchange")
      ->check(CLI::Range(0.001, 3600.0));
  command->add_option("--cert-dir", common.cert_dir,
                      "Trust the *.crt certificates of DIR (default: the engines' certs.d)");
  if (with_keys) {
    command
        ->add_option("--verify-key", common.key_paths,
                     "Require a cosign signature of the digest that this PEM public key verifies")
        ->type_name("PEM")
        ->allow_extra_args(false);
  }
  // After "--" (helper::end_of_options) REFERENCE is taken as it is, even if it starts with '-'.
  command->add_option("reference", common.reference_text, "Image or artifact reference")
      ->required();
}

// Writes content to path, which must not exist yet (fod names a fresh file of its own).
void write_new_file(const std::string &path, const std::string &content) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
  }
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n <= 0) {
      close(fd);
      throw std::runtime_error("cannot write " + path);
    }
    done += static_cast<std::size_t>(n);
  }
  close(fd);
}

int serve(int argc, char **argv) {
  using namespace fod::registry;
  namespace helper = fod::registry::helper;
  CLI::App app{"Asks an image registry what a reference resolves to", "fod-registry"};
  app.require_subcommand(1);
  Common common;
  CLI::App *probe_command =
      app.add_subcommand(helper::probe_command, "Resolve REFERENCE for a platform");
  add_common(probe_command, common, true);
  std::string platform_text;
  probe_command->add_option("--platform", platform_text,
                            "OS/ARCH[/VARIANT], default: this machine");
  CLI::App *fetch_command =
      app.add_subcommand(helper::fetch_mappings_command, "Fetch a fod mappings artifact");
  add_common(fetch_command, common, true);
  std::string output;
  fetch_command->add_option("--output", output, "Write the mapping file to this new file")
      ->required();
  CLI::App *publish_command =
      app.add_subcommand(helper::publish_mappings_command, "Push a mapping file as an artifact");
  add_common(publish_command, common, false);
  std::string input;
  publish_command->add_option("--file", input, "The mapping file")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    return fail(Status::usage, std::string("usage: ") + e.what());
  }

  auto reference = parse_reference(common.reference_text);
  if (!reference) {
    return fail(Status::usage, "invalid image reference: \"" + common.reference_text + "\"");
  }
  ProbeOptions options;
  options.insecure = common.insecure;
  options.cert_dir = common.cert_dir;
  options.connect_timeout =
      std::chrono::milliseconds(static_cast<long>(common.connect_timeout * 1000));
  options.timeout = std::chrono::milliseconds(static_cast<long>(common.timeout * 1000));
  if (!platform_text.empty()) {
    auto platform = parse_platform(platform_text);
    if (!platform) {
      return fail(Status::usage,
                  "invalid platform: \"" + platform_text + "\" (want OS/ARCH[/VARIANT])");
    }
    options.platform = *platform;
  }
  // Keys and the file to publish are read before anything is sent: they are the user's to fix.
  std::vector<PublicKey> keys;
  std::string content;
  try {
    for (const auto &path : common.key_paths) {
      keys.emplace_back(path);
    }
  } catch (const KeyError &e) {
    return fail(Status::usage, e.what());
  }
  options.verify_keys = &keys;
  if (publish_command->parsed()) {
    auto read = fod::util::read_file(input);
    if (!read) {
      return fail(Status::usage, "cannot read " + input);
    }
    content = std::move(*read);
  }

  arm_alarm(common.timeout);
  try {
    if (fetch_command->parsed()) {
      MappingsFetch fetched = fetch_mappings(*reference, options);
      write_new_file(output, fetched.content);
      print({{key::reference, fetched.reference},
             {key::digest, fetched.digest},
             {key::size, fetched.content.size()},
             {key::verified_by, fetched.verified_by}});
      return exit_status(Status::found);
    }
    if (publish_command->parsed()) {
      std::string digest = publish_mappings(*reference, content, options);
      print({{key::reference, reference->canonical()},
             {key::digest, digest},
             {key::size, content.size()}});
      return exit_status(Status::found);
    }
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
  } catch (const NotMappings &e) {
    return fail(Status::not_mappings, e.what());
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

} // namespace

int main(int argc, char **argv) {
  try {
    return serve(argc, argv);
  } catch (...) { // a failure printing the answer, or of CLI11's set-up
    return static_cast<int>(fod::registry::helper::Status::failed);
  }
}
