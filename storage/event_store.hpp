#pragma once
/// Persistent diagnostics events: one SQLite database (WAL) per data directory.
/// Used only by the DIAGNOSTICS actor.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "messages/event.hpp"
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

  /// The newest `n` events, oldest first.
  std::vector<diag_event> newest(uint64_t n, std::string& error);

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
  uint64_t last_seq_ = 0;
  int64_t fail_writes_ = 0;
};

} // namespace tandem::storage
