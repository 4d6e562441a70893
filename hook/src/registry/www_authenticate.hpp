#pragma once

// The WWW-Authenticate header (RFC 7235). Free of any dependency but the standard library:
// a fuzz target compiles this file on its own.

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace fod::registry {

// One challenge: `Bearer realm="https://auth.example/token",service="reg",scope="..."`.
struct Challenge {
  std::string scheme;                        // lowercased: "bearer", "basic"
  std::map<std::string, std::string> params; // names lowercased, quoted values unescaped
  std::string token68;                       // `Negotiate abc==` style, rarely used

  // A parameter's value, or "" (names are matched case-insensitively).
  std::string param(std::string_view name) const;
};

// The challenges of one header value, or of several header values joined with ", ".
// Tolerant: what cannot be read is skipped up to the next challenge; never throws.
std::vector<Challenge> parse_www_authenticate(std::string_view header);

} // namespace fod::registry
