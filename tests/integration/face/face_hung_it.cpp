// A hung primary: SIGSTOP freezes the server process, so nothing closes and its TCP connection
// stays up. The silence rule notices: the server said nothing for the status timeout and the poll
// sent at half of it is unanswered. The pair fails over the status timeout after the server's
// last word (not sooner than the timeout minus one keep-alive period after the stop, and well
// before the next regular poll at 1 s could time out), the client subscribed through the face
// keeps its session and, in hot mode, every sample; when the server runs again (SIGCONT) it is
// healthy again but the pair stays where it is (return_to_primary off). Against tandem sim
// servers and against node-opcua servers, which grant a publishing interval of 50 ms at the
// least (keep-alives every 150 ms), so their status timeout is 500 ms.

#include <csignal>
#include <iostream>

#include <gtest/gtest.h>

#include "face_harness.hpp"

using namespace tandem;
using namespace tandem::test::face;
using namespace std::chrono_literals;

namespace {

class face_hung_server : public testing::TestWithParam<test::peer_kind> {};

TEST_P(face_hung_server, a_stopped_primary_is_failed_over_after_the_status_timeout) {
  const bool sims = GetParam() == test::peer_kind::tandem_sim;
  test::temp_dir dir;
  sim_pair s(dir, 50, "", GetParam());
  ASSERT_TRUE(s.ok()) << s.why();
  auto p = s.options("hot");
  // The poll rule alone would take from the timeout to the timeout plus the interval.
  p.status_interval_ms = sims ? 1000 : 1500;
  p.status_timeout_ms = sims ? 300 : 500;
  // The server's last word comes up to one keep-alive period before the stop.
  const int keep_alive_ms = sims ? 60 : 150;
  face_node n(dir, {p});
  std::string why;
  ASSERT_TRUE(n.wait_ready(why)) << why;
  ASSERT_TRUE(n.wait_started("line1")) << n.pair("line1").dump();

  auto client = subscribe(dir, n.url("line1"), "ns=1;s=Sim.Counter", "client");
  ASSERT_TRUE(test::wait_for([&] { return values_of(*client).size() >= 10; }, 30s))
      << client->out() << client->err();

  const int64_t stopped_at = now_ms();
  const int64_t t0 = steady_ms();
  s.a.proc().signal(SIGSTOP);
  int64_t t1 = 0;
  ASSERT_TRUE(test::wait_for(
      [&] {
        auto q = n.pair("line1");
        if (!q.is_object() || q["active"] != "secondary") return false;
        t1 = steady_ms();
        return true;
      },
      10s))
      << n.pair("line1").dump();
  const int64_t failover_ms = t1 - t0;
  std::cout << "[ hung primary ] SIGSTOP to active=secondary: " << failover_ms
            << " ms (status_interval_ms " << p.status_interval_ms << ", status_timeout_ms "
            << p.status_timeout_ms << ")\n";
  RecordProperty("failover_ms", static_cast<int>(failover_ms));
  EXPECT_GE(failover_ms, p.status_timeout_ms - keep_alive_ms)
      << "failed over before the status timeout";
  EXPECT_LT(failover_ms, p.status_timeout_ms + 500) << "the silence rule did not notice";
  auto q = n.pair("line1");
  EXPECT_EQ(q["last_failover"]["cause"], "status_timeout") << q.dump();
  EXPECT_EQ(q["last_failover"]["from"], "primary") << q.dump();
  EXPECT_EQ(q["primary"]["state"], "status_timeout") << q.dump();
  EXPECT_NE(q["primary"].value("detail", "").find("nothing from the server for"), std::string::npos)
      << q.dump();
  auto failovers = n.events_of("line1", "failover");
  ASSERT_EQ(failovers.size(), 1u);
  EXPECT_NE(failovers[0].value("text", "").find("status_timeout"), std::string::npos)
      << failovers[0].dump();

  // Values keep coming, from the secondary now.
  ASSERT_TRUE(test::wait_for(
      [&] { return good_values_since(values_of(*client), stopped_at + 200) >= 20; }, 20s))
      << client->out() << client->err();

  // The server runs again: healthy, but the pair stays on the secondary.
  s.a.proc().signal(SIGCONT);
  int64_t t2 = steady_ms();
  ASSERT_TRUE(
      test::wait_for([&] { return n.pair("line1")["primary"]["state"] == "connected"; }, 10s))
      << n.pair("line1").dump();
  std::cout << "[ hung primary ] SIGCONT to primary connected again: " << steady_ms() - t2
            << " ms\n";
  EXPECT_EQ(n.pair("line1")["active"], "secondary");
  s.a.proc().signal(SIGTERM);
  EXPECT_EQ(s.a.proc().wait(10s), 0) << s.a.proc().err();

  auto lines = lines_of(*client);
  EXPECT_EQ(reconnection_event(lines), "") << "the client lost its session or connection";
  auto f = figures_of(values_of(*client));
  std::cout << "[ hung primary ] client: " << f.count << " values, " << f.bad << " bad, "
            << f.missing << " samples missing, longest gap in source time " << f.max_source_gap_ms
            << " ms, in arrival " << f.max_arrival_gap_ms << " ms\n";
  EXPECT_EQ(f.bad, 0u) << f.first_bad;
  // Hot mode: the standby's changes the hung server never delivered are replayed (two sims
  // publish the same counter at the same instants; two node-opcua servers do not).
  if (sims) {
    EXPECT_EQ(f.missing, 0) << "hot failover lost samples";
    EXPECT_EQ(f.repeated, 0);
  }
  EXPECT_EQ(n.stop(), 0) << n.proc().proc().err();
}

INSTANTIATE_TEST_SUITE_P(peers, face_hung_server,
                         testing::Values(test::peer_kind::tandem_sim, test::peer_kind::node_opcua),
                         [](const testing::TestParamInfo<test::peer_kind>& i) {
                           return std::string(test::to_string(i.param));
                         });

} // namespace
