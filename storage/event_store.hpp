#pragma once
/// Persistent diagnostics events: one SQLite database (WAL) per data directory.
/// Used only by the DIAGNOSTICS actor.
///
/// This node's events are numbered by `seq`, increasing over the life of the data directory. The
/// partner's events, merged by SYNC, are kept beside them keyed by (node, seq), so both nodes'
/// events survive a split brain; each origin keeps at most `keep` (the newest by seq), and its
/// highest seq ever merged (its mark) survives trimming.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "messages/event.hpp"
#include "messages/history.hpp" // origin_mark
#include "storage/sqlite_util.hpp"

namespace tandem::storage {

class event_store {
public:
  /// Opens or creates the database at `path`. A file that fails its integrity check is moved
  /// aside (`<path>.corrupt-<unix ms>`, named in `notice`) and a new one started; nullptr and
  /// `error` set when the database cannot be opened at all.
  static std::unique_ptr<event_store> open(const std::string& path, std::string& error,
                                           std::string& notice);

  ~event_store();
  event_store(const event_store&) = delete;
  event_store& operator=(const event_store&) = delete;

  /// Writes `events` (sequence numbers already assigned) in one transaction and deletes all but
  /// the newest `keep` rows. All or nothing: false and `error` set, nothing written.
  bool write(const std::vector<diag_event>& events, uint64_t keep, std::string& error);

  /// The newest `n` events, oldest first: this node's in seq order, merged ones by time between
  /// them.
  std::vector<diag_event> newest(uint64_t n, std::string& error);

  /// Merges events recorded by other nodes (or this node's own, `own_node`, that the partner
  /// had when this database was lost) in one transaction; an event whose (node, seq) is already
  /// stored is skipped. `inserted` gets the events that were new. All or nothing.
  bool merge(const std::vector<diag_event>& events, const std::string& own_node, uint64_t keep,
             std::vector<diag_event>& inserted, std::string& error);

  /// The highest seq held per origin node: this node's (`own_node`) and every merged one.
  std::vector<origin_mark> marks(const std::string& own_node) const;

  /// What a node holding the marks `have` lacks: this node's events and every merged origin's
  /// above its mark (origins it does not name: from the start), ascending by seq per origin, at
  /// most `limit`; `more` when the limit cut it short.
  bool after(const std::vector<origin_mark>& have, const std::string& own_node, uint64_t limit,
             event_rows& out, std::string& error);

  /// The highest sequence number ever written (0 for a new database).
  uint64_t last_seq() const { return last_seq_; }

  /// Fault injection: the next `n` writes fail as a disk error would.
  void fail_next_writes(int64_t n) { fail_writes_ += n; }

  const std::string& path() const { return path_; }

private:
  event_store(std::string path, db_ptr db);
  bool prepare_all(std::string& error);

  std::string path_;
  db_ptr db_;
  stmt_ptr insert_{nullptr, &sqlite3_finalize};
  stmt_ptr trim_{nullptr, &sqlite3_finalize};
  stmt_ptr newest_{nullptr, &sqlite3_finalize};
  stmt_ptr set_last_{nullptr, &sqlite3_finalize};
  stmt_ptr insert_own_{nullptr, &sqlite3_finalize};
  stmt_ptr insert_partner_{nullptr, &sqlite3_finalize};
  stmt_ptr trim_partner_{nullptr, &sqlite3_finalize};
  stmt_ptr set_mark_{nullptr, &sqlite3_finalize};
  stmt_ptr newest_partner_{nullptr, &sqlite3_finalize};
  stmt_ptr own_after_{nullptr, &sqlite3_finalize};
  stmt_ptr partner_after_{nullptr, &sqlite3_finalize};
  uint64_t last_seq_ = 0;
  std::map<std::string, uint64_t> partner_marks_; ///< highest seq merged per other node
  int64_t fail_writes_ = 0;
};

} // namespace tandem::storage
