#include "intents/detail/keyword_model.hpp"

#include <algorithm>
#include <cmath>

namespace shouhou::intents::detail {
namespace {

constexpr double k_smoothing = 0.5;  // additive (Lidstone) smoothing of pair counts

// A character that may be part of a pair: letters, digits and everything non-ASCII (Chinese).
bool is_word_char(char32_t cp) {
  return cp >= 0x80 || (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z');
}

// Calls f(key) for every pair of adjacent word characters; a key packs both code points.
template <typename F>
void for_each_pair(std::string_view s, F&& f) {
  char32_t prev = 0;
  for (std::size_t p = 0; p < s.size();) {
    const auto b0 = static_cast<unsigned char>(s[p]);
    std::size_t len = b0 < 0x80 ? 1 : b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC0 ? 2 : 1;
    if (p + len > s.size()) len = 1;
    char32_t cp = b0;
    if (len > 1) {
      cp = b0 & (len == 2 ? 0x1Fu : len == 3 ? 0x0Fu : 0x07u);
      for (std::size_t i = 1; i < len; ++i) {
        cp = (cp << 6) | (static_cast<unsigned char>(s[p + i]) & 0x3Fu);
      }
    }
    p += len;
    if (!is_word_char(cp)) {
      prev = 0;
      continue;
    }
    if (prev != 0) f((static_cast<std::uint64_t>(prev) << 32) | cp);
    prev = cp;
  }
}

std::size_t slot_of(std::uint64_t key, std::size_t mask) {
  std::uint64_t h = key * 0x9E3779B97F4A7C15ull;
  h ^= h >> 29;
  return static_cast<std::size_t>(h) & mask;
}

}  // namespace

void keyword_model::add(std::size_t cls, std::string_view normalized, double weight) {
  if (cls >= classes_ || weight <= 0) return;
  for_each_pair(normalized, [&](std::uint64_t key) {
    auto& counts = counts_[key];
    if (counts.empty()) counts.assign(classes_, 0.0);
    counts[cls] += weight;
    class_total_[cls] += weight;
  });
}

void keyword_model::train() {
  features_ = counts_.size();
  std::size_t size = 16;
  while (size < features_ * 2) size *= 2;
  mask_ = size - 1;
  keys_.assign(size, k_empty);
  rows_.assign(size, 0);
  log_.assign(features_ * classes_, 0.0f);
  const double vocabulary = static_cast<double>(std::max<std::size_t>(features_, 1));
  std::uint32_t row = 0;
  for (const auto& [key, counts] : counts_) {
    std::size_t slot = slot_of(key, mask_);
    while (keys_[slot] != k_empty) slot = (slot + 1) & mask_;
    keys_[slot] = key;
    rows_[slot] = row;
    for (std::size_t c = 0; c < classes_; ++c) {
      const double p = (counts[c] + k_smoothing) / (class_total_[c] + k_smoothing * vocabulary);
      log_[row * classes_ + c] = static_cast<float>(std::log(p));
    }
    ++row;
  }
  counts_ = {};
}

std::size_t keyword_model::score(std::string_view normalized, double* posterior) const {
  std::fill(posterior, posterior + classes_, 0.0);
  std::size_t known = 0;
  if (keys_.empty()) return 0;
  for_each_pair(normalized, [&](std::uint64_t key) {
    std::size_t slot = slot_of(key, mask_);
    while (keys_[slot] != k_empty && keys_[slot] != key) slot = (slot + 1) & mask_;
    if (keys_[slot] != key) return;
    ++known;
    const float* row = &log_[rows_[slot] * classes_];
    for (std::size_t c = 0; c < classes_; ++c) posterior[c] += row[c];
  });
  if (known == 0) {
    std::fill(posterior, posterior + classes_, 1.0 / static_cast<double>(classes_));
    return 0;
  }
  const double scale = 1.0 / std::sqrt(static_cast<double>(known));
  // Classes without any training text take no part (their probability is 0).
  double best = -1e300;
  for (std::size_t c = 0; c < classes_; ++c) {
    posterior[c] *= scale;
    if (class_total_[c] > 0) best = std::max(best, posterior[c]);
  }
  double sum = 0;
  for (std::size_t c = 0; c < classes_; ++c) {
    posterior[c] = class_total_[c] > 0 ? std::exp(posterior[c] - best) : 0.0;
    sum += posterior[c];
  }
  for (std::size_t c = 0; c < classes_; ++c) posterior[c] /= sum;
  return known;
}

std::size_t keyword_model::memory_bytes() const {
  return keys_.capacity() * sizeof(std::uint64_t) + rows_.capacity() * sizeof(std::uint32_t) +
         log_.capacity() * sizeof(float) +
         class_total_.capacity() * sizeof(double);
}

}  // namespace shouhou::intents::detail
