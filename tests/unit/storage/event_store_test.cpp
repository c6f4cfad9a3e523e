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

// -- the partner's events (SYNC) ----------------------------------------------------------------

namespace {

diag_event from(const std::string& node, uint64_t seq, int64_t time) {
  return diag_event{seq, time, severity::info, node, "src", "k" + std::to_string(seq), "t"};
}

} // namespace

TEST(event_store, merges_the_partners_events_idempotently_and_exports_what_a_node_lacks) {
  test::temp_dir d;
  std::string err, notice;
  auto s = storage::event_store::open(d.file("e.db"), err, notice);
  ASSERT_TRUE(s) << err;
  ASSERT_TRUE(s->write({from("a", 1, 100), from("a", 2, 300)}, 100, err)) << err;
  std::vector<diag_event> fresh;
  // The partner's events, one of them twice, and one of this node's own it had lost.
  ASSERT_TRUE(s->merge({from("b", 1, 200), from("b", 2, 400), from("b", 1, 200), from("a", 3, 500)},
                       "a", 100, fresh, err))
      << err;
  EXPECT_EQ(fresh.size(), 3u);
  ASSERT_TRUE(s->merge({from("b", 2, 400)}, "a", 100, fresh, err));
  EXPECT_TRUE(fresh.empty());
  EXPECT_EQ(s->last_seq(), 3u); // this node's numbers continue after what came back
  auto marks = s->marks("a");
  ASSERT_EQ(marks.size(), 2u);
  EXPECT_EQ(marks[0].origin, "a");
  EXPECT_EQ(marks[0].stamp.seq, 3u);
  EXPECT_EQ(marks[1].origin, "b");
  EXPECT_EQ(marks[1].stamp.seq, 2u);
  // Both nodes' events, by time.
  auto v = s->newest(10, err);
  ASSERT_EQ(v.size(), 5u);
  std::vector<int64_t> times;
  for (auto& e : v)
    times.push_back(e.time_ms);
  EXPECT_EQ(times, (std::vector<int64_t>{100, 200, 300, 400, 500}));
  // What a node holding a:1 and nothing of b lacks, two at a time.
  event_rows r;
  ASSERT_TRUE(s->after({{"a", {0, 1}}}, "a", 2, r, err)) << err;
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_TRUE(r.more);
  EXPECT_EQ(r.events[0].seq, 2u);
  EXPECT_EQ(r.events[1].seq, 3u);
  ASSERT_TRUE(s->after({{"a", {0, 3}}}, "a", 2, r, err)) << err;
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_FALSE(r.more);
  EXPECT_EQ(r.events[0].node, "b");
  ASSERT_TRUE(s->after({{"a", {0, 3}}, {"b", {0, 2}}}, "a", 2, r, err)) << err;
  EXPECT_TRUE(r.events.empty());
  EXPECT_FALSE(r.more);
}

TEST(event_store, the_partners_events_and_marks_survive_a_reopen_and_trimming) {
  test::temp_dir d;
  std::string err, notice;
  {
    auto s = storage::event_store::open(d.file("e.db"), err, notice);
    ASSERT_TRUE(s) << err;
    std::vector<diag_event> batch, fresh;
    for (uint64_t i = 1; i <= 10; ++i)
      batch.push_back(from("b", i, static_cast<int64_t>(i)));
    ASSERT_TRUE(s->merge(batch, "a", 3, fresh, err)) << err;
  }
  auto s = storage::event_store::open(d.file("e.db"), err, notice);
  ASSERT_TRUE(s) << err;
  auto marks = s->marks("a");
  ASSERT_EQ(marks.size(), 1u);
  EXPECT_EQ(marks[0].stamp.seq, 10u);
  auto v = s->newest(100, err);
  ASSERT_EQ(v.size(), 3u); // the newest 3 of b's kept
  EXPECT_EQ(v[0].seq, 8u);
  s->fail_next_writes(1);
  std::vector<diag_event> fresh;
  EXPECT_FALSE(s->merge({from("b", 11, 11)}, "a", 3, fresh, err));
  EXPECT_TRUE(fresh.empty());
  EXPECT_EQ(s->marks("a")[0].stamp.seq, 10u);
}
