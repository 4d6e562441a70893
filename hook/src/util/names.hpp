#pragma once

#include <optional>
#include <string>
#include <string_view>

// The names of an enum's values, written once as a table:
//   constexpr util::Name<Color> color_names[] = {{Color::red, "red"}, {Color::blue, "blue"}};
// name_of, value_of and choices read it both ways.
namespace fod::util {

template <class Enum> struct Name {
  Enum value;
  const char *name;
};

// The name of value ("" when the table lacks it).
template <class Enum, std::size_t N>
constexpr const char *name_of(const Name<Enum> (&names)[N], Enum value) {
  for (const auto &entry : names) {
    if (entry.value == value) {
      return entry.name;
    }
  }
  return "";
}

// The value called text, or nullopt.
template <class Enum, std::size_t N>
std::optional<Enum> value_of(const Name<Enum> (&names)[N], std::string_view text) {
  for (const auto &entry : names) {
    if (text == entry.name) {
      return entry.value;
    }
  }
  return std::nullopt;
}

// "a, b or c", for a message that says what is allowed.
template <class Enum, std::size_t N> std::string choices(const Name<Enum> (&names)[N]) {
  std::string text;
  for (std::size_t i = 0; i < N; ++i) {
    text += i == 0 ? "" : i + 1 == N ? " or " : ", ";
    text += names[i].name;
  }
  return text;
}

} // namespace fod::util
