#pragma once

// Docker credential helpers (docker-credential-NAME get), as docker and podman run them.

#include "registry/auth_file.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fod::registry {

// Whether NAME may name a helper docker-credential-NAME: letters, digits, '.', '_' and '-',
// starting with a letter or digit, at most 64 characters (no '/', no option, no path).
bool valid_helper_name(std::string_view name);

struct HelperAnswer {
  enum class Kind { found, none, failed };
  Kind kind = Kind::none;
  Credentials credentials;
  std::string error; // failed: one line naming the helper and why
};

// Reads what `docker-credential-NAME get` wrote and how it ended: JSON
// {"ServerURL","Username","Secret"} with status 0 is found; "credentials not found in
// native keychain" (on stdout, with any status), or an empty Username and Secret, is none;
// anything else failed, with the helper's own message (stdout, else stderr). A Username of
// "<token>" (an identity token, which fod-registry cannot exchange) is none.
HelperAnswer parse_helper_answer(std::string_view name, int status, const std::string &out,
                                 const std::string &err);

// Runs docker-credential-NAME from an absolute directory of $PATH with the argument `get`
// (argv only, no shell), server_url on its stdin, its stdout and stderr captured, and kills
// it after `timeout`. Never throws.
HelperAnswer run_credential_helper(const std::string &name, const std::string &server_url,
                                   std::chrono::milliseconds timeout);

struct CredentialLookup {
  std::optional<Credentials> credentials;
  // Where they came from: "the auth file PATH" or "docker-credential-NAME".
  std::string source;
  // Helpers that failed on the way, one line each (their stderr included): shown only when
  // the registry then refuses.
  std::vector<std::string> problems;
};

// Runs a helper: (NAME, server URL) -> its answer.
using HelperRunner =
    std::function<HelperAnswer(const std::string &name, const std::string &server_url)>;

// The credentials for a repository of a registry, as podman and docker look them up: the
// files in order (auth_file_paths()); in each, a credHelpers entry for the registry decides
// (its helper's credentials, else on to the next file, its auths unread); else credsStore's
// helper, and when it has none the file's auths; else the auths. A file named config.json is
// docker's: its helpers are asked about docker.io as "https://index.docker.io/v1/".
CredentialLookup lookup_credentials(const std::vector<std::string> &files,
                                    std::string_view registry, std::string_view repository,
                                    const HelperRunner &run_helper);

} // namespace fod::registry
