// Stage 2 of the intent engine: normalisation, entities, negation and supposition, flags, the
// keyword model's fusion, the unsure case, pattern problems, and the supervisor commands.
// Every message here was written for these tests.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "intents/commands.hpp"
#include "intents/detail/entities.hpp"
#include "intents/detail/normalize.hpp"
#include "intents/engine.hpp"

namespace shouhou::intents {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::Not;

fs::path temp_dir() {
  const char* env = std::getenv("SHOUHOU_TEST_TMP");
  const fs::path base = env != nullptr ? fs::path(env) : fs::temp_directory_path();
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  fs::path p = base / ("intents2_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

const engine& shipped() {
  static const auto r = engine::load(SHOUHOU_SHIPPED_INTENTS);
  return *r.engine;
}

// --- normalisation ----------------------------------------------------------------------------

TEST(Normalize, TraditionalBecomesSimplified) {
  ASSERT_GT(detail::traditional_table_size(), 1000u);
  EXPECT_EQ(detail::normalize("退貨時間"), "退货时间");
  EXPECT_EQ(shipped().classify("收到時螢幕已經碎了").reason, "damaged");
  EXPECT_EQ(shipped().classify("這是假貨吧").reason, "counterfeit");
}

TEST(Normalize, ChineseNumbersWhereTheyAreNumbers) {
  EXPECT_EQ(detail::normalize("四十八小时"), "48小时");
  EXPECT_EQ(detail::normalize("等了三天"), "等了3天");
  EXPECT_EQ(detail::normalize("两个月"), "2个月");
  EXPECT_EQ(detail::normalize("一百零五块"), "105块");
  EXPECT_EQ(detail::normalize("一样一直一个"), "一样一直一个");  // words keep their 一
  EXPECT_EQ(detail::normalize("三四天"), "三四天");              // "three or four" is not a number
  EXPECT_EQ(detail::normalize("十分满意"), "十分满意");
  EXPECT_EQ(detail::normalize("千万别买"), "千万别买");
}

TEST(Normalize, PunctuationRepeatsAndEmoji) {
  EXPECT_EQ(detail::normalize("坏了。。。"), "坏了...");
  EXPECT_EQ(detail::normalize("气死了!!!!!!"), "气死了!!!");
  EXPECT_EQ(detail::normalize("差差差差差"), "差差差");
  EXPECT_EQ(detail::normalize("碎了😭😭"), "碎了");
  EXPECT_EQ(detail::normalize("【退款】“快”"), "[退款]\"快\"");
  EXPECT_EQ(detail::normalize("1111222233334444"), "1111222233334444");  // digits never cut
  EXPECT_EQ(detail::normalize(std::string("a\xff\xfe" "b")), std::string("a\xff\xfe" "b"));
}

TEST(Normalize, PatternProblemsAreNamed) {
  EXPECT_THAT(detail::pattern_problem("碎了。"), HasSubstr("punctuation"));
  EXPECT_THAT(detail::pattern_problem("退貨"), HasSubstr("Traditional"));
  EXPECT_THAT(detail::pattern_problem("四十八小时"), HasSubstr("48小时"));
  EXPECT_EQ(detail::pattern_problem("(碎|裂)了"), "");
}

// --- entities ---------------------------------------------------------------------------------

bool has_entity(const std::vector<entity>& es, const std::string& kind, const std::string& value) {
  for (const auto& e : es) {
    if (e.kind == kind && e.value == value) return true;
  }
  return false;
}

std::vector<entity> entities_of(const std::string& raw) {
  return detail::extract_entities(detail::normalize(raw));
}

TEST(Entities, OrderNumbers) {
  EXPECT_TRUE(has_entity(shipped().classify("订单号 2023111122334455 还没发货").entities, "order_no",
                         "2023111122334455"));
  EXPECT_TRUE(has_entity(entities_of("订单：A-20240102"), "order_no", "A-20240102"));
  EXPECT_TRUE(has_entity(entities_of("这单9988776655443322怎么没动"), "order_no",
                         "9988776655443322"));
}

TEST(Entities, WaybillsOfCommonCarriers) {
  EXPECT_TRUE(has_entity(entities_of("顺丰SF1402345678901到哪了"), "waybill_no", "SF1402345678901"));
  EXPECT_TRUE(has_entity(entities_of("JDVA12345678901 一直不动"), "waybill_no", "JDVA12345678901"));
  EXPECT_TRUE(has_entity(entities_of("圆通 YT7512345678901"), "waybill_no", "YT7512345678901"));
  EXPECT_TRUE(has_entity(entities_of("EMS EA123456789CN"), "waybill_no", "EA123456789CN"));
  EXPECT_TRUE(has_entity(entities_of("快递单号是 773012345678"), "waybill_no", "773012345678"));
  EXPECT_FALSE(has_entity(entities_of("快递单号是 773012345678"), "order_no", "773012345678"));
}

TEST(Entities, PhoneAmountCount) {
  const auto e = entities_of("打13812345678，退我¥39.9，买了3件只到两件，差价十五元");
  EXPECT_TRUE(has_entity(e, "phone", "13812345678"));
  EXPECT_TRUE(has_entity(e, "amount", "39.9"));
  EXPECT_TRUE(has_entity(e, "amount", "15"));
  EXPECT_TRUE(has_entity(e, "count", "3件"));
  EXPECT_TRUE(has_entity(e, "count", "2件"));
  EXPECT_FALSE(has_entity(entities_of("一个问题"), "count", "1个"));
  EXPECT_TRUE(entities_of("没有数字的一句话").empty());
}

// --- negation, contrast, supposition ------------------------------------------------------------

TEST(Scoring, NegationDoesNotCount) {
  const auto c = shipped().classify("没坏，就是不想要了", true);
  EXPECT_EQ(c.reason, "changed_mind");
  EXPECT_THAT(c.candidates, Not(Contains(Field(&candidate::reason, "quality_issue"))));
  const auto d = shipped().classify("不是质量问题，就是不想要了");
  EXPECT_EQ(d.reason, "changed_mind");
}

TEST(Scoring, SuppositionIsNotAComplaint) {
  const auto c = shipped().classify("如果用着坏了可以保修吗", true);
  EXPECT_NE(c.reason, "quality_issue");
  EXPECT_THAT(c.explanation, Contains(HasSubstr("supposed after 如果")));
}

// --- flags --------------------------------------------------------------------------------------

TEST(Flags, EachFlagFires) {
  EXPECT_THAT(shipped().classify("给我转个人工客服").flags, Contains("wants_human"));
  EXPECT_THAT(shipped().classify("不处理我就打12315").flags, Contains("escalation"));
  EXPECT_THAT(shipped().classify("这什么垃圾玩意").flags, Contains("angry"));
  EXPECT_THAT(shipped().classify("衣服已经洗过了，我要仅退款").flags, Contains("risk"));
  EXPECT_TRUE(shipped().classify("谢谢，已经收到了").flags.empty());
}

// --- fusion with the keyword model and the unsure case -------------------------------------------

TEST(Fusion, ModelSpeaksOnlyWhenPatternsAreWeak) {
  const fs::path dir = temp_dir();
  write(dir / "a.yaml", R"(reason: damaged
patterns:
  - {re: "碎了", weight: 3}
examples:
  - 箱子压扁花瓶裂开
  - 花瓶裂开一道口子
---
reason: quality_issue
patterns:
  - {re: "坏了", weight: 3}
examples:
  - 电池鼓包不能充电
)");
  engine_options with;
  with.model_weight = 2.0;
  engine_options without;
  without.model_weight = 0.0;
  const auto a = engine::load(dir, with);
  const auto b = engine::load(dir, without);
  ASSERT_TRUE(a.engine && b.engine);
  // No pattern fires: the model's pairs (花瓶, 裂开) decide with the model, nothing without it.
  const auto m = a.engine->classify("花瓶裂开", true);
  EXPECT_EQ(m.reason, "damaged");
  EXPECT_GT(m.confidence, 0.0);
  EXPECT_THAT(m.explanation, Contains(HasSubstr("keyword model")));
  EXPECT_TRUE(b.engine->classify("花瓶裂开").candidates.empty());
  // A pattern fires: same score with and without the model.
  EXPECT_DOUBLE_EQ(a.engine->classify("坏了").confidence, b.engine->classify("坏了").confidence);
  EXPECT_GT(a.engine->stats().model_features, 0u);
  fs::remove_all(dir);
}

TEST(Fusion, ModelRanksTheReasonsWhosePatternsFired) {
  // Both patterns fire with the same weight; the examples say this wording is about transport.
  const fs::path dir = temp_dir();
  write(dir / "a.yaml", R"(reason: damaged
patterns:
  - {re: "坏了", weight: 2}
---
reason: quality_issue
patterns:
  - {re: "不亮", weight: 2}
)");
  fs::create_directories(dir / "examples");
  write(dir / "examples" / "damaged.txt",
        "# transport\n快递箱子压扁了台灯摔坏了\n快递员扔箱子台灯摔坏了\n箱子压扁了\n\n快递摔的箱子扁了\n");
  write(dir / "examples" / "quality_issue.txt",
        "用了几天开关失灵\n用了一周灯泡烧了\n插上电用着就闪\n");
  engine_options without;
  without.model_weight = 0.0;
  const auto a = engine::load(dir);
  const auto b = engine::load(dir, without);
  ASSERT_TRUE(a.engine && b.engine) << to_string(a.errors);
  EXPECT_EQ(a.engine->stats().example_files, 2u);
  EXPECT_EQ(a.engine->stats().examples, 7u);  // comments and blank lines skipped
  const std::string text = "台灯不亮，快递箱子压扁了，摔坏了";
  // Without the model: a tie, the reason stated first wins.
  EXPECT_EQ(b.engine->classify(text).reason, "quality_issue");
  const auto c = a.engine->classify(text, true);
  EXPECT_EQ(c.reason, "damaged");
  EXPECT_EQ(c.runner_up, "quality_issue");
  EXPECT_THAT(c.explanation, Contains(HasSubstr("keyword model")));
  fs::remove_all(dir);
}

TEST(Fusion, ExampleFilesAreCheckedAndLocated) {
  const fs::path dir = temp_dir();
  write(dir / "a.yaml", "reason: damaged\npatterns:\n  - {re: \"碎了\", weight: 3}\n");
  fs::create_directories(dir / "examples");
  write(dir / "examples" / "damgaed.txt", "杯子碎了\n");
  write(dir / "examples" / "notes.md", "x\n");
  write(dir / "examples" / "damaged.txt", "杯子碎了\n# a comment\n\xff\xfe broken\n");
  const auto r = engine::load(dir);
  EXPECT_FALSE(r.engine);
  const std::string errors = to_string(r.errors);
  EXPECT_THAT(errors, HasSubstr("damgaed.txt: 'damgaed' is not a reason id"));
  EXPECT_THAT(errors, HasSubstr("notes.md: only <reason>.txt files belong in examples/"));
  EXPECT_THAT(errors, HasSubstr("damaged.txt:3:1: not UTF-8 text"));
  fs::remove_all(dir);
}

TEST(Unsure, WeakOrSplitEvidenceIsUnsure) {
  // Two reasons with equal weak evidence: unsure, with both as candidates to offer the buyer.
  const fs::path dir = temp_dir();
  write(dir / "a.yaml",
        "reason: damaged\npatterns:\n  - {re: \"碎了\", weight: 1}\n---\n"
        "reason: quality_issue\npatterns:\n  - {re: \"坏了\", weight: 1}\n");
  const auto loaded = engine::load(dir);
  ASSERT_TRUE(loaded.engine);
  const auto c = loaded.engine->classify("碎了也坏了");
  EXPECT_TRUE(c.unsure);
  EXPECT_NEAR(c.confidence, 1.0 / 3.0, 1e-9);  // 1 / (1 + 1 + 1)
  EXPECT_EQ(c.candidates.size(), 2u);
  fs::remove_all(dir);
  const auto sure = shipped().classify("收到的时候杯子已经碎了");
  EXPECT_FALSE(sure.unsure);
  EXPECT_TRUE(sure.explanation.empty());  // not asked for
  EXPECT_FALSE(shipped().classify("收到的时候杯子已经碎了", true).explanation.empty());
}

// --- the server's end-to-end messages --------------------------------------------------------------

TEST(ShippedIntents, ServerEndToEndMessages) {
  const std::pair<const char*, const char*> cases[] = {
      {"才用了两天就坏了，开不了机", "quality_issue"},
      {"实物和图片不一样，色差太大了", "not_as_described"},
      {"你们发错货了，我买的是黑色的", "wrong_item"},
      {"少了一个，只收到两件", "missing_item"},
      {"收到的时候杯子已经碎了", "damaged"},
      {"快递一直没到，物流也不更新", "not_received"},
      {"都三天了怎么还不发货", "late_shipment"},
      {"这是假货吧，根本不是正品", "counterfeit"},
      {"不想要了，我要七天无理由退货", "changed_mind"},
      {"不好意思我拍错了，能取消吗", "mistaken_purchase"},
      {"我要退款", "refund_request"},
      {"退款什么时候到账", "refund_progress"},
      {"你好，在吗", "other"},
      {"屏幕碎了", "damaged"},
      {"快递一直没到", "not_received"},
  };
  for (const auto& [text, reason] : cases) EXPECT_EQ(shipped().classify(text).reason, reason) << text;
}

// --- commands -------------------------------------------------------------------------------------

TEST(Commands, CheckExitCodes) {
  std::ostringstream out;
  EXPECT_EQ(check_command(SHOUHOU_SHIPPED_INTENTS, out), 0);
  EXPECT_THAT(out.str(), HasSubstr("ok: 14 files"));
  const fs::path dir = temp_dir();
  write(dir / "bad.yaml", "reason: damaged\npatterns:\n  - {re: \"碎了|(裂\"}\n");
  std::ostringstream bad;
  EXPECT_EQ(check_command(dir, bad), 1);
  EXPECT_THAT(bad.str(), HasSubstr("bad.yaml:3:10: bad pattern: missing )"));
  fs::remove_all(dir);
}

TEST(Commands, ClassifyTextAndJson) {
  std::istringstream in("屏幕碎了\n\n你好\n");
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(classify_command(SHOUHOU_SHIPPED_INTENTS, false, {}, in, out, err), 0);
  EXPECT_THAT(out.str(), HasSubstr("屏幕碎了\n  reason: damaged"));
  EXPECT_THAT(out.str(), HasSubstr("  why: damaged pattern"));
  EXPECT_THAT(out.str(), HasSubstr("(damaged.yaml:"));
  std::istringstream none;
  std::ostringstream json_out;
  EXPECT_EQ(classify_command(SHOUHOU_SHIPPED_INTENTS, true, {"订单号 2023111122334455 还没发货"},
                             none, json_out, err),
            0);
  const auto j = nlohmann::json::parse(json_out.str());
  EXPECT_EQ(j["reason"], "late_shipment");
  EXPECT_EQ(j["entities"][0]["kind"], "order_no");
  EXPECT_EQ(j["entities"][0]["value"], "2023111122334455");
  std::ostringstream missing;
  EXPECT_EQ(classify_command("/nonexistent/folder", false, {"x"}, none, out, missing), 2);
  EXPECT_FALSE(missing.str().empty());
}

// Tiny folder and corpus with hand-computed metrics:
//   damaged <- "碎了"; wrong_item <- "发错"; everything else is other.
//   lines: (碎了, damaged) ok; (杯子碎了, damaged) ok; (发错了, wrong_item) ok;
//          (发错也碎了 -> tie, first stated wins: wrong_item, labelled damaged) miss;
//   (发错也碎了 rather than 发错了也碎了: the keyword model would break that tie, it holds 了 twice.)
//          (你好, other) ok.
//   accuracy 4/5 = 0.8. damaged P 2/2 R 2/3 F1 0.8; wrong_item P 1/2 R 1 F1 2/3;
//   other P 1 R 1 F1 1. macro-F1 = (0.8 + 2/3 + 1) / 3 = 0.8222...
TEST(Commands, EvalMetricsOnATinyCorpus) {
  const fs::path dir = temp_dir();
  fs::create_directories(dir / "intents");
  write(dir / "intents" / "a.yaml",
        "reason: damaged\npatterns:\n  - {re: \"碎了\", weight: 3}\n---\n"
        "reason: wrong_item\npatterns:\n  - {re: \"发错\", weight: 3}\n");
  write(dir / "c.jsonl",
        "{\"text\": \"碎了\", \"intent\": \"damaged\", \"flags\": []}\n"
        "{\"text\": \"杯子碎了\", \"intent\": \"damaged\"}\n"
        "\n"
        "{\"text\": \"发错了\", \"intent\": \"wrong_item\", \"flags\": []}\n"
        "{\"text\": \"发错也碎了\", \"intent\": \"damaged\", \"flags\": []}\n"
        "{\"text\": \"你好\", \"intent\": \"other\", \"flags\": [\"wants_human\"]}\n");
  std::ostringstream out;
  std::ostringstream err;
  const auto request = [&](const char* corpus, bool json, std::optional<double> bar) {
    eval_request r;
    r.corpora = {dir / corpus};
    r.intents = dir / "intents";
    r.json = json;
    r.min_macro_f1 = bar;
    return r;
  };
  EXPECT_EQ(eval_command(request("c.jsonl", true, std::nullopt), out, err), 0) << err.str();
  const auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["messages"], 5);
  EXPECT_DOUBLE_EQ(j["accuracy"].get<double>(), 0.8);
  EXPECT_NEAR(j["macro_f1"].get<double>(), (0.8 + 2.0 / 3.0 + 1.0) / 3.0, 1e-9);
  EXPECT_NEAR(j["per_intent"]["damaged"]["recall"].get<double>(), 2.0 / 3.0, 1e-9);
  EXPECT_EQ(j["per_intent"]["damaged"]["support"], 3);
  EXPECT_EQ(j["confusion"]["damaged"]["wrong_item"], 1);
  EXPECT_EQ(j["flags"]["wants_human"]["support"], 1);
  EXPECT_EQ(j["flags"]["wants_human"]["predicted"], 0);
  EXPECT_EQ(j["misclassified"].size(), 1u);
  // Below the bar: exit 1. Text output carries the same numbers.
  std::ostringstream text;
  EXPECT_EQ(eval_command(request("c.jsonl", false, 0.9), text, err), 1);
  EXPECT_THAT(text.str(), HasSubstr("accuracy: 0.800"));
  EXPECT_THAT(text.str(), HasSubstr("macro-F1: 0.822"));
  // A bad line is an error naming file:line, not a crash.
  write(dir / "bad.jsonl", "{\"text\": \"碎了\", \"intent\": \"damaged\"}\n{\"text\": 3}\n");
  std::ostringstream bad_err;
  EXPECT_EQ(eval_command(request("bad.jsonl", false, std::nullopt), out, bad_err), 2);
  EXPECT_THAT(bad_err.str(), HasSubstr("bad.jsonl:2: \"text\" must be a string"));
  write(dir / "bad2.jsonl", "{\"text\": \"x\", \"intent\": \"broken\"}\n{oops\n");
  std::ostringstream bad2;
  EXPECT_EQ(eval_command(request("bad2.jsonl", false, std::nullopt), out, bad2), 2);
  EXPECT_THAT(bad2.str(), HasSubstr("bad2.jsonl:1: unknown intent 'broken'"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace shouhou::intents
