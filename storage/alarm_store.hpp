#pragma once
/// Alarms: one SQLite database (`<data_dir>/alarms.db`, WAL, synchronous=FULL: an acknowledged
/// alarm stays acknowledged). Alarms are few, so the ALARMS actor keeps them all in memory and
/// writes each change through. Also holds the merge rule of two copies of one alarm.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "messages/alarms.hpp"
#include "storage/sqlite_util.hpp"

namespace tandem::storage {

class alarm_store {
public:
  /// Opens or creates the database at `path` (a damaged file is moved aside, named in `notice`);
  /// nullptr and `error` set when it cannot be opened at all.
  static std::unique_ptr<alarm_store> open(const std::string& path, std::string& error,
                                           std::string& notice);

  ~alarm_store();
  alarm_store(const alarm_store&) = delete;
  alarm_store& operator=(const alarm_store&) = delete;

  /// Every stored alarm, oldest raise first.
  bool load(std::vector<alarm>& out, std::string& error);

  /// Writes (inserts or replaces by id) `alarms` and the next alarm number of this node in one
  /// transaction; the high-water marks rise to their stamps. All or nothing.
  bool put(const std::vector<alarm>& alarms, uint64_t next_number, std::string& error);

  /// Deletes cleared and acknowledged alarms whose clear and ack are both before `cutoff_ms`;
  /// the ids deleted.
  bool delete_before(int64_t cutoff_ms, std::vector<std::string>& deleted, std::string& error);

  /// The highest stamp stored per origin (never lowered, also when alarms are deleted).
  std::vector<origin_mark> marks() const;
  data_epoch max_stamp(const std::string& origin) const;
  /// The number the next alarm raised here gets (persisted by put()).
  uint64_t next_number() const { return next_number_; }

  /// Fault injection: the next `n` writes fail as a disk error would.
  void fail_next_writes(int64_t n) { fail_writes_ += n; }

  /// The merge rule of two copies of one alarm (same id), commutative, associative and
  /// idempotent: cleared (= !active) and acked only go from false to true, so each is the OR
  /// of both, with the earliest non-zero time of each; raised_ms is the earliest non-zero;
  /// key, source and text are those of the copy with the higher (term, seq, origin) stamp,
  /// whose stamp the result keeps.
  static alarm join(const alarm& a, const alarm& b);

private:
  alarm_store(std::string path, db_ptr db);

  std::string path_;
  db_ptr db_;
  stmt_ptr upsert_{nullptr, &sqlite3_finalize};
  stmt_ptr mark_{nullptr, &sqlite3_finalize};
  stmt_ptr counter_{nullptr, &sqlite3_finalize};
  std::map<std::string, data_epoch> marks_;
  uint64_t next_number_ = 1;
  int64_t fail_writes_ = 0;
};

} // namespace tandem::storage
