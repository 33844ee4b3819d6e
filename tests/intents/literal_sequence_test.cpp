// A literal sequence must match exactly where a case-insensitive RE2 of the same groups matches
// anchored: the engine checks a rule's starts with it instead of the rule's regex. Every text
// here was written for these tests or generated from a fixed seed.

#include "intents/detail/literal_sequence.hpp"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include <random>
#include <string>
#include <vector>

#include "intents/detail/phrase_index.hpp"

namespace shouhou::intents::detail {
namespace {

using group = literal_sequence::group;
constexpr char D = phrase_index::k_digit_run;
constexpr char E = phrase_index::k_text_end;

TEST(LiteralSequence, GroupsInTurn) {
  // (收到|到手)(的)?(只有|就)(个|件)
  const literal_sequence s({{{"收到", "到手"}}, {{"的"}, true}, {{"只有", "就"}}, {{"个", "件"}}});
  EXPECT_TRUE(s.matches_at("收到的只有个", 0));
  EXPECT_TRUE(s.matches_at("今天到手就件了", 6));
  EXPECT_FALSE(s.matches_at("今天到手就件了", 0));
  EXPECT_FALSE(s.matches_at("收到的的只有个", 0));
  EXPECT_FALSE(s.matches_at("收到只有", 0));  // the last group is missing
  EXPECT_FALSE(s.matches_at("收到", 7));      // past the end
}

TEST(LiteralSequence, ADigitRunEndsAfterAnyOfItsDigits) {
  // (少了)(\d+)(1个) matches 少了21个: the run takes 2, the next group 1个.
  const literal_sequence s({{{"少了"}}, {{std::string(1, D)}}, {{"1个"}}});
  EXPECT_TRUE(s.matches_at("少了21个", 0));
  EXPECT_FALSE(s.matches_at("少了1个", 0));  // the run needs a digit of its own
  const literal_sequence inside({{{"等了"}}, {{std::string(1, D) + "天"}}});
  EXPECT_TRUE(inside.matches_at("等了15天", 0));
  EXPECT_FALSE(inside.matches_at("等了天", 0));
}

TEST(LiteralSequence, EndOfTextAndCapitals) {
  const literal_sequence s({{{"ok"}}, {{std::string(1, E)}, true}});
  EXPECT_TRUE(s.matches_at("好的OK", 6));
  EXPECT_TRUE(s.matches_at("ok了", 0));  // the end is optional
  const literal_sequence at_end({{{"假的"}}, {{std::string(1, E), "."}}});
  EXPECT_TRUE(at_end.matches_at("是假的", 3));
  EXPECT_TRUE(at_end.matches_at("假的.", 0));
  EXPECT_FALSE(at_end.matches_at("假的吧", 0));
}

TEST(LiteralSequence, AnEmptyOptionMakesTheGroupOptional) {
  const literal_sequence s({{{"坏"}}, {{"", "了"}}, {{"吗"}}});
  EXPECT_TRUE(s.matches_at("坏吗", 0));
  EXPECT_TRUE(s.matches_at("坏了吗", 0));
}

// The regex RE2 would run for the same groups.
std::string regex_of(const std::vector<group>& groups) {
  std::string re;
  for (const auto& g : groups) {
    re += "(?:";
    for (std::size_t k = 0; k < g.options.size(); ++k) {
      if (k > 0) re += '|';
      for (const char c : g.options[k]) {
        if (c == D) {
          re += "\\d+";
        } else if (c == E) {
          re += '$';
        } else {
          re += c;
        }
      }
    }
    re += g.optional ? ")?" : ")";
  }
  return re;
}

TEST(LiteralSequence, MatchesWhereTheRegexDoes) {
  // Small alphabets, so that options overlap, repeat and share prefixes.
  const std::vector<std::string> pieces = {"了", "的", "一", "二", "1", "2", "a", "b", "坏"};
  const std::vector<std::string> text_pieces = {"了", "的", "一", "二", "1", "2",
                                                "3",  "a",  "B",  "坏", ","};
  std::mt19937 random(20261122);
  const auto pick = [&](const std::vector<std::string>& from) {
    return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(random)];
  };
  const auto chance = [&](int percent) {
    return std::uniform_int_distribution<int>(0, 99)(random) < percent;
  };
  RE2::Options o;
  o.set_case_sensitive(false);
  o.set_never_capture(true);
  int compared = 0;
  int matched = 0;
  for (int round = 0; round < 400; ++round) {
    std::vector<group> groups(1 + random() % 4);
    for (auto& g : groups) {
      g.optional = chance(30);
      const std::size_t options = 1 + random() % 4;
      for (std::size_t k = 0; k < options; ++k) {
        std::string option;
        const std::size_t length = random() % 3;  // 0: an empty option
        for (std::size_t c = 0; c < length; ++c) {
          option += chance(10) ? std::string(1, D) : pick(pieces);
        }
        if (chance(5)) option += E;
        g.options.push_back(option);
      }
    }
    const RE2 re(regex_of(groups), o);
    ASSERT_TRUE(re.ok()) << regex_of(groups);
    const literal_sequence sequence(groups);
    for (int t = 0; t < 20; ++t) {
      std::string text;
      const std::size_t length = random() % 8;
      for (std::size_t c = 0; c < length; ++c) text += pick(text_pieces);
      for (std::size_t at = 0; at <= text.size(); ++at) {
        if (at < text.size() && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) continue;
        const bool expected = re.Match(text, at, text.size(), RE2::ANCHOR_START, nullptr, 0);
        EXPECT_EQ(sequence.matches_at(text, at), expected)
            << regex_of(groups) << " on " << text << " at " << at;
        ++compared;
        matched += expected ? 1 : 0;
      }
    }
  }
  // Both answers occur often enough for the comparison to mean something.
  EXPECT_GT(matched, compared / 20);
  EXPECT_LT(matched, compared - compared / 20);
}

}  // namespace
}  // namespace shouhou::intents::detail
