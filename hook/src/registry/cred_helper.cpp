#include "registry/cred_helper.hpp"

#include "util/fs.hpp"
#include "util/process.hpp"
#include "util/text.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <exception>

namespace fod::registry {
namespace {

HelperAnswer failed(std::string_view name, const std::string &why) {
  return {HelperAnswer::Kind::failed, {}, fmt::format("docker-credential-{} {}", name, why)};
}

} // namespace

bool valid_helper_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || std::isalnum(static_cast<unsigned char>(name[0])) == 0) {
    return false;
  }
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

HelperAnswer parse_helper_answer(std::string_view name, int status, const std::string &out,
                                 const std::string &err) {
  // The helpers' own words for "nothing stored" (credentials.errCredentialsNotFoundMessage).
  if (out.find("credentials not found in native keychain") != std::string::npos) {
    return {};
  }
  if (status != 0) {
    // Helpers write their error on stdout; an answer that may hold the secret
    // (a JSON object) is never repeated.
    std::string why = util::first_line(out);
    if (why.find('{') != std::string::npos || why.find("Secret") != std::string::npos) {
      why = "its answer withheld";
    }
    if (why.empty()) {
      why = util::first_line(err);
    }
    return failed(name, fmt::format("failed (status {}){}", status, why.empty() ? "" : ": " + why));
  }
  auto doc = nlohmann::json::parse(out, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return failed(name, "answered something other than a JSON object");
  }
  auto text = [&](const char *key) {
    auto it = doc.find(key);
    return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  HelperAnswer answer;
  answer.credentials = {text("Username"), text("Secret")};
  if (answer.credentials.username.empty() || answer.credentials.username == "<token>") {
    return {};
  }
  answer.kind = HelperAnswer::Kind::found;
  return answer;
}

HelperAnswer run_credential_helper(const std::string &name, const std::string &server_url,
                                   std::chrono::milliseconds timeout) {
  if (!valid_helper_name(name)) {
    return {HelperAnswer::Kind::failed,
            {},
            fmt::format("credential helper name \"{}\" is not valid (letters, digits, '.', '_', "
                        "'-')",
                        util::first_line(name))};
  }
  const std::string program = "docker-credential-" + name;
  auto path = util::find_in_path(program);
  if (!path) {
    return failed(name, "is not in $PATH");
  }
  util::CaptureOptions options;
  options.input = server_url;
  options.timeout = timeout;
  try {
    auto captured = util::capture({*path, "get"}, options);
    if (captured.timed_out) {
      return failed(name, fmt::format("did not answer within {} ms", timeout.count()));
    }
    return parse_helper_answer(name, captured.status, captured.out, captured.err);
  } catch (const std::exception &e) {
    return failed(name, fmt::format("could not be started: {}", e.what()));
  }
}

CredentialLookup lookup_credentials(const std::vector<std::string> &files,
                                    std::string_view registry, std::string_view repository,
                                    const HelperRunner &run_helper) {
  CredentialLookup lookup;
  for (const std::string &file : files) {
    auto text = util::read_file(file);
    if (!text) {
      continue;
    }
    AuthFileEntry entry = auth_entry_in(*text, registry, repository);
    if (!entry.helper.empty()) {
      const bool docker_config = file.size() >= 11 && file.ends_with("config.json") &&
                                 (file.size() == 11 || file[file.size() - 12] == '/');
      HelperAnswer answer = run_helper(entry.helper, helper_server_url(registry, docker_config));
      if (answer.kind == HelperAnswer::Kind::found) {
        lookup.credentials = answer.credentials;
        lookup.source = "docker-credential-" + entry.helper;
        return lookup;
      }
      if (answer.kind == HelperAnswer::Kind::failed) {
        lookup.problems.push_back(answer.error);
      }
      if (!entry.helper_is_default) {
        continue;
      }
    }
    if (entry.credentials) {
      lookup.credentials = entry.credentials;
      lookup.source = "the auth file " + file;
      return lookup;
    }
  }
  return lookup;
}

} // namespace fod::registry
