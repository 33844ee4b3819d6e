#pragma once
// Helpers shared by the store tests: a fresh folder per test, blocking wrappers over the
// asynchronous store calls (std::promise, no sleeps), and direct access to the database file.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "store/sqlite_store.hpp"
#include "support/temp_dir.hpp"

namespace shouhou::store::testing {

using shouhou::testing::temp_dir;

inline std::unique_ptr<sqlite_store> open_store(const std::string& path,
                                                sqlite_options options = {}) {
  std::string error;
  auto s = sqlite_store::open(path, options, error);
  EXPECT_NE(s, nullptr) << error;
  EXPECT_TRUE(s == nullptr || error.empty()) << error;
  return s;
}

struct turn_result {
  status st;
  bool duplicate = false;
};

struct load_result {
  status st;
  std::optional<conversation> found;
  std::vector<message> history;
};

inline std::future<status> create_async(store& s, conversation c) {
  auto p = std::make_shared<std::promise<status>>();
  auto f = p->get_future();
  s.create_conversation(std::move(c), [p](status st) { p->set_value(std::move(st)); });
  return f;
}

inline std::future<turn_result> append_async(store& s, turn t) {
  auto p = std::make_shared<std::promise<turn_result>>();
  auto f = p->get_future();
  s.append_turn(std::move(t), [p](status st, bool duplicate) {
    p->set_value({std::move(st), duplicate});
  });
  return f;
}

inline std::future<load_result> load_async(store& s, std::string id, std::size_t limit) {
  auto p = std::make_shared<std::promise<load_result>>();
  auto f = p->get_future();
  s.load_conversation(std::move(id), limit,
                      [p](status st, std::optional<conversation> c, std::vector<message> h) {
                        p->set_value({std::move(st), std::move(c), std::move(h)});
                      });
  return f;
}

inline status create(store& s, conversation c) { return create_async(s, std::move(c)).get(); }
inline turn_result append(store& s, turn t) { return append_async(s, std::move(t)).get(); }
inline load_result load(store& s, std::string id, std::size_t limit = 1000) {
  return load_async(s, std::move(id), limit).get();
}

inline conversation make_conversation(std::string id) {
  conversation c;
  c.id = std::move(id);
  c.shop = "shop-1";
  c.buyer = "buyer-1";
  c.created_at_ms = 1'700'000'000'000;
  return c;
}

// A turn whose inbound message is `client_id` and whose replies are numbered "<client_id> r<i>".
inline turn make_turn(const std::string& conversation_id, const std::string& client_id,
                      int replies = 1, std::int64_t at_ms = 1'700'000'000'000) {
  turn t;
  t.conversation = conversation_id;
  t.inbound.emplace();
  t.inbound->conversation = conversation_id;
  t.inbound->client_id = client_id;
  t.inbound->text = "text of " + client_id;
  t.inbound->at_ms = at_ms;
  for (int i = 0; i < replies; ++i) {
    message r;
    r.dir = direction::outbound;
    r.text = client_id + " r" + std::to_string(i);
    r.at_ms = at_ms + 1 + i;
    t.replies.push_back(std::move(r));
  }
  return t;
}

// Blocking wrappers over the case, outbox and agent calls. Each hands back the status too, so a
// test can check failures; `ok_*` variants expect success.
template <typename T>
struct result {
  status st;
  T value{};
};

template <typename T, typename Submit>
result<T> wait_for(Submit submit) {
  auto p = std::make_shared<std::promise<result<T>>>();
  auto f = p->get_future();
  submit([p](status st, T value) { p->set_value({std::move(st), std::move(value)}); });
  return f.get();
}

inline result<std::optional<case_record>> load_case(store& s, std::string id) {
  return wait_for<std::optional<case_record>>(
      [&](auto done) { s.load_case(std::move(id), std::move(done)); });
}

inline std::vector<case_record> find_cases(store& s, case_query q) {
  auto r = wait_for<std::vector<case_record>>(
      [&](auto done) { s.find_cases(std::move(q), std::move(done)); });
  EXPECT_TRUE(r.st.ok) << r.st.error;
  return r.value;
}

inline std::vector<outbox_event> due_events(store& s, std::int64_t now_ms,
                                            std::size_t limit = 100) {
  auto r = wait_for<std::vector<outbox_event>>(
      [&](auto done) { s.due_events(now_ms, limit, std::move(done)); });
  EXPECT_TRUE(r.st.ok) << r.st.error;
  return r.value;
}

inline status record_attempt(store& s, event_attempt a) {
  auto p = std::make_shared<std::promise<status>>();
  auto f = p->get_future();
  s.record_attempt(std::move(a), [p](status st) { p->set_value(std::move(st)); });
  return f.get();
}

inline status put_agent(store& s, agent_record a) {
  auto p = std::make_shared<std::promise<status>>();
  auto f = p->get_future();
  s.put_agent(std::move(a), [p](status st) { p->set_value(std::move(st)); });
  return f.get();
}

inline result<bool> revoke_agent(store& s, std::string name) {
  return wait_for<bool>([&](auto done) { s.revoke_agent(std::move(name), std::move(done)); });
}

inline std::optional<agent_record> find_agent(store& s, std::string token_sha256) {
  auto r = wait_for<std::optional<agent_record>>(
      [&](auto done) { s.find_agent(std::move(token_sha256), std::move(done)); });
  EXPECT_TRUE(r.st.ok) << r.st.error;
  return r.value;
}

inline std::vector<agent_record> list_agents(store& s) {
  auto r = wait_for<std::vector<agent_record>>([&](auto done) { s.list_agents(std::move(done)); });
  EXPECT_TRUE(r.st.ok) << r.st.error;
  return r.value;
}

// An open case of `conversation_id` as the bot builds it at handoff.
inline case_record make_case(const std::string& id, const std::string& conversation_id,
                             std::int64_t created_at_ms = 1'700'000'000'000) {
  case_record c;
  c.id = id;
  c.conversation = conversation_id;
  c.shop = "shop-1";
  c.buyer = "buyer-1";
  c.order = "order-" + id;
  c.reason = "damaged";
  c.created_at_ms = created_at_ms;
  c.updated_at_ms = created_at_ms;
  c.details = R"({"trigger":"wants_human"})";
  return c;
}

// A turn that only carries a case change (as an agent's claim or resolution does).
inline turn change_turn(const std::string& conversation_id, case_update u) {
  turn t;
  t.conversation = conversation_id;
  t.case_change = std::move(u);
  return t;
}

inline case_update claim(const std::string& case_id, std::int64_t expected_version,
                         const std::string& agent) {
  case_update u;
  u.id = case_id;
  u.expected_version = expected_version;
  u.status = "claimed";
  u.agent = agent;
  u.updated_at_ms = 1'700'000'100'000;
  return u;
}

// A second connection to the database file, to check what is really on disk and to interfere.
class raw_db {
 public:
  explicit raw_db(const std::string& path) {
    const int rc =
        sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    EXPECT_EQ(rc, SQLITE_OK) << sqlite3_errmsg(db_);
  }
  ~raw_db() { sqlite3_close_v2(db_); }
  raw_db(const raw_db&) = delete;
  raw_db& operator=(const raw_db&) = delete;

  // Runs SQL without results; returns SQLite's code.
  int exec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  }

  // The first column of the first row, as an integer (-1 when there is no row or on error).
  std::int64_t scalar(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    std::int64_t value = -1;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
      return value;
    }
    if (sqlite3_step(s) == SQLITE_ROW) value = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return value;
  }

  sqlite3* get() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

// Holds the store's writer thread inside a handler until open(), so that the operations a test
// submits meanwhile are all queued, and so are certain to be applied together in the next
// batches. The gate's own (empty) batch has committed by the time the constructor returns.
class writer_gate {
 public:
  explicit writer_gate(store& s) {
    // The handler owns what it touches: it may still be returning from wait() when the gate
    // has already been destroyed.
    auto entered = std::make_shared<std::promise<void>>();
    auto entered_future = entered->get_future();
    s.load_conversation("writer-gate", 0,
                        [entered, release = release_.get_future().share()](
                            status, std::optional<conversation>, std::vector<message>) {
                          entered->set_value();
                          release.wait();
                        });
    entered_future.wait();
  }
  ~writer_gate() { open(); }
  writer_gate(const writer_gate&) = delete;
  writer_gate& operator=(const writer_gate&) = delete;

  void open() {
    if (!opened_) release_.set_value();
    opened_ = true;
  }

 private:
  std::promise<void> release_;
  bool opened_ = false;
};

}  // namespace shouhou::store::testing
