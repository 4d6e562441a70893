#pragma once

#include <string>

namespace fod::registry {

// The fod-registry helper, found the way fod finds fod-keeper: $FOD_REGISTRY when set,
// else <prefix>/libexec/fod/fod-registry next to the installed fod, else beside fod in a
// build tree.
std::string helper_path();

} // namespace fod::registry
