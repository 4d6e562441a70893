#pragma once

// Registry credentials from the files podman, skopeo, buildah and docker keep them in.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fod::registry {

struct Credentials {
  std::string username;
  std::string password;
};

// The credential files in the order they are consulted, as the engines do:
// $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json (root without
// XDG_RUNTIME_DIR: /run/containers/0/auth.json), ~/.config/containers/auth.json,
// ~/.docker/config.json ($DOCKER_CONFIG/config.json when set).
std::vector<std::string> auth_file_paths();

// The credentials an auth.json or config.json text holds for a repository of a registry
// ("docker.io", "library/jq"): the "auths" entry of the most specific key (registry/namespace
// before registry; keys may carry a scheme and a path, "https://index.docker.io/v1/" is
// docker.io), decoded from its base64 "auth" (user:password) or "username"/"password".
// nullopt when there is none or the text is not a JSON object.
std::optional<Credentials> credentials_in(std::string_view json_text, std::string_view registry,
                                          std::string_view repository);

// What one credential file says for a registry: its "auths" entry (as credentials_in), and
// the credential helper it names, from "credHelpers" (keyed by registry host, compared as
// auths keys are) or else docker's "credsStore".
struct AuthFileEntry {
  std::optional<Credentials> credentials;
  std::string helper;             // NAME of docker-credential-NAME; "" for none
  bool helper_is_default = false; // the helper came from credsStore
};
AuthFileEntry auth_entry_in(std::string_view json_text, std::string_view registry,
                            std::string_view repository);

// The server a helper is asked about: the registry host, except docker.io in docker's own
// config.json (docker_config), which docker stores as "https://index.docker.io/v1/".
std::string helper_server_url(std::string_view registry, bool docker_config);

// The first credentials found in the "auths" of `files` (unreadable or missing files are
// skipped); credential helpers are not run (see cred_helper.hpp, lookup_credentials).
std::optional<Credentials> find_credentials(const std::vector<std::string> &files,
                                            std::string_view registry, std::string_view repository);

// RFC 4648 base64 without line breaks ('=' padding optional); nullopt for other characters.
std::optional<std::string> base64_decode(std::string_view text);
// RFC 4648 base64 with '=' padding.
std::string base64_encode(std::string_view data);

} // namespace fod::registry
