#include "containers/reaper.hpp"

#include "base/dirs.hpp"
#include "containers/keep_warm.hpp"
#include "containers/lifecycle.hpp"
#include "engine/argv.hpp"
#include "util/fs.hpp"
#include "util/lock.hpp"
#include "util/process.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

namespace fod::containers {

namespace {

void log_line(const std::string &message) {
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", std::localtime(&now));
  fmt::print(stderr, "{} [{}] {}\n", stamp, getpid(), message);
  std::fflush(stderr);
}

// Sleeps up to seconds, waking early when the container's record is replaced or
// removed (`fod stop`), so a stopped container's reaper exits at once. Blocks
// in poll(2): no CPU while idle.
void wait_for_record_change(int inotify_fd, double seconds) {
  pollfd pfd{inotify_fd, POLLIN, 0};
  int timeout_ms = static_cast<int>(std::min(seconds * 1000.0, 86'400'000.0)) + 1;
  if (inotify_fd < 0) {
    pfd.fd = -1; // poll on nothing: a plain sleep
  }
  if (poll(&pfd, 1, timeout_ms) > 0) {
    char buffer[4096];
    while (read(inotify_fd, buffer, sizeof buffer) > 0) {
    }
  }
}

// The ttl in force now: the longest fixed ttl of the container's commands, or
// what `ttl: auto` decides from the record when that is longer.
double ttl_now(const ContainerPaths &paths, const Info &info) {
  const auto fixed = static_cast<double>(info.ttl.count());
  if (!info.adaptive) {
    return fixed;
  }
  return std::max(
      fixed, current_ttl(info.image, now_seconds() - idle_seconds(paths, info), *info.adaptive));
}

} // namespace

void spawn_detached(const std::vector<std::string> &args) {
  std::string log_dir = dirs::state();
  util::make_directories(log_dir, 0700);
  int log_fd = open(util::join(log_dir, "reaper.log").c_str(),
                    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  util::SpawnOptions options;
  options.new_session = true;
  options.stdin_fd = null_fd;
  options.stdout_fd = log_fd >= 0 ? log_fd : null_fd;
  options.stderr_fd = log_fd >= 0 ? log_fd : null_fd;
  std::vector<std::string> argv = {dirs::fod_program()};
  argv.insert(argv.end(), args.begin(), args.end());
  try {
    util::spawn(argv, options);
  } catch (const std::exception &) {
    // Without its helper the run goes on (a container then waits for `fod gc`).
  }
  close(null_fd);
  if (log_fd >= 0) {
    close(log_fd);
  }
}

void spawn_reaper(const ContainerPaths &paths) {
  spawn_detached({"_reap", paths.dir});
}

int reap(const ContainerPaths &paths, const std::optional<engine::Engine> &preferred) {
  util::FileLock reaper_lock(paths.reaper_lock());
  if (!reaper_lock.try_lock(util::FileLock::Mode::exclusive)) {
    return 0; // another reaper watches this container
  }
  int inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd >= 0) {
    inotify_add_watch(inotify_fd, paths.dir.c_str(), IN_DELETE | IN_MOVED_TO);
  }
  for (;;) {
    auto info = read_info(paths);
    if (!info) {
      return 0; // stopped by `fod stop` or removed by another reaper
    }
    double remaining = ttl_now(paths, *info) - idle_seconds(paths, *info);
    if (remaining > 0) {
      if (info->adaptive) {
        // `ttl: auto` may shorten as the record grows: look again at least every ttl_min.
        remaining = std::min(remaining, static_cast<double>(info->adaptive->ttl_min.count()));
      }
      wait_for_record_change(inotify_fd, remaining + 0.05);
      continue;
    }
    // Wait for runs in flight; then re-check, since a run may have just ended.
    util::FileLock lock(paths.lock());
    lock.lock(util::FileLock::Mode::exclusive);
    info = read_info(paths);
    if (!info) {
      return 0;
    }
    const double idle = idle_seconds(paths, *info);
    if (idle < ttl_now(paths, *info)) {
      continue;
    }
    std::string error;
    if (remove_container(paths, *info, preferred, &error)) {
      log_line(
          fmt::format("removed {} ({}) after {:.0f}s idle", info->container, info->image, idle));
    } else {
      log_line(fmt::format("removing {} failed: {}", info->container, error));
      if (!engine::engine_of_kind(info->engine.kind, preferred)) {
        return 1; // no engine to remove it with: the record stays for gc
      }
    }
    forget(paths);
    return 0;
  }
}

} // namespace fod::containers
