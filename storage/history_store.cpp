#include "storage/history_store.hpp"

#include <algorithm>
#include <utility>

#include "storage/sqlite_open.hpp"

namespace tandem::storage {

namespace {

constexpr int schema_version = 1;

// Pair/item and origin names are stored once each; rows refer to them by number, which keeps a
// row (and the unique stamp index) small.
const char* schema_sql = R"sql(
CREATE TABLE IF NOT EXISTS series (
  id   INTEGER PRIMARY KEY,
  pair TEXT NOT NULL,
  item TEXT NOT NULL,
  UNIQUE (pair, item)
);
-- One row per origin node, with the highest stamp ever stored for it (the high-water mark
-- SYNC compares; it survives retention).
CREATE TABLE IF NOT EXISTS origins (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  term INTEGER NOT NULL DEFAULT 0,
  seq  INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS history (
  series      INTEGER,
  time_ms     INTEGER,
  source_ms   INTEGER,
  recorded_ms INTEGER,
  status      INTEGER,
  value       BLOB,
  origin      INTEGER NOT NULL,
  term        INTEGER NOT NULL,
  seq         INTEGER NOT NULL,
  PRIMARY KEY (origin, term, seq)
) WITHOUT ROWID;
-- Rows are stored in stamp order (no separate rowid tree): a node's own rows append, merges
-- find duplicates by the key. The other columns carry no NOT NULL (the code always sets them):
-- SQLite 3.40's quick_check wrongly reports NULLs in such columns of a WITHOUT ROWID table,
-- which would make every open move the file aside.
-- Queries and retention both go by series and time: one index serves both (a second one on time
-- alone would cost every insert more than retention saves).
CREATE INDEX IF NOT EXISTS history_series_time ON history (series, time_ms);
)sql";

const char* row_columns = "s.pair, s.item, h.time_ms, h.source_ms, h.recorded_ms, h.status, "
                          "h.value, o.name, h.term, h.seq FROM history h JOIN series s ON "
                          "s.id = h.series JOIN origins o ON o.id = h.origin ";

} // namespace

history_store::history_store(std::string path, db_ptr db)
    : path_(std::move(path)), db_(std::move(db)) {}

history_store::~history_store() = default;

std::unique_ptr<history_store> history_store::open(const std::string& path, std::string& error,
                                                   std::string& notice,
                                                   const wal_checkpoint_options& wal) {
  // synchronous=NORMAL: in WAL mode a committed batch survives a process kill; a power cut may
  // lose the last batches, which for sampled values is the right trade against commit cost.
  auto db =
      open_checked(path, "history database", schema_version, schema_sql, "NORMAL", error, notice);
  if (!db) return nullptr;
  // Index pages of a busy commit stay in memory (64 MB instead of SQLite's 2 MB): the index's
  // tail page of every series is written at each commit, 11,000 series take 44 MB, and a
  // smaller cache spills dirty pages to the WAL and reads them back within the transaction
  // (BENCHMARKS.md, node CPU per forwarded value).
  if (!exec(db.get(), "PRAGMA cache_size = -65536", error)) return nullptr;
  std::unique_ptr<history_store> store(new history_store(path, std::move(db)));
  if (!store->prepare_all(error) || !store->load_ids(error)) return nullptr;
  // Checkpoints off the commits: a merge from the partner every few ms must not wait 10-20 ms for
  // one (BENCHMARKS.md, SYNC). Same fsyncs (synchronous=NORMAL), on the checkpoint thread.
  wal_checkpoint_options o = wal;
  o.synchronous = "NORMAL";
  std::string why;
  store->checkpointer_ = wal_checkpointer::start(store->db_.get(), path, o, why);
  if (!store->checkpointer_)
    notice += (notice.empty() ? "" : "; ") + why + " (checkpoints run in commits instead)";
  return store;
}

bool history_store::prepare_all(std::string& error) {
  auto* db = db_.get();
  insert_ = prepare(db,
                    "INSERT OR IGNORE INTO history (series, time_ms, source_ms, recorded_ms, "
                    "status, value, origin, term, seq) VALUES (?,?,?,?,?,?,?,?,?)",
                    error);
  add_series_ = prepare(db, "INSERT INTO series (pair, item) VALUES (?, ?)", error);
  add_origin_ = prepare(db, "INSERT INTO origins (name) VALUES (?)", error);
  set_mark_ = prepare(db, "UPDATE origins SET term = ?, seq = ? WHERE id = ?", error);
  find_series_ = prepare(db, "SELECT id FROM series WHERE pair = ? AND item = ?", error);
  query_since_ =
      prepare(db,
              (std::string("SELECT ") + row_columns +
               "WHERE h.series = ? AND h.time_ms >= ? ORDER BY h.time_ms, h.origin, h.term, h.seq "
               "LIMIT ?")
                  .c_str(),
              error);
  query_newest_ =
      prepare(db,
              (std::string("SELECT ") + row_columns +
               "WHERE h.series = ? ORDER BY h.time_ms DESC, h.origin DESC, h.term DESC, h.seq DESC "
               "LIMIT ?")
                  .c_str(),
              error);
  after_ = prepare(db,
                   (std::string("SELECT ") + row_columns +
                    "WHERE h.origin = ? AND (h.term, h.seq) > (?, ?) ORDER BY h.term, h.seq "
                    "LIMIT ?")
                       .c_str(),
                   error);
  delete_ =
      prepare(db,
              "DELETE FROM history WHERE (origin, term, seq) IN (SELECT origin, term, seq FROM "
              "history WHERE series = ? AND time_ms < ? LIMIT ?)",
              error);
  return insert_ && add_series_ && add_origin_ && set_mark_ && find_series_ && query_since_ &&
         query_newest_ && after_ && delete_;
}

bool history_store::load_ids(std::string& error) {
  series_.clear();
  origin_ids_.clear();
  marks_.clear();
  auto s = prepare(db_.get(), "SELECT id, pair, item FROM series", error);
  if (!s) return false;
  while (sqlite3_step(s.get()) == SQLITE_ROW) {
    std::string key = column_text(s.get(), 1);
    key.push_back('\0');
    key += column_text(s.get(), 2);
    series_[key] = sqlite3_column_int64(s.get(), 0);
  }
  auto o = prepare(db_.get(), "SELECT id, name, term, seq FROM origins", error);
  if (!o) return false;
  while (sqlite3_step(o.get()) == SQLITE_ROW) {
    auto name = column_text(o.get(), 1);
    origin_ids_[name] = sqlite3_column_int64(o.get(), 0);
    marks_[name] = data_epoch{static_cast<uint64_t>(sqlite3_column_int64(o.get(), 2)),
                              static_cast<uint64_t>(sqlite3_column_int64(o.get(), 3))};
  }
  return true;
}

int64_t history_store::series_id(const std::string& pair, const std::string& item,
                                 std::string& error) {
  key_.assign(pair);
  key_.push_back('\0');
  key_ += item;
  if (auto it = series_.find(key_); it != series_.end()) return it->second;
  sqlite3_stmt* s = add_series_.get();
  sqlite3_reset(s);
  bind_text(s, 1, pair);
  bind_text(s, 2, item);
  if (sqlite3_step(s) != SQLITE_DONE) {
    error = std::string("cannot add series: ") + sqlite3_errmsg(db_.get());
    return -1;
  }
  int64_t id = sqlite3_last_insert_rowid(db_.get());
  series_.emplace(key_, id);
  return id;
}

int64_t history_store::origin_id(const std::string& origin, std::string& error) {
  if (auto it = origin_ids_.find(origin); it != origin_ids_.end()) return it->second;
  sqlite3_stmt* s = add_origin_.get();
  sqlite3_reset(s);
  bind_text(s, 1, origin);
  if (sqlite3_step(s) != SQLITE_DONE) {
    error = std::string("cannot add origin: ") + sqlite3_errmsg(db_.get());
    return -1;
  }
  int64_t id = sqlite3_last_insert_rowid(db_.get());
  origin_ids_.emplace(origin, id);
  return id;
}

bool history_store::insert(const std::vector<history_row>& rows, uint64_t& inserted,
                           std::string& error) {
  inserted = 0;
  if (rows.empty()) return true;
  if (fail_writes_ > 0) {
    --fail_writes_;
    error = "injected storage write failure (fail_storage_write)";
    return false;
  }
  if (!exec(db_.get(), "BEGIN IMMEDIATE", error)) return false;
  auto fail = [&](const std::string& what) {
    if (error.empty()) error = what + ": " + sqlite3_errmsg(db_.get());
    std::string ignored;
    exec(db_.get(), "ROLLBACK", ignored);
    // Ids cached for rows the rollback undid are gone: read them again.
    load_ids(ignored);
    return false;
  };
  std::map<std::string, data_epoch> raised; // new marks, applied after the commit
  // Rows come in runs of one origin (a node's own batch): its id and mark are looked up once
  // per run, not per row.
  const std::string* run_origin = nullptr;
  int64_t oid = -1;
  data_epoch* run_mark = nullptr;
  for (const auto& r : rows) {
    int64_t sid = series_id(r.pair, r.item, error);
    if (sid < 0) return fail("cannot add series");
    if (!run_origin || *run_origin != r.origin) {
      oid = origin_id(r.origin, error);
      if (oid < 0) return fail("cannot add origin");
      auto m = raised.find(r.origin);
      if (m == raised.end()) m = raised.emplace(r.origin, marks_[r.origin]).first;
      run_origin = &r.origin;
      run_mark = &m->second;
    }
    sqlite3_stmt* s = insert_.get();
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, sid);
    sqlite3_bind_int64(s, 2, r.time_ms);
    sqlite3_bind_int64(s, 3, r.source_ms);
    sqlite3_bind_int64(s, 4, r.recorded_ms);
    sqlite3_bind_int64(s, 5, static_cast<sqlite3_int64>(r.status));
    sqlite3_bind_blob(s, 6, r.value.data(), static_cast<int>(r.value.size()), SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, oid);
    sqlite3_bind_int64(s, 8, static_cast<sqlite3_int64>(r.stamp.term));
    sqlite3_bind_int64(s, 9, static_cast<sqlite3_int64>(r.stamp.seq));
    if (sqlite3_step(s) != SQLITE_DONE) return fail("cannot insert history row");
    inserted += static_cast<uint64_t>(sqlite3_changes(db_.get()));
    if (*run_mark < r.stamp) *run_mark = r.stamp;
  }
  for (auto& [origin, stamp] : raised) {
    if (!(marks_[origin] < stamp)) continue; // not raised
    sqlite3_stmt* s = set_mark_.get();
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, static_cast<sqlite3_int64>(stamp.term));
    sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(stamp.seq));
    sqlite3_bind_int64(s, 3, origin_ids_[origin]);
    if (sqlite3_step(s) != SQLITE_DONE) return fail("cannot record high-water mark");
  }
  if (!exec(db_.get(), "COMMIT", error)) return fail("cannot commit");
  for (auto& [origin, stamp] : raised)
    if (marks_[origin] < stamp) marks_[origin] = stamp;
  return true;
}

history_row history_store::read_row(sqlite3_stmt* s) {
  history_row r;
  r.pair = column_text(s, 0);
  r.item = column_text(s, 1);
  r.time_ms = sqlite3_column_int64(s, 2);
  r.source_ms = sqlite3_column_int64(s, 3);
  r.recorded_ms = sqlite3_column_int64(s, 4);
  r.status = static_cast<uint32_t>(sqlite3_column_int64(s, 5));
  auto* b = static_cast<const uint8_t*>(sqlite3_column_blob(s, 6));
  r.value.assign(b, b + sqlite3_column_bytes(s, 6));
  r.origin = column_text(s, 7);
  r.stamp.term = static_cast<uint64_t>(sqlite3_column_int64(s, 8));
  r.stamp.seq = static_cast<uint64_t>(sqlite3_column_int64(s, 9));
  return r;
}

bool history_store::query(const std::string& pair, const std::string& item, bool has_since,
                          int64_t since_ms, uint64_t limit, history_values& out,
                          std::string& error) {
  out.rows.clear();
  out.truncated = false;
  std::string key = pair;
  key.push_back('\0');
  key += item;
  auto it = series_.find(key);
  if (it == series_.end()) return true; // nothing recorded for it
  sqlite3_stmt* s = has_since ? query_since_.get() : query_newest_.get();
  sqlite3_reset(s);
  int i = 1;
  sqlite3_bind_int64(s, i++, it->second);
  if (has_since) sqlite3_bind_int64(s, i++, since_ms);
  sqlite3_bind_int64(s, i, static_cast<sqlite3_int64>(limit + 1));
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    out.rows.push_back(read_row(s));
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) {
    error = std::string("cannot read history: ") + sqlite3_errmsg(db_.get());
    return false;
  }
  if (out.rows.size() > limit) {
    out.truncated = true;
    out.rows.pop_back();
  }
  if (!has_since) std::reverse(out.rows.begin(), out.rows.end());
  return true;
}

bool history_store::has_series(const std::string& pair, const std::string& item) const {
  std::string key = pair;
  key.push_back('\0');
  key += item;
  return series_.count(key) != 0;
}

std::vector<origin_mark> history_store::marks() const {
  std::vector<origin_mark> out;
  for (auto& [origin, stamp] : marks_)
    if (stamp.term != 0 || stamp.seq != 0) out.push_back({origin, stamp});
  return out;
}

data_epoch history_store::max_stamp(const std::string& origin) const {
  auto it = marks_.find(origin);
  return it == marks_.end() ? data_epoch{} : it->second;
}

bool history_store::rows_after(const std::string& origin, const data_epoch& after, uint64_t limit,
                               std::vector<history_row>& out, std::string& error) {
  auto it = origin_ids_.find(origin);
  if (it == origin_ids_.end() || limit == 0) return true;
  sqlite3_stmt* s = after_.get();
  sqlite3_reset(s);
  sqlite3_bind_int64(s, 1, it->second);
  sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(after.term));
  sqlite3_bind_int64(s, 3, static_cast<sqlite3_int64>(after.seq));
  sqlite3_bind_int64(s, 4, static_cast<sqlite3_int64>(limit));
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    out.push_back(read_row(s));
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) {
    error = std::string("cannot read history: ") + sqlite3_errmsg(db_.get());
    return false;
  }
  return true;
}

bool history_store::rows_after(const std::vector<origin_mark>& have, uint64_t limit,
                               history_rows& out, std::string& error) {
  out.rows.clear();
  out.more = false;
  for (auto& [origin, mine] : marks_) {
    data_epoch theirs;
    for (auto& m : have)
      if (m.origin == origin) theirs = m.stamp;
    if (!(theirs < mine)) continue;
    if (out.rows.size() >= limit) {
      out.more = true;
      break;
    }
    auto before = out.rows.size();
    uint64_t room = limit - before;
    if (!rows_after(origin, theirs, room, out.rows, error)) return false;
    if (out.rows.size() - before == room && out.rows.back().stamp < mine) out.more = true;
  }
  return true;
}

int64_t history_store::delete_before(int64_t cutoff_ms, uint64_t chunk, std::string& error) {
  if (fail_writes_ > 0) {
    error = "injected storage write failure (fail_storage_write)";
    return -1;
  }
  int64_t deleted = 0;
  for (auto& [key, id] : series_) {
    auto room = static_cast<int64_t>(chunk) - deleted;
    if (room <= 0) break;
    sqlite3_stmt* s = delete_.get();
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, cutoff_ms);
    sqlite3_bind_int64(s, 3, room);
    if (sqlite3_step(s) != SQLITE_DONE) {
      error = std::string("cannot delete old history: ") + sqlite3_errmsg(db_.get());
      sqlite3_reset(s);
      return -1;
    }
    sqlite3_reset(s);
    deleted += sqlite3_changes(db_.get());
  }
  return deleted;
}

wal_checkpoint_stats history_store::checkpoint_stats() const {
  return checkpointer_ ? checkpointer_->stats() : wal_checkpoint_stats{};
}

bool history_store::wait_checkpoints(int timeout_ms) const {
  return !checkpointer_ || checkpointer_->wait_idle(timeout_ms);
}

uint64_t history_store::count() {
  std::string err;
  auto s = prepare(db_.get(), "SELECT count(*) FROM history", err);
  if (!s || sqlite3_step(s.get()) != SQLITE_ROW) return 0;
  return static_cast<uint64_t>(sqlite3_column_int64(s.get(), 0));
}

} // namespace tandem::storage
