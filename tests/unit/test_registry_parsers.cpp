// The registry client's parsers: WWW-Authenticate, credentials files, manifests and indexes.
#include "base/dirs.hpp"
#include "registry/auth_file.hpp"
#include "registry/cred_helper.hpp"
#include "registry/manifest.hpp"
#include "registry/www_authenticate.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <string>

using namespace fod::registry;

TEST_CASE("registry::parse_www_authenticate reads the challenges registries send",
          "[unit][registry]") {
  SECTION("Docker Hub's bearer challenge") {
    auto challenges = parse_www_authenticate(
        R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",)"
        R"(scope="repository:library/jq:pull")");
    REQUIRE(challenges.size() == 1);
    CHECK(challenges[0].scheme == "bearer");
    CHECK(challenges[0].param("realm") == "https://auth.docker.io/token");
    CHECK(challenges[0].param("service") == "registry.docker.io");
    CHECK(challenges[0].param("scope") == "repository:library/jq:pull");
  }
  SECTION("a comma inside a quoted value does not split it") {
    auto challenges = parse_www_authenticate(
        R"(Bearer realm="https://r/token",scope="repository:a:pull,push",service="s")");
    REQUIRE(challenges.size() == 1);
    CHECK(challenges[0].param("scope") == "repository:a:pull,push");
    CHECK(challenges[0].param("service") == "s");
  }
  SECTION("escapes in quoted strings, spaces around '=', case of names") {
    auto challenges =
        parse_www_authenticate(R"(BASIC Realm = "say \"hi\" \\ there" , charset=UTF-8)");
    REQUIRE(challenges.size() == 1);
    CHECK(challenges[0].scheme == "basic");
    CHECK(challenges[0].param("REALM") == R"(say "hi" \ there)");
    CHECK(challenges[0].param("charset") == "UTF-8");
  }
  SECTION("several challenges in one header") {
    auto challenges = parse_www_authenticate(
        R"(Basic realm="a, b", Bearer realm="https://t/x",service="y", Negotiate abc==)");
    REQUIRE(challenges.size() == 3);
    CHECK(challenges[0].scheme == "basic");
    CHECK(challenges[0].param("realm") == "a, b");
    CHECK(challenges[1].scheme == "bearer");
    CHECK(challenges[1].param("realm") == "https://t/x");
    CHECK(challenges[1].param("service") == "y");
    CHECK(challenges[2].scheme == "negotiate");
    CHECK(challenges[2].token68 == "abc==");
  }
  SECTION("a scheme without parameters, unquoted tokens") {
    auto challenges = parse_www_authenticate("Basic, Bearer realm=https://t/token");
    REQUIRE(challenges.size() == 2);
    CHECK(challenges[0].scheme == "basic");
    CHECK(challenges[0].params.empty());
    CHECK(challenges[1].param("realm") == "https://t/token");
  }
  SECTION("the first of repeated parameters counts") {
    auto challenges = parse_www_authenticate(R"(Bearer realm="one",realm="two")");
    REQUIRE(challenges.size() == 1);
    CHECK(challenges[0].param("realm") == "one");
  }
  SECTION("malformed input is skipped, never fatal") {
    CHECK(parse_www_authenticate("").empty());
    CHECK(parse_www_authenticate(" , ,, ").empty());
    CHECK(parse_www_authenticate("\"quoted\"").empty());
    auto unterminated = parse_www_authenticate(R"(Bearer realm="https://t/token)");
    REQUIRE(unterminated.size() == 1);
    CHECK(unterminated[0].param("realm") == "https://t/token");
    auto garbage = parse_www_authenticate(R"(Bearer @@@ "x", Basic realm="r")");
    REQUIRE(garbage.size() == 2);
    CHECK(garbage[1].scheme == "basic");
    CHECK(garbage[1].param("realm") == "r");
    auto trailing_backslash = parse_www_authenticate("Bearer realm=\"x\\");
    REQUIRE(trailing_backslash.size() == 1);
    CHECK(trailing_backslash[0].param("realm") == "x");
  }
}

TEST_CASE("registry::credentials_in finds a registry's entry in auth.json and config.json",
          "[unit][registry]") {
  // "user:pa:ss" in base64
  const std::string auth = base64_encode("user:pa:ss");
  CHECK(auth == "dXNlcjpwYTpzcw==");
  SECTION("an exact host entry; the password may hold ':'") {
    auto found = credentials_in(R"({"auths":{"reg.example:5000":{"auth":")" + auth + R"("}}})",
                                "reg.example:5000", "tools/jq");
    REQUIRE(found);
    CHECK(found->username == "user");
    CHECK(found->password == "pa:ss");
  }
  SECTION("docker's legacy key for Docker Hub") {
    auto found =
        credentials_in(R"({"auths":{"https://index.docker.io/v1/":{"auth":")" + auth + R"("}}})",
                       "docker.io", "library/jq");
    REQUIRE(found);
    CHECK(found->username == "user");
  }
  SECTION("a key with a scheme names its host only") {
    CHECK(credentials_in(R"({"auths":{"https://reg.example/v2/":{"auth":")" + auth + R"("}}})",
                         "reg.example", "x"));
  }
  SECTION("a namespace entry wins over the host entry") {
    const std::string other = base64_encode("other:pw");
    std::string text = R"({"auths":{"reg.example":{"auth":")" + other +
                       R"("},"reg.example/team":{"auth":")" + auth + R"("}}})";
    CHECK(credentials_in(text, "reg.example", "team/tool")->username == "user");
    CHECK(credentials_in(text, "reg.example", "teamx/tool")->username == "other");
  }
  SECTION("username and password fields") {
    auto found = credentials_in(R"({"auths":{"reg":{"username":"u","password":"p"}}})", "reg", "x");
    REQUIRE(found);
    CHECK(found->password == "p");
  }
  SECTION("nothing for other hosts, broken entries or broken files") {
    std::string text = R"({"auths":{"reg.example":{"auth":")" + auth + R"("}}})";
    CHECK_FALSE(credentials_in(text, "reg.example:5000", "x"));
    CHECK_FALSE(credentials_in(text, "other.example", "x"));
    CHECK_FALSE(credentials_in(R"({"auths":{"reg":{"auth":"!!!"}}})", "reg", "x"));
    CHECK_FALSE(credentials_in(R"({"auths":{"reg":{"auth":"bm9jb2xvbg=="}}})", "reg", "x"));
    CHECK_FALSE(credentials_in(R"({"auths":[]})", "reg", "x"));
    CHECK_FALSE(credentials_in("not json", "reg", "x"));
    CHECK_FALSE(credentials_in("[]", "reg", "x"));
  }
}

TEST_CASE("registry::find_credentials reads the files in order and auth_file_paths follows the "
          "engines",
          "[unit][registry]") {
  fod::test::TempDir dir;
  fod::test::EnvGuard env;
  std::string first =
      dir.write("first.json", R"({"auths":{"a":{"auth":")" + base64_encode("one:1") + R"("}}})");
  std::string second =
      dir.write("second.json", R"({"auths":{"a":{"auth":")" + base64_encode("two:2") +
                                   R"("},"b":{"auth":")" + base64_encode("three:3") + R"("}}})");
  std::vector<std::string> files = {dir / "missing.json", first, second};
  CHECK(find_credentials(files, "a", "x")->username == "one");
  CHECK(find_credentials(files, "b", "x")->username == "three");
  CHECK_FALSE(find_credentials(files, "c", "x"));

  env.set("REGISTRY_AUTH_FILE", "/some/auth.json");
  env.set("XDG_RUNTIME_DIR", "/run/user/42");
  env.set("HOME", "/home/u");
  env.unset("DOCKER_CONFIG");
  CHECK(auth_file_paths() == std::vector<std::string>{"/some/auth.json",
                                                      "/run/user/42/containers/auth.json",
                                                      "/home/u/.config/containers/auth.json",
                                                      "/home/u/.docker/config.json"});
  env.unset("REGISTRY_AUTH_FILE");
  env.set("DOCKER_CONFIG", "/etc/dockercfg");
  CHECK(auth_file_paths().back() == "/etc/dockercfg/config.json");
}

TEST_CASE("registry::auth_entry_in reads credHelpers and credsStore as docker and podman do",
          "[unit][registry]") {
  const std::string auth = base64_encode("user:pw");
  SECTION("credHelpers names the helper of a registry; its key is compared as auths keys are") {
    std::string text =
        R"({"credHelpers":{"reg.example:5000":"pass","https://index.docker.io/v1/":"desktop"},
                           "auths":{"reg.example:5000":{"auth":")" +
        auth + R"("}}})";
    auto entry = auth_entry_in(text, "reg.example:5000", "tools/jq");
    CHECK(entry.helper == "pass");
    CHECK_FALSE(entry.helper_is_default);
    CHECK(entry.credentials->username == "user");
    CHECK(auth_entry_in(text, "docker.io", "library/jq").helper == "desktop");
    CHECK(auth_entry_in(text, "other.example", "x").helper.empty());
  }
  SECTION("credsStore is the default helper; credHelpers wins over it") {
    std::string text = R"({"credsStore":"secretservice","credHelpers":{"gcr.io":"gcloud"}})";
    auto entry = auth_entry_in(text, "quay.io", "x");
    CHECK(entry.helper == "secretservice");
    CHECK(entry.helper_is_default);
    CHECK(auth_entry_in(text, "gcr.io", "x").helper == "gcloud");
    CHECK_FALSE(auth_entry_in(text, "gcr.io", "x").helper_is_default);
  }
  SECTION("empty or malformed helper entries are ignored") {
    CHECK(auth_entry_in(R"({"credsStore":""})", "reg", "x").helper.empty());
    CHECK(auth_entry_in(R"({"credsStore":7,"credHelpers":{"reg":["x"]}})", "reg", "x")
              .helper.empty());
    CHECK(auth_entry_in(R"({"credHelpers":[]})", "reg", "x").helper.empty());
    CHECK(auth_entry_in("not json", "reg", "x").helper.empty());
  }
  SECTION("the server a helper is asked about") {
    CHECK(helper_server_url("docker.io", true) == "https://index.docker.io/v1/");
    CHECK(helper_server_url("docker.io", false) == "docker.io");
    CHECK(helper_server_url("127.0.0.1:5000", true) == "127.0.0.1:5000");
  }
}

TEST_CASE("registry::parse_helper_answer reads the credential helper protocol",
          "[unit][registry]") {
  using Kind = HelperAnswer::Kind;
  SECTION("found") {
    auto a = parse_helper_answer("x", 0,
                                 R"({"ServerURL":"reg","Username":"u","Secret":"s:e"})"
                                 "\n",
                                 "");
    REQUIRE(a.kind == Kind::found);
    CHECK(a.credentials.username == "u");
    CHECK(a.credentials.password == "s:e");
  }
  SECTION("not found, in the helpers' own words, with status 1 (or 0)") {
    CHECK(parse_helper_answer("x", 1, "credentials not found in native keychain\n", "").kind ==
          Kind::none);
    CHECK(parse_helper_answer("x", 0, "credentials not found in native keychain", "").kind ==
          Kind::none);
    CHECK(parse_helper_answer("x", 0, R"({"Username":"","Secret":""})", "").kind == Kind::none);
  }
  SECTION("an identity token is not usable here: none") {
    CHECK(parse_helper_answer("x", 0, R"({"Username":"<token>","Secret":"refresh"})", "").kind ==
          Kind::none);
  }
  SECTION("failures carry the helper's name and message, never its output's secret") {
    auto a = parse_helper_answer("pass", 1, "", "gpg: decryption failed: No secret key\nmore\n");
    CHECK(a.kind == Kind::failed);
    CHECK(a.error == "docker-credential-pass failed (status 1): gpg: decryption failed: No "
                     "secret key");
    auto b = parse_helper_answer("x", 2, "error getting credentials - keyring locked\n", "");
    CHECK(b.error == "docker-credential-x failed (status 2): error getting credentials - keyring "
                     "locked");
    CHECK(parse_helper_answer("x", 0, "not json", "").kind == Kind::failed);
    // A helper that printed its answer and then failed: the answer is not repeated.
    auto c = parse_helper_answer("x", 1,
                                 R"({"ServerURL":"r","Username":"u","Secret":"s3cr3t-value"})"
                                 "\n",
                                 "");
    CHECK(c.kind == Kind::failed);
    CHECK(c.error.find("s3cr3t-value") == std::string::npos);
    CHECK(c.error == "docker-credential-x failed (status 1): its answer withheld");
  }
  SECTION("helper names") {
    for (const char *good : {"pass", "secretservice", "ecr-login", "acr.env", "fod_test", "9x"}) {
      CHECK(valid_helper_name(good));
    }
    for (const char *bad : {"", "-x", ".x", "../x", "a/b", "a b", "x;rm", "$(x)", "a\nb"}) {
      CHECK_FALSE(valid_helper_name(bad));
    }
    CHECK_FALSE(valid_helper_name(std::string(65, 'a')));
  }
}

TEST_CASE("registry::lookup_credentials follows the engines' order of files and helpers",
          "[unit][registry]") {
  fod::test::TempDir dir;
  auto auths = [](const std::string &key, const std::string &user) {
    return R"("auths":{")" + key + R"(":{"auth":")" + base64_encode(user + ":pw") + R"("}})";
  };
  // A fake helper per name: what it answers, and the servers it was asked about.
  std::map<std::string, HelperAnswer> answers;
  std::vector<std::string> asked;
  HelperRunner runner = [&](const std::string &name, const std::string &server) {
    asked.push_back(name + " " + server);
    auto it = answers.find(name);
    return it == answers.end() ? HelperAnswer{} : it->second;
  };
  answers["good"] = {HelperAnswer::Kind::found, {"from-helper", "s"}, ""};
  answers["broken"] = {HelperAnswer::Kind::failed, {}, "docker-credential-broken failed"};

  SECTION("a credHelpers entry in the first file beats auths of later files") {
    auto first = dir.write("run/auth.json", R"({"credHelpers":{"reg":"good"}})");
    auto docker = dir.write(".docker/config.json", "{" + auths("reg", "docker-user") + "}");
    auto found = lookup_credentials({first, docker}, "reg", "x", runner);
    REQUIRE(found.credentials);
    CHECK(found.credentials->username == "from-helper");
    CHECK(found.source == "docker-credential-good");
    CHECK(asked == std::vector<std::string>{"good reg"});
  }
  SECTION("a credHelpers helper with nothing: that file's auths are skipped, the next file "
          "counts") {
    auto first = dir.write("a/auth.json",
                           R"({"credHelpers":{"reg":"empty"},)" + auths("reg", "skipped") + "}");
    auto second = dir.write("b/auth.json", "{" + auths("reg", "second") + "}");
    auto found = lookup_credentials({first, second}, "reg", "x", runner);
    CHECK(found.credentials->username == "second");
    CHECK(found.source == "the auth file " + second);
  }
  SECTION("credsStore with nothing falls back to the file's auths") {
    auto docker = dir.write(".docker/config.json",
                            R"({"credsStore":"empty",)" + auths("reg", "docker-user") + "}");
    auto found = lookup_credentials({docker}, "reg", "x", runner);
    CHECK(found.credentials->username == "docker-user");
  }
  SECTION("a failing helper is noted and the search goes on") {
    auto first = dir.write("a/auth.json", R"({"credHelpers":{"reg":"broken"}})");
    auto docker = dir.write(".docker/config.json", R"({"credsStore":"good"})");
    auto found = lookup_credentials({first, docker}, "reg", "x", runner);
    CHECK(found.credentials->username == "from-helper");
    CHECK(found.problems == std::vector<std::string>{"docker-credential-broken failed"});
    auto none = lookup_credentials({first}, "reg", "x", runner);
    CHECK_FALSE(none.credentials);
    CHECK(none.problems.size() == 1);
  }
  SECTION("docker's config.json asks about Docker Hub by docker's key, auth.json by docker.io") {
    auto containers = dir.write("a/auth.json", R"({"credHelpers":{"docker.io":"empty"}})");
    auto docker = dir.write(".docker/config.json", R"({"credsStore":"good"})");
    lookup_credentials({containers, docker}, "docker.io", "library/jq", runner);
    CHECK(asked == std::vector<std::string>{"empty docker.io", "good https://index.docker.io/v1/"});
  }
  SECTION("no helper is run for a registry the files do not name, without credsStore") {
    auto first = dir.write("a/auth.json", R"({"credHelpers":{"other":"good"}})");
    CHECK_FALSE(lookup_credentials({first, dir / "missing.json"}, "reg", "x", runner).credentials);
    CHECK(asked.empty());
  }
}

TEST_CASE("registry::run_credential_helper runs docker-credential-NAME get from PATH",
          "[unit][registry]") {
  using namespace std::chrono_literals;
  using Kind = HelperAnswer::Kind;
  fod::test::TempDir dir;
  fod::test::EnvGuard env;
  // The helper records its argv and stdin, and answers for one server only.
  dir.write("bin/docker-credential-fodunit",
            "#!/bin/sh\n"
            "printf '%s|' \"$@\" > \"$0.args\"\n"
            "server=$(cat)\n"
            "printf '%s' \"$server\" > \"$0.stdin\"\n"
            "case \"$server\" in\n"
            "  reg.example) printf "
            "'{\"ServerURL\":\"reg.example\",\"Username\":\"u\",\"Secret\":\"s\"}\\n' ;;\n"
            "  slow.example) exec sleep 30 ;;\n"
            "  broken.example) echo 'keyring locked' >&2; exit 4 ;;\n"
            "  *) echo 'credentials not found in native keychain'; exit 1 ;;\n"
            "esac\n",
            0755);
  env.set("PATH", (dir / "bin") + ":/usr/bin:/bin");
  SECTION("found: argv is exactly `get`, the server comes on stdin") {
    auto a = run_credential_helper("fodunit", "reg.example", 5s);
    REQUIRE(a.kind == Kind::found);
    CHECK(a.credentials.username == "u");
    CHECK(fod::util::read_file(dir / "bin/docker-credential-fodunit.args") == "get|");
    CHECK(fod::util::read_file(dir / "bin/docker-credential-fodunit.stdin") == "reg.example");
  }
  SECTION("not found") {
    CHECK(run_credential_helper("fodunit", "other.example", 5s).kind == Kind::none);
  }
  SECTION("a failure carries the helper's stderr") {
    auto a = run_credential_helper("fodunit", "broken.example", 5s);
    CHECK(a.kind == Kind::failed);
    CHECK(a.error == "docker-credential-fodunit failed (status 4): keyring locked");
  }
  SECTION("a helper that hangs is killed at the timeout") {
    auto start = std::chrono::steady_clock::now();
    auto a = run_credential_helper("fodunit", "slow.example", 300ms);
    CHECK(std::chrono::steady_clock::now() - start < 5s);
    CHECK(a.kind == Kind::failed);
    CHECK(a.error == "docker-credential-fodunit did not answer within 300 ms");
  }
  SECTION("a missing helper, or one only in a relative PATH entry, is not run") {
    CHECK(run_credential_helper("fodnone", "reg.example", 5s).error ==
          "docker-credential-fodnone is not in $PATH");
    // bin/docker-credential-fodunit exists relative to the working directory: still not run.
    fod::test::CwdGuard cwd(dir.path());
    env.set("PATH", "bin");
    CHECK(run_credential_helper("fodunit", "reg.example", 5s).kind == Kind::failed);
  }
  SECTION("an invalid name is never looked up") {
    dir.write("docker-credential-x", "#!/bin/sh\necho pwned > \"$0.ran\"\n", 0755);
    CHECK(run_credential_helper("../docker-credential-x", "reg.example", 5s).kind == Kind::failed);
    CHECK_FALSE(fod::util::read_file(dir / "docker-credential-x.ran"));
  }
}

namespace {
const std::string d1 = "sha256:" + std::string(64, '1');
const std::string d2 = "sha256:" + std::string(64, '2');
const std::string d3 = "sha256:" + std::string(64, '3');
} // namespace

TEST_CASE("registry::parse_manifest reads manifests and indexes of the four types",
          "[unit][registry]") {
  SECTION("a Docker schema 2 manifest: the layer sizes add up") {
    auto parsed = parse_manifest(
        R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
            "config":{"mediaType":"x","digest":")" +
            d1 + R"(","size":7},
            "layers":[{"mediaType":"l","digest":")" +
            d2 + R"(","size":100},{"mediaType":"l","digest":")" + d3 + R"(","size":23}]})",
        "");
    CHECK_FALSE(parsed.is_index);
    CHECK(parsed.media_type == media_type::docker_manifest);
    CHECK(parsed.layers.size() == 2);
    CHECK(parsed.layers_size == 123);
  }
  SECTION("an OCI manifest without mediaType takes the Content-Type") {
    auto parsed = parse_manifest(R"({"schemaVersion":2,"layers":[]})",
                                 "application/vnd.oci.image.manifest.v1+json; charset=utf-8");
    CHECK(parsed.media_type == media_type::oci_manifest);
    CHECK(parsed.layers_size == 0);
  }
  SECTION("an OCI index and a Docker manifest list") {
    std::string entries =
        R"("manifests":[
        {"mediaType":"m","digest":")" +
        d1 +
        R"(","size":1,"platform":{"os":"linux","architecture":"amd64"}},
        {"mediaType":"m","digest":")" +
        d2 + R"(","size":2,"platform":{"os":"linux","architecture":"arm","variant":"v6"}}]})";
    auto oci = parse_manifest(R"({"schemaVersion":2,)" + entries,
                              "application/vnd.oci.image.index.v1+json");
    CHECK(oci.is_index);
    CHECK(oci.media_type == media_type::oci_index);
    REQUIRE(oci.manifests.size() == 2);
    CHECK(oci.manifests[1].platform->text() == "linux/arm/v6");
    auto docker = parse_manifest(
        R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",)" +
            entries,
        "text/plain");
    CHECK(docker.is_index);
    CHECK(docker.media_type == media_type::docker_list);
  }
  SECTION("malformed bodies are ManifestErrors") {
    for (
        const std::string bad : {
            "",
            "{",
            "[]",
            "42",
            R"({"mediaType":"application/vnd.docker.distribution.manifest.v1+prettyjws"})",
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"})",
            R"({"schemaVersion":2,"layers":{}})",
            R"({"schemaVersion":2,"layers":[1]})",
            R"({"schemaVersion":2,"layers":[{"digest":"x"}]})",
            R"({"schemaVersion":2,"layers":[{"digest":"x","size":"12"}]})",
            R"({"schemaVersion":2,"layers":[{"digest":"x","size":-1}]})",
            R"({"schemaVersion":2,"layers":[{"digest":"x","size":9223372036854775807},{"digest":"y","size":1}]})",
            R"({"schemaVersion":2,"layers":[{"digest":"x","size":18446744073709551615}]})",
            R"({"schemaVersion":2,"manifests":[{"digest":"md5:x","size":1}]})",
        }) {
      INFO(bad);
      CHECK_THROWS_AS(parse_manifest(bad, ""), ManifestError);
    }
  }
}

TEST_CASE("registry::select_platform picks this machine's entry of an index", "[unit][registry]") {
  auto entry = [](const std::string &digest, Platform p) {
    return Descriptor{"m", digest, 1, p, {}};
  };
  std::vector<Descriptor> index = {entry(d1, {"linux", "arm64", "v8"}),
                                   entry(d2, {"linux", "amd64", ""}),
                                   entry(d3, {"windows", "amd64", ""})};
  CHECK(select_platform(index, {"linux", "amd64", ""})->digest == d2);
  CHECK(select_platform(index, {"windows", "amd64", ""})->digest == d3);
  SECTION("arm64 without a variant is v8") {
    CHECK(select_platform(index, {"linux", "arm64", ""})->digest == d1);
  }
  SECTION("no entry for the platform") {
    CHECK_FALSE(select_platform(index, {"linux", "s390x", ""}));
    CHECK_FALSE(select_platform(index, {"linux", "arm64", "v9"}));
    CHECK_FALSE(select_platform({entry(d1, {"linux", "arm", "v6"})}, {"linux", "arm", "v7"}));
  }
  SECTION("an exact variant wins over an entry without one") {
    std::vector<Descriptor> arm = {entry(d1, {"linux", "amd64", ""}),
                                   entry(d2, {"linux", "amd64", "v3"})};
    CHECK(select_platform(arm, {"linux", "amd64", "v3"})->digest == d2);
    CHECK(select_platform(arm, {"linux", "amd64", ""})->digest == d1);
    CHECK(select_platform(arm, {"linux", "amd64", "v2"})->digest == d1);
  }
  SECTION("platforms parse and print") {
    CHECK(parse_platform("linux/arm/v7")->text() == "linux/arm/v7");
    CHECK(parse_platform("linux/amd64") == Platform{"linux", "amd64", ""});
    for (const char *bad :
         {"", "linux", "linux/", "/amd64", "linux/amd64/v1/x", "Linux/amd64", "linux/amd 64"}) {
      INFO(bad);
      CHECK_FALSE(parse_platform(bad));
    }
    CHECK(host_platform().os == "linux");
    CHECK_FALSE(host_platform().architecture.empty());
  }
}

TEST_CASE("dirs::registry_program finds fod-registry as fod finds fod-keeper", "[unit][registry]") {
  fod::test::EnvGuard env;
  env.set("FOD_REGISTRY", "/opt/x/fod-registry");
  CHECK(fod::dirs::registry_program() == "/opt/x/fod-registry");
  env.unset("FOD_REGISTRY");
  // The unit test binary is not installed: the helper is looked for beside it.
  CHECK(fod::dirs::registry_program() ==
        fod::util::join(fod::util::dirname(fod::util::executable_path()), "fod-registry"));
}
