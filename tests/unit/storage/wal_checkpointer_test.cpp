// WAL checkpoints off the writer: the history store's commits (HISTORY's batches, SYNC's merges)
// leave checkpoints to the checkpoint thread, the WAL is still restarted, a backstop bounds it
// when the thread does not checkpoint, and nothing written while checkpoints run is lost.

#include <string>

#include <gtest/gtest.h>

#include "storage/history_store.hpp"
#include "storage/wal_checkpointer.hpp"
#include "tests/support/process.hpp"

using namespace tandem;

namespace {

/// A merge as SYNC brings them: `n` rows of `n` different items (each row lands on its own index
/// page, so a transaction writes several WAL frames).
std::vector<history_row> batch(uint64_t first_seq, size_t n) {
  std::vector<history_row> rows;
  for (size_t i = 0; i < n; ++i) {
    history_row r;
    r.pair = "line1";
    uint64_t seq = first_seq + i;
    r.item = "ns=2;s=Tag" + std::to_string(seq % 500);
    r.time_ms = r.source_ms = 1'700'000'000'000 + static_cast<int64_t>(seq);
    r.recorded_ms = r.time_ms + 1;
    r.value = {1, 6, static_cast<uint8_t>(seq & 0xff), 0, 0, 0};
    r.origin = "plant-a";
    r.stamp = data_epoch{1, seq};
    rows.push_back(std::move(r));
  }
  return rows;
}

std::unique_ptr<storage::history_store> open(const test::temp_dir& d,
                                             const storage::wal_checkpoint_options& o) {
  std::string err, notice;
  auto s = storage::history_store::open(d.file("history.db"), err, notice, o);
  EXPECT_TRUE(s) << err;
  EXPECT_EQ(notice, "");
  return s;
}

void insert(storage::history_store& s, uint64_t first_seq, size_t n) {
  uint64_t inserted = 0;
  std::string err;
  ASSERT_TRUE(s.insert(batch(first_seq, n), inserted, err)) << err;
  ASSERT_EQ(inserted, n);
}

} // namespace

TEST(wal_checkpointer, commits_leave_checkpoints_to_the_thread_and_the_wal_is_still_restarted) {
  test::temp_dir d;
  storage::wal_checkpoint_options o;
  o.threshold_frames = 50;
  o.backstop_frames = 1'000'000;
  auto s = open(d, o);
  uint64_t seq = 1;
  for (int i = 0; i < 300; ++i, seq += 10)
    insert(*s, seq, 10);
  ASSERT_TRUE(s->wait_checkpoints(10'000));
  auto st = s->checkpoint_stats();
  EXPECT_GE(st.background, 1u);
  EXPECT_EQ(st.inline_, 0u) << "a commit checkpointed";
  // Once the thread has copied everything, the writer's next transaction starts the WAL over:
  // the first commit after a quiet moment may still find frames the last checkpoint missed (and
  // asks for one more), the next one writes at the start of the WAL.
  insert(*s, seq, 10);
  seq += 10;
  ASSERT_TRUE(s->wait_checkpoints(10'000));
  insert(*s, seq, 10);
  seq += 10;
  st = s->checkpoint_stats();
  EXPECT_LT(st.wal_frames, 50) << "the WAL was not restarted";
  EXPECT_EQ(st.inline_, 0u);
  EXPECT_GT(st.max_ms, 0.0);
  EXPECT_EQ(s->count(), seq - 1);
}

TEST(wal_checkpointer, the_writer_checkpoints_at_the_backstop_when_the_thread_does_not) {
  test::temp_dir d;
  storage::wal_checkpoint_options o;
  // Threshold and backstop the same: every checkpoint is the writer's, as with SQLite's own.
  o.threshold_frames = 40;
  o.backstop_frames = 40;
  auto s = open(d, o);
  uint64_t seq = 1;
  for (int i = 0; i < 100; ++i, seq += 10)
    insert(*s, seq, 10);
  auto st = s->checkpoint_stats();
  EXPECT_EQ(st.background, 0u);
  EXPECT_GE(st.inline_, 1u);
  // Bounded: never far past the backstop (one transaction's frames at most).
  EXPECT_LT(st.wal_frames, 40 + 40);
  EXPECT_EQ(s->count(), seq - 1);
}

TEST(wal_checkpointer, rows_written_while_checkpoints_run_are_all_kept) {
  test::temp_dir d;
  storage::wal_checkpoint_options o;
  o.threshold_frames = 20; // a checkpoint every few transactions, under way during most commits
  uint64_t seq = 1;
  {
    auto s = open(d, o);
    for (int i = 0; i < 400; ++i, seq += 20)
      insert(*s, seq, 20);
    EXPECT_GE(s->checkpoint_stats().background, 2u);
  }
  // Reopened: the integrity check passes (no notice) and every row and mark is there.
  auto s = open(d, o);
  EXPECT_EQ(s->count(), seq - 1);
  EXPECT_EQ(s->max_stamp("plant-a"), (data_epoch{1, seq - 1}));
  history_rows out;
  std::string err;
  ASSERT_TRUE(s->rows_after({{"plant-a", data_epoch{1, seq - 101}}}, 1000, out, err)) << err;
  ASSERT_EQ(out.rows.size(), 100u);
  EXPECT_EQ(out.rows.back().stamp.seq, seq - 1);
}

TEST(wal_checkpointer, refuses_a_database_that_is_not_in_wal_mode) {
  test::temp_dir d;
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(d.file("plain.db").c_str(), &raw), SQLITE_OK);
  storage::db_ptr db(raw, &sqlite3_close);
  std::string err;
  ASSERT_TRUE(storage::exec(db.get(), "CREATE TABLE t (x INTEGER)", err)) << err;
  auto c = storage::wal_checkpointer::start(db.get(), d.file("plain.db"), {}, err);
  EXPECT_FALSE(c);
  EXPECT_NE(err.find("not in WAL mode"), std::string::npos) << err;
}
