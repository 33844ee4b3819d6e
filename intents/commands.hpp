#pragma once
// The supervisor commands `shouhou intents check|classify|eval` (issue 3). The executable parses
// the command line and calls these; they print to the streams given and return the exit code.
// None of them throws for bad files or bad input: problems are printed, located, and turn into
// the exit code.

#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

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

// `intents eval --corpus FILE.jsonl [--intents DIR] [--json] [--min-macro-f1 X]`: classifies each
// corpus line ({"text": ..., "intent": ..., "flags": [...]}; other fields ignored, empty lines
// skipped) and prints accuracy, macro-F1, per-reason precision/recall/F1/support, the confusion
// matrix, flag precision/recall and every misclassified message with what fired. --json prints
// one JSON object (accuracy, macro_f1, messages, per_intent, confusion, flags, misclassified).
// Macro-F1 is the mean F1 over the reasons that occur in the corpus labels or in the
// predictions (a reason with no true and no predicted message is left out).
// Returns 0; 1 when `min_macro_f1` is given and macro-F1 is below it; 2 (error on `err`, naming
// file:line for a bad corpus line) when the corpus or the folder cannot be used.
int eval_command(const std::filesystem::path& corpus, const std::filesystem::path& dir, bool json,
                 std::optional<double> min_macro_f1, std::ostream& out, std::ostream& err);

}  // namespace shouhou::intents
