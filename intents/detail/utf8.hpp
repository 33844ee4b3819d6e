#pragma once
// Reading UTF-8, for the normaliser, the phrase index, the keyword model, the entity scanner and
// the engine. Two ways to decode, on purpose: the normaliser keeps whatever a buyer's device sent
// (overlong forms and surrogates decode like other characters), while the phrase index must see
// characters exactly as RE2 does and refuses them.

#include <cstddef>
#include <string_view>

namespace shouhou::intents::detail {

// The length of the character `lead` starts: 1 for ASCII and for a byte that starts none.
inline std::size_t utf8_length(char lead) {
  const auto b = static_cast<unsigned char>(lead);
  return b < 0xC0 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
}

// Decodes the character at `p` (< s.size()) into `cp`; returns its length, or 0 for a truncated
// sequence or a byte out of place.
inline std::size_t decode_utf8(std::string_view s, std::size_t p, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[p]);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  std::size_t len = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1Fu;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0Fu;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07u;
  } else {
    return 0;
  }
  if (p + len > s.size()) return 0;
  for (std::size_t i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[p + i]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3Fu);
  }
  return len;
}

// Same, and 0 as well for an overlong form, a surrogate or a value past U+10FFFF, which a regex
// engine's UTF-8 decoding does not match as characters.
inline std::size_t decode_utf8_strict(std::string_view s, std::size_t p, char32_t& cp) {
  const std::size_t len = decode_utf8(s, p, cp);
  const char32_t shortest = len == 2 ? 0x80 : len == 3 ? 0x800 : len == 4 ? 0x10000 : 0;
  if (len == 0 || cp < shortest || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

// The code point of the 3-byte character at `p`, or 0 when no 3-byte lead is there. The
// continuation bytes are not checked: for scans where a wrong guess only misses.
inline char32_t cjk_at(std::string_view s, std::size_t p) {
  if (p + 3 > s.size()) return 0;
  const auto b0 = static_cast<unsigned char>(s[p]);
  if ((b0 & 0xF0) != 0xE0) return 0;
  return (static_cast<char32_t>(b0 & 0x0F) << 12) |
         (static_cast<char32_t>(static_cast<unsigned char>(s[p + 1]) & 0x3F) << 6) |
         static_cast<char32_t>(static_cast<unsigned char>(s[p + 2]) & 0x3F);
}

}  // namespace shouhou::intents::detail
