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

// The user interrupted fod (Ctrl-C) before the command ran. cli prints the message and
// dies of the signal, so that a shell loop around the command stops too; its status,
// 128 + signal, is what a shell would see.
class Interrupted : public UserError {
public:
  Interrupted(int signal, const std::string &message)
      : UserError(128 + signal, message), m_signal(signal) {}
  int signal() const { return m_signal; }

private:
  int m_signal;
};

} // namespace fod
