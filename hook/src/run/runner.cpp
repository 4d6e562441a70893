#include "run/runner.hpp"

#include "base/dirs.hpp"
#include "base/error.hpp"
#include "base/version.hpp"
#include "containers/box.hpp"
#include "containers/keep_warm.hpp"
#include "containers/lifecycle.hpp"
#include "containers/reaper.hpp"
#include "containers/records.hpp"
#include "engine/failure.hpp"
#include "mapping/layers.hpp"
#include "run/agent_client.hpp"
#include "run/engine_exec.hpp"
#include "util/environment.hpp"
#include "util/fs.hpp"
#include "util/lock.hpp"
#include "util/process.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <optional>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace fod::run {

namespace {

std::string expand_home(const std::string &path, const std::string &home) {
  if (path == "~") {
    return home;
  }
  if (path.compare(0, 2, "~/") == 0) {
    return util::join(home, path.substr(2));
  }
  return path;
}

// The built-in allowlist: variables that describe the terminal and locale, never
// secrets. Anything else must be asked for by the mapping's env.
std::vector<std::string> allowed_env_names(const mapping::Entry &entry) {
  std::vector<std::string> names;
  for (const char *name : {"TERM", "COLORTERM", "LANG", "LANGUAGE", "TZ", "COLUMNS", "LINES",
                           "NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "FORCE_COLOR"}) {
    if (getenv(name) != nullptr) {
      names.emplace_back(name);
    }
  }
  for (auto &name : util::env_names_with_prefix("LC_")) {
    names.push_back(std::move(name));
  }
  for (const auto &name : entry.env) {
    if (getenv(name.c_str()) != nullptr &&
        std::find(names.begin(), names.end(), name) == names.end()) {
      names.push_back(name);
    }
  }
  return names;
}

// stdin is attached unless it is closed or /dev/null, which the engine gives
// the command anyway (attaching it costs the engine a stream for nothing).
bool stdin_worth_attaching() {
  struct stat in {
  }, null{};
  if (fstat(STDIN_FILENO, &in) != 0) {
    return false;
  }
  return !(S_ISCHR(in.st_mode) && stat("/dev/null", &null) == 0 && in.st_rdev == null.st_rdev);
}

[[noreturn]] void fail_start(const engine::Engine &engine, const std::string &image,
                             const std::string &err) {
  const char *cli = engine::to_string(engine.kind);
  if (engine::classify_failure(err) == engine::Failure::image_absent) {
    throw ImageAbsent(status_engine_failure,
                      fmt::format("image {} is not present in {}; pull it first: {} pull {}", image,
                                  cli, cli, image));
  }
  std::string reason = engine::error_line(err);
  throw UserError(status_engine_failure,
                  fmt::format("{} could not start a container of {}: {}", cli, image,
                              reason.empty() ? "no reason given" : reason));
}

// Starts the container; the caller holds the key's lock exclusively.
void start_container(const engine::Engine &engine, const engine::ContainerSpec &spec,
                     const containers::ContainerPaths &paths) {
  containers::box::prepare(paths);
  auto argv = engine::run_detached_argv(engine, spec);
  auto result = util::capture(argv);
  if (result.status != 0 && engine::classify_failure(result.err) == engine::Failure::name_in_use) {
    // Left over from a crash or a reboot: fod's record is gone, the name is not.
    util::capture(engine::remove_argv(engine, spec.name));
    result = util::capture(argv);
  }
  if (result.status != 0) {
    fail_start(engine, spec.image, result.err);
  }
  // `run --detach` returns once the keeper was started; it takes its lock a moment later.
  for (int i = 0; i < 5000 && !containers::keeper_alive(paths); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!containers::keeper_alive(paths)) {
    util::capture(engine::remove_argv(engine, spec.name));
    throw UserError(
        status_engine_failure,
        fmt::format("the container of {} started but fod's keeper did not come up", spec.image));
  }
}

// The container's record when its keeper is alive: the one read a warm run makes,
// without the mounts unless it asks (the key stands for them).
std::optional<containers::Info>
live_record(const containers::ContainerPaths &paths,
            containers::RecordPart part = containers::RecordPart::without_mounts) {
  return containers::keeper_alive(paths) ? containers::read_info(paths, part) : std::nullopt;
}

// Records that command ran in the container (current, its record), writing only
// when something is new (a new command, a longer ttl, new `ttl: auto` settings),
// so the warm path stays free of writes.
void record_use(const containers::ContainerPaths &paths, const containers::Info &current,
                const std::optional<adaptive::Settings> &adaptive, const std::string &command,
                std::chrono::seconds ttl) {
  containers::Info updated = current;
  // A container shared by several commands stays as long as the longest ttl
  // among them: the fixed ones, and the policy's once one of them uses auto,
  // with the settings of the latest such run.
  updated.ttl = std::max(ttl, current.ttl);
  if (adaptive) {
    updated.adaptive = adaptive;
  }
  bool known = std::find(updated.commands.begin(), updated.commands.end(), command) !=
               updated.commands.end();
  if (known && updated.ttl == current.ttl && updated.adaptive == current.adaptive) {
    return;
  }
  if (!known) {
    updated.commands.push_back(command);
  }
  // current was read without its mounts: they are written back as recorded.
  auto whole = containers::read_info(paths);
  if (!whole) {
    return;
  }
  updated.mounted = std::move(whole->mounted);
  containers::write_info(paths, updated);
}

// Records the container, then starts it; the caller holds the key's lock
// exclusively. The record comes first: a container fod cannot record (a full
// disk) is never started, and one whose fod is killed right after the start is
// still known to gc, stop and the next cold start's adoption.
void start_recorded(const RunRequest &request, const Target &target,
                    const containers::ContainerPaths &paths, containers::Info info,
                    std::chrono::seconds ttl) {
  if (request.before_start) {
    request.before_start(request);
  }
  info.commands = {request.entry->name};
  info.ttl = ttl;
  if (!containers::write_info(paths, info)) {
    int error = errno;
    unlink(paths.info().c_str());
    throw UserError(status_engine_failure,
                    fmt::format("cannot record the container of {} in {} ({}); nothing was "
                                "started. Free some space there, or set XDG_RUNTIME_DIR",
                                request.entry->image, paths.dir, strerror(error)));
  }
  try {
    start_container(request.engine, target.spec, paths);
  } catch (...) {
    unlink(paths.info().c_str());
    throw;
  }
  if (auto note = dirs::runtime_fallback_note()) {
    fmt::print(stderr, "fod: warning: {}\n", *note);
  }
}

// The fixed ttl a run of entry asks for: none (0) under `ttl: auto`.
std::chrono::seconds fixed_ttl(const mapping::Entry &entry, const mapping::Config &config) {
  return mapping::uses_auto_ttl(entry, config) ? std::chrono::seconds{0}
                                               : entry.ttl.value_or(config.ttl);
}

// fod's record of the container target, as the run that starts it writes it.
containers::Info info_for(const RunRequest &request, const Target &target) {
  containers::Info info;
  info.key = target.key;
  info.container = target.spec.name;
  info.runtime = target.spec.runtime;
  info.image = request.entry->image;
  info.root = target.mounts.root;
  info.family = target.family;
  info.mounted.binds = target.spec.binds;
  info.mounted.hidden = target.spec.hidden;
  for (const auto &bind : target.spec.binds) {
    info.mounted.identities[bind.target] = containers::identity(bind.source, target.host);
  }
  info.engine = request.engine;
  info.created = containers::now_seconds();
  if (mapping::uses_auto_ttl(*request.entry, *request.config)) {
    info.adaptive = request.config->adaptive;
  }
  return info;
}

Decline warm_only_decline = nullptr;

// With FOD_TRACE=FILE, each run appends the way it took to FILE: "agent", or
// "exec: REASON" for the engine's exec CLI, after "zygote: " when a zygote served the
// call. For tests and for users who wonder.
void trace_path(const std::string &line) {
  const char *file = getenv("FOD_TRACE");
  if (file == nullptr || file[0] == '\0') {
    return;
  }
  int fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd >= 0) {
    std::string text = (warm_only_decline != nullptr ? "zygote: " : "") + line + "\n";
    ssize_t written = write(fd, text.data(), text.size());
    (void)written;
    close(fd);
  }
}

// Runs the command through the container's agent when it can, else through the
// engine's exec CLI.
EngineExecResult run_once(const RunRequest &request, const engine::ExecSpec &exec,
                          const containers::ContainerPaths &paths,
                          std::optional<std::string> fast_path_unusable) {
  if (!fast_path_unusable) {
    fast_path_unusable = stdio_unfit_for_agent();
  }
  std::optional<AgentRequest> agent_request;
  if (!fast_path_unusable) {
    agent_request = encode_agent_request(exec, terminal_streams());
    fast_path_unusable = request_unfit_for_agent(*agent_request);
  }
  if (fast_path_unusable) {
    decline_unless_own_process("the fast path cannot take the run");
    trace_path("exec: " + *fast_path_unusable);
    return exec_through_engine(request.engine, exec, paths);
  }
  if (auto result = run_via_agent(paths, exec, *agent_request)) {
    trace_path("agent");
    return *result;
  }
  if (!containers::keeper_alive(paths)) {
    trace_path("agent: the container is gone");
    EngineExecResult gone;
    gone.status = status_engine_failure;
    gone.container_gone = true;
    return gone; // not started: the caller starts a new container
  }
  trace_path("exec: the container has no agent that takes the run");
  return exec_through_engine(request.engine, exec, paths);
}

} // namespace

void serve_warm_only(Decline decline) {
  warm_only_decline = decline;
}

void decline_unless_own_process(const char *why) {
  if (warm_only_decline != nullptr) {
    warm_only_decline(why);
  }
}

std::string current_directory() {
  char buffer[PATH_MAX];
  std::string physical = getcwd(buffer, sizeof buffer) != nullptr ? buffer : "";
  if (auto pwd = util::get_env("PWD"); pwd && (*pwd)[0] == '/') {
    struct stat a {
    }, b{};
    if (stat(pwd->c_str(), &a) == 0 && stat(".", &b) == 0 && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino && pwd->find("/./") == std::string::npos &&
        pwd->find("/../") == std::string::npos) {
      return util::normalize_path(*pwd);
    }
  }
  if (physical.empty()) {
    throw UserError(status_engine_failure,
                    "the current directory no longer exists; cd to another one");
  }
  return physical;
}

namespace {

// The spec's settings: everything but its mounts.
engine::ContainerSpec settings_spec(const RunRequest &request, const std::string &home,
                                    const std::string &keeper) {
  const auto &entry = *request.entry;
  engine::ContainerSpec spec;
  spec.image = entry.image;
  spec.keeper_path = keeper;
  spec.home = home;
  spec.network = entry.network;
  spec.capabilities = entry.capabilities;
  std::sort(spec.capabilities.begin(), spec.capabilities.end());
  spec.memory = entry.memory.value_or(request.config->memory);
  spec.pids = entry.pids.value_or(request.config->pids);
  // Rootless podman: uid 0 in the container is the caller, whatever USER the image
  // names (a USER of the image would be a subordinate uid that can use neither the
  // box nor the caller's files).
  spec.user = request.engine.rootless ? std::make_pair(uid_t{0}, gid_t{0})
                                      : std::make_pair(getuid(), getgid());
  return spec;
}

// Plans requests into spec: its binds, hidden directories and the tmpfs that
// stand in for what is not mounted.
void plan_into(engine::ContainerSpec &spec, const std::vector<containers::MountRequest> &requests,
               const containers::HostView &host) {
  containers::MountPlan plan = containers::plan_mounts(requests, host);
  spec.binds = std::move(plan.binds);
  spec.hidden = std::move(plan.hidden);
  auto covers = [&](const std::string &path) {
    return std::any_of(spec.binds.begin(), spec.binds.end(), [&](const engine::BindMount &b) {
      return util::is_same_or_under(path, b.target);
    });
  };
  spec.home_on_tmpfs = !covers(spec.home) && spec.home != "/";
  spec.tmp_on_tmpfs = !covers("/tmp");
}

containers::HostView host_view(const std::string &home, const std::string &keeper) {
  std::vector<std::string> read_only = {util::dirname(keeper),
                                        util::dirname(dirs::registry_program())};
  for (const auto &layer : mapping::default_layers()) {
    if (layer.name != "user") { // the user's layer is fod's own directory: hidden
      read_only.push_back(layer.dir);
    }
  }
  return containers::this_host(home, read_only);
}

void trace_start(const Target &target, bool family_up) {
  if (!family_up) {
    return;
  }
  std::vector<std::string> paths;
  for (const auto &need : target.needs) {
    paths.push_back(need.target);
  }
  trace_path(fmt::format("start: no warm container of {} mounts all this run needs ({})",
                         target.spec.image, fmt::join(paths, ", ")));
}

// Another warm container of target's family that mounts all it needs, if one is up.
std::optional<std::pair<containers::ContainerPaths, containers::Info>>
find_serving(const Target &target, bool &family_up) {
  family_up = false;
  for (auto &[paths, info] : containers::list_recorded()) {
    if (info.family.empty() || info.family != target.family || info.key == target.key ||
        !containers::keeper_alive(paths)) {
      continue;
    }
    family_up = true;
    if (containers::serves(info.mounted, target.needs, target.host)) {
      return std::make_pair(paths, info);
    }
  }
  return std::nullopt;
}

// A warm container that serves a run, its lock held shared (no reaper removes it
// while the command runs).
struct Held {
  containers::ContainerPaths paths;
  containers::Info record;
  bool cold = false;
};

// Finds target's container up and holds it: its own when up, else another of
// its family that mounts all it needs, else its own, started now.
Held hold_container(const RunRequest &request, Target &target, std::chrono::seconds ttl,
                    std::optional<util::FileLock> &lock) {
  containers::ContainerPaths own = containers::paths_for_key(target.key);
  // Made only when this key's container is started: one a wider container
  // serves leaves no directory behind.
  if (access(own.dir.c_str(), F_OK) == 0) {
    lock.emplace(own.lock());
    lock->lock(util::FileLock::Mode::shared);
    if (auto current = live_record(own)) {
      return {own, *current, false};
    }
    lock->unlock();
  }
  // The container that served this family's last run without one of its own, when it
  // serves this run too: one record read instead of all of them.
  if (auto hint = containers::serving_hint(target.family); hint && *hint != target.key) {
    containers::ContainerPaths hinted = containers::paths_for_key(*hint);
    if (containers::keeper_alive(hinted)) { // else a lock might wait on its start
      lock.emplace(hinted.lock());
      lock->lock(util::FileLock::Mode::shared);
      if (auto current = live_record(hinted, containers::RecordPart::whole);
          current && current->family == target.family &&
          containers::serves(current->mounted, target.needs, target.host)) {
        return {hinted, *current, false};
      }
      lock->unlock();
    }
  }
  bool family_up = false;
  if (auto other = find_serving(target, family_up)) {
    lock.emplace(other->first.lock());
    lock->lock(util::FileLock::Mode::shared);
    if (auto current = live_record(other->first)) {
      containers::remember_serving(target.family, current->key);
      return {other->first, *current, false};
    }
    lock->unlock();
  }
  decline_unless_own_process("no warm container serves the run");
  // Only one run starts the container; the others wait here and then find it up.
  util::make_directories(own.dir, 0700);
  lock.emplace(own.lock());
  lock->lock(util::FileLock::Mode::exclusive);
  auto current = live_record(own);
  if (!current) {
    trace_start(target, family_up);
    plan_mounts(target);
    target.spec.box_dir = own.box();
    start_recorded(request, target, own, info_for(request, target), ttl);
    current = containers::read_info(own, containers::RecordPart::without_mounts);
    containers::adopt_orphans();
  }
  // Touched before the lock is downgraded: a reaper that slips in between
  // re-checks the stamp and finds the container in use.
  util::touch(own.stamp());
  lock->lock(util::FileLock::Mode::shared);
  if (!current) {
    throw UserError(status_engine_failure,
                    fmt::format("the record of the container of {} in {} cannot be read",
                                request.entry->image, own.dir));
  }
  return {own, *current, true}; // started it, or waited for the run that did
}

std::optional<adaptive::Settings> adaptive_of(const RunRequest &request) {
  if (mapping::uses_auto_ttl(*request.entry, *request.config)) {
    return request.config->adaptive;
  }
  return std::nullopt;
}

} // namespace

RunMounts run_mounts(const RunRequest &request, const std::string &given_cwd,
                     const std::string &home, const containers::HostView &host) {
  const auto &entry = *request.entry;
  // "//usr" and "/usr/" are /usr: plan with one spelling.
  const std::string cwd = util::normalize_path(given_cwd);
  RunMounts mounts;
  const bool cwd_only =
      entry.mount_root.value_or(request.config->mount_root) == mapping::MountRoot::cwd;
  mounts.root = cwd_only ? cwd : containers::project_root(cwd, host);
  mounts.requests.push_back({mounts.root, mounts.root, false, true, cwd_only});
  for (const auto &mount : entry.mounts) {
    std::string path = util::normalize_path(expand_home(mount.path, home));
    if (path != mounts.root) {
      mounts.requests.push_back({path, path, mount.read_only, false});
    }
  }
  if (entry.path_args.value_or(request.config->path_args) && !request.args.empty()) {
    mounts.arguments = containers::argument_paths(request.args, cwd, mounts.root, host);
    for (const auto &path : mounts.arguments) {
      if (path.mount) {
        mounts.requests.push_back(*path.mount);
      }
    }
  }
  return mounts;
}

engine::ContainerSpec container_spec(const RunRequest &request, const std::string &cwd,
                                     const std::string &home, const std::string &keeper,
                                     const containers::HostView &host) {
  engine::ContainerSpec spec = settings_spec(request, home, keeper);
  plan_into(spec, run_mounts(request, cwd, home, host).requests, host);
  return spec;
}

engine::ContainerSpec container_spec(const RunRequest &request, const std::string &cwd,
                                     const std::string &home, const std::string &keeper) {
  return container_spec(request, cwd, home, keeper, host_view(home, keeper));
}

Target target_for(const RunRequest &request, const std::string &cwd) {
  const std::string home = util::home_directory();
  const std::string keeper = dirs::keeper_program();
  Target target;
  target.host = host_view(home, keeper);
  target.mounts = run_mounts(request, cwd, home, target.host);
  target.needs = containers::resolve_needs(target.mounts.requests, target.host);
  target.spec = settings_spec(request, home, keeper);
  target.spec.runtime = containers::runtime_id();
  target.family =
      containers::family_key(engine::settings_key(request.engine, target.spec), target.host);
  target.key = containers::container_key(target.family, target.needs, target.host);
  target.spec.name = fmt::format("fod-{}-{}", getuid(), target.key);
  target.spec.labels = {{"fod.managed", "true"},
                        {"fod.owner", std::to_string(getuid())},
                        {"fod.key", target.key},
                        {"fod.runtime", target.spec.runtime},
                        {"fod.image", request.entry->image},
                        {"fod.version", version}};
  return target;
}

void plan_mounts(Target &target) {
  plan_into(target.spec, target.mounts.requests, target.host);
}

std::optional<std::string> serving_key(const Target &target) {
  containers::ContainerPaths own = containers::paths_for_key(target.key);
  if (live_record(own)) {
    return target.key;
  }
  bool family_up = false;
  if (auto other = find_serving(target, family_up)) {
    return other->second.key;
  }
  return std::nullopt;
}

RunOutcome execute(const RunRequest &request) {
  const auto &entry = *request.entry;
  const std::string cwd = current_directory();
  Target target = target_for(request, cwd);
  const auto ttl = fixed_ttl(*request.entry, *request.config);
  const double started = containers::now_seconds();
  double ready = started;
  double finished = started;
  bool cold = false;

  engine::ExecSpec exec;
  exec.image = entry.image;
  exec.workdir = cwd;
  exec.session = std::to_string(getpid());
  exec.interactive = stdin_worth_attaching();
  exec.tty = isatty(STDIN_FILENO) != 0 && isatty(STDOUT_FILENO) != 0;
  if (winsize ws{}; exec.tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) {
    exec.rows = ws.ws_row;
    exec.cols = ws.ws_col;
  }
  exec.env_names = allowed_env_names(entry);
  exec.command = entry.entrypoint;
  exec.command.insert(exec.command.end(), request.args.begin(), request.args.end());
  const auto fast_path_off = fast_path_unusable(*request.config, request.engine);

  EngineExecResult result;
  std::string used_key = target.key;
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::optional<util::FileLock> lock;
    Held held = hold_container(request, target, ttl, lock);
    cold = cold || held.cold;
    used_key = held.record.key;
    exec.container = held.record.container;
    record_use(held.paths, held.record, adaptive_of(request), entry.name, ttl);
    if (!containers::reaper_alive(held.paths)) {
      containers::spawn_reaper(held.paths);
    }
    ready = containers::now_seconds();
    result = run_once(request, exec, held.paths, fast_path_off);
    finished = containers::now_seconds();
    util::touch(held.paths.stamp());
    // A container removed behind fod's back: the command never ran, so start
    // a new container and run it there, once.
    if (result.status != 0 && !result.command_started && !containers::keeper_alive(held.paths) &&
        attempt == 0) {
      lock->lock(util::FileLock::Mode::exclusive);
      unlink(held.paths.info().c_str());
      util::capture(engine::remove_argv(request.engine, held.record.container));
      lock->unlock();
      continue;
    }
    break;
  }
  if (result.container_gone) {
    throw UserError(status_engine_failure,
                    fmt::format("the container of {} stopped before {} could start in it, "
                                "twice; is the engine being shut down?",
                                entry.image, entry.name));
  }
  containers::record_run(entry.name, entry.image, used_key, started, cold ? ready - started : 0,
                         finished - ready, cold);
  if (request.config->adaptive.prewarm && request.config->adaptive.max_warm > 0) {
    containers::spawn_prewarm_helper(entry.name, request.config->adaptive);
  }
  return {result.status, result.raise_signal};
}

std::string start_ahead(const RunRequest &request) {
  Target target = target_for(request, current_directory());
  std::optional<util::FileLock> lock;
  Held held = hold_container(request, target, fixed_ttl(*request.entry, *request.config), lock);
  record_use(held.paths, held.record, adaptive_of(request), request.entry->name,
             fixed_ttl(*request.entry, *request.config));
  lock.reset();
  if (!containers::reaper_alive(held.paths)) {
    containers::spawn_reaper(held.paths);
  }
  return held.record.key;
}

} // namespace fod::run
