#pragma once
// The keyword model: multinomial naive Bayes over the character n-grams (1 .. max_n characters;
// single characters only when not ASCII) of normalised text, trained at load time. Training
// documents are the files' example messages (yaml `examples:` and examples/<reason>.txt, weight
// 1), keywords (their weight) and the literal alternatives of patterns ("碎了|裂了" gives 碎了 and
// 裂了, with the pattern's weight): so keyword weights act as priors and examples add the words
// around them. N-grams across punctuation or spaces are not features. N-grams whose weighted
// count over all classes is below min_count are dropped after counting (they still count in the
// smoothing's vocabulary): they rarely help and would make the table larger.
//
// score() gives, per class, the posterior probability under a uniform class prior, with the
// summed log-likelihoods divided by sqrt(number of known n-grams) before the softmax so that long
// messages do not become over-certain. N-grams not kept are ignored: one hash probe each.
// Immutable after train(); score() is const and thread-safe.

#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace shouhou::intents::detail {

class keyword_model {
 public:
  // Counts n-grams of 1 .. max_n characters; train() keeps those whose weighted count over all
  // classes reaches min_count. At most k_max_classes classes.
  static constexpr std::size_t k_max_classes = 13;  // a slot is then 16 bytes
  explicit keyword_model(std::size_t classes, int max_n = 2, double min_count = 1.0)
      : classes_(std::min(classes, k_max_classes)),
        max_n_(max_n),
        min_count_(min_count),
        class_total_(classes_, 0.0) {}

  void add(std::size_t cls, std::string_view normalized, double weight);
  void train();

  // Writes `classes` probabilities into `posterior` and returns the number of known pairs in
  // the text (0: the posterior is uniform and should be ignored).
  std::size_t score(std::string_view normalized, double* posterior) const;
  // Same, over the text's code points (valid UTF-8 decoded: the same n-grams).
  std::size_t score(const char32_t* text, std::size_t size, double* posterior) const;

  std::size_t features() const { return features_; }
  std::size_t memory_bytes() const;

 private:
  // Appends the slot of n-gram `key` to `found` when the table knows it.
  void look_up(std::uint64_t key, std::vector<std::uint32_t>& found) const;
  std::size_t add_rows(const std::vector<std::uint32_t>& found, double* posterior) const;
  // The slot holding the n-gram of hash `h`, or k_missing: the first slot from h's home on whose
  // fingerprint is h's or empty (an unknown n-gram may share a known one's fingerprint, rarely).
  static constexpr std::size_t k_missing = ~std::size_t{0};
  std::size_t find(std::uint64_t h) const;

  std::size_t classes_;
  int max_n_;
  double min_count_;
  std::vector<double> class_total_;
  std::unordered_map<std::uint64_t, std::vector<double>> counts_;  // training only
  // After train(): open addressing over 16-byte slots, one cache access per probe (the table stays
  // small in the cache it shares with the pattern matcher). A slot holds a 24-bit fingerprint of
  // its n-gram (0: empty) and, per class, log P(n-gram|c) above the class's floor (the log
  // probability of an n-gram never seen with c) as uint8 x 1/24 (resolution 0.04, well below
  // what moves a score). The fingerprint comes from other bits of the hash than the slot index:
  // an unknown n-gram is taken for a known one with odds of about one in 16 million per probe.
  struct alignas(16) slot {
    // bytes[0..12]: the classes' values; bytes[13..15]: the fingerprint. Scoring adds all 16
    // bytes at once (the last three land in unused sums).
    std::uint8_t bytes[16] = {};
    std::uint32_t fingerprint() const {
      return static_cast<std::uint32_t>(bytes[13]) | (static_cast<std::uint32_t>(bytes[14]) << 8) |
             (static_cast<std::uint32_t>(bytes[15]) << 16);
    }
    void set_fingerprint(std::uint32_t f) {
      bytes[13] = static_cast<std::uint8_t>(f);
      bytes[14] = static_cast<std::uint8_t>(f >> 8);
      bytes[15] = static_cast<std::uint8_t>(f >> 16);
    }
  };
  static_assert(sizeof(slot) == 16);
  std::vector<slot> slots_;
  // The slots' fingerprints alone, followed by the first eight again: probing reads 4 bytes a
  // slot instead of a 16-byte slot, and up to eight slots at once.
  std::vector<std::uint32_t> fingerprints_;
  // Per CJK ideograph (U+4E00..U+9FFF): what find() gives for it as a unigram, as slot + 1, or 0
  // when unknown (42 KiB; empty for a table of 65,535 slots or more).
  static constexpr char32_t k_han_first = 0x4E00;
  static constexpr char32_t k_han_end = 0xA000;
  std::vector<std::uint16_t> han_slot_;
  // One bit per 16-bit hash of the n-grams the table knows (8 KiB, in the L1 cache): most pairs
  // of a message are unknown, and then cost no probe of the fingerprints.
  std::array<std::uint64_t, 1024> known_{};
  static std::size_t known_bit(std::uint64_t h) { return static_cast<std::size_t>(h >> 16) & 0xFFFF; }
  std::array<double, k_max_classes> floor_{};
  std::size_t mask_ = 0;
  std::size_t features_ = 0;
};
}  // namespace shouhou::intents::detail
