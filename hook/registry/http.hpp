#pragma once

// GET over libcurl with a deadline for the whole probe. Only fod-registry links this.

#include <chrono>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace fod::registry {

// Any failure that is not an answer: the exit status 3 of fod-registry.
class ProbeFailure : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
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
  // connect_timeout bounds each connection; every request ends by `deadline`.
  HttpClient(std::chrono::milliseconds connect_timeout, Clock::time_point deadline);
  ~HttpClient();
  HttpClient(const HttpClient &) = delete;
  HttpClient &operator=(const HttpClient &) = delete;

  // GETs url with the extra header lines ("Name: value"). Follows up to 5 redirects, to
  // https only unless allow_http; curl sends an Authorization header only to the first
  // host. `what` names the request in errors ("the manifest of x"). Bodies over
  // max_body bytes fail. Throws ProbeFailure for transport errors.
  HttpAnswer get(const std::string &url, const std::vector<std::string> &headers, bool allow_http,
                 const std::string &what, std::size_t max_body = 4U << 20U);

private:
  void *m_curl; // CURL*
  std::chrono::milliseconds m_connect_timeout;
  Clock::time_point m_deadline;
  double m_total_seconds;
};

// Percent-encodes a query parameter value.
std::string url_escape(const std::string &text);

// The "scheme" and "host[:port]" of an absolute URL, or empty strings.
struct UrlParts {
  std::string scheme;
  std::string authority;
};
UrlParts url_parts(const std::string &url);

} // namespace fod::registry
