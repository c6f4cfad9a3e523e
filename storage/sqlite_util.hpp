#pragma once
/// Small RAII helpers over the SQLite C API shared by Tandem's stores.

#include <memory>
#include <string>

#include <sqlite3.h>

namespace tandem::storage {

using db_ptr = std::unique_ptr<sqlite3, decltype(&sqlite3_close)>;
using stmt_ptr = std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)>;

/// Prepares a statement once; empty pointer and `error` set on failure.
inline stmt_ptr prepare(sqlite3* db, const char* sql, std::string& error) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK) {
    error = std::string("cannot prepare '") + sql + "': " + sqlite3_errmsg(db);
    return stmt_ptr(nullptr, &sqlite3_finalize);
  }
  return stmt_ptr(raw, &sqlite3_finalize);
}

/// Runs statements that return no rows; false and `error` set on failure.
inline bool exec(sqlite3* db, const char* sql, std::string& error) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    error = std::string(msg ? msg : sqlite3_errmsg(db)) + " (in '" + sql + "')";
    sqlite3_free(msg);
    return false;
  }
  return true;
}

/// Binds text without copying; the string must outlive the step.
inline int bind_text(sqlite3_stmt* s, int i, const std::string& v) {
  return sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}

inline std::string column_text(sqlite3_stmt* s, int i) {
  auto p = sqlite3_column_text(s, i);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<size_t>(sqlite3_column_bytes(s, i)))
           : std::string();
}

} // namespace tandem::storage
