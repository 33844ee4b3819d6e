#pragma once
// Training the keyword model (issue 12) and measuring it honestly.
//
// The model is one-vs-rest L2-regularised logistic regression from liblinear (Debian's
// liblinear-dev): for each reason a binary problem, solved by its trust-region Newton method,
// which is deterministic (no random order), so the same inputs give the same file, byte for byte.
// Its inputs are what the engine observes of a message (detail/linear_model.hpp): hashed
// character 1-3-grams, every rule that fired in its four forms, the rules' scores, flags, entities.
// The reasons' logits go through a softmax whose temperature is fitted on held-out folds of the
// training data (nested cross-validation), so that a confidence p is right about p of the time;
// the same folds choose the recommended unsure threshold.
//
// Nothing here throws for bad data; liblinear is called with checked parameters.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "intents/corpus.hpp"
#include "intents/engine.hpp"

namespace shouhou::intents {

struct training_options {
  // The defaults were chosen by 5-fold cross-validation on ../shared/corpus/dev.jsonl
  // (intents/README.md, "The trained model"): C 0.5 / 2 / 8 / 30 / 100, balance 0 / 0.5 / 1,
  // n-grams up to 3 or 4, idf or not, 2^20 or 2^22 buckets, rule_value 0.1 / 0.2 / 0.3 / 1 / 3.
  double c = 30;             // liblinear's C (inverse regularisation), per binary problem
  double class_balance = 0;  // positives weigh (negatives / positives)^this: 0 none, 1 balanced
  int bucket_bits = 20;      // n-grams hash into 2^bucket_bits buckets
  int max_n = 4;             // character n-grams of 1 .. max_n (at most 5)
  bool idf = false;          // weigh each bucket by its inverse document frequency
  // The value a fired rule's feature has in training: below 1 its weight is regularised harder
  // (by 1 / rule_value^2), so that a rule is trusted only as far as the messages bear it out.
  // The hand-written rules were written while reading part of this very corpus; at 1 they cost
  // accuracy on cross-validation, at 0.2-0.3 they add a little (intents/README.md).
  double rule_value = 0.25;
  int min_messages = 2;             // a bucket needs this many training messages to get a weight
  int calibration_folds = 4;        // held-out folds for the temperature and the threshold
  double answered_accuracy = 0.92;  // the threshold: the lowest at which this is reached
  std::uint32_t seed = 20261204;    // folds
  unsigned threads = 0;             // 0: the machine's cores
};

// One message to train on.
struct training_message {
  std::string text;
  std::size_t intent = 0;
  // Counts when choosing the threshold: corpus lines that are a sample of live traffic, not
  // the examples of the intent files nor lines picked by keyword.
  bool live = true;
};

// The training messages of an intent folder's own examples (yaml `examples:` and
// examples/<reason>.txt), marked not live. Errors of the folder go into `errors`.
std::vector<training_message> folder_examples(const std::filesystem::path& dir,
                                              std::vector<file_error>& errors);

struct training_result {
  std::string model;  // the file's bytes (detail::linear_model::write)
  double temperature = 1.0;
  double unsure_below = 0.5;
  std::size_t buckets = 0;
  std::string error;  // not empty: no model
};

// Trains on `messages`, with `e` (loaded without a model) observing them. `trained_on` is written
// into the file for people.
training_result train_model(const engine& e, const std::vector<training_message>& messages,
                            const training_options& options, const std::string& trained_on);

// Stratified folds: fold of each message (0 .. k-1), the same for the same labels and seed.
std::vector<int> stratified_folds(const std::vector<std::size_t>& labels, int k,
                                  std::uint32_t seed);

// The fifth of a corpus kept aside: true for the messages nobody reads line by line. Decided by
// the text and the seed alone, so it stays the same whatever else the file holds.
bool in_sealed_fifth(std::string_view text, std::uint32_t seed);

}  // namespace shouhou::intents
