// Agents of the desk, known by the hash of their token; and their messages to buyers, stored
// outbound and de-duplicated on their id like a buyer's.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace shouhou::store::testing {
namespace {

using ::testing::HasSubstr;

// A well-formed hash made of one repeated hex digit.
std::string hash_of(char digit) { return std::string(64, digit); }

agent_record agent(const std::string& name, char digit, std::int64_t at = 100) {
  return {name, hash_of(digit), at};
}

std::vector<std::string> names(const std::vector<agent_record>& agents) {
  std::vector<std::string> out;
  for (const auto& a : agents) out.push_back(a.name);
  return out;
}

class SqliteAgents : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(s_, nullptr); }
  temp_dir dir_;
  std::unique_ptr<sqlite_store> s_ = open_store(dir_.db());
};

TEST_F(SqliteAgents, AnAgentIsFoundByTheHashOfTheirTokenAndListedByName) {
  ASSERT_TRUE(put_agent(*s_, agent("zoe", 'a')).ok);
  ASSERT_TRUE(put_agent(*s_, agent("alice", 'b', 200)).ok);

  const auto found = find_agent(*s_, hash_of('b'));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->name, "alice");
  EXPECT_EQ(found->token_sha256, hash_of('b'));
  EXPECT_EQ(found->created_at_ms, 200);
  EXPECT_FALSE(find_agent(*s_, hash_of('c')).has_value());
  EXPECT_EQ(names(list_agents(*s_)), (std::vector<std::string>{"alice", "zoe"}));
}

TEST_F(SqliteAgents, PuttingAnAgentAgainReplacesTheirToken) {
  ASSERT_TRUE(put_agent(*s_, agent("alice", 'a', 100)).ok);
  ASSERT_TRUE(put_agent(*s_, agent("alice", 'b', 900)).ok);
  EXPECT_FALSE(find_agent(*s_, hash_of('a')).has_value()) << "the old token stops working";
  const auto found = find_agent(*s_, hash_of('b'));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->name, "alice");
  EXPECT_EQ(found->created_at_ms, 100) << "still the same agent";
  EXPECT_EQ(list_agents(*s_).size(), 1u);
  EXPECT_TRUE(put_agent(*s_, agent("alice", 'b')).ok) << "the same token again changes nothing";
}

TEST_F(SqliteAgents, ATokenHashAnotherAgentHoldsIsRefused) {
  ASSERT_TRUE(put_agent(*s_, agent("alice", 'a')).ok);
  ASSERT_TRUE(put_agent(*s_, agent("bob", 'b')).ok);
  const status taken = put_agent(*s_, agent("bob", 'a'));
  EXPECT_FALSE(taken.ok);
  EXPECT_THAT(taken.error, HasSubstr("agent 'bob'"));
  EXPECT_THAT(taken.error, HasSubstr("'alice'"));
  EXPECT_EQ(find_agent(*s_, hash_of('a'))->name, "alice");
  EXPECT_EQ(find_agent(*s_, hash_of('b'))->name, "bob") << "bob keeps his token";

  EXPECT_FALSE(put_agent(*s_, agent("carol", 'a')).ok) << "nor may a new agent take it";
  EXPECT_EQ(list_agents(*s_).size(), 2u);
}

TEST_F(SqliteAgents, AMalformedRecordIsRefused) {
  EXPECT_FALSE(put_agent(*s_, agent("", 'a')).ok);
  EXPECT_FALSE(put_agent(*s_, {"alice", "not-a-hash", 1}).ok);
  EXPECT_FALSE(put_agent(*s_, {"alice", std::string(64, 'A'), 1}).ok) << "lowercase only";
  EXPECT_TRUE(list_agents(*s_).empty());
}

TEST_F(SqliteAgents, RevokingRemovesTheAgentAndSaysWhetherThereWasOne) {
  ASSERT_TRUE(put_agent(*s_, agent("alice", 'a')).ok);
  const auto revoked = revoke_agent(*s_, "alice");
  EXPECT_TRUE(revoked.st.ok) << revoked.st.error;
  EXPECT_TRUE(revoked.value);
  EXPECT_FALSE(find_agent(*s_, hash_of('a')).has_value());
  EXPECT_TRUE(list_agents(*s_).empty());

  const auto again = revoke_agent(*s_, "alice");
  EXPECT_TRUE(again.st.ok);
  EXPECT_FALSE(again.value);
  EXPECT_TRUE(put_agent(*s_, agent("bob", 'a')).ok) << "a revoked token's hash is free again";
}

TEST(SqliteAgentMessages, AnAgentsMessageIsStoredOutboundAndDeDuplicatedOnItsId) {
  temp_dir dir;
  auto s = open_store(dir.db());
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(create(*s, make_conversation("c1")).ok);

  turn t = make_turn("c1", "agent-1", 0);
  t.inbound->dir = direction::outbound;
  t.inbound->text = "您好，已为您退款";
  const turn_result first = append(*s, t);
  ASSERT_TRUE(first.st.ok) << first.st.error;
  EXPECT_FALSE(first.duplicate);
  const turn_result again = append(*s, t);
  EXPECT_TRUE(again.st.ok);
  EXPECT_TRUE(again.duplicate);

  auto got = load(*s, "c1");
  ASSERT_EQ(got.history.size(), 1u);
  EXPECT_EQ(got.history[0].dir, direction::outbound);
  EXPECT_EQ(got.history[0].client_id, "agent-1");
  EXPECT_EQ(got.history[0].text, "您好，已为您退款");
  raw_db db(dir.db());
  EXPECT_EQ(db.scalar("SELECT count(*) FROM messages WHERE direction = 'out'"
                      " AND client_id = 'agent-1'"),
            1);

  // Both sides' ids share one namespace per conversation.
  const turn_result buyer_same_id = append(*s, make_turn("c1", "agent-1"));
  EXPECT_TRUE(buyer_same_id.duplicate);
  // Replies never carry an id, so they never collide.
  turn with_replies = make_turn("c1", "m1", 2);
  with_replies.replies[0].client_id = "agent-1";
  const turn_result r = append(*s, with_replies);
  EXPECT_TRUE(r.st.ok) << r.st.error;
  EXPECT_FALSE(r.duplicate);
  EXPECT_EQ(load(*s, "c1").history.size(), 4u);
}

}  // namespace
}  // namespace shouhou::store::testing
