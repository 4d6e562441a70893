#include "probe.hpp"

#include "registry/artifact.hpp"
#include "registry/cred_helper.hpp"
#include "registry/signature.hpp"
#include "registry/www_authenticate.hpp"
#include "util/environment.hpp"
#include "util/fs.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <algorithm>

namespace fod::registry {
namespace {

std::string sha256_digest(const std::string &data) {
  unsigned char hash[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), hash, &size, EVP_sha256(), nullptr) != 1) {
    throw ProbeFailure("SHA-256 failed");
  }
  std::string out = "sha256:";
  for (unsigned int i = 0; i < size; ++i) {
    out += fmt::format("{:02x}", hash[i]);
  }
  return out;
}

// One line of printable text, at most `limit` characters.
std::string one_line(std::string text, std::size_t limit = 200) {
  for (char &c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      c = ' ';
    }
  }
  text.erase(0, text.find_first_not_of(' '));
  while (!text.empty() && text.back() == ' ') {
    text.pop_back();
  }
  if (text.size() > limit) {
    text.resize(limit);
    text += "...";
  }
  return text;
}

bool has_error_code(const std::string &body, std::initializer_list<std::string_view> codes) {
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("errors") ||
      !doc["errors"].is_array()) {
    return false;
  }
  for (const auto &error : doc["errors"]) {
    if (error.is_object() && error.contains("code") && error["code"].is_string()) {
      auto code = error["code"].get<std::string>();
      if (std::find(codes.begin(), codes.end(), code) != codes.end()) {
        return true;
      }
    }
  }
  return false;
}

class Session {
public:
  Session(const Reference &reference, const ProbeOptions &options)
      : m_ref(reference), m_options(options), m_http(options.connect_timeout, options.timeout),
        m_insecure(is_insecure(reference.registry)),
        m_base(fmt::format("{}://{}/v2/{}", m_insecure ? "http" : "https",
                           api_host(reference.registry), reference.repository)),
        m_registry_cas(ca_files(reference.registry)),
        m_deadline(std::chrono::steady_clock::now() + options.timeout) {}

  ProbeResult run() {
    ProbeResult result;
    result.reference = m_ref.canonical();
    result.platform = m_options.platform.text();
    const std::string what = "the manifest of " + result.reference;
    Fetched top = fetch_manifest(m_ref.manifest_reference(), what);
    if (!m_ref.digest.empty() && top.digest != m_ref.digest) {
      throw MalformedAnswer(fmt::format("{}: the registry sent content with digest {}, not {}",
                                        what, top.digest, m_ref.digest));
    }
    result.digest = top.digest;
    result.media_type = top.parsed.media_type;
    if (m_options.verify_keys != nullptr && !m_options.verify_keys->empty()) {
      result.verified_by = verify_signature(top.digest);
    }
    if (!top.parsed.is_index) {
      result.manifest_digest = top.digest;
      result.size = top.parsed.layers_size;
      return result;
    }
    auto chosen = select_platform(top.parsed.manifests, m_options.platform);
    if (!chosen) {
      std::vector<std::string> offered;
      for (const auto &d : top.parsed.manifests) {
        if (d.platform && !d.platform->os.empty()) {
          offered.push_back(d.platform->text());
        }
      }
      throw NotFound(
          fmt::format("{} has no image for {} (it has: {})", result.reference, result.platform,
                      offered.empty() ? "none" : fmt::format("{}", fmt::join(offered, ", "))));
    }
    const std::string inner_what =
        fmt::format("the {} manifest of {}", result.platform, result.reference);
    Fetched inner = fetch_manifest(chosen->digest, inner_what);
    if (inner.digest != chosen->digest) {
      throw MalformedAnswer(fmt::format("{}: the registry sent content with digest {}, not {}",
                                        inner_what, inner.digest, chosen->digest));
    }
    if (inner.parsed.is_index) {
      throw ProbeFailure(inner_what + " is an index inside an index, which fod does not follow");
    }
    result.manifest_digest = inner.digest;
    result.size = inner.parsed.layers_size;
    return result;
  }

  MappingsFetch fetch_mappings() {
    MappingsFetch result;
    result.reference = m_ref.canonical();
    const std::string what = "the mappings " + result.reference;
    Fetched top = fetch_manifest(m_ref.manifest_reference(), what);
    if (!m_ref.digest.empty() && top.digest != m_ref.digest) {
      throw MalformedAnswer(fmt::format("{}: the registry sent content with digest {}, not {}",
                                        what, top.digest, m_ref.digest));
    }
    MappingsLayer layer;
    try {
      layer = parse_mappings_artifact(top.body);
    } catch (const ArtifactError &e) {
      throw NotMappings(
          fmt::format("{} is not a fod mappings artifact: {}", result.reference, e.what()));
    }
    result.digest = top.digest;
    if (m_options.verify_keys != nullptr && !m_options.verify_keys->empty()) {
      result.verified_by = verify_signature(top.digest);
    }
    HttpAnswer answer = get_with_auth(m_base + "/blobs/" + layer.digest, what);
    if (answer.status != 200) {
      std::string why = error_summary(answer.body);
      throw ProbeFailure(fmt::format("{}: its layer {}: {} answered HTTP {}{}", what, layer.digest,
                                     m_ref.registry, answer.status, why.empty() ? "" : ": " + why));
    }
    if (static_cast<std::int64_t>(answer.body.size()) != layer.size ||
        sha256_digest(answer.body) != layer.digest) {
      throw MalformedAnswer(
          fmt::format("{}: the layer sent is not the {} the manifest names", what, layer.digest));
    }
    result.content = std::move(answer.body);
    return result;
  }

  std::string publish_mappings(const std::string &content) {
    const std::string what = "publishing to " + m_ref.canonical();
    const std::string config_digest = push_blob(std::string(empty_config), what);
    MappingsLayer layer{push_blob(content, what), static_cast<std::int64_t>(content.size())};
    const std::string manifest = mappings_manifest(layer, config_digest);
    Upload upload{"PUT", manifest, {"Content-Type: " + std::string(media_type::oci_manifest)}};
    HttpAnswer answer =
        exchange(m_base + "/manifests/" + m_ref.manifest_reference(), what, &upload);
    refuse_unless(answer, 201, what + ": the manifest");
    return sha256_digest(manifest);
  }

private:
  // A refused upload: denied (ProbeFailure, with the credentials' source) or another status.
  void refuse_unless(const HttpAnswer &answer, long wanted, const std::string &what) const {
    if (answer.status == wanted) {
      return;
    }
    std::string why = error_summary(answer.body);
    if (answer.status == 401 || answer.status == 403) {
      throw ProbeFailure(fmt::format(
          "{}: {} refused the push (HTTP {}{}){}", what, m_ref.registry, answer.status,
          why.empty() ? "" : ": " + why,
          m_credentials ? " with the credentials from " + m_source
                        : "; log in with `podman login` or `docker login`" + problems()));
    }
    throw ProbeFailure(fmt::format("{}: {} answered HTTP {}{}", what, m_ref.registry, answer.status,
                                   why.empty() ? "" : ": " + why));
  }

  // Uploads a blob in one piece (POST, then PUT to the Location given); returns its digest.
  std::string push_blob(const std::string &data, const std::string &what) {
    std::string digest = sha256_digest(data);
    Upload start{"POST", "", {}};
    HttpAnswer started = exchange(m_base + "/blobs/uploads/", what, &start);
    refuse_unless(started, 202, what + ": starting an upload");
    std::string location = started.header("location");
    // The upload goes on at the registry itself: a Location on another host would receive
    // the credentials, so it is refused.
    const std::string origin = m_base.substr(0, m_base.find("/v2/"));
    if (location.rfind('/', 0) == 0) {
      location = origin + location;
    } else if (location.rfind(origin + "/", 0) != 0) {
      throw ProbeFailure(fmt::format("{}: the registry sent the upload elsewhere (\"{}\")", what,
                                     one_line(location)));
    }
    location += (location.find('?') == std::string::npos ? "?" : "&");
    location += "digest=" + url_escape(digest);
    Upload finish{"PUT", data, {"Content-Type: application/octet-stream"}};
    refuse_unless(exchange(location, what, &finish), 201, what + ": the blob " + digest);
    return digest;
  }

  struct Fetched {
    std::string digest;
    ParsedManifest parsed;
    std::string body;
  };

  std::vector<std::string> ca_files(const std::string &authority) const {
    return m_options.cert_dir.empty() ? host_ca_files(m_options.cert_roots, authority)
                                      : ca_files_in(m_options.cert_dir);
  }

  bool is_insecure(const std::string &authority) const {
    return std::find(m_options.insecure.begin(), m_options.insecure.end(), authority) !=
           m_options.insecure.end();
  }

  Fetched fetch_manifest(const std::string &reference, const std::string &what) {
    const std::string url = m_base + "/manifests/" + reference;
    HttpAnswer answer = get_with_auth(url, what);
    if (answer.status == 404 || has_error_code(answer.body, {"NAME_UNKNOWN", "MANIFEST_UNKNOWN",
                                                             "NAME_INVALID", "TAG_INVALID"})) {
      std::string why = error_summary(answer.body);
      throw NotFound(fmt::format("{} not found in {}{}", m_ref.canonical(), m_ref.registry,
                                 why.empty() ? "" : " (" + why + ")"));
    }
    const bool anonymous_token = !m_credentials && m_authorization.rfind("Bearer ", 0) == 0;
    if ((answer.status == 401 || answer.status == 403) && anonymous_token) {
      // Docker Hub answers an anonymous pull of a repository that does not exist with 401, so
      // this is a miss as podman reports it ("does not exist or may require authorization"),
      // not an error: a catalog on such a registry must treat a missing name as a miss.
      std::string why = error_summary(answer.body);
      throw NotFound(fmt::format("{} does not exist in {} or requires a login (HTTP {}{})",
                                 m_ref.canonical(), m_ref.registry, answer.status,
                                 why.empty() ? "" : ": " + why));
    }
    if (answer.status == 401 || answer.status == 403) {
      std::string why = error_summary(answer.body);
      throw ProbeFailure(fmt::format(
          "{}: access denied by {} (HTTP {}{}){}", what, m_ref.registry, answer.status,
          why.empty() ? "" : ": " + why,
          m_credentials
              ? " with the credentials from " + m_source
              : "; log in with `podman login` or `docker login` if it is private" + problems()));
    }
    if (answer.status != 200) {
      std::string why = error_summary(answer.body);
      throw ProbeFailure(fmt::format("{}: {} answered HTTP {}{}", what, m_ref.registry,
                                     answer.status, why.empty() ? "" : ": " + why));
    }
    Fetched fetched;
    fetched.digest = sha256_digest(answer.body);
    std::string announced = answer.header("docker-content-digest");
    if (is_sha256_digest(announced) && announced != fetched.digest) {
      throw MalformedAnswer(fmt::format("{}: the body's digest {} differs from the {} the registry "
                                        "announced",
                                        what, fetched.digest, announced));
    }
    try {
      fetched.parsed = parse_manifest(answer.body, answer.header("content-type"));
    } catch (const ManifestError &e) {
      throw MalformedAnswer(fmt::format("{}: {}", what, e.what()));
    }
    fetched.body = std::move(answer.body);
    return fetched;
  }

  // Checks cosign's signature of digest (what the reference resolves to, as cosign signs it)
  // and returns the key file that verified it. Throws Unverified with the reason.
  std::string verify_signature(const std::string &digest) {
    const std::string image = m_ref.canonical();
    const std::string tag = signature_tag(digest);
    const std::string what = "the signature of " + image;
    HttpAnswer answer = get_with_auth(m_base + "/manifests/" + tag, what);
    if (answer.status == 404 || has_error_code(answer.body, {"MANIFEST_UNKNOWN", "NAME_UNKNOWN"})) {
      throw Unverified(fmt::format("{} is not signed: {} has no signature of {} (no tag {})", image,
                                   m_ref.registry, digest, tag));
    }
    if (answer.status != 200) {
      std::string why = error_summary(answer.body);
      throw ProbeFailure(fmt::format("{}: {} answered HTTP {}{}", what, m_ref.registry,
                                     answer.status, why.empty() ? "" : ": " + why));
    }
    std::vector<SignatureLayer> layers;
    try {
      layers = parse_signature_manifest(answer.body);
    } catch (const SignatureFormatError &e) {
      throw MalformedAnswer(fmt::format("{}: {}", what, e.what()));
    }
    if (layers.empty()) {
      throw Unverified(
          fmt::format("{} is not signed: its tag {} holds no cosign signature", image, tag));
    }
    // A claim is believed only once its signature verified; the first such that fits wins,
    // else the reason of the first that did not.
    std::string refusal;
    for (const SignatureLayer &layer : layers) {
      const std::string payload = fetch_blob(layer, what);
      auto signature = base64_decode(layer.signature);
      const PublicKey *signer = nullptr;
      for (const PublicKey &key : *m_options.verify_keys) {
        if (signature && key.verifies(payload, *signature)) {
          signer = &key;
          break;
        }
      }
      if (signer == nullptr) {
        continue;
      }
      SignedClaim claim;
      try {
        claim = parse_simple_signing(payload);
      } catch (const SignatureFormatError &e) {
        refusal = refusal.empty() ? fmt::format("{}: {}", what, e.what()) : refusal;
        continue;
      }
      if (claim.manifest_digest != digest) {
        refusal = refusal.empty() ? fmt::format("{}, verified with {}, signs another digest ({}, "
                                                "not {})",
                                                what, signer->path(), claim.manifest_digest, digest)
                                  : refusal;
      } else if (!names_repository(claim, m_ref)) {
        refusal = refusal.empty()
                      ? fmt::format("{}, verified with {}, signs another repository (\"{}\", "
                                    "not {}/{})",
                                    what, signer->path(), one_line(claim.docker_reference),
                                    m_ref.registry, m_ref.repository)
                      : refusal;
      } else {
        return signer->path();
      }
    }
    if (!refusal.empty()) {
      throw Unverified(refusal);
    }
    std::vector<std::string> paths;
    for (const PublicKey &key : *m_options.verify_keys) {
      paths.push_back(key.path());
    }
    throw Unverified(
        fmt::format("{} ({}) does not verify with {}", what, digest, fmt::join(paths, " or ")));
  }

  // A signed payload, checked against its descriptor's digest and size.
  std::string fetch_blob(const SignatureLayer &layer, const std::string &what) {
    HttpAnswer answer = get_with_auth(m_base + "/blobs/" + layer.digest, what);
    if (answer.status != 200) {
      std::string why = error_summary(answer.body);
      throw ProbeFailure(fmt::format("{}: the payload {}: {} answered HTTP {}{}", what,
                                     layer.digest, m_ref.registry, answer.status,
                                     why.empty() ? "" : ": " + why));
    }
    if (static_cast<std::int64_t>(answer.body.size()) != layer.size ||
        sha256_digest(answer.body) != layer.digest) {
      throw MalformedAnswer(fmt::format("{}: the payload sent is not the {} the signature names",
                                        what, layer.digest));
    }
    return answer.body;
  }

  std::vector<std::string> headers() const {
    std::vector<std::string> lines = {"Accept: " + manifest_accept_header()};
    if (!m_authorization.empty()) {
      lines.push_back("Authorization: " + m_authorization);
    }
    return lines;
  }

  HttpAnswer get_with_auth(const std::string &url, const std::string &what) {
    return exchange(url, what, nullptr);
  }

  // A request that, on the registry's first 401, authenticates as the challenge asks and is
  // sent again. With an upload, its method, body and extra header lines; else a GET.
  struct Upload {
    std::string method;
    std::string body;
    std::vector<std::string> headers;
  };
  HttpAnswer exchange(const std::string &url, const std::string &what, const Upload *upload) {
    auto send = [&] {
      if (upload == nullptr) {
        return m_http.get(url, headers(), m_insecure, what, m_registry_cas);
      }
      std::vector<std::string> lines = headers();
      lines.insert(lines.end(), upload->headers.begin(), upload->headers.end());
      return m_http.send(upload->method, url, lines, upload->body, m_insecure, what,
                         m_registry_cas);
    };
    HttpAnswer answer = send();
    if (answer.status != 401 || m_authenticated) {
      return answer;
    }
    m_authenticated = true;
    auto challenges = parse_www_authenticate(answer.header("www-authenticate"));
    find_credentials_now();
    auto scheme = [&](const char *name) {
      return std::find_if(challenges.begin(), challenges.end(),
                          [&](const Challenge &c) { return c.scheme == name; });
    };
    if (auto bearer = scheme("bearer"); bearer != challenges.end()) {
      m_authorization = "Bearer " + fetch_token(*bearer);
    } else if (auto basic = scheme("basic"); basic != challenges.end()) {
      if (!m_credentials) {
        throw ProbeFailure(fmt::format("{}: {} asks for a user name and password and none is in "
                                       "the auth files or credential helpers; log in with "
                                       "`podman login {}`{}",
                                       what, m_ref.registry, m_ref.registry, problems()));
      }
      m_authorization =
          "Basic " + base64_encode(m_credentials->username + ":" + m_credentials->password);
    } else {
      throw ProbeFailure(fmt::format("{}: {} answered 401 without a Bearer or Basic challenge",
                                     what, m_ref.registry));
    }
    return send();
  }

  std::string fetch_token(const Challenge &challenge) {
    const std::string realm = challenge.param("realm");
    const std::string what = "the token for " + m_ref.canonical();
    UrlParts parts = url_parts(realm);
    if (parts.scheme != "https" &&
        !(parts.scheme == "http" && (m_insecure || is_insecure(parts.authority)))) {
      throw ProbeFailure(fmt::format("{}: the token service \"{}\" of {} is not an https URL", what,
                                     one_line(realm), m_ref.registry));
    }
    std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
    if (auto service = challenge.param("service"); !service.empty()) {
      url += "service=" + url_escape(service) + "&";
    }
    url += "scope=" +
           url_escape("repository:" + m_ref.repository + (m_options.push ? ":pull,push" : ":pull"));
    std::vector<std::string> lines;
    if (m_credentials) {
      lines.push_back("Authorization: Basic " +
                      base64_encode(m_credentials->username + ":" + m_credentials->password));
    }
    HttpAnswer answer =
        m_http.get(url, lines, parts.scheme == "http", what, ca_files(parts.authority));
    if (answer.status == 401 || answer.status == 403) {
      std::string why = error_summary(answer.body);
      throw ProbeFailure(fmt::format(
          "{}: the token service refused {} (HTTP {}{}){}", what,
          m_credentials ? "the credentials from " + m_source : std::string("an anonymous token"),
          answer.status, why.empty() ? "" : ": " + why, m_credentials ? "" : problems()));
    }
    if (answer.status != 200) {
      std::string why = error_summary(answer.body);
      throw ProbeFailure(fmt::format("{}: the token service answered HTTP {}{}", what,
                                     answer.status, why.empty() ? "" : ": " + why));
    }
    auto doc = nlohmann::json::parse(answer.body, nullptr, false);
    if (doc.is_object()) {
      for (const char *name : {"token", "access_token"}) {
        if (doc.contains(name) && doc[name].is_string() && !doc[name].get<std::string>().empty()) {
          std::string token = doc[name].get<std::string>();
          // The token goes into a header line: no line breaks.
          if (token.find_first_of("\r\n") == std::string::npos) {
            return token;
          }
        }
      }
    }
    throw MalformedAnswer(what + ": the token service's answer holds no token");
  }

  const Reference &m_ref;
  const ProbeOptions &m_options;
  HttpClient m_http;
  bool m_insecure;
  std::string m_base;
  std::vector<std::string> m_registry_cas;
  bool m_authenticated = false;
  // The engines' lookup (auth files, credential helpers); a helper gets what is left of the
  // probe's time, less a margin for the request it is for.
  void find_credentials_now() {
    auto run_helper = [this](const std::string &name, const std::string &server) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          m_deadline - std::chrono::steady_clock::now() - std::chrono::milliseconds(500));
      return run_credential_helper(name, server, std::max(left, std::chrono::milliseconds(100)));
    };
    CredentialLookup lookup =
        lookup_credentials(m_options.auth_files, m_ref.registry, m_ref.repository, run_helper);
    m_credentials = lookup.credentials;
    m_source = lookup.source;
    m_problems = lookup.problems;
  }

  // "; docker-credential-x failed: ..." for the helpers that failed, to end a message.
  std::string problems() const {
    std::string out;
    for (const auto &problem : m_problems) {
      out += "; " + one_line(problem, 300);
    }
    return out;
  }

  std::optional<Credentials> m_credentials;
  std::string m_source;
  std::vector<std::string> m_problems;
  std::string m_authorization;
  std::chrono::steady_clock::time_point m_deadline;
};

} // namespace

std::vector<std::string> default_cert_roots() {
  return {util::join(util::home_directory(), ".config/containers/certs.d"),
          "/etc/containers/certs.d", "/etc/docker/certs.d"};
}

std::string api_host(const std::string &registry) {
  return registry == "docker.io" ? "registry-1.docker.io" : registry;
}

std::string error_summary(const std::string &body) {
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (!doc.is_discarded() && doc.is_object() && doc.contains("errors") &&
      doc["errors"].is_array()) {
    std::vector<std::string> parts;
    for (const auto &error : doc["errors"]) {
      if (!error.is_object()) {
        continue;
      }
      std::string code =
          error.value("code", nlohmann::json()).is_string() ? error["code"].get<std::string>() : "";
      std::string message = error.value("message", nlohmann::json()).is_string()
                                ? error["message"].get<std::string>()
                                : "";
      if (code.empty() || message.empty()) {
        parts.push_back(code.empty() ? message : code);
      } else {
        parts.push_back(code);
        parts.back().append(": ").append(message);
      }
    }
    if (!parts.empty()) {
      return one_line(fmt::format("{}", fmt::join(parts, "; ")));
    }
  }
  return one_line(body.substr(0, body.find('\n')));
}

} // namespace fod::registry

namespace fod::registry {

ProbeResult probe(const Reference &reference, const ProbeOptions &options) {
  return Session(reference, options).run();
}

MappingsFetch fetch_mappings(const Reference &reference, const ProbeOptions &options) {
  return Session(reference, options).fetch_mappings();
}

std::string publish_mappings(const Reference &reference, const std::string &content,
                             const ProbeOptions &options) {
  ProbeOptions push = options;
  push.push = true;
  return Session(reference, push).publish_mappings(content);
}

} // namespace fod::registry
