// Cases as pure functions: what a handoff opens, how urgent a case is, what an agent reads, what
// the webhook carries, when deadlines are warned of, and the outcomes agents may record. States
// are built with the dialogue policy from hand-written classifications, as in dialogue_test.cpp,
// so these tests pin the case file and the shipped policy file, not the intent files.

#include "bot/case_file.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "bot/dialogue.hpp"
#include "bot/fake_store.hpp"

namespace shouhou::bot {
namespace {

using json = nlohmann::json;

constexpr std::int64_t k_now = 1'700'000'000'000;  // Wed 2023-11-15 06:13:20 in +08:00
constexpr std::int64_t k_minute = 60'000;
constexpr std::int64_t k_hour = 3'600'000;
constexpr std::int64_t k_day = 24 * k_hour;

using testing::said;

bool has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::string ids_of(const json& items, const char* key = "item") {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i.value(key, "");
  return out;
}

// A case record as the store would hand it back, with only what priorities look at.
store::case_record bare_case(std::string id, std::vector<std::string> flags = {},
                             std::string reason = "damaged", std::string status = "open",
                             std::int64_t created = k_now, std::int64_t due = 0) {
  store::case_record c;
  c.id = std::move(id);
  c.conversation = "conv-" + c.id;
  c.shop = "shop-1";
  c.buyer = "buyer-1";
  c.reason = std::move(reason);
  c.status = std::move(status);
  c.created_at_ms = created;
  c.updated_at_ms = created;
  c.due_at_ms = due;
  c.details = json{{"flags", flags}}.dump();
  return c;
}

class CaseFile : public ::testing::Test {
 protected:
  step buyer(const intents::classification& c, std::string text, std::string order = "") {
    step s = on_buyer_message(state_, *know_, who_, c, text, order, dialogue_, now_);
    state_ = s.next;
    return s;
  }

  // A missing item reported at k_now, and three hours later the buyer asks for a person.
  void missing_item_handed_off() {
    auto first = said("missing_item", 0.82);
    first.runner_up = "wrong_item";
    first.explanation = {"pattern 少了 +0.6", "model +0.22"};
    buyer(first, "盒子里的充电头没给我装", "2023111500042");
    now_ = k_now + 3 * k_hour;
    auto s = buyer(said("other", 0.4, {"wants_human"}), "麻烦换个真人来处理吧");
    ASSERT_EQ(s.handoff_trigger, "wants_human");
  }

  store::case_record open(std::string id = "c0000000000000001") {
    return open_case(conversation_, state_, *know_, std::move(id), now_, desk_);
  }

  std::shared_ptr<const knowledge> know_ = testing::shipped_knowledge();
  party who_{"shop-1", "buyer-1"};
  dialogue_settings dialogue_{std::chrono::minutes(10), 2};
  desk_settings desk_;  // the defaults: warned two hours ahead, no webhook
  store::conversation conversation_{"conv-1", "shop-1", "buyer-1", k_now, "", 0, "new", 0};
  conversation_state state_;
  std::int64_t now_ = k_now;
};

TEST(NewCaseId, IsACAndSixteenHexDigitsAndFresh) {
  const std::string a = new_case_id();
  ASSERT_EQ(a.size(), 17u);
  EXPECT_EQ(a[0], 'c');
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef", 1), std::string::npos) << a;
  EXPECT_NE(a, new_case_id());
}

TEST_F(CaseFile, OpenCaseNamesTheConversationTheBuyerTheOrderAndTheReason) {
  missing_item_handed_off();
  const auto c = open("c00000000000000aa");
  EXPECT_EQ(c.id, "c00000000000000aa");
  EXPECT_EQ(c.conversation, "conv-1");
  EXPECT_EQ(c.shop, "shop-1");
  EXPECT_EQ(c.buyer, "buyer-1");
  EXPECT_EQ(c.order, "2023111500042");
  EXPECT_EQ(c.reason, "missing_item");
  EXPECT_EQ(c.status, "open");
  EXPECT_TRUE(c.agent.empty());
  EXPECT_EQ(c.version, 0);
  EXPECT_EQ(c.created_at_ms, now_);
  EXPECT_EQ(c.updated_at_ms, now_);
  EXPECT_TRUE(c.outcome.empty());
}

TEST_F(CaseFile, OpenCaseDeadlinesRunFromWhenTheReasonWasSetNotFromTheHandoff) {
  missing_item_handed_off();
  const auto c = open();
  const json d = json::parse(c.details);
  // The merchant's 48 hours first, then the reason's own deadline (reissue within 24 hours).
  ASSERT_EQ(d["deadlines"].size(), 2u) << d["deadlines"];
  EXPECT_EQ(d["deadlines"][0]["id"], "merchant_response");
  EXPECT_EQ(d["deadlines"][0]["label"], "商家处理售后申请");
  EXPECT_EQ(d["deadlines"][0]["due_at_ms"], k_now + 48 * k_hour);
  EXPECT_EQ(d["deadlines"][1]["id"], "reissue_missing_item");
  EXPECT_EQ(d["deadlines"][1]["due_at_ms"], k_now + 24 * k_hour);
  EXPECT_EQ(c.due_at_ms, k_now + 24 * k_hour) << "the nearest deadline";
  EXPECT_EQ(c.warn_at_ms, k_now + 22 * k_hour) << "the nearest less the warning lead";
}

TEST_F(CaseFile, OpenCaseWarnsAsFarAheadAsTheDeskSays) {
  missing_item_handed_off();
  desk_.warning_lead = std::chrono::minutes(30);
  EXPECT_EQ(open().warn_at_ms, k_now + 24 * k_hour - 30 * k_minute);
}

TEST_F(CaseFile, OpenCaseWithAReasonWhoseDeadlineIsTheMerchantsListsItOnce) {
  buyer(said("damaged", 0.9, {"wants_human"}), "杯子碎成两半了");
  const json d = json::parse(open().details);
  ASSERT_EQ(d["deadlines"].size(), 1u) << d["deadlines"];
  EXPECT_EQ(d["deadlines"][0]["id"], "merchant_response");
}

TEST_F(CaseFile, OpenCaseCountsWorkingDaysWithoutTheWeekend) {
  buyer(said("refund_progress", 0.9, {"wants_human"}), "钱退到哪里去了");
  const auto c = open();
  const json d = json::parse(c.details);
  ASSERT_EQ(d["deadlines"].size(), 2u) << d["deadlines"];
  EXPECT_EQ(d["deadlines"][1]["id"], "refund_arrival");
  // Seven working days from a Wednesday morning: Thu, Fri, Mon-Fri ends on the Friday after
  // next, nine calendar days on.
  EXPECT_EQ(d["deadlines"][1]["due_at_ms"], k_now + 9 * k_day);
  EXPECT_EQ(c.due_at_ms, k_now + 48 * k_hour);
}

TEST_F(CaseFile, OpenCaseWithoutAReasonIsOtherWithOnlyTheMerchantsDeadline) {
  state_.phase = phase::handed_off;
  state_.handoff_trigger = "unsure_twice";
  const auto c = open();
  EXPECT_EQ(c.reason, "other");
  EXPECT_TRUE(c.order.empty());
  const json d = json::parse(c.details);
  ASSERT_EQ(d["deadlines"].size(), 1u);
  EXPECT_EQ(d["deadlines"][0]["due_at_ms"], now_ + 48 * k_hour) << "no reason time: the handoff";
  EXPECT_EQ(d["resolutions"].size(), std::size(replies::k_resolutions))
      << "a reason the policy does not list may end any way";
}

TEST_F(CaseFile, AReasonChosenByAQuickReplySaysSoInsteadOfBeingExplained) {
  missing_item_handed_off();
  state_.fired = {"quick reply: 少件/漏发"};
  const json d = json::parse(open().details);
  EXPECT_EQ(d["fired"], json::array({"quick reply: 少件/漏发"}));
}

TEST_F(CaseFile, OpenCaseDetailsKeepWhatTheBotKnew) {
  missing_item_handed_off();
  const json d = json::parse(open().details);
  EXPECT_EQ(d["trigger"], "wants_human");
  EXPECT_DOUBLE_EQ(d["confidence"].get<double>(), 0.82);
  EXPECT_EQ(d["runner_up"], "wrong_item");
  EXPECT_EQ(d["flags"], json::array({"wants_human"}));
  // What fired is explained from the buyer's words that set the reason, when the case opens.
  EXPECT_EQ(d["fired"], json(know_->intents->classify("盒子里的充电头没给我装", true).explanation));
  EXPECT_FALSE(d["fired"].empty());
  EXPECT_EQ(d["buyer_words"], "盒子里的充电头没给我装");
  EXPECT_EQ(d["entities"]["order_no"], "2023111500042");
  EXPECT_EQ(d["knowledge_version"], know_->version);
  EXPECT_EQ(d["handed_off_at_ms"], k_now + 3 * k_hour);
  EXPECT_EQ(d["resolutions"],
            json::array({"reissue", "partial_refund", "compensation", "rejected"}));
  ASSERT_EQ(d["checklist"].size(), 2u);
  EXPECT_EQ(ids_of(d["checklist"]), "received_photo,waybill_photo");
  EXPECT_EQ(d["checklist"][0]["type"], "photo");
  EXPECT_EQ(d["checklist"][0]["label"], "收到的全部商品和包装合影");
  EXPECT_EQ(d["checklist"][0]["done"], false);
  EXPECT_EQ(d["checklist"][0]["value"], "");
}

TEST_F(CaseFile, OpenCaseSummaryReadsInOneLine) {
  missing_item_handed_off();
  const std::string summary = json::parse(open().details)["summary"];
  for (const std::string part : {"少件/漏发", "盒子里的充电头没给我装", "2023111500042", "还缺",
                                 "收到的全部商品和包装合影", "快递面单照片（带重量）"}) {
    EXPECT_NE(summary.find(part), std::string::npos) << part << " in " << summary;
  }
}

TEST_F(CaseFile, OpenCaseSummarySaysWhenNothingIsMissing) {
  missing_item_handed_off();
  for (auto& item : state_.checklist) item.done = true;
  const std::string summary = json::parse(open().details)["summary"];
  EXPECT_NE(summary.find("材料已齐"), std::string::npos) << summary;
  EXPECT_EQ(summary.find("还缺"), std::string::npos) << summary;
}

TEST_F(CaseFile, OpenCaseSummaryCutsLongWordsAtACharacterBoundary) {
  std::string words;
  for (int i = 0; i < 30; ++i) words += "碎了";  // 60 characters, 3 bytes each
  buyer(said("damaged", 0.9, {"wants_human"}), words);
  const std::string summary = json::parse(open().details)["summary"];
  std::string forty;
  for (int i = 0; i < 20; ++i) forty += "碎了";
  EXPECT_NE(summary.find(forty + "…"), std::string::npos) << summary;
  EXPECT_EQ(summary.find(forty + "碎"), std::string::npos) << "cut after 40 characters";
}

// What dialogue_test's handoff snapshot used to check, now that the snapshot is the case.
TEST_F(CaseFile, OpenCaseCarriesDeadlinesResolutionsAndWhatIsMissing) {
  buyer(said("damaged", 0.9, {"wants_human"}), "外箱压扁了，里面的碗也裂了");
  const auto c = open();
  const json d = json::parse(c.details);
  EXPECT_EQ(c.reason, "damaged");
  EXPECT_EQ(d["trigger"], "wants_human");
  EXPECT_TRUE(std::any_of(d["checklist"].begin(), d["checklist"].end(),
                          [](const json& i) { return !i["done"].get<bool>(); }));
  ASSERT_FALSE(d["deadlines"].empty());
  EXPECT_EQ(d["deadlines"][0]["id"], "merchant_response");
  EXPECT_EQ(d["deadlines"][0]["due_at_ms"], k_now + 48 * k_hour);
  EXPECT_EQ(d["resolutions"][0], "reissue");
}

// ---- priority_of and sort_queue

TEST(Priority, ANewCaseWithNothingSpecialIsNormal) {
  const auto p = priority_of(bare_case("a"), k_now + 10 * k_minute, {});
  EXPECT_EQ(p.rank, 2);
  EXPECT_EQ(p.level, "normal");
  EXPECT_TRUE(p.why.empty());
}

TEST(Priority, EscalationAndCounterfeitAreUrgent) {
  auto p = priority_of(bare_case("a", {"escalation"}), k_now, {});
  EXPECT_EQ(p.level, "urgent");
  EXPECT_EQ(p.rank, 0);
  EXPECT_TRUE(has(p.why, "flag escalation"));
  p = priority_of(bare_case("b", {}, "counterfeit"), k_now, {});
  EXPECT_EQ(p.level, "urgent");
  EXPECT_TRUE(has(p.why, "reason counterfeit"));
}

TEST(Priority, AngerAndRiskAreHigh) {
  auto p = priority_of(bare_case("a", {"angry"}), k_now, {});
  EXPECT_EQ(p.level, "high");
  EXPECT_EQ(p.rank, 1);
  EXPECT_TRUE(has(p.why, "flag angry"));
  p = priority_of(bare_case("b", {"risk"}), k_now, {});
  EXPECT_EQ(p.level, "high");
  EXPECT_TRUE(has(p.why, "flag risk"));
  p = priority_of(bare_case("c", {"wants_human"}), k_now, {});
  EXPECT_EQ(p.level, "normal") << "asking for a person is not urgency";
}

TEST(Priority, ANearingDeadlineRaisesTheCase) {
  const desk_settings two_hours;
  auto at = [&](std::int64_t left) {
    return priority_of(bare_case("a", {}, "damaged", "claimed", k_now, k_now + left), k_now,
                       two_hours);
  };
  auto p = at(-k_minute);
  EXPECT_EQ(p.level, "urgent");
  EXPECT_TRUE(has(p.why, "deadline passed"));
  EXPECT_EQ(at(0).level, "urgent");
  p = at(90 * k_minute);
  EXPECT_EQ(p.level, "urgent");
  EXPECT_TRUE(has(p.why, "deadline in 90 min")) << ::testing::PrintToString(p.why);
  EXPECT_EQ(at(2 * k_hour).level, "urgent") << "the lead itself is in";
  p = at(5 * k_hour);
  EXPECT_EQ(p.level, "high");
  EXPECT_TRUE(has(p.why, "deadline in 5 h")) << ::testing::PrintToString(p.why);
  EXPECT_EQ(at(24 * k_hour).level, "high");
  EXPECT_EQ(at(30 * k_hour).level, "normal");
  EXPECT_TRUE(at(30 * k_hour).why.empty());
}

TEST(Priority, TheWarningLeadIsTheDesks) {
  desk_settings six_hours;
  six_hours.warning_lead = std::chrono::hours(6);
  const auto c = bare_case("a", {}, "damaged", "claimed", k_now, k_now + 5 * k_hour);
  EXPECT_EQ(priority_of(c, k_now, six_hours).level, "urgent");
  EXPECT_EQ(priority_of(c, k_now, {}).level, "high");
}

TEST(Priority, AnOpenCaseWaitingOverAnHourIsHigh) {
  const auto open = bare_case("a", {}, "damaged", "open", k_now);
  EXPECT_EQ(priority_of(open, k_now + k_hour, {}).level, "normal") << "an hour is not over";
  const auto p = priority_of(open, k_now + 90 * k_minute, {});
  EXPECT_EQ(p.level, "high");
  EXPECT_TRUE(has(p.why, "waiting 90 min")) << ::testing::PrintToString(p.why);
  EXPECT_EQ(
      priority_of(bare_case("b", {}, "damaged", "claimed", k_now), k_now + 5 * k_hour, {}).level,
      "normal")
      << "someone has it";
}

TEST(Priority, AResolvedCaseIgnoresItsDeadlines) {
  const auto c = bare_case("a", {}, "damaged", "resolved", k_now, k_now + k_hour);
  const auto p = priority_of(c, k_now + 3 * k_day, {});
  EXPECT_EQ(p.level, "normal");
  EXPECT_TRUE(p.why.empty()) << ::testing::PrintToString(p.why);
}

TEST(Priority, WhyNamesEveryCause) {
  const auto c = bare_case("a", {"angry", "escalation"}, "damaged", "open", k_now, k_now + k_hour);
  const auto p = priority_of(c, k_now + 2 * k_hour, {});
  EXPECT_EQ(p.level, "urgent");
  for (const char* cause : {"flag escalation", "flag angry", "deadline passed", "waiting 2 h"})
    EXPECT_TRUE(has(p.why, cause)) << cause << " in " << ::testing::PrintToString(p.why);
}

TEST(Priority, UnreadableDetailsAreNoFlags) {
  auto c = bare_case("a");
  c.details = "not json";
  EXPECT_EQ(priority_of(c, k_now, {}).level, "normal");
}

TEST(SortQueue, MostUrgentThenNearestDeadlineThenLongestWaiting) {
  const std::int64_t now = k_now + 30 * k_minute;  // nobody has waited an hour yet
  std::vector<store::case_record> cases = {
      bare_case("normal-old", {}, "damaged", "open", k_now),
      bare_case("normal-due", {}, "damaged", "open", k_now + 20 * k_minute, now + 30 * k_hour),
      bare_case("high", {"angry"}, "damaged", "open", k_now + 5 * k_minute),
      bare_case("urgent-no-due", {"escalation"}, "damaged", "open", k_now + 1 * k_minute),
      bare_case("urgent-passed", {}, "damaged", "open", k_now + 10 * k_minute, now - k_minute),
      bare_case("normal-new", {}, "damaged", "open", k_now + 25 * k_minute),
      bare_case("urgent-soon", {"escalation"}, "damaged", "open", k_now + 2 * k_minute,
                now + 20 * k_hour),
  };
  sort_queue(cases, now, {});
  std::vector<std::string> order;
  for (const auto& c : cases) order.push_back(c.id);
  EXPECT_EQ(order, (std::vector<std::string>{"urgent-passed", "urgent-soon", "urgent-no-due",
                                             "high", "normal-due", "normal-old", "normal-new"}));
  EXPECT_EQ(cases[0].due_at_ms, now - k_minute) << "records move whole";
}

// ---- case_summary, case_view, webhook_event

store::message line(std::int64_t seq, store::direction dir, std::string text, std::string payload,
                    std::string reason = "") {
  store::message m;
  m.seq = seq;
  m.conversation = "conv-1";
  m.dir = dir;
  m.text = std::move(text);
  m.payload = std::move(payload);
  m.reason = std::move(reason);
  m.confidence = m.reason.empty() ? 0.0 : 0.82;
  m.at_ms = k_now + seq * k_minute;
  return m;
}

class CaseView : public CaseFile {
 protected:
  void SetUp() override {
    missing_item_handed_off();
    record_ = open("c00000000000000b2");
    transcript_ = {
        line(1, store::direction::inbound, "盒子里的充电头没给我装", "", "missing_item"),
        line(2, store::direction::outbound, "亲，抱歉", R"({"kind":"answer","requests":[]})"),
        line(3, store::direction::outbound, "我来跟进，请稍等",
             R"({"kind":"agent","agent":"小王"})"),
    };
    store::evidence_record e;
    e.id = "ev-77";
    e.conversation = "conv-1";
    e.item = "received_photo";
    e.original_name = "box.jpg";
    e.mime = "image/jpeg";
    e.kind = "image";
    e.size = 2048;
    e.sha256 = std::string(64, 'a');
    e.at_ms = k_now + 4 * k_hour;
    evidence_.push_back(e);

    store::case_record before =
        bare_case("c00000000000000a1", {}, "damaged", "resolved", k_now - 30 * k_day);
    before.outcome = R"({"kind":"reissue","agent":"小李"})";
    store::case_record later =
        bare_case("c00000000000000c3", {}, "wrong_item", "open", record_.created_at_ms + k_hour);
    earlier_ = {before, record_, later};
  }

  json view(const conversation_state* state, std::int64_t now) {
    case_sources src{record_, state, transcript_, evidence_, earlier_};
    return case_view(src, *know_, now, desk_);
  }

  store::case_record record_;
  std::vector<store::message> transcript_;
  std::vector<store::evidence_record> evidence_;
  std::vector<store::case_record> earlier_;
};

TEST_F(CaseView, TheTranscriptSaysWhoSpoke) {
  const json v = view(nullptr, now_);
  ASSERT_EQ(v["transcript"].size(), 3u);
  const json& t = v["transcript"];
  EXPECT_EQ(t[0]["from"], "buyer");
  EXPECT_EQ(t[0]["text"], "盒子里的充电头没给我装");
  EXPECT_EQ(t[0]["reason"], "missing_item");
  EXPECT_EQ(t[0]["seq"], 1);
  EXPECT_EQ(t[0]["at_ms"], k_now + k_minute);
  EXPECT_EQ(t[1]["from"], "bot");
  EXPECT_FALSE(t[1].contains("agent"));
  EXPECT_FALSE(t[1].contains("reason")) << "only the buyer's lines were classified";
  EXPECT_EQ(t[2]["from"], "agent");
  EXPECT_EQ(t[2]["agent"], "小王");
}

TEST_F(CaseView, TheEvidenceLinksToItsFiles) {
  const json v = view(nullptr, now_);
  ASSERT_EQ(v["evidence"].size(), 1u);
  const json& e = v["evidence"][0];
  EXPECT_EQ(e["id"], "ev-77");
  EXPECT_EQ(e["item"], "received_photo");
  EXPECT_EQ(e["link"], "/v1/evidence/ev-77");
  EXPECT_EQ(e["mime"], "image/jpeg");
  EXPECT_EQ(e["kind"], "image");
  EXPECT_EQ(e["size"], 2048);
  EXPECT_EQ(e["name"], "box.jpg");
  EXPECT_EQ(e["sha256"], std::string(64, 'a'));
}

TEST_F(CaseView, EarlierCasesAreOnlyTheBuyersOlderOnes) {
  const json v = view(nullptr, now_);
  ASSERT_EQ(v["earlier_cases"].size(), 1u) << v["earlier_cases"];
  EXPECT_EQ(v["earlier_cases"][0]["id"], "c00000000000000a1");
  EXPECT_EQ(v["earlier_cases"][0]["outcome"], "reissue");
  EXPECT_EQ(v["earlier_cases"][0]["status"], "resolved");
  EXPECT_EQ(v["repeat_claims"], 1);
  earlier_.clear();
  EXPECT_EQ(view(nullptr, now_)["repeat_claims"], 0);
}

TEST_F(CaseView, TheChecklistIsTheConversationsNowWhenItCanBeRead) {
  conversation_state now_state = state_;
  now_state.checklist[0].done = true;
  now_state.checklist[0].value = "ev-77";
  json v = view(&now_state, now_);
  EXPECT_EQ(v["checklist"][0]["done"], true);
  EXPECT_EQ(v["checklist"][0]["value"], "ev-77");
  EXPECT_EQ(ids_of(v["missing"]), "waybill_photo");

  v = view(nullptr, now_);
  EXPECT_EQ(v["checklist"][0]["done"], false) << "as at the handoff";
  EXPECT_EQ(ids_of(v["missing"]), "received_photo,waybill_photo");
}

TEST_F(CaseView, MissingItemsLookTheSameWithOrWithoutAState) {
  const json with = view(&state_, now_);
  const json without = view(nullptr, now_);
  EXPECT_EQ(with["missing"], without["missing"]);
}

TEST_F(CaseView, DeadlinesSayWhichHavePassed) {
  const json v = view(nullptr, k_now + 30 * k_hour);
  ASSERT_EQ(v["deadlines"].size(), 2u);
  EXPECT_EQ(v["deadlines"][0]["id"], "merchant_response");
  EXPECT_EQ(v["deadlines"][0]["passed"], false);
  EXPECT_EQ(v["deadlines"][1]["id"], "reissue_missing_item");
  EXPECT_EQ(v["deadlines"][1]["passed"], true);
  EXPECT_EQ(v["deadlines"][1]["due_at"], know_->policy->format_time(k_now + 24 * k_hour));
  EXPECT_EQ(v["priority"], "urgent");
}

TEST_F(CaseView, TheViewCarriesTheSummaryAndWhatTheBotKnew) {
  const json v = view(nullptr, now_);
  EXPECT_EQ(v["id"], "c00000000000000b2");
  EXPECT_EQ(v["reason"], "missing_item");
  EXPECT_EQ(v["reason_title"], "少件/漏发");
  EXPECT_EQ(v["trigger"], "wants_human");
  EXPECT_EQ(v["runner_up"], "wrong_item");
  EXPECT_EQ(v["fired"].size(),
            know_->intents->classify("盒子里的充电头没给我装", true).explanation.size());
  EXPECT_EQ(v["buyer_words"], "盒子里的充电头没给我装");
  EXPECT_EQ(v["entities"]["order_no"], "2023111500042");
  EXPECT_EQ(v["knowledge_version"], know_->version);
  EXPECT_EQ(v["resolutions"][0], "reissue");
  EXPECT_EQ(v["status"], "open");
  EXPECT_EQ(v["order"], "2023111500042");
}

TEST_F(CaseFile, TheSummaryShowsTheOutcomeOnlyOnceResolved) {
  missing_item_handed_off();
  auto c = open();
  json s = case_summary(c, *know_, now_ + 10 * k_minute, desk_);
  EXPECT_TRUE(s["outcome"].is_null());
  EXPECT_EQ(s["waiting_ms"], 10 * k_minute);
  EXPECT_EQ(s["due_at_ms"], k_now + 24 * k_hour);
  EXPECT_EQ(s["due_at"], know_->policy->format_time(k_now + 24 * k_hour));
  EXPECT_EQ(s["flags"], json::array({"wants_human"}));
  EXPECT_EQ(s["version"], 0);

  c.status = "resolved";
  c.agent = "小王";
  c.outcome = to_json({"reissue", 0, "", "补发充电头"}, "小王", now_).dump();
  s = case_summary(c, *know_, now_ + k_hour, desk_);
  EXPECT_EQ(s["outcome"]["kind"], "reissue");
  EXPECT_EQ(s["waiting_ms"], 0);
  EXPECT_EQ(s["agent"], "小王");
}

TEST_F(CaseFile, AWebhookEventIsTheCaseSummaryWithAStableId) {
  missing_item_handed_off();
  auto c = open("c00000000000000d4");
  c.version = 3;
  const auto e = webhook_event("case.claimed", c, *know_, now_, desk_);
  EXPECT_EQ(e.case_id, "c00000000000000d4");
  EXPECT_EQ(e.type, "case.claimed");
  EXPECT_EQ(e.created_at_ms, now_);
  const json body = json::parse(e.body);
  EXPECT_EQ(body["id"], "c00000000000000d4:3");
  EXPECT_EQ(body["type"], "case.claimed");
  EXPECT_EQ(body["at_ms"], now_);
  EXPECT_EQ(body["case"], case_summary(c, *know_, now_, desk_));
  EXPECT_EQ(json::parse(webhook_event("case.claimed", c, *know_, now_ + 1, desk_).body)["id"],
            body["id"]);
}

// ---- deadlines_to_warn

class DeadlineWarnings : public CaseFile {
 protected:
  void SetUp() override {
    missing_item_handed_off();
    record_ = open();
  }
  // Warns as the desk would: remembers when the next warning is due.
  std::vector<std::string> warn_at(std::int64_t now) {
    std::int64_t next = -1;
    const json due = deadlines_to_warn(record_, now, desk_, next);
    next_ = next;
    record_.warn_at_ms = next;
    std::vector<std::string> out;
    for (const auto& d : due) {
      out.push_back(d["id"].get<std::string>() + (d["passed"].get<bool>() ? " passed" : ""));
    }
    return out;
  }
  store::case_record record_;
  std::int64_t next_ = -1;
};

TEST_F(DeadlineWarnings, EachDeadlineIsWarnedOnceWhenItsWarningTimeComes) {
  ASSERT_EQ(record_.warn_at_ms, k_now + 22 * k_hour);
  EXPECT_TRUE(warn_at(k_now + 21 * k_hour).empty());
  EXPECT_EQ(next_, k_now + 22 * k_hour);

  EXPECT_EQ(warn_at(k_now + 22 * k_hour), std::vector<std::string>{"reissue_missing_item"});
  EXPECT_EQ(next_, k_now + 46 * k_hour);
  EXPECT_TRUE(warn_at(k_now + 23 * k_hour).empty()) << "warned already";
  EXPECT_TRUE(warn_at(k_now + 45 * k_hour).empty());

  EXPECT_EQ(warn_at(k_now + 47 * k_hour), std::vector<std::string>{"merchant_response"});
  EXPECT_EQ(next_, 0) << "none left";
  EXPECT_TRUE(warn_at(k_now + 60 * k_hour).empty());
}

TEST_F(DeadlineWarnings, ALateScanWarnsOfEveryDeadlineThatCameAndSaysWhichPassed) {
  EXPECT_EQ(warn_at(k_now + 30 * k_hour), std::vector<std::string>{"reissue_missing_item passed"});
  EXPECT_EQ(next_, k_now + 46 * k_hour);
  record_.warn_at_ms = k_now + 22 * k_hour;
  EXPECT_EQ(warn_at(k_now + 50 * k_hour),
            (std::vector<std::string>{"merchant_response passed", "reissue_missing_item passed"}));
  EXPECT_EQ(next_, 0);
}

TEST_F(DeadlineWarnings, ACaseWithNoWarningDueWarnsOfNothing) {
  record_.warn_at_ms = 0;  // resolved, or every deadline warned already
  EXPECT_TRUE(warn_at(k_now + 50 * k_hour).empty());
  EXPECT_EQ(next_, 0);
}

TEST_F(DeadlineWarnings, ACaseWithoutDeadlinesHasNoneToWarn) {
  record_.details = "{}";
  EXPECT_TRUE(warn_at(k_now + 50 * k_hour).empty());
  EXPECT_EQ(next_, 0);
}

// ---- outcomes

TEST(ParseYuan, TakesWholeYuanAndUpToTwoDecimals) {
  EXPECT_EQ(parse_yuan("12"), 1200);
  EXPECT_EQ(parse_yuan("12.5"), 1250);
  EXPECT_EQ(parse_yuan("12.50"), 1250);
  EXPECT_EQ(parse_yuan("12.05"), 1205);
  EXPECT_EQ(parse_yuan("0.01"), 1);
  EXPECT_EQ(parse_yuan("0"), 0);
  EXPECT_EQ(parse_yuan("007"), 700);
  EXPECT_EQ(parse_yuan("100000000"), 10'000'000'000) << "a hundred million yuan is the most";
}

TEST(ParseYuan, RefusesAnythingElse) {
  for (const char* bad : {"", ".", ".5", "12.", "12.345", "-1", "+1", "1e3", "1,5", " 12", "12 ",
                          "12.5.0", "abc", "一百", "100000000.01", "999999999", "1234567890"}) {
    EXPECT_FALSE(parse_yuan(bad)) << bad;
  }
}

TEST(CheckOutcome, EveryResolutionOfThePolicyIsAnOutcome) {
  for (auto kind : replies::k_resolutions) {
    case_outcome o{std::string(kind), 0, "", ""};
    if (kind == "partial_refund") o.amount_fen = 500;
    if (kind == "rejected") o.reason = "商品已使用，不符合退货条件";
    EXPECT_EQ(check_outcome(o), "") << kind;
  }
  EXPECT_EQ(check_outcome({"compensation", 1000, "", ""}), "");
  EXPECT_EQ(check_outcome({"compensation", 0, "", ""}), "") << "a coupon has no amount";
}

TEST(CheckOutcome, APartialRefundNeedsAnAmount) {
  EXPECT_NE(check_outcome({"partial_refund", 0, "", ""}).find("amount"), std::string::npos);
}

TEST(CheckOutcome, ARejectionNeedsAReason) {
  EXPECT_NE(check_outcome({"rejected", 0, "", "备注不算理由"}).find("reason"), std::string::npos);
}

TEST(CheckOutcome, ANegativeAmountIsRefused) {
  EXPECT_NE(check_outcome({"compensation", -100, "", ""}), "");
}

TEST(CheckOutcome, AnUnknownKindNamesTheKnownOnes) {
  const std::string why = check_outcome({"refund_twice", 0, "", ""});
  EXPECT_NE(why.find("refund_twice"), std::string::npos) << why;
  for (auto kind : replies::k_resolutions)
    EXPECT_NE(why.find(std::string(kind)), std::string::npos) << kind << " in " << why;
  EXPECT_NE(check_outcome({"", 0, "", ""}), "");
}

TEST(OutcomeJson, AmountsAreYuanWithTwoDecimals) {
  json j = to_json({"partial_refund", 1250, "", "屏幕划痕"}, "小王", k_now);
  EXPECT_EQ(j["kind"], "partial_refund");
  EXPECT_EQ(j["amount_fen"], 1250);
  EXPECT_EQ(j["amount"], "12.50");
  EXPECT_EQ(j["currency"], "CNY");
  EXPECT_EQ(j["agent"], "小王");
  EXPECT_EQ(j["at_ms"], k_now);
  EXPECT_EQ(j["note"], "屏幕划痕");
  EXPECT_FALSE(j.contains("reason"));
  EXPECT_EQ(to_json({"partial_refund", 5, "", ""}, "a", 0)["amount"], "0.05");
  EXPECT_EQ(to_json({"partial_refund", 1200, "", ""}, "a", 0)["amount"], "12.00");
  EXPECT_EQ(to_json({"compensation", 10'000'000'000, "", ""}, "a", 0)["amount"], "100000000.00");
}

TEST(OutcomeJson, NoAmountNoCurrencyAndARejectionKeepsItsReason) {
  json j = to_json({"rejected", 0, "已超过售后期", ""}, "小李", k_now);
  EXPECT_FALSE(j.contains("amount"));
  EXPECT_FALSE(j.contains("currency"));
  EXPECT_EQ(j["reason"], "已超过售后期");
}

}  // namespace
}  // namespace shouhou::bot
