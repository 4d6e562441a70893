#include "mapping/entry.hpp"

namespace fod::mapping {

const char *to_string(Confirm confirm) {
  return confirm == Confirm::never ? "never" : "ask";
}

const char *to_string(OnDigestChange change) {
  switch (change) {
  case OnDigestChange::allow:
    return "allow";
  case OnDigestChange::refuse:
    return "refuse";
  case OnDigestChange::ask:
    break;
  }
  return "ask";
}

std::optional<Confirm> parse_confirm(const std::string &text) {
  if (text == "ask") {
    return Confirm::ask;
  }
  if (text == "never") {
    return Confirm::never;
  }
  return std::nullopt;
}

std::optional<OnDigestChange> parse_on_digest_change(const std::string &text) {
  if (text == "ask") {
    return OnDigestChange::ask;
  }
  if (text == "allow") {
    return OnDigestChange::allow;
  }
  if (text == "refuse") {
    return OnDigestChange::refuse;
  }
  return std::nullopt;
}

} // namespace fod::mapping
