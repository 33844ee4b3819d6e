#pragma once
// SQLite implementation of the store: one database file in WAL mode, one writer thread that
// applies queued operations in batches, one transaction per batch (group commit), so that many
// buyers writing at once share each commit (and its fsync) instead of paying one each.
//
// Durability: synchronous=FULL, so a handler reporting success means the data survives a power
// loss, not only a crash of the process.
//
// Thread safety: all public members may be called from any thread. Handlers run on the writer
// thread after the batch holding their operation commits (or fails); an exception a handler
// throws is caught and ignored there, so one faulty handler cannot stop the store. A handler may
// submit further operations (they join a later batch) but must not destroy the store.
//
// The queue of submitted operations is not bounded here: callers limit what they have in flight.

#include <cstddef>
#include <memory>
#include <string>

#include "store/store.hpp"

namespace shouhou::store {

struct sqlite_options {
  // Most operations applied in one transaction. Larger batches amortise the commit further but
  // delay the first handler of the batch.
  std::size_t max_batch = 512;
  // Milliseconds SQLite waits on a lock held by another process before failing.
  int busy_timeout_ms = 5000;
  // Once the WAL holds this many pages after a commit, a checkpoint copies them into the
  // database file: on a thread and connection of its own (PASSIVE: it never blocks the writer),
  // so no queued turn waits behind the checkpoint's fsync of the main file, as it would with
  // SQLite's automatic checkpoint, which runs inside the committing call. 0: SQLite's own.
  int checkpoint_pages = 1000;
};

class sqlite_store final : public store {
 public:
  // Opens (creating if needed) the database at `path` and migrates its schema to the newest
  // version. Returns nullptr and sets `error` (naming the file and SQLite's message) on failure:
  // among others when the parent folder of `path` does not exist, when the file is not a
  // database, and when its schema is newer than this program knows. `path` must name a file
  // (WAL mode rules out ":memory:").
  static std::unique_ptr<sqlite_store> open(const std::string& path, sqlite_options options,
                                            std::string& error);

  ~sqlite_store() override;  // runs close()

  // Stops accepting operations, applies and commits everything queued, runs their handlers,
  // then closes the database. Idempotent; the destructor calls it.
  // Operations submitted after close() fail at once: their handler runs on the calling thread,
  // inside the call, with a status saying the store is closed.
  // Called from a handler, close() only stops accepting: the writer thread still drains the
  // queue, and the destructor (or a close() from another thread) waits for it and closes the file.
  void close();

  // The schema version the database is at after open().
  int schema_version() const;

  // Transactions (batches) committed so far, for tests and metrics.
  std::size_t commits() const;
  // Checkpoints the checkpoint thread completed so far, for tests and metrics.
  std::size_t checkpoints() const;

  void create_conversation(conversation c, status_handler done) override;
  void load_conversation(std::string id, std::size_t history_limit, load_handler done) override;
  // Beyond the store contract: `t.inbound.client_id` must not be empty (there would be nothing to
  // de-duplicate on, so the turn fails); `t.inbound` is stored with its own direction and
  // client_id, every reply as 'out' with a NULL client_id, all in the turn's conversation (a
  // message naming another conversation fails the turn). `seq` fields are ignored; SQLite assigns
  // them. `opened_case` must name this conversation or none, and its id must be new; its
  // `version` is ignored (a case opens at 0) and an empty status means "open". A `case_change`
  // of an unknown case, or of another conversation's, fails without status::conflict (reloading
  // would not help). Events start with no attempts whatever their `attempts` and `last_error`
  // say, and each must name a case (`case_id` is what orders delivery).
  void append_turn(turn t, turn_handler done) override;
  void due_reminders(std::int64_t now_ms, std::size_t limit, conversations_handler done) override;
  // Evidence rows go in with append_turn (turn::evidence); an id used before fails the turn.
  void load_evidence(std::string id, evidence_handler done) override;
  void list_evidence(std::string conversation, evidence_list_handler done) override;
  void load_case(std::string id, case_handler done) override;
  // `shop` and `buyer` filter independently: a shop alone lists that shop's cases.
  void find_cases(case_query q, cases_handler done) override;
  void due_events(std::int64_t now_ms, std::size_t limit, events_handler done) override;
  // Fails for an unknown seq, for an event already delivered or given up (so of two senders of
  // one event only the first records its fate), and when both `delivered` and `given_up` are
  // set. Giving up counts as a failed attempt and keeps its error.
  void record_attempt(event_attempt a, status_handler done) override;
  // Fails for an empty name, a hash that is not 64 lowercase hex digits, and a hash that belongs
  // to another agent. A new token for an existing agent keeps the agent's created_at_ms.
  void put_agent(agent_record a, status_handler done) override;
  void revoke_agent(std::string name, std::function<void(status, bool found)> done) override;
  void find_agent(std::string token_sha256, agent_handler done) override;
  void list_agents(agents_handler done) override;

  // Implementation detail, public only so the .cpp's helpers can name it.
  struct impl;

 private:
  explicit sqlite_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace shouhou::store
