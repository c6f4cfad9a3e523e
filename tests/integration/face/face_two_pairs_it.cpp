// Two pairs on one node (line1 and line2, four simulators): killing line1's primary fails line1
// over and leaves line2 alone: line2's pair does not fail over and line2's client sees no gap
// larger than its normal rate: no sample lost (compared with a client of line2's simulator
// itself) and arrivals no further apart than the publishing interval and the machine allow.

#include <algorithm>
#include <csignal>
#include <iostream>
#include <set>

#include <gtest/gtest.h>

#include "face_harness.hpp"

using namespace tandem;
using namespace tandem::test::face;
using namespace std::chrono_literals;

namespace {

TEST(face_two_pairs, a_failover_of_one_pair_does_not_disturb_the_other) {
  const int rate_ms = 50;
  test::temp_dir dir;
  sim_pair one(dir, rate_ms, "line1-");
  sim_pair two(dir, rate_ms, "line2-");
  for (auto* s : {&one.a, &one.b, &two.a, &two.b})
    ASSERT_TRUE(s->ok()) << s->why();
  pair_options p1, p2;
  p1.alias = "line1";
  p1.primary = one.a.url();
  p1.secondary = one.b.url();
  p2.alias = "line2";
  p2.primary = two.a.url();
  p2.secondary = two.b.url();
  face_node n(dir, {p1, p2});
  std::string why;
  ASSERT_TRUE(n.wait_ready(why)) << why;
  for (auto* alias : {"line1", "line2"})
    ASSERT_TRUE(n.wait_started(alias)) << n.pair(alias).dump();
  auto line2_before = n.pair("line2")["last_failover"];

  // line2's client through the face, and a reference client subscribed to line2's primary
  // directly: what the simulator itself delivered (it skips ticks when the machine is too busy
  // to run it on time, which is not the face's doing).
  auto client = subscribe(dir, n.url("line2"), "ns=1;s=Sim.Counter", "client2", rate_ms);
  auto reference = subscribe(dir, two.a.url(), "ns=1;s=Sim.Counter", "reference2", rate_ms);
  ASSERT_TRUE(test::wait_for(
      [&] { return values_of(*client).size() >= 25 && values_of(*reference).size() >= 25; }, 30s))
      << client->out() << client->err() << reference->err();
  auto steady = figures_of(values_of(*client));

  const int64_t killed_at = now_ms();
  one.a.proc().signal(SIGKILL);
  one.a.proc().wait(10s);
  ASSERT_TRUE(test::wait_for([&] { return n.pair("line1")["active"] == "secondary"; }, 10s))
      << n.pair("line1").dump();
  EXPECT_EQ(n.pair("line1")["last_failover"]["cause"], "connection_lost");
  // line2's values over a window around the kill: a second either side.
  ASSERT_TRUE(test::wait_for(
      [&] {
        return good_values_since(values_of(*client), killed_at + 1000) >= 1 &&
               good_values_since(values_of(*reference), killed_at + 1000) >= 1;
      },
      20s))
      << client->out() << client->err();

  auto q = n.pair("line2");
  EXPECT_EQ(q["active"], "primary") << q.dump();
  EXPECT_EQ(q["last_failover"], line2_before) << "line2 failed over: " << q.dump();
  EXPECT_TRUE(n.events_of("line2", "failover").empty());
  EXPECT_EQ(n.events_of("line1", "failover").size(), 1u);

  EXPECT_EQ(reconnection_event(lines_of(*client)), "")
      << "line2's client lost its session or connection";
  const int64_t from = killed_at - 1000, to = killed_at + 1000;
  auto values = values_of(*client);
  auto refs = values_of(*reference);
  auto around = figures_of(values, from, to);
  auto direct = figures_of(refs, from, to);
  // Every sample the simulator delivered in the window reached line2's client.
  std::set<int64_t> seen;
  for (auto& v : values)
    if (v["value"].is_number()) seen.insert(v["value"].get<int64_t>());
  int64_t lost = 0;
  for (auto& v : refs) {
    int64_t src = unix_ms(v.value("sourceTimestamp", ""));
    if (src >= from && src < to && v["value"].is_number() &&
        seen.count(v["value"].get<int64_t>()) == 0)
      ++lost;
  }
  std::cout << "[ two pairs ] line2 through the face, before the kill: longest gap in arrival "
            << steady.max_arrival_gap_ms
            << " ms; in the 2 s around line1's failover: " << around.count << " values, "
            << around.bad << " bad, " << lost << " lost by the face, longest gap in source time "
            << around.max_source_gap_ms << " ms, in arrival " << around.max_arrival_gap_ms
            << " ms\n"
            << "[ two pairs ] line2's simulator directly, same window: " << direct.count
            << " values, " << direct.missing << " ticks skipped, longest gap in arrival "
            << direct.max_arrival_gap_ms << " ms\n";
  RecordProperty("line2_arrival_gap_ms", static_cast<int>(around.max_arrival_gap_ms));
  EXPECT_GE(around.count, static_cast<size_t>(2000 / rate_ms - 2));
  EXPECT_EQ(around.bad, 0u) << around.first_bad;
  EXPECT_EQ(lost, 0) << "line2's client lost samples while line1 failed over";
  EXPECT_EQ(around.missing, direct.missing);
  // Arrivals: no longer apart than the publishing interval allows, beyond what a direct client
  // of the simulator sees on this machine at the same time (or the face before the kill).
  const int64_t normal =
      std::max({direct.max_arrival_gap_ms, steady.max_arrival_gap_ms, int64_t{2} * rate_ms});
  EXPECT_LE(around.max_arrival_gap_ms, normal + 4 * rate_ms);
  EXPECT_EQ(n.stop(), 0) << n.proc().proc().err();
}

} // namespace
