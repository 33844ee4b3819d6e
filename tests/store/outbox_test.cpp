// The webhook outbox: events are committed with the change they report, handed out in seq order
// one at a time per case, and their delivery attempts are recorded.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace shouhou::store::testing {
namespace {

using ::testing::HasSubstr;

outbox_event event(const std::string& case_id, const std::string& type,
                   std::int64_t next_attempt_ms = 0) {
  outbox_event e;
  e.case_id = case_id;
  e.type = type;
  e.body = R"({"case":")" + case_id + R"(","type":")" + type + R"("})";
  e.created_at_ms = 1000;
  e.next_attempt_ms = next_attempt_ms;
  e.attempts = 9;  // ignored: an event starts with no attempts
  e.last_error = "ignored too";
  return e;
}

std::vector<std::string> types(const std::vector<outbox_event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.case_id + ":" + e.type);
  return out;
}

using V = std::vector<std::string>;

class SqliteOutbox : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(s_, nullptr);
    ASSERT_TRUE(create(*s_, make_conversation("c1")).ok);
  }

  // One turn per call, each opening its case (when new) and queueing `events`.
  void queue(std::vector<outbox_event> events, const std::string& opens = "") {
    turn t;
    t.conversation = "c1";
    if (!opens.empty()) t.opened_case = make_case(opens, "c1");
    t.events = std::move(events);
    const turn_result r = append(*s_, t);
    ASSERT_TRUE(r.st.ok) << r.st.error;
  }

  // Case A gets two events, case B one, queued in the order A1, B1, A2.
  void queue_two_cases() {
    ASSERT_NO_FATAL_FAILURE(queue({event("A", "case.created")}, "A"));
    ASSERT_NO_FATAL_FAILURE(queue({event("B", "case.created")}, "B"));
    ASSERT_NO_FATAL_FAILURE(queue({event("A", "case.claimed")}));
  }

  std::int64_t seq_of(const std::string& case_and_type) {
    raw_db db(dir_.db());
    const auto colon = case_and_type.find(':');
    return db.scalar("SELECT seq FROM outbox WHERE case_id = '" + case_and_type.substr(0, colon) +
                     "' AND type = '" + case_and_type.substr(colon + 1) + "'");
  }

  temp_dir dir_;
  std::unique_ptr<sqlite_store> s_ = open_store(dir_.db());
};

TEST_F(SqliteOutbox, EventsAreStoredWithTheirTurnAndHandedOutWhole) {
  ASSERT_NO_FATAL_FAILURE(queue({event("A", "case.created"), event("A", "case.claimed")}, "A"));
  const auto due = due_events(*s_, 0);
  ASSERT_EQ(due.size(), 1u) << "the second waits for the first";
  EXPECT_GT(due[0].seq, 0);
  EXPECT_EQ(due[0].case_id, "A");
  EXPECT_EQ(due[0].type, "case.created");
  EXPECT_EQ(due[0].body, R"({"case":"A","type":"case.created"})");
  EXPECT_EQ(due[0].created_at_ms, 1000);
  EXPECT_EQ(due[0].attempts, 0);
  EXPECT_EQ(due[0].next_attempt_ms, 0);
  EXPECT_EQ(due[0].last_error, "");
  EXPECT_EQ(seq_of("A:case.claimed"), due[0].seq + 1);
}

TEST_F(SqliteOutbox, ARefusedTurnQueuesNothing) {
  turn first = make_turn("c1", "m1");
  first.state = {0, "{}", "collecting", 0};
  ASSERT_TRUE(append(*s_, first).st.ok);

  turn stale = make_turn("c1", "m2");
  stale.state = {0, "{}", "handed_off", 0};
  stale.opened_case = make_case("A", "c1");
  stale.events = {event("A", "case.created")};
  EXPECT_TRUE(append(*s_, stale).st.conflict);
  EXPECT_TRUE(due_events(*s_, 1'000'000).empty());
  raw_db db(dir_.db());
  EXPECT_EQ(db.scalar("SELECT count(*) FROM outbox"), 0);
}

TEST_F(SqliteOutbox, AnEventNamingNoCaseIsRefused) {
  turn t;
  t.conversation = "c1";
  t.events = {event("", "case.created")};
  const turn_result r = append(*s_, t);
  EXPECT_FALSE(r.st.ok);
  EXPECT_THAT(r.st.error, HasSubstr("names no case"));
}

TEST_F(SqliteOutbox, DueEventsComeInSeqOrderOneAtATimePerCase) {
  ASSERT_NO_FATAL_FAILURE(queue_two_cases());
  EXPECT_EQ(types(due_events(*s_, 0)), (V{"A:case.created", "B:case.created"}));
  EXPECT_EQ(types(due_events(*s_, 0, 1)), (V{"A:case.created"}));
  EXPECT_TRUE(due_events(*s_, 0, 0).empty());
}

TEST_F(SqliteOutbox, AnEventIsNotDueBeforeItsTime) {
  ASSERT_NO_FATAL_FAILURE(queue({event("A", "case.created", 500)}, "A"));
  EXPECT_TRUE(due_events(*s_, 499).empty());
  EXPECT_EQ(types(due_events(*s_, 500)), (V{"A:case.created"}));
}

TEST_F(SqliteOutbox, ADeliveredEventLetsTheNextOfItsCaseGo) {
  ASSERT_NO_FATAL_FAILURE(queue_two_cases());
  const std::int64_t a1 = seq_of("A:case.created");
  ASSERT_TRUE(record_attempt(*s_, {a1, 2000, true, false, 0, ""}).ok);
  EXPECT_EQ(types(due_events(*s_, 0)), (V{"B:case.created", "A:case.claimed"}));
  raw_db db(dir_.db());
  EXPECT_EQ(db.scalar("SELECT delivered_at_ms FROM outbox WHERE seq = " + std::to_string(a1)),
            2000);
  EXPECT_EQ(db.scalar("SELECT attempts FROM outbox WHERE seq = " + std::to_string(a1)), 0);
}

TEST_F(SqliteOutbox, AFailingHeadEventBlocksOnlyItsOwnCase) {
  ASSERT_NO_FATAL_FAILURE(queue_two_cases());
  const std::int64_t a1 = seq_of("A:case.created");
  ASSERT_TRUE(record_attempt(*s_, {a1, 100, false, false, 5000, "HTTP 503"}).ok);

  EXPECT_EQ(types(due_events(*s_, 4999)), (V{"B:case.created"}))
      << "A's second event waits behind its first, which is not due yet";
  const auto due = due_events(*s_, 5000);
  ASSERT_EQ(types(due), (V{"A:case.created", "B:case.created"}));
  EXPECT_EQ(due[0].attempts, 1);
  EXPECT_EQ(due[0].next_attempt_ms, 5000);
  EXPECT_EQ(due[0].last_error, "HTTP 503");

  ASSERT_TRUE(record_attempt(*s_, {a1, 5000, false, false, 9000, "timeout"}).ok);
  const auto later = due_events(*s_, 9000);
  ASSERT_FALSE(later.empty());
  EXPECT_EQ(later[0].attempts, 2);
  EXPECT_EQ(later[0].last_error, "timeout");
}

TEST_F(SqliteOutbox, AGivenUpEventUnblocksTheNextOne) {
  ASSERT_NO_FATAL_FAILURE(queue_two_cases());
  const std::int64_t a1 = seq_of("A:case.created");
  ASSERT_TRUE(record_attempt(*s_, {a1, 100, false, true, 0, "HTTP 410"}).ok);
  EXPECT_EQ(types(due_events(*s_, 0)), (V{"B:case.created", "A:case.claimed"}));
  raw_db db(dir_.db());
  const std::string row = " FROM outbox WHERE seq = " + std::to_string(a1);
  EXPECT_EQ(db.scalar("SELECT given_up_at_ms" + row), 100);
  EXPECT_EQ(db.scalar("SELECT delivered_at_ms IS NULL" + row), 1);
  EXPECT_EQ(db.scalar("SELECT attempts" + row), 1);
  EXPECT_EQ(db.scalar("SELECT last_error = 'HTTP 410'" + row), 1);
}

TEST_F(SqliteOutbox, AnAttemptOnAnUnknownOrFinishedEventIsRefused) {
  ASSERT_NO_FATAL_FAILURE(queue({event("A", "case.created"), event("A", "case.claimed")}, "A"));
  const std::int64_t a1 = seq_of("A:case.created");
  const std::int64_t a2 = seq_of("A:case.claimed");

  status unknown = record_attempt(*s_, {a2 + 100, 1, true, false, 0, ""});
  EXPECT_FALSE(unknown.ok);
  EXPECT_THAT(unknown.error, HasSubstr("event " + std::to_string(a2 + 100)));
  EXPECT_THAT(unknown.error, HasSubstr("no such event"));

  status both = record_attempt(*s_, {a1, 1, true, true, 0, ""});
  EXPECT_FALSE(both.ok);
  EXPECT_EQ(types(due_events(*s_, 0)), (V{"A:case.created"})) << "nothing was recorded";

  ASSERT_TRUE(record_attempt(*s_, {a1, 1, true, false, 0, ""}).ok);
  status again = record_attempt(*s_, {a1, 2, false, false, 10, "late failure"});
  EXPECT_FALSE(again.ok);
  EXPECT_THAT(again.error, HasSubstr("delivered already"));

  ASSERT_TRUE(record_attempt(*s_, {a2, 3, false, true, 0, "gone"}).ok);
  status after_giving_up = record_attempt(*s_, {a2, 4, true, false, 0, ""});
  EXPECT_FALSE(after_giving_up.ok);
  EXPECT_THAT(after_giving_up.error, HasSubstr("given up already"));
  EXPECT_TRUE(due_events(*s_, 1'000'000).empty());
}

TEST_F(SqliteOutbox, EventsSurviveAReopen) {
  ASSERT_NO_FATAL_FAILURE(queue_two_cases());
  s_.reset();
  s_ = open_store(dir_.db());
  ASSERT_NE(s_, nullptr);
  EXPECT_EQ(types(due_events(*s_, 0)), (V{"A:case.created", "B:case.created"}));
}

}  // namespace
}  // namespace shouhou::store::testing
