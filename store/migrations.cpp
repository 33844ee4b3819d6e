#include "store/detail/migrations.hpp"

#include <array>

#include "store/detail/sqlite.hpp"

namespace shouhou::store::detail {
namespace {

// Version 1: conversations and their messages. Outbound messages have client_id NULL, so the
// partial unique index de-duplicates buyer messages only.
constexpr std::string_view k_v1 = R"sql(
CREATE TABLE conversations(
  id TEXT PRIMARY KEY,
  shop TEXT NOT NULL,
  buyer TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL
);
CREATE TABLE messages(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  conversation TEXT NOT NULL REFERENCES conversations(id),
  direction TEXT NOT NULL CHECK(direction IN ('in', 'out')),
  client_id TEXT,
  text TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  confidence REAL NOT NULL DEFAULT 0,
  order_no TEXT NOT NULL DEFAULT '',
  payload TEXT NOT NULL DEFAULT '',
  at_ms INTEGER NOT NULL
);
CREATE UNIQUE INDEX messages_client_id ON messages(conversation, client_id)
  WHERE client_id IS NOT NULL;
CREATE INDEX messages_conversation_seq ON messages(conversation, seq);
)sql";

// Version 2: the conversation engine's state (with an optimistic-concurrency version), the
// reminder schedule, and the record of handoffs to people.
constexpr std::string_view k_v2 = R"sql(
ALTER TABLE conversations ADD COLUMN state TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN state_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN phase TEXT NOT NULL DEFAULT 'new';
ALTER TABLE conversations ADD COLUMN remind_at_ms INTEGER;
CREATE INDEX conversations_remind_at ON conversations(remind_at_ms)
  WHERE remind_at_ms IS NOT NULL;
CREATE TABLE handoffs(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  conversation TEXT NOT NULL REFERENCES conversations(id),
  at_ms INTEGER NOT NULL,
  trigger TEXT NOT NULL,
  reason TEXT NOT NULL,
  snapshot TEXT NOT NULL
);
CREATE INDEX handoffs_conversation ON handoffs(conversation);
)sql";

// Version 3: evidence files buyers uploaded, one row per upload of a file (the bytes themselves
// are stored once per hash, outside the database).
constexpr std::string_view k_v3 = R"sql(
CREATE TABLE evidence(
  id TEXT PRIMARY KEY,
  conversation TEXT NOT NULL REFERENCES conversations(id),
  item TEXT NOT NULL,
  original_name TEXT NOT NULL,
  mime TEXT NOT NULL,
  kind TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  at_ms INTEGER NOT NULL
);
CREATE INDEX evidence_conversation ON evidence(conversation);
)sql";

// Version 4: cases replace the handoff records (a handoff now opens a case that people claim and
// resolve, with a version so that two agents claiming at once cannot both win), the agents of the
// desk (only a hash of each token is kept), and the webhook outbox, written in the transaction of
// the change each event reports so that no committed change goes unreported. Every recorded
// handoff becomes an open case: it was waiting for a person, and still is. Conversations are
// never deleted, so every handoff's conversation is there for the join. The outbox index holds
// only the events still waiting, which stay few while delivered ones pile up.
constexpr std::string_view k_v4 = R"sql(
CREATE TABLE cases(
  id TEXT PRIMARY KEY,
  conversation TEXT NOT NULL REFERENCES conversations(id),
  shop TEXT NOT NULL,
  buyer TEXT NOT NULL,
  order_no TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL CHECK(status IN ('open', 'claimed', 'resolved')),
  agent TEXT NOT NULL DEFAULT '',
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  due_at_ms INTEGER,
  warn_at_ms INTEGER,
  details TEXT NOT NULL DEFAULT '',
  outcome TEXT NOT NULL DEFAULT '',
  version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX cases_status_created ON cases(status, created_at_ms);
CREATE INDEX cases_shop_buyer_created ON cases(shop, buyer, created_at_ms);
CREATE INDEX cases_warn_at ON cases(warn_at_ms) WHERE warn_at_ms IS NOT NULL;
INSERT INTO cases(id, conversation, shop, buyer, reason, status, created_at_ms, updated_at_ms,
                  details)
  SELECT 'h' || h.id, h.conversation, c.shop, c.buyer, h.reason, 'open', h.at_ms, h.at_ms,
         h.snapshot
  FROM handoffs AS h JOIN conversations AS c ON c.id = h.conversation
  ORDER BY h.id;
DROP TABLE handoffs;
CREATE TABLE agents(
  name TEXT PRIMARY KEY,
  token_sha256 TEXT NOT NULL UNIQUE,
  created_at_ms INTEGER NOT NULL
);
CREATE TABLE outbox(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  case_id TEXT NOT NULL,
  type TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  delivered_at_ms INTEGER,
  given_up_at_ms INTEGER
);
CREATE INDEX outbox_pending ON outbox(case_id, seq)
  WHERE delivered_at_ms IS NULL AND given_up_at_ms IS NULL;
)sql";

constexpr std::array<std::string_view, 4> k_steps{k_v1, k_v2, k_v3, k_v4};

status read_version(sqlite3* db, int& version) {
  stmt_handle stmt;
  if (status st = prepare(db, "PRAGMA user_version", stmt); !st.ok) return st;
  if (int rc = sqlite3_step(stmt.get()); rc != SQLITE_ROW) {
    return error(db, rc, "reading PRAGMA user_version");
  }
  version = sqlite3_column_int(stmt.get(), 0);
  return {};
}

}  // namespace

std::span<const std::string_view> schema_steps() { return k_steps; }

migration_result migrate(sqlite3* db, const std::string& path,
                         std::span<const std::string_view> steps) {
  const int latest = static_cast<int>(steps.size());
  migration_result result;
  for (;;) {
    if (status st = exec(db, "BEGIN IMMEDIATE"); !st.ok) {
      result.st = status::failure("migrating database '" + path + "': " + st.error);
      return result;
    }
    // Read inside the write transaction: another process may have migrated meanwhile.
    int version = 0;
    status st = read_version(db, version);
    if (st.ok && version > latest) {
      st = status::failure("database '" + path + "' has schema version " + std::to_string(version) +
                           ", newer than version " + std::to_string(latest) +
                           " that this program knows; use a newer build");
    } else if (st.ok && version < latest) {
      const std::string next = std::to_string(version + 1);
      st = exec(db, std::string(steps[static_cast<std::size_t>(version)]));
      if (st.ok) st = exec(db, "PRAGMA user_version = " + next);
      if (!st.ok) {
        st.error = "migrating database '" + path + "' to schema version " + next + ": " + st.error;
      }
    } else if (!st.ok) {
      st.error = "database '" + path + "': " + st.error;
    }
    result.version = version;
    if (!st.ok) {
      if (status rolled = exec(db, "ROLLBACK"); !rolled.ok) st.error += " (" + rolled.error + ")";
      result.st = std::move(st);
      return result;
    }
    if (status committed = exec(db, "COMMIT"); !committed.ok) {
      result.st = status::failure("migrating database '" + path + "': " + committed.error);
      return result;
    }
    if (version == latest) return result;
    result.version = version + 1;
    ++result.applied;
  }
}

}  // namespace shouhou::store::detail
