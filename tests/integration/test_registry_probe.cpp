// fod-registry probe against a real registry on loopback (docker-registry,
// images pushed with skopeo) and against a small HTTP listener for the
// failures a real registry will not produce on demand.
#include "files.hpp"
#include "harness.hpp"
#include "http_listener.hpp"
#include "registry_fixture.hpp"
// The exit statuses fod-registry shares with fod (header-only).
#include "../../hook/src/registry/helper_proto.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

using namespace fod::test;
using nlohmann::json;

namespace {

namespace status {
using fod::registry::helper::Status;
constexpr int not_found = static_cast<int>(Status::not_found);
constexpr int usage = static_cast<int>(Status::usage);
constexpr int unreachable = static_cast<int>(Status::unreachable);
constexpr int failed = static_cast<int>(Status::failed);
constexpr int malformed = static_cast<int>(Status::malformed);
}  // namespace status

constexpr const char* oci_index = "application/vnd.oci.image.index.v1+json";
constexpr const char* oci_manifest = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* docker_list = "application/vnd.docker.distribution.manifest.list.v2+json";
constexpr const char* docker_manifest = "application/vnd.docker.distribution.manifest.v2+json";

struct Probe {
    int status = -1;
    json out;  // the JSON line, or null
    std::string raw, err;
    double seconds = 0;
};

// Runs fod-registry probe with credentials only from `home` (HOME and
// XDG_RUNTIME_DIR point there), never the machine's own.
Probe probe(const std::vector<std::string>& args, const TempDir& home,
            std::map<std::string, std::string> env = {}, double timeout_s = 30) {
    std::vector<std::string> argv = {fod_registry_binary(), "probe"};
    argv.insert(argv.end(), args.begin(), args.end());
    env.emplace("HOME", home.path());
    env.emplace("XDG_RUNTIME_DIR", home.path());
    auto start = std::chrono::steady_clock::now();
    auto result = run(argv, {.env_set = env,
                             .env_unset = {"REGISTRY_AUTH_FILE", "DOCKER_CONFIG", "http_proxy",
                                           "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"},
                             .timeout_s = timeout_s});
    Probe p;
    p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    p.status = result.status;
    p.raw = result.out;
    p.err = result.err;
    p.out = json::parse(result.out, nullptr, false);
    INFO("fod-registry " << args.back() << ": status " << p.status << " stdout " << p.raw
                         << " stderr " << p.err);
    // Every outcome is exactly one JSON object on one line.
    CHECK(p.out.is_object());
    CHECK(std::count(result.out.begin(), result.out.end(), '\n') == 1);
    return p;
}

std::string error_of(const Probe& p) {
    return p.out.is_object() && p.out.contains("error") ? p.out["error"].get<std::string>() : "";
}

std::int64_t layer_sum(const std::string& raw_manifest) {
    std::int64_t sum = 0;
    const json manifest = json::parse(raw_manifest);
    for (const auto& layer : manifest.at("layers")) sum += layer.at("size").get<std::int64_t>();
    return sum;
}

std::string auth_json(const std::string& key, const std::string& user,
                      const std::string& password) {
    std::string plain = user + ":" + password;
    auto run_b64 = run({"base64", "-w0"}, {.stdin_data = plain});
    return json{{"auths", {{key, {{"auth", run_b64.out}}}}}}.dump();
}

}  // namespace

TEST_CASE("fod-registry probe reports the digest and download size of a tag",
          "[integration][registry]") {
    FOD_REQUIRE_REGISTRY();
    FOD_REQUIRE_ENGINE(Engine::podman);
    TestRegistry registry;
    TempDir home;
    registry.push(busybox_image, "tools/bb:1");
    registry.push(busybox_image, "tools/bb-docker:1", "v2s2");
    const std::string insecure = "--insecure=" + registry.host();

    SECTION("an OCI manifest: digest as skopeo reports it, size the sum of the layers") {
        auto p = probe({insecure, registry.host() + "/tools/bb:1"}, home);
        REQUIRE(p.status == 0);
        CHECK(p.out["reference"] == registry.host() + "/tools/bb:1");
        CHECK(p.out["digest"] == registry.skopeo_digest("tools/bb:1"));
        CHECK(p.out["manifest_digest"] == p.out["digest"]);
        CHECK(p.out["size"] == layer_sum(registry.raw_manifest("tools/bb:1")));
        CHECK(p.out["size"].get<std::int64_t>() > 0);
        CHECK(p.out["media_type"] == oci_manifest);
        CHECK(p.out["platform"] == "linux/amd64");
    }
    SECTION("a Docker schema 2 manifest") {
        auto p = probe({insecure, registry.host() + "/tools/bb-docker:1"}, home);
        REQUIRE(p.status == 0);
        CHECK(p.out["digest"] == registry.skopeo_digest("tools/bb-docker:1"));
        CHECK(p.out["size"] == layer_sum(registry.raw_manifest("tools/bb-docker:1")));
        CHECK(p.out["media_type"] == docker_manifest);
    }
    SECTION("by digest, with and without the tag") {
        std::string digest = registry.skopeo_digest("tools/bb:1");
        auto p = probe({insecure, registry.host() + "/tools/bb@" + digest}, home);
        REQUIRE(p.status == 0);
        CHECK(p.out["digest"] == digest);
        CHECK(p.out["reference"] == registry.host() + "/tools/bb@" + digest);
        auto tagged = probe({insecure, registry.host() + "/tools/bb:1@" + digest}, home);
        CHECK(tagged.status == 0);
    }
    SECTION("a tag the repository lacks is not found (exit 1)") {
        auto p = probe({insecure, registry.host() + "/tools/bb:2"}, home);
        CHECK(p.status == 1);
        CHECK_THAT(error_of(p), Catch::Contains("tools/bb:2") && Catch::Contains("not found"));
    }
    SECTION("a repository the registry lacks is not found (exit 1)") {
        auto p = probe({insecure, registry.host() + "/tools/nothing-here"}, home);
        CHECK(p.status == 1);
        CHECK_THAT(error_of(p), Catch::Contains("tools/nothing-here:latest"));
    }
    SECTION("a digest the repository lacks is not found (exit 1)") {
        auto p =
            probe({insecure, registry.host() + "/tools/bb@sha256:" + std::string(64, '0')}, home);
        CHECK(p.status == 1);
    }
    SECTION("without --insecure for it, the registry is spoken to over TLS only, and that fails") {
        auto p = probe({"--insecure=127.0.0.1:1", registry.host() + "/tools/bb:1"}, home);
        CHECK(p.status == status::failed);
        CHECK_THAT(error_of(p), Catch::Contains("TLS"));
    }
}

TEST_CASE("fod-registry probe resolves an index to this platform's manifest",
          "[integration][registry]") {
    FOD_REQUIRE_REGISTRY();
    FOD_REQUIRE_ENGINE(Engine::podman);
    TestRegistry registry;
    TempDir home;
    const std::string insecure = "--insecure=" + registry.host();
    // Two images in one repository, then an index naming them for two platforms.
    registry.push(busybox_image, "multi/tool:bb", "oci");
    registry.push(scratch_image, "multi/tool:scratch", "oci");
    std::string bb_raw = registry.raw_manifest("multi/tool:bb");
    std::string scratch_raw = registry.raw_manifest("multi/tool:scratch");
    std::string bb_digest = registry.skopeo_digest("multi/tool:bb");
    std::string scratch_digest = registry.skopeo_digest("multi/tool:scratch");
    REQUIRE(bb_digest != scratch_digest);
    auto entry = [](const std::string& type, const std::string& digest, size_t size,
                    json platform) {
        return json{
            {"mediaType", type}, {"digest", digest}, {"size", size}, {"platform", platform}};
    };
    json index = {{"schemaVersion", 2},
                  {"mediaType", oci_index},
                  {"manifests",
                   {entry(oci_manifest, scratch_digest, scratch_raw.size(),
                          {{"os", "linux"}, {"architecture", "arm64"}, {"variant", "v8"}}),
                    entry(oci_manifest, bb_digest, bb_raw.size(),
                          {{"os", "linux"}, {"architecture", "amd64"}}),
                    entry(oci_manifest, scratch_digest, scratch_raw.size(),
                          {{"os", "linux"}, {"architecture", "arm"}, {"variant", "v7"}})}}};
    std::string index_digest =
        registry.put_manifest("multi/tool", "latest", oci_index, index.dump());
    REQUIRE(registry.skopeo_digest("multi/tool:latest") == index_digest);

    SECTION("this machine (linux/amd64): the index digest and the amd64 manifest") {
        auto p = probe({insecure, registry.host() + "/multi/tool"}, home);
        REQUIRE(p.status == 0);
        CHECK(p.out["digest"] == index_digest);
        CHECK(p.out["media_type"] == oci_index);
        CHECK(p.out["manifest_digest"] == bb_digest);
        CHECK(p.out["size"] == layer_sum(bb_raw));
        CHECK(p.out["platform"] == "linux/amd64");
    }
    SECTION("--platform picks another entry, arm64 without a variant is v8") {
        for (std::string platform : {"linux/arm64", "linux/arm64/v8", "linux/arm/v7"}) {
            auto p =
                probe({insecure, "--platform", platform, registry.host() + "/multi/tool"}, home);
            REQUIRE(p.status == 0);
            CHECK(p.out["digest"] == index_digest);
            CHECK(p.out["manifest_digest"] == scratch_digest);
            CHECK(p.out["size"] == layer_sum(scratch_raw));
            CHECK(p.out["platform"] == platform);
        }
    }
    SECTION("a platform the index lacks is not found (exit 1) and the message lists what it has") {
        auto p =
            probe({insecure, "--platform", "linux/s390x", registry.host() + "/multi/tool"}, home);
        CHECK(p.status == 1);
        CHECK_THAT(error_of(p), Catch::Contains("linux/s390x") &&
                                    Catch::Contains("linux/arm64/v8") &&
                                    Catch::Contains("linux/amd64"));
    }
    SECTION("a Docker manifest list of Docker manifests") {
        registry.push(busybox_image, "multi/docker:bb", "v2s2");
        registry.push(scratch_image, "multi/docker:scratch", "v2s2");
        std::string bb = registry.raw_manifest("multi/docker:bb");
        std::string scratch = registry.raw_manifest("multi/docker:scratch");
        json list = {{"schemaVersion", 2},
                     {"mediaType", docker_list},
                     {"manifests",
                      {entry(docker_manifest, registry.skopeo_digest("multi/docker:scratch"),
                             scratch.size(), {{"os", "linux"}, {"architecture", "arm64"}}),
                       entry(docker_manifest, registry.skopeo_digest("multi/docker:bb"), bb.size(),
                             {{"os", "linux"}, {"architecture", "amd64"}})}}};
        std::string list_digest =
            registry.put_manifest("multi/docker", "2", docker_list, list.dump());
        auto p = probe({insecure, registry.host() + "/multi/docker:2"}, home);
        REQUIRE(p.status == 0);
        CHECK(p.out["digest"] == list_digest);
        CHECK(p.out["media_type"] == docker_list);
        CHECK(p.out["manifest_digest"] == registry.skopeo_digest("multi/docker:bb"));
        CHECK(p.out["size"] == layer_sum(bb));
    }
}

TEST_CASE("fod-registry probe authenticates with Basic auth from the engines' credential files",
          "[integration][registry]") {
    FOD_REQUIRE_REGISTRY();
    FOD_REQUIRE_ENGINE(Engine::podman);
    TestRegistry registry(RegistryAuth::basic);
    TempDir home;
    registry.push(busybox_image, "private/bb:1");
    const std::string ref = registry.host() + "/private/bb:1";
    const std::string insecure = "--insecure=" + registry.host();
    const std::string digest = registry.skopeo_digest("private/bb:1");

    SECTION("$REGISTRY_AUTH_FILE") {
        std::string file = home.write(
            "auth.json", auth_json(registry.host(), registry.user(), registry.password()));
        auto p = probe({insecure, ref}, home, {{"REGISTRY_AUTH_FILE", file}});
        REQUIRE(p.status == 0);
        CHECK(p.out["digest"] == digest);
        // Never a secret in the output.
        CHECK_THAT(p.raw + p.err, !Catch::Contains(registry.password()));
    }
    SECTION("$XDG_RUNTIME_DIR/containers/auth.json (podman login)") {
        home.write("containers/auth.json",
                   auth_json(registry.host(), registry.user(), registry.password()));
        auto p = probe({insecure, ref}, home);
        REQUIRE(p.status == 0);
        CHECK(p.out["digest"] == digest);
    }
    SECTION("~/.docker/config.json with an http:// key (docker login)") {
        home.write(".docker/config.json",
                   auth_json("http://" + registry.host(), registry.user(), registry.password()));
        auto p = probe({insecure, ref}, home);
        REQUIRE(p.status == 0);
        CHECK(p.out["digest"] == digest);
    }
    SECTION("without credentials: failed, saying how to log in") {
        auto p = probe({insecure, ref}, home);
        CHECK(p.status == status::failed);
        CHECK_THAT(error_of(p), Catch::Contains("podman login"));
    }
    SECTION("wrong credentials: failed, access denied with HTTP 401") {
        home.write("containers/auth.json",
                   auth_json(registry.host(), registry.user(), "wrong-password"));
        auto p = probe({insecure, ref}, home);
        CHECK(p.status == status::failed);
        CHECK_THAT(error_of(p), Catch::Contains("401") && Catch::Contains("denied"));
        CHECK_THAT(p.raw + p.err, !Catch::Contains("wrong-password"));
    }
}

TEST_CASE("fod-registry probe runs the credential helpers of credHelpers and credsStore",
          "[integration][registry]") {
    FOD_REQUIRE_REGISTRY();
    FOD_REQUIRE_ENGINE(Engine::podman);
    TestRegistry registry(RegistryAuth::basic);
    TempDir home;
    registry.push(busybox_image, "private/bb:1");
    const std::string ref = registry.host() + "/private/bb:1";
    const std::string insecure = "--insecure=" + registry.host();
    const std::string digest = registry.skopeo_digest("private/bb:1");
    // A real helper: docker-credential-fodtest on a PATH directory of the test. It keeps
    // its argv and stdin, and answers as $HOME/helper-mode says.
    home.write("bin/docker-credential-fodtest",
               "#!/bin/sh\n"
               "printf '%s ' \"$@\" > \"$HOME/helper-argv\"\n"
               "cat > \"$HOME/helper-stdin\"\n"
               "case $(cat \"$HOME/helper-mode\") in\n"
               "  good) printf '{\"ServerURL\":\"%s\",\"Username\":\"" +
                   registry.user() + "\",\"Secret\":\"" + registry.password() +
                   "\"}\\n' \"$(cat \"$HOME/helper-stdin\")\" ;;\n"
                   "  wrong) printf '{\"ServerURL\":\"x\",\"Username\":\"" +
                   registry.user() +
                   "\",\"Secret\":\"wrong-password\"}\\n' ;;\n"
                   "  none) echo 'credentials not found in native keychain'; exit 1 ;;\n"
                   "  broken) echo 'the keyring is locked' >&2; exit 2 ;;\n"
                   "esac\n",
               0755);
    const std::string path = home.path() + "/bin:/usr/bin:/bin";
    auto mode = [&](const std::string& m) { home.write("helper-mode", m + "\n"); };

    SECTION("credHelpers in containers auth.json: the helper is asked about the host") {
        mode("good");
        home.write("containers/auth.json",
                   json{{"credHelpers", {{registry.host(), "fodtest"}}}}.dump());
        auto p = probe({insecure, ref}, home, {{"PATH", path}});
        REQUIRE(p.status == 0);
        CHECK(p.out["digest"] == digest);
        CHECK(read_file(home.path() + "/helper-argv") == "get ");
        CHECK(read_file(home.path() + "/helper-stdin") == registry.host());
        CHECK_THAT(p.raw + p.err, !Catch::Contains(registry.password()));
    }
    SECTION("credsStore in ~/.docker/config.json") {
        mode("good");
        home.write(".docker/config.json", R"({"credsStore":"fodtest","auths":{}})");
        auto p = probe({insecure, ref}, home, {{"PATH", path}});
        REQUIRE(p.status == 0);
        CHECK(p.out["digest"] == digest);
    }
    SECTION("credHelpers beats the auths of a later file; its wrong password is named as its") {
        mode("wrong");
        home.write("containers/auth.json",
                   json{{"credHelpers", {{registry.host(), "fodtest"}}}}.dump());
        home.write(".docker/config.json",
                   auth_json(registry.host(), registry.user(), registry.password()));
        auto p = probe({insecure, ref}, home, {{"PATH", path}});
        CHECK(p.status == status::failed);
        CHECK_THAT(error_of(p),
                   Catch::Contains("401") &&
                       Catch::Contains("the credentials from docker-credential-fodtest"));
        CHECK_THAT(p.raw + p.err, !Catch::Contains("wrong-password"));
    }
    SECTION("a helper without credentials: the next file's auths") {
        mode("none");
        home.write("containers/auth.json",
                   json{{"credHelpers", {{registry.host(), "fodtest"}}}}.dump());
        home.write(".docker/config.json",
                   auth_json(registry.host(), registry.user(), registry.password()));
        auto p = probe({insecure, ref}, home, {{"PATH", path}});
        REQUIRE(p.status == 0);
        CHECK(p.out["digest"] == digest);
    }
    SECTION("a failing helper: failed, naming the helper and its message") {
        mode("broken");
        home.write(".docker/config.json", R"({"credsStore":"fodtest"})");
        auto p = probe({insecure, ref}, home, {{"PATH", path}});
        CHECK(p.status == status::failed);
        CHECK_THAT(error_of(p), Catch::Contains("podman login") &&
                                    Catch::Contains("docker-credential-fodtest failed (status 2): "
                                                    "the keyring is locked"));
    }
    SECTION("a helper missing from PATH, or a name that is not a program name: said, not run") {
        home.write(".docker/config.json", R"({"credsStore":"fodtest"})");
        auto p = probe({insecure, ref}, home, {{"PATH", "/usr/bin:/bin"}});
        CHECK(p.status == status::failed);
        CHECK_THAT(error_of(p), Catch::Contains("docker-credential-fodtest is not in $PATH"));
        home.write(".docker/config.json", R"({"credsStore":"../bin/docker-credential-fodtest"})");
        p = probe({insecure, ref}, home, {{"PATH", path}});
        CHECK(p.status == status::failed);
        CHECK_THAT(error_of(p), Catch::Contains("is not valid"));
    }
}

TEST_CASE("fod-registry probe follows the bearer-token flow of a token-auth registry",
          "[integration][registry]") {
    FOD_REQUIRE_REGISTRY();
    FOD_REQUIRE_ENGINE(Engine::podman);
    TestRegistry registry(RegistryAuth::token);
    TempDir home;
    registry.push(busybox_image, "team/bb:1");
    const std::string ref = registry.host() + "/team/bb:1";
    const std::string insecure = "--insecure=" + registry.host();
    const std::string digest = registry.skopeo_digest("team/bb:1");
    const size_t before = registry.token_requests().size();

    SECTION("anonymously: a pull token for the repository, then the manifest") {
        auto p = probe({insecure, ref}, home);
        REQUIRE(p.status == 0);
        CHECK(p.out["digest"] == digest);
        auto requests = registry.token_requests();
        REQUIRE(requests.size() == before + 1);
        CHECK(requests.back().param("scope") == "repository:team/bb:pull");
        CHECK(requests.back().param("service") == "fod-test-registry");
        CHECK(requests.back().header("Authorization").empty());
    }
    SECTION("with credentials: they go to the token service as Basic auth") {
        home.write("containers/auth.json",
                   auth_json(registry.host(), registry.user(), registry.password()));
        auto p = probe({insecure, ref}, home);
        REQUIRE(p.status == 0);
        CHECK(p.out["digest"] == digest);
        auto requests = registry.token_requests();
        REQUIRE(requests.size() == before + 1);
        CHECK(requests.back().header("Authorization").rfind("Basic ", 0) == 0);
    }
    SECTION("wrong credentials: the token service's 401 ends the probe, failed") {
        home.write("containers/auth.json", auth_json(registry.host(), registry.user(), "nope"));
        auto p = probe({insecure, ref}, home);
        CHECK(p.status == status::failed);
        CHECK_THAT(error_of(p), Catch::Contains("token service") && Catch::Contains("401") &&
                                    Catch::Contains("invalid username or password"));
    }
    SECTION("a missing tag behind token auth is still not found") {
        auto p = probe({insecure, registry.host() + "/team/bb:404"}, home);
        CHECK(p.status == 1);
    }
}

TEST_CASE("fod-registry probe turns failures into one line: unreachable, failed or malformed",
          "[integration][registry]") {
    TempDir home;
    SECTION("500 with a distribution errors body: the registry's message is shown") {
        HttpListener server([](const HttpRequest&) {
            return HttpResponse{
                500,
                {{"Content-Type", "application/json"}},
                R"({"errors":[{"code":"UNKNOWN","message":"storage backend on fire"}]})"};
        });
        auto p = probe({"--insecure", server.host(), server.host() + "/x/y:1"}, home);
        CHECK(p.status == status::failed);
        CHECK_THAT(error_of(p),
                   Catch::Contains("500") && Catch::Contains("storage backend on fire"));
    }
    SECTION("503 with a text body: its first line") {
        HttpListener server([](const HttpRequest&) {
            return HttpResponse{
                503, {{"Content-Type", "text/plain"}}, "down for maintenance\nsecond line"};
        });
        auto p = probe({"--insecure", server.host(), server.host() + "/x/y:1"}, home);
        CHECK(p.status == status::failed);
        CHECK_THAT(error_of(p), Catch::Contains("503") && Catch::Contains("down for maintenance") &&
                                    !Catch::Contains("second line"));
    }
    SECTION("malformed JSON for a manifest") {
        HttpListener server([](const HttpRequest&) {
            return HttpResponse{
                200, {{"Content-Type", oci_manifest}}, R"({"schemaVersion":2,"layers":[)"};
        });
        auto p = probe({"--insecure", server.host(), server.host() + "/x/y:1"}, home);
        CHECK(p.status == status::malformed);
        CHECK_THAT(error_of(p), Catch::Contains("the manifest of " + server.host() + "/x/y:1") &&
                                    Catch::Contains("not valid JSON"));
    }
    SECTION("a token service answering malformed JSON") {
        std::unique_ptr<HttpListener> server;
        server = std::make_unique<HttpListener>([&server](const HttpRequest& r) {
            if (r.path == "/token")
                return HttpResponse{200, {{"Content-Type", "application/json"}}, "{oops"};
            return HttpResponse{401,
                                {{"WWW-Authenticate", "Bearer realm=\"http://" + server->host() +
                                                          "/token\",service=\"s\""}},
                                "{}"};
        });
        auto p = probe({"--insecure", server->host(), server->host() + "/x/y:1"}, home);
        CHECK(p.status == status::malformed);
        CHECK_THAT(error_of(p), Catch::Contains("the token service's answer holds no token"));
    }
    SECTION("401 to an anonymous token, as Docker Hub answers for a missing repository: a miss") {
        std::unique_ptr<HttpListener> server;
        server = std::make_unique<HttpListener>([&server](const HttpRequest& r) {
            if (r.path.rfind("/token", 0) == 0)
                return HttpResponse{
                    200, {{"Content-Type", "application/json"}}, R"({"token":"t"})"};
            return HttpResponse{
                401,
                {{"Content-Type", "application/json"},
                 {"WWW-Authenticate",
                  "Bearer realm=\"http://" + server->host() + "/token\",service=\"s\""}},
                R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})"};
        });
        auto p = probe({"--insecure", server->host(), server->host() + "/x/y:1"}, home);
        CHECK(p.status == 1);
        CHECK_THAT(error_of(p), Catch::Contains("does not exist") && Catch::Contains("401"));
    }
    SECTION("a body whose digest is not the one the registry announces") {
        HttpListener server([](const HttpRequest&) {
            return HttpResponse{200,
                                {{"Content-Type", oci_manifest},
                                 {"Docker-Content-Digest", "sha256:" + std::string(64, 'a')}},
                                R"({"schemaVersion":2,"layers":[]})"};
        });
        auto p = probe({"--insecure", server.host(), server.host() + "/x/y:1"}, home);
        CHECK(p.status == status::malformed);
        CHECK_THAT(error_of(p), Catch::Contains("differs"));
    }
    SECTION("a redirect loop: too many redirects") {
        std::unique_ptr<HttpListener> server;
        server = std::make_unique<HttpListener>([&server](const HttpRequest& r) {
            return HttpResponse{302, {{"Location", "http://" + server->host() + r.path + "x"}}, ""};
        });
        auto p = probe({"--insecure", server->host(), server->host() + "/x/y:1"}, home);
        CHECK(p.status == status::failed);
        CHECK_THAT(error_of(p), Catch::Contains("too many redirects"));
        CHECK(server->requests().size() == 6);
    }
    SECTION("a listener that accepts and never answers: the probe ends at --timeout") {
        HttpListener server([](const HttpRequest&) { return HttpResponse{.never_answer = true}; });
        auto p = probe({"--insecure", server.host(), "--timeout", "1.5", server.host() + "/x/y:1"},
                       home, {}, 10);
        CHECK(p.status == status::unreachable);
        CHECK_THAT(error_of(p), Catch::Contains("timed out") && Catch::Contains("1.5 s"));
        CHECK(p.seconds < 4);  // ended by its own timeout, long before the harness' 10 s
    }
    SECTION("connection refused") {
        int port = free_port();
        std::string host = "127.0.0.1:" + std::to_string(port);
        auto p = probe({"--insecure", host, host + "/x/y:1"}, home);
        CHECK(p.status == status::unreachable);
        CHECK_THAT(error_of(p),
                   Catch::Contains("Connection refused") && Catch::Contains(host + "/x/y:1"));
    }
}

TEST_CASE("fod-registry probe follows redirects and keeps credentials to the first host",
          "[integration][registry]") {
    FOD_REQUIRE_REGISTRY();
    FOD_REQUIRE_ENGINE(Engine::podman);
    TempDir home;
    SECTION("a redirect to the real registry gives the same answer") {
        TestRegistry registry;
        registry.push(busybox_image, "moved/bb:1");
        HttpListener front([&registry](const HttpRequest& r) {
            return HttpResponse{307, {{"Location", "http://" + registry.host() + r.target}}, ""};
        });
        auto p = probe({"--insecure", front.host(), front.host() + "/moved/bb:1"}, home);
        REQUIRE(p.status == 0);
        CHECK(p.out["digest"] == registry.skopeo_digest("moved/bb:1"));
        CHECK(front.requests().size() == 1);
    }
    SECTION("the Authorization header is not sent to the host redirected to") {
        std::string manifest =
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
            R"("layers":[{"mediaType":"l","digest":"sha256:)" +
            std::string(64, 'b') + R"(","size":42}]})";
        HttpListener other([&manifest](const HttpRequest&) {
            return HttpResponse{200, {{"Content-Type", oci_manifest}}, manifest};
        });
        HttpListener front([&other](const HttpRequest& r) {
            if (r.header("Authorization").empty()) {
                return HttpResponse{401, {{"WWW-Authenticate", "Basic realm=\"front\""}}, ""};
            }
            return HttpResponse{302, {{"Location", "http://" + other.host() + r.target}}, ""};
        });
        home.write("containers/auth.json", auth_json(front.host(), "someone", "front-secret"));
        auto p =
            probe({"--insecure", front.host(), "--insecure", other.host(), front.host() + "/a/b:1"},
                  home);
        REQUIRE(p.status == 0);
        CHECK(p.out["size"] == 42);
        REQUIRE(front.requests().size() == 2);
        CHECK(front.requests().back().header("Authorization").rfind("Basic ", 0) == 0);
        REQUIRE(other.requests().size() == 1);
        CHECK(other.requests().front().header("Authorization").empty());
    }
}

namespace {

// Whether text holds a control character: C0 (line feed aside), DEL, C1 (U+0080..U+009F,
// or a raw byte 0x80..0x9F), or bytes that are not UTF-8.
bool has_control(const std::string& text) {
    for (size_t i = 0; i < text.size(); ++i) {
        auto c = static_cast<unsigned char>(text[i]);
        if ((c < 0x20 && c != '\n') || c == 0x7f) return true;
        if (c < 0x80) continue;
        size_t length = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
        if (length == 0 || i + length > text.size()) return true;
        for (size_t k = 1; k < length; ++k)
            if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return true;
        if (c == 0xc2 && static_cast<unsigned char>(text[i + 1]) <= 0x9f) return true;
        i += length - 1;
    }
    return false;
}

}  // namespace

TEST_CASE(
    "fod-registry probe prints no control character a registry sent, and reads REFERENCE after --",
    "[integration][registry]") {
    TempDir home;
    const std::string hostile = "\x1b]0;pwned\x07\x1b[2J\xc2\x9b"
                                "1m";
    SECTION(
        "a mediaType with escape sequences: malformed, and the message shows what is left of it") {
        HttpListener server([&](const HttpRequest&) {
            return HttpResponse{
                200,
                {{"Content-Type", oci_manifest}},
                json{{"schemaVersion", 2}, {"mediaType", hostile}, {"layers", json::array()}}
                    .dump()};
        });
        auto p = probe({"--insecure", server.host(), "--", server.host() + "/x/y:1"}, home);
        CHECK(p.status == status::malformed);
        CHECK_THAT(error_of(p), Catch::Contains("unsupported manifest type \"]0;pwned[2J1m\""));
        CHECK_FALSE(has_control(error_of(p)));
    }
    SECTION("an errors body with escape sequences: failed, the message without them") {
        HttpListener server([&](const HttpRequest&) {
            return HttpResponse{
                500,
                {{"Content-Type", "application/json"}},
                json{{"errors", {{{"code", "UNKNOWN"}, {"message", hostile + "down"}}}}}.dump()};
        });
        auto p = probe({"--insecure", server.host(), "--", server.host() + "/x/y:1"}, home);
        CHECK(p.status == status::failed);
        CHECK_THAT(error_of(p), Catch::Contains("]0;pwned") && Catch::Contains("down"));
        CHECK_FALSE(has_control(error_of(p)));
    }
    SECTION("an index whose platforms hold escape sequences: not found, the list without them") {
        json index = {{"schemaVersion", 2},
                      {"mediaType", oci_index},
                      {"manifests",
                       {{{"mediaType", oci_manifest},
                         {"digest", "sha256:" + std::string(64, 'e')},
                         {"size", 1},
                         {"platform", {{"os", hostile}, {"architecture", "amd64" + hostile}}}}}}};
        HttpListener server([&](const HttpRequest&) {
            return HttpResponse{200, {{"Content-Type", oci_index}}, index.dump()};
        });
        auto p = probe({"--insecure", server.host(), "--", server.host() + "/x/y:1"}, home);
        CHECK(p.status == status::not_found);
        CHECK_THAT(error_of(p), Catch::Contains("it has: ]0;pwned"));
        CHECK_FALSE(has_control(error_of(p)));
    }
    SECTION(
        "a reference that starts with '-' is a reference after --, and invalid; nothing is sent") {
        HttpListener server([](const HttpRequest&) { return HttpResponse{404}; });
        auto p = probe({"--insecure", server.host(), "--", "-u0:0/x:1"}, home);
        CHECK(p.status == status::usage);
        CHECK_THAT(error_of(p), Catch::Contains("invalid image reference: \"-u0:0/x:1\""));
        auto without = probe({"--insecure", server.host(), "-u0:0/x:1"}, home);
        CHECK(without.status == status::usage);
        CHECK(server.requests().empty());
    }
    SECTION("connection refused is unreachable") {
        std::string host = "127.0.0.1:" + std::to_string(free_port());
        auto p = probe({"--insecure", host, "--", host + "/x/y:1"}, home);
        CHECK(p.status == status::unreachable);
    }
}

TEST_CASE("fod-registry probe sends nothing for an invalid reference or usage (exit 2)",
          "[integration][registry]") {
    TempDir home;
    HttpListener server([](const HttpRequest&) { return HttpResponse{404}; });
    for (std::string bad :
         {server.host() + "/Upper/case", server.host() + "/x y",
          server.host() + "/x:", server.host() + "/" + std::string(300, 'a'), std::string("")}) {
        auto p = probe({"--insecure", server.host(), bad}, home);
        CHECK(p.status == status::usage);
        CHECK_THAT(error_of(p), Catch::Contains("invalid image reference"));
    }
    auto no_reference = probe({"--insecure", server.host()}, home);
    CHECK(no_reference.status == 2);
    auto bad_platform = probe({"--platform", "linux", server.host() + "/x/y"}, home);
    CHECK(bad_platform.status == 2);
    auto bad_timeout = probe({"--timeout", "soon", server.host() + "/x/y"}, home);
    CHECK(bad_timeout.status == 2);
    CHECK(server.requests().empty());
}

TEST_CASE("fod-registry probe verifies TLS and trusts the CA certificates the engines trust",
          "[integration][registry]") {
    FOD_REQUIRE_REGISTRY();
    FOD_REQUIRE_ENGINE(Engine::podman);
    TestRegistry registry(RegistryAuth::none, true);
    TempDir home;
    registry.push(busybox_image, "secure/bb:1");
    const std::string ref = registry.host() + "/secure/bb:1";
    const std::string digest = registry.skopeo_digest("secure/bb:1");
    std::string ca = run({"cat", registry.ca_cert_path()}).out;
    REQUIRE_THAT(ca, Catch::Contains("BEGIN CERTIFICATE"));

    SECTION("a certificate no one vouches for: failed, naming TLS") {
        auto p = probe({ref}, home);
        CHECK(p.status == status::failed);
        CHECK_THAT(error_of(p), Catch::Contains("TLS") && Catch::Contains("certificate"));
    }
    SECTION("the registry's CA in certs.d/HOST:PORT (here ~/.config/containers/certs.d)") {
        home.write(".config/containers/certs.d/" + registry.host() + "/ca.crt", ca);
        auto p = probe({ref}, home);
        REQUIRE(p.status == 0);
        CHECK(p.out["digest"] == digest);
    }
    SECTION("a certs.d directory of another host does not count") {
        home.write(".config/containers/certs.d/127.0.0.1:1/ca.crt", ca);
        auto p = probe({ref}, home);
        CHECK(p.status == status::failed);
    }
    SECTION("--cert-dir") {
        home.write("certs/ca.crt", ca);
        auto p = probe({"--cert-dir", home.path() + "/certs", ref}, home);
        REQUIRE(p.status == 0);
        CHECK(p.out["digest"] == digest);
    }
    SECTION("an HTTPS registry listed as insecure is spoken to in plain HTTP, which fails") {
        auto p = probe({"--insecure", registry.host(), ref}, home);
        CHECK(p.status == status::failed);
    }
}
