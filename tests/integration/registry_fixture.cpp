// See registry_fixture.hpp.
#include "registry_fixture.hpp"

#include "files.hpp"
#include "poll.hpp"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace fod::test {
namespace {

constexpr const char* token_service_name = "fod-test-registry";
constexpr const char* token_issuer = "fod-test-token-issuer";

std::string base64(const unsigned char* data, size_t size, bool url) {
    static const char* std_alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const char* url_alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char* alphabet = url ? url_alphabet : std_alphabet;
    std::string out;
    size_t i = 0;
    for (; i + 2 < size; i += 3) {
        unsigned v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += alphabet[v & 63];
    }
    if (i + 1 == size) {
        unsigned v = data[i] << 16;
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        if (!url) out += "==";
    } else if (i + 2 == size) {
        unsigned v = (data[i] << 16) | (data[i + 1] << 8);
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        if (!url) out += "=";
    }
    return out;
}

std::string base64(const std::string& text, bool url) {
    return base64(reinterpret_cast<const unsigned char*>(text.data()), text.size(), url);
}

std::string base64_decode(const std::string& text) {
    std::string out;
    unsigned v = 0;
    int bits = 0;
    for (char c : text) {
        int d;
        if (c >= 'A' && c <= 'Z')
            d = c - 'A';
        else if (c >= 'a' && c <= 'z')
            d = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            d = c - '0' + 52;
        else if (c == '+')
            d = 62;
        else if (c == '/')
            d = 63;
        else
            break;
        v = (v << 6) | static_cast<unsigned>(d);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((v >> bits) & 0xff);
        }
    }
    return out;
}

// libtrust's key id, which the registry derives from each certificate of its
// rootcertbundle and looks a token's "kid" up in: the SHA-256 of the DER
// SubjectPublicKeyInfo cut to 30 bytes, base32, in groups of 4 joined by ':'.
std::string libtrust_key_id(EVP_PKEY* key) {
    unsigned char* der = nullptr;
    int size = i2d_PUBKEY(key, &der);
    if (size <= 0) throw std::runtime_error("i2d_PUBKEY failed");
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(der, static_cast<size_t>(size), digest);
    OPENSSL_free(der);
    static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    std::string b32;
    unsigned long long buffer = 0;
    int bits = 0;
    for (int i = 0; i < 30; ++i) {
        buffer = (buffer << 8) | digest[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            b32 += alphabet[(buffer >> bits) & 31];
        }
    }
    std::string id;
    for (size_t i = 0; i < b32.size(); i += 4) {
        if (!id.empty()) id += ':';
        id += b32.substr(i, 4);
    }
    return id;
}

bool tcp_answers(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

}  // namespace

// The token service: issues RS256 JWTs the registry verifies against the
// self-signed certificate in its rootcertbundle.
struct TestRegistry::TokenService {
    std::string user, password;
    std::string cert_path;
    EVP_PKEY* key = nullptr;
    std::string key_id;
    std::unique_ptr<HttpListener> listener;

    TokenService(const TempDir& dir, std::string u, std::string p)
        : user(std::move(u)), password(std::move(p)) {
        std::string key_path = dir.path() + "/token.key";
        cert_path = dir.path() + "/token.crt";
        auto made =
            run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key_path,
                 "-out", cert_path, "-days", "2", "-subj", "/CN=fod-test-token-issuer"});
        if (made.status != 0) throw std::runtime_error("openssl req failed: " + made.err);
        FILE* f = std::fopen(key_path.c_str(), "r");
        if (!f) throw std::runtime_error("cannot read " + key_path);
        key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
        std::fclose(f);
        if (!key) throw std::runtime_error("cannot parse " + key_path);
        key_id = libtrust_key_id(key);
        listener =
            std::make_unique<HttpListener>([this](const HttpRequest& r) { return answer(r); });
    }
    ~TokenService() {
        listener.reset();
        EVP_PKEY_free(key);
    }

    std::string realm() const { return "http://" + listener->host() + "/token"; }

    std::string sign(const std::string& input) const {
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        size_t size = 0;
        std::string signature;
        if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestSign(ctx, nullptr, &size,
                           reinterpret_cast<const unsigned char*>(input.data()),
                           input.size()) == 1) {
            signature.resize(size);
            if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &size,
                               reinterpret_cast<const unsigned char*>(input.data()),
                               input.size()) != 1) {
                size = 0;
            }
            signature.resize(size);
        }
        EVP_MD_CTX_free(ctx);
        if (signature.empty()) throw std::runtime_error("RS256 signing failed");
        return signature;
    }

    HttpResponse answer(const HttpRequest& request) const {
        auto error = [](int status, const std::string& message) {
            nlohmann::json body = {{"errors", {{{"code", "UNAUTHORIZED"}, {"message", message}}}}};
            return HttpResponse{status, {{"Content-Type", "application/json"}}, body.dump()};
        };
        if (request.path != "/token") return error(404, "no such endpoint");
        if (request.param("service") != token_service_name) return error(400, "unknown service");
        bool authenticated = false;
        std::string authorization = request.header("Authorization");
        if (!authorization.empty()) {
            if (authorization.rfind("Basic ", 0) != 0 ||
                base64_decode(authorization.substr(6)) != user + ":" + password) {
                return error(401, "invalid username or password");
            }
            authenticated = true;
        }
        nlohmann::json access = nlohmann::json::array();
        auto scopes = request.query.find("scope");
        if (scopes != request.query.end()) {
            for (const auto& scope : scopes->second) {
                auto first = scope.find(':');
                auto last = scope.rfind(':');
                if (first == std::string::npos || first == last) continue;
                nlohmann::json actions = nlohmann::json::array();
                std::stringstream wanted(scope.substr(last + 1));
                std::string action;
                while (std::getline(wanted, action, ',')) {
                    if (action == "pull" ||
                        (authenticated && (action == "push" || action == "delete"))) {
                        actions.push_back(action);
                    }
                }
                access.push_back({{"type", scope.substr(0, first)},
                                  {"name", scope.substr(first + 1, last - first - 1)},
                                  {"actions", actions}});
            }
        }
        auto now = static_cast<long long>(std::time(nullptr));
        unsigned char random[16];
        RAND_bytes(random, sizeof random);
        nlohmann::json header = {{"typ", "JWT"}, {"alg", "RS256"}, {"kid", key_id}};
        nlohmann::json claims = {{"iss", token_issuer},
                                 {"sub", authenticated ? user : ""},
                                 {"aud", token_service_name},
                                 {"exp", now + 300},
                                 {"nbf", now - 10},
                                 {"iat", now},
                                 {"jti", base64(random, sizeof random, true)},
                                 {"access", access}};
        std::string input = base64(header.dump(), true) + "." + base64(claims.dump(), true);
        std::string token = input + "." + base64(sign(input), true);
        nlohmann::json body = {{"token", token}, {"expires_in", 300}};
        return {200, {{"Content-Type", "application/json"}}, body.dump()};
    }
};

std::string fod_registry_binary() {
    if (const char* prefix = std::getenv("FOD_TEST_PREFIX"); prefix && *prefix) {
        return std::string(prefix) + "/libexec/fod/fod-registry";
    }
    return FOD_BUILD_REGISTRY_HELPER;
}

std::string registry_unavailable_reason() {
    std::string missing;
    for (const char* program : {"docker-registry", "skopeo", "htpasswd", "openssl"}) {
        if (find_program(program).empty())
            missing += std::string(missing.empty() ? "" : ", ") + program;
    }
    if (missing.empty()) return "";
    return "not installed: " + missing + " (tests/env/install-packages)";
}

bool require_registry() {
    std::string why = registry_unavailable_reason();
    return require_or_skip(why.empty(), "loopback registry: " + why);
}

TestRegistry::TestRegistry(RegistryAuth auth, bool tls) : m_auth(auth), m_tls(tls) {
    std::string program = find_program("docker-registry");
    if (program.empty()) throw std::runtime_error("docker-registry is not installed");
    std::string config = "version: 0.1\n"
                         "log: { level: info, accesslog: { disabled: false } }\n"
                         "storage: { filesystem: { rootdirectory: " +
                         m_dir.path() +
                         "/storage }, "
                         "delete: { enabled: true } }\n";
    if (auth == RegistryAuth::basic) {
        auto made = run({"htpasswd", "-Bbn", user(), password()});
        if (made.status != 0) throw std::runtime_error("htpasswd failed: " + made.err);
        m_dir.write("htpasswd", made.out);
        config += "auth: { htpasswd: { realm: fod-test, path: " + m_dir.path() + "/htpasswd } }\n";
    } else if (auth == RegistryAuth::token) {
        m_token = std::make_unique<TokenService>(m_dir, user(), password());
        config += "auth: { token: { realm: \"" + m_token->realm() +
                  "\", service: " + token_service_name + ", issuer: " + token_issuer +
                  ", rootcertbundle: " + m_token->cert_path + " } }\n";
    }
    std::string tls_config;
    if (tls) {
        // A self-signed certificate for 127.0.0.1: its own CA.
        auto made = run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                         m_dir.path() + "/tls.key", "-out", ca_cert_path(), "-days", "2", "-subj",
                         "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"});
        if (made.status != 0) throw std::runtime_error("openssl req (TLS) failed: " + made.err);
        tls_config =
            ", tls: { certificate: " + ca_cert_path() + ", key: " + m_dir.path() + "/tls.key }";
    }
    // A port picked now may be taken by the time the registry binds it: try a few.
    for (int attempt = 0; attempt < 5; ++attempt) {
        m_port = free_port();
        std::string config_path =
            m_dir.write("config.yml", config + "http: { addr: " + host() +
                                          ", secret: fod-test-secret" + tls_config + " }\n");
        std::string log_path = m_dir.path() + "/registry.log";
        pid_t pid = fork();
        if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
        if (pid == 0) {
            // Only async-signal-safe calls between fork and exec (the token
            // service has a thread).
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
            int null = ::open("/dev/null", O_RDONLY);
            if (log >= 0 && null >= 0) {
                dup2(null, 0);
                dup2(log, 1);
                dup2(log, 2);
            }
            sigset_t none;
            sigemptyset(&none);
            sigprocmask(SIG_SETMASK, &none, nullptr);
            const char* argv[] = {program.c_str(), "serve", config_path.c_str(), nullptr};
            execv(program.c_str(), const_cast<char* const*>(argv));
            _exit(127);
        }
        m_pid = pid;
        bool exited = false;
        const bool up = poll_until(
            [&] {
                exited = waitpid(m_pid, nullptr, WNOHANG) == m_pid;
                return exited || tcp_answers(m_port);
            },
            15, std::chrono::milliseconds(20));
        if (exited) m_pid = -1;
        if (up && !exited) return;
        if (!exited) {
            kill(m_pid, SIGKILL);
            waitpid(m_pid, nullptr, 0);
            m_pid = -1;
            throw std::runtime_error("docker-registry did not answer on " + host() +
                                     " within 15 s:\n" + log());
        }
        if (log().find("address already in use") == std::string::npos) {
            throw std::runtime_error("docker-registry exited at start:\n" + log());
        }
    }
    throw std::runtime_error("docker-registry found no free port:\n" + log());
}

TestRegistry::~TestRegistry() {
    if (m_pid > 0) {
        kill(m_pid, SIGTERM);
        if (poll_until([&] { return waitpid(m_pid, nullptr, WNOHANG) == m_pid; }, 5,
                       std::chrono::milliseconds(20)))
            m_pid = -1;
        if (m_pid > 0) {
            kill(m_pid, SIGKILL);
            waitpid(m_pid, nullptr, 0);
        }
    }
}

std::string TestRegistry::host() const { return "127.0.0.1:" + std::to_string(m_port); }

std::string TestRegistry::log() const { return read_file(m_dir.path() + "/registry.log"); }

std::vector<HttpRequest> TestRegistry::token_requests() const {
    return m_token ? m_token->listener->requests() : std::vector<HttpRequest>{};
}

void TestRegistry::push(const std::string& local_image, const std::string& repo_tag,
                        const std::string& format) const {
    std::vector<std::string> argv = {"skopeo", "copy", "--quiet", "--dest-tls-verify=false"};
    if (m_auth != RegistryAuth::none) argv.push_back("--dest-creds=" + user() + ":" + password());
    if (!format.empty()) argv.insert(argv.end(), {"--format", format});
    argv.push_back("containers-storage:" + local_image);
    argv.push_back("docker://" + host() + "/" + repo_tag);
    auto pushed = run(argv, {.timeout_s = 120});
    if (pushed.status != 0) {
        throw std::runtime_error("skopeo copy " + local_image + " to " + host() + "/" + repo_tag +
                                 " failed: " + pushed.err);
    }
}

std::string TestRegistry::raw_manifest(const std::string& repo_tag) const {
    std::vector<std::string> argv = {"skopeo", "inspect", "--raw", "--tls-verify=false"};
    if (m_auth != RegistryAuth::none) argv.push_back("--creds=" + user() + ":" + password());
    argv.push_back("docker://" + host() + "/" + repo_tag);
    auto inspected = run(argv, {.timeout_s = 60});
    if (inspected.status != 0)
        throw std::runtime_error("skopeo inspect --raw failed: " + inspected.err);
    return inspected.out;
}

std::string TestRegistry::skopeo_digest(const std::string& repo_tag) const {
    std::vector<std::string> argv = {"skopeo", "inspect", "--tls-verify=false"};
    if (m_auth != RegistryAuth::none) argv.push_back("--creds=" + user() + ":" + password());
    argv.push_back("docker://" + host() + "/" + repo_tag);
    auto inspected = run(argv, {.timeout_s = 60});
    if (inspected.status != 0) throw std::runtime_error("skopeo inspect failed: " + inspected.err);
    return nlohmann::json::parse(inspected.out).at("Digest").get<std::string>();
}

std::string TestRegistry::authorization(const std::string& repo) const {
    if (m_auth == RegistryAuth::none) return "";
    const std::string basic = "Basic " + base64(user() + ":" + password(), false);
    if (m_auth == RegistryAuth::basic) return basic;
    auto answer = http_request(m_token->listener->port(), "GET",
                               "/token?service=" + std::string(token_service_name) +
                                   "&scope=repository:" + repo + ":pull,push",
                               {{"Authorization", basic}});
    if (answer.status != 200) {
        throw std::runtime_error("token for " + repo + ": HTTP " + std::to_string(answer.status) +
                                 " " + answer.body);
    }
    return "Bearer " + nlohmann::json::parse(answer.body).at("token").get<std::string>();
}

namespace {

// The value of a response header (names compared without case), or "".
std::string header_of(const HttpResponse& response, const std::string& name) {
    auto lower = [](std::string text) {
        for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return text;
    };
    for (const auto& [key, value] : response.headers)
        if (lower(key) == lower(name)) return value;
    return "";
}

// "sha256:<hex>" of data.
std::string sha256_digest(const std::string& data) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
    static const char* hex = "0123456789abcdef";
    std::string out = "sha256:";
    for (unsigned char byte : digest) {
        out += hex[byte >> 4];
        out += hex[byte & 15];
    }
    return out;
}

}  // namespace

std::string TestRegistry::put_manifest(const std::string& repo, const std::string& reference,
                                       const std::string& media_type,
                                       const std::string& body) const {
    if (m_tls) throw std::logic_error("put_manifest: no TLS only");
    std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", media_type}};
    if (m_auth != RegistryAuth::none) headers.emplace_back("Authorization", authorization(repo));
    auto response =
        http_request(m_port, "PUT", "/v2/" + repo + "/manifests/" + reference, headers, body);
    if (response.status != 201) {
        throw std::runtime_error("PUT manifest " + repo + ":" + reference + ": HTTP " +
                                 std::to_string(response.status) + " " + response.body);
    }
    std::string digest = header_of(response, "docker-content-digest");
    if (digest.empty())
        throw std::runtime_error("PUT manifest: no Docker-Content-Digest in the answer");
    return digest;
}

std::string TestRegistry::put_blob(const std::string& repo, const std::string& data) const {
    if (m_tls) throw std::logic_error("put_blob: no TLS only");
    std::vector<std::pair<std::string, std::string>> headers;
    if (m_auth != RegistryAuth::none) headers.emplace_back("Authorization", authorization(repo));
    auto started = http_request(m_port, "POST", "/v2/" + repo + "/blobs/uploads/", headers);
    if (started.status != 202) {
        throw std::runtime_error("POST blob upload to " + repo + ": HTTP " +
                                 std::to_string(started.status) + " " + started.body);
    }
    // The Location may be absolute (http://HOST/v2/...) or a path.
    std::string location = header_of(started, "location");
    if (location.rfind("http://", 0) == 0 || location.rfind("https://", 0) == 0) {
        auto path = location.find('/', location.find("//") + 2);
        location = path == std::string::npos ? "/" : location.substr(path);
    }
    if (location.empty() || location[0] != '/')
        throw std::runtime_error("POST blob upload: no usable Location: " + location);
    const std::string digest = sha256_digest(data);
    const std::string target = location + (location.find('?') == std::string::npos ? "?" : "&") +
                               "digest=sha256%3A" + digest.substr(7);
    headers.emplace_back("Content-Type", "application/octet-stream");
    auto put = http_request(m_port, "PUT", target, headers, data);
    if (put.status != 201) {
        throw std::runtime_error("PUT blob " + digest + " to " + repo + ": HTTP " +
                                 std::to_string(put.status) + " " + put.body);
    }
    return digest;
}

}  // namespace fod::test
