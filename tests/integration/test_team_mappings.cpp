// Team mappings (issue 17): config.yaml's mapping_sources name fod mappings
// artifacts in a registry; `fod publish` pushes a mapping file as one, `fod
// update` (or a detached `fod _refresh` once mapping_refresh has passed) fetches
// them into the team layer, between the package and the system layers. A fetch
// that is refused (unsigned under a verify: scope, the registry down, something
// that is not a fod mappings artifact, a mapping file fod would not read) keeps
// the last good copy. Against a real registry on loopback
// (tests/integration/registry_fixture.hpp) and, where a command runs, the real
// engines.
#include "cosign_fixture.hpp"
#include "fod_env.hpp"
#include "http_listener.hpp"
#include "registry_fixture.hpp"

#include <catch2/catch.hpp>

#include <cctype>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

using namespace fod::test;
using nlohmann::json;

namespace {

const std::string mappings_type = "application/vnd.fod.mappings.v1+yaml";
const std::string oci_manifest = "application/vnd.oci.image.manifest.v1+json";
const std::string empty_type = "application/vnd.oci.empty.v1+json";

// Whether the engine has an image by that name.
bool has_image(const FodEnv& env, const std::string& image) {
    return env.engine_cli({"image", "inspect", image}).status == 0;
}

// Removes an image name left from an earlier run on the same port, so the test
// pulls it (podman: the name only, so the test image sharing its content stays;
// docker: the image).
void remove_image(const FodEnv& env, const std::string& image) {
    if (env.engine() == Engine::docker) {
        Result id = env.engine_cli({"image", "inspect", "--format", "{{.Id}}", image});
        if (id.status == 0) env.engine_cli({"rmi", "-f", lines_of(id.out).at(0)});
    } else {
        env.engine_cli({"rmi", image});
    }
}

// A mapping file holding the entries.
std::string mapping_file(const std::string& entries) { return "commands:\n" + entries; }

// The digest in "fod: published FILE to REF (sha256:...)", or "".
std::string published_digest(const std::string& out) {
    const auto open = out.find("(sha256:");
    const auto close = out.find(')', open);
    if (open == std::string::npos || close == std::string::npos) return "";
    return out.substr(open + 1, close - open - 1);
}

// A registry (held in an optional, so a test can stop it), a directory for keys,
// and fod's config: plain HTTP to the registry, no question before a pull, and
// the team mappings of HOST/team/mappings:v1.
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
    // The mapping source of the tests.
    std::string source() const { return image("team/mappings:v1"); }
    // config.yaml with the sources (default: source()) and the extra lines.
    void config(const std::string& extra = "", std::vector<std::string> sources = {}) const {
        if (sources.empty()) sources = {source()};
        std::string list;
        for (const auto& s : sources) list += (list.empty() ? "\"" : ", \"") + s + "\"";
        env.write_config("config.yaml", "insecure_registries: [\"" + host +
                                            "\"]\nconfirm: never\nmapping_sources: [" + list +
                                            "]\n" + extra);
    }
    // The last good copy of the source at position in the team layer.
    std::string copy(size_t position = 0, const std::string& of = "") const {
        std::string name;
        for (char c : of.empty() ? source() : of) {
            const bool plain =
                (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
            name += plain ? c : '_';
        }
        const std::string number = (position < 10 ? "0" : "") + std::to_string(position);
        return env.root() + "/state/fod/team/mappings.d/" + number + "-" + name + ".yaml";
    }
    std::string sources_json() const { return env.root() + "/state/fod/team/sources.json"; }
    // `fod publish` of a file holding text to ref (default: source()); REQUIREs
    // success and returns the digest it prints.
    std::string publish(const std::string& text, const std::string& ref = "",
                        const RunOptions& options = {}) const {
        const std::string to = ref.empty() ? source() : ref;
        const std::string file = env.write_work("team.yaml", text);
        Result r = env.fod({"publish", file, to}, options);
        INFO("fod publish: " << r.status << "\nstdout: " << r.out << "\nstderr: " << r.err);
        REQUIRE(r.status == 0);
        CHECK(has_line(r.out, "fod: published " + file + " to " + to + " (" +
                                  published_digest(r.out) + ")"));
        CHECK(lines_of(r.out).size() == 1);
        CHECK(r.err.empty());
        std::string digest = published_digest(r.out);
        CHECK(starts_with(digest, "sha256:"));
        CHECK(digest.size() == 7 + 64);
        return digest;
    }
    Result update(const RunOptions& options = {}) const { return env.fod({"update"}, options); }
    Result which(const std::string& name) const { return env.fod({"which", name}); }
    // Whether `fod which NAME` says the team layer's copy at position defines it.
    bool from_team(const std::string& name, size_t position = 0) const {
        Result w = which(name);
        return w.status == 0 && contains(w.out, "defined in:  team layer, " + copy(position) + ":");
    }
};

// Pushes a hand-made artifact as REPO:TAG through the registry API: the empty
// config, and one layer of layer_type holding content. declared_size: the size
// the manifest gives the layer (default: its own).
std::string push_artifact(const TestRegistry& registry, const std::string& repo,
                          const std::string& tag, const std::string& content,
                          const std::string& layer_type = mappings_type,
                          long long declared_size = -1) {
    const std::string config_digest = registry.put_blob(repo, "{}");
    const std::string layer_digest = registry.put_blob(repo, content);
    json manifest = {
        {"schemaVersion", 2},
        {"mediaType", oci_manifest},
        {"artifactType", mappings_type},
        {"config", {{"mediaType", empty_type}, {"digest", config_digest}, {"size", 2}}},
        {"layers",
         {{{"mediaType", layer_type},
           {"digest", layer_digest},
           {"size", declared_size < 0 ? static_cast<long long>(content.size()) : declared_size}}}}};
    return registry.put_manifest(repo, tag, oci_manifest, manifest.dump());
}

// An auth file (REGISTRY_AUTH_FILE) with the registry's account, given to fod's user.
RunOptions with_credentials(const Setup& s) {
    const std::string credentials =
        base64_encode(s.registry->user() + ":" + s.registry->password());
    const std::string auth_file =
        s.env.put("auth.json", json{{"auths", {{s.host, {{"auth", credentials}}}}}}.dump(), 0600);
    return {.env_set = {{"REGISTRY_AUTH_FILE", auth_file}}};
}

// 1, 2 and 5: publish, update, and the team's command runs; with the registry
// gone an update fails and keeps the copy, and the command still runs; the
// user's own mapping of the name wins over the team's.
void team_mapping_runs(Engine e) {
    FOD_REQUIRE_REGISTRY();
    OwnImages pulled(e);
    Setup s(e);
    s.registry->push(scratch_image, "team/tool:1");
    const std::string image = s.image("team/tool:1");
    pulled.track(image);
    remove_image(s.env, image);
    s.config();
    s.env.write_mappings("");
    const std::string digest =
        s.publish(mapping_file(s.env.entry("tool-team", image, {"/tool"}, "90s")));

    Result update = s.update();
    INFO("update: " << update.status << "\nstdout: " << update.out << "\nstderr: " << update.err);
    CHECK(update.status == 0);
    CHECK(update.err.empty());
    CHECK(has_line(update.out, "fod: " + s.source() + ": fetched " + digest));
    CHECK(has_line(update.out, "  added    tool-team (" + image + ")"));
    CHECK(lines_of(update.out).size() == 2);
    CHECK(path_exists(s.copy()));

    Result r = s.env.run_cmd("tool-team", {"echo", "from", "the", "team"});
    INFO("run: " << r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "from the team\n");
    CHECK(has_image(s.env, image));
    Result which = s.which("tool-team");
    INFO("which: " << which.out << which.err);
    CHECK(which.status == 0);
    CHECK(contains(which.out, "defined in:  team layer, " + s.copy() + ":2"));

    // The registry is gone: the update fails, the copy stays, the command runs.
    const std::string kept = read_file(s.copy());
    s.registry.reset();
    Result down = s.update();
    INFO("update, registry down: " << down.status << "\nstdout: " << down.out
                                   << "\nstderr: " << down.err);
    CHECK(down.status == 1);
    CHECK(down.out.empty());
    CHECK(lines_of(down.err).size() == 1);
    CHECK(starts_with(down.err, "fod: " + s.source() + ": "));
    CHECK(contains(down.err, "; the last good copy stays"));
    CHECK(read_file(s.copy()) == kept);
    CHECK(s.from_team("tool-team"));
    Result still = s.env.run_cmd("tool-team", {"echo", "still", "here"});
    INFO("run, registry down: " << still.err);
    CHECK(still.status == 0);
    CHECK(still.out == "still here\n");

    // The user's mapping of the same name wins.
    s.env.write_mappings(s.env.entry("tool-team", image, {"/tool", "echo", "user:"}, "90s"));
    Result user = s.env.run_cmd("tool-team", {"wins"});
    INFO("run, user override: " << user.err);
    CHECK(user.status == 0);
    CHECK(user.out == "user: wins\n");
    Result which_user = s.which("tool-team");
    INFO("which: " << which_user.out << which_user.err);
    CHECK(contains(which_user.out,
                   "defined in:  user layer, " + s.env.config_dir() + "/mappings.yaml:2"));
    CHECK_FALSE(contains(which_user.out, "team layer"));

    s.env.stop_all_checked();
}

// 9. A run of a mapped command, once mapping_refresh has passed, fetches in the
// background: the new command appears without `fod update`; the run's own
// output is untouched.
void refresh_after_run(Engine e) {
    FOD_REQUIRE_REGISTRY();
    OwnImages pulled(e);
    Setup s(e);
    s.registry->push(scratch_image, "team/tool:1");
    const std::string image = s.image("team/tool:1");
    pulled.track(image);
    remove_image(s.env, image);
    s.config();  // mapping_refresh: the default, 1h
    s.env.write_mappings("");
    const std::string team_tool = s.env.entry("tool-team", image, {"/tool"}, "90s");
    s.publish(mapping_file(team_tool));
    Result update = s.update();
    INFO("update: " << update.out << update.err);
    REQUIRE(update.status == 0);

    Result cold = s.env.run_cmd("tool-team", {"echo", "cold"});
    INFO("cold run: " << cold.err);
    CHECK(cold.status == 0);
    CHECK(cold.out == "cold\n");

    // A second has passed since the last fetch: the next run fetches (the config
    // changed, so this run reads the mapping files again).
    const std::string later_tool =
        s.env.entry("tool-later", image, {"/tool", "echo", "later:"}, "90s");
    s.publish(mapping_file(team_tool + later_tool));
    s.config("mapping_refresh: 1s\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    CHECK_FALSE(s.from_team("tool-later"));  // nothing has fetched yet
    Result warm = s.env.run_cmd("tool-team", {"echo", "warm"});
    INFO("warm run: " << warm.err);
    CHECK(warm.status == 0);
    CHECK(warm.out == "warm\n");
    CHECK(warm.err.empty());
    bool refreshed = poll_until([&] { return s.from_team("tool-later"); }, 30);
    Result which = s.which("tool-later");
    INFO("which tool-later: " << which.out << which.err << "\nsources.json: "
                              << read_file(s.sources_json()) << "\nreaper.log: "
                              << read_file(s.env.root() + "/state/fod/reaper.log"));
    CHECK(refreshed);
    Result later = s.env.run_cmd("tool-later", {"x"});
    INFO("run tool-later: " << later.err);
    CHECK(later.status == 0);
    CHECK(later.out == "later: x\n");

    // Again with the index current (the refresh rebuilt it): fod's fast path
    // fetches too.
    s.publish(mapping_file(team_tool + later_tool +
                           s.env.entry("tool-third", image, {"/tool", "echo", "third:"}, "90s")));
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    CHECK_FALSE(s.from_team("tool-third"));
    Result fast = s.env.run_cmd("tool-team", {"echo", "fast"});
    INFO("fast run: " << fast.err);
    CHECK(fast.status == 0);
    CHECK(fast.out == "fast\n");
    CHECK(fast.err.empty());
    refreshed = poll_until([&] { return s.from_team("tool-third"); }, 30);
    Result third = s.which("tool-third");
    INFO("which tool-third: " << third.out << third.err << "\nsources.json: "
                              << read_file(s.sources_json()) << "\nreaper.log: "
                              << read_file(s.env.root() + "/state/fod/reaper.log"));
    CHECK(refreshed);

    s.env.stop_all_checked();
}

}  // namespace

FOD_TEST_ALL_ENGINES("team: a published and fetched team mapping runs, with the registry down the "
                     "last good copy stays and runs, the user's mapping wins",
                     "[registry][team]", team_mapping_runs)
FOD_TEST_ALL_ENGINES("team: once mapping_refresh has passed, a run fetches the sources in the "
                     "background",
                     "[registry][team][refresh]", refresh_after_run)

// `fod publish` pushes the documented artifact: an OCI manifest of artifactType
// application/vnd.fod.mappings.v1+yaml, the empty config "{}", and one layer of
// that type holding the file's bytes.
TEST_CASE("team: fod publish pushes an OCI artifact of the file, which fod update fetches",
          "[integration][registry][team]") {
    FOD_REQUIRE_REGISTRY();
    Setup s(Engine::podman);
    s.config();
    const std::string text =
        mapping_file(s.env.entry("tool-a", s.image("team/a:1"), {"/tool"}, "90s"));
    const std::string digest = s.publish(text);

    HttpResponse got = http_request(s.registry->port(), "GET", "/v2/team/mappings/manifests/v1",
                                    {{"Accept", oci_manifest}});
    INFO("manifest: " << got.status << " " << got.body);
    REQUIRE(got.status == 200);
    const json manifest = json::parse(got.body);
    CHECK(manifest.at("schemaVersion") == 2);
    CHECK(manifest.at("mediaType") == oci_manifest);
    CHECK(manifest.at("artifactType") == mappings_type);
    CHECK(manifest.at("config").at("mediaType") == empty_type);
    CHECK(manifest.at("config").at("size") == 2);
    REQUIRE(manifest.at("layers").size() == 1);
    const json layer = manifest.at("layers").at(0);
    CHECK(layer.at("mediaType") == mappings_type);
    CHECK(layer.at("size") == text.size());
    HttpResponse config = http_request(s.registry->port(), "GET",
                                       "/v2/team/mappings/blobs/" +
                                           manifest.at("config").at("digest").get<std::string>());
    CHECK(config.status == 200);
    CHECK(config.body == "{}");
    HttpResponse blob =
        http_request(s.registry->port(), "GET",
                     "/v2/team/mappings/blobs/" + layer.at("digest").get<std::string>());
    CHECK(blob.status == 200);
    CHECK(blob.body == text);
    std::string registry_digest;
    for (const auto& [name, value] : got.headers) {
        std::string lower = name;
        for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (lower == "docker-content-digest") registry_digest = value;
    }
    CHECK(registry_digest == digest);

    Result update = s.update();
    INFO("update: " << update.status << "\nstdout: " << update.out << "\nstderr: " << update.err);
    CHECK(update.status == 0);
    CHECK(has_line(update.out, "fod: " + s.source() + ": fetched " + digest));
    CHECK(read_file(s.copy()) == text);
    CHECK(s.from_team("tool-a"));
    json status = json::parse(read_file(s.sources_json()), nullptr, false);
    INFO("sources.json: " << status.dump());
    REQUIRE(status.is_object());
    CHECK(status[s.source()]["digest"] == digest);

    // The same again: unchanged, and nothing listed.
    Result again = s.update();
    INFO("update again: " << again.out << again.err);
    CHECK(again.status == 0);
    CHECK(again.out == "fod: " + s.source() + ": unchanged " + digest + "\n");
}

// 3. fod update lists the team layer's changes.
TEST_CASE("team: fod update lists the commands added, changed and removed",
          "[integration][registry][team]") {
    FOD_REQUIRE_REGISTRY();
    Setup s(Engine::podman);
    s.config();
    const std::string a1 = s.image("team/a:1"), a2 = s.image("team/a:2");
    const std::string b = s.image("team/b:1"), c = s.image("team/c:1"), d = s.image("team/d:1");
    s.publish(mapping_file(s.env.entry("tool-a", a1, {"/tool"}, "90s") +
                           s.env.entry("tool-b", b, {"/tool"}, "90s") +
                           s.env.entry("tool-c", c, {"/tool"}, "90s")));
    Result first = s.update();
    INFO("first update: " << first.out << first.err);
    REQUIRE(first.status == 0);
    CHECK(has_line(first.out, "  added    tool-a (" + a1 + ")"));
    CHECK(has_line(first.out, "  added    tool-b (" + b + ")"));
    CHECK(has_line(first.out, "  added    tool-c (" + c + ")"));

    const std::string v2 = s.publish(mapping_file(s.env.entry("tool-a", a2, {"/tool"}, "90s") +
                                                  s.env.entry("tool-b", b, {"/tool"}, "45s") +
                                                  s.env.entry("tool-d", d, {"/tool"}, "90s")));
    Result second = s.update();
    INFO("second update: " << second.status << "\nstdout: " << second.out
                           << "\nstderr: " << second.err);
    CHECK(second.status == 0);
    CHECK(second.err.empty());
    CHECK(has_line(second.out, "fod: " + s.source() + ": fetched " + v2));
    CHECK(has_line(second.out, "  changed  tool-a (" + a1 + " -> " + a2 + ")"));
    CHECK(has_line(second.out, "  changed  tool-b (" + b + ")"));
    CHECK(has_line(second.out, "  added    tool-d (" + d + ")"));
    CHECK(has_line(second.out, "  removed  tool-c (" + c + ")"));
    CHECK(lines_of(second.out).size() == 5);
    CHECK(s.from_team("tool-d"));
    CHECK(s.which("tool-c").status != 0);
    Result which_a = s.which("tool-a");
    CHECK(contains(which_a.out, a2));
}

// 4. Under a verify: scope a source must be signed: an unsigned one is refused
// and the last good copy stays; once signed it is fetched and says so.
TEST_CASE("team: an unsigned source under a verify: scope is refused and the last good copy stays",
          "[integration][registry][team][verify]") {
    FOD_REQUIRE_REGISTRY();
    Setup s(Engine::podman);
    s.config();
    s.publish(mapping_file(s.env.entry("tool-team", s.image("team/tool:1"), {"/tool"}, "90s")));
    Result first = s.update();
    INFO("first update: " << first.out << first.err);
    REQUIRE(first.status == 0);
    const std::string kept = read_file(s.copy());

    const KeyPair key = make_key(s.keys, "team", KeyKind::ec_p256);
    s.config("verify:\n  \"" + s.host + "/team\": " + key.public_pem + "\n");
    const std::string v2 =
        s.publish(mapping_file(s.env.entry("tool-team", s.image("team/tool:1"), {"/tool"}, "90s") +
                               s.env.entry("tool-new", s.image("team/tool:1"), {"/tool"}, "90s")));
    Result refused = s.update();
    INFO("update, unsigned: " << refused.status << "\nstdout: " << refused.out
                              << "\nstderr: " << refused.err);
    CHECK(refused.status == 1);
    CHECK(refused.out.empty());
    CHECK(lines_of(refused.err).size() == 1);
    CHECK(starts_with(refused.err, "fod: " + s.source() + ": "));
    CHECK(contains(refused.err, "is not signed"));
    CHECK(contains(refused.err, "; the last good copy stays"));
    CHECK(read_file(s.copy()) == kept);
    CHECK(s.from_team("tool-team"));
    CHECK(s.which("tool-new").status != 0);

    // Signed with the key: fetched, and verified with it.
    sign_image(*s.registry, "team/mappings", v2,
               {.docker_reference = s.image("team/mappings"), .key = key});
    Result signed_update = s.update();
    INFO("update, signed: " << signed_update.status << "\nstdout: " << signed_update.out
                            << "\nstderr: " << signed_update.err);
    CHECK(signed_update.status == 0);
    CHECK(has_line(signed_update.out,
                   "fod: " + s.source() + ": fetched " + v2 + ", verified with " + key.public_pem));
    CHECK(has_line(signed_update.out, "  added    tool-new (" + s.image("team/tool:1") + ")"));
    CHECK(s.from_team("tool-new"));

    // Signed with another key: refused again, this copy stays.
    const KeyPair other = make_key(s.keys, "other", KeyKind::ec_p256);
    s.config("verify:\n  \"" + s.host + "/team\": " + other.public_pem + "\n");
    Result other_key = s.update();
    INFO("update, another key: " << other_key.status << "\nstdout: " << other_key.out
                                 << "\nstderr: " << other_key.err);
    CHECK(other_key.status == 1);
    CHECK(lines_of(other_key.err).size() == 1);
    CHECK(contains(other_key.err, "; the last good copy stays"));
    CHECK(s.from_team("tool-new"));
}

// 6. Something that is not a mapping file fod would read is refused, one line
// each, and the last good copy stays.
TEST_CASE("team: a malformed artifact is refused in one line and the last good copy stays",
          "[integration][registry][team]") {
    FOD_REQUIRE_REGISTRY();
    Setup s(Engine::podman);
    s.config();
    s.publish(mapping_file(s.env.entry("tool-team", s.image("team/tool:1"), {"/tool"}, "90s")));
    Result first = s.update();
    INFO("first update: " << first.out << first.err);
    REQUIRE(first.status == 0);
    const std::string kept = read_file(s.copy());
    REQUIRE_FALSE(kept.empty());

    std::string why;
    SECTION("bad YAML") {
        push_artifact(*s.registry, "team/mappings", "v1", "commands: [\n");
        why = "the whole source is refused: ";
    }
    SECTION("YAML that is not a mapping file") {
        push_artifact(*s.registry, "team/mappings", "v1", "- just\n- a list\n");
        why = "the whole source is refused: ";
    }
    SECTION("an entry fod would warn about: an image without a tag") {
        push_artifact(*s.registry, "team/mappings", "v1",
                      mapping_file("  tool-untagged:\n    image: " + s.image("team/tool") + "\n"));
        why = "the whole source is refused: ";
    }
    SECTION("a setting beside commands:") {
        push_artifact(*s.registry, "team/mappings", "v1",
                      mapping_file(s.env.entry("tool-x", s.image("team/tool:1"), {"/tool"}, "9s")) +
                          "insecure_registries: [\"" + s.image("elsewhere") + "\"]\n");
        why = "the whole source is refused: ";
    }
    SECTION("a layer of another media type") {
        push_artifact(*s.registry, "team/mappings", "v1",
                      mapping_file(s.env.entry("tool-x", s.image("team/tool:1"), {"/tool"}, "9s")),
                      "text/plain");
        why = "is not a fod mappings artifact";
    }
    SECTION("a layer of more than 1 MiB") {
        std::string big = mapping_file(s.env.entry("tool-x", s.image("team/tool:1"), {}, "9s"));
        const size_t two_mib = size_t{2} * 1024 * 1024;
        while (big.size() < two_mib) big += "# " + std::string(76, 'x') + "\n";
        big.resize(two_mib - 1);
        big += "\n";
        push_artifact(*s.registry, "team/mappings", "v1", big, mappings_type,
                      static_cast<long long>(big.size()));
        why = "is not a fod mappings artifact";
    }
    SECTION("a manifest that declares a layer smaller than the blob") {
        const std::string text =
            mapping_file(s.env.entry("tool-x", s.image("team/tool:1"), {"/tool"}, "9s"));
        push_artifact(*s.registry, "team/mappings", "v1", text, mappings_type, 10);
        why = "";
    }

    Result refused = s.update();
    INFO("update: " << refused.status << "\nstdout: " << refused.out
                    << "\nstderr: " << refused.err);
    CHECK(refused.status == 1);
    CHECK(refused.out.empty());
    CHECK(lines_of(refused.err).size() == 1);
    CHECK(starts_with(refused.err, "fod: " + s.source() + ": "));
    CHECK(contains(refused.err, why));
    CHECK(contains(refused.err, "; the last good copy stays"));
    CHECK(read_file(s.copy()) == kept);
    CHECK(s.from_team("tool-team"));
    CHECK(s.which("tool-x").status != 0);
    CHECK(s.which("tool-untagged").status != 0);
    json status = json::parse(read_file(s.sources_json()), nullptr, false);
    INFO("sources.json: " << status.dump());
    CHECK(status.is_object());
    CHECK_FALSE(status[s.source()]["error"].get<std::string>().empty());
}

// 6 (a). A source that names a container image is not a fod mappings artifact;
// another source beside it is still fetched.
TEST_CASE("team: a source that names a container image is refused, the other sources are fetched",
          "[integration][registry][team]") {
    FOD_REQUIRE_REGISTRY();
    FOD_REQUIRE_ENGINE(Engine::podman);  // push() copies the test image from rootful podman
    Setup s(Engine::podman);
    s.registry->push(scratch_image, "team/notmappings:1");
    const std::string image_source = s.image("team/notmappings:1");
    s.config("", {s.source(), image_source});
    const std::string digest =
        s.publish(mapping_file(s.env.entry("tool-team", s.image("team/tool:1"), {"/tool"}, "90s")));

    Result update = s.update();
    INFO("update: " << update.status << "\nstdout: " << update.out << "\nstderr: " << update.err);
    CHECK(update.status == 1);
    CHECK(has_line(update.out, "fod: " + s.source() + ": fetched " + digest));
    CHECK(has_line(update.out, "  added    tool-team (" + s.image("team/tool:1") + ")"));
    REQUIRE(lines_of(update.err).size() == 1);
    CHECK(starts_with(update.err, "fod: " + image_source + ": "));
    CHECK(contains(update.err, "is not a fod mappings artifact"));
    CHECK(contains(update.err, "; the last good copy stays"));
    CHECK(s.from_team("tool-team"));
    CHECK_FALSE(path_exists(s.copy(1, image_source)));

    // The good source's tag now names the image too: refused, its copy stays.
    const std::string kept = read_file(s.copy());
    s.registry->push(scratch_image, "team/mappings:v1");
    Result both = s.update();
    INFO("update: " << both.status << "\nstdout: " << both.out << "\nstderr: " << both.err);
    CHECK(both.status == 1);
    CHECK(both.out.empty());
    CHECK(lines_of(both.err).size() == 2);
    CHECK(count_of(both.err, "is not a fod mappings artifact") == 2);
    CHECK(read_file(s.copy()) == kept);
    CHECK(s.from_team("tool-team"));
}

// Several sources: a later one wins a name both define; a source taken off the
// list loses its copy, and with the list emptied the team layer is empty.
TEST_CASE("team: a later source wins, and a source taken off the list loses its copy",
          "[integration][registry][team]") {
    FOD_REQUIRE_REGISTRY();
    Setup s(Engine::podman);
    const std::string one = s.image("team/one:v1"), two = s.image("team/two:v1");
    s.config("", {one, two});
    const std::string digest_one =
        s.publish(mapping_file(s.env.entry("tool-one", s.image("team/a:1"), {"/tool"}, "90s") +
                               s.env.entry("tool-both", s.image("team/a:1"), {"/tool"}, "90s")),
                  one);
    const std::string digest_two =
        s.publish(mapping_file(s.env.entry("tool-two", s.image("team/b:1"), {"/tool"}, "90s") +
                               s.env.entry("tool-both", s.image("team/b:1"), {"/tool"}, "90s")),
                  two);
    Result update = s.update();
    INFO("update: " << update.status << "\nstdout: " << update.out << "\nstderr: " << update.err);
    CHECK(update.status == 0);
    CHECK(has_line(update.out, "fod: " + one + ": fetched " + digest_one));
    CHECK(has_line(update.out, "fod: " + two + ": fetched " + digest_two));
    CHECK(has_line(update.out, "  added    tool-both (" + s.image("team/b:1") + ")"));
    Result both = s.which("tool-both");
    INFO("which tool-both: " << both.out << both.err);
    CHECK(contains(both.out, "defined in:  team layer, " + s.copy(1, two) + ":"));
    CHECK(contains(both.out, s.image("team/b:1")));
    CHECK(contains(s.which("tool-one").out, "defined in:  team layer, " + s.copy(0, one) + ":"));

    // The first source is taken off the list: its commands go.
    s.config("", {two});
    Result fewer = s.update();
    INFO("update: " << fewer.status << "\nstdout: " << fewer.out << "\nstderr: " << fewer.err);
    CHECK(fewer.status == 0);
    CHECK(has_line(fewer.out, "  removed  tool-one (" + s.image("team/a:1") + ")"));
    CHECK(s.which("tool-one").status != 0);
    CHECK_FALSE(path_exists(s.copy(0, one)));
    CHECK_FALSE(path_exists(s.copy(1, two)));
    CHECK(contains(s.which("tool-two").out, "defined in:  team layer, " + s.copy(0, two) + ":"));

    // No source at all: the team layer is emptied.
    s.env.write_config("config.yaml",
                       "insecure_registries: [\"" + s.host + "\"]\nconfirm: never\n");
    Result none = s.update();
    INFO("update: " << none.status << "\nstdout: " << none.out << "\nstderr: " << none.err);
    CHECK(none.status == 0);
    CHECK(s.which("tool-two").status != 0);
    CHECK(s.which("tool-both").status != 0);
    CHECK_FALSE(path_exists(s.copy(0, two)));
}

// The team layer lies between the package layer (which it overrides) and the
// system layer (which overrides it).
TEST_CASE("team: the team layer wins over the package layer and loses to the system layer",
          "[integration][registry][team]") {
    FOD_REQUIRE_REGISTRY();
    Setup s(Engine::podman);
    s.config();
    const std::string package = s.image("package/tool:1"), team = s.image("team/tool:1"),
                      system = s.image("system/tool:1");
    s.env.put("data/mappings.yaml",
              mapping_file(s.env.entry("tool-pkg", package, {"/tool"}, "90s") +
                           s.env.entry("tool-sys", package, {"/tool"}, "90s")));
    s.env.put("sysconf/mappings.yaml",
              mapping_file(s.env.entry("tool-sys", system, {"/tool"}, "90s")));
    s.publish(mapping_file(s.env.entry("tool-pkg", team, {"/tool"}, "90s") +
                           s.env.entry("tool-sys", team, {"/tool"}, "90s")));
    Result update = s.update();
    INFO("update: " << update.status << "\nstdout: " << update.out << "\nstderr: " << update.err);
    REQUIRE(update.status == 0);

    Result pkg = s.which("tool-pkg");
    INFO("which tool-pkg: " << pkg.out << pkg.err);
    CHECK(contains(pkg.out, "defined in:  team layer, " + s.copy() + ":"));
    CHECK(contains(pkg.out, "image:       " + team));
    Result sys = s.which("tool-sys");
    INFO("which tool-sys: " << sys.out << sys.err);
    CHECK(contains(sys.out,
                   "defined in:  system layer, " + s.env.root() + "/sysconf/mappings.yaml:"));
    CHECK(contains(sys.out, "image:       " + system));
}

// 7. fod publish refuses a file fod would warn about, and pushes nothing.
TEST_CASE("team: fod publish of a file with a bad entry publishes nothing",
          "[integration][registry][team][publish]") {
    FOD_REQUIRE_REGISTRY();
    Setup s(Engine::podman);
    s.config();
    std::string text;
    SECTION("an image without a tag") {
        text = mapping_file("  tool-bad:\n    image: " + s.image("team/tool") + "\n");
    }
    SECTION("bad YAML") { text = "commands: [\n"; }
    SECTION("a field fod does not know") {
        text = mapping_file(s.env.entry("tool-bad", s.image("team/tool:1"), {"/tool"}, "90s",
                                        "    imagine: yes\n"));
    }
    SECTION("no commands: map") { text = "- tool-bad\n"; }
    const std::string file = s.env.write_work("bad.yaml", text);
    Result r = s.env.fod({"publish", file, s.source()});
    INFO("fod publish: " << r.status << "\nstdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.status == 1);
    CHECK(r.out.empty());
    CHECK(lines_of(r.err).size() == 1);
    CHECK(contains(r.err, "nothing published"));
    HttpResponse tags = http_request(s.registry->port(), "GET", "/v2/team/mappings/tags/list");
    INFO("tags/list: " << tags.status << " " << tags.body);
    CHECK(tags.status == 404);
    HttpResponse manifest = http_request(
        s.registry->port(), "GET", "/v2/team/mappings/manifests/v1", {{"Accept", oci_manifest}});
    CHECK(manifest.status == 404);
}

// 8. Registries with auth: fod publish and fod update use the pulls' credentials.
TEST_CASE("team: publish and update behind Basic auth", "[integration][registry][team][auth]") {
    FOD_REQUIRE_REGISTRY();
    Setup s(Engine::podman, RegistryAuth::basic);
    s.config();
    const std::string text =
        mapping_file(s.env.entry("tool-auth", s.image("team/tool:1"), {"/tool"}, "90s"));
    const std::string file = s.env.write_work("team.yaml", text);

    Result anonymous = s.env.fod({"publish", file, s.source()});
    INFO("publish without credentials: " << anonymous.status << "\nstdout: " << anonymous.out
                                         << "\nstderr: " << anonymous.err);
    CHECK(anonymous.status != 0);
    CHECK(anonymous.out.empty());
    CHECK(lines_of(anonymous.err).size() == 1);
    CHECK(contains(anonymous.err, "cannot publish " + file + " to " + s.source()));

    const RunOptions credentials = with_credentials(s);
    const std::string digest = s.publish(text, "", credentials);
    Result update = s.update(credentials);
    INFO("update: " << update.status << "\nstdout: " << update.out << "\nstderr: " << update.err);
    CHECK(update.status == 0);
    CHECK(has_line(update.out, "fod: " + s.source() + ": fetched " + digest));
    CHECK(s.from_team("tool-auth"));
    CHECK_THAT(update.out + update.err, !Catch::Contains(s.registry->password()));

    Result without = s.update();
    INFO("update without credentials: " << without.status << "\nstdout: " << without.out
                                        << "\nstderr: " << without.err);
    CHECK(without.status == 1);
    CHECK(lines_of(without.err).size() == 1);
    CHECK(contains(without.err, "; the last good copy stays"));
    CHECK(s.from_team("tool-auth"));
}

TEST_CASE("team: publish and update behind token auth", "[integration][registry][team][auth]") {
    FOD_REQUIRE_REGISTRY();
    Setup s(Engine::podman, RegistryAuth::token);
    s.config();
    const std::string text =
        mapping_file(s.env.entry("tool-auth", s.image("team/tool:1"), {"/tool"}, "90s"));
    const std::string file = s.env.write_work("team.yaml", text);

    // Anonymous callers may pull, not push.
    Result anonymous = s.env.fod({"publish", file, s.source()});
    INFO("publish without credentials: " << anonymous.status << "\nstdout: " << anonymous.out
                                         << "\nstderr: " << anonymous.err);
    CHECK(anonymous.status != 0);
    CHECK(anonymous.out.empty());
    CHECK(lines_of(anonymous.err).size() == 1);
    CHECK(contains(anonymous.err, "cannot publish " + file + " to " + s.source()));

    const RunOptions credentials = with_credentials(s);
    const std::string digest = s.publish(text, "", credentials);
    Result update = s.update(credentials);
    INFO("update: " << update.status << "\nstdout: " << update.out << "\nstderr: " << update.err);
    CHECK(update.status == 0);
    CHECK(has_line(update.out, "fod: " + s.source() + ": fetched " + digest));
    CHECK(s.from_team("tool-auth"));
    CHECK_THAT(update.out + update.err, !Catch::Contains(s.registry->password()));
    bool token_asked_with_account = false;
    for (const auto& request : s.registry->token_requests())
        if (!request.header("authorization").empty()) token_asked_with_account = true;
    CHECK(token_asked_with_account);

    Result anonymous_update = s.update();
    INFO("update without credentials: " << anonymous_update.status
                                        << "\nstdout: " << anonymous_update.out
                                        << "\nstderr: " << anonymous_update.err);
    CHECK(anonymous_update.status == 0);
    CHECK(has_line(anonymous_update.out, "fod: " + s.source() + ": unchanged " + digest));
}

// 9. `fod init` starts the detached refresh too, at once when nothing was ever
// fetched: a new member of the team gets the team's commands without `fod update`.
TEST_CASE("team: fod init fetches in the background when nothing was ever fetched",
          "[integration][registry][team][refresh]") {
    FOD_REQUIRE_REGISTRY();
    Setup s(Engine::podman);
    s.config();  // mapping_refresh: the default, 1h
    s.publish(mapping_file(s.env.entry("tool-team", s.image("team/tool:1"), {"/tool"}, "90s")));
    CHECK_FALSE(s.from_team("tool-team"));

    Result init = s.env.fod({"init", "bash"});
    INFO("init: " << init.status << " " << init.err);
    CHECK(init.status == 0);
    CHECK(init.err.empty());
    CHECK_FALSE(init.out.empty());
    const bool fetched = poll_until([&] { return s.from_team("tool-team"); }, 30);
    Result which = s.which("tool-team");
    INFO("which tool-team: " << which.out << which.err << "\nsources.json: "
                             << read_file(s.sources_json()) << "\nreaper.log: "
                             << read_file(s.env.root() + "/state/fod/reaper.log"));
    CHECK(fetched);
}

// 9. After a fetch, `fod init` fetches again only once mapping_refresh has passed.
TEST_CASE("team: fod init fetches in the background once mapping_refresh has passed",
          "[integration][registry][team][refresh]") {
    FOD_REQUIRE_REGISTRY();
    Setup s(Engine::podman);
    s.config();  // mapping_refresh: the default, 1h
    const std::string team_tool =
        s.env.entry("tool-team", s.image("team/tool:1"), {"/tool"}, "90s");
    s.publish(mapping_file(team_tool));
    Result update = s.update();
    INFO("update: " << update.out << update.err);
    REQUIRE(update.status == 0);

    // Not due: the new command stays unknown.
    s.publish(mapping_file(team_tool +
                           s.env.entry("tool-later", s.image("team/tool:1"), {"/tool"}, "90s")));
    Result init = s.env.fod({"init", "bash"});
    INFO("init: " << init.status << " " << init.err);
    CHECK(init.status == 0);
    CHECK(init.err.empty());
    std::this_thread::sleep_for(std::chrono::seconds(3));
    CHECK_FALSE(s.from_team("tool-later"));

    // Due after a second.
    s.config("mapping_refresh: 1s\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    Result due = s.env.fod({"init", "bash"});
    INFO("init: " << due.status << " " << due.err);
    CHECK(due.status == 0);
    CHECK(due.err.empty());
    const bool refreshed = poll_until([&] { return s.from_team("tool-later"); }, 30);
    Result which = s.which("tool-later");
    INFO("which tool-later: " << which.out << which.err << "\nsources.json: "
                              << read_file(s.sources_json()) << "\nreaper.log: "
                              << read_file(s.env.root() + "/state/fod/reaper.log"));
    CHECK(refreshed);
}
