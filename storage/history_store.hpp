#pragma once
/// Item history: one SQLite database (`<data_dir>/history.db`, WAL) per data directory. Values
/// are keyed by pair alias and item NodeId text, never by node name; each row carries its origin
/// stamp (recording node, term, seq), unique, so merging rows from the partner is idempotent.
/// Used only by the HISTORY actor. WAL checkpoints run on a thread of their own
/// (storage/wal_checkpointer.hpp), never in the HISTORY actor's commits and merges.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "messages/history.hpp"
#include "storage/sqlite_util.hpp"
#include "storage/wal_checkpointer.hpp"

namespace tandem::storage {

class history_store {
public:
  /// Opens or creates the database at `path`. A file that fails its integrity check is moved
  /// aside (named in `notice`) and a new one started; nullptr and `error` set when the database
  /// cannot be opened at all. `wal` sets when the checkpoint thread runs (tests lower it); should
  /// the thread's connection fail to open, commits checkpoint as SQLite does by default and
  /// `notice` says so.
  static std::unique_ptr<history_store> open(const std::string& path, std::string& error,
                                             std::string& notice,
                                             const wal_checkpoint_options& wal = {});

  ~history_store();
  history_store(const history_store&) = delete;
  history_store& operator=(const history_store&) = delete;

  /// Inserts `rows` in one transaction; a row whose stamp (origin, term, seq) is already stored
  /// is skipped, so this is also the merge of rows from the partner. All or nothing: false and
  /// `error` set, nothing written. `inserted` counts the rows that were new. The per-origin
  /// high-water marks rise to the highest stamp inserted.
  bool insert(const std::vector<history_row>& rows, uint64_t& inserted, std::string& error);

  /// Values of (pair, item): with `has_since`, the first `limit` from since_ms on; without, the
  /// newest `limit`. Oldest first (by time, then insertion). `truncated` when more matched.
  bool query(const std::string& pair, const std::string& item, bool has_since, int64_t since_ms,
             uint64_t limit, history_values& out, std::string& error);

  /// Whether anything was ever recorded for (pair, item).
  bool has_series(const std::string& pair, const std::string& item) const;

  /// The highest stamp stored per origin (kept when retention deletes the rows).
  std::vector<origin_mark> marks() const;
  /// The highest stamp of one origin; (0, 0) when none.
  data_epoch max_stamp(const std::string& origin) const;

  /// Rows of `origin` with a stamp above `after`, ascending, at most `limit`.
  bool rows_after(const std::string& origin, const data_epoch& after, uint64_t limit,
                  std::vector<history_row>& out, std::string& error);
  /// Everything a node whose marks are `have` lacks (origins it does not name: from the start),
  /// ascending per origin, at most `limit` rows; `more` when the limit cut it short.
  bool rows_after(const std::vector<origin_mark>& have, uint64_t limit, history_rows& out,
                  std::string& error);

  /// Deletes rows whose time is before `cutoff_ms`, at most `chunk` of them; the number deleted
  /// (call again while it equals `chunk`). -1 and `error` on failure.
  int64_t delete_before(int64_t cutoff_ms, uint64_t chunk, std::string& error);

  /// Rows stored.
  uint64_t count();

  /// What the WAL checkpoints did (all zero without the checkpoint thread).
  wal_checkpoint_stats checkpoint_stats() const;
  /// Tests: waits up to `timeout_ms` until the checkpoint thread has nothing to do.
  bool wait_checkpoints(int timeout_ms) const;

  /// Fault injection: the next `n` inserts fail as a disk error would.
  void fail_next_writes(int64_t n) { fail_writes_ += n; }

  const std::string& path() const { return path_; }

private:
  history_store(std::string path, db_ptr db);
  bool prepare_all(std::string& error);
  bool load_ids(std::string& error);
  int64_t series_id(const std::string& pair, const std::string& item, std::string& error);
  int64_t origin_id(const std::string& origin, std::string& error);
  history_row read_row(sqlite3_stmt* s);

  std::string path_;
  db_ptr db_;
  std::unique_ptr<wal_checkpointer> checkpointer_; ///< after db_: stopped before it is closed
  stmt_ptr insert_{nullptr, &sqlite3_finalize};
  stmt_ptr add_series_{nullptr, &sqlite3_finalize};
  stmt_ptr add_origin_{nullptr, &sqlite3_finalize};
  stmt_ptr set_mark_{nullptr, &sqlite3_finalize};
  stmt_ptr find_series_{nullptr, &sqlite3_finalize};
  stmt_ptr query_since_{nullptr, &sqlite3_finalize};
  stmt_ptr query_newest_{nullptr, &sqlite3_finalize};
  stmt_ptr after_{nullptr, &sqlite3_finalize};
  stmt_ptr delete_{nullptr, &sqlite3_finalize};
  std::unordered_map<std::string, int64_t> series_; ///< "pair\0item" -> id
  std::string key_; ///< series_id's lookup key, reused: no allocation per inserted row
  std::map<std::string, int64_t> origin_ids_;
  std::map<std::string, data_epoch> marks_;
  int64_t fail_writes_ = 0;
};

} // namespace tandem::storage
