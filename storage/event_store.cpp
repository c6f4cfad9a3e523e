#include "storage/event_store.hpp"

#include "storage/sqlite_open.hpp"

#include <chrono>
#include <cstdio>
#include <utility>

namespace tandem::storage {

namespace {

constexpr int schema_version = 1;

const char* schema_sql = R"sql(
CREATE TABLE IF NOT EXISTS events (
  seq      INTEGER PRIMARY KEY,
  time_ms  INTEGER NOT NULL,
  severity INTEGER NOT NULL,
  node     TEXT NOT NULL,
  source   TEXT NOT NULL,
  kind     TEXT NOT NULL,
  text     TEXT NOT NULL
);
-- The highest sequence number ever written survives trimming, so numbers are never reused.
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO counters VALUES ('last_seq', 0);
)sql";

} // namespace

event_store::event_store(std::string path, db_ptr db)
    : path_(std::move(path)), db_(std::move(db)) {}

event_store::~event_store() = default;

std::unique_ptr<event_store> event_store::open(const std::string& path, std::string& error,
                                               std::string& notice) {
  // WAL: readers never block the writer. synchronous=FULL: a committed event survives a
  // process kill and a power cut alike; commits are batched, so the cost is per batch.
  auto db = open_checked(path, "event database", schema_version, schema_sql, "FULL", error, notice);
  if (!db) return nullptr;
  std::unique_ptr<event_store> store(new event_store(path, std::move(db)));
  if (!store->prepare_all(error)) return nullptr;
  {
    auto st = prepare(store->db_.get(),
                      "SELECT max((SELECT value FROM counters WHERE name='last_seq'),"
                      " (SELECT coalesce(max(seq),0) FROM events))",
                      error);
    if (!st) return nullptr;
    if (sqlite3_step(st.get()) == SQLITE_ROW)
      store->last_seq_ = static_cast<uint64_t>(sqlite3_column_int64(st.get(), 0));
  }
  return store;
}

bool event_store::prepare_all(std::string& error) {
  insert_ = prepare(
      db_.get(),
      "INSERT INTO events(seq,time_ms,severity,node,source,kind,text) VALUES(?,?,?,?,?,?,?)",
      error);
  trim_ = prepare(db_.get(), "DELETE FROM events WHERE seq <= ?", error);
  newest_ = prepare(db_.get(),
                    "SELECT seq,time_ms,severity,node,source,kind,text FROM "
                    "(SELECT * FROM events ORDER BY seq DESC LIMIT ?) ORDER BY seq ASC",
                    error);
  set_last_ = prepare(db_.get(), "UPDATE counters SET value=? WHERE name='last_seq'", error);
  return insert_ && trim_ && newest_ && set_last_;
}

bool event_store::write(const std::vector<diag_event>& events, uint64_t keep, std::string& error) {
  if (events.empty()) return true;
  if (fail_writes_ > 0) {
    --fail_writes_;
    error = "injected storage write failure (fail_storage_write)";
    return false;
  }
  if (!exec(db_.get(), "BEGIN IMMEDIATE", error)) return false;
  auto fail = [&](const char* what) {
    error = std::string(what) + ": " + sqlite3_errmsg(db_.get());
    std::string ignored;
    exec(db_.get(), "ROLLBACK", ignored);
    return false;
  };
  uint64_t last = last_seq_;
  for (const auto& e : events) {
    sqlite3_stmt* s = insert_.get();
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, static_cast<sqlite3_int64>(e.seq));
    sqlite3_bind_int64(s, 2, e.time_ms);
    sqlite3_bind_int(s, 3, static_cast<int>(e.sev));
    bind_text(s, 4, e.node);
    bind_text(s, 5, e.source);
    bind_text(s, 6, e.kind);
    bind_text(s, 7, e.text);
    if (sqlite3_step(s) != SQLITE_DONE) return fail("cannot insert event");
    if (e.seq > last) last = e.seq;
  }
  sqlite3_reset(trim_.get());
  sqlite3_bind_int64(trim_.get(), 1, static_cast<sqlite3_int64>(last > keep ? last - keep : 0));
  if (sqlite3_step(trim_.get()) != SQLITE_DONE) return fail("cannot trim events");
  sqlite3_reset(set_last_.get());
  sqlite3_bind_int64(set_last_.get(), 1, static_cast<sqlite3_int64>(last));
  if (sqlite3_step(set_last_.get()) != SQLITE_DONE)
    return fail("cannot record last sequence number");
  if (!exec(db_.get(), "COMMIT", error)) {
    std::string ignored;
    exec(db_.get(), "ROLLBACK", ignored);
    return false;
  }
  last_seq_ = last;
  return true;
}

std::vector<diag_event> event_store::newest(uint64_t n, std::string& error) {
  std::vector<diag_event> out;
  sqlite3_stmt* s = newest_.get();
  sqlite3_reset(s);
  sqlite3_bind_int64(s, 1, static_cast<sqlite3_int64>(n));
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    diag_event e;
    e.seq = static_cast<uint64_t>(sqlite3_column_int64(s, 0));
    e.time_ms = sqlite3_column_int64(s, 1);
    int sev = sqlite3_column_int(s, 2);
    e.sev = sev >= 0 && sev <= 3 ? static_cast<severity>(sev) : severity::error;
    e.node = column_text(s, 3);
    e.source = column_text(s, 4);
    e.kind = column_text(s, 5);
    e.text = column_text(s, 6);
    out.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) error = std::string("cannot read events: ") + sqlite3_errmsg(db_.get());
  sqlite3_reset(s);
  return out;
}

} // namespace tandem::storage
