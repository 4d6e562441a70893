#include "mapping/entry.hpp"

namespace fod::mapping {

const char *to_string(Network network) {
  switch (network) {
  case Network::none:
    return "none";
  case Network::host:
    return "host";
  case Network::standard:
    break;
  }
  return "default";
}

std::optional<Network> parse_network(const std::string &text) {
  if (text == "none") {
    return Network::none;
  }
  if (text == "default") {
    return Network::standard;
  }
  if (text == "host") {
    return Network::host;
  }
  return std::nullopt;
}

} // namespace fod::mapping
