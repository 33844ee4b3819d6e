#include "intents/detail/keyword_model.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "intents/detail/ngrams.hpp"

namespace shouhou::intents::detail {
namespace {

constexpr double k_smoothing = 0.5;  // additive (Lidstone) smoothing of n-gram counts
constexpr double k_log_scale = 24.0;  // log-probabilities above the class's floor, as uint8 x 1/24

}  // namespace

void keyword_model::add(std::size_t cls, std::string_view normalized, double weight) {
  if (cls >= classes_ || weight <= 0) return;
  for_each_gram(normalized, max_n_, [&](std::uint64_t key) {
    auto& counts = counts_[key];
    if (counts.empty()) counts.assign(classes_, 0.0);
    counts[cls] += weight;
    class_total_[cls] += weight;
  });
}

void keyword_model::train() {
  // Smoothing counts every n-gram seen, kept or not; only those seen often enough are kept.
  const double vocabulary = static_cast<double>(std::max<std::size_t>(counts_.size(), 1));
  features_ = 0;
  for (const auto& entry : counts_) {
    double total = 0;
    for (const double v : entry.second) total += v;
    if (total >= min_count_) ++features_;
  }
  // Load factor at most 2/3: a probe for an unknown n-gram ends after a slot or two.
  std::size_t size = 16;
  while (size * 2 < features_ * 3) size *= 2;
  mask_ = size - 1;
  slots_.assign(size, slot{});
  known_.fill(0);
  for (std::size_t c = 0; c < classes_; ++c) {
    // The smallest log P(n-gram|c) there is: an n-gram never seen with class c.
    floor_[c] = std::log(k_smoothing / (class_total_[c] + k_smoothing * vocabulary));
  }
  for (const auto& [key, counts] : counts_) {
    double total = 0;
    for (const double v : counts) total += v;
    if (total < min_count_) continue;
    const std::uint64_t h = mix(key);
    std::size_t at = static_cast<std::size_t>(h) & mask_;
    while (slots_[at].fingerprint() != 0) at = (at + 1) & mask_;
    slot& s = slots_[at];
    s.set_fingerprint(fingerprint_of(h));
    known_[known_bit(h) >> 6] |= std::uint64_t{1} << (known_bit(h) & 63);
    for (std::size_t c = 0; c < classes_; ++c) {
      const double p = (counts[c] + k_smoothing) / (class_total_[c] + k_smoothing * vocabulary);
      const double q = std::round((std::log(p) - floor_[c]) * k_log_scale);
      s.bytes[c] = static_cast<std::uint8_t>(std::clamp(q, 0.0, 255.0));
    }
  }
  counts_ = {};
  fingerprints_.resize(slots_.size() + 8);
  for (std::size_t i = 0; i < fingerprints_.size(); ++i) {
    fingerprints_[i] = slots_[i & mask_].fingerprint();
  }
  // Single Chinese characters are half the look-ups: their answers, computed once.
  han_slot_.clear();
  if (slots_.size() < 0xFFFF) {
    han_slot_.resize(k_han_end - k_han_first);
    for (char32_t cp = k_han_first; cp < k_han_end; ++cp) {
      const std::size_t at = find(mix(cp));
      han_slot_[cp - k_han_first] = at == k_missing ? 0 : static_cast<std::uint16_t>(at + 1);
    }
  }
}

inline std::size_t keyword_model::find(std::uint64_t h) const {
  const std::uint32_t f = fingerprint_of(h);
  std::size_t at = static_cast<std::size_t>(h) & mask_;
#ifdef __SSE2__
  // Eight fingerprints at once: the probe ends at the first that is f or empty (f is never 0).
  // fingerprints_ repeats its first eight at the end, so a window may run past the last slot.
  const __m128i want = _mm_set1_epi32(static_cast<int>(f));
  const __m128i empty = _mm_setzero_si128();
  for (;;) {
    const auto* p = reinterpret_cast<const __m128i*>(&fingerprints_[at]);
    const __m128i a = _mm_loadu_si128(p);
    const __m128i b = _mm_loadu_si128(p + 1);
    const int stop =
        _mm_movemask_ps(_mm_castsi128_ps(_mm_or_si128(_mm_cmpeq_epi32(a, want), _mm_cmpeq_epi32(a, empty)))) |
        (_mm_movemask_ps(_mm_castsi128_ps(_mm_or_si128(_mm_cmpeq_epi32(b, want), _mm_cmpeq_epi32(b, empty))))
         << 4);
    if (stop != 0) {
      at += static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(stop)));
      return fingerprints_[at] == f ? at & mask_ : k_missing;
    }
    at = (at + 8) & mask_;
  }
#else
  for (;; at = (at + 1) & mask_) {
    if (fingerprints_[at] == f) return at;
    if (fingerprints_[at] == 0) return k_missing;
  }
#endif
}

inline void keyword_model::look_up(std::uint64_t key, std::vector<std::uint32_t>& found) const {
  std::size_t at = 0;
  if (key >= k_han_first && key < k_han_end && !han_slot_.empty()) {
    const std::uint16_t known = han_slot_[key - k_han_first];
    if (known == 0) return;
    at = known - 1u;
  } else {
    const std::uint64_t h = mix(key);
    if (((known_[known_bit(h) >> 6] >> (known_bit(h) & 63)) & 1) == 0) return;
    at = find(h);
    if (at == k_missing) return;
  }
  __builtin_prefetch(&slots_[at]);
  found.push_back(static_cast<std::uint32_t>(at));
}

// The n-grams are looked up as they come, in the fingerprints (32 KiB, mostly in the L1 cache),
// and the rows of those found prefetched; the rows are added afterwards, so that their loads
// overlap instead of waiting in turn.
std::size_t keyword_model::score(std::string_view normalized, double* posterior) const {
  thread_local std::vector<std::uint32_t> found;
  found.clear();
  if (!slots_.empty()) {
    for_each_gram(normalized, max_n_, [&](std::uint64_t key) { look_up(key, found); });
  }
  return add_rows(found, posterior);
}

std::size_t keyword_model::score(const char32_t* text, std::size_t size, double* posterior) const {
  thread_local std::vector<std::uint32_t> found;
  found.clear();
  if (!slots_.empty()) {
    char32_t prev = 0;
    char32_t prev2 = 0;
    for (std::size_t i = 0; i < size; ++i) {
      next_char(text[i], max_n_, prev, prev2, [&](std::uint64_t key) { look_up(key, found); });
    }
  }
  return add_rows(found, posterior);
}


std::size_t keyword_model::add_rows(const std::vector<std::uint32_t>& found,
                                    double* posterior) const {
  std::fill(posterior, posterior + classes_, 0.0);
  if (slots_.empty() || features_ == 0) return 0;
  const std::size_t known = found.size();
  alignas(64) std::uint32_t sum[16] = {};
  for (const std::uint32_t at : found) {
    const std::uint8_t* row = slots_[at].bytes;
    for (std::size_t c = 0; c < 16; ++c) sum[c] += row[c];
  }
  if (known == 0) {
    std::fill(posterior, posterior + classes_, 1.0 / static_cast<double>(classes_));
    return 0;
  }
  const double n = static_cast<double>(known);
  const double root = std::sqrt(n);
  // Classes without any training text take no part (their probability is 0).
  double best = -1e300;
  for (std::size_t c = 0; c < classes_; ++c) {
    posterior[c] = (sum[c] / k_log_scale + n * floor_[c]) / root;
    if (class_total_[c] > 0) best = std::max(best, posterior[c]);
  }
  double total = 0;
  for (std::size_t c = 0; c < classes_; ++c) {
    posterior[c] = class_total_[c] > 0 ? std::exp(posterior[c] - best) : 0.0;
    total += posterior[c];
  }
  for (std::size_t c = 0; c < classes_; ++c) posterior[c] /= total;
  return known;
}

std::size_t keyword_model::memory_bytes() const {
  return slots_.capacity() * sizeof(slot) + fingerprints_.capacity() * sizeof(std::uint32_t) +
         class_total_.capacity() * sizeof(double) + han_slot_.capacity() * sizeof(std::uint16_t) +
         sizeof(known_);
}

}  // namespace shouhou::intents::detail
