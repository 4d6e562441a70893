#include "adaptive/history.hpp"
#include "adaptive/policy.hpp"
#include "base/dirs.hpp"
#include "base/error.hpp"
#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "containers/box.hpp"
#include "containers/records.hpp"
#include "containers/run_mounts.hpp"
#include "pull/consent.hpp"
#include "pull/flow.hpp"
#include "pull/probe.hpp"
#include "pull/verify.hpp"
#include "run/agent_client.hpp"
#include "run/runner.hpp"
#include "util/duration.hpp"
#include "util/fs.hpp"
#include "util/process.hpp"
#include "util/text.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

namespace fod::cli {

namespace {

// What a run with target's arguments mounts: its root, and each path an argument
// names outside it (printable: paths are the user's, but may hold anything).
void show_mounts(const run::Target &target, const mapping::Entry &entry,
                 const mapping::Config &config) {
  const bool project = entry.mount_root.value_or(config.mount_root) == mapping::MountRoot::project;
  fmt::print("  root:        {} ({})\n", util::printable(target.mounts.root),
             !project ? "mount_root: cwd"
             : containers::is_project(target.mounts.root, target.host)
                 ? "the project"
                 : "no .git, .hg, .jj or .svn above: the directory itself");
  if (!entry.path_args.value_or(config.path_args)) {
    fmt::print("  arguments:   not mounted (path_args: false)\n");
    return;
  }
  for (const auto &path : target.mounts.arguments) {
    std::string what = util::printable(path.path);
    if (path.mount) {
      fmt::print("  mounts:      {}{}{}\n", util::printable(path.mount->target),
                 path.mount->read_only ? ", read-only" : "",
                 path.mount->target == path.path
                     ? std::string()
                     : fmt::format(" (for {}{}{})", what, path.note.empty() ? "" : ": ",
                                   path.note.rfind("read-only", 0) == 0 ? "" : path.note));
    } else {
      fmt::print("  not mounted: {} ({})\n", what, path.note.substr(path.note.find(": ") + 2));
    }
  }
}

} // namespace

int which_command(const std::string &name, const std::vector<std::string> &args,
                  bool ask_registry) {
  auto mapping = load_mapping(true);
  const auto found = find_entry(mapping, name);
  if (!found) {
    fmt::print(stderr, "fod: {}\n", not_mapped_message(mapping.config, name));
    return 1;
  }
  const auto *entry = &found->entry();
  const bool from_catalog = found->from_catalog.has_value();
  fmt::print("{}\n", name);
  if (from_catalog) {
    fmt::print("  defined in:  catalog {}\n", entry->origin.file);
  } else {
    fmt::print("  defined in:  {} layer, {}:{}\n", entry->origin.layer, entry->origin.file,
               entry->origin.line);
  }
  fmt::print("  image:       {}\n", entry->image);
  // The engine first: an image it has is what a run uses, so the registry is asked about it
  // only with --registry (a probe costs up to registry_timeout, offline or not).
  std::string why;
  auto engine = engine::select_engine(mapping.config.engine, &why);
  const bool local = engine && pull::image_present(*engine, entry->image);
  if (pull::is_local_name(entry->image)) {
    fmt::print("  registry:    none, a local image name (localhost/ images are built or imported "
               "here, never pulled)\n");
  } else if (local && !ask_registry) {
    fmt::print("  registry:    not asked, the image is local (fod which --registry {} asks)\n",
               name);
  } else {
    auto remote = pull::probe(entry->image, mapping.config);
    switch (remote.kind) {
    case pull::ProbeResult::Kind::found:
      fmt::print("  registry:    {}, {} to download\n", remote.remote.digest,
                 pull::human_size(remote.remote.size));
      break;
    case pull::ProbeResult::Kind::not_found:
      fmt::print("  registry:    not found{}\n", remote.error.empty() ? "" : ": " + remote.error);
      break;
    default:
      fmt::print("  registry:    {}\n", pull::describe_failure(remote));
    }
  }
  if (auto consent = pull::recorded_consent(entry->image)) {
    fmt::print("  consent:     {}{}\n", consent->allowed ? "allowed" : "declined",
               consent->digest.empty() ? std::string()
                                       : fmt::format(" ({} approved)", consent->digest));
  } else {
    fmt::print("  consent:     none recorded ({})\n",
               mapping.config.confirm == mapping::Confirm::never
                   ? "confirm: never, pulls without asking"
                   : "asks before the first pull");
  }
  if (entry->entrypoint.empty()) {
    fmt::print("  runs:        the image's entrypoint (read at the first run)\n");
  } else {
    // A catalog entry's comes from its image's config: printable, as registry text is.
    fmt::print("  runs:        {}\n",
               util::printable(fmt::format("{}", fmt::join(entry->entrypoint, " "))));
  }
  fmt::print("  network:     {}\n", mapping::to_string(entry->network));
  if (!entry->capabilities.empty()) {
    fmt::print("  capabilities: {}\n", fmt::join(entry->capabilities, ", "));
  }
  if (mapping::uses_auto_ttl(*entry, mapping.config)) {
    const auto &s = mapping.config.adaptive;
    auto now = adaptive::auto_ttl(adaptive::read_history(adaptive::default_history_path()),
                                  entry->image, s);
    fmt::print("  ttl:         auto, now {} ({}), within {}..{}\n",
               util::format_duration(std::chrono::seconds(std::lround(now.seconds))), now.rule,
               util::format_duration(s.ttl_min), util::format_duration(s.ttl_max));
  } else {
    fmt::print("  ttl:         {}\n",
               util::format_duration(entry->ttl.value_or(mapping.config.ttl)));
  }

  if (!engine) {
    fmt::print("  engine:      none ({})\n", why);
    return 0;
  }
  fmt::print("  engine:      {} ({}{})\n", engine::to_string(engine->kind), engine->cli,
             engine->rootless ? ", rootless" : "");
  fmt::print("  local image: {}\n", local ? "yes"
                                    : pull::is_local_name(entry->image)
                                        ? "no (localhost/: build or import it)"
                                        : "no (the first run pulls it)");

  if (auto keys = pull::verify_keys(entry->image, mapping.config); !keys.empty()) {
    auto verified = pull::recorded_verification(entry->image, keys);
    fmt::print("  signature:   {}\n",
               verified ? fmt::format("verified {} with {}", verified->digest, verified->key)
                        : fmt::format("required, by {} (verify:); the first run checks it",
                                      fmt::join(keys, " or ")));
  }
  if (auto note = dirs::runtime_fallback_note()) {
    fmt::print("  runtime dir: {}\n", *note);
  }
  run::RunRequest request = run_request(*entry, mapping.config, *engine, args);
  std::string cwd = run::current_directory();
  try {
    auto target = run::target_for(request, cwd);
    show_mounts(target, *entry, mapping.config);
    run::plan_mounts(target); // a root that must not be mounted says so here
    auto key = run::serving_key(target);
    auto paths = containers::paths_for_key(key.value_or(target.key));
    auto info = containers::read_info(paths);
    const bool warm = key && info;
    if (warm) {
      fmt::print("  warm here:   yes, {}{} idle {}s of {}\n", info->container,
                 *key == target.key ? "" : " (it mounts all this run needs, and more),",
                 static_cast<long>(containers::idle_seconds(paths, *info)),
                 containers::describe_ttl(*info));
    } else {
      fmt::print("  warm here:   no (the next run starts a container)\n");
    }
    // The way a run here takes: the agent (the fast path) or the engine's exec CLI.
    if (auto off = run::fast_path_unusable(mapping.config, *engine)) {
      fmt::print("  runs via:    {} exec ({})\n", engine::to_string(engine->kind), *off);
    } else if (warm && !containers::box::has_agent_socket(paths)) {
      fmt::print("  runs via:    {} exec (the warm container has no agent)\n",
                 engine::to_string(engine->kind));
    } else {
      fmt::print("  runs via:    agent (fast path)\n");
    }
  } catch (const UserError &e) {
    fmt::print("  warm here:   no ({})\n", e.what());
  }
  int elsewhere = 0;
  for (const auto &[paths, info] : containers::list_recorded()) {
    if (info.image == entry->image && !util::is_same_or_under(cwd, info.root) &&
        containers::keeper_alive(paths)) {
      ++elsewhere;
    }
  }
  if (elsewhere > 0) {
    fmt::print("  warm elsewhere: {} container(s) of this image (see fod ps)\n", elsewhere);
  }
  return 0;
}

} // namespace fod::cli
