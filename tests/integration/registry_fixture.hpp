// A real OCI registry on loopback for the registry tests: Debian's
// docker-registry (the distribution v2 registry) with a temporary storage
// directory, optionally behind htpasswd Basic auth or token auth with a token
// service run by the test itself.
//
//     TEST_CASE("...", "[integration][registry]") {
//         FOD_REQUIRE_REGISTRY();
//         fod::test::TestRegistry registry;            // or (RegistryAuth::basic)
//         registry.push(fod::test::busybox_image, "tools/bb:1");
//         ... probe registry.host() + "/tools/bb:1" ...
//     }
//
// A missing docker-registry, skopeo or htpasswd FAILs under CI=true (like
// FOD_REQUIRE_ENGINE) and skips elsewhere; push() needs rootful podman's
// test images (tests/env/build-images).
#pragma once

#include "harness.hpp"
#include "http_listener.hpp"

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace fod::test {

enum class RegistryAuth {
    none,   // anyone may pull and push
    basic,  // htpasswd: user() and password() may pull and push, nobody else anything
    token,  // token auth: the token service gives anonymous callers pull, user() pull and push
};

class TestRegistry {
public:
    // Starts the registry and waits until it answers; throws if it does not.
    // tls: HTTPS with a self-signed certificate for 127.0.0.1 (ca_cert_path()).
    explicit TestRegistry(RegistryAuth auth = RegistryAuth::none, bool tls = false);
    ~TestRegistry();  // stops the registry (and the token service)
    TestRegistry(const TestRegistry&) = delete;
    TestRegistry& operator=(const TestRegistry&) = delete;

    // "127.0.0.1:PORT".
    std::string host() const;
    int port() const { return m_port; }
    RegistryAuth auth() const { return m_auth; }
    // The PEM certificate the registry serves with tls (its own CA).
    std::string ca_cert_path() const { return m_dir.path() + "/tls.crt"; }
    // The account of basic and token auth.
    std::string user() const { return "fod-tester"; }
    std::string password() const { return "s3cret-pass"; }

    // Pushes a local image of rootful podman (containers-storage) as REPO:TAG
    // with skopeo, with the credentials when auth is on. format: "" keeps the
    // image's manifest type, "v2s2" makes it a Docker schema 2 manifest, "oci"
    // an OCI one. Throws with skopeo's message on failure.
    void push(const std::string& local_image, const std::string& repo_tag,
              const std::string& format = "") const;
    // The digest skopeo reports for REPO:TAG (skopeo inspect ... | Digest).
    std::string skopeo_digest(const std::string& repo_tag) const;
    // The raw manifest (skopeo inspect --raw).
    std::string raw_manifest(const std::string& repo_tag) const;
    // PUTs a manifest or index through the registry API (no TLS; with auth
    // as authorization() gives it); returns the digest the registry reports.
    // Throws on an error status.
    std::string put_manifest(const std::string& repo, const std::string& reference,
                             const std::string& media_type, const std::string& body) const;
    // Uploads `data` as a blob of REPO in one piece (POST /v2/REPO/blobs/uploads/,
    // then PUT to its Location with ?digest=; no TLS, with auth as
    // authorization() gives it); returns its digest "sha256:<hex>". Throws on
    // an error status.
    std::string put_blob(const std::string& repo, const std::string& data) const;
    // The Authorization header that lets the test push to REPO: "" without
    // auth, Basic with user() and password(), or (token) "Bearer " and a token
    // with pull and push on REPO that the token service gave user().
    std::string authorization(const std::string& repo) const;

    // Requests the token service has answered (token auth only).
    std::vector<HttpRequest> token_requests() const;
    // The registry's log so far (for failure messages).
    std::string log() const;

private:
    RegistryAuth m_auth;
    bool m_tls = false;
    TempDir m_dir;
    int m_port = 0;
    pid_t m_pid = -1;
    struct TokenService;
    std::unique_ptr<TokenService> m_token;
};

// $FOD_TEST_PREFIX/libexec/fod/fod-registry when FOD_TEST_PREFIX is set, else the
// build-tree binary.
std::string fod_registry_binary();

// Empty when docker-registry, skopeo and htpasswd are installed, else what is missing.
std::string registry_unavailable_reason();
// true: go on; false: skipped (WARN) outside CI; FAIL under CI=true.
[[nodiscard]] bool require_registry();

}  // namespace fod::test

#define FOD_REQUIRE_REGISTRY()                                                                     \
    do {                                                                                           \
        if (!::fod::test::require_registry()) {                                                    \
            return;                                                                                \
        }                                                                                          \
    } while (0)
