// A real node with a pair of real node-opcua servers: the console's `pairs` and `switch`, a
// kill -9 of the primary (failover with its cause), return to the primary after settling.

#include <csignal>

#include <gtest/gtest.h>

#include "tests/support/node.hpp"
#include "tests/support/opcua_peer.hpp"
#include "tests/support/process.hpp"

using namespace tandem;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

TEST(pair_it, the_console_shows_failover_switch_and_return_to_the_primary) {
  test::temp_dir dir;
  test::node_opcua_server a(dir, 0, {"--items", "5"}, "primary");
  test::node_opcua_server b(dir, 0, {"--items", "5"}, "secondary");
  ASSERT_TRUE(a.ok()) << a.why();
  ASSERT_TRUE(b.ok()) << b.why();
  std::string cfg =
      "[node]\nname = \"pair-node\"\ndata_dir = \"data\"\n[face]\nlisten = \"127.0.0.1:" +
      std::to_string(test::free_port()) + "\"\n[[pair]]\nalias = \"line1\"\nprimary = \"" +
      a.url() + "\"\nsecondary = \"" + b.url() +
      "\"\nmode = \"warm\"\nreturn_to_primary = true\nreturn_settle_ms = 1500\n"
      "status_interval_ms = 300\nstatus_timeout_ms = 300\n";
  test::node_process n(dir, "node", cfg, dir.path() + "/data/console.sock");
  std::string why;
  ASSERT_TRUE(n.wait_ready(why)) << why;
  auto pair = [&] {
    auto j = n.console("pairs");
    return j.contains("pairs") && !j["pairs"].empty() ? j["pairs"][0] : json();
  };
  ASSERT_TRUE(test::wait_for(
      [&] {
        auto p = pair();
        return p.is_object() && p["active"] == "primary" && p["secondary"]["state"] == "connected";
      },
      30s))
      << pair().dump();
  EXPECT_EQ(pair()["service_level"], 255);

  a.proc().signal(SIGKILL);
  a.proc().wait(10s);
  ASSERT_TRUE(test::wait_for([&] { return pair()["active"] == "secondary"; }, 10s))
      << pair().dump();
  auto p = pair();
  EXPECT_EQ(p["last_failover"]["from"], "primary");
  EXPECT_EQ(p["last_failover"]["cause"], "connection_lost");
  EXPECT_EQ(p["service_level"], 150);
  auto refused = n.console("switch line1 primary");
  ASSERT_TRUE(refused.contains("error"));
  EXPECT_NE(refused["error"].get<std::string>().find("not switching"), std::string::npos);

  ASSERT_TRUE(a.restart()) << a.why();
  ASSERT_TRUE(test::wait_for([&] { return pair()["active"] == "primary"; }, 30s)) << pair().dump();
  EXPECT_EQ(pair()["last_failover"]["cause"], "return_to_primary");

  auto sw = n.console("switch line1 secondary");
  EXPECT_EQ(sw, json({{"ok", true}, {"active", "secondary"}})) << sw.dump();
  EXPECT_EQ(pair()["last_failover"]["cause"], "operator");

  // The failovers are in the event log.
  auto ev = n.console("events 100");
  std::string all = ev.dump();
  EXPECT_NE(all.find("failover from primary to secondary (connection_lost"), std::string::npos)
      << all;
  EXPECT_NE(all.find("server_lost"), std::string::npos);
  n.proc().signal(SIGTERM);
  EXPECT_EQ(n.proc().wait(20s), 0) << n.proc().err();
}

} // namespace
