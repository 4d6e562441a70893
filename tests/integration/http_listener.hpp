// A small HTTP/1.1 server and client on 127.0.0.1 for the registry tests.
//
// The server answers what its handler returns, one connection at a time on its
// own thread: it serves the token service of TestRegistry and produces the
// errors a real registry will not produce on demand (500, malformed JSON,
// redirects, a connection that is accepted and never answered).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace fod::test {

struct HttpRequest {
    std::string method{}, target{};                           // target: path and query as sent
    std::string path{};                                       // target up to '?'
    std::map<std::string, std::vector<std::string>> query{};  // decoded parameters
    std::map<std::string, std::string> headers{};             // names lowercased
    std::string body{};

    // The first value of a query parameter, or "".
    std::string param(const std::string& name) const;
    // A header value, or "".
    std::string header(const std::string& name) const;
};

struct HttpResponse {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers{};
    std::string body{};
    // Keep the connection open and never write anything (until the listener ends).
    bool never_answer = false;
};

class HttpListener {
public:
    using Handler = std::function<HttpResponse(const HttpRequest&)>;
    // Listens on a free port of 127.0.0.1 and serves until destroyed.
    explicit HttpListener(Handler handler);
    ~HttpListener();
    HttpListener(const HttpListener&) = delete;
    HttpListener& operator=(const HttpListener&) = delete;

    int port() const { return m_port; }
    std::string host() const { return "127.0.0.1:" + std::to_string(m_port); }
    // Requests handled so far.
    std::vector<HttpRequest> requests() const;

private:
    void serve();

    Handler m_handler;
    int m_listen_fd = -1;
    int m_stop_pipe[2] = {-1, -1};
    int m_port = 0;
    std::vector<int> m_held;  // connections left unanswered
    mutable std::mutex m_mutex;
    std::vector<HttpRequest> m_requests;
    std::thread m_thread;
};

// A port on 127.0.0.1 that was free a moment ago.
int free_port();

// One HTTP/1.1 request to 127.0.0.1:port (Connection: close); throws on a socket error.
HttpResponse http_request(int port, const std::string& method, const std::string& target,
                          const std::vector<std::pair<std::string, std::string>>& headers = {},
                          const std::string& body = "");

// Percent-decodes a query string component ('+' is a space).
std::string url_decode(const std::string& text);

}  // namespace fod::test
