#include <gtest/gtest.h>

#include <thread>

#include "test_support.hpp"

namespace shouhou::store::testing {
namespace {

std::string client_id(int thread, int i) {
  return "t" + std::to_string(thread) + "-" + std::to_string(i);
}

TEST(SqliteGroupCommit, ConcurrentTurnsAreAllStoredExactlyOnce) {
  constexpr int k_threads = 8;
  constexpr int k_turns = 300;  // per thread
  constexpr int k_conversations = 5;
  constexpr std::int64_t k_total = k_threads * k_turns;
  temp_dir dir;
  auto s = open_store(dir.db());
  ASSERT_NE(s, nullptr);
  for (int c = 0; c < k_conversations; ++c) {
    ASSERT_TRUE(create(*s, make_conversation("c" + std::to_string(c))).ok);
  }

  // Every thread submits all its turns, then waits for their handlers; `duplicates` says whether
  // this is the second, identical round.
  auto submit_all = [&](bool duplicates) {
    std::vector<std::thread> threads;
    std::vector<int> failures(k_threads, 0);
    for (int t = 0; t < k_threads; ++t) {
      threads.emplace_back([&, t] {
        std::vector<std::future<turn_result>> results;
        for (int i = 0; i < k_turns; ++i) {
          const std::string id = "c" + std::to_string(i % k_conversations);
          results.push_back(append_async(*s, make_turn(id, client_id(t, i), 2)));
        }
        for (auto& f : results) {
          const turn_result r = f.get();
          if (!r.st.ok || r.duplicate != duplicates) ++failures[t];
        }
      });
    }
    for (auto& t : threads) t.join();
    for (int t = 0; t < k_threads; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
  };
  submit_all(false);
  submit_all(true);
  s->close();

  raw_db db(dir.db());
  EXPECT_EQ(db.scalar("SELECT count(*) FROM messages"), 3 * k_total);
  EXPECT_EQ(db.scalar("SELECT count(DISTINCT client_id) FROM messages WHERE direction = 'in'"),
            k_total);
  // Each turn is contiguous: its two replies directly follow its inbound message.
  EXPECT_EQ(db.scalar("SELECT count(*) FROM messages m"
                      " JOIN messages r0 ON r0.seq = m.seq + 1 AND r0.text = m.client_id || ' r0'"
                      " JOIN messages r1 ON r1.seq = m.seq + 2 AND r1.text = m.client_id || ' r1'"
                      " WHERE m.direction = 'in' AND r0.conversation = m.conversation"
                      " AND r1.conversation = m.conversation"),
            k_total);
  // Operations from one thread are applied in submission order.
  for (int t = 0; t < k_threads; ++t) {
    EXPECT_EQ(db.scalar("SELECT count(*) FROM messages a JOIN messages b"
                        " ON a.direction = 'in' AND b.direction = 'in'"
                        " AND a.client_id LIKE 't" +
                        std::to_string(t) +
                        "-%'"
                        " AND b.client_id LIKE 't" +
                        std::to_string(t) +
                        "-%'"
                        " AND CAST(substr(a.client_id, instr(a.client_id, '-') + 1) AS INTEGER)"
                        "   < CAST(substr(b.client_id, instr(b.client_id, '-') + 1) AS INTEGER)"
                        " AND a.seq > b.seq"),
              0)
        << "thread " << t;
  }
}

// Operations queued while the writer is busy share transactions, max_batch at a time.
TEST(SqliteGroupCommit, QueuedOperationsShareCommitsUpToMaxBatch) {
  constexpr int k_threads = 4;
  constexpr int k_turns = 250;  // per thread
  temp_dir dir;
  sqlite_options options;
  options.max_batch = 100;
  auto s = open_store(dir.db(), options);
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(create(*s, make_conversation("c1")).ok);

  std::vector<std::vector<std::future<turn_result>>> results(k_threads);
  std::size_t commits_before = 0;
  {
    writer_gate gate(*s);
    commits_before = s->commits();
    std::vector<std::thread> threads;
    for (int t = 0; t < k_threads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < k_turns; ++i) {
          results[t].push_back(append_async(*s, make_turn("c1", client_id(t, i), 1)));
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  for (auto& per_thread : results) {
    for (auto& f : per_thread) EXPECT_TRUE(f.get().st.ok);
  }
  EXPECT_EQ(s->commits() - commits_before, std::size_t{k_threads * k_turns / 100});
}

TEST(SqliteGroupCommit, MaxBatchOfOneCommitsEveryOperationAlone) {
  temp_dir dir;
  sqlite_options options;
  options.max_batch = 1;
  auto s = open_store(dir.db(), options);
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(create(*s, make_conversation("c1")).ok);
  std::vector<std::future<turn_result>> results;
  std::size_t commits_before = 0;
  {
    writer_gate gate(*s);
    commits_before = s->commits();
    for (int i = 0; i < 20; ++i)
      results.push_back(append_async(*s, make_turn("c1", client_id(0, i))));
  }
  for (auto& f : results) EXPECT_TRUE(f.get().st.ok);
  EXPECT_EQ(s->commits() - commits_before, 20u);
}

}  // namespace
}  // namespace shouhou::store::testing
