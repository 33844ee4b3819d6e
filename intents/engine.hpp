#pragma once
// The intent engine: sorts a buyer message by refund reason.
//
// Built once from the intent files of a folder into an immutable object; classify() is const and
// safe to call from any number of threads at once. A reload builds a new engine beside the old
// one and the caller swaps the shared_ptr.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "intents/file_error.hpp"

namespace shouhou::intents {

namespace detail {
struct observation;
class linear_model;
}  // namespace detail

struct engine_options {
  // Fill classification::explanation on every classify(text). Off by default: the strings cost
  // more than the classification itself; classify(text, true) or explain() give them on demand.
  bool explain = false;
  // Without a trained model: how much the keyword model (naive Bayes over character 1-2-grams,
  // trained at load time from the files' examples, examples/<reason>.txt, keywords and literal
  // patterns) weighs in the fusion: a reason whose pattern scored loses model_weight x 0.2 x
  // ln(P(model's favourite) / P(reason)) (intents/README.md, "How a message is scored"). 0 turns
  // the model off: patterns alone decide, as in the files' worked examples.
  double model_weight = 1.0;
  // Below this confidence the result is marked `unsure` and the bot asks the buyer to choose.
  // Unset: the trained model's own (chosen by `intents train` on held-out folds, so that what is
  // answered without asking is right at least 92% of the time), or 0.5 without a model.
  std::optional<double> unsure_below;
  // Read the folder's trained keyword model (intents/README.md, "The trained model") when there
  // is one. Off for training, which must load the rules whatever model the folder holds.
  bool use_model = true;
};

struct candidate {
  std::string reason;
  double confidence = 0.0;
};

// Something the engine pulled out of the text: an order number, a waybill number, ...
struct entity {
  std::string kind;   // "order_no", "waybill_no", "phone", "amount", "count"
  std::string value;  // normalised value
};

struct classification {
  std::string reason = "other";       // best reason id
  double confidence = 0.0;            // of `reason`, in [0, 1]
  std::string runner_up;              // second-best reason id; empty when none scored
  double runner_up_confidence = 0.0;
  bool unsure = false;                // confidence < engine_options::unsure_below
  std::vector<candidate> candidates;  // every reason that scored, best first
  std::vector<std::string> flags;     // ids from k_flags
  std::vector<entity> entities;
  std::vector<std::string> explanation;  // what fired and by how much, for people to read;
                                         // filled only when asked (engine_options::explain)
};

// What an engine was built from, for `intents check` and the benchmark.
struct engine_stats {
  std::size_t files = 0;
  std::size_t example_files = 0;       // examples/<reason>.txt files
  std::size_t patterns = 0;  // RE2 patterns, keywords and negative cues in the set
  std::size_t examples = 0;            // yaml `examples:` and lines of examples/*.txt
  std::size_t model_features = 0;      // n-grams the naive Bayes model knows, or, with a trained
                                       // model, the buckets that have weights
  bool trained_model = false;          // the folder's trained model is in use
  std::size_t traditional_chars = 0;   // Traditional characters the normaliser converts
  double compile_ms = 0.0;             // reading, compiling and training, in milliseconds
  // Rules not wholly lists of phrases: those checked where the phrases they start with occur
  // (by comparing bytes when they are sequences of groups of phrases, else with an anchored
  // regex: regex_checked_rules of them), and those matched (in part) by the regex set.
  std::size_t checked_rules = 0;
  std::size_t regex_checked_rules = 0;
  std::size_t set_rules = 0;
};

class engine {
 public:
  struct load_result {
    std::shared_ptr<const intents::engine> engine;  // null when `errors` is not empty
    std::vector<file_error> errors;
  };

  // Reads every intent file in `dir` (see intents/README.md) and compiles it. Never throws for
  // bad files: every problem found is returned, located.
  static load_result load(const std::filesystem::path& dir, engine_options options = {});

  // Never throws; any bytes are accepted (invalid UTF-8 passes through normalisation).
  classification classify(std::string_view text) const;
  // Same, with the explanation filled when `explain` is true (whatever engine_options says).
  classification classify(std::string_view text, bool explain) const;

  // Only the rule match over the normalised text (the phrase index's walk and the RE2::Set of
  // the other alternatives): how many occurrences and set entries. For the benchmark, to show
  // what the rest of classify() costs.
  std::size_t match_only(std::string_view normalized_text) const;

  const engine_stats& stats() const;

  // What the trained model reads of a message: its n-grams and what fired (linear_model.hpp).
  // For training and cross-validation.
  void observe(std::string_view text, detail::observation& out) const;
  // classify() with `model` (bound to this engine's rules) in place of the folder's.
  classification classify_with(std::string_view text, bool explain,
                               const detail::linear_model& model) const;
  // The identities of the rules, in this engine's order, as a model names them.
  const std::vector<std::uint64_t>& rule_identities() const;
  // The confidence under which a result is unsure: engine_options', else the trained model's,
  // else 0.5.
  double unsure_below() const;
  // The folder's trained model, or null when it has none (or it was not read).
  const detail::linear_model* model() const;

  // Content hash of the files the engine was built from (hex SHA-256), to say which is live.
  const std::string& version() const { return version_; }

  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  struct impl;  // public only so the .cpp's helpers can name it

 private:
  explicit engine(std::unique_ptr<impl> p, std::string version);
  std::unique_ptr<impl> impl_;
  std::string version_;
};

}  // namespace shouhou::intents
