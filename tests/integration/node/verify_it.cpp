// `verify ALIAS` against real servers: two `tandem sim` processes with different address spaces
// are reported node by node; the same address space is reported identical; an unknown alias is
// refused with the pairs that exist.

#include <gtest/gtest.h>

#include "tests/support/node.hpp"
#include "tests/support/opcua_peer.hpp"
#include "tests/support/process.hpp"

using namespace tandem;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::string node_config(const std::string& primary, const std::string& secondary) {
  return "[node]\nname = \"verify-node\"\ndata_dir = \"data\"\n[face]\nlisten = \"127.0.0.1:" +
         std::to_string(test::free_port()) + "\"\n[[pair]]\nalias = \"line1\"\nprimary = \"" +
         primary + "\"\nsecondary = \"" + secondary +
         "\"\nmode = \"warm\"\nstatus_interval_ms = 300\nstatus_timeout_ms = 300\n";
}

bool both_connected(test::node_process& n) {
  auto j = n.console("pairs");
  if (!j.contains("pairs") || j["pairs"].empty()) return false;
  auto& p = j["pairs"][0];
  return p["primary"]["state"] == "connected" && p["secondary"]["state"] == "connected";
}

/// `verify line1` on a node pairing two sims started with these arguments.
json verify_pair(const test::temp_dir& dir, std::vector<std::string> primary_args,
                 std::vector<std::string> secondary_args) {
  test::opcua_test_server a(dir, 0, std::move(primary_args), "primary",
                            test::peer_kind::tandem_sim);
  test::opcua_test_server b(dir, 0, std::move(secondary_args), "secondary",
                            test::peer_kind::tandem_sim);
  EXPECT_TRUE(a.ok()) << a.why();
  EXPECT_TRUE(b.ok()) << b.why();
  test::node_process n(dir, "node", node_config(a.url(), b.url()),
                       dir.path() + "/data/console.sock");
  std::string why;
  EXPECT_TRUE(n.wait_ready(why)) << why;
  EXPECT_TRUE(test::wait_for([&] { return both_connected(n); }, 30s));
  json out;
  out["verify"] = n.console("verify line1", 60000);
  out["unknown"] = n.console("verify line9");
  return out;
}

TEST(verify_it, lists_what_differs_between_the_two_address_spaces) {
  test::temp_dir dir;
  std::string other = dir.write("other.toml", R"([[folder]]
name = "Sim"
  [[folder.variable]]
  name = "Counter"
  type = "Int32"
  generator = "counter"
  [[folder.variable]]
  name = "Extra"
  [[folder.variable]]
  name = "Ramp"
  type = "Float"
  [[folder.folder]]
  name = "Setpoint"
)");
  auto out = verify_pair(dir, {"--items", "2"}, {"-c", other});
  auto v = out["verify"];
  ASSERT_TRUE(v.contains("identical")) << v.dump();
  EXPECT_FALSE(v["identical"].get<bool>());
  std::vector<std::string> diffs = v["differences"].get<std::vector<std::string>>();
  auto has = [&](const std::string& s) {
    for (auto& d : diffs)
      if (d == s) return true;
    return false;
  };
  EXPECT_TRUE(has("ns=1;s=Sim.Item0001 (Variable Item0001 i=11) is only on the primary"))
      << v.dump();
  EXPECT_TRUE(has("ns=1;s=Sim.Extra (Variable Extra i=11) is only on the secondary")) << v.dump();
  EXPECT_TRUE(has("ns=1;s=Sim.Setpoint is Variable Setpoint i=11 on the primary, Object "
                  "Setpoint on the secondary"))
      << v.dump();
  // The same node with another DataType (Double on the primary, Float on the secondary).
  EXPECT_TRUE(has("ns=1;s=Sim.Ramp is Variable Ramp i=11 on the primary, Variable Ramp i=10 on "
                  "the secondary"))
      << v.dump();
  for (auto& d : diffs)
    EXPECT_EQ(d.find("Counter"), std::string::npos) << d;

  auto unknown = out["unknown"];
  ASSERT_TRUE(unknown.contains("error"));
  EXPECT_EQ(unknown["error"], "no running pair 'line9' on this node (pairs: line1)");
}

TEST(verify_it, the_same_address_space_is_identical) {
  test::temp_dir dir;
  auto v = verify_pair(dir, {"--items", "50"}, {"--items", "50"})["verify"];
  EXPECT_EQ(v, json({{"identical", true}, {"differences", json::array()}})) << v.dump();
}

} // namespace
