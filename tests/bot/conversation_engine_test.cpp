#include "bot/conversation_engine.hpp"
#include "bot/config.hpp"

#include <gtest/gtest.h>

#include "bot/fake_store.hpp"

namespace shouhou::bot {
namespace {

class ConversationEngine : public ::testing::Test {
 protected:
  static std::shared_ptr<const knowledge> shipped() {
    auto loaded = load_knowledge(SHOUHOU_SHIPPED_INTENTS, SHOUHOU_SHIPPED_REPLIES, {});
    EXPECT_TRUE(loaded.errors.empty()) << intents::to_string(loaded.errors);
    return loaded.snapshot;
  }

  open_result open(std::string shop, std::string buyer, std::string id = "") {
    open_result out;
    engine_.open(std::move(shop), std::move(buyer), std::move(id),
                 [&](open_result r) { out = std::move(r); });
    return out;
  }

  turn_result say(const store::conversation& c, std::string id, std::string text,
                  std::string order = "") {
    turn_result out;
    engine_.receive(c, {std::move(id), std::move(text), std::move(order)},
                    [&](turn_result r) { out = std::move(r); });
    return out;
  }

  testing::fake_store store_;
  testing::fixed_clock clock_;
  knowledge_base knowledge_{shipped()};
  conversation_engine engine_{store_, knowledge_, clock_, 50};
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

TEST_F(ConversationEngine, ResumeReturnsHistoryOnlyToTheSameShopAndBuyer) {
  auto c = open("shop", "buyer").conversation;
  ASSERT_TRUE(say(c, "m1", "屏幕碎了").ok);
  auto resumed = open("shop", "buyer", c.id);
  EXPECT_EQ(resumed.what, open_result::outcome::resumed);
  ASSERT_EQ(resumed.history.size(), 2u);
  EXPECT_EQ(resumed.history[0].text, "屏幕碎了");
  EXPECT_EQ(open("shop", "someone-else", c.id).what, open_result::outcome::not_yours);
  EXPECT_TRUE(open("shop", "someone-else", c.id).history.empty());
  EXPECT_EQ(open("shop", "buyer", "nope").what, open_result::outcome::unknown_conversation);
}

TEST_F(ConversationEngine, MessageIsClassifiedAnsweredAndStoredWithItsReply) {
  auto c = open("shop", "buyer").conversation;
  auto t = say(c, "m1", "收到的杯子碎了", "ORD-1");
  ASSERT_TRUE(t.ok) << t.error;
  EXPECT_FALSE(t.duplicate);
  EXPECT_EQ(t.classification.reason, "damaged");
  EXPECT_FALSE(t.reply.text.empty());
  EXPECT_FALSE(t.reply.requests.empty());
  ASSERT_EQ(store_.messages.size(), 2u);
  const auto& in = store_.messages[0];
  EXPECT_EQ(in.dir, store::direction::inbound);
  EXPECT_EQ(in.client_id, "m1");
  EXPECT_EQ(in.reason, "damaged");
  EXPECT_EQ(in.order, "ORD-1");
  EXPECT_EQ(in.at_ms, clock_.now);
  const auto& out = store_.messages[1];
  EXPECT_EQ(out.dir, store::direction::outbound);
  EXPECT_EQ(out.text, t.reply.text);
  EXPECT_NE(out.payload.find("\"requests\""), std::string::npos);
}

TEST_F(ConversationEngine, ResentMessageIdIsReportedDuplicateAndNotStoredTwice) {
  auto c = open("shop", "buyer").conversation;
  ASSERT_FALSE(say(c, "m1", "快递一直没到").duplicate);
  auto again = say(c, "m1", "快递一直没到");
  EXPECT_TRUE(again.ok);
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(store_.messages.size(), 2u);
}

TEST_F(ConversationEngine, StoreFailureIsNotOk) {
  auto c = open("shop", "buyer").conversation;
  store_.fail_next = true;
  auto t = say(c, "m1", "你好");
  EXPECT_FALSE(t.ok);
  EXPECT_FALSE(t.error.empty());
  EXPECT_TRUE(store_.messages.empty());
}

TEST_F(ConversationEngine, OrderNumberTypedInTheTextIsKeptWithTheMessage) {
  auto c = open("shop", "buyer").conversation;
  ASSERT_TRUE(say(c, "m1", "订单号 2023111122334455 还没发货").ok);
  EXPECT_EQ(store_.messages[0].order, "2023111122334455");
}

TEST_F(ConversationEngine, ATurnUsesTheKnowledgeLiveWhenItStarted) {
  auto c = open("shop", "buyer").conversation;
  auto before = knowledge_.current()->version;
  auto next = std::make_shared<knowledge>(*knowledge_.current());
  next->version = "next";
  knowledge_.replace(next);
  EXPECT_EQ(say(c, "m1", "你好").version, "next");
  EXPECT_NE(before, "next");
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

}  // namespace
}  // namespace shouhou::bot
