#include "engine/failure.hpp"

#include <catch2/catch.hpp>

using fod::engine::classify_failure;
using fod::engine::error_line;
using fod::engine::Failure;

namespace {

// What podman 4.3.1 and docker 28.2 print on stderr, as measured on the test machines.
const std::string podman_image_absent = "Error: localhost/nonexistent:1: image not known\n";
const std::string docker_image_absent =
    "docker: Error response from daemon: No such image: localhost/nonexistent:1\n"
    "\n"
    "Run 'docker run --help' for more information\n";
const std::string podman_name_in_use =
    "Error: creating container storage: the container name \"fod-0-abc\" is already in use by "
    "bd1075837121222b7e5795a9431d5fbc19bfea7d5d47ad45aa1af6d37a6680e3. You have to remove that "
    "container to be able to reuse that name: that name is already in use\n";
const std::string docker_name_in_use =
    "docker: Error response from daemon: Conflict. The container name \"/fod-0-abc\" is already "
    "in use by container "
    "\"801efec8d5ec26389bb3dafeb76b1410b5fe2d2560567537d06fcab84776a82e\". You have to remove "
    "(or rename) that container to be able to reuse that name.\n"
    "\n"
    "Run 'docker run --help' for more information\n";
// Rootless podman on cgroups v1, given --memory or --pids-limit, notes it on every run.
const std::string rootless_note =
    "Resource limits are not supported and ignored on cgroups V1 rootless systems\n";
const std::string podman_no_entrypoint =
    "Error: runc: runc create failed: unable to start container process: exec: \"/nope\": stat "
    "/nope: no such file or directory: OCI runtime attempted to invoke a command that was not "
    "found\n";
const std::string docker_no_entrypoint =
    "docker: Error response from daemon: failed to create shim task: OCI runtime create failed: "
    "runc create failed: unable to start container process: exec: \"/nope\": stat /nope: no such "
    "file or directory: unknown\n"
    "\n"
    "Run 'docker run --help' for more information\n";
const std::string docker_bad_option =
    "invalid argument \"bogus\" for \"-m, --memory\" flag: invalid size: 'bogus'\n"
    "\n"
    "Usage:  docker run [OPTIONS] IMAGE [COMMAND] [ARG...]\n"
    "\n"
    "Run 'docker run --help' for more information\n";
const std::string podman_pull_unreachable =
    "Trying to pull 127.0.0.1:5799/x:1...\n"
    "time=\"2026-12-02T09:47:25Z\" level=warning msg=\"Failed, retrying in 1s ... (1/3). Error: "
    "initializing source docker://127.0.0.1:5799/x:1: pinging container registry 127.0.0.1:5799: "
    "Get \\\"http://127.0.0.1:5799/v2/\\\": dial tcp 127.0.0.1:5799: connect: connection "
    "refused\"\n"
    "Error: initializing source docker://127.0.0.1:5799/x:1: pinging container registry "
    "127.0.0.1:5799: Get \"http://127.0.0.1:5799/v2/\": dial tcp 127.0.0.1:5799: connect: "
    "connection refused\n";
const std::string podman_pull_manifest_unknown =
    "Trying to pull 127.0.0.1:5791/ee/nothere:1...\n"
    "Error: initializing source docker://127.0.0.1:5791/ee/nothere:1: reading manifest 1 in "
    "127.0.0.1:5791/ee/nothere: manifest unknown: manifest unknown\n";
const std::string docker_pull_manifest_unknown =
    "Error response from daemon: manifest for 127.0.0.1:5791/ee/nothere:1 not found: manifest "
    "unknown: manifest unknown\n";
const std::string docker_pull_blob_absent = "unknown blob\n";
const std::string docker_tag_absent =
    "Error response from daemon: No such image: localhost/nonexistent:1\n";

} // namespace

TEST_CASE("engine::classify_failure tells an absent image and a taken name from the rest",
          "[unit][engine]") {
  SECTION("run --pull never of an image the engine lacks") {
    CHECK(classify_failure(podman_image_absent) == Failure::image_absent);
    CHECK(classify_failure(docker_image_absent) == Failure::image_absent);
    CHECK(classify_failure(rootless_note + podman_image_absent) == Failure::image_absent);
  }
  SECTION("run --name of a name a container has already") {
    CHECK(classify_failure(podman_name_in_use) == Failure::name_in_use);
    CHECK(classify_failure(docker_name_in_use) == Failure::name_in_use);
    CHECK(classify_failure(rootless_note + podman_name_in_use) == Failure::name_in_use);
  }
  SECTION("anything else") {
    for (const auto &text :
         {podman_no_entrypoint, docker_no_entrypoint, docker_bad_option, rootless_note,
          podman_pull_unreachable, podman_pull_manifest_unknown, docker_pull_manifest_unknown,
          docker_pull_blob_absent, std::string()}) {
      INFO(text);
      CHECK(classify_failure(text) == Failure::other);
    }
  }
}

TEST_CASE("engine::error_line shows the line that says what went wrong", "[unit][engine]") {
  SECTION("without the engine's prefixes") {
    CHECK(error_line(podman_image_absent) == "localhost/nonexistent:1: image not known");
    CHECK(error_line(docker_image_absent) ==
          "Error response from daemon: No such image: localhost/nonexistent:1");
    CHECK(error_line(docker_no_entrypoint) ==
          "Error response from daemon: failed to create shim task: OCI runtime create failed: "
          "runc create failed: unable to start container process: exec: \"/nope\": stat /nope: "
          "no such file or directory: unknown");
    CHECK(error_line(docker_pull_manifest_unknown) ==
          "Error response from daemon: manifest for 127.0.0.1:5791/ee/nothere:1 not found: "
          "manifest unknown: manifest unknown");
    CHECK(error_line(docker_tag_absent) ==
          "Error response from daemon: No such image: localhost/nonexistent:1");
  }
  SECTION("past rootless podman's note on resource limits") {
    CHECK(error_line(rootless_note + podman_no_entrypoint) == error_line(podman_no_entrypoint));
    CHECK(error_line(rootless_note) == "");
  }
  SECTION("past the progress and retry warnings of a pull") {
    CHECK(error_line(podman_pull_unreachable) ==
          "initializing source docker://127.0.0.1:5799/x:1: pinging container registry "
          "127.0.0.1:5799: Get \"http://127.0.0.1:5799/v2/\": dial tcp 127.0.0.1:5799: "
          "connect: connection refused");
    CHECK(error_line(podman_pull_manifest_unknown) ==
          "initializing source docker://127.0.0.1:5791/ee/nothere:1: reading manifest 1 in "
          "127.0.0.1:5791/ee/nothere: manifest unknown: manifest unknown");
  }
  SECTION("the first line when none names an error, not docker's usage hints") {
    CHECK(error_line(docker_bad_option) ==
          "invalid argument \"bogus\" for \"-m, --memory\" flag: invalid size: 'bogus'");
    CHECK(error_line(docker_pull_blob_absent) == "unknown blob");
    CHECK(error_line("\n\n") == "");
    CHECK(error_line("") == "");
  }
  SECTION("made printable: a registry's answer may carry escape sequences") {
    CHECK(error_line("Error: manifest unknown: \x1b]0;pwned\x07\x1b[2Jx\n") ==
          "manifest unknown: ]0;pwned[2Jx");
  }
}
