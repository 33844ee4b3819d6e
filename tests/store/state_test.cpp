// Conversation state with optimistic versions and the reminder schedule. (What a handoff opens is
// in cases_test.cpp.)

#include <gtest/gtest.h>

#include <future>

#include "store/test_support.hpp"

namespace shouhou::store::testing {
namespace {

state_update update(std::int64_t expected, std::string state, std::int64_t remind = 0) {
  return {expected, std::move(state), "collecting", remind};
}

std::vector<conversation> due(store& s, std::int64_t now, std::size_t limit = 10) {
  std::promise<std::vector<conversation>> p;
  s.due_reminders(now, limit, [&](status st, std::vector<conversation> found) {
    EXPECT_TRUE(st.ok) << st.error;
    p.set_value(std::move(found));
  });
  return p.get_future().get();
}

TEST(SqliteState, AStateWriteBumpsTheVersionAndAnOutdatedOneIsAConflict) {
  temp_dir dir;
  auto s = open_store(dir.db());
  ASSERT_TRUE(create(*s, make_conversation("c1")).ok);

  turn t = make_turn("c1", "m1");
  t.state = update(0, R"({"reason":"damaged"})", 5000);
  ASSERT_TRUE(append(*s, t).st.ok);
  auto got = load(*s, "c1");
  EXPECT_EQ(got.found->state, R"({"reason":"damaged"})");
  EXPECT_EQ(got.found->state_version, 1);
  EXPECT_EQ(got.found->phase, "collecting");
  EXPECT_EQ(got.found->remind_at_ms, 5000);

  // Decided on version 0 again: refused, and nothing of the turn is written.
  turn stale = make_turn("c1", "m2");
  stale.state = update(0, "{}");
  const turn_result r = append(*s, stale);
  EXPECT_FALSE(r.st.ok);
  EXPECT_TRUE(r.st.conflict);
  got = load(*s, "c1");
  EXPECT_EQ(got.history.size(), 2u) << "m2 was not stored";
  EXPECT_EQ(got.found->state_version, 1);

  stale.state->expected_version = 1;
  EXPECT_TRUE(append(*s, stale).st.ok);
}

TEST(SqliteState, ADuplicateMessageWinsOverAStaleState) {
  temp_dir dir;
  auto s = open_store(dir.db());
  ASSERT_TRUE(create(*s, make_conversation("c1")).ok);
  turn t = make_turn("c1", "m1");
  t.state = update(0, "{}");
  ASSERT_TRUE(append(*s, t).st.ok);
  const turn_result again = append(*s, t);  // same id, state now outdated
  EXPECT_TRUE(again.st.ok);
  EXPECT_TRUE(again.duplicate);
}

TEST(SqliteState, ABotTurnWithoutABuyerMessageIsStored) {
  temp_dir dir;
  auto s = open_store(dir.db());
  ASSERT_TRUE(create(*s, make_conversation("c1")).ok);
  turn t;
  t.conversation = "c1";
  message m;
  m.dir = direction::outbound;
  m.text = "reminder";
  m.at_ms = 7;
  t.replies.push_back(m);
  t.state = update(0, "{}");
  ASSERT_TRUE(append(*s, t).st.ok);
  auto got = load(*s, "c1");
  ASSERT_EQ(got.history.size(), 1u);
  EXPECT_EQ(got.history[0].text, "reminder");
  EXPECT_EQ(got.history[0].dir, direction::outbound);
}

TEST(SqliteState, DueRemindersAreThoseAtOrBeforeNowEarliestFirst) {
  temp_dir dir;
  auto s = open_store(dir.db());
  for (auto [id, remind] : {std::pair{"late", 300}, std::pair{"early", 100}, std::pair{"never", 0},
                            std::pair{"future", 900}}) {
    ASSERT_TRUE(create(*s, make_conversation(id)).ok);
    turn t = make_turn(id, "m1");
    t.state = update(0, "{}", remind);
    ASSERT_TRUE(append(*s, t).st.ok);
  }
  auto found = due(*s, 300);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].id, "early");
  EXPECT_EQ(found[1].id, "late");
  EXPECT_EQ(found[0].shop, "shop-1");
  EXPECT_EQ(found[0].state_version, 1);
  EXPECT_EQ(due(*s, 1000, 1).size(), 1u);
  EXPECT_TRUE(due(*s, 99).empty());
}

}  // namespace
}  // namespace shouhou::store::testing
