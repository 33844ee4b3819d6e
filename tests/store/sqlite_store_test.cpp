#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "test_support.hpp"

namespace shouhou::store::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

// Ready without waiting: used where the contract says the handler has already run.
template <typename T>
bool ready(const std::future<T>& f) {
  return f.wait_for(0s) == std::future_status::ready;
}

TEST(SqliteStore, CreateAndLoadRoundTripEveryField) {
  temp_dir dir;
  auto s = open_store(dir.db());
  ASSERT_NE(s, nullptr);
  conversation c;
  c.id = "conv-\xE4\xB8\xAD";
  c.shop = "shop-\xE5\xBA\x97";
  c.buyer = "buyer-42";
  c.created_at_ms = 1'712'345'678'901;
  ASSERT_TRUE(create(*s, c).ok);

  turn t;
  t.conversation = c.id;
  t.inbound = message{0,
               c.id,
               direction::inbound,
               "m-1",
               "\xE5\x9D\x8F\xE4\xBA\x86",
               "quality_issue",
               0.875,
               "ORD-1",
               R"({"k":1})",
               1'712'345'679'000};
  t.replies.push_back({0, "", direction::outbound, "", "sorry, photo please", "quality_issue", 0.5,
                       "ORD-1", R"({"request":"photo"})", 1'712'345'679'001});
  t.replies.push_back({0, c.id, direction::outbound, "", "and the order number", "", 0.0, "", "",
                       1'712'345'679'002});
  const turn_result r = append(*s, t);
  ASSERT_TRUE(r.st.ok) << r.st.error;
  EXPECT_FALSE(r.duplicate);

  const load_result got = load(*s, c.id, 10);
  ASSERT_TRUE(got.st.ok) << got.st.error;
  ASSERT_TRUE(got.found.has_value());
  EXPECT_EQ(got.found->id, c.id);
  EXPECT_EQ(got.found->shop, c.shop);
  EXPECT_EQ(got.found->buyer, c.buyer);
  EXPECT_EQ(got.found->created_at_ms, c.created_at_ms);

  ASSERT_EQ(got.history.size(), 3u);
  std::vector<message> want = {*t.inbound, t.replies[0], t.replies[1]};
  for (std::size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(i);
    const message& m = got.history[i];
    EXPECT_GT(m.seq, i == 0 ? 0 : got.history[i - 1].seq);
    EXPECT_EQ(m.conversation, c.id);
    EXPECT_EQ(m.dir, want[i].dir);
    EXPECT_EQ(m.client_id, want[i].client_id);
    EXPECT_EQ(m.text, want[i].text);
    EXPECT_EQ(m.reason, want[i].reason);
    EXPECT_DOUBLE_EQ(m.confidence, want[i].confidence);
    EXPECT_EQ(m.order, want[i].order);
    EXPECT_EQ(m.payload, want[i].payload);
    EXPECT_EQ(m.at_ms, want[i].at_ms);
  }

  raw_db db(dir.db());
  EXPECT_EQ(db.scalar("SELECT count(*) FROM messages WHERE direction = 'out' AND"
                      " client_id IS NULL"),
            2);
}

TEST(SqliteStore, AnUnknownConversationLoadsAsNullopt) {
  temp_dir dir;
  auto s = open_store(dir.db());
  ASSERT_NE(s, nullptr);
  const load_result got = load(*s, "nobody");
  EXPECT_TRUE(got.st.ok);
  EXPECT_FALSE(got.found.has_value());
  EXPECT_TRUE(got.history.empty());
}

TEST(SqliteStore, CreatingAnExistingConversationFails) {
  temp_dir dir;
  auto s = open_store(dir.db());
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(create(*s, make_conversation("c1")).ok);
  conversation again = make_conversation("c1");
  again.shop = "another shop";
  const status st = create(*s, again);
  EXPECT_FALSE(st.ok);
  EXPECT_THAT(st.error, HasSubstr("'c1'"));
  EXPECT_THAT(st.error, HasSubstr("exists already"));
  EXPECT_EQ(load(*s, "c1").found->shop, "shop-1");
}

TEST(SqliteStore, AppendStoresTheInboundMessageThenItsRepliesInOrder) {
  temp_dir dir;
  auto s = open_store(dir.db());
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(create(*s, make_conversation("c1")).ok);
  ASSERT_TRUE(append(*s, make_turn("c1", "a", 2)).st.ok);
  ASSERT_TRUE(append(*s, make_turn("c1", "b", 0)).st.ok);
  ASSERT_TRUE(append(*s, make_turn("c1", "c", 1)).st.ok);

  const load_result got = load(*s, "c1");
  std::vector<std::string> texts;
  for (std::size_t i = 0; i < got.history.size(); ++i) {
    texts.push_back(got.history[i].text);
    if (i > 0) {
      EXPECT_LT(got.history[i - 1].seq, got.history[i].seq);
    }
  }
  EXPECT_EQ(texts, (std::vector<std::string>{"text of a", "a r0", "a r1", "text of b", "text of c",
                                             "c r0"}));
  EXPECT_EQ(got.history[0].dir, direction::inbound);
  EXPECT_EQ(got.history[1].dir, direction::outbound);
}

TEST(SqliteStore, ADuplicateClientIdIsReportedAndNotStoredTwice) {
  temp_dir dir;
  auto s = open_store(dir.db());
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(create(*s, make_conversation("c1")).ok);
  ASSERT_TRUE(create(*s, make_conversation("c2")).ok);
  const turn_result first = append(*s, make_turn("c1", "m-1", 1));
  ASSERT_TRUE(first.st.ok);
  EXPECT_FALSE(first.duplicate);

  turn again = make_turn("c1", "m-1", 3);
  again.inbound->text = "a different text";
  const turn_result second = append(*s, again);
  EXPECT_TRUE(second.st.ok) << second.st.error;
  EXPECT_TRUE(second.duplicate);

  // The same buyer message id in another conversation is a different message.
  const turn_result elsewhere = append(*s, make_turn("c2", "m-1", 1));
  EXPECT_TRUE(elsewhere.st.ok);
  EXPECT_FALSE(elsewhere.duplicate);

  raw_db db(dir.db());
  EXPECT_EQ(db.scalar("SELECT count(*) FROM messages WHERE conversation = 'c1'"), 2);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM messages WHERE conversation = 'c2'"), 2);
  EXPECT_EQ(load(*s, "c1").history.front().text, "text of m-1");
}

TEST(SqliteStore, AppendingToAnUnknownConversationFailsAloneInItsBatch) {
  temp_dir dir;
  auto s = open_store(dir.db());
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(create(*s, make_conversation("c1")).ok);

  writer_gate gate(*s);
  const std::size_t commits_before = s->commits();
  auto ok_first = append_async(*s, make_turn("c1", "m-1", 2));
  auto unknown = append_async(*s, make_turn("nope", "m-1", 2));
  auto duplicate_create = create_async(*s, make_conversation("c1"));
  auto ok_second = append_async(*s, make_turn("c1", "m-2", 1));
  auto new_conversation = create_async(*s, make_conversation("c2"));
  auto loaded = load_async(*s, "c1", 100);
  gate.open();

  EXPECT_TRUE(ok_first.get().st.ok);
  const turn_result failed = unknown.get();
  EXPECT_FALSE(failed.st.ok);
  EXPECT_FALSE(failed.duplicate);
  EXPECT_THAT(failed.st.error, HasSubstr("conversation 'nope' does not exist"));
  EXPECT_FALSE(duplicate_create.get().ok);
  EXPECT_TRUE(ok_second.get().st.ok);
  EXPECT_TRUE(new_conversation.get().ok);
  const load_result got = loaded.get();
  ASSERT_TRUE(got.st.ok);
  EXPECT_EQ(got.history.size(), 5u);  // a read sees the writes queued before it
  EXPECT_EQ(s->commits() - commits_before, 1u);

  raw_db db(dir.db());
  EXPECT_EQ(db.scalar("SELECT count(*) FROM messages"), 5);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM messages WHERE conversation = 'nope'"), 0);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM conversations"), 2);
}

TEST(SqliteStore, HistoryLimitReturnsTheLatestMessagesInOrder) {
  temp_dir dir;
  auto s = open_store(dir.db());
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(create(*s, make_conversation("c1")).ok);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(append(*s, make_turn("c1", "m" + std::to_string(i), 1)).st.ok);
  }
  const load_result last5 = load(*s, "c1", 5);
  std::vector<std::string> texts;
  for (const message& m : last5.history) texts.push_back(m.text);
  EXPECT_EQ(texts,
            (std::vector<std::string>{"m7 r0", "text of m8", "m8 r0", "text of m9", "m9 r0"}));

  const load_result none = load(*s, "c1", 0);
  EXPECT_TRUE(none.found.has_value());
  EXPECT_TRUE(none.history.empty());
  EXPECT_EQ(load(*s, "c1", static_cast<std::size_t>(-1)).history.size(), 20u);
}

TEST(SqliteStore, DataSurvivesCloseAndReopen) {
  temp_dir dir;
  load_result before;
  {
    auto s = open_store(dir.db());
    ASSERT_NE(s, nullptr);
    ASSERT_TRUE(create(*s, make_conversation("c1")).ok);
    ASSERT_TRUE(append(*s, make_turn("c1", "m-1", 2)).st.ok);
    before = load(*s, "c1");
    s->close();
  }
  auto s = open_store(dir.db());
  ASSERT_NE(s, nullptr);
  const load_result after = load(*s, "c1");
  ASSERT_TRUE(after.found.has_value());
  EXPECT_EQ(after.found->buyer, before.found->buyer);
  ASSERT_EQ(after.history.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(after.history[i].seq, before.history[i].seq);
    EXPECT_EQ(after.history[i].text, before.history[i].text);
  }
  EXPECT_TRUE(append(*s, make_turn("c1", "m-1", 2)).duplicate);
}

TEST(SqliteStore, ATurnWithoutClientIdIsRefused) {
  temp_dir dir;
  auto s = open_store(dir.db());
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(create(*s, make_conversation("c1")).ok);
  const turn_result r = append(*s, make_turn("c1", "", 1));
  EXPECT_FALSE(r.st.ok);
  EXPECT_THAT(r.st.error, HasSubstr("no client_id"));
  EXPECT_TRUE(load(*s, "c1").history.empty());
}

TEST(SqliteStore, AReplyForAnotherConversationFailsTheWholeTurn) {
  temp_dir dir;
  auto s = open_store(dir.db());
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(create(*s, make_conversation("c1")).ok);
  ASSERT_TRUE(create(*s, make_conversation("c2")).ok);
  turn t = make_turn("c1", "m-1", 2);
  t.replies[1].conversation = "c2";
  EXPECT_FALSE(append(*s, t).st.ok);
  raw_db db(dir.db());
  EXPECT_EQ(db.scalar("SELECT count(*) FROM messages"), 0);
}

TEST(SqliteStore, AThrowingHandlerDoesNotStopTheWriter) {
  temp_dir dir;
  auto s = open_store(dir.db());
  ASSERT_NE(s, nullptr);
  s->create_conversation(make_conversation("c1"),
                         [](status) { throw std::runtime_error("handler bug"); });
  s->append_turn(make_turn("c1", "m-0"), {});  // an empty handler is allowed too
  const turn_result r = append(*s, make_turn("c1", "m-1"));
  EXPECT_TRUE(r.st.ok) << r.st.error;
  EXPECT_EQ(load(*s, "c1").history.size(), 4u);
}

TEST(SqliteStore, CloseDrainsWhatIsQueuedAndLaterCallsFailAtOnce) {
  temp_dir dir;
  auto s = open_store(dir.db());
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(create(*s, make_conversation("c1")).ok);

  // Hold the writer, queue work, then close from inside the handler: close() only stops
  // accepting there, so the queued work is still pending when later calls arrive.
  std::promise<void> entered, release, closed;
  auto release_future = release.get_future();
  s->load_conversation("gate", 0, [&](status, std::optional<conversation>, std::vector<message>) {
    entered.set_value();
    release_future.wait();
    s->close();
    closed.set_value();
  });
  entered.get_future().wait();
  std::vector<std::future<turn_result>> queued;
  for (int i = 0; i < 200; ++i) {
    queued.push_back(append_async(*s, make_turn("c1", "m" + std::to_string(i), 1)));
  }
  release.set_value();
  closed.get_future().wait();

  auto late_append = append_async(*s, make_turn("c1", "late"));
  auto late_create = create_async(*s, make_conversation("c2"));
  auto late_load = load_async(*s, "c1", 10);
  ASSERT_TRUE(ready(late_append));  // the handler ran inside the call
  ASSERT_TRUE(ready(late_create));
  ASSERT_TRUE(ready(late_load));
  EXPECT_THAT(late_append.get().st.error, HasSubstr("is closed"));
  EXPECT_FALSE(late_create.get().ok);
  const load_result late = late_load.get();
  EXPECT_FALSE(late.st.ok);
  EXPECT_FALSE(late.found.has_value());

  s->close();  // waits for the writer
  for (auto& f : queued) {
    ASSERT_TRUE(ready(f));
    EXPECT_TRUE(f.get().st.ok);
  }
  s->close();  // idempotent
  s.reset();

  raw_db db(dir.db());
  EXPECT_EQ(db.scalar("SELECT count(*) FROM messages WHERE direction = 'in'"), 200);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM messages WHERE client_id = 'late'"), 0);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM conversations"), 1);
}

TEST(SqliteStore, CloseFromAnotherThreadCommitsEverythingSubmittedBefore) {
  temp_dir dir;
  auto s = open_store(dir.db());
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(create(*s, make_conversation("c1")).ok);
  std::vector<std::future<turn_result>> queued;
  for (int i = 0; i < 500; ++i) {
    queued.push_back(append_async(*s, make_turn("c1", "m" + std::to_string(i), 1)));
  }
  s->close();
  for (auto& f : queued) {
    ASSERT_TRUE(ready(f));
    EXPECT_TRUE(f.get().st.ok);
  }
  s.reset();  // the destructor's close() after an explicit one does nothing
  raw_db db(dir.db());
  EXPECT_EQ(db.scalar("SELECT count(*) FROM messages"), 1000);
}

}  // namespace
}  // namespace shouhou::store::testing

namespace shouhou::store::testing {
namespace {

TEST(SqliteStore, CheckpointsRunOnTheirOwnThreadOnceTheWalGrows) {
  temp_dir dir;
  sqlite_options options;
  options.checkpoint_pages = 4;
  auto s = open_store(dir.db(), options);
  ASSERT_NE(s, nullptr);
  const auto main_file = std::filesystem::file_size(dir.db());
  for (int i = 0; i < 40; ++i) {
    const std::string id = "c" + std::to_string(i);
    ASSERT_TRUE(create(*s, make_conversation(id)).ok);
    ASSERT_TRUE(append(*s, make_turn(id, "m", 2)).st.ok);
  }
  // The checkpoint thread copies the WAL into the database file while the store serves.
  for (int waited = 0; s->checkpoints() == 0 && waited < 1000; ++waited) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GT(s->checkpoints(), 0u);
  EXPECT_GT(std::filesystem::file_size(dir.db()), main_file);
  s->close();
  auto again = open_store(dir.db(), options);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(load(*again, "c39").history.size(), 3u);
}

TEST(SqliteStore, WithoutACheckpointThreadSQLiteCheckpointsByItself) {
  temp_dir dir;
  sqlite_options options;
  options.checkpoint_pages = 0;
  auto s = open_store(dir.db(), options);
  ASSERT_NE(s, nullptr);
  const auto main_file = std::filesystem::file_size(dir.db());
  // Past SQLite's own threshold (1,000 pages): its automatic checkpoint, inside a commit, copies
  // the WAL into the database file.
  std::vector<std::future<turn_result>> pending;
  for (int i = 0; i < 300; ++i) {
    const std::string id = "c" + std::to_string(i);
    ASSERT_TRUE(create(*s, make_conversation(id)).ok);
    turn t = make_turn(id, "m", 3);
    for (auto& r : t.replies) r.text.assign(4000, 'x');
    pending.push_back(append_async(*s, std::move(t)));
  }
  for (auto& f : pending) ASSERT_TRUE(f.get().st.ok);
  EXPECT_EQ(s->checkpoints(), 0u);
  EXPECT_GT(std::filesystem::file_size(dir.db()), main_file + 1000 * 1024);
  EXPECT_EQ(load(*s, "c299").history.size(), 4u);
}

}  // namespace
}  // namespace shouhou::store::testing
