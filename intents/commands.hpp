#pragma once
// The supervisor commands `shouhou intents check|classify|eval` (issue 3). The executable parses
// the command line and calls these; they print to the streams given and return the exit code.
// None of them throws for bad files or bad input: problems are printed, located, and turn into
// the exit code.

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "intents/training.hpp"

namespace shouhou::intents {

// Exit codes shared by the three commands.
inline constexpr int k_exit_ok = 0;
inline constexpr int k_exit_failed = 1;    // check: the files have errors; eval: below the bar
inline constexpr int k_exit_unusable = 2;  // classify/eval: the files or the corpus cannot be used

// `intents check [--intents DIR]`: loads the folder. Prints "ok: ..." with what was compiled and
// returns 0, or prints every error ("file:line:column: message", one a line) and returns 1.
int check_command(const std::filesystem::path& dir, std::ostream& out);

// `intents classify [--intents DIR] [--json] [TEXT...]`: classifies each text, or each line of
// `in` when `texts` is empty (empty lines are skipped). Text output is a block per message
// (reason, confidence, runner-up, unsure, flags, entities, explanation); --json prints one JSON
// object per message and line (JSON Lines) with the fields of `classification`. Returns 0, or 2
// with the errors on `err` when the folder does not load.
int classify_command(const std::filesystem::path& dir, bool json,
                     const std::vector<std::string>& texts, std::istream& in, std::ostream& out,
                     std::ostream& err);

// `intents eval --corpus FILE.jsonl... [--intents DIR] [--json] [--min-macro-f1 X]
//  [--cross-validate K [--sealed-fifth SEED]]`: classifies each corpus line ({"text", "intent",
// "flags"?, "source"?, "sample"?, "alt"?}; empty lines skipped) and prints accuracy, macro-F1,
// what is answered without asking (not unsure) and how often it is right, the same split by
// source and sample, per-reason precision/recall/F1/support, the confusion matrix, flag precision
// and recall, coverage and accuracy at confidence thresholds, the calibration (reliability bins,
// expected calibration error) and every misclassified message with what fired and its `alt`.
// Macro-F1 is the mean F1 over the reasons that occur in the labels or the predictions.
// With --cross-validate K the folder's own model is not used: the corpus is cut into K
// stratified folds (seed training.seed) and each fold is classified by a model trained, as
// `intents train` would, on the other folds and the folder's examples. With --sealed-fifth, the
// lines of that fifth are counted but never listed, and are measured once more on a model trained
// on the other four fifths. --json prints one JSON object with every figure.
// Returns 0; 1 when `min_macro_f1` is given and macro-F1 is below it; 2 (error on `err`, naming
// file:line for a bad corpus line) when the corpus or the folder cannot be used.
struct eval_request {
  std::vector<std::filesystem::path> corpora;
  std::filesystem::path intents;
  bool json = false;
  std::optional<double> min_macro_f1;
  int cross_validate = 0;
  std::optional<std::uint32_t> sealed_fifth;
  training_options training;
};
int eval_command(const eval_request& request, std::ostream& out, std::ostream& err);

// `intents train --corpus FILE.jsonl... [--intents DIR] [--out FILE]`: trains the keyword model
// (intents/training.hpp) on the corpora and the folder's examples and writes it, by a rename, to
// FILE (default DIR/keyword.model), where the server reads it with the other files. Prints what
// it trained on, the temperature and the recommended unsure threshold. Returns 0, or 2 with the
// error on `err`.
struct train_request {
  std::vector<std::filesystem::path> corpora;
  std::filesystem::path intents;
  std::optional<std::filesystem::path> out;
  training_options training;
};
int train_command(const train_request& request, std::ostream& out, std::ostream& err);

}  // namespace shouhou::intents
