#pragma once

#include <stdexcept>
#include <string>

namespace fod {

// The exit-code contract the shell hooks rely on.
inline constexpr int status_engine_failure = 125;
inline constexpr int status_not_found = 127;

// A failure the user must see: one line that names the thing and the fix, and
// the status fod exits with. Caught once, in cli::main.
class UserError : public std::runtime_error {
public:
  UserError(int status, const std::string &message)
      : std::runtime_error(message), m_status(status) {}
  int status() const { return m_status; }

private:
  int m_status;
};

} // namespace fod
