#pragma once

#include <string_view>

namespace fod::util {

// Whether text looks like a secret (a token, key, password or identifier pasted where a
// word was expected) rather than a name a person gave a program. True for text longer than
// 48 characters; for text whose letters and digits (12 or more, separators aside) are all
// digits, all hex digits of one case with at least 2 digits (hex keys, UUIDs), or capitals
// and digits without lower case (AWS key ids); and for text of 12 or more characters with a
// random-looking mix: at least 4 switches between lower case, upper case and digits among
// neighbouring characters, at least one every 5 such pairs, and a Shannon entropy of at
// least 3 bits per character (base64 and base62 tokens, GitHub tokens). No command name in
// /usr/bin, /usr/sbin, /bin or /sbin of the machines fod is tested on, nor in fod's
// mappings, is one (tests/unit/test_util.cpp checks them).
bool looks_like_secret(std::string_view text);

// The Shannon entropy of text's bytes, in bits per byte (0 for empty text).
double shannon_entropy(std::string_view text);

} // namespace fod::util
