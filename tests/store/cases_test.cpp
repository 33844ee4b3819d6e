// Cases: opened with the handoff turn, changed only from the version they were read at (so of two
// agents claiming at once exactly one wins), and listed by status, buyer and warning time.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "test_support.hpp"

namespace shouhou::store::testing {
namespace {

using ::testing::HasSubstr;

case_query query(std::vector<std::string> statuses, std::string shop = "", std::string buyer = "",
                 std::int64_t warn_due_by_ms = 0, std::size_t limit = 1000) {
  case_query q;
  q.statuses = std::move(statuses);
  q.shop = std::move(shop);
  q.buyer = std::move(buyer);
  q.warn_due_by_ms = warn_due_by_ms;
  q.limit = limit;
  return q;
}

class SqliteCases : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(s_, nullptr);
    ASSERT_TRUE(create(*s_, make_conversation("c1")).ok);
    ASSERT_TRUE(create(*s_, make_conversation("c2")).ok);
  }

  // Opens case `id` of `conversation_id` with a turn of its own.
  void open_case(const std::string& id, const std::string& conversation_id = "c1") {
    turn t;
    t.conversation = conversation_id;
    t.opened_case = make_case(id, conversation_id);
    const turn_result r = append(*s_, t);
    ASSERT_TRUE(r.st.ok) << r.st.error;
  }

  case_record stored(const std::string& id) {
    auto r = load_case(*s_, id);
    EXPECT_TRUE(r.st.ok) << r.st.error;
    EXPECT_TRUE(r.value.has_value()) << "case " << id;
    return r.value.value_or(case_record{});
  }

  temp_dir dir_;
  std::unique_ptr<sqlite_store> s_ = open_store(dir_.db());
};

TEST_F(SqliteCases, AHandoffTurnOpensTheCaseWithEveryField) {
  turn t = make_turn("c1", "m1");
  t.state = {0, "{}", "handed_off", 0};
  case_record c = make_case("k1", "c1", 1000);
  c.status.clear();  // "open" by default
  c.version = 7;     // ignored: a case opens at version 0
  c.due_at_ms = 9000;
  c.warn_at_ms = 8000;
  t.opened_case = c;
  ASSERT_TRUE(append(*s_, t).st.ok);

  const case_record got = stored("k1");
  EXPECT_EQ(got.conversation, "c1");
  EXPECT_EQ(got.shop, "shop-1");
  EXPECT_EQ(got.buyer, "buyer-1");
  EXPECT_EQ(got.order, "order-k1");
  EXPECT_EQ(got.reason, "damaged");
  EXPECT_EQ(got.status, "open");
  EXPECT_EQ(got.agent, "");
  EXPECT_EQ(got.created_at_ms, 1000);
  EXPECT_EQ(got.updated_at_ms, 1000);
  EXPECT_EQ(got.due_at_ms, 9000);
  EXPECT_EQ(got.warn_at_ms, 8000);
  EXPECT_EQ(got.details, R"({"trigger":"wants_human"})");
  EXPECT_EQ(got.outcome, "");
  EXPECT_EQ(got.version, 0);
  EXPECT_EQ(load(*s_, "c1").history.size(), 2u) << "the turn's messages came with it";

  auto unknown = load_case(*s_, "nope");
  EXPECT_TRUE(unknown.st.ok);
  EXPECT_FALSE(unknown.value.has_value());
}

TEST_F(SqliteCases, NoDeadlineIsStoredAsNullSoTheWarningIndexSkipsIt) {
  ASSERT_NO_FATAL_FAILURE(open_case("k1"));
  EXPECT_EQ(stored("k1").warn_at_ms, 0);
  raw_db db(dir_.db());
  EXPECT_EQ(db.scalar("SELECT count(*) FROM cases WHERE due_at_ms IS NULL AND warn_at_ms IS NULL"),
            1);
}

TEST_F(SqliteCases, ARefusedTurnLeavesNoCaseBehind) {
  turn first = make_turn("c1", "m1");
  first.state = {0, "{}", "collecting", 0};
  ASSERT_TRUE(append(*s_, first).st.ok);

  turn stale = make_turn("c1", "m2");
  stale.state = {0, "{}", "handed_off", 0};  // decided on version 0, which is gone
  stale.opened_case = make_case("k1", "c1");
  const turn_result r = append(*s_, stale);
  EXPECT_TRUE(r.st.conflict) << r.st.error;
  EXPECT_FALSE(load_case(*s_, "k1").value.has_value());

  // A resent message is a duplicate: its earlier turn stands and no case is opened now.
  turn resent = make_turn("c1", "m1");
  resent.opened_case = make_case("k2", "c1");
  const turn_result again = append(*s_, resent);
  EXPECT_TRUE(again.st.ok);
  EXPECT_TRUE(again.duplicate);
  EXPECT_FALSE(load_case(*s_, "k2").value.has_value());

  raw_db db(dir_.db());
  EXPECT_EQ(db.scalar("SELECT count(*) FROM cases"), 0);
}

TEST_F(SqliteCases, AnIdUsedBeforeFailsTheTurn) {
  ASSERT_NO_FATAL_FAILURE(open_case("k1"));
  turn t = make_turn("c1", "m1");
  t.opened_case = make_case("k1", "c1");
  const turn_result r = append(*s_, t);
  EXPECT_FALSE(r.st.ok);
  EXPECT_FALSE(r.st.conflict);
  EXPECT_THAT(r.st.error, HasSubstr("opening case 'k1'"));
  EXPECT_TRUE(load(*s_, "c1").history.empty()) << "m1 was not stored either";
}

TEST_F(SqliteCases, ACaseNamingAnotherConversationIsRefused) {
  turn t;
  t.conversation = "c1";
  t.opened_case = make_case("k1", "c2");
  const turn_result r = append(*s_, t);
  EXPECT_FALSE(r.st.ok);
  EXPECT_THAT(r.st.error, HasSubstr("another conversation"));
  EXPECT_FALSE(load_case(*s_, "k1").value.has_value());
}

TEST_F(SqliteCases, AChangeAppliesAndBumpsTheVersion) {
  ASSERT_NO_FATAL_FAILURE(open_case("k1"));
  case_update u = claim("k1", 0, "alice");
  u.warn_at_ms = 5000;
  ASSERT_TRUE(append(*s_, change_turn("c1", u)).st.ok);
  case_record got = stored("k1");
  EXPECT_EQ(got.status, "claimed");
  EXPECT_EQ(got.agent, "alice");
  EXPECT_EQ(got.updated_at_ms, 1'700'000'100'000);
  EXPECT_EQ(got.warn_at_ms, 5000);
  EXPECT_EQ(got.version, 1);
  EXPECT_EQ(got.created_at_ms, 1'700'000'000'000) << "not a changing field";

  case_update resolve{"k1", 1, "resolved", "alice", 1'700'000'200'000, 0, R"({"kind":"refund"})"};
  ASSERT_TRUE(append(*s_, change_turn("c1", resolve)).st.ok);
  got = stored("k1");
  EXPECT_EQ(got.status, "resolved");
  EXPECT_EQ(got.outcome, R"({"kind":"refund"})");
  EXPECT_EQ(got.warn_at_ms, 0);
  EXPECT_EQ(got.version, 2);
}

TEST_F(SqliteCases, AChangeWithItsAgentsMessageIsOneTurn) {
  ASSERT_NO_FATAL_FAILURE(open_case("k1"));
  turn t = change_turn("c1", claim("k1", 0, "alice"));
  t.inbound.emplace();
  t.inbound->dir = direction::outbound;
  t.inbound->client_id = "agent-msg-1";
  t.inbound->text = "您好，我来处理";
  ASSERT_TRUE(append(*s_, t).st.ok);
  EXPECT_EQ(stored("k1").version, 1);
  // Resent (the agent's client retried): nothing more is written, the case stays at version 1.
  const turn_result again = append(*s_, t);
  EXPECT_TRUE(again.st.ok);
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(stored("k1").version, 1);
}

TEST_F(SqliteCases, OfTwoChangesBasedOnOneVersionTheSecondIsAConflict) {
  ASSERT_NO_FATAL_FAILURE(open_case("k1"));
  ASSERT_TRUE(append(*s_, change_turn("c1", claim("k1", 0, "alice"))).st.ok);

  turn late = change_turn("c1", claim("k1", 0, "bob"));
  late.replies.push_back(make_turn("c1", "x").replies[0]);
  const turn_result r = append(*s_, late);
  EXPECT_FALSE(r.st.ok);
  EXPECT_TRUE(r.st.conflict);
  EXPECT_THAT(r.st.error, HasSubstr("case 'k1'"));
  EXPECT_EQ(stored("k1").agent, "alice");
  EXPECT_EQ(stored("k1").version, 1);
  EXPECT_TRUE(load(*s_, "c1").history.empty()) << "the refused turn's reply was not stored";
}

// Of two claims of one case at version 0, exactly one is stored and the other is a conflict.
void expect_one_won(const turn_result& ra, const turn_result& rb) {
  EXPECT_EQ(int{ra.st.ok} + int{rb.st.ok}, 1) << ra.st.error << " / " << rb.st.error;
  EXPECT_TRUE(ra.st.conflict || rb.st.conflict);
}

// Both claims are submitted from their own threads while the writer is held, so they are
// certainly applied in one batch, one after the other: the second sees version 1.
TEST_F(SqliteCases, OfTwoClaimsSubmittedFromTwoThreadsExactlyOneWins) {
  ASSERT_NO_FATAL_FAILURE(open_case("k1"));
  std::future<turn_result> alice, bob;
  {
    writer_gate gate(*s_);
    std::thread a([&] { alice = append_async(*s_, change_turn("c1", claim("k1", 0, "alice"))); });
    std::thread b([&] { bob = append_async(*s_, change_turn("c1", claim("k1", 0, "bob"))); });
    a.join();
    b.join();
  }
  const turn_result ra = alice.get();
  const turn_result rb = bob.get();
  expect_one_won(ra, rb);
  const case_record got = stored("k1");
  EXPECT_EQ(got.version, 1);
  EXPECT_EQ(got.agent, ra.st.ok ? "alice" : "bob");
}

// Two servers on one database file: each has its own writer, and SQLite's write lock orders them.
TEST_F(SqliteCases, OfTwoClaimsFromTwoStoresOnOneFileExactlyOneWins) {
  ASSERT_NO_FATAL_FAILURE(open_case("k1"));
  auto other = open_store(dir_.db());
  ASSERT_NE(other, nullptr);
  std::future<turn_result> alice, bob;
  std::thread a([&] { alice = append_async(*s_, change_turn("c1", claim("k1", 0, "alice"))); });
  std::thread b([&] { bob = append_async(*other, change_turn("c1", claim("k1", 0, "bob"))); });
  a.join();
  b.join();
  const turn_result ra = alice.get();
  const turn_result rb = bob.get();
  expect_one_won(ra, rb);
  EXPECT_EQ(stored("k1").version, 1);
}

TEST_F(SqliteCases, ChangingACaseOfAnotherConversationOrAnUnknownOneFailsWithoutConflict) {
  ASSERT_NO_FATAL_FAILURE(open_case("k1", "c2"));
  const turn_result foreign = append(*s_, change_turn("c1", claim("k1", 0, "alice")));
  EXPECT_FALSE(foreign.st.ok);
  EXPECT_FALSE(foreign.st.conflict) << "reloading would not help";
  EXPECT_THAT(foreign.st.error, HasSubstr("appending to conversation 'c1'"));
  EXPECT_THAT(foreign.st.error, HasSubstr("case 'k1'"));
  EXPECT_THAT(foreign.st.error, HasSubstr("another conversation"));
  EXPECT_EQ(stored("k1").version, 0);

  const turn_result unknown = append(*s_, change_turn("c1", claim("nope", 0, "alice")));
  EXPECT_FALSE(unknown.st.ok);
  EXPECT_FALSE(unknown.st.conflict);
  EXPECT_THAT(unknown.st.error, HasSubstr("no such case"));
}

TEST_F(SqliteCases, AnUnknownStatusIsRefused) {
  ASSERT_NO_FATAL_FAILURE(open_case("k1"));
  case_update u = claim("k1", 0, "alice");
  u.status = "lost";
  const turn_result r = append(*s_, change_turn("c1", u));
  EXPECT_FALSE(r.st.ok);
  EXPECT_FALSE(r.st.conflict);
  EXPECT_EQ(stored("k1").status, "open");
}

TEST_F(SqliteCases, FindCasesFiltersAndListsTheOldestFirst) {
  ASSERT_TRUE(create(*s_, make_conversation("c3")).ok);
  auto add = [&](const std::string& id, const std::string& conv, std::int64_t created,
                 const std::string& buyer, std::int64_t warn) {
    turn t;
    t.conversation = conv;
    t.opened_case = make_case(id, conv, created);
    t.opened_case->buyer = buyer;
    t.opened_case->warn_at_ms = warn;
    ASSERT_TRUE(append(*s_, t).st.ok) << id;
  };
  ASSERT_NO_FATAL_FAILURE(add("b", "c1", 300, "buyer-1", 0));
  ASSERT_NO_FATAL_FAILURE(add("a", "c1", 300, "buyer-1", 700));  // same time: by id
  ASSERT_NO_FATAL_FAILURE(add("c", "c2", 100, "buyer-2", 900));
  ASSERT_NO_FATAL_FAILURE(add("d", "c3", 200, "buyer-1", 500));
  ASSERT_TRUE(append(*s_, change_turn("c2", claim("c", 0, "alice"))).st.ok);  // warn stays 0

  auto ids = [](const std::vector<case_record>& cases) {
    std::vector<std::string> out;
    for (const auto& c : cases) out.push_back(c.id);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids(find_cases(*s_, {})), (V{"c", "d", "a", "b"}));
  EXPECT_EQ(ids(find_cases(*s_, query({"open"}))), (V{"d", "a", "b"}));
  EXPECT_EQ(ids(find_cases(*s_, query({"claimed", "resolved"}))), (V{"c"}));
  EXPECT_EQ(ids(find_cases(*s_, query({"resolved"}))), V{});
  EXPECT_EQ(ids(find_cases(*s_, query({}, "shop-1", "buyer-1"))), (V{"d", "a", "b"}));
  EXPECT_EQ(ids(find_cases(*s_, query({"open"}, "shop-1", "buyer-2"))), V{});
  EXPECT_EQ(ids(find_cases(*s_, query({}, "other-shop", "buyer-1"))), V{});
  EXPECT_EQ(ids(find_cases(*s_, query({}, "shop-1"))), (V{"c", "d", "a", "b"})) << "shop alone";
  EXPECT_EQ(ids(find_cases(*s_, query({}, "", "buyer-2"))), (V{"c"})) << "buyer alone";
  EXPECT_EQ(ids(find_cases(*s_, query({}, "", "", 700))), (V{"d", "a"}));
  EXPECT_EQ(ids(find_cases(*s_, query({}, "", "", 499))), V{});
  EXPECT_EQ(ids(find_cases(*s_, query({"open"}, "shop-1", "buyer-1", 600))), (V{"d"}));
  EXPECT_EQ(ids(find_cases(*s_, query({}, "", "", 0, 2))), (V{"c", "d"}));
  // Values are bound, never spliced into the SQL.
  EXPECT_EQ(ids(find_cases(*s_, query({"open' OR '1'='1"}))), V{});
}

}  // namespace
}  // namespace shouhou::store::testing
