// The phrase index must report exactly the starts where a case-insensitive regex of the same
// phrases would match; the digit-run and end-of-text steps included. Every text here was written
// for these tests.

#include "intents/detail/phrase_index.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

namespace shouhou::intents::detail {
namespace {

using index_t = phrase_index;
constexpr char D = phrase_index::k_digit_run;
constexpr char E = phrase_index::k_text_end;

std::string with(std::string a, char step, std::string b = "") { return a + step + b; }

// (id, byte offset) of every occurrence.
std::vector<std::pair<std::uint32_t, std::uint32_t>> scan(const phrase_index& index,
                                                          const std::string& text) {
  code_points chars;
  EXPECT_TRUE(chars.decode(text));
  std::vector<phrase_index::occurrence> found;
  index.scan(chars, found);
  std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
  for (const auto& o : found) out.emplace_back(o.id, o.start);
  return out;
}

using pairs = std::vector<std::pair<std::uint32_t, std::uint32_t>>;

TEST(PhraseIndex, PlainPhrases) {
  index_t index;
  ASSERT_TRUE(index.add("坏了", 1));
  ASSERT_TRUE(index.add("坏", 2));
  ASSERT_TRUE(index.add("ok", 3));
  index.build();
  EXPECT_EQ(scan(index, "又坏了OK"), (pairs{{2, 3}, {1, 3}, {3, 9}}));
  EXPECT_TRUE(scan(index, "好的").empty());
}

TEST(PhraseIndex, DigitRunInsideAPhrase) {
  index_t index;
  ASSERT_TRUE(index.add(with("少了", D, "个"), 1));  // 少了\d+个
  ASSERT_TRUE(index.add(with("等了", D), 2));        // 等了\d+
  index.build();
  EXPECT_EQ(scan(index, "少了3个"), (pairs{{1, 0}}));
  EXPECT_EQ(scan(index, "少了123个"), (pairs{{1, 0}}));
  EXPECT_TRUE(scan(index, "少了个").empty());
  EXPECT_TRUE(scan(index, "少了12件").empty());
  EXPECT_TRUE(scan(index, "少了三个").empty());
  EXPECT_EQ(scan(index, "等了10天"), (pairs{{2, 0}}));
  EXPECT_TRUE(scan(index, "等了天").empty());
}

TEST(PhraseIndex, DigitRunFirstOrSecond) {
  index_t index;
  ASSERT_TRUE(index.add(with("", D, "天"), 1));    // \d+天: a match starts at every digit
  ASSERT_TRUE(index.add(with("第", D, "次"), 2));  // 第\d+次: the run right after one character
  index.build();
  EXPECT_EQ(scan(index, "12天"), (pairs{{1, 0}, {1, 1}}));
  EXPECT_TRUE(scan(index, "12个天").empty());
  EXPECT_EQ(scan(index, "第3次"), (pairs{{2, 0}}));
  EXPECT_EQ(scan(index, "第34次第5次"), (pairs{{2, 0}, {2, 8}}));
}

TEST(PhraseIndex, EndOfText) {
  index_t index;
  ASSERT_TRUE(index.add(with("假的", E), 1));           // 假的$
  ASSERT_TRUE(index.add(with("好", E), 2));             // 好$: the end right after one character
  ASSERT_TRUE(index.add(with(with("用了", D), E), 3));  // 用了\d+$
  index.build();
  EXPECT_EQ(scan(index, "这是假的"), (pairs{{1, 6}}));
  EXPECT_TRUE(scan(index, "假的吗").empty());
  EXPECT_EQ(scan(index, "好"), (pairs{{2, 0}}));
  EXPECT_TRUE(scan(index, "好的").empty());
  EXPECT_EQ(scan(index, "才用了12"), (pairs{{3, 3}}));
  EXPECT_TRUE(scan(index, "用了12次").empty());
}

TEST(PhraseIndex, StepsOnlyWhereTheWalkCanTakeThem) {
  EXPECT_TRUE(index_t::indexable(with("少了", D, "个")));
  EXPECT_TRUE(index_t::indexable(with("假的", E)));
  // A digit right after a run: the run cannot be taken whole.
  EXPECT_FALSE(index_t::indexable(with("第", D, "0")));
  EXPECT_FALSE(index_t::indexable(with("第", D, std::string(1, D))));
  // The end of the text first, or anywhere but last.
  EXPECT_FALSE(index_t::indexable(std::string(1, E)));
  EXPECT_FALSE(index_t::indexable(with("假", E, "的")));
  EXPECT_FALSE(index_t::indexable(""));
  index_t index;
  EXPECT_FALSE(index.add(with("第", D, "0"), 1));
}

// A cross product of groups shares the ends of its phrases: 4 x 5 x 6 = 120 phrases of 3
// characters take about 4 + 20 + 6 nodes (120 + 20 + 4 as a tree), and are all still found.
TEST(PhraseIndex, SharedEndsAreStoredOnce) {
  const std::vector<std::string> first = {"收", "拿", "送", "寄"};
  const std::vector<std::string> second = {"到", "来", "回", "去", "走"};
  const std::vector<std::string> third = {"一", "二", "三", "四", "五", "六"};
  index_t index;
  for (const auto& a : first) {
    for (const auto& b : second) {
      for (const auto& c : third) ASSERT_TRUE(index.add(a + b + c, 7));
    }
  }
  index.build();
  EXPECT_LE(index.nodes(), 1u + 4 + 20 + 6);
  EXPECT_EQ(scan(index, "拿回五"), (pairs{{7, 0}}));
  EXPECT_EQ(scan(index, "他寄走六,收到一"), (pairs{{7, 3}, {7, 13}}));
  EXPECT_TRUE(scan(index, "拿回七").empty());
}

// Ends are shared only where the same ids end: "买错" means one thing after 我 and another
// after 不.
TEST(PhraseIndex, EndsWithOtherIdsStayApart) {
  index_t index;
  ASSERT_TRUE(index.add("我买错了", 1));
  ASSERT_TRUE(index.add("他买错了", 1));
  ASSERT_TRUE(index.add("不买错了", 2));
  ASSERT_TRUE(index.add("不买错", 3));
  ASSERT_TRUE(index.add("我买错", 4));
  index.build();
  EXPECT_EQ(scan(index, "他买错了"), (pairs{{1, 0}}));
  EXPECT_EQ(scan(index, "不买错了"), (pairs{{3, 0}, {2, 0}}));
  EXPECT_EQ(scan(index, "我买错了"), (pairs{{4, 0}, {1, 0}}));
}

// A product as the pattern it stands for, for failure messages.
std::string pattern_of(const phrase_index::product& groups) {
  std::string out;
  for (const auto& options : groups) {
    out += "(";
    for (std::size_t k = 0; k < options.size(); ++k) {
      if (k > 0) out += "|";
      for (const char c : options[k]) out += c == D ? "\\d+" : c == E ? "$" : std::string(1, c);
    }
    out += ")";
  }
  return out;
}

// A product of groups is the same as its phrases added one by one: the same index where they are
// all indexable, refused where one is not. Groups drawn at random (fixed seed) from options that
// hold digits, digit runs, the end of the text and empty options.
TEST(PhraseIndex, AProductIsItsPhrases) {
  const std::vector<std::string> pieces = {
      "了", "坏", "个", "1", "a", std::string(1, D), std::string(1, E)};
  const std::vector<std::string> text_pieces = {"了", "坏", "个", "1", "2", "a", "好"};
  std::mt19937 random(7);
  int accepted = 0;
  int refused = 0;
  for (int round = 0; round < 300; ++round) {
    phrase_index::product groups(1 + random() % 3);
    for (auto& options : groups) {
      const std::size_t count = 1 + random() % 3;
      for (std::size_t k = 0; k < count; ++k) {
        std::string option;
        for (std::size_t c = random() % 3; c > 0; --c) option += pieces[random() % pieces.size()];
        options.push_back(option);
      }
    }
    std::vector<std::string> phrases = {""};
    for (const auto& options : groups) {
      std::vector<std::string> next;
      for (const auto& p : phrases) {
        for (const auto& o : options) next.push_back(p + o);
      }
      phrases.swap(next);
    }
    bool all_indexable = true;
    for (const auto& p : phrases) all_indexable = all_indexable && index_t::indexable(p);
    index_t product;
    ASSERT_EQ(product.add_product(groups, 1), all_indexable) << pattern_of(groups);
    if (!all_indexable) {
      ++refused;
      continue;
    }
    ++accepted;
    index_t one_by_one;
    for (const auto& p : phrases) ASSERT_TRUE(one_by_one.add(p, 1));
    product.build();
    one_by_one.build();
    for (int t = 0; t < 20; ++t) {
      std::string text;
      for (std::size_t c = random() % 8; c > 0; --c) {
        text += text_pieces[random() % text_pieces.size()];
      }
      EXPECT_EQ(scan(product, text), scan(one_by_one, text))
          << pattern_of(groups) << " on " << text;
    }
  }
  EXPECT_GT(accepted, 30);
  EXPECT_GT(refused, 30);
}

}  // namespace
}  // namespace shouhou::intents::detail
