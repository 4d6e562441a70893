// libFuzzer target: the image reference parser never crashes, and what it accepts is a fixed
// point (the canonical form parses back to the same reference).
#include "registry/reference.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  auto ref = fod::registry::parse_reference(text);
  if (ref) {
    auto again = fod::registry::parse_reference(ref->canonical());
    if (!again || !(*again == *ref)) {
      std::abort();
    }
    if (ref->registry.empty() || ref->repository.empty() ||
        (ref->tag.empty() && ref->digest.empty())) {
      std::abort();
    }
  }
  (void)fod::registry::is_valid_path_component(text);
  return 0;
}
