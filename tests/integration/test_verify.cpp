// Signed images (issue 17): config.yaml's `verify:` maps image scopes to public
// keys, and fod runs an image under a scope only once the cosign signature of its
// digest verifies with one of them. Signatures are made with the openssl command
// line and pushed to a real registry on loopback (cosign_fixture.hpp); fod runs
// against the real engines.
#include "cosign_fixture.hpp"
#include "fod_env.hpp"
#include "registry_fixture.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <unistd.h>

using namespace fod::test;

namespace {

// Whether the engine has an image by that name.
bool has_image(const FodEnv& env, const std::string& image) {
    return env.engine_cli({"image", "inspect", image}).status == 0;
}

// Whether the engine has any image named HOST/REPO, by a tag or by a digest
// alone. (podman's `image inspect HOST/REPO@DIGEST` would also find another
// name's image of that digest, such as the local test image it was pushed from.)
bool has_repository(const FodEnv& env, const std::string& repository) {
    Result images = env.engine_cli({"images", "--format", "{{.Repository}}"});
    REQUIRE(images.status == 0);
    for (const auto& line : lines_of(images.out))
        if (line == repository) return true;
    return false;
}

// Removes an image name this test pulled or tagged (podman: the name only, so
// a test image sharing its content stays; docker: the pulled image, or only
// the name when it is a test image tagged by the test).
void remove_image(const FodEnv& env, const std::string& image) {
    if (env.engine() == Engine::docker) {
        auto id_of = [&](const std::string& name) {
            Result id = env.engine_cli({"image", "inspect", "--format", "{{.Id}}", name});
            return id.status == 0 ? lines_of(id.out).at(0) : std::string();
        };
        const std::string id = id_of(image);
        if (id.empty()) return;
        if (id == id_of(scratch_image) || id == id_of(busybox_image))
            env.engine_cli({"rmi", image});
        else
            env.engine_cli({"rmi", "-f", id});
    } else {
        env.engine_cli({"rmi", image});
    }
}

// A registry (held in an optional, so a test can stop it), a directory of keys
// fod's user can read, and fod's config allowing plain HTTP to the registry,
// pulling without a question and verifying the scopes given.
struct Setup {
    explicit Setup(Engine e, RegistryAuth auth = RegistryAuth::none) : env(e) {
        registry.emplace(auth);
        host = registry->host();
    }
    FodEnv env;
    std::optional<TestRegistry> registry;
    TempDir keys;
    std::string host;  // the registry's, also once it is stopped

    // HOST/REPO[:TAG]
    std::string image(const std::string& repo_tag) const { return host + "/" + repo_tag; }
    // verify: lines as they are (indented by 2 under `verify:`).
    void config(const std::string& verify_lines) const {
        env.write_config("config.yaml", "insecure_registries: [\"" + host +
                                            "\"]\nconfirm: never\nverify:\n" + verify_lines);
    }
    // One `verify:` line: "HOST/SCOPE": KEY
    std::string scope(const std::string& path, const KeyPair& key) const {
        return "  \"" + host + "/" + path + "\": " + key.public_pem + "\n";
    }
    std::string verified_file() const { return env.root() + "/state/fod/verified.json"; }
    // Pushes the scratch image as REPO:TAG (format as TestRegistry::push) and
    // returns its digest; the engine is left without that name.
    std::string push(const std::string& repo_tag, const std::string& format = "oci") const {
        registry->push(scratch_image, repo_tag, format);
        remove_image(env, image(repo_tag));
        return registry->skopeo_digest(repo_tag);
    }
};

// Pushes an image of its own (busybox and a unique file, entrypoint
// /bin/busybox) as REPO:TAG and returns its digest: two such images never share
// a digest, so each is verified on its own.
std::string push_unique_image(const Setup& s, const std::string& repo_tag) {
    TempDir rootfs;
    const std::string nonce =
        std::to_string(getpid()) + "-" +
        std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
    rootfs.write("rootfs/nonce", nonce + "\n");
    std::filesystem::create_directories(rootfs.path() + "/rootfs/bin");
    std::filesystem::copy_file("/bin/busybox", rootfs.path() + "/rootfs/bin/busybox");
    REQUIRE(run({"tar", "-C", rootfs.path() + "/rootfs", "-cf", rootfs.path() + "/rootfs.tar", "."})
                .status == 0);
    const std::string local = "localhost/fod-test-unique:" + nonce;
    Result imported = run({"podman", "import", "--change", "ENTRYPOINT [\"/bin/busybox\"]",
                           rootfs.path() + "/rootfs.tar", local},
                          engine_options(Engine::podman, {.timeout_s = 120}));
    INFO(imported.err);
    REQUIRE(imported.status == 0);
    s.registry->push(local, repo_tag);
    run({"podman", "rmi", local}, engine_options(Engine::podman, {.timeout_s = 60}));
    remove_image(s.env, s.image(repo_tag));
    return s.registry->skopeo_digest(repo_tag);
}

// A refused run: 125, nothing on stdout, one line on stderr holding `why`,
// nothing pulled, no container, the digest not remembered as verified.
void check_refused(const Setup& s, const std::string& tool, const std::string& repo_tag,
                   const std::string& digest, const std::string& why,
                   bool image_was_local = false) {
    Result r = s.env.run_cmd(tool, {"echo", "must", "not", "run"});
    INFO("status " << r.status << "\nstdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.status == 125);
    CHECK(r.out.empty());
    CHECK(lines_of(r.err).size() == 1);
    CHECK(contains(r.err, why));
    if (!image_was_local) {
        // Neither the tag nor the digest was pulled.
        CHECK_FALSE(has_image(s.env, s.image(repo_tag)));
        CHECK_FALSE(has_repository(s.env, s.image(repo_tag.substr(0, repo_tag.rfind(':')))));
    }
    CHECK(s.env.containers().empty());
    CHECK_FALSE(contains(read_file(s.verified_file()), digest));
}

// 1. An image signed with an EC P-256 key runs; its digest is remembered, so a
// cold start after the registry is gone needs no registry.
void signed_image_runs(Engine e) {
    FOD_REQUIRE_REGISTRY();
    Setup s(e);
    const KeyPair key = make_key(s.keys, "team", KeyKind::ec_p256);
    const std::string digest = s.push("team/tool:1");
    const std::string image = s.image("team/tool:1");
    sign_image(*s.registry, "team/tool", digest,
               {.docker_reference = s.image("team/tool"), .key = key});
    s.config(s.scope("team", key));
    s.env.write_mappings(s.env.entry("tool-signed", image, {"/tool"}, "90s"));

    Result r = s.env.run_cmd("tool-signed", {"echo", "signed", "and", "ran"});
    INFO("stderr: " << r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "signed and ran\n");
    CHECK(has_image(s.env, image));
    CHECK(contains(read_file(s.verified_file()), digest));
    // The command's own status, warm.
    Result status = s.env.run_cmd("tool-signed", {"exit", "3"});
    INFO("stderr: " << status.err);
    CHECK(status.status == 3);

    // Cold, with the registry gone: the remembered verification is enough.
    s.env.stop_all_checked();
    s.registry.reset();
    Result cold = s.env.run_cmd("tool-signed", {"echo", "cold", "start"});
    INFO("stderr: " << cold.err);
    CHECK(cold.status == 0);
    CHECK(cold.out == "cold start\n");

    s.env.stop_all_checked();
    remove_image(s.env, image);
}

// 3-7. Refusals: 125, one line naming why, nothing pulled, nothing runs.
void refusals(Engine e) {
    FOD_REQUIRE_REGISTRY();
    Setup s(e);
    const KeyPair key = make_key(s.keys, "team", KeyKind::ec_p256);
    const std::string digest = s.push("team/tool:1");
    const std::string image = s.image("team/tool:1");
    const std::string reference = s.image("team/tool");
    s.config(s.scope("team", key));
    s.env.write_mappings(s.env.entry("tool-refused", image, {"/tool"}, "90s"));

    SECTION("unsigned: is not signed") {
        check_refused(s, "tool-refused", "team/tool:1", digest, "is not signed");
    }
    SECTION("a signature manifest without a signature layer: is not signed") {
        const std::string config = R"({"architecture":"","config":{},"os":""})";
        const std::string other = R"({"not":"a signature"})";
        const std::string oci_manifest = "application/vnd.oci.image.manifest.v1+json";
        nlohmann::json manifest = {{"schemaVersion", 2},
                                   {"mediaType", oci_manifest},
                                   {"config",
                                    {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                                     {"size", config.size()},
                                     {"digest", s.registry->put_blob("team/tool", config)}}},
                                   {"layers",
                                    {{{"mediaType", "application/vnd.oci.image.layer.v1.tar"},
                                      {"size", other.size()},
                                      {"digest", s.registry->put_blob("team/tool", other)}}}}};
        s.registry->put_manifest("team/tool", signature_tag(digest), oci_manifest, manifest.dump());
        check_refused(s, "tool-refused", "team/tool:1", digest, "is not signed");
    }
    SECTION("signed with another key: does not verify") {
        const KeyPair stranger = make_key(s.keys, "stranger", KeyKind::ec_p256);
        sign_image(*s.registry, "team/tool", digest,
                   {.docker_reference = reference, .key = stranger});
        check_refused(s, "tool-refused", "team/tool:1", digest, "does not verify");
    }
    SECTION("a signature of another digest stored for this one: signs another digest") {
        const std::string other = s.push("team/tool:other", "v2s2");
        REQUIRE(other != digest);
        sign_image(*s.registry, "team/tool", digest,
                   {.docker_reference = reference, .key = key, .signed_digest = other});
        check_refused(s, "tool-refused", "team/tool:1", digest, "signs another digest");
    }
    SECTION("a payload changed after signing: does not verify") {
        sign_image(*s.registry, "team/tool", digest,
                   {.docker_reference = reference, .key = key, .tamper = true});
        check_refused(s, "tool-refused", "team/tool:1", digest, "does not verify");
    }
    SECTION("a signature naming another repository: signs another repository") {
        sign_image(*s.registry, "team/tool", digest,
                   {.docker_reference = s.image("team/other-tool"), .key = key});
        check_refused(s, "tool-refused", "team/tool:1", digest, "signs another repository");
    }
    SECTION("an image whose repository is the scope itself is under it") {
        const std::string own = s.push("team:1");
        s.env.write_mappings(s.env.entry("tool-scope", s.image("team:1"), {"/tool"}, "90s"));
        check_refused(s, "tool-scope", "team:1", own, "is not signed");
    }
    SECTION("local but never verified, unsigned in the registry: is not signed") {
        Result tag = s.env.engine_cli({"tag", scratch_image, image});
        INFO("tag: " << tag.err);
        REQUIRE(tag.status == 0);
        check_refused(s, "tool-refused", "team/tool:1", digest, "is not signed", true);
        CHECK(has_image(s.env, image));  // what the engine had stays
        remove_image(s.env, image);
    }
    SECTION("local but never verified, signed in the registry: verified, then runs") {
        Result tag = s.env.engine_cli({"tag", scratch_image, image});
        INFO("tag: " << tag.err);
        REQUIRE(tag.status == 0);
        sign_image(*s.registry, "team/tool", digest, {.docker_reference = reference, .key = key});
        Result r = s.env.run_cmd("tool-refused", {"echo", "verified", "first"});
        INFO("stderr: " << r.err);
        CHECK(r.status == 0);
        CHECK(r.out == "verified first\n");
        CHECK(contains(read_file(s.verified_file()), digest));
        s.env.stop_all_checked();
        remove_image(s.env, image);
    }
}

// 8. Images under no scope run without any signature, next to a scope: a
// repository that only starts with the scope's text is not under it.
void outside_scopes(Engine e) {
    FOD_REQUIRE_REGISTRY();
    Setup s(e);
    const KeyPair key = make_key(s.keys, "team", KeyKind::ec_p256);
    s.push("free/tool:1");
    s.push("teamwork/tool:1");
    s.config(s.scope("team", key));
    s.env.write_mappings(
        s.env.entry("tool-free", s.image("free/tool:1"), {"/tool"}, "90s") +
        s.env.entry("tool-teamwork", s.image("teamwork/tool:1"), {"/tool"}, "90s"));

    for (const auto& [tool, image] :
         {std::pair{"tool-free", "free/tool:1"}, std::pair{"tool-teamwork", "teamwork/tool:1"}}) {
        Result r = s.env.run_cmd(tool, {"echo", "no", "signature", "needed"});
        INFO(tool << " stderr: " << r.err);
        CHECK(r.status == 0);
        CHECK(r.out == "no signature needed\n");
        CHECK(has_image(s.env, s.image(image)));
    }

    s.env.stop_all_checked();
    remove_image(s.env, s.image("free/tool:1"));
    remove_image(s.env, s.image("teamwork/tool:1"));
}

// 9. A registry with auth: fod's credentials (REGISTRY_AUTH_FILE, which the
// engine and fod-registry both read) fetch the signature as they fetch the image.
void behind_auth(RegistryAuth auth) {
    Setup s(Engine::podman, auth);
    const KeyPair key = make_key(s.keys, "team", KeyKind::ec_p256);
    const std::string digest = s.push("team/tool:1");
    const std::string unsigned_digest = s.push("team/unsigned:1", "v2s2");
    REQUIRE(digest != unsigned_digest);
    sign_image(*s.registry, "team/tool", digest,
               {.docker_reference = s.image("team/tool"), .key = key});
    s.config(s.scope("team", key));
    s.env.write_mappings(
        s.env.entry("tool-auth", s.image("team/tool:1"), {"/tool"}, "90s") +
        s.env.entry("tool-auth-unsigned", s.image("team/unsigned:1"), {"/tool"}, "90s"));
    const std::string credentials =
        base64_encode(s.registry->user() + ":" + s.registry->password());
    const std::string auth_file = s.env.put(
        "auth.json", nlohmann::json{{"auths", {{s.host, {{"auth", credentials}}}}}}.dump(), 0600);
    const RunOptions with_auth{.env_set = {{"REGISTRY_AUTH_FILE", auth_file}}};

    Result r = s.env.run_cmd("tool-auth", {"echo", "signed", "behind", "auth"}, with_auth);
    INFO("stderr: " << r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "signed behind auth\n");
    CHECK(contains(read_file(s.verified_file()), digest));

    // Unsigned behind auth is "not signed", not a failure to authenticate.
    s.env.stop_all_checked();
    Result refused = s.env.run_cmd("tool-auth-unsigned", {"echo", "x"}, with_auth);
    INFO("stderr: " << refused.err);
    CHECK(refused.status == 125);
    CHECK(refused.out.empty());
    CHECK(lines_of(refused.err).size() == 1);
    CHECK(contains(refused.err, "is not signed"));
    CHECK_FALSE(has_repository(s.env, s.image("team/unsigned")));
    CHECK(s.env.containers().empty());

    s.env.stop_all_checked();
    remove_image(s.env, s.image("team/tool:1"));
}

}  // namespace

FOD_TEST_ALL_ENGINES("verify: an image signed with an EC P-256 key runs, is remembered as "
                     "verified, and starts cold with the registry gone",
                     "[registry][verify]", signed_image_runs)
FOD_TEST_ALL_ENGINES("verify: unsigned, another key, another digest, a changed payload, another "
                     "repository: 125, one line, nothing pulled or run",
                     "[registry][verify]", refusals)
FOD_TEST_ALL_ENGINES("verify: an image under no scope runs without a signature",
                     "[registry][verify][unscoped]", outside_scopes)

// 2. Ed25519 and RSA keys, and a scope with a list of keys any of which may
// sign; each image has its own digest, so each is verified on its own.
TEST_CASE("verify: Ed25519 and RSA keys, and a list of keys (podman)",
          "[integration][podman][registry][verify]") {
    FOD_REQUIRE_REGISTRY();
    FOD_REQUIRE_ENGINE(Engine::podman);
    Setup s(Engine::podman);
    const KeyPair ed = make_key(s.keys, "ed", KeyKind::ed25519);
    const KeyPair rsa = make_key(s.keys, "rsa", KeyKind::rsa2048);
    const KeyPair ec = make_key(s.keys, "ec", KeyKind::ec_p256);
    struct Case {
        std::string repo, tool;
        const KeyPair* signer;
    };
    const std::vector<Case> cases = {{"ed/tool", "tool-ed", &ed},
                                     {"rsa/tool", "tool-rsa", &rsa},
                                     {"multi/first", "tool-first", &ec},
                                     {"multi/second", "tool-second", &rsa}};
    std::string mappings;
    std::vector<std::string> digests;
    for (const auto& c : cases) {
        const std::string digest = push_unique_image(s, c.repo + ":1");
        sign_image(*s.registry, c.repo, digest,
                   {.docker_reference = s.image(c.repo), .key = *c.signer});
        digests.push_back(digest);
        mappings += s.env.entry(c.tool, s.image(c.repo + ":1"), {"/bin/busybox"}, "90s");
    }
    s.config(s.scope("ed", ed) + s.scope("rsa", rsa) + "  \"" + s.host + "/multi\": [" +
             ec.public_pem + ", " + rsa.public_pem + "]\n");
    s.env.write_mappings(mappings);

    for (size_t i = 0; i < cases.size(); ++i) {
        Result r = s.env.run_cmd(cases[i].tool, {"echo", "signed", "by", cases[i].repo});
        INFO(cases[i].tool << " stderr: " << r.err);
        CHECK(r.status == 0);
        CHECK(r.out == "signed by " + cases[i].repo + "\n");
        CHECK(contains(read_file(s.verified_file()), digests[i]));
    }

    s.env.stop_all_checked();
    // Each image is this test's own: remove it whole, not only its name (podman
    // would keep it under its digest).
    for (const auto& c : cases) {
        Result id =
            s.env.engine_cli({"image", "inspect", "--format", "{{.Id}}", s.image(c.repo + ":1")});
        if (id.status == 0) s.env.engine_cli({"rmi", "-f", lines_of(id.out).at(0)});
    }
}

TEST_CASE("verify: a signed image behind Basic auth runs, an unsigned one is not signed (podman)",
          "[integration][podman][registry][verify][auth]") {
    FOD_REQUIRE_REGISTRY();
    FOD_REQUIRE_ENGINE(Engine::podman);
    behind_auth(RegistryAuth::basic);
}

TEST_CASE("verify: a signed image behind token auth runs, an unsigned one is not signed (podman)",
          "[integration][podman][registry][verify][auth]") {
    FOD_REQUIRE_REGISTRY();
    FOD_REQUIRE_ENGINE(Engine::podman);
    behind_auth(RegistryAuth::token);
}

// What the tests above rely on, checked without fod: the signature manifest the
// fixture pushes (also behind auth) is cosign's layout, and its annotation
// verifies over the stored payload with openssl, for each kind of key; a changed
// payload does not.
TEST_CASE("verify: the cosign fixture pushes signatures that openssl verifies",
          "[integration][registry][verify][fixture]") {
    FOD_REQUIRE_REGISTRY();
    FOD_REQUIRE_ENGINE(Engine::podman);  // push() reads rootful podman's test images
    TempDir keys;
    const std::vector<KeyPair> all_keys = {make_key(keys, "ec", KeyKind::ec_p256),
                                           make_key(keys, "ed", KeyKind::ed25519),
                                           make_key(keys, "rsa", KeyKind::rsa2048)};
    for (auto auth : {RegistryAuth::none, RegistryAuth::basic, RegistryAuth::token}) {
        INFO("auth mode " << static_cast<int>(auth));
        TestRegistry registry(auth);
        registry.push(scratch_image, "team/tool:1", "oci");
        const std::string digest = registry.skopeo_digest("team/tool:1");
        for (const auto& key : all_keys) {
            for (bool tamper : {false, true}) {
                INFO("key " << key.public_pem << (tamper ? ", tampered" : ""));
                const std::string reference = registry.host() + "/team/tool";
                const std::string pushed =
                    sign_image(registry, "team/tool", digest,
                               {.docker_reference = reference, .key = key, .tamper = tamper});
                CHECK(contains(pushed, "\"docker-manifest-digest\":\"" + digest + "\""));
                CHECK(contains(pushed, "\"docker-reference\":\"" + reference + "\""));
                const auto manifest = nlohmann::json::parse(
                    registry.raw_manifest("team/tool:" + signature_tag(digest)));
                REQUIRE(manifest.at("layers").size() == 1);
                const auto& layer = manifest.at("layers").at(0);
                CHECK(layer.at("mediaType") == "application/vnd.dev.cosign.simplesigning.v1+json");
                CHECK(manifest.at("config").at("mediaType") ==
                      "application/vnd.oci.image.config.v1+json");
                const std::string blob_digest = layer.at("digest").get<std::string>();
                std::vector<std::pair<std::string, std::string>> headers;
                if (auth != RegistryAuth::none)
                    headers.emplace_back("Authorization", registry.authorization("team/tool"));
                HttpResponse blob = http_request(registry.port(), "GET",
                                                 "/v2/team/tool/blobs/" + blob_digest, headers);
                REQUIRE(blob.status == 200);
                CHECK(blob.body == pushed);
                CHECK(nlohmann::json::parse(blob.body).at("critical").at("type") ==
                      "cosign container image signature");
                const std::string signature =
                    base64_decode(layer.at("annotations")
                                      .at("dev.cosignproject.cosign/signature")
                                      .get<std::string>());
                CHECK(openssl_verifies(key, blob.body, signature) == !tamper);
            }
        }
    }
}
