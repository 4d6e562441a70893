// The loopback registry fixture works in each auth mode: what the registry
// tests rely on.
#include "harness.hpp"
#include "registry_fixture.hpp"

#include <catch2/catch.hpp>

using namespace fod::test;

TEST_CASE("TestRegistry serves pushed images in every auth mode", "[integration][registry]") {
    FOD_REQUIRE_REGISTRY();
    FOD_REQUIRE_ENGINE(Engine::podman);  // push() reads rootful podman's test images
    for (auto auth : {RegistryAuth::none, RegistryAuth::basic, RegistryAuth::token}) {
        INFO("auth mode " << static_cast<int>(auth));
        TestRegistry registry(auth);
        registry.push(busybox_image, "fixture/bb:1");
        CHECK(registry.skopeo_digest("fixture/bb:1").rfind("sha256:", 0) == 0);
        if (auth != RegistryAuth::none) {
            // Without credentials nobody pushes.
            auto denied = run({"skopeo", "copy", "--quiet", "--dest-tls-verify=false",
                               std::string("containers-storage:") + busybox_image,
                               "docker://" + registry.host() + "/fixture/bb:2"});
            CHECK(denied.status != 0);
        }
        if (auth == RegistryAuth::token) {
            CHECK_FALSE(registry.token_requests().empty());
        }
    }
}
