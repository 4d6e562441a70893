// Pull with consent, trust pinning and catalogs, against a real registry on
// loopback (tests/integration/registry_fixture.hpp) and the real engines.
// Terminal cases run fod in a detached tmux pane and answer its question.
#include "fod_env.hpp"
#include "registry_fixture.hpp"
#include "tmux_pane.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unistd.h>

using namespace fod::test;

namespace {

// The text without its line breaks (tmux wraps long lines at its width).
std::string flat(const std::string& text) {
    std::string out;
    for (char c : text)
        if (c != '\n') out += c;
    return out;
}

// fod in a pane of 200x50 as fod's user: `bash -c LINE`, then the status, then
// the pane stays. The shell traps SIGINT (its children get the default back),
// so a command that dies of Ctrl-C does not end it, as with an interactive
// shell, and it can echo the status.
TmuxPane fod_pane(const FodEnv& env, const std::string& line) {
    const std::string script = "trap : INT; " + line + "; echo \"STATUS=$?\"; sleep 600";
    return TmuxPane(env.root(), {"bash", "--norc", "--noprofile", "-c", script},
                    {.cols = 200, .rows = 50, .run = env.options({.timeout_s = 30})});
}

// Rootless podman here cannot use its default network (see ENVIRONMENT.md).
std::string rootless_network(Engine e) {
    return e == Engine::rootless ? "catalog_network: none\n" : "";
}

// Whether the engine has an image by that name.
bool has_image(const FodEnv& env, const std::string& image) {
    return env.engine_cli({"image", "inspect", image}).status == 0;
}

// Removes an image name this test pulled (podman: the name only, so a test
// image sharing its content stays; docker: the pulled image).
void remove_image(const FodEnv& env, const std::string& image) {
    if (env.engine() == Engine::docker) {
        Result id = env.engine_cli({"image", "inspect", "--format", "{{.Id}}", image});
        if (id.status == 0) env.engine_cli({"rmi", "-f", lines_of(id.out).at(0)});
    } else {
        env.engine_cli({"rmi", image});
    }
}

// A registry with the scratch image pushed as REPO:TAG, and fod's config
// allowing plain HTTP to it.
struct Setup {
    explicit Setup(Engine e) : env(e) {}
    FodEnv env;
    TestRegistry registry;
    std::string image(const std::string& repo_tag) const {
        return registry.host() + "/" + repo_tag;
    }
    void config(const std::string& extra = "") const {
        env.write_config("config.yaml",
                         "insecure_registries: [\"" + registry.host() + "\"]\n" + extra);
    }
};

void no_terminal_then_allow(Engine e) {
    FOD_REQUIRE_REGISTRY();
    Setup s(e);
    s.registry.push(scratch_image, "fodtest/tool:1");
    const std::string image = s.image("fodtest/tool:1");
    const std::string digest = s.registry.skopeo_digest("fodtest/tool:1");
    remove_image(s.env, image);
    s.config();
    s.env.write_mappings(s.env.entry("tool-pull", image, {"/tool"}, "91s"));

    Result r = s.env.run_cmd("tool-pull", {"echo", "hi"});
    INFO("stderr: " << r.err);
    CHECK(r.status == 127);
    CHECK(r.out.empty());
    CHECK(contains(r.err, "fod allow tool-pull"));
    CHECK(lines_of(r.err).size() == 1);
    CHECK_FALSE(has_image(s.env, image));
    CHECK(s.env.containers().empty());

    Result allow = s.env.fod({"allow", "tool-pull"});
    INFO("allow: " << allow.out << allow.err);
    CHECK(allow.status == 0);
    CHECK(contains(allow.out, digest));
    CHECK_FALSE(has_image(s.env, image));  // allowing pulls nothing yet
    CHECK(contains(read_file(s.env.root() + "/state/fod/consent.json"), digest));

    Result run = s.env.run_cmd("tool-pull", {"echo", "pulled", "and", "ran"});
    INFO("stderr: " << run.err);
    CHECK(run.status == 0);
    CHECK(run.out == "pulled and ran\n");  // the engine's pull output went to stderr
    CHECK(has_image(s.env, image));

    Result which = s.env.fod({"which", "tool-pull"});
    INFO("which: " << which.out << which.err);
    CHECK(contains(which.out, digest));
    CHECK(contains(which.out, "local image: yes"));
    CHECK(contains(which.out, "consent:     allowed"));

    s.env.stop_all_checked();
    remove_image(s.env, image);
}

void terminal_question(Engine e) {
    FOD_REQUIRE_REGISTRY();
    Setup s(e);
    s.registry.push(scratch_image, "fodtest/asked:1");
    s.registry.push(scratch_image, "fodtest/refused:1", "oci");
    const std::string asked = s.image("fodtest/asked:1");
    const std::string refused = s.image("fodtest/refused:1");
    const std::string digest = s.registry.skopeo_digest("fodtest/asked:1");
    remove_image(s.env, asked);
    remove_image(s.env, refused);
    s.config();
    s.env.write_mappings(s.env.entry("tool-asked", asked, {"/tool"}, "92s") +
                         s.env.entry("tool-refused", refused, {"/tool"}, "92s"));
    const std::string fod = fod_binary();

    {
        TmuxPane pane = fod_pane(s.env, "'" + fod + "' run tool-asked echo answered yes");
        REQUIRE(pane.wait_for("[Y/n]"));
        std::string question = flat(pane.screen());
        INFO("screen:\n" << question);
        CHECK(contains(question, "tool-asked"));
        CHECK(contains(question, asked));
        CHECK(contains(question, digest));
        CHECK(contains(question, "B to"));  // B, kB or MB to download
        pane.type("y");
        CHECK(pane.wait_for("STATUS=0"));
        INFO("screen:\n" << pane.screen());
        CHECK(contains(pane.screen(), "answered yes"));
    }
    CHECK(has_image(s.env, asked));

    {
        TmuxPane pane = fod_pane(s.env, "'" + fod + "' run tool-refused echo never");
        REQUIRE(pane.wait_for("[Y/n]"));
        pane.type("n");
        CHECK(pane.wait_for("STATUS=127"));
        INFO("screen:\n" << pane.screen());
        CHECK_FALSE(contains(pane.screen(), "never\n"));
    }
    CHECK_FALSE(has_image(s.env, refused));
    // Remembered: no question, 127 and how to change it, also on a terminal.
    Result again = s.env.run_cmd("tool-refused", {"echo", "x"});
    INFO("stderr: " << again.err);
    CHECK(again.status == 127);
    CHECK(contains(again.err, "declined"));
    CHECK(contains(again.err, "fod allow tool-refused"));
    {
        TmuxPane pane = fod_pane(s.env, "'" + fod + "' run tool-refused echo never");
        CHECK(pane.wait_for("STATUS=127"));
        CHECK_FALSE(contains(pane.screen(), "[Y/n]"));
    }

    s.env.stop_all_checked();
    remove_image(s.env, asked);
}

// Two runs find the image absent at once (two terminals): the first asks, the
// second waits for it and says so; one answer pulls for both, and the second
// is never asked.
void two_runs_one_question(Engine e) {
    FOD_REQUIRE_REGISTRY();
    Setup s(e);
    s.registry.push(scratch_image, "fodtest/twice:1");
    const std::string image = s.image("fodtest/twice:1");
    remove_image(s.env, image);
    s.config();
    s.env.write_mappings(s.env.entry("tool-twice", image, {"/tool"}, "94s"));
    const std::string fod = fod_binary();

    TmuxPane first = fod_pane(s.env, "'" + fod + "' run tool-twice echo first run");
    REQUIRE(first.wait_for("[Y/n]"));
    TmuxPane second = fod_pane(s.env, "'" + fod + "' run tool-twice echo second run");
    CHECK(second.wait_for("waiting for another fod pulling " + image));
    // A run with no terminal to ask on does not wait for the question: 127 at once.
    Result batch = s.env.run_cmd("tool-twice", {"echo", "batch"});
    INFO("batch stderr: " << batch.err);
    CHECK(batch.status == 127);
    CHECK(contains(batch.err, "fod allow tool-twice"));
    first.type("y");
    CHECK(first.wait_for("STATUS=0"));
    CHECK(second.wait_for("STATUS=0"));
    INFO("first:\n" << first.screen() << "\nsecond:\n" << second.screen());
    CHECK(contains(first.screen(), "first run"));
    CHECK(contains(second.screen(), "second run"));
    CHECK_FALSE(contains(second.screen(), "[Y/n]"));
    CHECK(has_image(s.env, image));

    s.env.stop_all_checked();
    remove_image(s.env, image);
}

void confirm_never(Engine e) {
    FOD_REQUIRE_REGISTRY();
    Setup s(e);
    s.registry.push(scratch_image, "fodtest/never:1");
    const std::string image = s.image("fodtest/never:1");
    remove_image(s.env, image);
    s.config("confirm: never\n");
    s.env.write_mappings(s.env.entry("tool-never", image, {"/tool"}, "93s"));

    Result r = s.env.run_cmd("tool-never", {"echo", "no", "question"});
    INFO("stderr: " << r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "no question\n");
    CHECK(contains(read_file(s.env.root() + "/state/fod/consent.json"),
                   s.registry.skopeo_digest("fodtest/never:1")));

    s.env.stop_all_checked();
    remove_image(s.env, image);
}

void digest_change(Engine e) {
    FOD_REQUIRE_REGISTRY();
    Setup s(e);
    s.registry.push(scratch_image, "fodtest/moving:1", "v2s2");
    const std::string image = s.image("fodtest/moving:1");
    const std::string first = s.registry.skopeo_digest("fodtest/moving:1");
    remove_image(s.env, image);
    s.config();
    s.env.write_mappings(s.env.entry("tool-moving", image, {"/tool"}, "94s"));
    REQUIRE(s.env.fod({"allow", "tool-moving"}).status == 0);
    Result r = s.env.run_cmd("tool-moving", {"echo", "first"});
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    s.env.stop_all_checked();

    // The same tag now names another manifest.
    s.registry.push(scratch_image, "fodtest/moving:1", "oci");
    const std::string second = s.registry.skopeo_digest("fodtest/moving:1");
    REQUIRE(first != second);
    remove_image(s.env, image);

    Result quiet = s.env.run_cmd("tool-moving", {"echo", "x"});
    INFO("stderr: " << quiet.err);
    CHECK(quiet.status == 127);
    CHECK(contains(quiet.err, first));
    CHECK(contains(quiet.err, second));
    CHECK_FALSE(has_image(s.env, image));

    {
        TmuxPane pane = fod_pane(s.env, "'" + fod_binary() + "' run tool-moving echo second");
        REQUIRE(pane.wait_for("[Y/n]"));
        INFO("screen:\n" << pane.screen());
        CHECK(contains(flat(pane.screen()), first));
        CHECK(contains(flat(pane.screen()), second));
        pane.type("");  // the default is yes
        CHECK(pane.wait_for("STATUS=0"));
        CHECK(contains(pane.screen(), "second"));
    }
    CHECK(contains(read_file(s.env.root() + "/state/fod/consent.json"), second));

    // A mapping pinned by digest pulls that digest and asks nothing about changes.
    remove_image(s.env, image);
    s.env.stop_all_checked();
    const std::string pinned = s.registry.host() + "/fodtest/moving@" + first;
    s.env.write_mappings(s.env.entry("tool-pinned", pinned, {"/tool"}, "94s"));
    REQUIRE(s.env.fod({"allow", "tool-pinned"}).status == 0);
    Result p = s.env.run_cmd("tool-pinned", {"echo", "pinned"});
    INFO("stderr: " << p.err);
    CHECK(p.status == 0);
    CHECK(p.out == "pinned\n");

    s.env.stop_all_checked();
    remove_image(s.env, pinned);
}

void catalog_hit_and_miss(Engine e) {
    FOD_REQUIRE_REGISTRY();
    Setup s(e);
    s.registry.push(scratch_image, "cat/tool-cat:latest");
    const std::string image = s.image("cat/tool-cat:latest");
    remove_image(s.env, image);
    HttpListener counter([](const HttpRequest&) {
        return HttpResponse{.status = 404,
                            .headers = {{"Content-Type", "application/json"}},
                            .body = R"({"errors":[{"code":"NAME_UNKNOWN","message":"no"}]})"};
    });
    s.env.write_config("config.yaml", "insecure_registries: [\"" + s.registry.host() + "\", \"" +
                                          counter.host() + "\"]\nconfirm: never\ncatalogs: [\"" +
                                          counter.host() + "/tools\", \"" + s.registry.host() +
                                          "/cat\"]\n" + rootless_network(e));
    s.env.write_mappings("");

    // A hit in the second catalog runs the image's own entrypoint.
    Result hit = s.env.run_cmd("tool-cat", {"echo", "from", "a", "catalog"});
    INFO("stderr: " << hit.err);
    CHECK(hit.status == 0);
    CHECK(hit.out == "from a catalog\n");
    size_t asked = counter.requests().size();
    CHECK(asked > 0);  // the first catalog was asked first
    // Known now: no registry is asked again.
    Result again = s.env.run_cmd("tool-cat", {"echo", "again"});
    CHECK(again.out == "again\n");
    CHECK(counter.requests().size() == asked);

    // A miss: 127, and the second miss sends nothing.
    Result miss = s.env.fod({"_catalog", "nosuchtool"});
    CHECK(miss.status == 1);
    size_t after_miss = counter.requests().size();
    CHECK(after_miss > asked);
    Result miss2 = s.env.fod({"_catalog", "nosuchtool"});
    CHECK(miss2.status == 1);
    Result miss3 = s.env.run_cmd("nosuchtool", {});
    CHECK(miss3.status == 127);
    CHECK(counter.requests().size() == after_miss);

    // A name that cannot be an image name is never sent.
    for (const char* name : {"Tool-Upper", "c++", "a..b"}) {
        Result bad = s.env.fod({"_catalog", name});
        CHECK(bad.status == 1);
    }
    CHECK(counter.requests().size() == after_miss);
    for (const auto& request : counter.requests()) {
        CHECK_FALSE(contains(request.target, "Upper"));
    }

    s.env.stop_all_checked();
    remove_image(s.env, image);
}

void catalog_in_bash(Engine e) {
    FOD_REQUIRE_REGISTRY();
    Setup s(e);
    s.registry.push(scratch_image, "cat/tool-shcat:latest");
    const std::string image = s.image("cat/tool-shcat:latest");
    remove_image(s.env, image);
    s.config("confirm: never\ncatalogs: [\"" + s.registry.host() + "/cat\"]\n" +
             rootless_network(e));
    s.env.write_mappings("");
    std::string script = "eval \"$('" + fod_binary() +
                         "' init bash)\"\n"
                         "tool-shcat echo via the handler </dev/null\n"
                         "echo \"status=$?\"\n"
                         "tool-shcat exit 127 </dev/null\n"
                         "echo \"own=$?\"\n"
                         "nosuch-shcat\n"
                         "echo \"miss=$?\"\n";
    Result r = run({"bash", "--norc", "--noprofile", "-i"},
                   s.env.options({.stdin_data = script, .env_set = {{"PS1", ""}}}));
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(contains(r.out, "via the handler\nstatus=0\n"));
    CHECK(contains(r.out, "own=127\n"));
    CHECK(contains(r.out, "miss=127\n"));
    CHECK(contains(r.err, "bash: nosuch-shcat: command not found"));

    s.env.stop_all_checked();
    remove_image(s.env, image);
}

// Pushes an image of its own (busybox and a unique file) as REPO:TAG: an engine
// that has the layers already would download nothing, and a pull that is to be
// stopped or to fail at a blob must fetch one.
void push_unique_image(const Setup& s, const std::string& repo_tag) {
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
    OwnImages imported_image(Engine::podman);
    imported_image.track(local);
    Result imported = run({"podman", "import", "--change", "ENTRYPOINT [\"/bin/busybox\"]",
                           rootfs.path() + "/rootfs.tar", local},
                          engine_options(Engine::podman, {.timeout_s = 120}));
    INFO(imported.err);
    REQUIRE(imported.status == 0);
    s.registry.push(local, repo_tag);
}

// Forwards a request of an engine to the registry on `upstream` and its answer back.
HttpResponse forward(int upstream, const HttpRequest& request) {
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& [name, value] : request.headers) {
        if (name != "host" && name != "connection" && name != "content-length" &&
            name != "accept") {
            headers.emplace_back(name, value);
        }
    }
    // The listener keeps one header of a name; the engines send several Accept lines.
    headers.emplace_back("Accept",
                         "application/vnd.oci.image.manifest.v1+json, "
                         "application/vnd.oci.image.index.v1+json, "
                         "application/vnd.docker.distribution.manifest.v2+json, "
                         "application/vnd.docker.distribution.manifest.list.v2+json, */*");
    const std::string method = request.method == "HEAD" ? "GET" : request.method;
    HttpResponse answer = http_request(upstream, method, request.target, headers, request.body);
    HttpResponse out{.status = answer.status, .body = answer.body};
    for (const auto& [name, value] : answer.headers) {
        std::string lower = name;
        for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (lower != "content-length" && lower != "connection" && lower != "transfer-encoding") {
            out.headers.emplace_back(name, value);
        }
    }
    return out;
}

// A proxy in front of the registry that, while `stall` is set, holds blob
// downloads: a pull that hangs until Ctrl-C.
void interrupted_pull(Engine e) {
    FOD_REQUIRE_REGISTRY();
    OwnImages pulled(e);
    Setup s(e);
    push_unique_image(s, "fodtest/slow:1");
    const std::string digest = s.registry.skopeo_digest("fodtest/slow:1");
    std::atomic<bool> stall{true};
    std::atomic<int> stalled{0};
    const int upstream = s.registry.port();
    HttpListener proxy([&](const HttpRequest& request) {
        if (stall && contains(request.path, "/blobs/")) {
            // Hold the download until the test lets go (then forward it: a daemon
            // that goes on pulling after its client is gone, as dockerd does, must
            // not block the next attempt on a transfer that never ends).
            ++stalled;
            poll_until([&] { return !stall; }, 120);
        }
        return forward(upstream, request);
    });
    const std::string image = proxy.host() + "/fodtest/slow:1";
    pulled.track(image);
    pulled.track(proxy.host() + "/fodtest/slow@" + digest);
    remove_image(s.env, image);
    s.env.write_config("config.yaml",
                       "confirm: never\ninsecure_registries: [\"" + proxy.host() + "\"]\n");
    s.env.write_mappings(s.env.entry("tool-slow", image, {"/bin/busybox"}, "95s"));

    {
        TmuxPane pane = fod_pane(s.env, "'" + fod_binary() + "' run tool-slow echo too early");
        poll_until([&] { return stalled > 0; }, 60, std::chrono::milliseconds(100));
        INFO("screen:\n" << pane.screen());
        REQUIRE(stalled > 0);
        pane.key("C-c");
        CHECK(pane.wait_for("STATUS=130"));
        CHECK_FALSE(contains(pane.screen(), "too early"));
    }
    CHECK(s.env.containers().empty());
    CHECK_FALSE(has_image(s.env, image));

    // The next attempt starts over and works.
    stall = false;
    Result r = s.env.run_cmd("tool-slow", {"echo", "second", "try"});
    INFO("stderr: " << r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "second try\n");

    s.env.stop_all_checked();
}

// The registry answers the probe (the manifest is there) but the engine's pull
// fails at a blob: while `fail` is set, a proxy answers blob requests with it:
// 404 BLOB_UNKNOWN (a blob missing from the registry), and 500 with the
// registry's message (not on docker, whose daemon retries a 500 five times with
// growing pauses, about 50 s).
void failed_pull(Engine e) {
    FOD_REQUIRE_REGISTRY();
    OwnImages pulled(e);
    Setup s(e);
    push_unique_image(s, "fodtest/broken:1");
    const std::string digest = s.registry.skopeo_digest("fodtest/broken:1");
    std::atomic<int> fail{0};
    std::atomic<int> refused{0};
    const int upstream = s.registry.port();
    HttpListener proxy([&](const HttpRequest& request) {
        if (fail != 0 && contains(request.path, "/blobs/")) {
            ++refused;
            return HttpResponse{
                fail,
                {{"Content-Type", "application/json"}},
                fail == 404
                    ? R"({"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]})"
                    : R"({"errors":[{"code":"UNKNOWN","message":"storage backend down"}]})"};
        }
        return forward(upstream, request);
    });
    const std::string image = proxy.host() + "/fodtest/broken:1";
    const std::string by_digest = proxy.host() + "/fodtest/broken@" + digest;
    pulled.track(image);
    pulled.track(by_digest);
    remove_image(s.env, image);
    s.env.write_config("config.yaml", "insecure_registries: [\"" + proxy.host() + "\"]\n");
    s.env.write_mappings(s.env.entry("tool-broken", image, {"/bin/busybox"}, "96s"));
    Result allow = s.env.fod({"allow", "tool-broken"});
    INFO("allow: " << allow.out << allow.err);
    REQUIRE(allow.status == 0);
    const std::string consent = read_file(s.env.root() + "/state/fod/consent.json");
    REQUIRE(contains(consent, digest));

    std::vector<int> failures = {404};
    if (e != Engine::docker) failures.push_back(500);
    for (int status : failures) {
        fail = status;
        refused = 0;
        Result r = s.env.run_cmd("tool-broken", {"echo", "should", "not", "run"});
        INFO("blob answered " << status << "; stderr: " << r.err);
        CHECK(refused > 0);
        CHECK(r.status == 125);
        CHECK(r.out.empty());
        // One line: what failed, the image, and the engine's reason.
        CHECK(lines_of(r.err).size() == 1);
        CHECK(contains(r.err, "fod: error: " + engine_cli(e) + " pull of " + image + " failed: "));
        if (status == 404) {
            CHECK((contains(r.err, "blob unknown") || contains(r.err, "unknown blob") ||
                   contains(r.err, "404")));
        } else {
            CHECK(contains(r.err, "500"));
        }
        CHECK_FALSE(has_image(s.env, image));
        CHECK_FALSE(has_image(s.env, by_digest));
        CHECK(s.env.containers().empty());
        // The consent is what it was: no question next time, the same digest approved.
        CHECK(read_file(s.env.root() + "/state/fod/consent.json") == consent);
    }

    // Once the registry serves the blob again, the next run pulls and runs.
    fail = 0;
    Result again = s.env.run_cmd("tool-broken", {"echo", "second", "try"});
    INFO("stderr: " << again.err);
    CHECK(again.status == 0);
    CHECK(again.out == "second try\n");

    s.env.stop_all_checked();
}

// fod which and fod run never ask a registry about a localhost/ name (podman's
// name for images built or imported here), and fod which asks about an image the
// engine has only with --registry. FOD_REGISTRY is a script that records each
// call, so "asked" is seen directly.
void local_images_ask_no_registry(Engine e) {
    FodEnv env(e);
    const std::string nonce =
        std::to_string(getpid()) + "-" +
        std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
    const std::string calls = env.work() + "/registry-calls";
    const std::string fake = env.write_work(
        "fake-registry", "#!/bin/sh\necho \"$*\" >> '" + calls +
                             "'\n"
                             "echo '{\"error\":\"the fake registry helper was asked\"}'\nexit 3\n");
    std::filesystem::permissions(fake, std::filesystem::perms(0755));
    RunOptions with_fake{.env_set = {{"FOD_REGISTRY", fake}}};
    auto asked = [&] { return lines_of(read_file(calls)).size(); };

    const std::string absent = "localhost/fod-test-absent:" + nonce;
    const std::string tagged = "127.0.0.1:9/fodtest/tagged:" + nonce;
    Result tag = env.engine_cli({"tag", busybox_image, tagged});
    INFO("tag: " << tag.err);
    REQUIRE(tag.status == 0);
    env.write_mappings(env.entry("tool-local", busybox_image, {"/bin/busybox"}, "97s") +
                       env.entry("tool-absent", absent, {"/bin/busybox"}, "97s") +
                       env.entry("tool-tagged", tagged, {"/bin/busybox"}, "97s"));

    SECTION("a localhost/ image the engine has: no registry, also with --registry") {
        for (const auto& args : {std::vector<std::string>{"which", "tool-local"},
                                 std::vector<std::string>{"which", "--registry", "tool-local"}}) {
            Result which = env.fod(args, with_fake);
            INFO("which: " << which.out << which.err);
            CHECK(which.status == 0);
            CHECK(contains(which.out, "registry:    none, a local image name"));
            CHECK(contains(which.out, "local image: yes"));
            CHECK_FALSE(contains(which.out + which.err, "unreachable"));
        }
        CHECK(asked() == 0);
    }
    SECTION("a localhost/ image the engine lacks: which says so, run fails in one line, allow "
            "has nothing to allow; no registry") {
        Result which = env.fod({"which", "tool-absent"}, with_fake);
        INFO("which: " << which.out << which.err);
        CHECK(contains(which.out, "registry:    none, a local image name"));
        CHECK(contains(which.out, "local image: no (localhost/: build or import it)"));

        Result r = env.run_cmd("tool-absent", {"echo", "x"}, with_fake);
        INFO("run: " << r.err);
        CHECK(r.status == 125);
        CHECK(lines_of(r.err).size() == 1);
        CHECK(contains(r.err, absent + " of tool-absent is not present and cannot be pulled: "
                                       "localhost/ names are images built or imported"));
        CHECK(env.containers().empty());

        Result allow = env.fod({"allow", "tool-absent"}, with_fake);
        INFO("allow: " << allow.out << allow.err);
        CHECK(allow.status == 0);
        CHECK(contains(allow.out, "nothing to allow"));
        CHECK_FALSE(contains(read_file(env.root() + "/state/fod/consent.json"), absent));
        CHECK(asked() == 0);
    }
    SECTION("a registry image the engine has: asked only with --registry") {
        Result which = env.fod({"which", "tool-tagged"}, with_fake);
        INFO("which: " << which.out << which.err);
        CHECK(contains(which.out, "registry:    not asked, the image is local (fod which "
                                  "--registry tool-tagged asks)"));
        CHECK(contains(which.out, "local image: yes"));
        CHECK(asked() == 0);
        Result asking = env.fod({"which", "--registry", "tool-tagged"}, with_fake);
        INFO("which --registry: " << asking.out << asking.err);
        CHECK(contains(asking.out, "registry unreachable: the fake registry helper was asked"));
        CHECK(asked() == 1);
    }
    env.engine_cli({"rmi", tagged});
}

// Whether text holds anything that changes a terminal's state: a C0 control other
// than a line feed, DEL, a C1 control (U+0080..U+009F, or a raw byte 0x80..0x9F),
// or bytes that are not UTF-8.
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

// What a hostile registry puts in its text: a window title, a screen clear, colours,
// and an 8-bit CSI encoded in UTF-8.
const std::string hostile = "\x1b]0;pwned\x07\x1b[2J\x1b[31m\xc2\x9b"
                            "1m";

}  // namespace

// A registry (the test's HTTP listener) whose answers hold escape sequences, or
// cannot be read. fod which and fod allow print none of its control characters;
// a malformed answer is an error (125, one line) and records no consent; only a
// registry that cannot be reached at all lets fod allow record consent without
// a digest.
TEST_CASE("pull: registry text is printed without control characters, and a malformed answer is an "
          "error that records no consent",
          "[integration][pull][registry][which]") {
    FodEnv env(Engine::podman);
    HttpResponse answer;
    std::mutex mutex;
    HttpListener server([&](const HttpRequest&) {
        std::lock_guard<std::mutex> lock(mutex);
        return answer;
    });
    auto serve = [&](HttpResponse response) {
        std::lock_guard<std::mutex> lock(mutex);
        answer = std::move(response);
    };
    const std::string image = server.host() + "/fodtest/hostile:1";
    env.write_config("config.yaml",
                     "insecure_registries: [\"" + server.host() + "\"]\nconfirm: never\n");
    env.write_mappings(env.entry("tool-hostile", image, {"/tool"}, "98s"));
    const std::string consent_file = env.root() + "/state/fod/consent.json";
    const std::string oci_manifest = "application/vnd.oci.image.manifest.v1+json";

    // fod which --registry and fod allow against the current answer: nothing either
    // prints holds a control character, and allow records no consent.
    auto which_and_allow = [&](int allow_status, const std::string& which_says) {
        Result which = env.fod({"which", "--registry", "tool-hostile"});
        INFO("which: " << which.out << which.err);
        CHECK(which.status == 0);
        CHECK(contains(which.out, which_says));
        CHECK_FALSE(has_control(which.out + which.err));
        Result allow = env.fod({"allow", "tool-hostile"});
        INFO("allow: " << allow.out << allow.err);
        CHECK(allow.status == allow_status);
        CHECK(allow.out.empty());
        CHECK(lines_of(allow.err).size() == 1);
        CHECK_FALSE(has_control(allow.out + allow.err));
        CHECK_FALSE(contains(read_file(consent_file), image));
        return allow;
    };

    SECTION("a manifest whose mediaType holds escape sequences: malformed, 125") {
        serve({200,
               {{"Content-Type", oci_manifest}},
               nlohmann::json{{"schemaVersion", 2},
                              {"mediaType", hostile},
                              {"layers", nlohmann::json::array()}}
                   .dump()});
        Result allow =
            which_and_allow(125, "registry:    malformed answer from " + server.host() + ": ");
        CHECK(contains(allow.err, "malformed answer from " + server.host()));
        CHECK(contains(allow.err, "]0;pwned[2J[31m1m"));  // what is left is shown
    }
    SECTION("an index whose platforms hold escape sequences: not found, 1") {
        const std::string digest = "sha256:" + std::string(64, 'c');
        nlohmann::json index = {
            {"schemaVersion", 2},
            {"mediaType", "application/vnd.oci.image.index.v1+json"},
            {"manifests",
             {{{"mediaType", oci_manifest},
               {"digest", digest},
               {"size", 1},
               {"platform", {{"os", hostile + "linux"}, {"architecture", "arm64" + hostile}}}}}}};
        serve({200, {{"Content-Type", "application/vnd.oci.image.index.v1+json"}}, index.dump()});
        which_and_allow(1, "registry:    not found: ");
    }
    SECTION("an error message that holds escape sequences: a registry error, 125") {
        serve({500,
               {{"Content-Type", "application/json"}},
               nlohmann::json{{"errors", {{{"code", "UNKNOWN"}, {"message", "down " + hostile}}}}}
                   .dump()});
        Result allow = which_and_allow(125, "registry:    registry error: ");
        CHECK(contains(allow.err, "500"));
    }
    SECTION("a text error body with raw C1 bytes: a registry error, 125") {
        serve({503,
               {{"Content-Type", "text/plain"}},
               "down\x9b"
               "2J\x85 " +
                   hostile + "\nsecond line"});
        which_and_allow(125, "registry:    registry error: ");
    }
    SECTION("a token realm that holds escape sequences: a registry error, 125") {
        serve(
            {401,
             {{"WWW-Authenticate", "Bearer realm=\"" + hostile + "ftp://x/token\",service=\"s\""}},
             "{}"});
        which_and_allow(125, "registry:    registry error: ");
    }
    SECTION("malformed JSON: one line, 125, no consent; fod run says the same") {
        serve({200, {{"Content-Type", oci_manifest}}, R"({"schemaVersion":2,"layers":[)"});
        Result allow =
            which_and_allow(125, "registry:    malformed answer from " + server.host() + ": ");
        CHECK(contains(allow.err, "fod: error: cannot allow tool-hostile to pull " + image +
                                      ": malformed answer from " + server.host() + ": "));
        CHECK(contains(allow.err, "not valid JSON"));
        Result run = env.run_cmd("tool-hostile", {"x"});
        INFO("run: " << run.err);
        CHECK(run.status == 125);
        CHECK(lines_of(run.err).size() == 1);
        CHECK(contains(run.err, "malformed answer from " + server.host()));
        CHECK_FALSE(contains(read_file(consent_file), image));
    }
    SECTION("a manifest of the wrong types: malformed, 125") {
        serve({200, {{"Content-Type", oci_manifest}}, R"({"schemaVersion":2,"layers":"many"})"});
        which_and_allow(125, "registry:    malformed answer from " + server.host() + ": ");
    }
    SECTION("a registry that cannot be reached at all: allow records consent without a digest") {
        const std::string gone = "127.0.0.1:" + std::to_string(free_port());
        env.write_config("config.yaml", "insecure_registries: [\"" + gone + "\"]\n");
        env.write_mappings(env.entry("tool-gone", gone + "/fodtest/gone:1", {"/tool"}, "98s"));
        Result which = env.fod({"which", "--registry", "tool-gone"});
        INFO("which: " << which.out << which.err);
        CHECK(contains(which.out, "registry:    registry unreachable: "));
        Result allow = env.fod({"allow", "tool-gone"});
        INFO("allow: " << allow.out << allow.err);
        CHECK(allow.status == 0);
        CHECK(contains(allow.out, "registry unreachable"));
        CHECK(contains(read_file(consent_file), gone + "/fodtest/gone:1"));
    }
}

// fod's engine and registry-helper argv, as a fake engine and a fake helper
// record them: an image that validation refuses never reaches either, and a valid
// one always follows "--" (pull, tag, image inspect, fod-registry probe).
TEST_CASE("pull: an invalid image never reaches the engine, and a valid one follows -- in pull, "
          "tag, inspect and the probe",
          "[integration][pull][argv]") {
    FodEnv env(Engine::podman);
    const std::string calls = env.work() + "/engine-calls";
    const std::string probes = env.work() + "/registry-calls";
    // One line per call, each argument (not the program's name) ended by \x1f.
    const std::string record =
        "for a in \"$@\"; do printf '%s\\037' \"$a\"; done >> '%LOG%'; echo >> '%LOG%'\n";
    auto recording = [&](const std::string& log) {
        std::string line = record;
        for (size_t at; (at = line.find("%LOG%")) != std::string::npos;) line.replace(at, 5, log);
        return line;
    };
    const std::string engine = env.write_work(
        "fake/podman", "#!/bin/sh\n" + recording(calls) +
                           "case \"$1\" in\n"
                           "  image) exit 1 ;;\n"
                           "  pull|tag) exit 0 ;;\n"
                           "  *) echo 'Error: fake: image not known' >&2; exit 125 ;;\n"
                           "esac\n");
    const std::string digest = "sha256:" + std::string(64, 'd');
    const std::string helper = env.write_work(
        "fake/fod-registry", "#!/bin/sh\n" + recording(probes) +
                                 "echo '{\"reference\":\"r\",\"digest\":\"" + digest +
                                 "\",\"manifest_digest\":\"" + digest + "\",\"size\":1}'\n");
    std::filesystem::permissions(engine, std::filesystem::perms(0755));
    std::filesystem::permissions(helper, std::filesystem::perms(0755));
    RunOptions fakes{.env_set = {{"FOD_ENGINE", engine}, {"FOD_REGISTRY", helper}}};
    auto calls_of = [](const std::string& log) {
        std::vector<std::vector<std::string>> out;
        for (const auto& line : lines_of(read_file(log))) {
            std::vector<std::string> argv;
            size_t start = 0;
            for (size_t end; (end = line.find('\x1f', start)) != std::string::npos; start = end + 1)
                argv.push_back(line.substr(start, end - start));
            out.push_back(argv);
        }
        return out;
    };

    const std::string good = "127.0.0.1:9/fodtest/good:1";
    const std::vector<std::string> bad = {"-u0:0/x:1", "a..b/x:1", "x/-y:1"};
    env.write_config("config.yaml", "confirm: never\n");
    env.write_mappings(env.entry("tool-good", good, {"/tool"}, "99s") +
                       env.entry("tool-bad0", bad[0], {"/tool"}, "99s") +
                       env.entry("tool-bad1", bad[1], {"/tool"}, "99s") +
                       env.entry("tool-bad2", bad[2], {"/tool"}, "99s"));

    for (int i = 0; i < 3; ++i) {
        const std::string name = "tool-bad" + std::to_string(i);
        Result run = env.run_cmd(name, {"x"}, fakes);
        INFO(name << ": " << run.err);
        CHECK(run.status == 127);
        CHECK(env.fod({"allow", name}, fakes).status == 1);
        Result which = env.fod({"which", "--registry", name}, fakes);
        INFO("which: " << which.err);
        CHECK(which.status == 1);
        // fod which prints the mapping's warnings: one names the image and why.
        CHECK(contains(which.err, "image '" + bad[static_cast<size_t>(i)] + "': "));
    }
    for (const auto& log : {calls, probes})
        for (const auto& argv : calls_of(log))
            for (const auto& image : bad) {
                INFO(::Catch::Detail::stringify(argv));
                CHECK(std::find(argv.begin(), argv.end(), image) == argv.end());
            }

    Result run = env.run_cmd("tool-good", {"x"}, fakes);
    INFO("run: " << run.out << run.err);
    const std::string by_digest = "127.0.0.1:9/fodtest/good@" + digest;
    std::map<std::string, int> seen;
    for (const auto& argv : calls_of(calls)) {
        INFO(::Catch::Detail::stringify(argv));
        REQUIRE(argv.size() >= 2);
        const std::string what = argv[0] == "image" ? "image " + argv[1] : argv[0];
        if (what != "pull" && what != "tag" && what != "image inspect") continue;
        ++seen[what];
        auto dashes = std::find(argv.begin(), argv.end(), "--");
        REQUIRE(dashes != argv.end());
        // Everything after "--" is an image; nothing before it is.
        for (auto it = argv.begin(); it != dashes; ++it) CHECK_FALSE(contains(*it, "fodtest/good"));
        for (auto it = dashes + 1; it != argv.end(); ++it) CHECK((*it == good || *it == by_digest));
        CHECK(dashes + 1 != argv.end());
    }
    CHECK(seen["pull"] == 1);
    CHECK(seen["tag"] == 1);
    CHECK(seen["image inspect"] >= 1);
    auto probe_calls = calls_of(probes);
    REQUIRE(probe_calls.size() == 1);
    REQUIRE(probe_calls[0].size() >= 2);
    CHECK(probe_calls[0].end()[-2] == "--");
    CHECK(probe_calls[0].back() == good);
}

FOD_TEST_ALL_ENGINES(
    "pull: Ctrl-C during the pull exits 130, starts nothing, and the next run works",
    "[pull][interrupt]", interrupted_pull)
FOD_TEST_ALL_ENGINES("pull: a blob the registry will not serve: one line with the engine's reason, "
                     "125, nothing tagged or run, consent kept",
                     "[pull][failure]", failed_pull)
FOD_TEST_ALL_ENGINES("pull: no registry is asked about localhost/ names, nor by fod which about an "
                     "image the engine has",
                     "[pull][which]", local_images_ask_no_registry)
FOD_TEST_ALL_ENGINES(
    "pull: without a terminal 127 and how to allow, after fod allow it pulls and runs",
    "[pull][consent]", no_terminal_then_allow)
FOD_TEST_ALL_ENGINES(
    "pull: the question on a terminal names command, image, digest, size, y pulls, n is remembered",
    "[pull][consent]", terminal_question)
FOD_TEST_ALL_ENGINES(
    "pull: two runs that find the image absent at once: one question, one pull, both run", "[pull]",
    two_runs_one_question)
FOD_TEST_ALL_ENGINES("pull: confirm: never pulls without asking and records the digest",
                     "[pull][consent]", confirm_never)
FOD_TEST_ALL_ENGINES(
    "pull: a tag that moved names both digests and asks again, a pinned digest does not",
    "[pull][consent]", digest_change)
FOD_TEST_ALL_ENGINES(
    "pull: catalogs: a hit runs the image, a miss is cached, a bad name is never sent",
    "[pull][catalog]", catalog_hit_and_miss)
FOD_TEST_ALL_ENGINES("pull: catalogs through the bash handler: hit runs, miss gives bash's message",
                     "[pull][catalog][shell]", catalog_in_bash)
