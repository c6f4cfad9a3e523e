// The SQLite event store: round trip, trimming, all-or-nothing writes, corruption handling.

#include <fstream>

#include <gtest/gtest.h>

#include "storage/event_store.hpp"
#include "tests/support/process.hpp"

using namespace tandem;

namespace {

diag_event ev(uint64_t seq, const std::string& kind) {
  return diag_event{
      seq, 1000 + static_cast<int64_t>(seq), severity::warning, "n", "src", kind, "t " + kind};
}

TEST(event_store, writes_and_reads_back_oldest_first) {
  test::temp_dir d;
  std::string err, notice;
  auto s = storage::event_store::open(d.file("e.db"), err, notice);
  ASSERT_TRUE(s) << err;
  EXPECT_EQ(s->last_seq(), 0u);
  ASSERT_TRUE(s->write({ev(1, "a"), ev(2, "b"), ev(3, "c")}, 100, err)) << err;
  auto v = s->newest(2, err);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].kind, "b");
  EXPECT_EQ(v[1].kind, "c");
  EXPECT_EQ(v[1].sev, severity::warning);
  EXPECT_EQ(v[1].time_ms, 1003);
  EXPECT_EQ(v[1].text, "t c");
  EXPECT_EQ(s->last_seq(), 3u);
}

TEST(event_store, keeps_only_the_newest_and_remembers_the_last_number) {
  test::temp_dir d;
  std::string err, notice;
  {
    auto s = storage::event_store::open(d.file("e.db"), err, notice);
    ASSERT_TRUE(s->write({ev(1, "a"), ev(2, "b"), ev(3, "c"), ev(4, "d")}, 2, err));
    EXPECT_EQ(s->newest(10, err).size(), 2u);
  }
  auto s = storage::event_store::open(d.file("e.db"), err, notice);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->last_seq(), 4u);
  auto v = s->newest(10, err);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].seq, 3u);
}

TEST(event_store, an_injected_failure_writes_nothing) {
  test::temp_dir d;
  std::string err, notice;
  auto s = storage::event_store::open(d.file("e.db"), err, notice);
  s->fail_next_writes(1);
  EXPECT_FALSE(s->write({ev(1, "a")}, 10, err));
  EXPECT_NE(err.find("injected"), std::string::npos);
  EXPECT_TRUE(s->newest(10, err).empty());
  EXPECT_EQ(s->last_seq(), 0u);
  err.clear();
  EXPECT_TRUE(s->write({ev(1, "a")}, 10, err)) << err;
}

TEST(event_store, a_duplicate_sequence_number_rolls_the_whole_batch_back) {
  test::temp_dir d;
  std::string err, notice;
  auto s = storage::event_store::open(d.file("e.db"), err, notice);
  ASSERT_TRUE(s->write({ev(1, "a")}, 10, err));
  EXPECT_FALSE(s->write({ev(2, "b"), ev(1, "dup")}, 10, err));
  EXPECT_NE(err.find("cannot insert event"), std::string::npos) << err;
  auto v = s->newest(10, err);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(s->last_seq(), 1u);
}

TEST(event_store, a_corrupt_file_is_moved_aside_and_a_new_one_started) {
  test::temp_dir d;
  {
    std::ofstream f(d.file("e.db"), std::ios::binary);
    f << "SQLite format 3" << '\0' << std::string(4000, 'x');
  }
  std::string err, notice;
  auto s = storage::event_store::open(d.file("e.db"), err, notice);
  ASSERT_TRUE(s) << err;
  EXPECT_NE(notice.find("moved to"), std::string::npos) << notice;
  EXPECT_TRUE(s->write({ev(1, "a")}, 10, err)) << err;
}

TEST(event_store, an_unopenable_path_is_a_clear_error) {
  std::string err, notice;
  auto s = storage::event_store::open("/nonexistent-dir/x/e.db", err, notice);
  EXPECT_FALSE(s);
  EXPECT_NE(err.find("/nonexistent-dir/x/e.db"), std::string::npos) << err;
}

} // namespace
