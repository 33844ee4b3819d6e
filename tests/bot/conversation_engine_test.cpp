#include "bot/conversation_engine.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "bot/config.hpp"
#include "bot/fake_store.hpp"

namespace shouhou::bot {
namespace {

engine_settings one_reminder_after_ten_minutes() {
  engine_settings s;
  s.dialogue.reminder_after = std::chrono::minutes(10);
  s.dialogue.max_reminders = 1;
  return s;
}

class ConversationEngine : public ::testing::Test {
 protected:
  open_result open(std::string shop, std::string buyer, std::string id = "") {
    open_result out;
    engine_.open(std::move(shop), std::move(buyer), std::move(id),
                 [&](open_result r) { out = std::move(r); });
    return out;
  }

  // Sends a message on the conversation as last seen, and keeps what the turn returns.
  turn_result say(store::conversation& c, std::string id, std::string text,
                  std::string order = "") {
    turn_result out;
    engine_.receive(c, {std::move(id), std::move(text), std::move(order)},
                    [&](turn_result r) { out = std::move(r); });
    if (out.ok) c = out.conversation;
    return out;
  }

  std::vector<unprompted> remind() {
    std::vector<unprompted> out;
    engine_.send_due_reminders([&](std::vector<unprompted> sent) { out = std::move(sent); });
    return out;
  }

  testing::fake_store store_;
  testing::fixed_clock clock_;
  knowledge_base knowledge_{testing::shipped_knowledge()};
  engine_settings settings_ = one_reminder_after_ten_minutes();
  conversation_engine engine_{store_, knowledge_, clock_, settings_};
};

TEST_F(ConversationEngine, OpenWithoutIdStartsANewConversation) {
  auto r = open("shop", "buyer");
  EXPECT_EQ(r.what, open_result::outcome::opened);
  EXPECT_EQ(r.conversation.id.size(), 32u);
  EXPECT_EQ(r.conversation.created_at_ms, clock_.now);
  EXPECT_EQ(store_.conversations.count(r.conversation.id), 1u);
  EXPECT_EQ(r.version, knowledge_.current()->version);
}

TEST_F(ConversationEngine, NewConversationIdsDiffer) {
  EXPECT_NE(open("s", "b").conversation.id, open("s", "b").conversation.id);
}

TEST_F(ConversationEngine, ResumeReturnsHistoryAndStateOnlyToTheSameShopAndBuyer) {
  auto c = open("shop", "buyer").conversation;
  ASSERT_TRUE(say(c, "m1", "收到货发现屏幕碎了").ok);
  auto resumed = open("shop", "buyer", c.id);
  EXPECT_EQ(resumed.what, open_result::outcome::resumed);
  ASSERT_EQ(resumed.history.size(), 2u);
  EXPECT_EQ(resumed.history[0].text, "收到货发现屏幕碎了");
  EXPECT_EQ(resumed.conversation.phase, "collecting");
  EXPECT_EQ(resumed.conversation.state_version, c.state_version);
  EXPECT_EQ(open("shop", "someone-else", c.id).what, open_result::outcome::not_yours);
  EXPECT_TRUE(open("shop", "someone-else", c.id).history.empty());
  EXPECT_EQ(open("shop", "buyer", "nope").what, open_result::outcome::unknown_conversation);
}

TEST_F(ConversationEngine, MessageIsStoredWithItsRepliesAndTheNewState) {
  auto c = open("shop", "buyer").conversation;
  auto t = say(c, "m1", "收到的杯子碎了", "ORD-1");
  ASSERT_TRUE(t.ok) << t.error;
  EXPECT_FALSE(t.duplicate);
  EXPECT_EQ(t.classification.reason, "damaged");
  ASSERT_EQ(t.messages.size(), 1u);
  EXPECT_EQ(t.messages[0].kind, "answer");
  EXPECT_FALSE(t.messages[0].requests.empty());
  ASSERT_EQ(store_.messages.size(), 2u);
  const auto& in = store_.messages[0];
  EXPECT_EQ(in.dir, store::direction::inbound);
  EXPECT_EQ(in.client_id, "m1");
  EXPECT_EQ(in.reason, "damaged");
  EXPECT_EQ(in.order, "ORD-1");
  const auto& out = store_.messages[1];
  EXPECT_EQ(out.dir, store::direction::outbound);
  EXPECT_EQ(out.text, t.messages[0].text);
  EXPECT_NE(out.payload.find("\"kind\":\"answer\""), std::string::npos);
  const auto& stored = store_.conversations[c.id];
  EXPECT_EQ(stored.phase, "collecting");
  EXPECT_EQ(stored.state_version, 1);
  EXPECT_EQ(stored.remind_at_ms, clock_.now + 600'000);
  EXPECT_EQ(c.state_version, 1);  // the turn handed back the conversation as stored
}

TEST_F(ConversationEngine, ResentMessageIdIsReportedDuplicateAndNotStoredTwice) {
  auto c = open("shop", "buyer").conversation;
  auto stale = c;
  ASSERT_FALSE(say(c, "m1", "快递一直没到").duplicate);
  auto again = say(stale, "m1", "快递一直没到");
  EXPECT_TRUE(again.ok);
  EXPECT_TRUE(again.duplicate);
  EXPECT_TRUE(again.messages.empty());
  EXPECT_EQ(store_.messages.size(), 2u);
}

TEST_F(ConversationEngine, StoreFailureIsNotOkAndStoresNothing) {
  auto c = open("shop", "buyer").conversation;
  store_.fail_next = true;
  auto t = say(c, "m1", "你好");
  EXPECT_FALSE(t.ok);
  EXPECT_FALSE(t.error.empty());
  EXPECT_TRUE(store_.messages.empty());
}

TEST_F(ConversationEngine, AStaleStateIsReloadedAndTheMessageDecidedAgain) {
  auto c = open("shop", "buyer").conversation;
  auto seen_by_us = c;
  // Another instance answers a first message while we still hold the old version.
  ASSERT_TRUE(say(c, "m1", "我要退货").ok);
  auto t = say(seen_by_us, "m2", "收到货发现屏幕碎了");
  ASSERT_TRUE(t.ok) << t.error;
  EXPECT_EQ(seen_by_us.state_version, 2);
  EXPECT_EQ(store_.conversations[c.id].state_version, 2);
  // Decided on the fresh state: the refund request was refined to the reason.
  auto state = state_from_json(store_.conversations[c.id].state);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->reason, "damaged");
  EXPECT_EQ(state->turns, 2);
}

TEST_F(ConversationEngine, OrderNumberTypedInTheTextIsKeptWithTheMessage) {
  auto c = open("shop", "buyer").conversation;
  ASSERT_TRUE(say(c, "m1", "订单号 2023111122334455 还没发货").ok);
  EXPECT_EQ(store_.messages[0].order, "2023111122334455");
}

TEST_F(ConversationEngine, ATurnUsesTheKnowledgeLiveWhenItStarted) {
  auto c = open("shop", "buyer").conversation;
  auto next = std::make_shared<knowledge>(*knowledge_.current());
  next->version = "next";
  knowledge_.replace(next);
  EXPECT_EQ(say(c, "m1", "你好").version, "next");
}

TEST_F(ConversationEngine, SilenceGetsAReminderThenAHandoffWithAStoredRecord) {
  auto c = open("shop", "buyer").conversation;
  ASSERT_TRUE(say(c, "m1", "快递一直没到").ok);
  EXPECT_TRUE(remind().empty()) << "nothing is due before the time";

  clock_.now += 600'000;
  auto first = remind();
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(first[0].messages.size(), 1u);
  EXPECT_EQ(first[0].messages[0].kind, "reminder");
  EXPECT_EQ(first[0].conversation.state_version, 2);
  EXPECT_TRUE(store_.cases.empty());

  clock_.now += 600'000;
  auto second = remind();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].messages[0].kind, "handoff");
  EXPECT_EQ(second[0].conversation.phase, "handed_off");
  ASSERT_EQ(store_.cases.size(), 1u);
  const store::case_record& opened = store_.cases.begin()->second;
  ASSERT_TRUE(second[0].opened_case) << "the caller tells the desk about the new case";
  EXPECT_EQ(second[0].opened_case->id, opened.id);
  EXPECT_EQ(state_from_json(store_.conversations[c.id].state)->case_id, opened.id);
  EXPECT_EQ(opened.conversation, c.id);
  EXPECT_EQ(opened.status, "open");
  EXPECT_EQ(opened.reason, "not_received");
  const auto details = nlohmann::json::parse(opened.details);
  EXPECT_EQ(details.value("trigger", ""), "no_reply");
  EXPECT_TRUE(details.contains("checklist"));
  EXPECT_EQ(store_.conversations[c.id].remind_at_ms, 0);

  clock_.now += 600'000;
  EXPECT_TRUE(remind().empty()) << "no reminders after the handoff";
  EXPECT_EQ(store_.outbound_of(c.id).size(), 3u);  // answer, reminder, handoff
}

TEST_F(ConversationEngine, ABuyerWhoAnswersIsNotReminded) {
  auto c = open("shop", "buyer").conversation;
  ASSERT_TRUE(say(c, "m1", "快递一直没到").ok);
  clock_.now += 300'000;
  ASSERT_TRUE(say(c, "m2", "订单号 1234567890123").ok);
  clock_.now += 400'000;  // 10 minutes after the first message, 7 after the last
  EXPECT_TRUE(remind().empty());
}

TEST(ParseListen, AcceptsHostPortAndBracketedV6) {
  auto a = parse_listen("127.0.0.1:8080");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8080);
  auto b = parse_listen("[::1]:0");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 0);
}

TEST(ParseListen, RefusesMalformed) {
  for (const char* bad : {"", "8080", ":80", "host:", "host:http", "host:70000", "[::1:80"}) {
    EXPECT_FALSE(parse_listen(bad)) << bad;
  }
}

store::evidence_record upload_row(const std::string& conversation, const std::string& id,
                                  const std::string& item = "damage_photo") {
  store::evidence_record e;
  e.id = id;
  e.conversation = conversation;
  e.item = item;
  e.mime = "image/jpeg";
  e.kind = "image";
  e.size = 10;
  e.sha256 = std::string(64, 'b');
  return e;
}

TEST_F(ConversationEngine, AnUploadIsStoredWithItsMarkAndConfirmed) {
  auto c = open("shop", "buyer").conversation;
  ASSERT_TRUE(say(c, "m1", "收到货发现屏幕碎了").ok);
  evidence_result r;
  engine_.add_evidence(c.id, {upload_row(c.id, "e1")}, 20, [&](evidence_result x) { r = x; });
  ASSERT_EQ(r.what, evidence_result::outcome::stored) << r.error;
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].kind, "follow_up");
  for (const auto& req : r.messages[0].requests) EXPECT_NE(req.id, "damage_photo");
  ASSERT_EQ(store_.evidence.size(), 1u);
  auto state = state_from_json(store_.conversations[c.id].state);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->checklist[0].value, "e1");
  EXPECT_EQ(r.conversation.state_version, store_.conversations[c.id].state_version);
}

TEST_F(ConversationEngine, AnUploadPastTheMaximumIsRefusedAndMarksNothing) {
  auto c = open("shop", "buyer").conversation;
  ASSERT_TRUE(say(c, "m1", "收到货发现屏幕碎了").ok);
  evidence_result r;
  engine_.add_evidence(c.id, {upload_row(c.id, "e1"), upload_row(c.id, "e2")}, 1,
                       [&](evidence_result x) { r = x; });
  EXPECT_EQ(r.what, evidence_result::outcome::over_limit);
  EXPECT_TRUE(store_.evidence.empty());
  EXPECT_FALSE(state_from_json(store_.conversations[c.id].state)->checklist[0].done);
}

TEST_F(ConversationEngine, CitingEvidenceIsIdempotentAndOnlyForItsOwnConversation) {
  auto c = open("shop", "buyer").conversation;
  auto other = open("shop", "buyer-2").conversation;
  ASSERT_TRUE(say(c, "m1", "收到货发现屏幕碎了").ok);
  ASSERT_TRUE(say(other, "m1", "收到货发现屏幕碎了").ok);
  // Stored for the other item without a mark yet (as if the upload's mark was lost).
  store_.evidence.push_back(upload_row(c.id, "e7", "box_photo"));
  store_.evidence.push_back(upload_row(other.id, "e8"));
  evidence_result r;
  engine_.cite_evidence(c, "m2", "e8", [&](evidence_result x) { r = x; });
  EXPECT_EQ(r.what, evidence_result::outcome::unknown_evidence);
  engine_.cite_evidence(c, "m2", "e7", [&](evidence_result x) { r = x; });
  ASSERT_EQ(r.what, evidence_result::outcome::stored) << r.error;
  EXPECT_EQ(r.messages.size(), 1u);
  c = r.conversation;
  engine_.cite_evidence(c, "m2", "e7", [&](evidence_result x) { r = x; });
  EXPECT_EQ(r.what, evidence_result::outcome::duplicate);
  EXPECT_TRUE(r.messages.empty());
  EXPECT_EQ(state_from_json(store_.conversations[c.id].state)->checklist[1].value, "e7");
}

TEST_F(ConversationEngine, AnUploadForAnItemTheChecklistLacksIsKeptWithoutAMessage) {
  auto c = open("shop", "buyer").conversation;
  ASSERT_TRUE(say(c, "m1", "快递一直没到").ok);
  const auto version = store_.conversations[c.id].state_version;
  evidence_result r;
  engine_.add_evidence(c.id, {upload_row(c.id, "e1")}, 20, [&](evidence_result x) { r = x; });
  EXPECT_EQ(r.what, evidence_result::outcome::stored) << r.error;
  EXPECT_TRUE(r.messages.empty());
  EXPECT_EQ(store_.evidence.size(), 1u);
  EXPECT_EQ(store_.conversations[c.id].state_version, version);
}

}  // namespace
}  // namespace shouhou::bot
