#include "store/detail/sqlite.hpp"

namespace shouhou::store::detail {

status error(sqlite3* db, int rc, std::string_view what) {
  // sqlite3_errmsg describes the latest failure on the connection, which is usually `rc`'s and
  // more specific than the generic text of sqlite3_errstr; fall back when they disagree.
  const bool same = db != nullptr && sqlite3_extended_errcode(db) == rc;
  std::string why(what);
  why += ": ";
  why += same ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return status::failure(std::move(why));
}

status exec(sqlite3* db, const std::string& sql) {
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return error(db, rc, sql.size() < 40 ? sql : "running SQL");
  return {};
}

status prepare(sqlite3* db, std::string_view sql, stmt_handle& out) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  out.reset(raw);
  if (rc != SQLITE_OK) return error(db, rc, "preparing \"" + std::string(sql) + "\"");
  return {};
}

int bind_value(sqlite3_stmt* s, int index, std::string_view value) {
  // An empty string_view may have a null data(), which SQLite would bind as NULL, not ''.
  const char* text = value.empty() ? "" : value.data();
  return sqlite3_bind_text64(s, index, text, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

int bind_value(sqlite3_stmt* s, int index, std::int64_t value) {
  return sqlite3_bind_int64(s, index, value);
}

int bind_value(sqlite3_stmt* s, int index, double value) {
  return sqlite3_bind_double(s, index, value);
}

int bind_value(sqlite3_stmt* s, int index, std::nullptr_t) { return sqlite3_bind_null(s, index); }

int bind_value(sqlite3_stmt* s, int index, std::optional<std::int64_t> value) {
  return value ? bind_value(s, index, *value) : bind_value(s, index, nullptr);
}

std::string column_text(sqlite3_stmt* s, int column) {
  // Text first, then its length: that order is the one SQLite documents as conversion-safe.
  const unsigned char* text = sqlite3_column_text(s, column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<std::size_t>(sqlite3_column_bytes(s, column)));
}

}  // namespace shouhou::store::detail
