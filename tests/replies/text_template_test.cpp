// Tests for reply-file templates: variables, optional [ ... ] parts and escapes.

#include "replies/detail/text_template.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace shouhou::replies::detail {
namespace {

using ::testing::HasSubstr;

std::string render(std::string_view src, const variables& vars) {
  std::vector<text_template::error> errors;
  const text_template t = text_template::parse(src, errors);
  EXPECT_TRUE(errors.empty()) << src << ": " << (errors.empty() ? "" : errors[0].message);
  return t.render(vars);
}

std::vector<text_template::error> errors_of(std::string_view src) {
  std::vector<text_template::error> errors;
  text_template::parse(src, errors);
  return errors;
}

TEST(text_template, plain_text_is_kept) {
  EXPECT_EQ(render("亲，您好", {}), "亲，您好");
  EXPECT_EQ(render("", {}), "");
}

TEST(text_template, variables_are_filled_and_missing_ones_are_empty) {
  const variables v = {{"order", "8800"}, {"shop", "小店"}};
  EXPECT_EQ(render("订单{order}，{shop}", v), "订单8800，小店");
  EXPECT_EQ(render("订单{order}，{buyer}亲", v), "订单8800，亲");
  EXPECT_EQ(render("{order}{order}", v), "88008800");
}

TEST(text_template, optional_part_needs_every_variable_inside) {
  const variables v = {{"order", "8800"}, {"shop", ""}};
  EXPECT_EQ(render("A[订单{order}]B", v), "A订单8800B");
  EXPECT_EQ(render("A[订单{order}，{deadline}前]B", v), "AB");
  EXPECT_EQ(render("A[{shop}]B", v), "AB") << "an empty value is no value";
  EXPECT_EQ(render("[无变量]", v), "无变量");
  EXPECT_EQ(render("[{order}][{waybill}][{order}]", v), "88008800");
}

TEST(text_template, doubled_characters_are_literals) {
  EXPECT_EQ(render("{{order}} [[注]] }}{{", {{"order", "1"}}), "{order} [注] }{");
  EXPECT_EQ(render("[[{order}]]", {{"order", "1"}}), "[1]");
  EXPECT_EQ(render("[内含[[括号]]{order}]", {}), "");
  EXPECT_EQ(render("[内含[[括号]]{order}]", {{"order", "1"}}), "内含[括号]1");
}

TEST(text_template, every_known_variable_parses) {
  for (std::string_view v : k_variables)
    EXPECT_TRUE(errors_of("{" + std::string(v) + "}").empty()) << v;
}

TEST(text_template, errors_name_the_character_and_its_ordinal) {
  auto e = errors_of("{{x}} {ordr}");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].ch, '{');
  EXPECT_EQ(e[0].ordinal, 2u);  // the two of "{{" come first
  EXPECT_THAT(e[0].message, HasSubstr("unknown variable {ordr}"));

  e = errors_of("a}} b} [c]");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].ch, '}');
  EXPECT_EQ(e[0].ordinal, 2u);

  e = errors_of("[a [b] c]");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].ch, '[');
  EXPECT_EQ(e[0].ordinal, 1u);
  EXPECT_THAT(e[0].message, HasSubstr("cannot nest"));
  EXPECT_EQ(e[1].ch, ']');
  EXPECT_EQ(e[1].ordinal, 1u);

  e = errors_of("x [{order} y");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].ch, '[');
  EXPECT_EQ(e[0].ordinal, 0u);
  EXPECT_THAT(e[0].message, HasSubstr("not closed"));

  e = errors_of("{a {order}");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].ch, '{');
  EXPECT_EQ(e[0].ordinal, 0u);
  EXPECT_THAT(e[0].message, HasSubstr("not closed"));

  e = errors_of("{} {订单}");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_THAT(e[0].message, HasSubstr("unknown variable {}"));
  EXPECT_THAT(e[1].message, HasSubstr("unknown variable {订单}"));
  EXPECT_EQ(e[1].ordinal, 1u);
}

TEST(text_template, arbitrary_input_never_breaks_it) {
  std::mt19937 rng(4);
  const std::string alphabet = "{}[]ab \xE4\xBA\xB2order";
  for (int i = 0; i < 2000; ++i) {
    std::string s;
    const int n = static_cast<int>(rng() % 24);
    for (int k = 0; k < n; ++k) s += alphabet[rng() % alphabet.size()];
    std::vector<text_template::error> errors;
    const text_template t = text_template::parse(s, errors);
    (void)t.render({{"order", "1"}});
    for (const auto& e : errors) {
      EXPECT_NE(std::string("{}[]").find(e.ch), std::string::npos);
      EXPECT_LT(e.ordinal, s.size());
    }
  }
}

}  // namespace
}  // namespace shouhou::replies::detail
