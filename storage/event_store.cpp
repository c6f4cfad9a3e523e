#include "storage/event_store.hpp"

#include "storage/sqlite_open.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <utility>

namespace tandem::storage {

namespace {

// 2: the partner's events (partner_events, partner_marks) beside this node's.
constexpr int schema_version = 2;

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
-- Events other nodes recorded (the partner's, merged by SYNC), keyed by their node and seq.
CREATE TABLE IF NOT EXISTS partner_events (
  node     TEXT NOT NULL,
  seq      INTEGER NOT NULL,
  time_ms  INTEGER NOT NULL,
  severity INTEGER NOT NULL,
  source   TEXT NOT NULL,
  kind     TEXT NOT NULL,
  text     TEXT NOT NULL,
  PRIMARY KEY (node, seq)
);
CREATE INDEX IF NOT EXISTS partner_events_time ON partner_events (time_ms);
-- The highest seq ever merged per other node (survives trimming).
CREATE TABLE IF NOT EXISTS partner_marks (node TEXT PRIMARY KEY, seq INTEGER NOT NULL);
)sql";

diag_event read_event(sqlite3_stmt* s) {
  diag_event e;
  e.seq = static_cast<uint64_t>(sqlite3_column_int64(s, 0));
  e.time_ms = sqlite3_column_int64(s, 1);
  int sev = sqlite3_column_int(s, 2);
  e.sev = sev >= 0 && sev <= 3 ? static_cast<severity>(sev) : severity::error;
  e.node = column_text(s, 3);
  e.source = column_text(s, 4);
  e.kind = column_text(s, 5);
  e.text = column_text(s, 6);
  return e;
}

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
  {
    auto st = prepare(store->db_.get(), "SELECT node, seq FROM partner_marks", error);
    if (!st) return nullptr;
    while (sqlite3_step(st.get()) == SQLITE_ROW)
      store->partner_marks_[column_text(st.get(), 0)] =
          static_cast<uint64_t>(sqlite3_column_int64(st.get(), 1));
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
  insert_own_ = prepare(db_.get(),
                        "INSERT OR IGNORE INTO events(seq,time_ms,severity,node,source,kind,text) "
                        "VALUES(?,?,?,?,?,?,?)",
                        error);
  insert_partner_ = prepare(db_.get(),
                            "INSERT OR IGNORE INTO partner_events(seq,time_ms,severity,node,"
                            "source,kind,text) VALUES(?,?,?,?,?,?,?)",
                            error);
  trim_partner_ =
      prepare(db_.get(), "DELETE FROM partner_events WHERE node = ? AND seq <= ?", error);
  set_mark_ = prepare(db_.get(),
                      "INSERT INTO partner_marks(node, seq) VALUES(?, ?) ON CONFLICT(node) DO "
                      "UPDATE SET seq = max(seq, excluded.seq)",
                      error);
  newest_partner_ = prepare(db_.get(),
                            "SELECT seq,time_ms,severity,node,source,kind,text FROM "
                            "(SELECT * FROM partner_events ORDER BY time_ms DESC, node DESC, seq "
                            "DESC LIMIT ?) ORDER BY time_ms ASC, node ASC, seq ASC",
                            error);
  own_after_ = prepare(db_.get(),
                       "SELECT seq,time_ms,severity,node,source,kind,text FROM events WHERE seq > "
                       "? ORDER BY seq LIMIT ?",
                       error);
  partner_after_ = prepare(db_.get(),
                           "SELECT seq,time_ms,severity,node,source,kind,text FROM partner_events "
                           "WHERE node = ? AND seq > ? ORDER BY seq LIMIT ?",
                           error);
  return insert_ && trim_ && newest_ && set_last_ && insert_own_ && insert_partner_ &&
         trim_partner_ && set_mark_ && newest_partner_ && own_after_ && partner_after_;
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
  std::vector<diag_event> own, others;
  auto read_all = [&](sqlite3_stmt* s, std::vector<diag_event>& out) {
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, static_cast<sqlite3_int64>(n));
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
      out.push_back(read_event(s));
    if (rc != SQLITE_DONE && error.empty())
      error = std::string("cannot read events: ") + sqlite3_errmsg(db_.get());
    sqlite3_reset(s);
  };
  read_all(newest_.get(), own);
  if (partner_marks_.empty()) return own;
  read_all(newest_partner_.get(), others);
  // This node's events keep their seq order; the merged ones go between them by time.
  std::vector<diag_event> out;
  out.reserve(own.size() + others.size());
  size_t i = 0, j = 0;
  while (i < own.size() || j < others.size()) {
    if (j == others.size() || (i < own.size() && own[i].time_ms <= others[j].time_ms))
      out.push_back(std::move(own[i++]));
    else
      out.push_back(std::move(others[j++]));
  }
  if (out.size() > n) out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(n));
  return out;
}

bool event_store::merge(const std::vector<diag_event>& events, const std::string& own_node,
                        uint64_t keep, std::vector<diag_event>& inserted, std::string& error) {
  inserted.clear();
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
    inserted.clear();
    return false;
  };
  uint64_t last = last_seq_;
  std::map<std::string, uint64_t> raised;
  for (const auto& e : events) {
    bool own = e.node == own_node;
    sqlite3_stmt* s = own ? insert_own_.get() : insert_partner_.get();
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, static_cast<sqlite3_int64>(e.seq));
    sqlite3_bind_int64(s, 2, e.time_ms);
    sqlite3_bind_int(s, 3, static_cast<int>(e.sev));
    bind_text(s, 4, e.node);
    bind_text(s, 5, e.source);
    bind_text(s, 6, e.kind);
    bind_text(s, 7, e.text);
    if (sqlite3_step(s) != SQLITE_DONE) return fail("cannot merge event");
    if (sqlite3_changes(db_.get()) > 0) inserted.push_back(e);
    if (own) {
      if (e.seq > last) last = e.seq;
    } else {
      auto& r = raised[e.node];
      auto it = partner_marks_.find(e.node);
      r = std::max({r, e.seq, it == partner_marks_.end() ? uint64_t{0} : it->second});
    }
  }
  for (auto& [node, seq] : raised) {
    sqlite3_stmt* s = set_mark_.get();
    sqlite3_reset(s);
    bind_text(s, 1, node);
    sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(seq));
    if (sqlite3_step(s) != SQLITE_DONE) return fail("cannot record the partner's mark");
    sqlite3_stmt* t = trim_partner_.get();
    sqlite3_reset(t);
    bind_text(t, 1, node);
    sqlite3_bind_int64(t, 2, static_cast<sqlite3_int64>(seq > keep ? seq - keep : 0));
    if (sqlite3_step(t) != SQLITE_DONE) return fail("cannot trim the partner's events");
  }
  if (last != last_seq_) {
    sqlite3_reset(set_last_.get());
    sqlite3_bind_int64(set_last_.get(), 1, static_cast<sqlite3_int64>(last));
    if (sqlite3_step(set_last_.get()) != SQLITE_DONE)
      return fail("cannot record last sequence number");
  }
  if (!exec(db_.get(), "COMMIT", error)) {
    std::string ignored;
    exec(db_.get(), "ROLLBACK", ignored);
    inserted.clear();
    return false;
  }
  last_seq_ = last;
  for (auto& [node, seq] : raised)
    partner_marks_[node] = seq;
  return true;
}

std::vector<origin_mark> event_store::marks(const std::string& own_node) const {
  std::vector<origin_mark> out;
  if (last_seq_ > 0) out.push_back({own_node, data_epoch{0, last_seq_}});
  for (auto& [node, seq] : partner_marks_)
    if (node != own_node && seq > 0) out.push_back({node, data_epoch{0, seq}});
  return out;
}

bool event_store::after(const std::vector<origin_mark>& have, const std::string& own_node,
                        uint64_t limit, event_rows& out, std::string& error) {
  out.events.clear();
  out.more = false;
  auto theirs = [&](const std::string& node) {
    for (auto& m : have)
      if (m.origin == node) return m.stamp.seq;
    return uint64_t{0};
  };
  auto fetch = [&](sqlite3_stmt* s, const std::string* node, uint64_t above, uint64_t mine) {
    if (above >= mine) return true;
    if (out.events.size() >= limit) {
      out.more = true;
      return true;
    }
    uint64_t room = limit - out.events.size();
    sqlite3_reset(s);
    int i = 1;
    if (node) bind_text(s, i++, *node);
    sqlite3_bind_int64(s, i++, static_cast<sqlite3_int64>(above));
    sqlite3_bind_int64(s, i, static_cast<sqlite3_int64>(room));
    int rc;
    uint64_t got = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      out.events.push_back(read_event(s));
      ++got;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
      error = std::string("cannot read events: ") + sqlite3_errmsg(db_.get());
      return false;
    }
    if (got == room && out.events.back().seq < mine) out.more = true;
    return true;
  };
  if (!fetch(own_after_.get(), nullptr, theirs(own_node), last_seq_)) return false;
  for (auto& [node, seq] : partner_marks_)
    if (node != own_node && !fetch(partner_after_.get(), &node, theirs(node), seq)) return false;
  return true;
}

} // namespace tandem::storage
