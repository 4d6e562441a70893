#include "pull/flow.hpp"

#include "base/dirs.hpp"
#include "base/error.hpp"
#include "engine/argv.hpp"
#include "engine/failure.hpp"
#include "pull/consent.hpp"
#include "pull/probe.hpp"
#include "pull/verify.hpp"
#include "registry/reference.hpp"
#include "util/fs.hpp"
#include "util/hash.hpp"
#include "util/lock.hpp"
#include "util/process.hpp"
#include "util/text.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <fmt/format.h>
#include <optional>
#include <unistd.h>

namespace fod::pull {

namespace {

volatile sig_atomic_t interrupted = 0;

void note_interrupt(int) {
  interrupted = 1;
}

bool can_ask() {
  return isatty(STDIN_FILENO) != 0 && isatty(STDERR_FILENO) != 0;
}

// Asks on the terminal; default yes. nullopt when no answer could be read.
std::optional<bool> ask(const std::string &question) {
  int tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (tty < 0) {
    return std::nullopt;
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    fmt::print(stderr, "{}", attempt == 0 ? question : "Please answer y or n. [Y/n] ");
    std::fflush(stderr);
    std::string line;
    char c = 0;
    ssize_t n = 0;
    while ((n = read(tty, &c, 1)) == 1 && c != '\n') {
      line += c;
    }
    if (n <= 0 && line.empty()) {
      close(tty);
      fmt::print(stderr, "\n");
      return std::nullopt;
    }
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
      line.pop_back();
    }
    while (!line.empty() && line.front() == ' ') {
      line.erase(0, 1);
    }
    if (line.empty() || line == "y" || line == "Y" || line == "yes" || line == "Yes") {
      close(tty);
      return true;
    }
    if (line == "n" || line == "N" || line == "no" || line == "No") {
      close(tty);
      return false;
    }
  }
  close(tty);
  return std::nullopt;
}

// Runs the pull, its output on stderr (stdout is the command's); the engine shows its
// progress when stderr is a terminal. Throws UserError on failure, Interrupted on Ctrl-C.
void run_pull(const engine::Engine &engine, const std::vector<std::string> &argv,
              const std::string &image) {
  const char *cli = engine::to_string(engine.kind);
  struct sigaction action {};
  struct sigaction old_int {};
  struct sigaction old_quit {};
  action.sa_handler = note_interrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &old_int);
  sigaction(SIGQUIT, &action, &old_quit);
  interrupted = 0;
  int status = 0;
  std::string reason;
  if (isatty(STDERR_FILENO) != 0) {
    util::SpawnOptions options;
    options.stdout_fd = STDERR_FILENO;
    status = util::shell_status(util::wait_for(util::spawn(argv, options)));
  } else {
    auto captured = util::capture(argv);
    status = captured.status;
    reason = engine::error_line(captured.err.empty() ? captured.out : captured.err);
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGQUIT, &old_quit, nullptr);
  if (interrupted != 0 || status == 128 + SIGINT) {
    throw Interrupted(SIGINT, fmt::format("pull of {} interrupted; nothing was run", image));
  }
  if (status != 0) {
    throw UserError(status_engine_failure,
                    reason.empty()
                        ? fmt::format("{} pull of {} failed (status {}; its message is above)", cli,
                                      image, status)
                        : fmt::format("{} pull of {} failed: {}", cli, image, reason));
  }
}

std::string by_digest(const registry::Reference &ref, const std::string &digest) {
  return ref.registry + "/" + ref.repository + "@" + digest;
}

} // namespace

// The lock file that serialises the pulls of image into engine's storage.
std::string pull_lock_path(const engine::Engine &engine, const std::string &image) {
  const std::string dir = util::join(dirs::runtime(), "pull");
  util::make_directories(dir, 0700);
  util::StableHash hash;
  hash.add(engine.cli).add(engine.rootless ? "rootless" : "rootful").add(image);
  return util::join(dir, fmt::format("{:016x}.lock", hash.value()));
}

bool image_present(const engine::Engine &engine, const std::string &image) {
  return util::capture(engine::image_inspect_argv(engine, "{{.Id}}", image)).status == 0;
}

void obtain_image(const mapping::Entry &entry, const mapping::Config &config,
                  const engine::Engine &engine) {
  const std::string &name = entry.name;
  auto ref = registry::parse_reference(entry.image);
  if (!ref) {
    throw UserError(status_engine_failure,
                    fmt::format("image {} is not present and cannot be pulled: not a valid "
                                "reference",
                                entry.image));
  }
  // Nothing to ask and nobody to ask: no registry serves a localhost/ name.
  if (is_local_name(entry.image)) {
    throw UserError(status_engine_failure,
                    fmt::format("image {} of {} is not present and cannot be pulled: localhost/ "
                                "names are images built or imported on this machine (podman "
                                "build -t {}, podman import); build it, or map {} to a registry "
                                "image",
                                entry.image, name, entry.image, name));
  }
  // Without consent to pull, and nobody to ask or a "no" on record: say so now,
  // rather than wait for another run's question.
  auto refuse_without_consent = [&](const std::optional<Consent> &recorded) {
    if (recorded && !recorded->allowed) {
      throw UserError(status_not_found,
                      fmt::format("{}: you declined to pull {}; to allow it: fod allow {}", name,
                                  entry.image, name));
    }
    if (!recorded && config.confirm == mapping::Confirm::ask && !can_ask()) {
      // Nobody to ask: say how to allow it, without asking the registry anything.
      throw UserError(status_not_found,
                      fmt::format("{}: pulling {} needs your consent and there is no terminal to "
                                  "ask on; allow it with `fod allow {}` (or `confirm: never` in "
                                  "config.yaml)",
                                  name, entry.image, name));
    }
  };
  refuse_without_consent(recorded_consent(entry.image));
  // One question and one pull per image: a run that found it absent while another
  // asks or pulls waits for that one, then runs what it pulled.
  util::FileLock lock(pull_lock_path(engine, entry.image));
  if (!lock.try_lock(util::FileLock::Mode::exclusive)) {
    fmt::print(stderr, "fod: waiting for another fod pulling {}\n", entry.image);
    lock.lock(util::FileLock::Mode::exclusive);
  }
  // Under a `verify:` scope, an image fod has not verified with these keys is fetched again by
  // its signed digest, even when the engine has one by that name.
  const std::vector<std::string> keys = verify_keys(entry.image, config);
  if (image_present(engine, entry.image) &&
      (keys.empty() || recorded_verification(entry.image, keys))) {
    return;
  }
  auto recorded = recorded_consent(entry.image); // the other run may have answered
  refuse_without_consent(recorded);
  auto result = probe(entry.image, config, keys);
  if (result.kind == ProbeResult::Kind::unverified) {
    throw UserError(status_engine_failure,
                    fmt::format("{}: {}; nothing pulled or run", name, result.error));
  }
  if (result.kind != ProbeResult::Kind::found) {
    throw UserError(status_engine_failure, fmt::format("cannot pull {} for {}: {}", entry.image,
                                                       name, describe_failure(result)));
  }
  const bool pinned = !ref->digest.empty();
  const std::string digest = pinned ? ref->digest : result.remote.digest;
  const std::string size = human_size(result.remote.size);

  std::optional<std::string> question;
  std::string no_terminal;
  if (!recorded) {
    if (config.confirm == mapping::Confirm::ask) {
      question = fmt::format("fod: {} is not installed; it runs from the image {}\n"
                             "  digest {}, {} to download.\nPull it? [Y/n] ",
                             name, entry.image, digest, size);
      no_terminal = fmt::format("{}: pulling {} needs your consent and there is no terminal to "
                                "ask on; allow it with `fod allow {}` (or `confirm: never` in "
                                "config.yaml)",
                                name, entry.image, name);
    }
  } else if (!pinned && !recorded->digest.empty() && recorded->digest != digest) {
    switch (config.on_digest_change) {
    case mapping::OnDigestChange::allow:
      fmt::print(stderr, "fod: {} now resolves to {} (approved was {}); pulling it\n", entry.image,
                 digest, recorded->digest);
      break;
    case mapping::OnDigestChange::refuse:
      throw UserError(status_not_found,
                      fmt::format("{}: {} now resolves to {}, not the approved {}; refused "
                                  "(on_digest_change: refuse); to approve it: fod allow {}",
                                  name, entry.image, digest, recorded->digest, name));
    case mapping::OnDigestChange::ask:
      question = fmt::format("fod: the image of {} changed since you approved it: {}\n"
                             "  approved {}\n  now      {}, {} to download.\nPull it? [Y/n] ",
                             name, entry.image, recorded->digest, digest, size);
      no_terminal = fmt::format("{}: {} now resolves to {}, not the approved {}; to approve it: "
                                "fod allow {}",
                                name, entry.image, digest, recorded->digest, name);
      break;
    }
  }
  if (question) {
    if (!can_ask()) {
      throw UserError(status_not_found, no_terminal);
    }
    auto answer = ask(*question);
    if (!answer) {
      throw UserError(status_not_found, fmt::format("{}: no answer; nothing pulled", name));
    }
    record_consent(entry.image, {*answer, digest, name, 0});
    if (!*answer) {
      throw UserError(status_not_found,
                      fmt::format("{}: not pulled; fod will not ask again (to allow it: fod "
                                  "allow {})",
                                  name, name));
    }
  } else if (!recorded || recorded->digest != digest) {
    record_consent(entry.image, {true, digest, name, 0});
  }

  const std::string source = by_digest(*ref, digest);
  run_pull(engine, engine::pull_argv(engine, source, is_insecure(entry.image, config)),
           entry.image);
  // A pinned reference (name@sha256:..., name:tag@sha256:...) is run by its digest: no tag.
  if (!pinned) {
    auto tagged = util::capture(engine::tag_argv(engine, source, entry.image));
    if (tagged.status != 0) {
      throw UserError(status_engine_failure,
                      fmt::format("{} tag {} {} failed: {}", engine::to_string(engine.kind), source,
                                  entry.image, engine::error_line(tagged.err)));
    }
  }
  if (!keys.empty()) {
    record_verification(entry.image,
                        {result.remote.digest, result.remote.verified_by, keys_fingerprint(keys)});
  }
}

std::string allow_image(const mapping::Entry &entry, const mapping::Config &config) {
  auto ref = registry::parse_reference(entry.image);
  std::string digest = ref ? ref->digest : std::string();
  std::string note;
  if (is_local_name(entry.image)) {
    // Never pulled, so there is nothing to consent to.
    return fmt::format("fod: {} runs the local image {}, which fod never pulls; nothing to "
                       "allow\n",
                       entry.name, entry.image);
  }
  if (digest.empty()) {
    auto result = probe(entry.image, config);
    if (result.kind == ProbeResult::Kind::found) {
      digest = result.remote.digest;
      note = fmt::format(" ({}, {} to download)", digest, human_size(result.remote.size));
    } else if (result.kind == ProbeResult::Kind::not_found) {
      throw UserError(1, fmt::format("image {} of {} is not in its registry{}", entry.image,
                                     entry.name, result.error.empty() ? "" : ": " + result.error));
    } else if (result.kind == ProbeResult::Kind::unreachable) {
      // Only a registry that cannot be reached at all: trust on first use.
      note = fmt::format(" ({}; the first pull approves the digest it finds)",
                         describe_failure(result));
    } else {
      // A registry that answered something wrong: no consent that could outlive the answer.
      throw UserError(status_engine_failure,
                      fmt::format("cannot allow {} to pull {}: {}; nothing recorded", entry.name,
                                  entry.image, describe_failure(result)));
    }
  } else {
    note = fmt::format(" (pinned to {})", digest);
  }
  record_consent(entry.image, {true, digest, entry.name, 0});
  return fmt::format("fod: {} may pull {}{}\n", entry.name, entry.image, note);
}

} // namespace fod::pull
