#pragma once
// Whether a sequence of groups of literal phrases ("(收到|到手)(的)?(只有|就)(\d+|一|两)(个|件)")
// matches at a given place of a normalised message: the check the engine makes where the phrase
// index found the first phrases of a rule too large to index whole. It compares bytes instead of
// calling RE2: the anchored regex of each such rule has a DFA of its own, cold in the cache at
// every call, and those calls took about a third of the rule match's time.
//
// Exact where the phrase index is: phrases of lower-case ASCII and characters without case, over
// valid UTF-8 (capital ASCII letters in the text compare as lower case).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace shouhou::intents::detail {

class literal_sequence {
 public:
  // One element of the sequence: every string it matches, in the phrase index's form (its
  // digit-run and end-of-text steps stand for `\d+` and `$`), and whether it may match nothing.
  struct group {
    std::vector<std::string> options;
    bool optional = false;
  };
  explicit literal_sequence(std::vector<group> groups);

  // True when the sequence matches `text` from byte `at` on (to any end).
  bool matches_at(std::string_view text, std::size_t at) const;

 private:
  // A group's options sorted by their first character (its UTF-8 bytes as one number), so that
  // those that can match at a place are found by a binary search. Options that begin with a step
  // are tried everywhere.
  struct sorted_group {
    std::vector<std::uint32_t> first;  // per option
    std::vector<std::string> options;
    std::vector<std::string> stepped;
    bool optional = false;
  };
  bool match(std::string_view text, std::size_t g, std::size_t q) const;
  bool match_option(std::string_view text, std::string_view option, std::size_t g,
                    std::size_t q) const;
  std::vector<sorted_group> groups_;
  // One bit per 6-bit hash of the characters a match can start with (all bits when the first
  // group may match nothing): most checks of a rule's sequences end here.
  std::uint64_t starts_ = 0;
};

}  // namespace shouhou::intents::detail
