// return_to_primary: the primary is killed (kill -9) and restarted on the same port. With
// return_to_primary on, the pair goes back to it once it has been healthy for return_settle_ms
// (not before: the time is measured from the last moment the console still saw it down), with
// cause return_to_primary; with it off, the pair stays on the secondary. A client subscribed
// through the face keeps its session and, in hot mode, every sample across both switches.

#include <csignal>
#include <iostream>

#include <gtest/gtest.h>

#include "face_harness.hpp"

using namespace tandem;
using namespace tandem::test::face;
using namespace std::chrono_literals;

namespace {

class face_return : public testing::TestWithParam<bool> {};

std::string case_name(const testing::TestParamInfo<bool>& i) {
  return i.param ? "on" : "off";
}

TEST_P(face_return, to_the_primary_after_it_restarts) {
  const bool rtp = GetParam();
  const std::string tag = rtp ? "[ return_to_primary on ] " : "[ return_to_primary off ] ";
  test::temp_dir dir;
  sim_pair s(dir);
  ASSERT_TRUE(s.ok()) << s.why();
  auto p = s.options("hot");
  p.return_to_primary = rtp;
  p.return_settle_ms = 1500;
  face_node n(dir, {p});
  std::string why;
  ASSERT_TRUE(n.wait_ready(why)) << why;
  auto pair = [&] { return n.pair("line1"); };
  ASSERT_TRUE(n.wait_started("line1")) << n.pair("line1").dump();
  auto client = subscribe(dir, n.url("line1"), "ns=1;s=Sim.Counter", "client");
  ASSERT_TRUE(test::wait_for([&] { return values_of(*client).size() >= 10; }, 30s))
      << client->out() << client->err();

  const int64_t killed_at = now_ms();
  s.a.proc().signal(SIGKILL);
  s.a.proc().wait(10s);
  ASSERT_TRUE(test::wait_for([&] { return pair()["active"] == "secondary"; }, 10s))
      << pair().dump();
  EXPECT_EQ(pair()["last_failover"]["cause"], "connection_lost") << pair().dump();

  // Restart it; watch the console until it is connected again. `asked` is when the last query
  // that still saw it down was sent: it became healthy after that.
  const int64_t restart_at = steady_ms();
  ASSERT_TRUE(s.a.restart()) << s.a.why();
  int64_t asked = restart_at, connected = 0;
  json seen;
  ASSERT_TRUE(test::wait_for(
      [&] {
        int64_t t = steady_ms();
        seen = pair();
        if (seen["primary"]["state"] != "connected") {
          asked = t;
          return false;
        }
        connected = steady_ms();
        return true;
      },
      20s))
      << pair().dump();
  EXPECT_EQ(seen["active"], "secondary") << "back to the primary before it settled";
  std::cout << tag << "primary restarted to connected: " << connected - restart_at << " ms\n";

  if (rtp) {
    int64_t returned = 0;
    ASSERT_TRUE(test::wait_for(
        [&] {
          if (pair()["active"] != "primary") return false;
          returned = steady_ms();
          return true;
        },
        std::chrono::milliseconds(p.return_settle_ms + 10000)))
        << pair().dump();
    std::cout << tag << "primary connected to active=primary: " << returned - connected
              << " ms (at least " << returned - asked << " ms after it was last seen down; "
              << "return_settle_ms " << p.return_settle_ms << ")\n";
    RecordProperty("settle_ms", static_cast<int>(returned - connected));
    EXPECT_GE(returned - asked, p.return_settle_ms) << "returned before the settle time";
    EXPECT_LT(returned - connected, p.return_settle_ms + 1000);
    auto q = pair();
    EXPECT_EQ(q["last_failover"]["cause"], "return_to_primary") << q.dump();
    EXPECT_EQ(q["last_failover"]["from"], "secondary") << q.dump();
    auto failovers = n.events_of("line1", "failover");
    ASSERT_EQ(failovers.size(), 2u);
    EXPECT_NE(failovers[1].value("text", "").find("return_to_primary"), std::string::npos)
        << failovers[1].dump();
    const int64_t back_at = now_ms();
    ASSERT_TRUE(test::wait_for(
        [&] { return good_values_since(values_of(*client), back_at + 200) >= 10; }, 20s))
        << client->out() << client->err();
  } else {
    // Healthy for the settle time and more: still on the secondary.
    EXPECT_TRUE(holds_for(
        [&] {
          auto q = pair();
          return q["active"] == "secondary" && q["primary"]["state"] == "connected";
        },
        std::chrono::milliseconds(p.return_settle_ms + 2 * p.status_interval_ms)))
        << pair().dump();
    EXPECT_EQ(n.events_of("line1", "failover").size(), 1u);
    EXPECT_TRUE(good_values_since(values_of(*client), killed_at + 500) >= 20);
  }

  EXPECT_EQ(reconnection_event(lines_of(*client)), "")
      << "the client lost its session or connection";
  auto f = figures_of(values_of(*client));
  std::cout << tag << "client: " << f.count << " values, " << f.bad << " bad, " << f.missing
            << " missing, " << f.repeated << " repeated, longest gap in source time "
            << f.max_source_gap_ms << " ms, in arrival " << f.max_arrival_gap_ms << " ms\n";
  EXPECT_EQ(f.bad, 0u) << f.first_bad;
  EXPECT_EQ(f.missing, 0) << "hot switches lost samples";
  EXPECT_EQ(f.repeated, 0);
  EXPECT_EQ(n.stop(), 0) << n.proc().proc().err();
}

INSTANTIATE_TEST_SUITE_P(return_to_primary, face_return, testing::Values(true, false), case_name);

} // namespace
