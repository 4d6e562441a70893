#include "registry/reference.hpp"

#include <cstddef>

namespace fod::registry {
namespace {

constexpr std::size_t name_max = 255; // the distribution's NameTotalLengthMax
constexpr std::size_t tag_max = 128;

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_alnum(char c) {
  return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}
bool is_word(char c) {
  return is_alnum(c) || c == '_';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_lower_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f');
}
bool is_hex(char c) {
  return is_lower_hex(c) || (c >= 'A' && c <= 'F');
}

// domain-component := [a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool is_domain_component(std::string_view text) {
  if (text.empty() || !is_alnum(text.front()) || !is_alnum(text.back())) {
    return false;
  }
  for (char c : text) {
    if (!is_alnum(c) && c != '-') {
      return false;
    }
  }
  return true;
}

// host [':' port], host a domain name, an IPv4 address (a domain name too) or [IPv6].
bool is_domain(std::string_view text) {
  std::string_view host = text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close == 1) {
      return false;
    }
    for (char c : text.substr(1, close - 1)) {
      if (!is_hex(c) && c != ':') {
        return false;
      }
    }
    host = {};
    text.remove_prefix(close + 1);
  } else {
    auto colon = text.find(':');
    host = text.substr(0, colon);
    text = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
    while (true) {
      auto dot = host.find('.');
      if (!is_domain_component(host.substr(0, dot))) {
        return false;
      }
      if (dot == std::string_view::npos) {
        break;
      }
      host.remove_prefix(dot + 1);
    }
  }
  if (text.empty()) {
    return true;
  }
  if (text.front() != ':' || text.size() == 1) {
    return false;
  }
  for (char c : text.substr(1)) {
    if (!is_digit(c)) {
      return false;
    }
  }
  return true;
}

bool is_path(std::string_view text) {
  while (true) {
    auto slash = text.find('/');
    if (!is_valid_path_component(text.substr(0, slash))) {
      return false;
    }
    if (slash == std::string_view::npos) {
      return true;
    }
    text.remove_prefix(slash + 1);
  }
}

// tag := [\w][\w.-]{0,127}
bool is_tag(std::string_view text) {
  if (text.empty() || text.size() > tag_max || !is_word(text.front())) {
    return false;
  }
  for (char c : text) {
    if (!is_word(c) && c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

bool is_lowercase(std::string_view text) {
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') {
      return false;
    }
  }
  return true;
}

} // namespace

bool is_sha256_digest(std::string_view text) {
  constexpr std::string_view prefix = "sha256:";
  if (text.size() != prefix.size() + 64 || text.substr(0, prefix.size()) != prefix) {
    return false;
  }
  for (char c : text.substr(prefix.size())) {
    if (!is_lower_hex(c)) {
      return false;
    }
  }
  return true;
}

bool is_valid_path_component(std::string_view text) {
  // alpha-numeric (separator alpha-numeric)*, separator := [._] | __ | -+
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (true) {
    std::size_t start = i;
    while (i < n && is_lower_alnum(text[i])) {
      ++i;
    }
    if (i == start) {
      return false;
    }
    if (i == n) {
      return true;
    }
    if (text[i] == '.') {
      ++i;
    } else if (text[i] == '_') {
      i += (i + 1 < n && text[i + 1] == '_') ? 2 : 1;
    } else if (text[i] == '-') {
      while (i < n && text[i] == '-') {
        ++i;
      }
    } else {
      return false;
    }
  }
}

std::string Reference::canonical() const {
  std::string text = registry + "/" + repository;
  if (!tag.empty()) {
    text += ":" + tag;
  }
  if (!digest.empty()) {
    text += "@" + digest;
  }
  return text;
}

std::optional<Reference> parse_reference(std::string_view text) {
  Reference ref;
  // name [":" tag] ["@" digest]
  if (auto at = text.find('@'); at != std::string_view::npos) {
    ref.digest = text.substr(at + 1);
    if (!is_sha256_digest(ref.digest)) {
      return std::nullopt;
    }
    text = text.substr(0, at);
  }
  // A tag follows the last ':' if no '/' comes after it (else the ':' starts a port).
  if (auto colon = text.rfind(':');
      colon != std::string_view::npos && text.find('/', colon) == std::string_view::npos) {
    ref.tag = text.substr(colon + 1);
    if (!is_tag(ref.tag)) {
      return std::nullopt;
    }
    text = text.substr(0, colon);
  }
  if (text.empty()) {
    return std::nullopt;
  }
  // A bare 64-hex name would be taken for an image id: the engines refuse it.
  if (text.size() == 64) {
    bool all_hex = true;
    for (char c : text) {
      all_hex = all_hex && is_lower_hex(c);
    }
    if (all_hex) {
      return std::nullopt;
    }
  }

  std::string_view domain;
  std::string_view remainder = text;
  auto slash = text.find('/');
  if (slash != std::string_view::npos) {
    std::string_view first = text.substr(0, slash);
    if (first.find_first_of(".:") != std::string_view::npos || first == "localhost" ||
        !is_lowercase(first)) {
      domain = first;
      remainder = text.substr(slash + 1);
    }
  }
  if (domain.empty()) {
    ref.registry = "docker.io";
  } else {
    if (!is_domain(domain)) {
      return std::nullopt;
    }
    ref.registry = domain == "index.docker.io" ? std::string_view("docker.io") : domain;
  }
  if (!is_path(remainder)) {
    return std::nullopt;
  }
  ref.repository = remainder;
  if (ref.registry == "docker.io" && remainder.find('/') == std::string_view::npos) {
    ref.repository = "library/" + ref.repository;
  }
  if (ref.registry.size() + 1 + ref.repository.size() > name_max) {
    return std::nullopt;
  }
  if (ref.tag.empty() && ref.digest.empty()) {
    ref.tag = "latest";
  }
  return ref;
}

} // namespace fod::registry
