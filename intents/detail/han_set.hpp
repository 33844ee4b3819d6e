#pragma once
// A few CJK ideographs (U+4E00..U+9FFF) as a set of bits: one test instead of a chain of
// compares, for the per-character scans that look for Chinese numerals, where most characters
// are none of them.

#include <array>
#include <cstdint>
#include <string_view>

namespace shouhou::intents::detail {

class han_set {
 public:
  explicit han_set(std::u32string_view chars) {
    for (const char32_t c : chars) {
      if (c >= k_first && c < k_end)
        bits_[(c - k_first) >> 6] |= std::uint64_t{1} << ((c - k_first) & 63);
    }
  }
  bool contains(char32_t cp) const {
    return cp >= k_first && cp < k_end &&
           ((bits_[(cp - k_first) >> 6] >> ((cp - k_first) & 63)) & 1) != 0;
  }

 private:
  static constexpr char32_t k_first = 0x4E00;
  static constexpr char32_t k_end = 0xA000;
  std::array<std::uint64_t, (k_end - k_first) / 64> bits_{};
};

}  // namespace shouhou::intents::detail
