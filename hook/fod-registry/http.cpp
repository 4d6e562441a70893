#include "http.hpp"

#include "base/version.hpp"
#include "util/fs.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

namespace fod::registry {
namespace {

struct Transfer {
  HttpAnswer answer;
  std::size_t max_body = 0;
  bool too_large = false;
};

std::size_t on_body(char *data, std::size_t size, std::size_t count, void *user) {
  auto *transfer = static_cast<Transfer *>(user);
  std::size_t bytes = size * count;
  if (transfer->answer.body.size() + bytes > transfer->max_body) {
    transfer->too_large = true;
    return 0;
  }
  transfer->answer.body.append(data, bytes);
  return bytes;
}

std::size_t on_header(char *data, std::size_t size, std::size_t count, void *user) {
  auto *transfer = static_cast<Transfer *>(user);
  std::string line(data, size * count);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
    line.pop_back();
  }
  if (line.rfind("HTTP/", 0) == 0) {
    // A new response (after a redirect or a 100): keep only the last one's headers.
    transfer->answer.headers.clear();
    return size * count;
  }
  auto colon = line.find(':');
  if (colon == std::string::npos) {
    return size * count;
  }
  std::string name = line.substr(0, colon);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string value = line.substr(colon + 1);
  value.erase(0, value.find_first_not_of(" \t"));
  std::string &slot = transfer->answer.headers[name];
  slot = slot.empty() ? value : slot + ", " + value;
  return size * count;
}

std::string seconds_text(double seconds) {
  return fmt::format("{:g} s", seconds);
}

} // namespace

std::string HttpAnswer::header(const std::string &lowercase_name) const {
  auto it = headers.find(lowercase_name);
  return it == headers.end() ? std::string() : it->second;
}

HttpClient::HttpClient(std::chrono::milliseconds connect_timeout, std::chrono::milliseconds timeout)
    : m_curl(nullptr), m_connect_timeout(connect_timeout), m_deadline(Clock::now() + timeout),
      m_total_seconds(static_cast<double>(timeout.count()) / 1000.0) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  m_curl = curl_easy_init();
  if (m_curl == nullptr) {
    throw ProbeFailure("libcurl failed to initialize");
  }
}

HttpClient::~HttpClient() {
  curl_easy_cleanup(static_cast<CURL *>(m_curl));
  curl_global_cleanup();
}

HttpAnswer HttpClient::get(const std::string &url, const std::vector<std::string> &headers,
                           bool allow_http, const std::string &what,
                           const std::vector<std::string> &ca_files, std::size_t max_body) {
  return perform(nullptr, url, headers, nullptr, allow_http, what, ca_files, max_body);
}

HttpAnswer HttpClient::send(const std::string &method, const std::string &url,
                            const std::vector<std::string> &headers, const std::string &body,
                            bool allow_http, const std::string &what,
                            const std::vector<std::string> &ca_files) {
  return perform(&method, url, headers, &body, allow_http, what, ca_files, 1U << 20U);
}

HttpAnswer HttpClient::perform(const std::string *method, const std::string &url,
                               const std::vector<std::string> &headers, const std::string *body,
                               bool allow_http, const std::string &what,
                               const std::vector<std::string> &ca_files, std::size_t max_body) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(m_deadline - Clock::now());
  if (left.count() <= 0) {
    throw Unreachable(fmt::format("timed out: {} took longer than {} (timeout)", what,
                                  seconds_text(m_total_seconds)));
  }
  CURL *curl = static_cast<CURL *>(m_curl);
  curl_easy_reset(curl);
  Transfer transfer;
  transfer.max_body = max_body;
  char error[CURL_ERROR_SIZE] = "";
  curl_slist *list = nullptr;
  for (const std::string &line : headers) {
    list = curl_slist_append(list, line.c_str());
  }
  const char *protocols = allow_http ? "http,https" : "https";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, protocols);
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
  if (method != nullptr && body != nullptr) {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method->c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  } else {
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  }
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(curl, CURLOPT_UNRESTRICTED_AUTH, 0L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min(m_connect_timeout, left).count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(left.count()));
  const std::string agent = std::string("fod-registry/") + fod::version;
  curl_easy_setopt(curl, CURLOPT_USERAGENT, agent.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  std::string ca_blob;
  if (!ca_files.empty()) {
    // libcurl takes one bundle: the system's and the host's certificates together.
    const curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);
    const char *system_bundle =
        info->cainfo != nullptr ? info->cainfo : "/etc/ssl/certs/ca-certificates.crt";
    ca_blob = util::read_file(system_bundle).value_or("");
    for (const std::string &file : ca_files) {
      ca_blob += "\n" + util::read_file(file).value_or("");
    }
    curl_blob blob{ca_blob.data(), ca_blob.size(), CURL_BLOB_NOCOPY};
    curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &blob);
  }
  CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(list);
  if (code != CURLE_OK) {
    std::string detail = error[0] != '\0' ? error : curl_easy_strerror(code);
    switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      throw Unreachable(
          fmt::format("timed out: {}: {} (connect timeout {}, timeout {})", what, detail,
                      seconds_text(static_cast<double>(m_connect_timeout.count()) / 1000.0),
                      seconds_text(m_total_seconds)));
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      throw Unreachable(fmt::format("cannot resolve the host of {} (offline?): {}", what, detail));
    case CURLE_COULDNT_CONNECT: {
      long os_errno = 0;
      curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
      if (os_errno != 0) {
        detail = fmt::format("{} ({})", std::strerror(static_cast<int>(os_errno)), detail);
      }
      throw Unreachable(fmt::format("cannot connect for {}: {}", what, detail));
    }
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
      throw Unreachable(fmt::format("the connection failed for {}: {}", what, detail));
    case CURLE_WEIRD_SERVER_REPLY:
      throw MalformedAnswer(fmt::format("{}: the answer is not HTTP: {}", what, detail));
    case CURLE_TOO_MANY_REDIRECTS:
      throw ProbeFailure(fmt::format("too many redirects for {} (more than 5)", what));
    case CURLE_UNSUPPORTED_PROTOCOL:
      throw ProbeFailure(
          fmt::format("{}: refused to follow a redirect to plain HTTP (or another protocol): {}",
                      what, detail));
    case CURLE_WRITE_ERROR:
      if (transfer.too_large) {
        throw MalformedAnswer(fmt::format("{} is larger than {} bytes", what, max_body));
      }
      break;
    case CURLE_SSL_CONNECT_ERROR:
      throw ProbeFailure(fmt::format("TLS failed for {}: {} (a registry serving plain HTTP must be "
                                     "listed as insecure)",
                                     what, detail));
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
      throw ProbeFailure(fmt::format("TLS certificate not trusted for {}: {} (a registry's own CA "
                                     "goes into /etc/containers/certs.d/HOST:PORT/ca.crt, as for "
                                     "podman)",
                                     what, detail));
    default:
      break;
    }
    throw ProbeFailure(fmt::format("{} failed: {}", what, detail));
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &transfer.answer.status);
  return std::move(transfer.answer);
}

std::vector<std::string> ca_files_in(const std::string &directory) {
  std::vector<std::string> files;
  std::error_code error;
  for (const auto &entry : std::filesystem::directory_iterator(directory, error)) {
    if (entry.path().extension() == ".crt" && entry.is_regular_file(error)) {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::string> host_ca_files(const std::vector<std::string> &roots,
                                       const std::string &authority) {
  for (const std::string &root : roots) {
    std::string directory = util::join(root, authority);
    std::error_code error;
    if (std::filesystem::is_directory(directory, error)) {
      return ca_files_in(directory);
    }
  }
  return {};
}

std::string url_escape(const std::string &text) {
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

UrlParts url_parts(const std::string &url) {
  UrlParts parts;
  CURLU *handle = curl_url();
  if (curl_url_set(handle, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    char *scheme = nullptr;
    char *host = nullptr;
    char *port = nullptr;
    if (curl_url_get(handle, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK) {
      parts.scheme = scheme;
    }
    if (curl_url_get(handle, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
      parts.authority = host;
    }
    if (curl_url_get(handle, CURLUPART_PORT, &port, 0) == CURLUE_OK) {
      parts.authority += std::string(":") + port;
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
  }
  curl_url_cleanup(handle);
  return parts;
}

} // namespace fod::registry
