#include "intents/detail/literal_sequence.hpp"

#include <algorithm>
#include <numeric>
#include <utility>

#include "intents/detail/phrase_index.hpp"
#include "intents/detail/utf8.hpp"

namespace shouhou::intents::detail {
namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool is_step(char c) { return c == phrase_index::k_digit_run || c == phrase_index::k_text_end; }

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The bytes of the character at `p` as one number (ASCII lower-cased), or 0 past the end.
std::uint32_t first_key(std::string_view s, std::size_t p) {
  if (p >= s.size()) return 0;
  const std::size_t len = utf8_length(s[p]);
  std::uint32_t key = static_cast<unsigned char>(lower(s[p]));
  for (std::size_t i = 1; i < len && p + i < s.size(); ++i) {
    key = (key << 8) | static_cast<unsigned char>(s[p + i]);
  }
  return key;
}

std::uint64_t start_bit(std::uint32_t key) {
  return std::uint64_t{1} << ((key * 0x9E3779B1u) >> 26);
}

}  // namespace

literal_sequence::literal_sequence(std::vector<group> groups) {
  for (auto& g : groups) {
    sorted_group s;
    s.optional = g.optional;
    std::vector<std::string> plain;
    for (auto& o : g.options) {
      if (o.empty()) {
        s.optional = true;
      } else if (is_step(o[0])) {
        s.stepped.push_back(std::move(o));
      } else {
        plain.push_back(std::move(o));
      }
    }
    std::vector<std::size_t> order(plain.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return first_key(plain[a], 0) < first_key(plain[b], 0);
    });
    for (const std::size_t k : order) {
      s.first.push_back(first_key(plain[k], 0));
      s.options.push_back(std::move(plain[k]));
    }
    groups_.push_back(std::move(s));
  }
  if (groups_.empty() || groups_[0].optional) {
    starts_ = ~std::uint64_t{0};
    return;
  }
  for (const std::uint32_t key : groups_[0].first) starts_ |= start_bit(key);
  for (const auto& o : groups_[0].stepped) {
    if (o[0] == phrase_index::k_text_end) starts_ |= start_bit(0);
    for (char d = '0'; d <= '9' && o[0] == phrase_index::k_digit_run; ++d) {
      starts_ |= start_bit(static_cast<unsigned char>(d));
    }
  }
}

bool literal_sequence::matches_at(std::string_view text, std::size_t at) const {
  return at <= text.size() && (starts_ & start_bit(first_key(text, at))) != 0 && match(text, 0, at);
}

// Whether groups g, g+1, ... match from byte q. The sequences are short and most options fail
// at their first byte, so a plain depth-first search is enough.
bool literal_sequence::match(std::string_view text, std::size_t g, std::size_t q) const {
  if (g == groups_.size()) return true;
  const sorted_group& s = groups_[g];
  if (q < text.size()) {
    const std::uint32_t key = first_key(text, q);
    const auto range = std::equal_range(s.first.begin(), s.first.end(), key);
    for (auto it = range.first; it != range.second; ++it) {
      const auto k = static_cast<std::size_t>(it - s.first.begin());
      if (match_option(text, s.options[k], g, q)) return true;
    }
  }
  for (const auto& o : s.stepped) {
    if (match_option(text, o, g, q)) return true;
  }
  return s.optional && match(text, g + 1, q);
}

// Whether `option` of group g matches from byte q and the groups after it match where it ends.
// A digit run may end after any of its digits, as `\d+` may.
bool literal_sequence::match_option(std::string_view text, std::string_view option, std::size_t g,
                                    std::size_t q) const {
  for (std::size_t i = 0; i < option.size(); ++i) {
    const char c = option[i];
    if (c == phrase_index::k_digit_run) {
      std::size_t end = q;
      while (end < text.size() && is_digit(text[end])) ++end;
      for (std::size_t e = end; e > q; --e) {
        if (match_option(text, option.substr(i + 1), g, e)) return true;
      }
      return false;
    }
    if (c == phrase_index::k_text_end) {
      if (q != text.size()) return false;
      continue;
    }
    if (q >= text.size() || lower(text[q]) != c) return false;
    ++q;
  }
  return match(text, g + 1, q);
}

}  // namespace shouhou::intents::detail
