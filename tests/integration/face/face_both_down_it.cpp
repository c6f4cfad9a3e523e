// Both servers down, then one back (every mode): with both killed (kill -9, the standby first,
// then the active server) the client subscribed through the face keeps its session and sees its
// item go Bad (BadNoCommunication, with the last value) and the pair's ServiceLevel drop to 1;
// once the secondary is restarted its values arrive Good again on the same subscription: the
// client never reconnected.

#include <csignal>
#include <iostream>

#include <gtest/gtest.h>

#include "face_harness.hpp"

using namespace tandem;
using namespace tandem::test::face;
using namespace std::chrono_literals;

namespace {

class face_both_down : public testing::TestWithParam<const char*> {};

std::string case_name(const testing::TestParamInfo<const char*>& i) {
  return i.param;
}

TEST_P(face_both_down, the_client_sees_bad_then_good_again_without_reconnecting) {
  const std::string mode = GetParam();
  const std::string tag = "[ both down, " + mode + " ] ";
  test::temp_dir dir;
  sim_pair s(dir);
  ASSERT_TRUE(s.ok()) << s.why();
  auto p = s.options(mode);
  face_node n(dir, {p});
  std::string why;
  ASSERT_TRUE(n.wait_ready(why)) << why;
  auto pair = [&] { return n.pair("line1"); };
  ASSERT_TRUE(n.wait_started("line1", mode == "cold" ? "idle" : "connected"))
      << n.pair("line1").dump();
  auto client = subscribe(dir, n.url("line1"), "ns=1;s=Sim.Counter", "client");
  ASSERT_TRUE(test::wait_for([&] { return values_of(*client).size() >= 10; }, 30s))
      << client->out() << client->err();

  // The standby first (the node sees it go; in cold mode it is not connected anyway), then the
  // active server: the pair has nowhere to go.
  s.b.proc().signal(SIGKILL);
  s.b.proc().wait(10s);
  if (mode != "cold")
    ASSERT_TRUE(test::wait_for([&] { return pair()["secondary"]["state"] == "lost"; }, 10s))
        << pair().dump();
  const int64_t killed_at = now_ms();
  const int64_t t0 = steady_ms();
  s.a.proc().signal(SIGKILL);
  s.a.proc().wait(10s);
  // The client's item goes Bad.
  json bad;
  ASSERT_TRUE(test::wait_for(
      [&] {
        for (auto& v : values_of(*client))
          if (v.value("status", "") != "Good") {
            bad = v;
            return true;
          }
        return false;
      },
      10s))
      << client->out() << client->err();
  const int64_t bad_ms = steady_ms() - t0;
  std::cout
      << tag
      << "kill -9 of the active server (the standby already down) to a Bad value at the client: "
      << bad_ms << " ms: " << bad.dump() << "\n";
  EXPECT_EQ(bad["status"], "BadNoCommunication") << bad.dump();
  EXPECT_TRUE(bad["value"].is_number()) << "the last value is kept: " << bad.dump();
  auto q = pair();
  EXPECT_EQ(q["service_level"], 1) << q.dump();
  EXPECT_NE(q["primary"]["state"], "connected") << q.dump();
  EXPECT_NE(q["secondary"]["state"], "connected") << q.dump();
  // It stays Bad while nobody is up: no Good value from after the kill.
  EXPECT_EQ(good_values_since(values_of(*client), killed_at + 100), 0u);

  // The secondary comes back: values resume Good on the same subscription.
  const int64_t restart_at = now_ms();
  const int64_t t1 = steady_ms();
  ASSERT_TRUE(s.b.restart()) << s.b.why();
  ASSERT_TRUE(
      test::wait_for([&] { return good_values_since(values_of(*client), restart_at) >= 1; }, 20s))
      << client->out() << client->err() << pair().dump();
  std::cout << tag
            << "secondary restarted to the first Good value at the client: " << steady_ms() - t1
            << " ms\n";
  ASSERT_TRUE(
      test::wait_for([&] { return good_values_since(values_of(*client), restart_at) >= 10; }, 20s))
      << client->out() << client->err();
  q = pair();
  EXPECT_EQ(q["active"], "secondary") << q.dump();
  // Healthy, without a healthy standby (cold mode never counts its standby).
  EXPECT_EQ(q["service_level"], mode == "cold" ? 255 : 150) << q.dump();

  auto lines = lines_of(*client);
  EXPECT_EQ(reconnection_event(lines), "") << "the client lost its session or connection";
  auto after = figures_of(values_of(*client), restart_at);
  std::cout << tag << "client after the restart: " << after.count << " values, " << after.bad
            << " bad, longest gap in source time " << after.max_source_gap_ms << " ms\n";
  EXPECT_EQ(after.bad, 0u) << after.first_bad;
  EXPECT_EQ(n.stop(), 0) << n.proc().proc().err();
}

INSTANTIATE_TEST_SUITE_P(modes, face_both_down, testing::Values("hot", "warm", "cold"), case_name);

} // namespace
