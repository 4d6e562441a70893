#include "engine/argv.hpp"

#include "util/sha256.hpp"

#include <fmt/format.h>

namespace fod::engine {

namespace {

// One field of --mount's comma-separated list, quoted as CSV where it must be:
// both engines read the list as CSV, so a path may hold ',', ':', '"' or a newline.
std::string mount_field(const std::string &field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) {
    return field;
  }
  std::string quoted = "\"";
  for (char c : field) {
    quoted += c;
    if (c == '"') {
      quoted += '"';
    }
  }
  return quoted + "\"";
}

// A bind mount: --mount rather than --volume, which cannot carry a ':' in a path.
std::string bind_mount(const std::string &source, const std::string &target, bool read_only) {
  return "type=bind," + mount_field("src=" + source) + "," + mount_field("dst=" + target) +
         (read_only ? ",ro" : "");
}

std::string home_tmpfs_options(const Engine &engine, const ContainerSpec &spec) {
  std::string options = "rw,mode=0700";
  if (spec.user) {
    // The tmpfs must belong to the user the command runs as.
    if (engine.kind == Kind::podman) {
      options += ",U";
    } else {
      options += fmt::format(",uid={},gid={}", spec.user->first, spec.user->second);
    }
  }
  return options;
}

} // namespace

std::vector<std::string> run_detached_argv(const Engine &engine, const ContainerSpec &spec) {
  std::vector<std::string> argv = {engine.cli, "run",     "--detach", "--rm",
                                   "--name",   spec.name, "--pull",   "never"};
  for (const auto &[key, value] : spec.labels) {
    argv.insert(argv.end(), {"--label", std::string(key).append("=").append(value)});
  }
  argv.insert(argv.end(), {"--entrypoint", keeper_in_container});
  argv.insert(argv.end(), {"--mount", bind_mount(spec.keeper_path, keeper_in_container, true)});
  argv.insert(argv.end(), {"--mount", bind_mount(spec.box_dir, box_in_container, false)});
  for (const auto &bind : spec.binds) {
    argv.insert(argv.end(), {"--mount", bind_mount(bind.source, bind.target, bind.read_only)});
  }
  for (const auto &path : spec.hidden) {
    // podman copies what is below a tmpfs into it unless told not to.
    argv.insert(argv.end(),
                {"--tmpfs", path + (engine.kind == Kind::podman ? ":ro,mode=0555,notmpcopyup"
                                                                : ":ro,mode=0555")});
  }
  if (spec.home_on_tmpfs) {
    argv.insert(argv.end(), {"--tmpfs", spec.home + ":" + home_tmpfs_options(engine, spec)});
  }
  if (spec.tmp_on_tmpfs) {
    argv.insert(argv.end(), {"--tmpfs", "/tmp:rw,mode=1777"});
  }
  argv.insert(argv.end(), {"--env", "HOME=" + spec.home});
  argv.insert(argv.end(), {"--cap-drop", "all"});
  for (const auto &cap : spec.capabilities) {
    argv.insert(argv.end(), {"--cap-add", cap});
  }
  argv.insert(argv.end(), {"--security-opt", "no-new-privileges"});
  if (spec.pids > 0) {
    argv.insert(argv.end(), {"--pids-limit", std::to_string(spec.pids)});
  }
  if (!spec.memory.empty()) {
    argv.insert(argv.end(), {"--memory", spec.memory});
  }
  if (spec.network != Network::standard) {
    argv.insert(argv.end(), {"--network", to_string(spec.network)});
  }
  if (spec.user) {
    argv.insert(argv.end(), {"--user", fmt::format("{}:{}", spec.user->first, spec.user->second)});
  }
  // "--": an image name is never read as an option, whatever it holds.
  argv.insert(argv.end(), {"--", spec.image, "keep"});
  return argv;
}

std::vector<std::string> exec_argv(const Engine &engine, const ExecSpec &spec) {
  std::vector<std::string> argv = {engine.cli, "exec"};
  if (spec.interactive) {
    argv.push_back("--interactive");
  }
  if (spec.tty) {
    argv.push_back("--tty");
    // The default detach keys (Ctrl-P Ctrl-Q) would swallow Ctrl-P in every
    // interactive program; a tool run by fod is never detached.
    argv.insert(argv.end(),
                {"--detach-keys", engine.kind == Kind::podman ? "" : "ctrl-@,ctrl-@,ctrl-@"});
  }
  argv.insert(argv.end(), {"--workdir", spec.workdir});
  for (const auto &name : spec.env_names) {
    argv.insert(argv.end(), {"--env", name});
  }
  std::string size =
      spec.tty && spec.rows > 0 && spec.cols > 0 ? fmt::format("{}x{}", spec.rows, spec.cols) : "-";
  argv.insert(argv.end(),
              {spec.container, keeper_in_container, "exec", spec.session, spec.image, size, "--"});
  argv.insert(argv.end(), spec.command.begin(), spec.command.end());
  return argv;
}

std::vector<std::string> remove_argv(const Engine &engine, const std::string &container) {
  if (engine.kind == Kind::podman) {
    return {engine.cli, "rm", "--force", "--ignore", "--time", "0", "--", container};
  }
  return {engine.cli, "rm", "--force", "--", container};
}

std::vector<std::string> list_argv(const Engine &engine, uid_t uid,
                                   const std::vector<std::string> &labels) {
  std::vector<std::string> argv{engine.cli,
                                "ps",
                                "--all",
                                "--filter",
                                "label=fod.managed=true",
                                "--filter",
                                fmt::format("label=fod.owner={}", uid)};
  for (const auto &label : labels) {
    argv.insert(argv.end(), {"--filter", "label=" + label});
  }
  argv.insert(argv.end(), {"--format", "{{.Names}}"});
  return argv;
}

std::vector<std::string> box_source_argv(const Engine &engine, const std::string &container) {
  return {engine.cli, "inspect", "--format",
          fmt::format("{{{{range .Mounts}}}}{{{{if eq .Destination \"{}\"}}}}{{{{.Source}}}}"
                      "{{{{end}}}}{{{{end}}}}",
                      box_in_container),
          container};
}

std::vector<std::string> pull_argv(const Engine &engine, const std::string &image, bool insecure) {
  std::vector<std::string> argv = {engine.cli, "pull"};
  if (insecure && engine.kind == Kind::podman) {
    argv.push_back("--tls-verify=false");
  }
  argv.insert(argv.end(), {"--", image});
  return argv;
}

std::vector<std::string> tag_argv(const Engine &engine, const std::string &source,
                                  const std::string &image) {
  return {engine.cli, "tag", "--", source, image};
}

std::vector<std::string> image_inspect_argv(const Engine &engine, const std::string &format,
                                            const std::string &image) {
  return {engine.cli, "image", "inspect", "--format", format, "--", image};
}

std::string settings_key(const Engine &engine, const ContainerSpec &spec) {
  util::FieldHash hash;
  hash.add(to_string(engine.kind))
      .add(engine.cli)
      .add(engine.rootless ? "rootless" : "rootful")
      .add(spec.runtime)
      .add(spec.image)
      .add(spec.keeper_path)
      .add(spec.home)
      .add(to_string(spec.network))
      .add(std::to_string(spec.capabilities.size()));
  for (const auto &cap : spec.capabilities) {
    hash.add(cap);
  }
  hash.add(spec.memory)
      .add(std::to_string(spec.pids))
      .add(spec.user ? fmt::format("{}:{}", spec.user->first, spec.user->second) : "-");
  return hash.hex(16);
}

} // namespace fod::engine
