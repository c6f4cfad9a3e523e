#pragma once
/// Checkpoints a WAL database on a thread and connection of its own, so that the connection that
/// writes (an actor's, on the actor system's shared threads) does not.
///
/// SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL past 1,000 frames, on
/// the writer's thread: an fsync of the WAL, the copy of the pages into the database and an fsync
/// of the database, 9-20 ms on the 2-core VM (an fsync there takes about 4 ms). With a merge from
/// the partner every 10 ms that was every second's slowest replication lag (BENCHMARKS.md, SYNC).
/// Here the writer's WAL hook only wakes the checkpointer's thread, which runs a PASSIVE checkpoint
/// over its own connection: it waits for nobody and blocks nobody (the writer keeps appending to
/// the WAL meanwhile), and the writer restarts the WAL at its next transaction once everything is
/// copied, as before. What a commit guarantees does not change: the same WAL, the same
/// `synchronous` setting, the same fsyncs, only on another thread.
///
/// One fsync stays with the writer: the first commit after a restart syncs the new WAL header
/// (SQLite needs it for correctness). On a quiet disk it costs under 1.5 ms; while another process
/// writes heavily it took 10-40 ms, so the threshold is 10,000 frames (about 40 MB of WAL at 4 KB
/// pages) rather than SQLite's 1,000: a tenth of the restarts.
///
/// Backstop: when the WAL still holds `backstop_frames` (the thread cannot keep up, or a write
/// came during every checkpoint so the WAL was never restarted), the writer checkpoints in its
/// commit, as SQLite would: the WAL stays bounded whatever happens.

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "storage/sqlite_util.hpp"

namespace tandem::storage {

struct wal_checkpoint_options {
  /// WAL frames (pages) after which the thread checkpoints (SQLite checkpoints at 1,000).
  int threshold_frames = 10000;
  /// WAL frames after which the writer checkpoints in its commit (SQLite's behaviour).
  int backstop_frames = 40000;
  /// The checkpointing connection's `synchronous` (a checkpoint's fsyncs follow it): the
  /// writer's.
  std::string synchronous = "NORMAL";
};

/// What the checkpoints did (for tests and diagnostics); read with `stats()`.
struct wal_checkpoint_stats {
  uint64_t background = 0; ///< checkpoints the thread ran
  uint64_t inline_ = 0;    ///< backstop checkpoints the writer ran in its commit
  double last_ms = 0;      ///< the thread's last checkpoint took
  double max_ms = 0;       ///< its longest
  int wal_frames = 0;      ///< frames in the WAL after the writer's last commit
};

class wal_checkpointer {
public:
  /// Opens a second connection to the WAL database `path` (which `writer` has open and in WAL
  /// mode), starts the thread and replaces `writer`'s automatic checkpoint by the hook above.
  /// nullptr and `error` set when the connection cannot be opened; `writer` is left untouched.
  static std::unique_ptr<wal_checkpointer> start(sqlite3* writer, const std::string& path,
                                                 const wal_checkpoint_options& options,
                                                 std::string& error);

  /// Stops the thread (a checkpoint under way is finished first), closes its connection and gives
  /// `writer` SQLite's automatic checkpoint back. Must run before `writer` is closed.
  ~wal_checkpointer();
  wal_checkpointer(const wal_checkpointer&) = delete;
  wal_checkpointer& operator=(const wal_checkpointer&) = delete;

  wal_checkpoint_stats stats() const;

  /// Tests: waits up to `timeout_ms` until the thread has nothing to do; whether it has.
  bool wait_idle(int timeout_ms) const;

private:
  wal_checkpointer(sqlite3* writer, db_ptr own, const wal_checkpoint_options& options);
  static int on_commit(void* self, sqlite3* db, const char* name, int frames);
  void run();

  sqlite3* writer_;
  db_ptr own_;
  wal_checkpoint_options options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;         ///< the thread waits for work
  mutable std::condition_variable idle_; ///< wait_idle waits for the thread
  bool wanted_ = false;                  ///< a commit asked for a checkpoint
  bool running_ = false;                 ///< the thread is checkpointing
  bool stop_ = false;
  wal_checkpoint_stats stats_;
  std::thread thread_;
};

} // namespace tandem::storage
