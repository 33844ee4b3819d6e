#pragma once
// Labelled corpora: JSON Lines of {"text", "intent", "flags"?, "source"?, "sample"?, "alt"?}, as
// ../shared/corpus/README.md describes them and `intents eval` and `intents train` read them.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace shouhou::intents {

struct labelled_message {
  std::string file;  // as given
  int line = 0;      // 1-based
  std::string text;
  std::size_t intent = 0;          // index into k_reasons
  std::vector<std::size_t> flags;  // indices into k_flags
  std::string source;              // "" when the line has none
  std::string sample;              // "first", "random", "keyword", or ""
  std::optional<std::size_t> alt;  // a second defensible reason
};

// Appends the labelled lines of `path` to `out` (lines labelled "skip" are counted in
// `skipped`); on the first bad line returns false with "file:line: what" in `error`.
bool read_corpus(const std::filesystem::path& path, std::vector<labelled_message>& out,
                 std::size_t& skipped, std::string& error);

}  // namespace shouhou::intents
