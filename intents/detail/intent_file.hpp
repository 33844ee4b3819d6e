#pragma once
// Reading the intent files of a folder into plain data (no RE2 yet): the YAML format of
// intents/README.md. Every problem is collected, located by file, line and column.

#include <filesystem>
#include <string>
#include <vector>

#include "intents/file_error.hpp"

namespace shouhou::intents::detail {

enum class rule_kind { pattern, keyword, negative };

// One thing that can fire: a pattern, a keyword (compiled as an escaped literal) or a negative
// cue, for one reason or flag.
struct rule {
  rule_kind kind = rule_kind::pattern;
  std::string target;  // reason or flag id
  std::string text;    // as the supervisor wrote it (keywords already normalised)
  std::string regex;   // what RE2 compiles
  double weight = 1.0;
  bool veto = false;  // negative cues only: the target cannot win when this fires
  std::string file;
  int line = 0;
  int column = 0;
};

// One `reason:` or `flag:` document.
struct block {
  std::string id;
  bool is_flag = false;
  double threshold = 1.0;             // flags: fires when its score reaches this
  bool fallback = false;              // reasons: set aside when another reason is stated
  std::vector<std::string> examples;  // kept for the keyword model of stage 2
  std::string file;
  int line = 0;
};

// One training message from a file of the `examples/` subfolder (`examples/<reason>.txt`, one
// message a line): it trains the keyword model only (the tests do not require it to classify).
struct training_example {
  std::string reason;
  std::string text;
};

struct intent_files {
  std::vector<std::string> files;  // read order
  std::vector<std::string> example_files;  // examples/*.txt, read order
  std::vector<block> blocks;
  std::vector<rule> rules;
  std::vector<training_example> training;  // from examples/*.txt
  // The trained keyword model (k_model_file in the folder), when there is one: its path and bytes.
  std::string model_file;
  std::string model_bytes;
  std::string version;  // hex SHA-256 over each file's name and content, in read order
};

struct read_result {
  intent_files data;
  std::vector<file_error> errors;
};

// The trained keyword model's file name in an intent folder (`shouhou intents train` writes it).
inline constexpr const char* k_model_file = "keyword.model";

// Reads every *.yaml and *.yml file directly in `dir`, in byte order of their names, then every
// `examples/<reason>.txt` (one message a line; `#` starts a comment line) when that folder exists,
// then the trained model's file when there is one. The version covers them all.
read_result read_intent_folder(const std::filesystem::path& dir);

// Parses one file's text into `out` (blocks and rules); `file` names it in errors, which are
// appended to `errors`. Duplicate ids are checked against what `out` already holds.
void read_intent_text(const std::string& file, const std::string& text, intent_files& out,
                      std::vector<file_error>& errors);

// Parses one examples file (`reason` from its name) into `out.training`; errors are located.
void read_examples_text(const std::string& file, const std::string& reason,
                        const std::string& text, intent_files& out,
                        std::vector<file_error>& errors);

}  // namespace shouhou::intents::detail
