#pragma once
// The character n-grams both keyword models read (the naive Bayes one trained at load time and
// the trained linear one): runs of 1 .. max_n adjacent word characters (letters, digits,
// everything non-ASCII), never across punctuation or spaces, single ASCII letters and digits left
// out. A key packs the code points (< 2^21 each): a unigram is below 2^21, a bigram in
// [2^21, 2^42), a trigram at or above 2^42, so they never collide; mix() spreads a key over 64
// bits for hash tables whose slots keep a fingerprint of other bits than their index.

#include <cstdint>
#include <string_view>

#include "intents/detail/utf8.hpp"

namespace shouhou::intents::detail {

inline bool is_word_char(char32_t cp) {
  return cp >= 0x80 || (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z');
}

// Feeds the next character of a text: calls f(key) for every n-gram that ends with it.
template <typename F>
inline void next_char(char32_t cp, int max_n, char32_t& prev, char32_t& prev2, F&& f) {
  if (!is_word_char(cp)) {
    prev = prev2 = 0;
    return;
  }
  cp &= 0x1FFFFF;
  // Single ASCII letters and digits say little; Chinese characters do.
  if (max_n >= 1 && cp >= 0x80) f(static_cast<std::uint64_t>(cp));
  if (max_n >= 2 && prev != 0) f((static_cast<std::uint64_t>(prev) << 21) | cp);
  if (max_n >= 3 && prev2 != 0) {
    f((static_cast<std::uint64_t>(prev2) << 42) | (static_cast<std::uint64_t>(prev) << 21) | cp);
  }
  prev2 = prev;
  prev = cp;
}

// Calls f(key) for every n-gram of the UTF-8 text (bytes that are not UTF-8 count as characters).
template <typename F>
inline void for_each_gram(std::string_view s, int max_n, F&& f) {
  char32_t prev = 0;
  char32_t prev2 = 0;
  for (std::size_t p = 0; p < s.size();) {
    const auto b0 = static_cast<unsigned char>(s[p]);
    std::size_t len = utf8_length(s[p]);
    if (p + len > s.size()) len = 1;
    char32_t cp = b0;
    if (len > 1) {
      cp = b0 & (len == 2 ? 0x1Fu : len == 3 ? 0x0Fu : 0x07u);
      for (std::size_t i = 1; i < len; ++i) {
        cp = (cp << 6) | (static_cast<unsigned char>(s[p + i]) & 0x3Fu);
      }
    }
    p += len;
    next_char(cp, max_n, prev, prev2, f);
  }
}

// Same over decoded code points.
template <typename F>
inline void for_each_gram(const char32_t* text, std::size_t size, int max_n, F&& f) {
  char32_t prev = 0;
  char32_t prev2 = 0;
  for (std::size_t i = 0; i < size; ++i) next_char(text[i], max_n, prev, prev2, f);
}

// Longer n-grams, for the trained model: the keys of n = 1 .. 3 as above, and for n = 4 and 5 a
// hash of their characters with bit 63 set (and bit 62 for n = 5), so gram_length() reads n
// back from a key.
struct gram_window {
  char32_t last[5] = {};  // last[0] the newest
  int size = 0;
};

inline std::uint64_t mix(std::uint64_t key);

template <typename F>
inline void next_long_char(char32_t cp, int max_n, gram_window& w, F&& f) {
  if (!is_word_char(cp)) {
    w.size = 0;
    return;
  }
  cp &= 0x1FFFFF;
  for (int i = 4; i > 0; --i) w.last[i] = w.last[i - 1];
  w.last[0] = cp;
  if (w.size < 5) ++w.size;
  if (max_n >= 1 && cp >= 0x80) f(static_cast<std::uint64_t>(cp));
  if (max_n >= 2 && w.size >= 2) f((static_cast<std::uint64_t>(w.last[1]) << 21) | cp);
  if (max_n >= 3 && w.size >= 3) {
    const std::uint64_t three = (static_cast<std::uint64_t>(w.last[2]) << 42) |
                                (static_cast<std::uint64_t>(w.last[1]) << 21) | cp;
    f(three);
    if (max_n >= 4 && w.size >= 4) {
      const std::uint64_t four =
          mix(three ^ (static_cast<std::uint64_t>(w.last[3]) * 0x2545F4914F6CDD1Dull));
      f((four >> 2) | (std::uint64_t{1} << 63));
      if (max_n >= 5 && w.size >= 5) {
        const std::uint64_t five =
            mix(four ^ (static_cast<std::uint64_t>(w.last[4]) * 0x2545F4914F6CDD1Dull));
        f((five >> 2) | (std::uint64_t{3} << 62));
      }
    }
  }
}

// n of a key made by next_long_char.
inline int gram_length(std::uint64_t key) {
  if (key >> 63) return (key >> 62) == 3 ? 5 : 4;
  return key < (std::uint64_t{1} << 21) ? 1 : key < (std::uint64_t{1} << 42) ? 2 : 3;
}

// One 64-bit mix of the key: its low bits pick a slot, its high bits make the fingerprint.
inline std::uint64_t mix(std::uint64_t key) {
  std::uint64_t h = key * 0x9E3779B97F4A7C15ull;
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 32;
  return h;
}

// 24 bits, never 0 (0 marks an empty slot).
inline std::uint32_t fingerprint_of(std::uint64_t h) {
  const auto f = static_cast<std::uint32_t>(h >> 40);
  return f == 0 ? 1 : f;
}

}  // namespace shouhou::intents::detail
