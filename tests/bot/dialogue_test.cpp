// The dialogue policy, transition by transition. Classifications are written by hand so these
// tests pin the policy, not the intent files; the reply and policy files are the shipped ones.

#include "bot/dialogue.hpp"

#include <gtest/gtest.h>

#include "bot/fake_store.hpp"

namespace shouhou::bot {
namespace {

constexpr std::int64_t k_now = 1'700'000'000'000;

using testing::said;

intents::classification unsure(std::vector<std::string> candidates) {
  intents::classification c;
  c.reason = candidates.front();
  c.confidence = 0.3;
  c.unsure = true;
  for (auto& r : candidates) c.candidates.push_back({r, 0.3});
  return c;
}

std::vector<std::string> ids(const std::vector<replies::evidence_item>& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(i.id);
  return out;
}

class Dialogue : public ::testing::Test {
 protected:
  step buyer(const intents::classification& c, std::string text = "…", std::string order = "") {
    step s = on_buyer_message(state_, *know_, who_, c, text, order, settings_, now_);
    state_ = s.next;
    return s;
  }
  step silence() {
    step s = on_silence(state_, *know_, who_, settings_, now_);
    state_ = s.next;
    return s;
  }

  std::shared_ptr<const knowledge> know_ = testing::shipped_knowledge();
  party who_{"shop-1", "buyer-1"};
  dialogue_settings settings_{std::chrono::minutes(10), 2};
  conversation_state state_;
  std::int64_t now_ = k_now;
};

TEST_F(Dialogue, AFirstSpecificReasonApologisesAndAsksForItsWholeChecklist) {
  auto s = buyer(said("not_received"));
  EXPECT_EQ(state_.phase, phase::collecting);
  EXPECT_EQ(state_.reason, "not_received");
  EXPECT_EQ(state_.reason_since_ms, k_now);
  ASSERT_EQ(s.messages.size(), 1u);
  EXPECT_EQ(s.messages[0].kind, "answer");
  EXPECT_EQ(ids(s.messages[0].requests),
            (std::vector<std::string>{"order_no", "waybill_no", "sign_place"}));
  EXPECT_EQ(s.remind_at_ms, k_now + 600'000);
  EXPECT_TRUE(s.handoff_trigger.empty());
}

TEST_F(Dialogue, WhatTheFirstMessageAlreadyGaveIsNotAskedFor) {
  auto s = buyer(said("not_received", 0.9, {}, {{"waybill_no", "SF1234567890123"}}), "…",
                 "2023112200001");
  EXPECT_EQ(ids(s.messages[0].requests), (std::vector<std::string>{"sign_place"}));
  EXPECT_EQ(state_.entities["order_no"], "2023112200001");
}

TEST_F(Dialogue, NumbersFillTheirItemsAndTheFollowUpListsOnlyWhatIsMissing) {
  buyer(said("not_received"));
  auto s = buyer(said("other", 0.2, {}, {{"order_no", "1234567890123"}}));
  ASSERT_EQ(s.messages.size(), 1u);
  EXPECT_EQ(s.messages[0].kind, "follow_up");
  EXPECT_EQ(ids(s.messages[0].requests), (std::vector<std::string>{"waybill_no", "sign_place"}));
  EXPECT_EQ(state_.reason, "not_received") << "a message about numbers keeps the reason";
  EXPECT_NE(s.messages[0].text.find("快递单号"), std::string::npos) << s.messages[0].text;
}

TEST_F(Dialogue, ACompleteChecklistHandsOff) {
  buyer(said("not_received"));
  buyer(said("other", 0.2, {}, {{"order_no", "1234567890123"}, {"waybill_no", "SF123456789"}}));
  auto s = buyer(said("other", 0.2), "快递柜，但是柜子里没有");
  EXPECT_EQ(s.handoff_trigger, "checklist_complete");
  EXPECT_EQ(state_.phase, phase::handed_off);
  EXPECT_TRUE(state_.missing().empty());
  EXPECT_EQ(state_.checklist[2].value, "快递柜，但是柜子里没有");
  ASSERT_EQ(s.messages.size(), 1u);
  EXPECT_EQ(s.messages[0].kind, "handoff");
  EXPECT_EQ(s.remind_at_ms, 0);
}

TEST_F(Dialogue, AReasonWhoseOnlyItemIsGivenUpFrontHandsOffAtOnce) {
  auto s = buyer(said("late_shipment"), "…", "2023112200001");
  EXPECT_EQ(s.handoff_trigger, "checklist_complete");
}

TEST_F(Dialogue, ABareRefundRequestOffersReasonsAndALaterReasonRefinesIt) {
  auto s = buyer(said("refund_request"));
  EXPECT_EQ(state_.phase, phase::fresh);
  EXPECT_FALSE(s.messages[0].quick_replies.empty());
  EXPECT_TRUE(s.messages[0].requests.empty());
  s = buyer(said("damaged"));
  EXPECT_EQ(state_.reason, "damaged");
  EXPECT_EQ(state_.phase, phase::collecting);
  EXPECT_EQ(s.messages[0].kind, "answer");
  EXPECT_FALSE(s.messages[0].requests.empty());
}

TEST_F(Dialogue, TappingAReasonButtonSetsThatReasonForSure) {
  buyer(said("refund_request"));
  const std::string button = know_->replies->quick_replies("refund_request", {})[4].label;
  ASSERT_EQ(know_->replies->quick_replies("refund_request", {})[4].reason, "damaged");
  buyer(said("other", 0.1), button);
  EXPECT_EQ(state_.reason, "damaged");
  EXPECT_EQ(state_.confidence, 1.0);
}

TEST_F(Dialogue, AConfidentNewReasonReplacesTheOldOneAndKeepsWhatWasGiven) {
  buyer(said("quality_issue"), "…", "2023112200001");
  auto s = buyer(said("damaged"));
  EXPECT_EQ(state_.reason, "damaged");
  for (const auto& item : state_.checklist) {
    if (item.type == "order_no") {
      EXPECT_TRUE(item.done);
    }
  }
  EXPECT_EQ(s.messages[0].kind, "answer");
}

TEST_F(Dialogue, OtherNeverReplacesASpecificReason) {
  buyer(said("damaged"));
  buyer(said("other", 0.95), "好的");
  EXPECT_EQ(state_.reason, "damaged");
}

TEST_F(Dialogue, UnsureAsksToChooseAndASecondUnsureTurnHandsOff) {
  auto s = buyer(unsure({"quality_issue", "not_as_described", "other"}));
  EXPECT_EQ(state_.phase, phase::unsure);
  ASSERT_EQ(s.messages.size(), 1u);
  EXPECT_EQ(s.messages[0].kind, "choose");
  ASSERT_EQ(state_.offered.size(), 3u);  // the two candidates, and "other"
  EXPECT_EQ(state_.offered[0].reason, "quality_issue");
  EXPECT_EQ(s.messages[0].quick_replies[0], know_->replies->title("quality_issue"));

  s = buyer(unsure({"wrong_item", "missing_item"}));
  EXPECT_EQ(s.handoff_trigger, "unsure_twice");
  EXPECT_EQ(state_.phase, phase::handed_off);
}

TEST_F(Dialogue, AChoiceAfterUnsureIsTaken) {
  buyer(unsure({"quality_issue", "not_as_described"}));
  buyer(said("other", 0.1), know_->replies->title("not_as_described"));
  EXPECT_EQ(state_.reason, "not_as_described");
  EXPECT_EQ(state_.unsure_streak, 0);
}

TEST_F(Dialogue, WantsHumanAndEscalationHandOffAtOnceWithTheirTexts) {
  auto s = buyer(said("damaged", 0.9, {"wants_human"}));
  EXPECT_EQ(s.handoff_trigger, "wants_human");
  EXPECT_EQ(state_.reason, "damaged") << "the flag never hides the reason";
  EXPECT_EQ(s.messages[0].kind, "handoff");

  state_ = {};
  s = buyer(said("other", 0.5, {"escalation"}));
  EXPECT_EQ(s.handoff_trigger, "escalation");
  const std::string escalation_text =
      know_->replies->text("other", replies::text_kind::handoff, {"escalation"}, {});
  EXPECT_NE(s.messages[0].text.find(escalation_text), std::string::npos);
}

TEST_F(Dialogue, AnAngryBuyerGetsTheFullerApology) {
  auto calm = on_buyer_message({}, *know_, who_, said("damaged"), "…", "", settings_, now_);
  auto angry =
      on_buyer_message({}, *know_, who_, said("damaged", 0.9, {"angry"}), "…", "", settings_, now_);
  const std::string fuller = know_->replies->apology("damaged", 1, {"angry"}, {});
  EXPECT_EQ(angry.messages[0].text.rfind(fuller, 0), 0u) << angry.messages[0].text;
  EXPECT_NE(calm.messages[0].text.rfind(fuller, 0), 0u);
}

TEST_F(Dialogue, OnceHandedOffTheBotIsSilentButKeepsNumbers) {
  buyer(said("damaged", 0.9, {"wants_human"}));
  auto s = buyer(said("other", 0.2, {}, {{"waybill_no", "YT1234567890"}}));
  EXPECT_TRUE(s.messages.empty());
  EXPECT_EQ(state_.entities["waybill_no"], "YT1234567890");
  EXPECT_EQ(s.remind_at_ms, 0);
}

TEST_F(Dialogue, SilenceRemindsThenHandsOffAfterTheLastReminder) {
  buyer(said("not_received"));
  auto s = silence();
  ASSERT_EQ(s.messages.size(), 1u);
  EXPECT_EQ(s.messages[0].kind, "reminder");
  EXPECT_EQ(s.messages[0].requests.size(), 3u);
  EXPECT_EQ(s.remind_at_ms, k_now + 600'000);
  EXPECT_EQ(silence().messages[0].kind, "reminder");
  s = silence();
  EXPECT_EQ(s.handoff_trigger, "no_reply");
  EXPECT_EQ(s.remind_at_ms, 0);
}

TEST_F(Dialogue, ABuyerMessageResetsTheReminderCount) {
  buyer(said("not_received"));
  silence();
  silence();
  buyer(said("other", 0.2, {}, {{"order_no", "1234567890123"}}));
  EXPECT_EQ(state_.reminders_sent, 0);
  EXPECT_EQ(silence().messages[0].kind, "reminder");
}

TEST_F(Dialogue, SilenceWithNothingAskedSaysNothing) {
  buyer(said("other"));
  auto s = silence();
  EXPECT_TRUE(s.messages.empty());
  EXPECT_EQ(s.remind_at_ms, 0);
}

TEST_F(Dialogue, TheDeadlineComesFromThePolicyFile) {
  auto s = buyer(said("refund_progress"));
  // refund_arrival is 7 working days. Now is Wed 2023-11-15 06:13 in +08:00; counting Thu, Fri,
  // then Mon to Fri of the next week skips the weekend and ends on Fri 24th.
  EXPECT_NE(s.messages[0].text.find("11月24日 06:13"), std::string::npos) << s.messages[0].text;
}

TEST_F(Dialogue, EvidenceMarksItsItemConfirmsAndListsWhatIsStillMissing) {
  buyer(said("damaged"));
  state_.reminders_sent = 1;
  auto s = on_evidence(state_, *know_, who_, "damage_photo", "ev-1", settings_, now_);
  state_ = s.next;
  ASSERT_EQ(s.messages.size(), 1u);
  EXPECT_EQ(s.messages[0].kind, "follow_up");
  EXPECT_EQ(ids(s.messages[0].requests),
            (std::vector<std::string>{"box_photo", "waybill_no", "refused"}));
  EXPECT_EQ(state_.checklist[0].id, "damage_photo");
  EXPECT_TRUE(state_.checklist[0].done);
  EXPECT_EQ(state_.checklist[0].value, "ev-1");
  EXPECT_EQ(state_.reminders_sent, 0);
  EXPECT_EQ(s.remind_at_ms, k_now + 600'000);
  EXPECT_TRUE(s.handoff_trigger.empty());
}

TEST_F(Dialogue, EvidenceThatCompletesTheChecklistHandsOff) {
  buyer(said("damaged"));
  for (auto& item : state_.checklist) {
    if (item.id != "box_photo") {
      item.done = true;
      item.value = "given";
    }
  }
  auto s = on_evidence(state_, *know_, who_, "box_photo", "ev-2", settings_, now_);
  EXPECT_EQ(s.handoff_trigger, "checklist_complete");
  EXPECT_EQ(s.next.phase, phase::handed_off);
  ASSERT_EQ(s.messages.size(), 1u);
  EXPECT_EQ(s.messages[0].kind, "handoff");
}

TEST_F(Dialogue, EvidenceForAnItemTheChecklistNoLongerHasChangesNothing) {
  buyer(said("not_received"));
  auto s = on_evidence(state_, *know_, who_, "damage_photo", "ev-3", settings_, now_);
  EXPECT_TRUE(s.messages.empty());
  EXPECT_EQ(to_json(s.next), to_json(state_));
}

TEST_F(Dialogue, EvidenceAfterHandoffIsMarkedSilently) {
  buyer(said("damaged"));
  buyer(said("other", 0.9, {"wants_human"}));
  ASSERT_EQ(state_.phase, phase::handed_off);
  auto s = on_evidence(state_, *know_, who_, "box_photo", "ev-4", settings_, now_);
  EXPECT_TRUE(s.messages.empty());
  EXPECT_EQ(s.next.checklist[1].value, "ev-4");
  EXPECT_EQ(s.remind_at_ms, 0);
}

TEST(ConversationState, RoundTripsThroughJson) {
  conversation_state s;
  s.phase = phase::collecting;
  s.reason = "damaged";
  s.checklist.push_back({"box_photo", "photo", "外箱", "why", true, "e1"});
  s.entities["order_no"] = "123";
  s.offered.push_back({"按钮", "damaged"});
  auto back = state_from_json(to_json(s));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->phase, phase::collecting);
  EXPECT_EQ(back->checklist[0].value, "e1");
  EXPECT_EQ(back->entities["order_no"], "123");
  EXPECT_EQ(back->offered[0].reason, "damaged");
  EXPECT_TRUE(state_from_json("")) << "an empty state is a fresh conversation";
  EXPECT_FALSE(state_from_json("{\"reason\": 5}"));
  EXPECT_FALSE(state_from_json("not json"));
}

TEST(ConversationState, EveryFieldRoundTripsAndAWrongTypeAnywhereRefusesTheState) {
  conversation_state s;
  s.phase = phase::handed_off;
  s.reason = "wrong_item";
  s.confidence = 0.875;
  s.runner_up = "damaged";
  s.reason_since_ms = 1700000000123;
  s.unsure_streak = 1;
  s.offered.push_back({"换一件", "wrong_item"});
  s.checklist.push_back({"label_photo", "photo", "吊牌", "核对款式", false, ""});
  s.flags = {"angry", "wants_human"};
  s.entities = {{"order_no", "2023"}, {"waybill_no", "SF1"}};
  s.fired = {"quick reply: 发错货"};
  s.turns = 3;
  s.reminders_sent = 2;
  s.handoff_trigger = "wants_human";
  s.handed_off_at_ms = 1700000000999;
  s.reason_words = "发来的是白色的";
  s.case_id = "c1";
  const std::string text = to_json(s);
  const auto back = state_from_json(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(to_json(*back), text);
  // A number where a string belongs, in a nested object too: the row is not ours.
  for (const char* bad : {"{\"checklist\": [{\"id\": 1}]}", "{\"entities\": {\"order_no\": 7}}",
                          "{\"turns\": \"3\"}", "{\"flags\": [1]}", "{\"offered\": [3]}", "[]"}) {
    EXPECT_FALSE(state_from_json(bad)) << bad;
  }
}

TEST_F(Dialogue, WhileAPersonHasItOnlyTheMessageItselfAnswersWhatIsAsked) {
  buyer(said("not_received", 0.9, {}, {{"waybill_no", "SF1234567890123"}}), "…", "2023112200001");
  buyer(said("other", 0.9, {"wants_human"}));
  ASSERT_EQ(state_.phase, phase::handed_off);
  // An agent asks for a new waybill number and a description: the number typed before does not
  // answer them, the buyer's next words do.
  for (auto& item : state_.checklist) item.done = true;
  state_.checklist.push_back({"extra_w", "waybill_no", "新的快递单号", "", false, ""});
  state_.checklist.push_back({"extra_t", "text", "描述一下外包装", "", false, ""});
  auto s = buyer(said("other"), "外箱压扁了一个角");
  EXPECT_TRUE(s.messages.empty());
  EXPECT_FALSE(state_.checklist[state_.checklist.size() - 2].done);
  EXPECT_TRUE(state_.checklist.back().done);
  EXPECT_EQ(state_.checklist.back().value, "外箱压扁了一个角");
  buyer(said("other", 0.9, {}, {{"waybill_no", "YT9876543210987"}}), "YT9876543210987");
  EXPECT_EQ(state_.checklist[state_.checklist.size() - 2].value, "YT9876543210987");
}

}  // namespace
}  // namespace shouhou::bot
