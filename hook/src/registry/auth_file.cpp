#include "registry/auth_file.hpp"

#include "util/environment.hpp"
#include "util/fs.hpp"

#include <nlohmann/json.hpp>
#include <unistd.h>

namespace fod::registry {
namespace {

constexpr std::string_view alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// An auths key as the engines compare it: no scheme, and a legacy docker key
// ("https://index.docker.io/v1/") reduced to its host; index.docker.io is docker.io.
std::string normalize_key(std::string_view key) {
  bool had_scheme = false;
  for (std::string_view scheme : {"https://", "http://"}) {
    if (key.substr(0, scheme.size()) == scheme) {
      key.remove_prefix(scheme.size());
      had_scheme = true;
    }
  }
  if (had_scheme) {
    key = key.substr(0, key.find('/'));
  }
  while (!key.empty() && key.back() == '/') {
    key.remove_suffix(1);
  }
  std::string out(key);
  for (std::string_view alias : {"index.docker.io", "registry-1.docker.io"}) {
    if (out == alias || out.rfind(std::string(alias) + "/", 0) == 0) {
      out = "docker.io" + out.substr(alias.size());
    }
  }
  return out;
}

std::optional<Credentials> decode_entry(const nlohmann::json &entry) {
  if (!entry.is_object()) {
    return std::nullopt;
  }
  auto auth = entry.find("auth");
  if (auth != entry.end() && auth->is_string() && !auth->get<std::string>().empty()) {
    auto decoded = base64_decode(auth->get<std::string>());
    if (!decoded) {
      return std::nullopt;
    }
    auto colon = decoded->find(':');
    if (colon == std::string::npos || colon == 0) {
      return std::nullopt;
    }
    return Credentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
  }
  auto user = entry.find("username");
  auto password = entry.find("password");
  if (user != entry.end() && password != entry.end() && user->is_string() &&
      password->is_string() && !user->get<std::string>().empty()) {
    return Credentials{user->get<std::string>(), password->get<std::string>()};
  }
  return std::nullopt;
}

} // namespace

std::optional<std::string> base64_decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') {
    text.remove_suffix(1);
  }
  std::string out;
  unsigned value = 0;
  int bits = 0;
  for (char c : text) {
    auto index = alphabet.find(c);
    if (index == std::string_view::npos) {
      return std::nullopt;
    }
    value = (value << 6) | static_cast<unsigned>(index);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((value >> bits) & 0xffU);
    }
  }
  return out;
}

std::string base64_encode(std::string_view data) {
  std::string out;
  std::size_t i = 0;
  auto byte = [&](std::size_t k) {
    return static_cast<unsigned>(static_cast<unsigned char>(data[k]));
  };
  for (; i + 2 < data.size(); i += 3) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    for (int shift : {18, 12, 6, 0}) {
      out += alphabet[(v >> shift) & 63U];
    }
  }
  if (i + 1 == data.size()) {
    unsigned v = byte(i) << 16;
    out += alphabet[(v >> 18) & 63U];
    out += alphabet[(v >> 12) & 63U];
    out += "==";
  } else if (i + 2 == data.size()) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8);
    out += alphabet[(v >> 18) & 63U];
    out += alphabet[(v >> 12) & 63U];
    out += alphabet[(v >> 6) & 63U];
    out += '=';
  }
  return out;
}

std::vector<std::string> auth_file_paths() {
  std::vector<std::string> paths;
  if (auto file = util::get_env("REGISTRY_AUTH_FILE")) {
    paths.push_back(*file);
  }
  if (auto runtime = util::get_env("XDG_RUNTIME_DIR")) {
    paths.push_back(util::join(*runtime, "containers/auth.json"));
  } else if (getuid() == 0) {
    paths.emplace_back("/run/containers/0/auth.json");
  }
  const std::string home = util::home_directory();
  paths.push_back(util::join(home, ".config/containers/auth.json"));
  if (auto docker = util::get_env("DOCKER_CONFIG")) {
    paths.push_back(util::join(*docker, "config.json"));
  } else {
    paths.push_back(util::join(home, ".docker/config.json"));
  }
  return paths;
}

std::optional<Credentials> credentials_in(std::string_view json_text, std::string_view registry,
                                          std::string_view repository) {
  auto doc = nlohmann::json::parse(json_text.begin(), json_text.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return std::nullopt;
  }
  auto auths = doc.find("auths");
  if (auths == doc.end() || !auths->is_object()) {
    return std::nullopt;
  }
  // Most specific first: registry/a/b/c, registry/a/b, registry/a, registry.
  std::vector<std::string> wanted;
  std::string path = std::string(registry) + "/" + std::string(repository);
  while (true) {
    wanted.push_back(path);
    auto slash = path.rfind('/');
    if (slash == std::string::npos || path.size() <= registry.size()) {
      break;
    }
    path.resize(slash);
  }
  for (const std::string &key : wanted) {
    for (const auto &[name, entry] : auths->items()) {
      if (normalize_key(name) == key) {
        if (auto credentials = decode_entry(entry)) {
          return credentials;
        }
      }
    }
  }
  return std::nullopt;
}

AuthFileEntry auth_entry_in(std::string_view json_text, std::string_view registry,
                            std::string_view repository) {
  AuthFileEntry entry;
  entry.credentials = credentials_in(json_text, registry, repository);
  auto doc = nlohmann::json::parse(json_text.begin(), json_text.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return entry;
  }
  if (auto helpers = doc.find("credHelpers"); helpers != doc.end() && helpers->is_object()) {
    for (const auto &[key, name] : helpers->items()) {
      if (normalize_key(key) == registry && name.is_string() && !name.get<std::string>().empty()) {
        entry.helper = name.get<std::string>();
        return entry;
      }
    }
  }
  if (auto store = doc.find("credsStore"); store != doc.end() && store->is_string()) {
    entry.helper = store->get<std::string>();
    entry.helper_is_default = !entry.helper.empty();
  }
  return entry;
}

std::string helper_server_url(std::string_view registry, bool docker_config) {
  if (docker_config && registry == "docker.io") {
    return "https://index.docker.io/v1/";
  }
  return std::string(registry);
}

std::optional<Credentials> find_credentials(const std::vector<std::string> &files,
                                            std::string_view registry,
                                            std::string_view repository) {
  for (const std::string &file : files) {
    if (auto text = util::read_file(file)) {
      if (auto credentials = credentials_in(*text, registry, repository)) {
        return credentials;
      }
    }
  }
  return std::nullopt;
}

} // namespace fod::registry
