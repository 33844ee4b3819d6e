#pragma once
// Versioned schema migrations. Internal to store/; sqlite_store::open() runs them.

#include <span>
#include <string>
#include <string_view>

#include "store/store.hpp"

struct sqlite3;

namespace shouhou::store::detail {

// The SQL steps that build the schema, oldest first: step i takes a database from version i to
// version i + 1, as recorded in PRAGMA user_version. A released step is never edited; a change
// to the schema is a new step appended here.
std::span<const std::string_view> schema_steps();

struct migration_result {
  status st;
  int version = 0;  // the database's schema version afterwards (the unchanged one on failure)
  int applied = 0;  // steps this call applied
};

// Brings `db` to version steps.size(). Each missing step runs in its own BEGIN IMMEDIATE
// transaction together with the user_version update, so a failing step leaves the database at
// the previous version, and two processes opening one file at once do not both apply a step.
// A database at a newer version than steps.size() is refused. `path` names the file in errors.
migration_result migrate(sqlite3* db, const std::string& path,
                         std::span<const std::string_view> steps);

}  // namespace shouhou::store::detail
