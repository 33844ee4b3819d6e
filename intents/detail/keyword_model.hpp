#pragma once
// The keyword model: multinomial naive Bayes over the character pairs (bigrams) of normalised
// text, trained at load time. Training documents are the files' example messages (weight 1),
// keywords (their weight) and the literal alternatives of patterns ("碎了|裂了" gives 碎了 and 裂了,
// with the pattern's weight): so keyword weights act as priors and examples add the words around
// them. Pairs across punctuation or spaces are not features; a one-character text has none.
//
// score() gives, per class, the posterior probability under a uniform class prior, with the
// summed log-likelihoods divided by sqrt(number of known pairs) before the softmax so that long
// messages do not become over-certain. Pairs never seen in training are ignored.
// Immutable after train(); score() is const and thread-safe.

#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace shouhou::intents::detail {

class keyword_model {
 public:
  explicit keyword_model(std::size_t classes) : classes_(classes), class_total_(classes, 0.0) {}

  void add(std::size_t cls, std::string_view normalized, double weight);
  void train();

  // Writes `classes` probabilities into `posterior` and returns the number of known pairs in
  // the text (0: the posterior is uniform and should be ignored).
  std::size_t score(std::string_view normalized, double* posterior) const;

  std::size_t features() const { return features_; }
  std::size_t memory_bytes() const;

 private:
  static constexpr std::uint64_t k_empty = 0;  // no pair packs to 0

  std::size_t classes_;
  std::vector<double> class_total_;
  std::unordered_map<std::uint64_t, std::vector<double>> counts_;  // training only
  // After train(): open addressing, keys_[slot] -> row rows_[slot], whose log-probabilities are
  // log_[row * classes_ + c] (log P(pair|c)). Rows are dense (one per known pair), so the table
  // the model reads stays small in the cache it shares with the pattern matcher.
  std::vector<std::uint64_t> keys_;
  std::vector<std::uint32_t> rows_;
  std::vector<float> log_;
  std::size_t mask_ = 0;
  std::size_t features_ = 0;
};
}  // namespace shouhou::intents::detail
