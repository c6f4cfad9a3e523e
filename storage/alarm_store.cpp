#include "storage/alarm_store.hpp"

#include <algorithm>
#include <tuple>
#include <utility>

#include "storage/sqlite_open.hpp"

namespace tandem::storage {

namespace {

constexpr int schema_version = 1;

const char* schema_sql = R"sql(
CREATE TABLE IF NOT EXISTS alarms (
  id         TEXT PRIMARY KEY,
  key        TEXT NOT NULL,
  source     TEXT NOT NULL,
  text       TEXT NOT NULL,
  active     INTEGER NOT NULL,
  acked      INTEGER NOT NULL,
  raised_ms  INTEGER NOT NULL,
  cleared_ms INTEGER NOT NULL,
  acked_ms   INTEGER NOT NULL,
  origin     TEXT NOT NULL,
  term       INTEGER NOT NULL,
  seq        INTEGER NOT NULL
);
-- The highest stamp ever stored per origin: SYNC's high-water marks, never lowered.
CREATE TABLE IF NOT EXISTS marks (origin TEXT PRIMARY KEY, term INTEGER NOT NULL, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO counters VALUES ('next_number', 1);
)sql";

int64_t earliest(int64_t a, int64_t b) {
  if (a == 0) return b;
  if (b == 0) return a;
  return std::min(a, b);
}

} // namespace

alarm_store::alarm_store(std::string path, db_ptr db)
    : path_(std::move(path)), db_(std::move(db)) {}

alarm_store::~alarm_store() = default;

std::unique_ptr<alarm_store> alarm_store::open(const std::string& path, std::string& error,
                                               std::string& notice) {
  auto db = open_checked(path, "alarm database", schema_version, schema_sql, "FULL", error, notice);
  if (!db) return nullptr;
  std::unique_ptr<alarm_store> s(new alarm_store(path, std::move(db)));
  auto* d = s->db_.get();
  s->upsert_ = prepare(d,
                       "INSERT OR REPLACE INTO alarms (id, key, source, text, active, acked, "
                       "raised_ms, cleared_ms, acked_ms, origin, term, seq) VALUES "
                       "(?,?,?,?,?,?,?,?,?,?,?,?)",
                       error);
  s->mark_ = prepare(d,
                     "INSERT INTO marks VALUES (?1, ?2, ?3) ON CONFLICT (origin) DO UPDATE SET "
                     "term = ?2, seq = ?3 WHERE (?2, ?3) > (term, seq)",
                     error);
  s->counter_ = prepare(d, "UPDATE counters SET value = ? WHERE name = 'next_number'", error);
  if (!s->upsert_ || !s->mark_ || !s->counter_) return nullptr;
  auto m = prepare(d, "SELECT origin, term, seq FROM marks", error);
  if (!m) return nullptr;
  while (sqlite3_step(m.get()) == SQLITE_ROW)
    s->marks_[column_text(m.get(), 0)] =
        data_epoch{static_cast<uint64_t>(sqlite3_column_int64(m.get(), 1)),
                   static_cast<uint64_t>(sqlite3_column_int64(m.get(), 2))};
  auto c = prepare(d, "SELECT value FROM counters WHERE name = 'next_number'", error);
  if (!c) return nullptr;
  if (sqlite3_step(c.get()) == SQLITE_ROW)
    s->next_number_ = static_cast<uint64_t>(sqlite3_column_int64(c.get(), 0));
  return s;
}

bool alarm_store::load(std::vector<alarm>& out, std::string& error) {
  auto s = prepare(db_.get(),
                   "SELECT id, key, source, text, active, acked, raised_ms, cleared_ms, acked_ms, "
                   "origin, term, seq FROM alarms ORDER BY raised_ms, id",
                   error);
  if (!s) return false;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    alarm a;
    a.id = column_text(s.get(), 0);
    a.key = column_text(s.get(), 1);
    a.source = column_text(s.get(), 2);
    a.text = column_text(s.get(), 3);
    a.active = sqlite3_column_int(s.get(), 4) != 0;
    a.acked = sqlite3_column_int(s.get(), 5) != 0;
    a.raised_ms = sqlite3_column_int64(s.get(), 6);
    a.cleared_ms = sqlite3_column_int64(s.get(), 7);
    a.acked_ms = sqlite3_column_int64(s.get(), 8);
    a.origin = column_text(s.get(), 9);
    a.stamp.term = static_cast<uint64_t>(sqlite3_column_int64(s.get(), 10));
    a.stamp.seq = static_cast<uint64_t>(sqlite3_column_int64(s.get(), 11));
    out.push_back(std::move(a));
  }
  if (rc != SQLITE_DONE) {
    error = std::string("cannot read alarms: ") + sqlite3_errmsg(db_.get());
    return false;
  }
  return true;
}

bool alarm_store::put(const std::vector<alarm>& alarms, uint64_t next_number, std::string& error) {
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
  for (auto& a : alarms) {
    sqlite3_stmt* s = upsert_.get();
    sqlite3_reset(s);
    bind_text(s, 1, a.id);
    bind_text(s, 2, a.key);
    bind_text(s, 3, a.source);
    bind_text(s, 4, a.text);
    sqlite3_bind_int(s, 5, a.active ? 1 : 0);
    sqlite3_bind_int(s, 6, a.acked ? 1 : 0);
    sqlite3_bind_int64(s, 7, a.raised_ms);
    sqlite3_bind_int64(s, 8, a.cleared_ms);
    sqlite3_bind_int64(s, 9, a.acked_ms);
    bind_text(s, 10, a.origin);
    sqlite3_bind_int64(s, 11, static_cast<sqlite3_int64>(a.stamp.term));
    sqlite3_bind_int64(s, 12, static_cast<sqlite3_int64>(a.stamp.seq));
    if (sqlite3_step(s) != SQLITE_DONE) return fail("cannot write alarm");
    sqlite3_stmt* m = mark_.get();
    sqlite3_reset(m);
    bind_text(m, 1, a.origin);
    sqlite3_bind_int64(m, 2, static_cast<sqlite3_int64>(a.stamp.term));
    sqlite3_bind_int64(m, 3, static_cast<sqlite3_int64>(a.stamp.seq));
    if (sqlite3_step(m) != SQLITE_DONE) return fail("cannot record high-water mark");
  }
  sqlite3_reset(counter_.get());
  sqlite3_bind_int64(counter_.get(), 1, static_cast<sqlite3_int64>(next_number));
  if (sqlite3_step(counter_.get()) != SQLITE_DONE) return fail("cannot record alarm number");
  if (!exec(db_.get(), "COMMIT", error)) {
    std::string ignored;
    exec(db_.get(), "ROLLBACK", ignored);
    return false;
  }
  for (auto& a : alarms) {
    auto& m = marks_[a.origin];
    if (m < a.stamp) m = a.stamp;
  }
  next_number_ = next_number;
  return true;
}

bool alarm_store::delete_before(int64_t cutoff_ms, std::vector<std::string>& deleted,
                                std::string& error) {
  auto s = prepare(db_.get(),
                   "DELETE FROM alarms WHERE active = 0 AND acked = 1 AND cleared_ms < ?1 AND "
                   "acked_ms < ?1 RETURNING id",
                   error);
  if (!s) return false;
  sqlite3_bind_int64(s.get(), 1, cutoff_ms);
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW)
    deleted.push_back(column_text(s.get(), 0));
  if (rc != SQLITE_DONE) {
    error = std::string("cannot delete old alarms: ") + sqlite3_errmsg(db_.get());
    return false;
  }
  return true;
}

std::vector<origin_mark> alarm_store::marks() const {
  std::vector<origin_mark> out;
  for (auto& [o, s] : marks_)
    out.push_back({o, s});
  return out;
}

data_epoch alarm_store::max_stamp(const std::string& origin) const {
  auto it = marks_.find(origin);
  return it == marks_.end() ? data_epoch{} : it->second;
}

alarm alarm_store::join(const alarm& a, const alarm& b) {
  auto rank = [](const alarm& x) { return std::tie(x.stamp.term, x.stamp.seq, x.origin); };
  alarm out = rank(a) < rank(b) ? b : a;
  out.active = a.active && b.active;
  out.acked = a.acked || b.acked;
  out.raised_ms = earliest(a.raised_ms, b.raised_ms);
  out.cleared_ms =
      out.active ? 0 : earliest(a.active ? 0 : a.cleared_ms, b.active ? 0 : b.cleared_ms);
  out.acked_ms =
      out.acked ? earliest(a.acked ? a.acked_ms : 0, b.acked ? b.acked_ms : 0) : int64_t{0};
  return out;
}

} // namespace tandem::storage
