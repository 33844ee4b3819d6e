#include "store/sqlite_store.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <filesystem>
#include <limits>
#include <mutex>
#include <system_error>
#include <thread>
#include <variant>
#include <vector>

#include "store/detail/migrations.hpp"
#include "store/detail/sqlite.hpp"

namespace shouhou::store {

using detail::execute;
using detail::stmt_handle;

// How long the checkpoint connection waits for a lock before giving up until the next one.
constexpr int k_checkpoint_busy_ms = 100;

struct sqlite_store::impl {
  struct create_op {
    conversation c;
    status_handler done;
  };
  struct load_op {
    std::string id;
    std::size_t history_limit = 0;
    load_handler done;
  };
  struct append_op {
    turn t;
    turn_handler done;
  };
  struct due_op {
    std::int64_t now_ms = 0;
    std::size_t limit = 0;
    conversations_handler done;
  };
  struct evidence_op {
    std::string id;            // one row by id, or
    std::string conversation;  // every row of a conversation
    bool list = false;
    evidence_handler one;
    evidence_list_handler all;
  };
  struct case_op {
    std::string id;                   // one case by id, or
    std::optional<case_query> query;  // the cases matching a query
    case_handler one;
    cases_handler all;
  };
  struct due_events_op {
    std::int64_t now_ms = 0;
    std::size_t limit = 0;
    events_handler done;
  };
  struct attempt_op {
    event_attempt a;
    status_handler done;
  };
  struct put_agent_op {
    agent_record a;
    status_handler done;
  };
  struct revoke_agent_op {
    std::string name;
    std::function<void(status, bool)> done;
  };
  struct agent_op {
    std::string token_sha256;  // the agent holding this token, or
    bool list = false;         // every agent
    agent_handler one;
    agents_handler all;
  };
  using operation =
      std::variant<create_op, load_op, append_op, due_op, evidence_op, case_op, due_events_op,
                   attempt_op, put_agent_op, revoke_agent_op, agent_op>;

  // What applying an operation produced; handed to its handler once the batch's fate is known.
  struct outcome {
    status st;
    bool duplicate = false;
    std::optional<conversation> found;
    std::vector<message> history;
    std::vector<conversation> due;
    std::vector<evidence_record> evidence;
    std::vector<case_record> cases;
    std::vector<outbox_event> events;
    std::vector<agent_record> agents;
    bool found_agent = false;  // revoke_agent: there was an agent of that name

    static outcome failed(status why) {
      outcome o;
      o.st = std::move(why);
      return o;
    }
  };

  impl(std::string path, sqlite_options options) : path_(std::move(path)), options_(options) {}

  status open();
  void start();
  void submit(operation op);
  void close();

  void run();
  void apply_batch(std::vector<operation>& batch, std::vector<outcome>& results);
  bool apply_in_savepoint(operation& op, outcome& out, status& lost);
  outcome apply(create_op& op);
  outcome apply(load_op& op);
  outcome apply(append_op& op);
  outcome apply(due_op& op);
  outcome apply(evidence_op& op);
  outcome apply(case_op& op);
  outcome apply(due_events_op& op);
  outcome apply(attempt_op& op);
  outcome apply(put_agent_op& op);
  outcome apply(revoke_agent_op& op);
  outcome apply(agent_op& op);
  static status check_turn(const turn& t, const std::string& where);
  status add_evidence(const turn& t, const std::string& where);
  status write_state(const turn& t, const std::string& where);
  status open_case(const turn& t, const std::string& where);
  status change_case(const turn& t, const std::string& where);
  status queue_events(const turn& t, const std::string& where);
  status find_cases(const case_query& q, std::vector<case_record>& out);
  status why_not_pending(std::int64_t seq, const std::string& what);
  static conversation read_conversation(sqlite3_stmt* s, std::string id, int first_column);
  status find_conversation(const std::string& id, std::optional<conversation>& found);
  status insert_message(const message& m, const std::string& conversation_id, bool caused_turn);
  status run_statement(sqlite3_stmt* s, std::string_view what);
  std::string rollback_if_open();
  static void deliver(operation& op, outcome out) noexcept;
  static void finish(create_op& op, outcome& out);
  static void finish(load_op& op, outcome& out);
  static void finish(append_op& op, outcome& out);
  static void finish(due_op& op, outcome& out);
  static void finish(evidence_op& op, outcome& out);
  static void finish(case_op& op, outcome& out);
  static void finish(due_events_op& op, outcome& out);
  static void finish(attempt_op& op, outcome& out);
  static void finish(put_agent_op& op, outcome& out);
  static void finish(revoke_agent_op& op, outcome& out);
  static void finish(agent_op& op, outcome& out);

  sqlite3* db() const { return db_.get(); }

  const std::string path_;
  const sqlite_options options_;
  int schema_version_ = 0;

  // Used by the writer thread only (and by open()/close() while no writer runs). The statements
  // are declared after the connection so that they are finalized before it closes.
  detail::db_handle db_;
  stmt_handle begin_, commit_, rollback_, savepoint_, release_, rollback_to_;
  stmt_handle insert_conversation_, select_conversation_, insert_message_, select_history_;
  stmt_handle update_state_, select_due_;
  stmt_handle insert_evidence_, count_evidence_, select_evidence_, list_evidence_;
  stmt_handle insert_case_, select_case_, select_case_owner_, update_case_;
  stmt_handle insert_event_, select_due_events_, select_event_, mark_delivered_, mark_given_up_,
      mark_retry_;
  stmt_handle select_agent_by_hash_, upsert_agent_, delete_agent_, list_agents_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<operation> queue_;  // guarded by mutex_
  bool stopping_ = false;        // guarded by mutex_

  std::atomic<std::size_t> commits_{0};

  std::mutex close_mutex_;  // serialises joining the writer and closing the connection
  std::thread writer_;
  std::thread::id writer_id_;

  // The checkpoint thread (sqlite_options::checkpoint_pages): its own connection, woken by the
  // writer's WAL hook when the WAL has grown past the threshold.
  void checkpoint_loop();
  static int on_wal_commit(void* self, sqlite3* db, const char* name, int pages);
  detail::db_handle checkpoint_db_;
  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_wake_;
  bool checkpoint_due_ = false;       // guarded by checkpoint_mutex_
  bool checkpoint_stopping_ = false;  // guarded by checkpoint_mutex_
  std::atomic<std::size_t> checkpoints_{0};
  std::thread checkpointer_;
};

namespace {

std::string in_quotes(const std::string& s) { return "'" + s + "'"; }

// SQLite counts rows in signed 64 bits; a larger limit means "no limit" anyway.
std::int64_t as_limit(std::size_t limit) {
  return static_cast<std::int64_t>(
      std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max()));
}

// Times that mean "none" are stored as NULL, so partial indexes leave them out.
std::optional<std::int64_t> unless_zero(std::int64_t ms) {
  return ms != 0 ? std::optional<std::int64_t>(ms) : std::nullopt;
}

constexpr std::string_view k_select_cases =
    "SELECT id, conversation, shop, buyer, order_no, reason, status, agent, created_at_ms,"
    " updated_at_ms, due_at_ms, warn_at_ms, details, outcome, version FROM cases";

case_record read_case(sqlite3_stmt* s) {
  case_record c;
  c.id = detail::column_text(s, 0);
  c.conversation = detail::column_text(s, 1);
  c.shop = detail::column_text(s, 2);
  c.buyer = detail::column_text(s, 3);
  c.order = detail::column_text(s, 4);
  c.reason = detail::column_text(s, 5);
  c.status = detail::column_text(s, 6);
  c.agent = detail::column_text(s, 7);
  c.created_at_ms = sqlite3_column_int64(s, 8);
  c.updated_at_ms = sqlite3_column_int64(s, 9);
  c.due_at_ms = sqlite3_column_int64(s, 10);  // NULL reads as 0: none
  c.warn_at_ms = sqlite3_column_int64(s, 11);
  c.details = detail::column_text(s, 12);
  c.outcome = detail::column_text(s, 13);
  c.version = sqlite3_column_int64(s, 14);
  return c;
}

outbox_event read_event(sqlite3_stmt* s) {
  outbox_event e;
  e.seq = sqlite3_column_int64(s, 0);
  e.case_id = detail::column_text(s, 1);
  e.type = detail::column_text(s, 2);
  e.body = detail::column_text(s, 3);
  e.created_at_ms = sqlite3_column_int64(s, 4);
  e.attempts = sqlite3_column_int(s, 5);
  e.next_attempt_ms = sqlite3_column_int64(s, 6);
  e.last_error = detail::column_text(s, 7);
  return e;
}

agent_record read_agent(sqlite3_stmt* s) {
  return {detail::column_text(s, 0), detail::column_text(s, 1), sqlite3_column_int64(s, 2)};
}

// Binds `args` to `s`, steps it to the end and appends read(s) of every row to `rows`.
template <typename Row, typename Read, typename... Args>
status query(sqlite3* db, sqlite3_stmt* s, std::string_view what, Read read, std::vector<Row>& rows,
             const Args&... args) {
  detail::reset_on_exit reset(s);
  if (int rc = detail::bind_all(s, args...); rc != SQLITE_OK) return detail::error(db, rc, what);
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) rows.push_back(read(s));
  if (rc != SQLITE_DONE) return detail::error(db, rc, what);
  return {};
}

bool is_sha256_hex(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

struct statement_sql {
  stmt_handle sqlite_store::impl::*handle;
  std::string sql;
};

// Every statement the writer keeps prepared. One table, so that open() prepares exactly what
// close() finalizes.
const std::vector<statement_sql>& statement_table() {
  using impl = sqlite_store::impl;
  static const std::vector<statement_sql> table = {
      {&impl::begin_, "BEGIN IMMEDIATE"},
      {&impl::commit_, "COMMIT"},
      {&impl::rollback_, "ROLLBACK"},
      {&impl::savepoint_, "SAVEPOINT op"},
      {&impl::release_, "RELEASE op"},
      {&impl::rollback_to_, "ROLLBACK TO op"},
      {&impl::insert_conversation_,
       "INSERT INTO conversations(id, shop, buyer, created_at_ms) VALUES(?, ?, ?, ?)"
       " ON CONFLICT(id) DO NOTHING"},
      {&impl::select_conversation_,
       "SELECT shop, buyer, created_at_ms, state, state_version, phase, remind_at_ms"
       " FROM conversations WHERE id = ?"},
      {&impl::update_state_,
       "UPDATE conversations SET state = ?, phase = ?, remind_at_ms = ?,"
       " state_version = state_version + 1 WHERE id = ? AND state_version = ?"},
      {&impl::select_due_,
       "SELECT id, shop, buyer, created_at_ms, state, state_version, phase, remind_at_ms"
       " FROM conversations WHERE remind_at_ms IS NOT NULL AND remind_at_ms <= ?"
       " ORDER BY remind_at_ms LIMIT ?"},
      {&impl::insert_evidence_,
       "INSERT INTO evidence(id, conversation, item, original_name, mime, kind, size, sha256,"
       " at_ms) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)"},
      {&impl::count_evidence_, "SELECT count(*) FROM evidence WHERE conversation = ?"},
      {&impl::select_evidence_,
       "SELECT id, conversation, item, original_name, mime, kind, size, sha256, at_ms"
       " FROM evidence WHERE id = ?"},
      {&impl::list_evidence_,
       "SELECT id, conversation, item, original_name, mime, kind, size, sha256, at_ms"
       " FROM evidence WHERE conversation = ? ORDER BY at_ms, rowid"},
      // The unique index on (conversation, client_id) holds whichever side sent the message, so
      // an agent's message is de-duplicated like a buyer's; replies have a NULL client_id.
      {&impl::insert_message_,
       "INSERT INTO messages(conversation, direction, client_id, text, reason, confidence,"
       " order_no, payload, at_ms) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"},
      {&impl::select_history_,
       "SELECT seq, direction, client_id, text, reason, confidence, order_no, payload, at_ms"
       " FROM (SELECT * FROM messages WHERE conversation = ? ORDER BY seq DESC LIMIT ?)"
       " ORDER BY seq"},
      {&impl::insert_case_,
       "INSERT INTO cases(id, conversation, shop, buyer, order_no, reason, status, agent,"
       " created_at_ms, updated_at_ms, due_at_ms, warn_at_ms, details, outcome)"
       " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"},
      {&impl::select_case_, std::string(k_select_cases) + " WHERE id = ?"},
      {&impl::select_case_owner_, "SELECT conversation FROM cases WHERE id = ?"},
      {&impl::update_case_,
       "UPDATE cases SET status = ?, agent = ?, updated_at_ms = ?, warn_at_ms = ?, outcome = ?,"
       " version = version + 1 WHERE id = ? AND version = ? AND conversation = ?"},
      {&impl::insert_event_,
       "INSERT INTO outbox(case_id, type, body, created_at_ms, next_attempt_ms)"
       " VALUES(?, ?, ?, ?, ?)"},
      // Left to itself the planner walks the whole outbox in seq order, delivered rows and
      // all, and those pile up for ever; the partial index holds only the pending ones.
      {&impl::select_due_events_,
       "SELECT seq, case_id, type, body, created_at_ms, attempts, next_attempt_ms, last_error"
       " FROM outbox AS o INDEXED BY outbox_pending"
       " WHERE delivered_at_ms IS NULL AND given_up_at_ms IS NULL AND next_attempt_ms <= ?"
       " AND NOT EXISTS (SELECT 1 FROM outbox AS e WHERE e.case_id = o.case_id AND e.seq < o.seq"
       " AND e.delivered_at_ms IS NULL AND e.given_up_at_ms IS NULL)"
       " ORDER BY seq LIMIT ?"},
      {&impl::select_event_,
       "SELECT delivered_at_ms IS NOT NULL, given_up_at_ms IS NOT NULL FROM outbox WHERE seq = ?"},
      {&impl::mark_delivered_,
       "UPDATE outbox SET delivered_at_ms = ? WHERE seq = ?"
       " AND delivered_at_ms IS NULL AND given_up_at_ms IS NULL"},
      {&impl::mark_given_up_,
       "UPDATE outbox SET given_up_at_ms = ?, attempts = attempts + 1, last_error = ?"
       " WHERE seq = ? AND delivered_at_ms IS NULL AND given_up_at_ms IS NULL"},
      {&impl::mark_retry_,
       "UPDATE outbox SET next_attempt_ms = ?, attempts = attempts + 1, last_error = ?"
       " WHERE seq = ? AND delivered_at_ms IS NULL AND given_up_at_ms IS NULL"},
      {&impl::select_agent_by_hash_,
       "SELECT name, token_sha256, created_at_ms FROM agents WHERE token_sha256 = ?"},
      {&impl::upsert_agent_,
       "INSERT INTO agents(name, token_sha256, created_at_ms) VALUES(?, ?, ?)"
       " ON CONFLICT(name) DO UPDATE SET token_sha256 = excluded.token_sha256"},
      {&impl::delete_agent_, "DELETE FROM agents WHERE name = ?"},
      {&impl::list_agents_, "SELECT name, token_sha256, created_at_ms FROM agents ORDER BY name"},
  };
  return table;
}

}  // namespace

status sqlite_store::impl::open() {
  const std::string where = "cannot open database " + in_quotes(path_) + ": ";
  // SQLite would only say "unable to open database file"; name the actual problem.
  const std::filesystem::path parent = std::filesystem::path(path_).parent_path();
  std::error_code ec;
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec)) {
    return status::failure(where + "folder " + in_quotes(parent.string()) + " does not exist");
  }

  sqlite3* raw = nullptr;
  // NOMUTEX: one thread at a time uses the connection (open(), then the writer, then close()).
  const int flags =
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  const int rc = sqlite3_open_v2(path_.c_str(), &raw, flags, nullptr);
  db_.reset(raw);  // SQLite hands back a handle to close even when opening fails
  if (rc != SQLITE_OK) return status::failure(where + detail::error(raw, rc, "open").error);

  if (int busy = sqlite3_busy_timeout(db(), options_.busy_timeout_ms); busy != SQLITE_OK) {
    return status::failure(where + detail::error(db(), busy, "busy_timeout").error);
  }

  // journal_mode answers with the mode in force, which stays the old one when WAL is impossible.
  {
    stmt_handle mode;
    status st = detail::prepare(db(), "PRAGMA journal_mode = WAL", mode);
    if (!st.ok) return status::failure(where + st.error);
    if (int step = sqlite3_step(mode.get()); step != SQLITE_ROW) {
      return status::failure(where + detail::error(db(), step, "PRAGMA journal_mode").error);
    }
    const std::string got = detail::column_text(mode.get(), 0);
    if (got != "wal") {
      return status::failure(where + "cannot use WAL journal mode (it stays '" + got + "')");
    }
  }
  for (const char* pragma : {"PRAGMA synchronous = FULL", "PRAGMA foreign_keys = ON"}) {
    if (status st = detail::exec(db(), pragma); !st.ok) return status::failure(where + st.error);
  }
  if (options_.checkpoint_pages > 0) {
    sqlite3* other = nullptr;
    const int orc = sqlite3_open_v2(path_.c_str(), &other, flags, nullptr);
    checkpoint_db_.reset(other);
    if (orc != SQLITE_OK) {
      return status::failure(where + detail::error(other, orc, "open for checkpoints").error);
    }
    // Short: a checkpoint that cannot get its locks gives up until the next one is due, rather
    // than holding the writer behind it (a RESTART holds the write lock while it waits).
    sqlite3_busy_timeout(other, k_checkpoint_busy_ms);
    if (status st = detail::exec(other, "PRAGMA synchronous = FULL"); !st.ok) {
      return status::failure(where + st.error);
    }
    // Replaces SQLite's automatic checkpoint on the writer's connection.
    sqlite3_wal_hook(db(), &impl::on_wal_commit, this);
  }

  detail::migration_result migrated = detail::migrate(db(), path_, detail::schema_steps());
  if (!migrated.st.ok) return migrated.st;
  schema_version_ = migrated.version;

  for (const statement_sql& entry : statement_table()) {
    if (status st = detail::prepare(db(), entry.sql, this->*entry.handle); !st.ok) {
      return status::failure(where + st.error);
    }
  }
  return {};
}

void sqlite_store::impl::start() {
  if (checkpoint_db_) checkpointer_ = std::thread([this] { checkpoint_loop(); });
  writer_ = std::thread([this] { run(); });
  writer_id_ = writer_.get_id();
}

int sqlite_store::impl::on_wal_commit(void* self, sqlite3*, const char*, int pages) {
  auto* p = static_cast<impl*>(self);
  if (pages >= p->options_.checkpoint_pages) {
    {
      std::lock_guard lock(p->checkpoint_mutex_);
      p->checkpoint_due_ = true;
    }
    p->checkpoint_wake_.notify_one();
  }
  return SQLITE_OK;
}

constexpr int k_wal_restart = 8;

void sqlite_store::impl::checkpoint_loop() {
  for (;;) {
    {
      std::unique_lock lock(checkpoint_mutex_);
      checkpoint_wake_.wait(lock, [this] { return checkpoint_due_ || checkpoint_stopping_; });
      if (checkpoint_stopping_) return;
      checkpoint_due_ = false;
    }
    // PASSIVE copies what no reader needs and never waits for the writer; what it could not
    // copy waits for the next one. A failure (busy, I/O) leaves the WAL as it was: the data is
    // safe there, and the next commit past the threshold tries again.
    int log = 0;
    int done = 0;
    int rc = sqlite3_wal_checkpoint_v2(checkpoint_db_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                       &log, &done);
    // Under steady writing a passive checkpoint never catches the WAL's end, and the WAL only
    // starts over from its beginning once everything in it is copied: past k_wal_restart x the
    // threshold, one RESTART checkpoint waits for the writer's transaction, copies the rest and
    // lets the next transaction start the WAL over, so it stays bounded (a short pause for the
    // writer, once per that many pages, instead of once per threshold).
    if (rc == SQLITE_OK && done < log && log >= k_wal_restart * options_.checkpoint_pages) {
      rc = sqlite3_wal_checkpoint_v2(checkpoint_db_.get(), nullptr, SQLITE_CHECKPOINT_RESTART, &log,
                                     &done);
    }
    if (rc == SQLITE_OK) ++checkpoints_;
  }
}

void sqlite_store::impl::submit(operation op) {
  bool accepted = false;
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      queue_.push_back(std::move(op));
      accepted = true;
    }
  }
  if (accepted) {
    wake_.notify_one();
    return;
  }
  deliver(op, outcome::failed(status::failure("store " + in_quotes(path_) + " is closed")));
}

void sqlite_store::impl::close() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  // From a handler the writer cannot wait for itself; it drains the queue and stops on its own.
  if (std::this_thread::get_id() == writer_id_) return;

  std::lock_guard lock(close_mutex_);
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard stop(checkpoint_mutex_);
    checkpoint_stopping_ = true;
  }
  checkpoint_wake_.notify_all();
  if (checkpointer_.joinable()) checkpointer_.join();
  checkpoint_db_.reset();
  for (const statement_sql& entry : statement_table()) (this->*entry.handle).reset();
  db_.reset();
}

void sqlite_store::impl::run() {
  const std::size_t max_batch = std::max<std::size_t>(options_.max_batch, 1);
  std::vector<operation> batch;
  std::vector<outcome> results;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued has been applied
      const auto end =
          queue_.begin() + static_cast<std::ptrdiff_t>(std::min(queue_.size(), max_batch));
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(end));
      queue_.erase(queue_.begin(), end);
    }
    apply_batch(batch, results);
    // Outside the mutex: handlers may take their time or submit more operations.
    for (std::size_t i = 0; i < batch.size(); ++i) deliver(batch[i], std::move(results[i]));
    batch.clear();
  }
}

void sqlite_store::impl::apply_batch(std::vector<operation>& batch, std::vector<outcome>& results) {
  results.clear();
  results.resize(batch.size());
  auto fail_all = [&](const std::string& why) {
    for (outcome& o : results) o = outcome::failed(status::failure(why));
  };
  try {
    if (status st = run_statement(begin_.get(), "beginning the batch's transaction"); !st.ok) {
      fail_all(st.error + "; nothing of this batch was stored");
      return;
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      status lost;
      if (!apply_in_savepoint(batch[i], results[i], lost)) {
        fail_all(lost.error + "; nothing of this batch was stored" + rollback_if_open());
        return;
      }
    }
    if (status st = run_statement(commit_.get(), "committing the batch"); !st.ok) {
      fail_all(st.error + "; nothing of this batch was stored" + rollback_if_open());
      return;
    }
    commits_.fetch_add(1, std::memory_order_relaxed);
  } catch (const std::exception& e) {
    // Out of memory while building results, most likely: the batch is abandoned as a whole.
    fail_all(std::string("unexpected error: ") + e.what() + "; nothing of this batch was stored" +
             rollback_if_open());
  }
}

bool sqlite_store::impl::apply_in_savepoint(operation& op, outcome& out, status& lost) {
  lost = run_statement(savepoint_.get(), "open savepoint");
  if (!lost.ok) return false;
  out = std::visit([this](auto& o) { return apply(o); }, op);
  if (!out.st.ok) {
    // Some errors (I/O, full disk, out of memory) make SQLite roll back the whole transaction.
    if (sqlite3_get_autocommit(db()) != 0) {
      lost = status::failure("transaction rolled back by SQLite after: " + out.st.error);
      return false;
    }
    lost = run_statement(rollback_to_.get(), "roll back savepoint");
    if (!lost.ok) return false;
    // Undone data must not be handed to the handler either.
    out = outcome::failed(std::move(out.st));
  }
  lost = run_statement(release_.get(), "release savepoint");
  return lost.ok;
}

sqlite_store::impl::outcome sqlite_store::impl::apply(create_op& op) {
  const conversation& c = op.c;
  const std::string what = "creating conversation " + in_quotes(c.id);
  if (status st =
          execute(db(), insert_conversation_.get(), what, c.id, c.shop, c.buyer, c.created_at_ms);
      !st.ok) {
    return outcome::failed(st);
  }
  if (sqlite3_changes(db()) == 0)
    return outcome::failed(status::failure(what + ": it exists already"));
  return {};
}

sqlite_store::impl::outcome sqlite_store::impl::apply(load_op& op) {
  outcome out;
  out.st = find_conversation(op.id, out.found);
  if (!out.st.ok || !out.found) return out;

  sqlite3_stmt* s = select_history_.get();
  detail::reset_on_exit reset(s);
  const std::string what = "loading messages of conversation " + in_quotes(op.id);
  if (int rc = detail::bind_all(s, op.id, as_limit(op.history_limit)); rc != SQLITE_OK) {
    return outcome::failed(detail::error(db(), rc, what));
  }
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    message m;
    m.seq = sqlite3_column_int64(s, 0);
    m.conversation = op.id;
    m.dir = detail::column_text(s, 1) == "in" ? direction::inbound : direction::outbound;
    m.client_id = detail::column_text(s, 2);
    m.text = detail::column_text(s, 3);
    m.reason = detail::column_text(s, 4);
    m.confidence = sqlite3_column_double(s, 5);
    m.order = detail::column_text(s, 6);
    m.payload = detail::column_text(s, 7);
    m.at_ms = sqlite3_column_int64(s, 8);
    out.history.push_back(std::move(m));
  }
  if (rc != SQLITE_DONE) return outcome::failed(detail::error(db(), rc, what));
  return out;
}

sqlite_store::impl::outcome sqlite_store::impl::apply(append_op& op) {
  const turn& t = op.t;
  const std::string& id = t.conversation;
  const std::string where = "appending to conversation " + in_quotes(id);
  if (status st = check_turn(t, where); !st.ok) return outcome::failed(st);
  std::optional<conversation> found;
  if (status st = find_conversation(id, found); !st.ok) return outcome::failed(st);
  if (!found)
    return outcome::failed(status::failure("conversation " + in_quotes(id) + " does not exist"));

  if (t.inbound) {
    if (status st = insert_message(*t.inbound, id, true); !st.ok) return outcome::failed(st);
    if (sqlite3_changes(db()) == 0) {
      outcome out;
      out.duplicate = true;
      return out;
    }
  }
  if (status st = add_evidence(t, where); !st.ok) return outcome::failed(st);
  if (status st = write_state(t, where); !st.ok) return outcome::failed(st);
  for (const message& reply : t.replies) {
    if (status st = insert_message(reply, id, false); !st.ok) return outcome::failed(st);
  }
  if (status st = open_case(t, where); !st.ok) return outcome::failed(st);
  if (status st = change_case(t, where); !st.ok) return outcome::failed(st);
  if (status st = queue_events(t, where); !st.ok) return outcome::failed(st);
  return {};
}

status sqlite_store::impl::check_turn(const turn& t, const std::string& where) {
  if (t.inbound && t.inbound->client_id.empty()) {
    return status::failure(where + ": the message that caused the turn has no client_id");
  }
  auto foreign = [&](const message& m) {
    return !m.conversation.empty() && m.conversation != t.conversation;
  };
  if ((t.inbound && foreign(*t.inbound)) ||
      std::any_of(t.replies.begin(), t.replies.end(), foreign)) {
    return status::failure(where + ": a message belongs to another conversation");
  }
  if (t.opened_case) {
    const case_record& c = *t.opened_case;
    if (c.id.empty()) return status::failure(where + ": the case it opens has no id");
    if (!c.conversation.empty() && c.conversation != t.conversation) {
      return status::failure(where + ": the case it opens, " + in_quotes(c.id) +
                             ", belongs to another conversation");
    }
  }
  for (const outbox_event& e : t.events) {
    if (e.case_id.empty()) {
      return status::failure(where + ": event " + in_quotes(e.type) + " names no case");
    }
  }
  return {};
}

status sqlite_store::impl::write_state(const turn& t, const std::string& where) {
  if (!t.state) return {};
  const state_update& st = *t.state;
  if (status s =
          execute(db(), update_state_.get(), where + ": writing its state", st.state, st.phase,
                  unless_zero(st.remind_at_ms), t.conversation, st.expected_version);
      !s.ok) {
    return s;
  }
  if (sqlite3_changes(db()) != 0) return {};
  status conflict = status::failure(where + ": its state changed since it was read");
  conflict.conflict = true;
  return conflict;
}

status sqlite_store::impl::open_case(const turn& t, const std::string& where) {
  if (!t.opened_case) return {};
  const case_record& c = *t.opened_case;
  const std::string status_text = c.status.empty() ? std::string("open") : c.status;
  return execute(db(), insert_case_.get(), where + ": opening case " + in_quotes(c.id), c.id,
                 t.conversation, c.shop, c.buyer, c.order, c.reason, status_text, c.agent,
                 c.created_at_ms, c.updated_at_ms, unless_zero(c.due_at_ms),
                 unless_zero(c.warn_at_ms), c.details, c.outcome);
}

status sqlite_store::impl::change_case(const turn& t, const std::string& where) {
  if (!t.case_change) return {};
  const case_update& u = *t.case_change;
  const std::string what = where + ": changing case " + in_quotes(u.id);
  // A missing or foreign case is a caller's mistake, not a race: reloading would not help, so
  // it must not be reported as a conflict.
  std::vector<std::string> owner;
  if (status st = query(
          db(), select_case_owner_.get(), what,
          [](sqlite3_stmt* s) { return detail::column_text(s, 0); }, owner, u.id);
      !st.ok) {
    return st;
  }
  if (owner.empty()) return status::failure(what + ": there is no such case");
  if (owner.front() != t.conversation) {
    return status::failure(what + ": it belongs to another conversation");
  }
  if (status st =
          execute(db(), update_case_.get(), what, u.status, u.agent, u.updated_at_ms,
                  unless_zero(u.warn_at_ms), u.outcome, u.id, u.expected_version, t.conversation);
      !st.ok) {
    return st;
  }
  if (sqlite3_changes(db()) != 0) return {};
  status conflict = status::failure(what + ": it changed since it was read (version " +
                                    std::to_string(u.expected_version) + " is out of date)");
  conflict.conflict = true;
  return conflict;
}

status sqlite_store::impl::queue_events(const turn& t, const std::string& where) {
  for (const outbox_event& e : t.events) {
    const std::string what =
        where + ": queueing event " + in_quotes(e.type) + " of case " + in_quotes(e.case_id);
    if (status st = execute(db(), insert_event_.get(), what, e.case_id, e.type, e.body,
                            e.created_at_ms, e.next_attempt_ms);
        !st.ok) {
      return st;
    }
  }
  return {};
}

sqlite_store::impl::outcome sqlite_store::impl::apply(due_op& op) {
  outcome out;
  sqlite3_stmt* s = select_due_.get();
  detail::reset_on_exit reset(s);
  const std::string what = "looking up due reminders";
  if (int rc = detail::bind_all(s, op.now_ms, as_limit(op.limit)); rc != SQLITE_OK) {
    return outcome::failed(detail::error(db(), rc, what));
  }
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    out.due.push_back(read_conversation(s, detail::column_text(s, 0), 1));
  }
  if (rc != SQLITE_DONE) return outcome::failed(detail::error(db(), rc, what));
  return out;
}

status sqlite_store::impl::add_evidence(const turn& t, const std::string& where) {
  if (t.evidence.empty()) return {};
  if (t.max_evidence != 0) {
    sqlite3_stmt* s = count_evidence_.get();
    detail::reset_on_exit reset(s);
    const std::string what = where + ": counting its evidence";
    if (int rc = detail::bind_all(s, t.conversation); rc != SQLITE_OK) {
      return detail::error(db(), rc, what);
    }
    if (int rc = sqlite3_step(s); rc != SQLITE_ROW) return detail::error(db(), rc, what);
    const auto held = static_cast<std::size_t>(sqlite3_column_int64(s, 0));
    if (held + t.evidence.size() > t.max_evidence) {
      status refused = status::failure(
          "conversation " + in_quotes(t.conversation) + " already has " + std::to_string(held) +
          " evidence files; " + std::to_string(t.evidence.size()) +
          " more would pass the limit of " + std::to_string(t.max_evidence));
      refused.over_limit = true;
      return refused;
    }
  }
  for (const evidence_record& e : t.evidence) {
    if (!e.conversation.empty() && e.conversation != t.conversation) {
      return status::failure(where + ": evidence " + in_quotes(e.id) +
                             " belongs to another conversation");
    }
    const auto size = static_cast<std::int64_t>(
        std::min<std::uint64_t>(e.size, std::numeric_limits<std::int64_t>::max()));
    if (status st = execute(db(), insert_evidence_.get(),
                            where + ": storing evidence " + in_quotes(e.id), e.id, t.conversation,
                            e.item, e.original_name, e.mime, e.kind, size, e.sha256, e.at_ms);
        !st.ok) {
      return st;
    }
  }
  return {};
}

sqlite_store::impl::outcome sqlite_store::impl::apply(evidence_op& op) {
  outcome out;
  sqlite3_stmt* s = op.list ? list_evidence_.get() : select_evidence_.get();
  detail::reset_on_exit reset(s);
  const std::string what =
      op.list ? "listing the evidence of conversation " + in_quotes(op.conversation)
              : "looking up evidence " + in_quotes(op.id);
  if (int rc = detail::bind_all(s, op.list ? op.conversation : op.id); rc != SQLITE_OK) {
    return outcome::failed(detail::error(db(), rc, what));
  }
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    evidence_record e;
    e.id = detail::column_text(s, 0);
    e.conversation = detail::column_text(s, 1);
    e.item = detail::column_text(s, 2);
    e.original_name = detail::column_text(s, 3);
    e.mime = detail::column_text(s, 4);
    e.kind = detail::column_text(s, 5);
    e.size = static_cast<std::uint64_t>(std::max<std::int64_t>(sqlite3_column_int64(s, 6), 0));
    e.sha256 = detail::column_text(s, 7);
    e.at_ms = sqlite3_column_int64(s, 8);
    out.evidence.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return outcome::failed(detail::error(db(), rc, what));
  return out;
}

sqlite_store::impl::outcome sqlite_store::impl::apply(case_op& op) {
  outcome out;
  if (op.query) {
    out.st = find_cases(*op.query, out.cases);
  } else {
    out.st = query(db(), select_case_.get(), "looking up case " + in_quotes(op.id), read_case,
                   out.cases, op.id);
  }
  return out;
}

// The filters vary per call, so the statement is built per call; every value is bound.
status sqlite_store::impl::find_cases(const case_query& q, std::vector<case_record>& out) {
  const std::string what = "finding cases";
  std::vector<std::string> conditions;
  if (!q.statuses.empty()) {
    std::string in = "status IN (?";
    for (std::size_t i = 1; i < q.statuses.size(); ++i) in += ", ?";
    conditions.push_back(in + ")");
  }
  if (!q.shop.empty()) conditions.push_back("shop = ?");
  if (!q.buyer.empty()) conditions.push_back("buyer = ?");
  if (q.warn_due_by_ms != 0) conditions.push_back("warn_at_ms > 0 AND warn_at_ms <= ?");
  std::string sql(k_select_cases);
  for (std::size_t i = 0; i < conditions.size(); ++i) {
    sql += (i == 0 ? " WHERE " : " AND ") + conditions[i];
  }
  sql += " ORDER BY created_at_ms, id LIMIT ?";

  stmt_handle s;
  if (status st = detail::prepare(db(), sql, s); !st.ok)
    return status::failure(what + ": " + st.error);
  int index = 0;
  int rc = SQLITE_OK;
  auto bind = [&](const auto& value) {
    if (rc == SQLITE_OK) rc = detail::bind_value(s.get(), ++index, value);
  };
  for (const std::string& st : q.statuses) bind(st);
  if (!q.shop.empty()) bind(q.shop);
  if (!q.buyer.empty()) bind(q.buyer);
  if (q.warn_due_by_ms != 0) bind(q.warn_due_by_ms);
  bind(as_limit(q.limit));
  if (rc != SQLITE_OK) return detail::error(db(), rc, what);
  return query(db(), s.get(), what, read_case, out);
}

sqlite_store::impl::outcome sqlite_store::impl::apply(due_events_op& op) {
  outcome out;
  out.st = query(db(), select_due_events_.get(), "looking up due webhook events", read_event,
                 out.events, op.now_ms, as_limit(op.limit));
  return out;
}

sqlite_store::impl::outcome sqlite_store::impl::apply(attempt_op& op) {
  const event_attempt& a = op.a;
  const std::string what = "recording an attempt to deliver event " + std::to_string(a.seq);
  if (a.delivered && a.given_up) {
    return outcome::failed(status::failure(what + ": it cannot be both delivered and given up"));
  }
  status st = a.delivered ? execute(db(), mark_delivered_.get(), what, a.at_ms, a.seq)
              : a.given_up
                  ? execute(db(), mark_given_up_.get(), what, a.at_ms, a.error, a.seq)
                  : execute(db(), mark_retry_.get(), what, a.next_attempt_ms, a.error, a.seq);
  if (st.ok && sqlite3_changes(db()) == 0) st = why_not_pending(a.seq, what);
  outcome out;
  out.st = std::move(st);
  return out;
}

// Why an update of a pending event changed nothing.
status sqlite_store::impl::why_not_pending(std::int64_t seq, const std::string& what) {
  std::vector<std::pair<bool, bool>> found;
  status st = query(
      db(), select_event_.get(), what,
      [](sqlite3_stmt* s) {
        return std::pair(sqlite3_column_int(s, 0) != 0, sqlite3_column_int(s, 1) != 0);
      },
      found, seq);
  if (!st.ok) return st;
  if (found.empty()) return status::failure(what + ": there is no such event");
  return status::failure(
      what + (found.front().first ? ": it was delivered already" : ": it was given up already"));
}

sqlite_store::impl::outcome sqlite_store::impl::apply(put_agent_op& op) {
  const agent_record& a = op.a;
  const std::string what = "storing agent " + in_quotes(a.name);
  if (a.name.empty()) return outcome::failed(status::failure("storing an agent: it has no name"));
  if (!is_sha256_hex(a.token_sha256)) {
    return outcome::failed(
        status::failure(what + ": the token hash is not 64 lowercase hex digits"));
  }
  // Checked first so the refusal names the holder, not just a UNIQUE constraint.
  std::vector<agent_record> holder;
  if (status st =
          query(db(), select_agent_by_hash_.get(), what, read_agent, holder, a.token_sha256);
      !st.ok) {
    return outcome::failed(st);
  }
  if (!holder.empty() && holder.front().name != a.name) {
    return outcome::failed(status::failure(what + ": its token is already agent " +
                                           in_quotes(holder.front().name) + "'s"));
  }
  outcome out;
  out.st = execute(db(), upsert_agent_.get(), what, a.name, a.token_sha256, a.created_at_ms);
  return out;
}

sqlite_store::impl::outcome sqlite_store::impl::apply(revoke_agent_op& op) {
  outcome out;
  out.st = execute(db(), delete_agent_.get(), "revoking agent " + in_quotes(op.name), op.name);
  out.found_agent = out.st.ok && sqlite3_changes(db()) != 0;
  return out;
}

sqlite_store::impl::outcome sqlite_store::impl::apply(agent_op& op) {
  outcome out;
  if (op.list) {
    out.st = query(db(), list_agents_.get(), "listing agents", read_agent, out.agents);
  } else {
    out.st = query(db(), select_agent_by_hash_.get(), "looking up an agent by token", read_agent,
                   out.agents, op.token_sha256);
  }
  return out;
}

conversation sqlite_store::impl::read_conversation(sqlite3_stmt* s, std::string id, int first) {
  conversation c;
  c.id = std::move(id);
  c.shop = detail::column_text(s, first);
  c.buyer = detail::column_text(s, first + 1);
  c.created_at_ms = sqlite3_column_int64(s, first + 2);
  c.state = detail::column_text(s, first + 3);
  c.state_version = sqlite3_column_int64(s, first + 4);
  c.phase = detail::column_text(s, first + 5);
  c.remind_at_ms = sqlite3_column_int64(s, first + 6);  // NULL reads as 0: none due
  return c;
}

status sqlite_store::impl::find_conversation(const std::string& id,
                                             std::optional<conversation>& found) {
  sqlite3_stmt* s = select_conversation_.get();
  detail::reset_on_exit reset(s);
  const std::string what = "looking up conversation " + in_quotes(id);
  if (int rc = detail::bind_all(s, id); rc != SQLITE_OK) return detail::error(db(), rc, what);
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) {
    found.reset();
    return {};
  }
  if (rc != SQLITE_ROW) return detail::error(db(), rc, what);
  found = read_conversation(s, id, 0);
  return {};
}

status sqlite_store::impl::insert_message(const message& m, const std::string& conversation_id,
                                          bool caused_turn) {
  sqlite3_stmt* s = insert_message_.get();
  const std::string of = " message of conversation " + in_quotes(conversation_id);
  if (caused_turn) {
    const bool in = m.dir == direction::inbound;
    return execute(db(), s, std::string("storing the ") + (in ? "inbound" : "outbound") + of,
                   conversation_id, in ? "in" : "out", m.client_id, m.text, m.reason, m.confidence,
                   m.order, m.payload, m.at_ms);
  }
  return execute(db(), s, "storing a reply" + of, conversation_id, "out", nullptr, m.text, m.reason,
                 m.confidence, m.order, m.payload, m.at_ms);
}

status sqlite_store::impl::run_statement(sqlite3_stmt* s, std::string_view what) {
  return execute(db(), s, what);
}

std::string sqlite_store::impl::rollback_if_open() {
  if (sqlite3_get_autocommit(db()) != 0) return {};  // SQLite already rolled it back
  if (status st = run_statement(rollback_.get(), "rollback"); !st.ok) return " (" + st.error + ")";
  return {};
}

void sqlite_store::impl::deliver(operation& op, outcome out) noexcept {
  try {
    std::visit([&out](auto& o) { finish(o, out); }, op);
  } catch (...) {
    // A handler's exception has nowhere useful to go; the writer must go on serving the others.
  }
}

void sqlite_store::impl::finish(create_op& op, outcome& out) {
  if (op.done) op.done(std::move(out.st));
}

void sqlite_store::impl::finish(load_op& op, outcome& out) {
  if (op.done) op.done(std::move(out.st), std::move(out.found), std::move(out.history));
}

void sqlite_store::impl::finish(append_op& op, outcome& out) {
  if (op.done) op.done(std::move(out.st), out.duplicate);
}

void sqlite_store::impl::finish(due_op& op, outcome& out) {
  if (op.done) op.done(std::move(out.st), std::move(out.due));
}

void sqlite_store::impl::finish(evidence_op& op, outcome& out) {
  if (op.list) {
    if (op.all) op.all(std::move(out.st), std::move(out.evidence));
    return;
  }
  std::optional<evidence_record> found;
  if (!out.evidence.empty()) found = std::move(out.evidence.front());
  if (op.one) op.one(std::move(out.st), std::move(found));
}

void sqlite_store::impl::finish(case_op& op, outcome& out) {
  if (op.query) {
    if (op.all) op.all(std::move(out.st), std::move(out.cases));
    return;
  }
  std::optional<case_record> found;
  if (!out.cases.empty()) found = std::move(out.cases.front());
  if (op.one) op.one(std::move(out.st), std::move(found));
}

void sqlite_store::impl::finish(due_events_op& op, outcome& out) {
  if (op.done) op.done(std::move(out.st), std::move(out.events));
}

void sqlite_store::impl::finish(attempt_op& op, outcome& out) {
  if (op.done) op.done(std::move(out.st));
}

void sqlite_store::impl::finish(put_agent_op& op, outcome& out) {
  if (op.done) op.done(std::move(out.st));
}

void sqlite_store::impl::finish(revoke_agent_op& op, outcome& out) {
  if (op.done) op.done(std::move(out.st), out.found_agent);
}

void sqlite_store::impl::finish(agent_op& op, outcome& out) {
  if (op.list) {
    if (op.all) op.all(std::move(out.st), std::move(out.agents));
    return;
  }
  std::optional<agent_record> found;
  if (!out.agents.empty()) found = std::move(out.agents.front());
  if (op.one) op.one(std::move(out.st), std::move(found));
}

std::unique_ptr<sqlite_store> sqlite_store::open(const std::string& path, sqlite_options options,
                                                 std::string& error) {
  auto p = std::make_unique<impl>(path, options);
  if (status st = p->open(); !st.ok) {
    error = std::move(st.error);
    return nullptr;
  }
  // The store owns the impl before the writer starts, so no path leaves a thread unjoined.
  std::unique_ptr<sqlite_store> s(new sqlite_store(std::move(p)));
  try {
    s->impl_->start();
  } catch (const std::system_error& e) {
    error =
        "cannot open database " + in_quotes(path) + ": cannot start the writer thread: " + e.what();
    return nullptr;
  }
  return s;
}

sqlite_store::sqlite_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

sqlite_store::~sqlite_store() { close(); }

void sqlite_store::close() { impl_->close(); }

int sqlite_store::schema_version() const { return impl_->schema_version_; }

std::size_t sqlite_store::checkpoints() const { return impl_->checkpoints_; }

std::size_t sqlite_store::commits() const {
  return impl_->commits_.load(std::memory_order_relaxed);
}

void sqlite_store::create_conversation(conversation c, status_handler done) {
  impl_->submit(impl::create_op{std::move(c), std::move(done)});
}

void sqlite_store::load_conversation(std::string id, std::size_t history_limit, load_handler done) {
  impl_->submit(impl::load_op{std::move(id), history_limit, std::move(done)});
}

void sqlite_store::append_turn(turn t, turn_handler done) {
  impl_->submit(impl::append_op{std::move(t), std::move(done)});
}

void sqlite_store::due_reminders(std::int64_t now_ms, std::size_t limit,
                                 conversations_handler done) {
  impl_->submit(impl::due_op{now_ms, limit, std::move(done)});
}

void sqlite_store::load_evidence(std::string id, evidence_handler done) {
  impl::evidence_op op;
  op.id = std::move(id);
  op.one = std::move(done);
  impl_->submit(std::move(op));
}

void sqlite_store::list_evidence(std::string conversation, evidence_list_handler done) {
  impl::evidence_op op;
  op.conversation = std::move(conversation);
  op.list = true;
  op.all = std::move(done);
  impl_->submit(std::move(op));
}

void sqlite_store::load_case(std::string id, case_handler done) {
  impl::case_op op;
  op.id = std::move(id);
  op.one = std::move(done);
  impl_->submit(std::move(op));
}

void sqlite_store::find_cases(case_query q, cases_handler done) {
  impl::case_op op;
  op.query = std::move(q);
  op.all = std::move(done);
  impl_->submit(std::move(op));
}

void sqlite_store::due_events(std::int64_t now_ms, std::size_t limit, events_handler done) {
  impl_->submit(impl::due_events_op{now_ms, limit, std::move(done)});
}

void sqlite_store::record_attempt(event_attempt a, status_handler done) {
  impl_->submit(impl::attempt_op{std::move(a), std::move(done)});
}

void sqlite_store::put_agent(agent_record a, status_handler done) {
  impl_->submit(impl::put_agent_op{std::move(a), std::move(done)});
}

void sqlite_store::revoke_agent(std::string name, std::function<void(status, bool found)> done) {
  impl_->submit(impl::revoke_agent_op{std::move(name), std::move(done)});
}

void sqlite_store::find_agent(std::string token_sha256, agent_handler done) {
  impl::agent_op op;
  op.token_sha256 = std::move(token_sha256);
  op.one = std::move(done);
  impl_->submit(std::move(op));
}

void sqlite_store::list_agents(agents_handler done) {
  impl::agent_op op;
  op.list = true;
  op.all = std::move(done);
  impl_->submit(std::move(op));
}

}  // namespace shouhou::store
