#pragma once
// SQLite implementation of the store: one database file in WAL mode, one writer thread that
// applies queued operations in batches, one transaction per batch (group commit), so that many
// buyers writing at once share each commit (and its fsync) instead of paying one each.
//
// Durability: synchronous=FULL, so a handler reporting success means the data survives a power
// loss, not only a crash of the process.
//
// Thread safety: all public members may be called from any thread. Handlers run on the writer
// thread after the batch holding their operation commits.

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
};

class sqlite_store final : public store {
 public:
  // Opens (creating if needed) the database at `path` and migrates its schema to the newest
  // version. Returns nullptr and sets `error` (naming the file and SQLite's message) on failure.
  static std::unique_ptr<sqlite_store> open(const std::string& path, sqlite_options options,
                                            std::string& error);

  ~sqlite_store() override;  // runs close()

  // Stops accepting operations, applies and commits everything queued, runs their handlers,
  // then closes the database. Operations submitted after close() fail at once.
  void close();

  // The schema version the database is at after open().
  int schema_version() const;

  void create_conversation(conversation c, status_handler done) override;
  void load_conversation(std::string id, std::size_t history_limit, load_handler done) override;
  void append_turn(turn t, turn_handler done) override;

  // Implementation detail, public only so the .cpp's helpers can name it.
  struct impl;

 private:
  explicit sqlite_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace shouhou::store
