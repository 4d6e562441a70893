// libFuzzer target: the manifest parser either returns or throws ManifestError, nothing else,
// and a parsed manifest's sizes are never negative.
#include "registry/manifest.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  try {
    auto parsed = fod::registry::parse_manifest(text, "");
    if (parsed.layers_size < 0) {
      std::abort();
    }
    (void)fod::registry::select_platform(parsed.manifests, {"linux", "amd64", ""});
  } catch (const fod::registry::ManifestError &) {
  }
  return 0;
}
