// The intent engine on the shipped files and on broken folders written by the tests.

#include "intents/engine.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "intents/detail/entities.hpp"
#include "intents/detail/intent_file.hpp"
#include "intents/detail/normalize.hpp"
#include "intents/reasons.hpp"

namespace shouhou::intents {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::Not;

const engine& shipped() {
  static const auto result = engine::load(SHOUHOU_SHIPPED_INTENTS);
  if (!result.engine) ADD_FAILURE() << to_string(result.errors);
  return *result.engine;
}

std::string explain(const classification& c) {
  std::string s = c.reason + " " + std::to_string(c.confidence) + "\n";
  for (const auto& e : c.explanation) s += "  " + e + "\n";
  return s;
}

// A fresh folder for one test's intent files.
class temp_folder {
 public:
  temp_folder() {
    const char* env = std::getenv("SHOUHOU_TEST_TMP");
    const fs::path base = env != nullptr ? fs::path(env) : fs::temp_directory_path();
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = base / ("intents_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~temp_folder() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  temp_folder(const temp_folder&) = delete;
  temp_folder& operator=(const temp_folder&) = delete;

  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

const char* const k_good_file = R"(# a small valid file
reason: damaged
patterns:
  - {re: "碎了|裂了", weight: 3}
keywords:
  - 压坏
)";

// --- the shipped files -----------------------------------------------------------------------

TEST(ShippedIntents, LoadWithoutErrors) {
  const auto result = engine::load(SHOUHOU_SHIPPED_INTENTS);
  ASSERT_TRUE(result.engine) << to_string(result.errors);
  EXPECT_TRUE(result.errors.empty());
  EXPECT_EQ(result.engine->version().size(), 64u);
}

TEST(ShippedIntents, EveryReasonAndFlagHasAFile) {
  const auto read = detail::read_intent_folder(SHOUHOU_SHIPPED_INTENTS);
  ASSERT_TRUE(read.errors.empty()) << to_string(read.errors);
  std::vector<std::string> ids;
  for (const auto& b : read.data.blocks) {
    ids.push_back(b.id);
    EXPECT_FALSE(b.examples.empty()) << b.id << " has no examples";
  }
  for (const auto id : k_reasons) EXPECT_THAT(ids, Contains(std::string(id)));
  for (const auto id : k_flags) EXPECT_THAT(ids, Contains(std::string(id)));
}

// Each reason's own examples should classify as that reason (a self-check of the files).
TEST(ShippedIntents, ExamplesClassifyAsTheirReason) {
  const auto read = detail::read_intent_folder(SHOUHOU_SHIPPED_INTENTS);
  for (const auto& b : read.data.blocks) {
    if (b.is_flag) continue;
    for (const auto& text : b.examples) {
      const auto c = shipped().classify(text, true);
      EXPECT_EQ(c.reason, b.id) << text << "\n" << explain(c);
    }
  }
}

struct labelled {
  const char* text;
  const char* reason;
};

// One plain buyer message per reason (written for these tests).
const labelled k_one_per_reason[] = {
    {"杯子收到的时候碎了", "damaged"},
    {"你们发错货了，我买的是白色", "wrong_item"},
    {"快递一直没到，都一个星期了", "not_received"},
    {"我要退款", "refund_request"},
    {"退款什么时候到账啊", "refund_progress"},
    {"你好", "other"},
    {"不想要了，可以退吗", "changed_mind"},
    {"不好意思我拍错了", "mistaken_purchase"},
    {"这个是假货吧，和专柜的差很多", "counterfeit"},
    {"套装里少了一个刷头", "missing_item"},
    {"衣服和图片不一样，差太多了", "not_as_described"},
    {"吹风机用了两天就坏了", "quality_issue"},
    {"都三天了怎么还不发货", "late_shipment"},
};

TEST(ShippedIntents, OneMessagePerReason) {
  std::vector<std::string> covered;
  for (const auto& [text, reason] : k_one_per_reason) {
    const auto c = shipped().classify(text, true);
    EXPECT_EQ(c.reason, reason) << text << "\n" << explain(c);
    covered.emplace_back(reason);
  }
  for (const auto id : k_reasons) EXPECT_THAT(covered, Contains(std::string(id)));
}

TEST(ShippedIntents, MoreBuyerMessages) {
  const labelled cases[] = {
      {"屏幕碎了", "damaged"},
      {"箱子都压扁了，里面的碗裂了两个", "damaged"},
      {"发过来的尺码不对，我拍的是L码收到的是M码", "wrong_item"},
      {"物流三天没动了", "not_received"},
      {"显示已签收，但我根本没拿到", "not_received"},
      {"钱怎么还没退回来", "refund_progress"},
      {"多拍了一件，帮我取消", "mistaken_purchase"},
      {"赠品没收到", "missing_item"},
      {"色差太大了", "not_as_described"},
      {"开不了机，一直黑屏", "quality_issue"},
      {"说好48小时发货的，现在还没发", "late_shipment"},
      {"能开发票吗", "other"},
  };
  for (const auto& [text, reason] : cases) {
    const auto c = shipped().classify(text, true);
    EXPECT_EQ(c.reason, reason) << text << "\n" << explain(c);
  }
}

TEST(ShippedIntents, ContrastAndNegation) {
  const auto a = shipped().classify("不是质量问题，就是不想要了");
  EXPECT_EQ(a.reason, "changed_mind") << explain(a);
  const auto b = shipped().classify("没有少件，但是有一个碎了", true);
  EXPECT_EQ(b.reason, "damaged") << explain(b);
  EXPECT_THAT(b.explanation, Contains(HasSubstr("negated by 没有")));
  // The negation is what moved it: stated, the same missing item wins.
  const auto stated = shipped().classify("少件了，而且有一个碎了", true);
  EXPECT_EQ(stated.reason, "missing_item") << explain(stated);
  const auto missing = [](const classification& c) {
    for (const auto& cand : c.candidates) {
      if (cand.reason == "missing_item") return cand.confidence;
    }
    return 0.0;
  };
  EXPECT_LT(missing(b), missing(stated) - 0.1) << explain(b);
  // An A-not-A question is not a negation.
  EXPECT_EQ(shipped().classify("这个是不是假货").reason, "counterfeit");
}

TEST(ShippedIntents, NormalisesFullWidthAndCase) {
  const auto c = shipped().classify("ＯＫ，收到了，谢谢！");
  EXPECT_EQ(c.reason, "other") << explain(c);
}

TEST(ShippedIntents, Flags) {
  const auto human = shipped().classify("转人工，我要跟真人说");
  EXPECT_THAT(human.flags, Contains("wants_human"));
  const auto escalate = shipped().classify("再不处理我就去12315投诉");
  EXPECT_THAT(escalate.flags, Contains("escalation"));
  const auto angry = shipped().classify("什么垃圾东西!!!");
  EXPECT_THAT(angry.flags, Contains("angry"));
  const auto risk = shipped().classify("我只想仅退款，东西不寄回了");
  EXPECT_THAT(risk.flags, Contains("risk"));
  const auto calm = shipped().classify("你好，请问什么时候发货");
  EXPECT_TRUE(calm.flags.empty());
  // A flag never hides the reason.
  const auto both = shipped().classify("发错货了，我要投诉");
  EXPECT_EQ(both.reason, "wrong_item");
  EXPECT_THAT(both.flags, Contains("escalation"));
}

TEST(ShippedIntents, OrderNumberEntity) {
  const auto c = shipped().classify("订单号：２０２４０５１２８８７６５４３２１，快递还没到");
  EXPECT_THAT(c.entities, Contains(AllOf(Field(&entity::kind, "order_no"), Field(&entity::value,
                                                                                 "2024051288765432"
                                                                                 "1"))));
  const auto bare = shipped().classify("3345667788990011 这个单什么时候到");
  EXPECT_THAT(bare.entities, Contains(AllOf(Field(&entity::kind, "order_no"),
                                            Field(&entity::value, "3345667788990011"))));
  const auto none = shipped().classify("买了3件少了1件");
  EXPECT_THAT(none.entities, Not(Contains(Field(&entity::kind, "order_no"))));
}

TEST(Entities, PhoneAndWaybillAreNotOrders) {
  const auto e =
      detail::extract_entities(detail::normalize("运单号 SF1234567890123，电话13912345678"));
  EXPECT_THAT(e, Contains(AllOf(Field(&entity::kind, "waybill_no"),
                                Field(&entity::value, "SF1234567890123"))));
  EXPECT_THAT(e,
              Contains(AllOf(Field(&entity::kind, "phone"), Field(&entity::value, "13912345678"))));
  EXPECT_THAT(e, Not(Contains(Field(&entity::kind, "order_no"))));
}

TEST(Normalize, FullWidthSpacesAndCase) {
  EXPECT_EQ(detail::normalize("ＡＢＣ１２３！？，"), "abc123!?,");
  EXPECT_EQ(detail::normalize("Hi\u3000\u3000there  \n 你好"), "hi there 你好");
  EXPECT_EQ(detail::normalize("碎了。"), "碎了.");
}

// The characters recorded while normalising must be what decoding the output gives, including
// where the output is not what the index may read.
TEST(Normalize, CharactersAsDecodingTheOutputGives) {
  const std::vector<std::string> texts = {
      "收到的杯子碎了",
      "ＯＫ！三天了",
      "等了四十八小时",
      "\xE2\x84\xAA坏了",
      "\xC5\xBF",
      "坏了\xFF",
      "\xE4\xF0\x9F\x98\x80\xB8\x80",  // an invalid byte, an emoji, two more
      "\xED\xA0\x80",
      "差差差差差!!!!",
      "退貨 OK",
      ""};
  for (const auto& t : texts) {
    std::string out;
    detail::code_points chars;
    const bool recorded = detail::normalize_into(t, out, chars);
    EXPECT_EQ(out, detail::normalize(t));
    detail::code_points decoded;
    ASSERT_EQ(recorded, decoded.decode(out)) << t;
    if (!recorded) continue;
    ASSERT_EQ(chars.size, decoded.size) << t;
    for (std::size_t i = 0; i < chars.size; ++i) {
      EXPECT_EQ(chars.cp[i], decoded.cp[i]) << t;
      EXPECT_EQ(chars.at[i], decoded.at[i]) << t;
    }
    EXPECT_EQ(chars.at[chars.size], decoded.at[decoded.size]) << t;
  }
}

TEST(ShippedIntents, CandidatesSortedAndConfidenceInRange) {
  const auto c = shipped().classify("发错货了，而且屏幕也碎了，我要退款", true);
  ASSERT_GE(c.candidates.size(), 2u);
  EXPECT_EQ(c.candidates[0].reason, c.reason);
  EXPECT_EQ(c.candidates[1].reason, c.runner_up);
  for (std::size_t i = 1; i < c.candidates.size(); ++i) {
    EXPECT_GE(c.candidates[i - 1].confidence, c.candidates[i].confidence);
  }
  for (const auto& cand : c.candidates) {
    EXPECT_GT(cand.confidence, 0.0);
    EXPECT_LE(cand.confidence, 1.0);
  }
  EXPECT_THAT(c.explanation, Contains(HasSubstr(".yaml:")));
}

TEST(ShippedIntents, NothingFiredIsOther) {
  // The trained model reads the words: nothing about a refund, so other.
  EXPECT_EQ(shipped().classify("一二三四五").reason, "other");
  // The rules alone have nothing to go on: other, unsure.
  engine_options rules_only;
  rules_only.use_model = false;
  const auto c = engine::load(SHOUHOU_SHIPPED_INTENTS, rules_only).engine->classify("一二三四五");
  EXPECT_EQ(c.reason, "other");
  EXPECT_TRUE(c.unsure);
  EXPECT_LT(c.confidence, 0.5);
}

TEST(Engine, UnsureBelowThreshold) {
  temp_folder dir;
  dir.write("a.yaml",
            "reason: damaged\npatterns:\n  - {re: \"碎了\", weight: 1}\n"
            "---\nreason: quality_issue\npatterns:\n  - {re: \"坏了\", weight: 1}\n");
  const auto strict = engine::load(dir.path(), engine_options{.unsure_below = 0.9});
  ASSERT_TRUE(strict.engine) << to_string(strict.errors);
  const auto c = strict.engine->classify("碎了也坏了");
  EXPECT_TRUE(c.unsure);
  EXPECT_EQ(c.candidates.size(), 2u);
  // Tie: the reason stated first wins.
  EXPECT_EQ(c.reason, "damaged");
  EXPECT_EQ(strict.engine->classify("坏了，碎了").reason, "quality_issue");

  const auto lenient = engine::load(dir.path(), engine_options{.unsure_below = 0.1});
  ASSERT_TRUE(lenient.engine);
  EXPECT_FALSE(lenient.engine->classify("碎了也坏了").unsure);
}

TEST(Engine, NegativeCuesSubtractAndVeto) {
  temp_folder dir;
  dir.write("a.yaml", R"(reason: damaged
patterns:
  - {re: "碎", weight: 3}
negative:
  - {text: 碎屏险, veto: true}
  - {re: "碎片", weight: 2}
)");
  const auto r = engine::load(dir.path());
  ASSERT_TRUE(r.engine) << to_string(r.errors);
  EXPECT_EQ(r.engine->classify("碎了").reason, "damaged");
  EXPECT_TRUE(r.engine->classify("买了碎屏险").candidates.empty());
  const auto c = r.engine->classify("有碎片");
  ASSERT_EQ(c.candidates.size(), 1u);
  EXPECT_DOUBLE_EQ(c.confidence, 1.0 / 2.0);  // (3 - 2) / (1 + 0 + 1)
}

TEST(Engine, AFallbackReasonGivesWayToAStatedOne) {
  temp_folder dir;
  dir.write("a.yaml", R"(reason: refund_request
fallback: true
patterns:
  - {re: "退货|退款", weight: 2}
---
reason: damaged
patterns:
  - {re: "压坏", weight: 1}
  - {re: "划痕", weight: 0.5}
)");
  const auto r =
      engine::load(dir.path(), engine_options{.model_weight = 0, .unsure_below = std::nullopt});
  ASSERT_TRUE(r.engine) << to_string(r.errors);
  EXPECT_EQ(r.engine->classify("我要退货").reason, "refund_request");
  // Without `fallback` the two weights of 退货 would outweigh the one of 压坏.
  const auto stated = r.engine->classify("杯子压坏了,我要退货", true);
  EXPECT_EQ(stated.reason, "damaged") << explain(stated);
  EXPECT_EQ(stated.candidates.size(), 1u) << explain(stated);
  EXPECT_THAT(stated.explanation, Contains(HasSubstr("refund_request set aside"))) << explain(stated);
  // A hint below the weight of a stated reason does not set the fallback aside.
  EXPECT_EQ(r.engine->classify("有点划痕,我要退货").reason, "refund_request");
}

TEST(Engine, WhatFollowsAComplaintWavedAsideWeighsMore) {
  temp_folder dir;
  dir.write("a.yaml", R"(reason: quality_issue
patterns:
  - {re: "质量差", weight: 3}
---
reason: not_as_described
patterns:
  - {re: "色差", weight: 2.5}
)");
  const auto r =
      engine::load(dir.path(), engine_options{.model_weight = 0, .unsure_below = std::nullopt});
  ASSERT_TRUE(r.engine) << to_string(r.errors);
  EXPECT_EQ(r.engine->classify("质量差,色差也大").reason, "quality_issue");
  for (const char* text : {"质量差就不说了,色差也太大了", "质量差也就罢了,还有严重色差",
                           "质量差这都算了,色差太离谱", "质量差先不说,色差太明显"}) {
    const auto c = r.engine->classify(text, true);
    EXPECT_EQ(c.reason, "not_as_described") << text << "\n" << explain(c);
  }
}

// --- broken folders --------------------------------------------------------------------------

bool has_error(const std::vector<file_error>& errors, const std::string& file_suffix, int line,
               int column, const std::string& text) {
  return std::any_of(errors.begin(), errors.end(), [&](const file_error& e) {
    return e.file.ends_with(file_suffix) && e.line == line && (column == 0 || e.column == column) &&
           e.message.find(text) != std::string::npos;
  });
}

TEST(BrokenFolder, BadRegexNamesRe2ErrorAndPosition) {
  temp_folder dir;
  dir.write("damaged.yaml", "reason: damaged\npatterns:\n  - {re: \"碎了|(裂了\", weight: 2}\n");
  const auto r = engine::load(dir.path());
  EXPECT_FALSE(r.engine);
  EXPECT_TRUE(has_error(r.errors, "damaged.yaml", 3, 10, "missing )")) << to_string(r.errors);
}

TEST(BrokenFolder, UnknownReasonFlagAndKey) {
  temp_folder dir;
  dir.write("a.yaml", "reason: broken_item\npatterns: [坏了]\n");
  dir.write("b.yaml", "flag: furious\npatterns: [气死]\n");
  dir.write("c.yaml", "reason: damaged\npatern:\n  - 碎了\nkeywords: [裂了]\n");
  dir.write("d.yaml", "reason: wrong_item\npatterns:\n  - {re: 发错, wieght: 2}\n");
  const auto r = engine::load(dir.path());
  EXPECT_FALSE(r.engine);
  EXPECT_TRUE(has_error(r.errors, "a.yaml", 1, 9, "unknown reason 'broken_item'"))
      << to_string(r.errors);
  EXPECT_TRUE(has_error(r.errors, "b.yaml", 1, 7, "unknown flag 'furious'")) << to_string(r.errors);
  EXPECT_TRUE(has_error(r.errors, "c.yaml", 2, 1, "unknown key 'patern'")) << to_string(r.errors);
  EXPECT_TRUE(has_error(r.errors, "d.yaml", 3, 14, "unknown key 'wieght'")) << to_string(r.errors);
}

TEST(BrokenFolder, FallbackOnlyForReasonsOtherThanOther) {
  temp_folder dir;
  dir.write("a.yaml", "flag: angry\nfallback: true\npatterns: [气死]\n");
  dir.write("b.yaml", "reason: other\nfallback: true\npatterns: [你好]\n");
  dir.write("c.yaml", "reason: refund_request\nfallback: maybe\npatterns: [退货]\n");
  const auto r = engine::load(dir.path());
  EXPECT_FALSE(r.engine);
  EXPECT_TRUE(has_error(r.errors, "a.yaml", 2, 11, "only for reasons")) << to_string(r.errors);
  EXPECT_TRUE(has_error(r.errors, "b.yaml", 2, 11, "cannot be a fallback")) << to_string(r.errors);
  EXPECT_TRUE(has_error(r.errors, "c.yaml", 2, 11, "fallback")) << to_string(r.errors);
}

// The phrase index holds a million characters while it is built; files past that get an error
// at the first pattern that does not fit, not a crash or a silent gap. 40 patterns of 16 x 16 x 16
// phrases of 24 characters each spell about 35,000 trie nodes apiece.
TEST(BrokenFolder, PhrasesPastWhatTheIndexHoldsAreALocatedError) {
  // Simplified characters that are neither numbers nor Traditional.
  const std::u32string chars =
      U"的是在有和人这中大为上个国我以要他时来用们生到作地出就分对成会可主发"
      U"年动同工也能下过子说产种面而方后多定行学法所民得经之进着等部度家电力";
  const auto utf8 = [](char32_t c) {
    return std::string{static_cast<char>(0xE0 | (c >> 12)),
                       static_cast<char>(0x80 | ((c >> 6) & 0x3F)),
                       static_cast<char>(0x80 | (c & 0x3F))};
  };
  std::string file = "reason: damaged\npatterns:\n";
  std::mt19937 random(3);
  for (int pattern = 0; pattern < 40; ++pattern) {
    file += "  - {re: \"";
    for (int group = 0; group < 3; ++group) {
      file += "(";
      for (int option = 0; option < 16; ++option) {
        if (option > 0) file += "|";
        for (int c = 0; c < 8; ++c) file += utf8(chars[random() % chars.size()]);
      }
      file += ")";
    }
    file += "\", weight: 1}\n";
  }
  temp_folder dir;
  dir.write("damaged.yaml", file);
  const auto r = engine::load(dir.path());
  EXPECT_FALSE(r.engine);
  ASSERT_FALSE(r.errors.empty());
  EXPECT_TRUE(r.errors[0].file.ends_with("damaged.yaml")) << to_string(r.errors);
  EXPECT_GT(r.errors[0].line, 3);
  EXPECT_THAT(r.errors[0].message, HasSubstr("too many phrases in all")) << to_string(r.errors);
}

TEST(BrokenFolder, YamlSyntaxError) {
  temp_folder dir;
  dir.write("a.yaml", "reason: damaged\npatterns:\n  - {re: \"碎了\", weight: 2\n");
  const auto r = engine::load(dir.path());
  EXPECT_FALSE(r.engine);
  ASSERT_EQ(r.errors.size(), 1u) << to_string(r.errors);
  EXPECT_THAT(r.errors[0].message, HasSubstr("YAML syntax error"));
  EXPECT_GT(r.errors[0].line, 0);
  EXPECT_GT(r.errors[0].column, 0);
}

TEST(BrokenFolder, EveryErrorIsCollected) {
  temp_folder dir;
  dir.write("a.yaml", R"(reason: damaged
patterns:
  - {re: "碎了", weight: lots}
  - {re: "a*"}
  - {re: "没.{0,8}收到"}
  - {weight: 2}
  - 碎了，裂了
examples: 不是列表
---
reason: damaged
keywords: [碎]
---
flag: angry
threshold: 2
)");
  dir.write("b.yaml", "reason: quality_issue\nthreshold: 2\npatterns: [坏了]\n");
  const auto r = engine::load(dir.path());
  EXPECT_FALSE(r.engine);
  const auto& e = r.errors;
  EXPECT_TRUE(has_error(e, "a.yaml", 3, 24, "`weight` must be a number")) << to_string(e);
  EXPECT_TRUE(has_error(e, "a.yaml", 4, 10, "matches an empty message")) << to_string(e);
  EXPECT_TRUE(has_error(e, "a.yaml", 5, 10, "gap")) << to_string(e);
  EXPECT_TRUE(has_error(e, "a.yaml", 6, 5, "missing `re:`")) << to_string(e);
  EXPECT_TRUE(has_error(e, "a.yaml", 7, 5, "full-width")) << to_string(e);
  EXPECT_TRUE(has_error(e, "a.yaml", 8, 11, "must be a list")) << to_string(e);
  EXPECT_TRUE(has_error(e, "a.yaml", 10, 9, "already defined at")) << to_string(e);
  EXPECT_TRUE(has_error(e, "a.yaml", 13, 7, "needs `patterns:` or `keywords:`")) << to_string(e);
  EXPECT_TRUE(has_error(e, "b.yaml", 2, 12, "only for flags")) << to_string(e);
}

TEST(BrokenFolder, EmptyOrMissingFolder) {
  temp_folder dir;
  const auto empty = engine::load(dir.path());
  EXPECT_FALSE(empty.engine);
  ASSERT_EQ(empty.errors.size(), 1u);
  EXPECT_THAT(empty.errors[0].message, HasSubstr("no intent files"));
  const auto missing = engine::load(dir.path() / "nope");
  EXPECT_FALSE(missing.engine);
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_EQ(missing.errors[0].line, 0);
}

TEST(FileError, ToStringIsEditorStyle) {
  EXPECT_EQ((file_error{"a.yaml", 3, 7, "bad"}).to_string(), "a.yaml:3:7: bad");
  EXPECT_EQ((file_error{"dir", 0, 0, "empty"}).to_string(), "dir: empty");
  EXPECT_EQ(to_string({file_error{"a", 1, 0, "x"}, file_error{"b", 2, 3, "y"}}),
            "a:1: x\nb:2:3: y\n");
}

// --- version and threads ---------------------------------------------------------------------

TEST(Engine, VersionFollowsContent) {
  temp_folder dir;
  dir.write("damaged.yaml", k_good_file);
  const auto first = engine::load(dir.path());
  ASSERT_TRUE(first.engine) << to_string(first.errors);
  const auto again = engine::load(dir.path());
  ASSERT_TRUE(again.engine);
  EXPECT_EQ(first.engine->version(), again.engine->version());
  dir.write("damaged.yaml", std::string(k_good_file) + "  - 摔坏\n");
  const auto changed = engine::load(dir.path());
  ASSERT_TRUE(changed.engine) << to_string(changed.errors);
  EXPECT_NE(first.engine->version(), changed.engine->version());
  EXPECT_EQ(changed.engine->version().find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(Engine, ClassifyIsThreadSafe) {
  const std::vector<std::string> texts = {"屏幕碎了",
                                          "发错货了",
                                          "快递一直没到",
                                          "退款什么时候到账",
                                          "你好",
                                          "不想要了",
                                          "订单号1234567890123 少了一个",
                                          "转人工!!!",
                                          "是假货"};
  std::vector<std::string> expected;
  for (const auto& t : texts) {
    const auto c = shipped().classify(t);
    expected.push_back(c.reason + "|" + std::to_string(c.confidence) + "|" +
                       std::to_string(c.flags.size()) + "|" + std::to_string(c.entities.size()));
  }
  std::vector<std::thread> threads;
  std::vector<int> mismatches(8, 0);
  for (int n = 0; n < 8; ++n) {
    threads.emplace_back([&, n] {
      for (int rep = 0; rep < 200; ++rep) {
        for (std::size_t i = 0; i < texts.size(); ++i) {
          const auto c =
              shipped().classify(texts[(i + static_cast<std::size_t>(n)) % texts.size()]);
          const std::string got = c.reason + "|" + std::to_string(c.confidence) + "|" +
                                  std::to_string(c.flags.size()) + "|" +
                                  std::to_string(c.entities.size());
          if (got != expected[(i + static_cast<std::size_t>(n)) % texts.size()]) ++mismatches[n];
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int n = 0; n < 8; ++n) EXPECT_EQ(mismatches[n], 0) << "thread " << n;
}

}  // namespace
}  // namespace shouhou::intents
