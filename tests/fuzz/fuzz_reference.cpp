// libFuzzer target: the image reference parser never crashes, what it accepts is a fixed
// point (the canonical form parses back to the same reference), and nothing it accepts can be
// read as an option or a path trick (mapping validation relies on it): no leading '-', no
// empty or "." or ".." path part, no white space or control character.
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
    if (text.front() == '-' || ref->registry.front() == '-' || ref->repository.front() == '-' ||
        (!ref->tag.empty() && ref->tag.front() == '-')) {
      std::abort();
    }
    if (ref->repository.find("..") != std::string::npos ||
        ref->repository.find("//") != std::string::npos ||
        ref->registry.find("..") != std::string::npos) {
      std::abort();
    }
    for (char c : text) {
      if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
        std::abort();
      }
    }
  }
  (void)fod::registry::is_valid_path_component(text);
  return 0;
}
