#pragma once
/// Opening a store's SQLite file the way every Tandem store does: integrity check on open (a
/// damaged file is moved aside and a new one started), WAL, a schema version.

#include <chrono>
#include <cstdio>
#include <string>

#include "storage/sqlite_util.hpp"

namespace tandem::storage {

/// Opens `path` (creating it), checks it, moves a damaged file aside (named in `notice`), sets
/// WAL with `synchronous`, refuses a schema newer than `version`, runs `schema_sql` and sets the
/// version. `what` names the database in messages ("history database").
inline db_ptr open_checked(const std::string& path, const char* what, int version,
                           const char* schema_sql, const char* synchronous, std::string& error,
                           std::string& notice) {
  auto open = [&]() {
    sqlite3* raw = nullptr;
    int rc =
        sqlite3_open_v2(path.c_str(), &raw,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    db_ptr db(raw, &sqlite3_close);
    if (rc != SQLITE_OK) {
      error = std::string("cannot open ") + what + " " + path + ": " +
              (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
      return db_ptr(nullptr, &sqlite3_close);
    }
    sqlite3_busy_timeout(raw, 2000);
    return db;
  };
  auto db = open();
  if (!db) return db;
  std::string check;
  {
    std::string err;
    auto st = prepare(db.get(), "PRAGMA quick_check", err);
    if (!st)
      check = err;
    else if (sqlite3_step(st.get()) != SQLITE_ROW)
      check = sqlite3_errmsg(db.get());
    else
      check = column_text(st.get(), 0);
  }
  if (check != "ok") {
    db.reset();
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    std::string aside = path + ".corrupt-" + std::to_string(now);
    if (std::rename(path.c_str(), aside.c_str()) != 0) {
      error = std::string(what) + " " + path + " failed its integrity check (" + check +
              ") and could not be moved aside";
      return db_ptr(nullptr, &sqlite3_close);
    }
    std::remove((path + "-wal").c_str());
    std::remove((path + "-shm").c_str());
    notice = std::string(what) + " failed its integrity check (" + check + "); moved to " + aside +
             " and started a new one";
    db = open();
    if (!db) return db;
  }
  std::string pragmas = std::string("PRAGMA journal_mode=WAL; PRAGMA synchronous=") + synchronous;
  if (!exec(db.get(), pragmas.c_str(), error)) return db_ptr(nullptr, &sqlite3_close);
  int have = 0;
  {
    auto st = prepare(db.get(), "PRAGMA user_version", error);
    if (!st) return db_ptr(nullptr, &sqlite3_close);
    if (sqlite3_step(st.get()) == SQLITE_ROW) have = sqlite3_column_int(st.get(), 0);
  }
  if (have > version) {
    error = std::string(what) + " " + path + " has schema version " + std::to_string(have) +
            ", newer than this Tandem understands (" + std::to_string(version) + ")";
    return db_ptr(nullptr, &sqlite3_close);
  }
  if (!exec(db.get(), schema_sql, error)) return db_ptr(nullptr, &sqlite3_close);
  std::string set_version = "PRAGMA user_version = " + std::to_string(version);
  if (!exec(db.get(), set_version.c_str(), error)) return db_ptr(nullptr, &sqlite3_close);
  return db;
}

} // namespace tandem::storage
