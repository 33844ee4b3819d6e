#pragma once
// The trained keyword model (issue 12): one-vs-rest logistic regression, trained by liblinear
// (intents/training.hpp), over what the engine observed of a message, its logits turned into
// probabilities by a softmax whose temperature was fitted on held-out folds, so that a
// probability means what it says.
//
// What it reads of a message (an `observation`, filled by engine::observe):
// - hashed character n-grams: each 1-3-gram of the normalised text (ngrams.hpp) falls into one of
//   2^bucket_bits buckets by its hash; a bucket seen in fewer than two training messages has no
//   weight. An occurrence counts 1/sqrt(number of occurrences of known buckets in the message),
//   so that long messages do not become over-certain.
// - numbered features: each rule of the intent files that fired, in each of four forms (counted,
//   after a contrast, negated, supposed), and a few more: the rules' score per reason, the flags
//   and entity kinds present, the length of the message, a question mark.
// The file holds no text: buckets are numbers, rules are named by a hash of what they are.
//
// Immutable once read and bound to an engine's rules; logits() is const and thread-safe.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "intents/reasons.hpp"

namespace shouhou::intents::detail {

inline constexpr std::size_t k_classes = k_reasons.size();
inline constexpr int k_linear_max_n =
    5;  // what an observation holds; a model reads up to its max_n

// The numbered features after the rules' (4 per rule), in this order.
enum class form : std::uint8_t { counted = 0, contrast = 1, negated = 2, supposed = 3 };
inline constexpr std::size_t k_forms = 4;
inline constexpr std::size_t k_score_features = k_classes;  // log(1 + rule score) per reason
inline constexpr std::size_t k_flag_features = k_flags.size();
inline constexpr std::size_t k_entity_features = 5;  // order_no waybill_no phone amount count
inline constexpr std::size_t k_length_features = 6;  // characters: 1-2 3-5 6-10 11-20 21-50 51+
inline constexpr std::size_t k_question_features = 1;
inline constexpr std::size_t k_extra_features = k_score_features + k_flag_features +
                                                k_entity_features + k_length_features +
                                                k_question_features;

struct observation {
  std::vector<std::uint64_t> grams;  // n-gram keys (ngrams.hpp), repeats kept
  // Numbered features and their values: rule r in form f is r * k_forms + f (the engine's rule
  // order); extra feature e is rules * k_forms + e.
  std::vector<std::pair<std::uint32_t, float>> numbered;
};

class linear_model {
 public:
  // Everything a file holds, as the trainer makes it.
  struct parts {
    int bucket_bits = 21;
    int max_n = 3;                     // the longest n-grams the model reads
    double unsure_below = 0.5;         // recommended; from the trainer's held-out folds
    std::string trained_on;            // one line for people: what it was trained on
    std::vector<std::uint64_t> rules;  // rule identities (rule_identity), in training order
    // (rules * k_forms + k_extra_features + 1) rows of k_classes: numbered features, then bias.
    std::vector<float> numbered;
    double gram_scale = 1.0;  // a bucket's int8 weight x gram_scale is its weight
    // Buckets with weights, ascending, and their k_classes int8 weights each.
    std::vector<std::uint32_t> buckets;
    std::vector<std::int8_t> gram_weights;
  };

  // The file's bytes for `p` (deterministic: the same parts give the same bytes).
  static std::string write(const parts& p);
  // Parses and checks a file; nullopt with `error` saying what is wrong (corrupt, truncated,
  // another format version, counts that do not add up).
  static std::optional<linear_model> read(std::string_view bytes, std::string& error);
  static std::optional<linear_model> from(parts p, std::string& error);

  // Maps the engine's rules (their identities, in the engine's order) to the model's rows.
  // False, with `error` naming what differs, when the model was trained with other rules.
  bool bind(const std::vector<std::uint64_t>& engine_rules, std::string& error,
            std::size_t& first_unknown);

  // Logits of every class for an observation (the engine's rule numbering). Returns the number
  // of n-gram occurrences that fell into known buckets.
  std::size_t logits(const observation& o, double* z) const;
  // The probabilities: a softmax of the logits.
  static void probabilities(const double* z, double* p);

  // Per class, what the numbered feature `index` (the engine's numbering) adds to its logit;
  // for explanations.
  const float* numbered_row(std::uint32_t index) const;

  const parts& contents() const { return parts_; }
  double unsure_below() const { return parts_.unsure_below; }
  std::size_t memory_bytes() const;

 private:
  parts parts_;
  std::vector<std::int32_t> rule_row_;  // per engine rule: the model's rule, or -1
  // Rank directory over the bucket bitmap: per 64 buckets, which are known and how many known
  // buckets come before them; a known bucket's row is then found without probing.
  struct word {
    std::uint64_t bits = 0;
    std::uint32_t rank = 0;
    std::uint32_t pad = 0;
  };
  std::vector<word> words_;
  // Rows of 16 int8 (13 used), one per known bucket, so that a row is one aligned load.
  struct alignas(16) gram_row {
    std::int8_t w[16] = {};
  };
  std::vector<gram_row> rows_;
};

// The identity of a rule, as the model names it: a hash of its reason or flag, kind and text,
// and of how many identical rules came before it.
std::uint64_t rule_identity(std::string_view target, int kind, std::string_view text,
                            int occurrence);

}  // namespace shouhou::intents::detail
