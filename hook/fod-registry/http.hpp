#pragma once

// HTTP over libcurl with a deadline for the whole exchange. Only fod-registry links this.

#include <chrono>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace fod::registry {

// A probe that failed although the registry may have been reached: it refused, failed or
// answered something the probe cannot follow (helper::Status::failed).
class ProbeFailure : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// A transport failure: the host cannot be resolved or connected to, or it did not answer in
// time (helper::Status::unreachable).
class Unreachable : public ProbeFailure {
public:
  using ProbeFailure::ProbeFailure;
};

// An answer that cannot be read: malformed JSON or HTTP, wrong types, a manifest that does
// not parse, a digest that does not match, a body too large (helper::Status::malformed).
class MalformedAnswer : public ProbeFailure {
public:
  using ProbeFailure::ProbeFailure;
};

struct HttpAnswer {
  long status = 0;
  std::map<std::string, std::string> headers; // of the last response; names lowercased,
                                              // repeated headers joined with ", "
  std::string body;

  // A header's value or "".
  std::string header(const std::string &lowercase_name) const;
};

class HttpClient {
public:
  using Clock = std::chrono::steady_clock;
  // connect_timeout bounds each connection; every request ends within `timeout` from now.
  HttpClient(std::chrono::milliseconds connect_timeout, std::chrono::milliseconds timeout);
  ~HttpClient();
  HttpClient(const HttpClient &) = delete;
  HttpClient &operator=(const HttpClient &) = delete;

  // GETs url with the extra header lines ("Name: value"). Follows up to 5 redirects, to
  // https only unless allow_http; curl sends an Authorization header only to the first
  // host. `what` names the request in errors ("the manifest of x"). Bodies over
  // max_body bytes fail (MalformedAnswer). Throws Unreachable for transport failures,
  // ProbeFailure for the others.
  // ca_files: PEM certificates trusted in addition to the system's for this request.
  HttpAnswer get(const std::string &url, const std::vector<std::string> &headers, bool allow_http,
                 const std::string &what, const std::vector<std::string> &ca_files = {},
                 std::size_t max_body = 4U << 20U);

  // Sends body with method (POST, PUT) as get() does a GET, but follows no redirect: a
  // registry answers an upload with a Location to go on with, never to be followed blindly.
  HttpAnswer send(const std::string &method, const std::string &url,
                  const std::vector<std::string> &headers, const std::string &body, bool allow_http,
                  const std::string &what, const std::vector<std::string> &ca_files = {});

private:
  HttpAnswer perform(const std::string *method, const std::string &url,
                     const std::vector<std::string> &headers, const std::string *body,
                     bool allow_http, const std::string &what,
                     const std::vector<std::string> &ca_files, std::size_t max_body);

  void *m_curl; // CURL*
  std::chrono::milliseconds m_connect_timeout;
  Clock::time_point m_deadline;
  double m_total_seconds;
};

// The certificates the engines trust for a registry host (host[:port]): the *.crt files of
// the first of ROOT/HOST that exists, for ROOT in `roots`, as podman's certs.d lookup does.
std::vector<std::string> host_ca_files(const std::vector<std::string> &roots,
                                       const std::string &authority);
// The *.crt files of one directory, sorted.
std::vector<std::string> ca_files_in(const std::string &directory);

// Percent-encodes a query parameter value.
std::string url_escape(const std::string &text);

// The "scheme" and "host[:port]" of an absolute URL, or empty strings.
struct UrlParts {
  std::string scheme;
  std::string authority;
};
UrlParts url_parts(const std::string &url);

} // namespace fod::registry
