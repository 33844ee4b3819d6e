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
  using operation = std::variant<create_op, load_op, append_op, due_op, evidence_op>;

  // What applying an operation produced; handed to its handler once the batch's fate is known.
  struct outcome {
    status st;
    bool duplicate = false;
    std::optional<conversation> found;
    std::vector<message> history;
    std::vector<conversation> due;
    std::vector<evidence_record> evidence;

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
  status add_evidence(const turn& t, const std::string& where);
  static conversation read_conversation(sqlite3_stmt* s, std::string id, int first_column);
  status find_conversation(const std::string& id, std::optional<conversation>& found);
  status insert_message(const message& m, const std::string& conversation_id, bool inbound);
  status run_statement(sqlite3_stmt* s, std::string_view what);
  std::string rollback_if_open();
  static void deliver(operation& op, outcome out) noexcept;

  sqlite3* db() const { return db_.get(); }

  const std::string path_;
  const sqlite_options options_;
  int schema_version_ = 0;

  // Used by the writer thread only (and by open()/close() while no writer runs). The statements
  // are declared after the connection so that they are finalized before it closes.
  detail::db_handle db_;
  stmt_handle begin_, commit_, rollback_, savepoint_, release_, rollback_to_;
  stmt_handle insert_conversation_, select_conversation_, insert_message_, select_history_;
  stmt_handle update_state_, insert_handoff_, select_due_;
  stmt_handle insert_evidence_, count_evidence_, select_evidence_, list_evidence_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<operation> queue_;  // guarded by mutex_
  bool stopping_ = false;        // guarded by mutex_

  std::atomic<std::size_t> commits_{0};

  std::mutex close_mutex_;  // serialises joining the writer and closing the connection
  std::thread writer_;
  std::thread::id writer_id_;
};

namespace {

std::string in_quotes(const std::string& s) { return "'" + s + "'"; }

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

  detail::migration_result migrated = detail::migrate(db(), path_, detail::schema_steps());
  if (!migrated.st.ok) return migrated.st;
  schema_version_ = migrated.version;

  const std::pair<stmt_handle*, std::string_view> statements[] = {
      {&begin_, "BEGIN IMMEDIATE"},
      {&commit_, "COMMIT"},
      {&rollback_, "ROLLBACK"},
      {&savepoint_, "SAVEPOINT op"},
      {&release_, "RELEASE op"},
      {&rollback_to_, "ROLLBACK TO op"},
      {&insert_conversation_,
       "INSERT INTO conversations(id, shop, buyer, created_at_ms) VALUES(?, ?, ?, ?)"
       " ON CONFLICT(id) DO NOTHING"},
      {&select_conversation_,
       "SELECT shop, buyer, created_at_ms, state, state_version, phase, remind_at_ms"
       " FROM conversations WHERE id = ?"},
      {&update_state_,
       "UPDATE conversations SET state = ?, phase = ?, remind_at_ms = ?,"
       " state_version = state_version + 1 WHERE id = ? AND state_version = ?"},
      {&insert_handoff_,
       "INSERT INTO handoffs(conversation, at_ms, trigger, reason, snapshot) VALUES(?, ?, ?, ?, ?)"},
      {&select_due_,
       "SELECT id, shop, buyer, created_at_ms, state, state_version, phase, remind_at_ms"
       " FROM conversations WHERE remind_at_ms IS NOT NULL AND remind_at_ms <= ?"
       " ORDER BY remind_at_ms LIMIT ?"},
      {&insert_evidence_,
       "INSERT INTO evidence(id, conversation, item, original_name, mime, kind, size, sha256,"
       " at_ms) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)"},
      {&count_evidence_, "SELECT count(*) FROM evidence WHERE conversation = ?"},
      {&select_evidence_,
       "SELECT id, conversation, item, original_name, mime, kind, size, sha256, at_ms"
       " FROM evidence WHERE id = ?"},
      {&list_evidence_,
       "SELECT id, conversation, item, original_name, mime, kind, size, sha256, at_ms"
       " FROM evidence WHERE conversation = ? ORDER BY at_ms, rowid"},
      {&insert_message_,
       "INSERT INTO messages(conversation, direction, client_id, text, reason, confidence,"
       " order_no, payload, at_ms) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"},
      {&select_history_,
       "SELECT seq, direction, client_id, text, reason, confidence, order_no, payload, at_ms"
       " FROM (SELECT * FROM messages WHERE conversation = ? ORDER BY seq DESC LIMIT ?)"
       " ORDER BY seq"},
  };
  for (const auto& [handle, sql] : statements) {
    if (status st = detail::prepare(db(), sql, *handle); !st.ok) {
      return status::failure(where + st.error);
    }
  }
  return {};
}

void sqlite_store::impl::start() {
  writer_ = std::thread([this] { run(); });
  writer_id_ = writer_.get_id();
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
  for (stmt_handle* s :
       {&begin_, &commit_, &rollback_, &savepoint_, &release_, &rollback_to_, &insert_conversation_,
        &select_conversation_, &insert_message_, &select_history_, &update_state_, &insert_handoff_,
        &select_due_, &insert_evidence_, &count_evidence_, &select_evidence_, &list_evidence_}) {
    s->reset();
  }
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
    out.found.reset();
    out.history.clear();
    out.evidence.clear();
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
  const auto limit = static_cast<std::int64_t>(
      std::min<std::size_t>(op.history_limit, std::numeric_limits<std::int64_t>::max()));
  if (int rc = detail::bind_all(s, op.id, limit); rc != SQLITE_OK) {
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
  const std::string& id = op.t.conversation;
  const std::string where = "appending to conversation " + in_quotes(id);
  if (op.t.inbound && op.t.inbound->client_id.empty()) {
    return outcome::failed(status::failure(where + ": the inbound message has no client_id"));
  }
  auto foreign = [&](const message& m) { return !m.conversation.empty() && m.conversation != id; };
  if ((op.t.inbound && foreign(*op.t.inbound)) ||
      std::any_of(op.t.replies.begin(), op.t.replies.end(), foreign)) {
    return outcome::failed(status::failure(where + ": a message belongs to another conversation"));
  }
  std::optional<conversation> found;
  if (status st = find_conversation(id, found); !st.ok) return outcome::failed(st);
  if (!found)
    return outcome::failed(status::failure("conversation " + in_quotes(id) + " does not exist"));

  if (op.t.inbound) {
    if (status st = insert_message(*op.t.inbound, id, true); !st.ok) return outcome::failed(st);
    if (sqlite3_changes(db()) == 0) {
      outcome out;
      out.duplicate = true;
      return out;
    }
  }
  if (status st = add_evidence(op.t, where); !st.ok) return outcome::failed(st);
  if (const auto& st = op.t.state) {
    const std::optional<std::int64_t> remind =
        st->remind_at_ms ? std::optional<std::int64_t>(st->remind_at_ms) : std::nullopt;
    if (status s = execute(db(), update_state_.get(), where + ": writing its state", st->state,
                           st->phase, remind, id, st->expected_version);
        !s.ok) {
      return outcome::failed(s);
    }
    if (sqlite3_changes(db()) == 0) {
      status conflict = status::failure(where + ": its state changed since it was read");
      conflict.conflict = true;
      return outcome::failed(conflict);
    }
  }
  for (const message& reply : op.t.replies) {
    if (status st = insert_message(reply, id, false); !st.ok) return outcome::failed(st);
  }
  if (const auto& h = op.t.handoff) {
    if (status st = execute(db(), insert_handoff_.get(), where + ": recording the handoff", id,
                            h->at_ms, h->trigger, h->reason, h->snapshot);
        !st.ok) {
      return outcome::failed(st);
    }
  }
  return {};
}

sqlite_store::impl::outcome sqlite_store::impl::apply(due_op& op) {
  outcome out;
  sqlite3_stmt* s = select_due_.get();
  detail::reset_on_exit reset(s);
  const std::string what = "looking up due reminders";
  const auto limit = static_cast<std::int64_t>(
      std::min<std::size_t>(op.limit, std::numeric_limits<std::int64_t>::max()));
  if (int rc = detail::bind_all(s, op.now_ms, limit); rc != SQLITE_OK) {
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
          " evidence files; " + std::to_string(t.evidence.size()) + " more would pass the limit of " +
          std::to_string(t.max_evidence));
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
    if (status st = execute(db(), insert_evidence_.get(), where + ": storing evidence " + in_quotes(e.id),
                            e.id, t.conversation, e.item, e.original_name, e.mime, e.kind, size,
                            e.sha256, e.at_ms);
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
  const std::string what = op.list ? "listing the evidence of conversation " + in_quotes(op.conversation)
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
                                          bool inbound) {
  const std::string what = std::string("storing ") + (inbound ? "inbound" : "reply") +
                           " message of conversation " + in_quotes(conversation_id);
  sqlite3_stmt* s = insert_message_.get();
  if (inbound) {
    return execute(db(), s, what, conversation_id, "in", m.client_id, m.text, m.reason,
                   m.confidence, m.order, m.payload, m.at_ms);
  }
  return execute(db(), s, what, conversation_id, "out", nullptr, m.text, m.reason, m.confidence,
                 m.order, m.payload, m.at_ms);
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
    if (auto* c = std::get_if<create_op>(&op)) {
      if (c->done) c->done(std::move(out.st));
    } else if (auto* l = std::get_if<load_op>(&op)) {
      if (l->done) l->done(std::move(out.st), std::move(out.found), std::move(out.history));
    } else if (auto* a = std::get_if<append_op>(&op)) {
      if (a->done) a->done(std::move(out.st), out.duplicate);
    } else if (auto* d = std::get_if<due_op>(&op)) {
      if (d->done) d->done(std::move(out.st), std::move(out.due));
    } else if (auto* e = std::get_if<evidence_op>(&op)) {
      if (e->list) {
        if (e->all) e->all(std::move(out.st), std::move(out.evidence));
      } else if (e->one) {
        std::optional<evidence_record> found;
        if (!out.evidence.empty()) found = std::move(out.evidence.front());
        e->one(std::move(out.st), std::move(found));
      }
    }
  } catch (...) {
    // A handler's exception has nowhere useful to go; the writer must go on serving the others.
  }
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

}  // namespace shouhou::store
