// The operator's switch: `switch line1 secondary` moves the pair to the secondary and pins it
// there (the primary healthy and return_to_primary on, it stays past the settle time);
// `switch line1 primary` moves it back. A client subscribed through the face sees every sample
// throughout (hot mode). Switching to a server that is down is refused with a clear error and
// changes nothing.

#include <csignal>
#include <iostream>

#include <gtest/gtest.h>

#include "face_harness.hpp"

using namespace tandem;
using namespace tandem::test::face;
using namespace std::chrono_literals;

namespace {

TEST(face_switch, pins_the_secondary_returns_and_refuses_a_dead_server) {
  test::temp_dir dir;
  sim_pair s(dir);
  ASSERT_TRUE(s.ok()) << s.why();
  auto p = s.options("hot");
  p.return_to_primary = true;
  p.return_settle_ms = 600;
  face_node n(dir, {p});
  std::string why;
  ASSERT_TRUE(n.wait_ready(why)) << why;
  auto pair = [&] { return n.pair("line1"); };
  ASSERT_TRUE(n.wait_started("line1")) << n.pair("line1").dump();
  auto client = subscribe(dir, n.url("line1"), "ns=1;s=Sim.Counter", "client");
  ASSERT_TRUE(test::wait_for([&] { return values_of(*client).size() >= 10; }, 30s))
      << client->out() << client->err();

  // To the secondary: done at once, and pinned past the settle time although the primary is
  // healthy and return_to_primary is on.
  auto r = n.console("switch line1 secondary");
  ASSERT_EQ(r.value("ok", false), true) << r.dump();
  EXPECT_EQ(r["active"], "secondary") << r.dump();
  auto q = pair();
  EXPECT_EQ(q["active"], "secondary") << q.dump();
  EXPECT_EQ(q["last_failover"]["cause"], "operator") << q.dump();
  const int64_t pinned_at = now_ms();
  EXPECT_TRUE(holds_for(
      [&] {
        auto q = pair();
        return q["active"] == "secondary" && q["primary"]["state"] == "connected";
      },
      std::chrono::milliseconds(p.return_settle_ms + 3 * p.status_interval_ms)))
      << pair().dump();
  ASSERT_TRUE(test::wait_for(
      [&] { return good_values_since(values_of(*client), pinned_at + 100) >= 10; }, 20s))
      << client->out() << client->err();

  // Back to the primary.
  r = n.console("switch line1 primary");
  ASSERT_EQ(r.value("ok", false), true) << r.dump();
  EXPECT_EQ(r["active"], "primary") << r.dump();
  q = pair();
  EXPECT_EQ(q["active"], "primary") << q.dump();
  EXPECT_EQ(q["last_failover"]["from"], "secondary") << q.dump();
  EXPECT_EQ(q["last_failover"]["cause"], "operator") << q.dump();
  const int64_t back_at = now_ms();
  ASSERT_TRUE(test::wait_for(
      [&] { return good_values_since(values_of(*client), back_at + 100) >= 10; }, 20s))
      << client->out() << client->err();
  EXPECT_EQ(n.events_of("line1", "failover").size(), 2u);

  // A dead server is refused, with the reason, and nothing changes.
  s.b.proc().signal(SIGKILL);
  s.b.proc().wait(10s);
  ASSERT_TRUE(test::wait_for([&] { return pair()["secondary"]["state"] != "connected"; }, 10s))
      << pair().dump();
  r = n.console("switch line1 secondary");
  std::cout << "[ switch ] to the dead secondary: " << r.dump() << "\n";
  ASSERT_TRUE(r.contains("error")) << r.dump();
  auto text = r["error"].get<std::string>();
  EXPECT_NE(text.find("secondary"), std::string::npos) << text;
  EXPECT_NE(text.find("line1"), std::string::npos) << text;
  EXPECT_NE(text.find("not switching"), std::string::npos) << text;
  EXPECT_EQ(pair()["active"], "primary");
  EXPECT_EQ(n.events_of("line1", "failover").size(), 2u);

  EXPECT_EQ(reconnection_event(lines_of(*client)), "")
      << "the client lost its session or connection";
  auto f = figures_of(values_of(*client));
  std::cout << "[ switch ] client: " << f.count << " values, " << f.bad << " bad, " << f.missing
            << " missing, " << f.repeated << " repeated, longest gap in source time "
            << f.max_source_gap_ms << " ms, in arrival " << f.max_arrival_gap_ms << " ms\n";
  EXPECT_EQ(f.bad, 0u) << f.first_bad;
  EXPECT_EQ(f.missing, 0) << "a switch lost samples";
  EXPECT_EQ(f.repeated, 0);
  EXPECT_EQ(n.stop(), 0) << n.proc().proc().err();
}

} // namespace
