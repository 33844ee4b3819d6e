#include "replies/detail/text_template.hpp"

#include <algorithm>

namespace shouhou::replies::detail {

bool is_variable(std::string_view name) {
  return std::find(k_variables.begin(), k_variables.end(), name) != k_variables.end();
}

namespace {

std::string known_list() {
  std::string out;
  for (std::string_view v : k_variables) {
    if (!out.empty()) out += ' ';
    out += '{';
    out += v;
    out += '}';
  }
  return out;
}

bool is_special(char c) { return c == '{' || c == '}' || c == '[' || c == ']'; }

}  // namespace

text_template text_template::parse(std::string_view src, std::vector<error>& errors) {
  // Occurrences of each special character seen so far, escaped ones included; see error::ordinal.
  std::size_t seen_open_brace = 0, seen_close_brace = 0, seen_open_bracket = 0,
              seen_close_bracket = 0;
  auto seen = [&](char c) -> std::size_t& {
    switch (c) {
      case '{':
        return seen_open_brace;
      case '}':
        return seen_close_brace;
      case '[':
        return seen_open_bracket;
      default:
        return seen_close_bracket;
    }
  };

  text_template t;
  part current;
  std::string literal;
  std::size_t open_ordinal = 0;  // of the '[' that opened `current`, when it is optional

  auto flush_literal = [&] {
    if (!literal.empty()) current.pieces.push_back({std::move(literal), false});
    literal.clear();
  };
  auto flush_part = [&] {
    flush_literal();
    if (!current.pieces.empty()) t.parts_.push_back(std::move(current));
    current = part{};
  };

  for (std::size_t i = 0; i < src.size();) {
    const char c = src[i];
    if (!is_special(c)) {
      literal += c;
      ++i;
      continue;
    }
    const std::size_t ordinal = seen(c)++;
    if (i + 1 < src.size() && src[i + 1] == c) {  // {{ }} [[ ]]: a literal character
      ++seen(c);
      literal += c;
      i += 2;
      continue;
    }
    switch (c) {
      case '{': {
        const std::size_t close = src.find_first_of("{}", i + 1);
        if (close == std::string_view::npos || src[close] == '{') {
          errors.push_back({c, ordinal, "'{' is not closed by '}' (write {{ for a literal '{')"});
          literal += c;
          ++i;
          break;
        }
        const std::string_view name = src.substr(i + 1, close - i - 1);
        for (char n : name)
          if (is_special(n)) ++seen(n);
        ++seen('}');
        if (!is_variable(name)) {
          errors.push_back({c, ordinal,
                            "unknown variable {" + std::string(name) + "}; known: " + known_list() +
                                " (write {{ and }} for literal braces)"});
        }
        flush_literal();
        current.pieces.push_back({std::string(name), true});
        i = close + 1;
        break;
      }
      case '}':
        errors.push_back({c, ordinal, "'}' without a matching '{' (write }} for a literal '}')"});
        literal += c;
        ++i;
        break;
      case '[':
        if (current.optional) {
          errors.push_back({c, ordinal,
                            "'[' inside an optional [...] part; parts cannot nest (write [[ for a "
                            "literal '[')"});
          literal += c;
        } else {
          flush_part();
          current.optional = true;
          open_ordinal = ordinal;
        }
        ++i;
        break;
      default:  // ']'
        if (!current.optional) {
          errors.push_back({c, ordinal, "']' without a matching '[' (write ]] for a literal ']')"});
          literal += c;
        } else {
          flush_part();
        }
        ++i;
        break;
    }
  }
  if (current.optional)
    errors.push_back({'[', open_ordinal, "'[' is not closed by ']' (write [[ for a literal '[')"});
  flush_part();
  return t;
}

std::string text_template::render(const variables& vars) const {
  auto value = [&vars](const std::string& name) -> std::string_view {
    auto it = vars.find(name);
    return it == vars.end() ? std::string_view{} : std::string_view{it->second};
  };
  std::string out;
  for (const part& p : parts_) {
    if (p.optional && std::any_of(p.pieces.begin(), p.pieces.end(), [&](const piece& pc) {
          return pc.variable && value(pc.text).empty();
        }))
      continue;
    for (const piece& pc : p.pieces) out += pc.variable ? value(pc.text) : pc.text;
  }
  return out;
}

}  // namespace shouhou::replies::detail
