#pragma once
// Thin RAII and error helpers over SQLite's C API, shared by the files of store/. Internal: only
// store/ and its tests include this.

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <optional>
#include <string_view>

#include "store/store.hpp"

namespace shouhou::store::detail {

// sqlite3_close_v2 cannot fail: with statements still open it defers the close until they are
// finalized, so the code it returns carries no information.
struct db_closer {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using db_handle = std::unique_ptr<sqlite3, db_closer>;

// sqlite3_finalize returns the error of the statement's last step, already checked at that step.
struct stmt_finalizer {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using stmt_handle = std::unique_ptr<sqlite3_stmt, stmt_finalizer>;

// A failure status "what: <SQLite's message for rc>".
status error(sqlite3* db, int rc, std::string_view what);

// Runs SQL that returns no rows; may hold several statements (a migration step).
status exec(sqlite3* db, const std::string& sql);

// Compiles one statement into `out`.
status prepare(sqlite3* db, std::string_view sql, stmt_handle& out);

// Resets a statement and clears its bindings when the scope ends, so that every use starts clean
// and a finished SELECT holds no read lock. The codes both calls return repeat the last step's
// result, which the caller has already checked.
class reset_on_exit {
 public:
  explicit reset_on_exit(sqlite3_stmt* s) : stmt_(s) {}
  ~reset_on_exit() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  reset_on_exit(const reset_on_exit&) = delete;
  reset_on_exit& operator=(const reset_on_exit&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

// Binds one parameter (1-based); returns SQLite's result code. Not named "bind": with a
// std::string argument, argument-dependent lookup would drag in std::bind.
int bind_value(sqlite3_stmt* s, int index, std::string_view value);
int bind_value(sqlite3_stmt* s, int index, std::int64_t value);
int bind_value(sqlite3_stmt* s, int index, double value);
int bind_value(sqlite3_stmt* s, int index, std::nullptr_t);  // SQL NULL
int bind_value(sqlite3_stmt* s, int index, std::optional<std::int64_t> value);  // NULL if empty

// Binds `args` to parameters 1..n in order; returns the first failing code, or SQLITE_OK.
template <typename... Args>
int bind_all([[maybe_unused]] sqlite3_stmt* s, const Args&... args) {
  int index = 0;
  int rc = SQLITE_OK;
  ((rc = rc == SQLITE_OK ? bind_value(s, ++index, args) : rc), ...);
  return rc;
}

// Binds `args`, steps `s` once expecting no result row, and resets it.
template <typename... Args>
status execute(sqlite3* db, sqlite3_stmt* s, std::string_view what, const Args&... args) {
  reset_on_exit reset(s);
  if (int rc = bind_all(s, args...); rc != SQLITE_OK) return error(db, rc, what);
  if (int rc = sqlite3_step(s); rc != SQLITE_DONE) return error(db, rc, what);
  return {};
}

// A text column as a string; SQL NULL reads as empty.
std::string column_text(sqlite3_stmt* s, int column);

}  // namespace shouhou::store::detail
