// The alarm store: round trip across a reopen, the next alarm number, high-water marks,
// retention of cleared and acknowledged alarms, and the merge rule of two copies of an alarm.

#include <gtest/gtest.h>

#include "storage/alarm_store.hpp"
#include "tests/support/process.hpp"

using namespace tandem;

namespace {

tandem::alarm make(const std::string& id, const std::string& origin, uint64_t seq) {
  tandem::alarm a;
  a.id = id;
  a.key = "comm:line1/primary";
  a.source = "server/line1/primary";
  a.text = "lost";
  a.raised_ms = 1000;
  a.origin = origin;
  a.stamp = data_epoch{0, seq};
  return a;
}

TEST(alarm_store, keeps_alarms_marks_and_the_next_number_across_a_reopen) {
  test::temp_dir d;
  std::string err, notice;
  {
    auto s = storage::alarm_store::open(d.file("alarms.db"), err, notice);
    ASSERT_TRUE(s) << err;
    EXPECT_EQ(s->next_number(), 1u);
    auto a = make("a:1", "a", 1);
    ASSERT_TRUE(s->put({a}, 2, err)) << err;
    a.active = false;
    a.cleared_ms = 2000;
    a.stamp.seq = 2;
    auto b = make("b:1", "b", 7);
    b.key = "partner";
    ASSERT_TRUE(s->put({a, b}, 2, err)) << err;
  }
  auto s = storage::alarm_store::open(d.file("alarms.db"), err, notice);
  ASSERT_TRUE(s) << err;
  std::vector<tandem::alarm> all;
  ASSERT_TRUE(s->load(all, err)) << err;
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, "a:1");
  EXPECT_FALSE(all[0].active);
  EXPECT_EQ(all[0].cleared_ms, 2000);
  EXPECT_EQ(all[1].key, "partner");
  EXPECT_EQ(s->next_number(), 2u);
  EXPECT_EQ(s->max_stamp("a"), (data_epoch{0, 2}));
  EXPECT_EQ(s->max_stamp("b"), (data_epoch{0, 7}));
  // Marks never go down, also when an older stamp is written.
  auto old = make("a:1", "a", 1);
  ASSERT_TRUE(s->put({old}, 2, err)) << err;
  EXPECT_EQ(s->max_stamp("a"), (data_epoch{0, 2}));
}

TEST(alarm_store, retention_deletes_only_cleared_and_acknowledged_alarms) {
  test::temp_dir d;
  std::string err, notice;
  auto s = storage::alarm_store::open(d.file("alarms.db"), err, notice);
  ASSERT_TRUE(s) << err;
  auto done = make("a:1", "a", 1);
  done.active = false;
  done.cleared_ms = 100;
  done.acked = true;
  done.acked_ms = 200;
  auto unacked = make("a:2", "a", 2);
  unacked.active = false;
  unacked.cleared_ms = 100;
  auto active = make("a:3", "a", 3);
  active.acked = true;
  active.acked_ms = 100;
  ASSERT_TRUE(s->put({done, unacked, active}, 4, err)) << err;
  std::vector<std::string> deleted;
  ASSERT_TRUE(s->delete_before(150, deleted, err)) << err;
  EXPECT_TRUE(deleted.empty()); // acked at 200: not yet
  ASSERT_TRUE(s->delete_before(1000, deleted, err)) << err;
  ASSERT_EQ(deleted.size(), 1u);
  EXPECT_EQ(deleted[0], "a:1");
  EXPECT_EQ(s->max_stamp("a"), (data_epoch{0, 3}));
}

TEST(alarm_store, join_clear_and_ack_win_text_of_the_newer_stamp) {
  auto a = make("a:1", "a", 5); // acknowledged on a, still active there
  a.acked = true;
  a.acked_ms = 3000;
  auto b = make("a:1", "b", 9); // cleared on b (newer stamp), with a newer text
  b.active = false;
  b.cleared_ms = 2500;
  b.text = "lost: connection refused";
  auto ab = storage::alarm_store::join(a, b);
  auto ba = storage::alarm_store::join(b, a);
  for (auto& j : {ab, ba}) {
    EXPECT_FALSE(j.active);
    EXPECT_TRUE(j.acked);
    EXPECT_EQ(j.cleared_ms, 2500);
    EXPECT_EQ(j.acked_ms, 3000);
    EXPECT_EQ(j.text, "lost: connection refused");
    EXPECT_EQ(j.origin, "b");
    EXPECT_EQ(j.stamp, (data_epoch{0, 9}));
    EXPECT_EQ(j.raised_ms, 1000);
  }
  // Idempotent and associative with a third copy.
  auto again = storage::alarm_store::join(ab, b);
  EXPECT_EQ(again.text, ab.text);
  EXPECT_EQ(again.active, ab.active);
  EXPECT_EQ(again.acked, ab.acked);
  auto c = make("a:1", "a", 3);
  c.acked = true;
  c.acked_ms = 2800;
  auto left = storage::alarm_store::join(storage::alarm_store::join(a, b), c);
  auto right = storage::alarm_store::join(a, storage::alarm_store::join(b, c));
  EXPECT_EQ(left.acked_ms, 2800);
  EXPECT_EQ(right.acked_ms, 2800);
  EXPECT_EQ(left.stamp, right.stamp);
  // A higher term beats a higher seq.
  auto t = make("a:1", "a", 1);
  t.stamp.term = 2;
  t.text = "term 2";
  EXPECT_EQ(storage::alarm_store::join(b, t).text, "term 2");
}

} // namespace
