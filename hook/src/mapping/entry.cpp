#include "mapping/entry.hpp"

namespace fod::mapping {

const char *to_string(MountRoot root) {
  return util::name_of(mount_root_names, root);
}

const char *to_string(Confirm confirm) {
  return util::name_of(confirm_names, confirm);
}

const char *to_string(OnDigestChange change) {
  return util::name_of(on_digest_change_names, change);
}

std::optional<Confirm> parse_confirm(const std::string &text) {
  return util::value_of(confirm_names, text);
}

std::optional<OnDigestChange> parse_on_digest_change(const std::string &text) {
  return util::value_of(on_digest_change_names, text);
}

} // namespace fod::mapping
