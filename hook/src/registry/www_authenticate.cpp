#include "registry/www_authenticate.hpp"

#include <cstddef>

namespace fod::registry {
namespace {

// tchar (RFC 7230): "!#$%&'*+-.^_`|~" DIGIT ALPHA
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  switch (c) {
  case '!':
  case '#':
  case '$':
  case '%':
  case '&':
  case '\'':
  case '*':
  case '+':
  case '-':
  case '.':
  case '^':
  case '_':
  case '`':
  case '|':
  case '~':
    return true;
  default:
    return false;
  }
}

// token68 characters but the trailing '=': ALPHA DIGIT "-._~+/"
bool is_token68_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char &c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

class Parser {
public:
  explicit Parser(std::string_view text) : m_text(text) {}

  std::vector<Challenge> challenges() {
    std::vector<Challenge> result;
    while (true) {
      skip_separators();
      if (at_end()) {
        return result;
      }
      std::string_view scheme = token();
      if (scheme.empty()) {
        skip_past_comma();
        continue;
      }
      Challenge challenge;
      challenge.scheme = lowercase(scheme);
      if (!at_end() && !is_space(peek()) && peek() != ',') {
        // `Bearer"x"` or `Bearer=`: not a challenge.
        skip_past_comma();
        continue;
      }
      skip_spaces();
      if (!read_token68(challenge)) {
        read_params(challenge);
      }
      result.push_back(std::move(challenge));
    }
  }

private:
  bool at_end() const { return m_pos >= m_text.size(); }
  char peek() const { return m_text[m_pos]; }
  void skip_spaces() {
    while (!at_end() && is_space(peek())) {
      ++m_pos;
    }
  }
  void skip_separators() {
    while (!at_end() && (is_space(peek()) || peek() == ',')) {
      ++m_pos;
    }
  }
  // Skips what cannot be read up to and including the next ',' outside a quoted string.
  void skip_past_comma() {
    while (!at_end() && peek() != ',') {
      if (peek() == '"') {
        quoted();
      } else {
        ++m_pos;
      }
    }
    if (!at_end()) {
      ++m_pos;
    }
  }
  std::string_view token() {
    std::size_t start = m_pos;
    while (!at_end() && is_tchar(peek())) {
      ++m_pos;
    }
    return m_text.substr(start, m_pos - start);
  }
  // A value that should have been a token but, as some servers send URLs unquoted, runs to
  // the next comma or space.
  std::string unquoted() {
    std::size_t start = m_pos;
    while (!at_end() && peek() != ',' && !is_space(peek()) && peek() != '"') {
      ++m_pos;
    }
    return std::string(m_text.substr(start, m_pos - start));
  }
  // A quoted-string at m_pos (which is '"'), unescaped; an unterminated one runs to the end.
  std::string quoted() {
    std::string value;
    ++m_pos;
    while (!at_end()) {
      char c = peek();
      ++m_pos;
      if (c == '"') {
        return value;
      }
      if (c == '\\') {
        if (at_end()) {
          break;
        }
        c = peek();
        ++m_pos;
      }
      value += c;
    }
    return value;
  }

  // Whether an auth-param (token BWS "=" BWS (token / quoted-string)) starts at m_pos.
  bool param_ahead() const {
    std::size_t i = m_pos;
    std::size_t start = i;
    while (i < m_text.size() && is_tchar(m_text[i])) {
      ++i;
    }
    if (i == start) {
      return false;
    }
    while (i < m_text.size() && is_space(m_text[i])) {
      ++i;
    }
    if (i >= m_text.size() || m_text[i] != '=') {
      return false;
    }
    ++i;
    while (i < m_text.size() && is_space(m_text[i])) {
      ++i;
    }
    return i < m_text.size() && (m_text[i] == '"' || is_tchar(m_text[i]));
  }

  // token68 right after the scheme: 1*( ALPHA / DIGIT / "-._~+/" ) *"=", then the end or ','.
  bool read_token68(Challenge &challenge) {
    if (param_ahead()) {
      return false;
    }
    std::size_t i = m_pos;
    while (i < m_text.size() && is_token68_char(m_text[i])) {
      ++i;
    }
    if (i == m_pos) {
      return false;
    }
    while (i < m_text.size() && m_text[i] == '=') {
      ++i;
    }
    std::size_t end = i;
    while (i < m_text.size() && is_space(m_text[i])) {
      ++i;
    }
    if (i < m_text.size() && m_text[i] != ',') {
      return false;
    }
    challenge.token68 = m_text.substr(m_pos, end - m_pos);
    m_pos = i;
    return true;
  }

  // auth-params separated by commas, up to the next challenge or the end.
  void read_params(Challenge &challenge) {
    while (true) {
      skip_spaces();
      if (at_end()) {
        return;
      }
      if (peek() == ',') {
        // A comma separates parameters, or this challenge from the next one.
        std::size_t comma = m_pos;
        skip_separators();
        if (!param_ahead()) {
          m_pos = comma;
          return;
        }
      }
      if (!param_ahead()) {
        // Garbage inside the challenge: drop it up to the next comma.
        while (!at_end() && peek() != ',') {
          if (peek() == '"') {
            quoted();
          } else {
            ++m_pos;
          }
        }
        continue;
      }
      std::string name = lowercase(token());
      skip_spaces();
      ++m_pos; // '='
      skip_spaces();
      std::string value = peek() == '"' ? quoted() : unquoted();
      challenge.params.emplace(std::move(name), std::move(value));
    }
  }

  std::string_view m_text;
  std::size_t m_pos = 0;
};

} // namespace

std::string Challenge::param(std::string_view name) const {
  auto it = params.find(lowercase(name));
  return it == params.end() ? std::string() : it->second;
}

std::vector<Challenge> parse_www_authenticate(std::string_view header) {
  return Parser(header).challenges();
}

} // namespace fod::registry
