#include "containers/keep_warm.hpp"

#include "adaptive/history.hpp"
#include "adaptive/policy.hpp"
#include "base/dirs.hpp"
#include "containers/reaper.hpp"
#include "containers/records.hpp"
#include "util/fs.hpp"
#include "util/lock.hpp"
#include "util/process.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <fcntl.h>
#include <fmt/format.h>
#include <map>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace fod::containers {

namespace {

adaptive::Record make_record(adaptive::Kind kind, const std::string &command,
                             const std::string &image, const std::string &key, double time,
                             double setup, double duration) {
  adaptive::Record r;
  r.kind = kind;
  r.time = time;
  r.setup = setup;
  r.duration = duration;
  r.command = command.empty() ? "-" : command;
  r.image = image;
  r.key = key.empty() ? "-" : key;
  return r;
}

void sleep_seconds(double seconds) {
  timespec ts{static_cast<time_t>(seconds),
              static_cast<long>((seconds - std::floor(seconds)) * 1e9)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

// Its mtime is when `fod stop` last cancelled the pending pre-warms.
std::string cancel_marker() {
  return util::join(util::join(dirs::runtime(), "prewarm"), "cancel");
}

// Its mtime is when a helper for command last found nothing to pre-warm.
std::string idle_marker(const std::string &command) {
  return util::join(util::join(dirs::runtime(), "prewarm"), command + ".idle");
}

} // namespace

bool record_run(const std::string &command, const std::string &image, const std::string &key,
                double start, double setup, double exec, bool cold) {
  try {
    return adaptive::append_record(adaptive::default_history_path(),
                                   make_record(cold ? adaptive::Kind::cold : adaptive::Kind::warm,
                                               command, image, key, start, std::max(0.0, setup),
                                               std::max(0.0, exec)));
  } catch (const std::exception &) {
    return false;
  }
}

bool record_removal(const std::string &command, const std::string &image, const std::string &key,
                    double idle) {
  try {
    return adaptive::append_record(adaptive::default_history_path(),
                                   make_record(adaptive::Kind::removal, command, image, key,
                                               now_seconds(), 0, std::max(0.0, idle)));
  } catch (const std::exception &) {
    return false;
  }
}

double current_ttl(const std::string &image, double last_use, const adaptive::Settings &settings) {
  return adaptive::reaper_ttl(adaptive::read_history(adaptive::default_history_path()), image,
                              last_use, now_seconds(), settings);
}

void cancel_prewarm_helpers() {
  std::string dir = util::join(dirs::runtime(), "prewarm");
  util::make_directories(dir, 0700);
  util::write_file_atomic(cancel_marker(), fmt::format("{:.6f}\n", now_seconds()), 0600);
}

void spawn_prewarm_helper(const std::string &command, const adaptive::Settings &settings) {
  struct stat st {};
  if (stat(idle_marker(command).c_str(), &st) == 0 &&
      static_cast<double>(st.st_mtim.tv_sec) >
          now_seconds() - static_cast<double>(settings.ttl_min.count())) {
    return;
  }
  // The spawn time goes along: a `fod stop` after it cancels this helper even
  // when the helper has not got as far as looking yet.
  spawn_detached({"_prewarm", command, fmt::format("{:.6f}", now_seconds())});
}

void mark_prewarm_idle(const std::string &command, bool nothing_to_do) {
  if (!nothing_to_do) {
    unlink(idle_marker(command).c_str());
    return;
  }
  util::make_directories(util::join(dirs::runtime(), "prewarm"), 0700);
  util::touch(idle_marker(command));
}

adaptive::PrewarmHooks
default_prewarm_hooks(const std::function<std::uint64_t(const std::string &)> &memory_of,
                      double spawned_at) {
  adaptive::PrewarmHooks hooks;
  hooks.read_history = [] { return adaptive::read_history(adaptive::default_history_path()); };
  hooks.now = [] { return now_seconds(); };
  hooks.sleep = sleep_seconds;
  hooks.memory_of = memory_of;
  hooks.warm_containers = [memory_of] {
    std::vector<adaptive::WarmContainer> warm;
    for (const auto &[paths, info] : list_recorded()) {
      if (keeper_alive(paths)) {
        warm.push_back(
            {info.image, memory_of(info.commands.empty() ? std::string() : info.commands.front())});
      }
    }
    return warm;
  };
  hooks.append = [](const adaptive::Record &r) {
    return adaptive::append_record(adaptive::default_history_path(), r);
  };
  hooks.cancelled = [started = spawned_at] {
    // The time inside the marker, not its mtime: file times come from a coarse
    // clock that can lag a `fod stop` right after the spawn by a few ms.
    auto text = util::read_file(cancel_marker());
    return text && std::strtod(text->c_str(), nullptr) >= started;
  };
  auto held = std::make_shared<std::map<std::string, std::unique_ptr<util::FileLock>>>();
  hooks.claim_periodic = [held](const std::string &command) {
    std::string dir = util::join(dirs::runtime(), "prewarm");
    util::make_directories(dir, 0700);
    auto lock = std::make_unique<util::FileLock>(util::join(dir, command + ".lock"));
    if (!lock->try_lock(util::FileLock::Mode::exclusive)) {
      return false;
    }
    (*held)[command] = std::move(lock);
    return true;
  };
  return hooks;
}

} // namespace fod::containers
