// See http_listener.hpp.
#include "http_listener.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace fod::test {
namespace {

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

std::string reason(int status) {
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 307: return "Temporary Redirect";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

void write_all(int fd, const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        done += static_cast<size_t>(n);
    }
}

// Reads one message (head and Content-Length body) from fd, waiting at most 5 s.
// Returns false if the peer closed first or sent nothing in time.
bool read_message(int fd, std::string& head, std::string& body, bool to_eof) {
    std::string data;
    char buffer[4096];
    size_t head_end = std::string::npos;
    size_t length = 0;
    while (true) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 5000) <= 0) return false;
        ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (to_eof && head_end != std::string::npos) break;
            return false;
        }
        data.append(buffer, static_cast<size_t>(n));
        if (head_end == std::string::npos) {
            head_end = data.find("\r\n\r\n");
            if (head_end != std::string::npos) {
                auto lowered = lower(data.substr(0, head_end));
                auto pos = lowered.find("\r\ncontent-length:");
                if (pos != std::string::npos) length = std::stoul(lowered.substr(pos + 17));
            }
        }
        if (!to_eof && head_end != std::string::npos && data.size() >= head_end + 4 + length) break;
    }
    head = data.substr(0, head_end);
    body = data.substr(head_end + 4);
    return true;
}

std::map<std::string, std::string> parse_headers(const std::string& head) {
    std::map<std::string, std::string> headers;
    size_t pos = head.find("\r\n");
    while (pos != std::string::npos) {
        size_t start = pos + 2;
        size_t end = head.find("\r\n", start);
        std::string line =
            head.substr(start, end == std::string::npos ? std::string::npos : end - start);
        auto colon = line.find(':');
        if (colon != std::string::npos) {
            std::string value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(' '));
            headers[lower(line.substr(0, colon))] = value;
        }
        pos = end;
    }
    return headers;
}

}  // namespace

std::string url_decode(const std::string& text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '+') {
            out += ' ';
        } else if (text[i] == '%' && i + 2 < text.size() &&
                   std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
                   std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
            out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

std::string HttpRequest::param(const std::string& name) const {
    auto it = query.find(name);
    return it == query.end() || it->second.empty() ? "" : it->second.front();
}

std::string HttpRequest::header(const std::string& name) const {
    auto it = headers.find(lower(name));
    return it == headers.end() ? "" : it->second;
}

int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) < 0) {
        int e = errno;
        ::close(fd);
        throw std::system_error(e, std::generic_category(), "bind 127.0.0.1:0");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

HttpListener::HttpListener(Handler handler) : m_handler(std::move(handler)) {
    m_listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (m_listen_fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(m_listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 ||
        ::listen(m_listen_fd, 16) < 0 ||
        ::getsockname(m_listen_fd, reinterpret_cast<sockaddr*>(&addr), &len) < 0 ||
        ::pipe2(m_stop_pipe, O_CLOEXEC) < 0) {
        int e = errno;
        ::close(m_listen_fd);
        throw std::system_error(e, std::generic_category(), "HttpListener");
    }
    m_port = ntohs(addr.sin_port);
    m_thread = std::thread([this] { serve(); });
}

HttpListener::~HttpListener() {
    ::write(m_stop_pipe[1], "x", 1);
    m_thread.join();
    for (int fd : m_held) ::close(fd);
    ::close(m_listen_fd);
    ::close(m_stop_pipe[0]);
    ::close(m_stop_pipe[1]);
}

std::vector<HttpRequest> HttpListener::requests() const {
    std::lock_guard lock(m_mutex);
    return m_requests;
}

void HttpListener::serve() {
    while (true) {
        pollfd fds[2] = {{m_listen_fd, POLLIN, 0}, {m_stop_pipe[0], POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (fds[1].revents != 0) return;
        int fd = ::accept4(m_listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        std::string head, body;
        if (!read_message(fd, head, body, false)) {
            ::close(fd);
            continue;
        }
        HttpRequest request;
        auto line_end = head.find("\r\n");
        std::string line = head.substr(0, line_end);
        auto sp1 = line.find(' ');
        auto sp2 = line.find(' ', sp1 + 1);
        request.method = line.substr(0, sp1);
        request.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
        auto question = request.target.find('?');
        request.path = request.target.substr(0, question);
        if (question != std::string::npos) {
            std::string query = request.target.substr(question + 1);
            size_t start = 0;
            while (start <= query.size()) {
                size_t amp = query.find('&', start);
                std::string pair =
                    query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
                auto eq = pair.find('=');
                if (!pair.empty()) {
                    request.query[url_decode(pair.substr(0, eq))].push_back(
                        eq == std::string::npos ? "" : url_decode(pair.substr(eq + 1)));
                }
                if (amp == std::string::npos) break;
                start = amp + 1;
            }
        }
        request.headers = parse_headers(head);
        request.body = body;
        HttpResponse response;
        try {
            response = m_handler(request);
        } catch (const std::exception& e) {
            response = {
                500, {{"Content-Type", "text/plain"}}, std::string("handler failed: ") + e.what()};
        }
        {
            std::lock_guard lock(m_mutex);
            m_requests.push_back(request);
        }
        if (response.never_answer) {
            m_held.push_back(fd);
            continue;
        }
        std::string out =
            "HTTP/1.1 " + std::to_string(response.status) + " " + reason(response.status) + "\r\n";
        for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
        out += "Content-Length: " + std::to_string(response.body.size()) +
               "\r\nConnection: close\r\n\r\n";
        if (request.method != "HEAD") out += response.body;
        write_all(fd, out);
        ::shutdown(fd, SHUT_WR);
        ::close(fd);
    }
}

HttpResponse http_request(int port, const std::string& method, const std::string& target,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          const std::string& body) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
        int e = errno;
        ::close(fd);
        throw std::system_error(e, std::generic_category(),
                                "connect 127.0.0.1:" + std::to_string(port));
    }
    std::string out =
        method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
        "\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
    out += "\r\n" + body;
    write_all(fd, out);
    std::string head, response_body;
    bool ok = read_message(fd, head, response_body, true);
    ::close(fd);
    if (!ok)
        throw std::runtime_error("no HTTP response from 127.0.0.1:" + std::to_string(port) +
                                 target);
    HttpResponse response;
    response.status = std::stoi(head.substr(head.find(' ') + 1, 3));
    for (const auto& [name, value] : parse_headers(head))
        response.headers.emplace_back(name, value);
    response.body = response_body;
    return response;
}

}  // namespace fod::test
