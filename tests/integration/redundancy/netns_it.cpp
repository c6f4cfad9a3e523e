// Integration: a real network partition between a master and a backup. Each node runs in a
// network namespace of its own, made by the test (`ip netns`), joined by a veth pair; taking the
// veth down partitions them the way a cut cable does (no FIN, no RST: packets just stop), so
// both become Running. Bringing it up heals the partition: the backup dials again, the split brain
// is detected and the rule leaves one node Running. Skipped, with the reason, where the test may
// not make namespaces (no CAP_NET_ADMIN).

#include <thread>

#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/support/node.hpp"
#include "tests/support/process.hpp"

using namespace tandem;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

class netns_it : public ::testing::Test {
protected:
  void SetUp() override {
    std::string id = std::to_string(::getpid() % 100000);
    ns_a = "tdm-a-" + id;
    ns_b = "tdm-b-" + id;
    veth_a = "tdva" + id;
    veth_b = "tdvb" + id;
    std::vector<std::vector<std::string>> steps = {
        {"ip", "netns", "add", ns_a},
        {"ip", "netns", "add", ns_b},
        {"ip", "link", "add", veth_a, "type", "veth", "peer", "name", veth_b},
        {"ip", "link", "set", veth_a, "netns", ns_a},
        {"ip", "link", "set", veth_b, "netns", ns_b},
        {"ip", "-n", ns_a, "addr", "add", addr_a + "/24", "dev", veth_a},
        {"ip", "-n", ns_b, "addr", "add", addr_b + "/24", "dev", veth_b},
        {"ip", "-n", ns_a, "link", "set", "lo", "up"},
        {"ip", "-n", ns_b, "link", "set", "lo", "up"},
        {"ip", "-n", ns_a, "link", "set", veth_a, "up"},
        {"ip", "-n", ns_b, "link", "set", veth_b, "up"},
    };
    for (const auto& s : steps) {
      auto r = test::run_process(s, 10s);
      if (r.code != 0) {
        std::string cmd;
        for (const auto& w : s)
          cmd += w + " ";
        if (s[1] == "netns" && s[2] == "add" && s[3] == ns_a)
          GTEST_SKIP() << "cannot make network namespaces here (" << cmd << "): " << r.err;
        FAIL() << cmd << "failed: " << r.err;
      }
    }
    // Partner links are TLS: the two nodes trust each other's certificates from the start.
    ASSERT_EQ(test::pre_trust(dir, "plant-a", dir.path() + "/data-plant-a", "plant-b",
                              dir.path() + "/data-plant-b"),
              "");
  }
  void TearDown() override {
    a.reset();
    b.reset();
    // Deleting a namespace deletes its end of the veth pair, and with it the other end.
    test::run_process({"ip", "netns", "del", ns_a}, 10s);
    test::run_process({"ip", "netns", "del", ns_b}, 10s);
  }

  std::unique_ptr<test::node_process> start(const std::string& name, const std::string& role,
                                            const std::string& ns, const std::string& self,
                                            const std::string& partner) {
    std::string cfg = "[node]\nname = \"" + name + "\"\ndata_dir = \"data-" + name +
                      "\"\n[redundancy]\nrole = \"" + role + "\"\nlisten = \"" + self +
                      ":18099\"\npartner = \"" + partner +
                      ":18099\"\nping_interval_ms = 100\nping_timeout_ms = 400\n"
                      "missed_pings = 4\nconnection_wait_ms = 1500\n";
    auto n = std::make_unique<test::node_process>(
        dir, name, cfg, dir.path() + "/data-" + name + "/console.sock",
        std::vector<std::string>{"ip", "netns", "exec", ns});
    std::string why;
    EXPECT_TRUE(n->wait_ready(why)) << why;
    return n;
  }
  static std::string state(test::node_process& n) {
    auto j = n.console("node");
    return j.contains("self") ? j["self"].value("state", "") : "";
  }
  static bool has_event_text(test::node_process& n, const std::string& kind,
                             const std::string& text) {
    json events = n.console("events 200");
    for (auto& e : events["events"])
      if (e.value("kind", "") == kind && e.value("text", "").find(text) != std::string::npos)
        return true;
    return false;
  }

  std::string ns_a, ns_b, veth_a, veth_b;
  std::string addr_a = "10.231.77.1", addr_b = "10.231.77.2";
  test::temp_dir dir;
  std::unique_ptr<test::node_process> a, b;
};

TEST_F(netns_it, a_cut_link_makes_both_run_and_the_healed_split_brain_leaves_one) {
  a = start("plant-a", "master", ns_a, addr_a, addr_b);
  b = start("plant-b", "backup", ns_b, addr_b, addr_a);
  ASSERT_TRUE(test::wait_for([&] { return state(*a) == "Running" && state(*b) == "Standby"; }, 15s))
      << a->console("node").dump() << b->console("node").dump();
  std::this_thread::sleep_for(2500ms); // the master has run longer: it wins the split brain

  // The cable is cut: nothing closes, packets stop. The backup loses the master by the
  // heartbeat rule and runs; the master keeps running: a split brain.
  auto cut = test::run_process({"ip", "-n", ns_a, "link", "set", veth_a, "down"}, 10s);
  ASSERT_EQ(cut.code, 0) << cut.err;
  ASSERT_TRUE(test::wait_for([&] { return state(*b) == "Running"; }, 10s))
      << b->console("node").dump();
  EXPECT_EQ(state(*a), "Running");
  EXPECT_TRUE(has_event_text(*b, "takeover", "partner_lost"));
  EXPECT_EQ(b->console("node")["partner"]["link"], "down");

  // Healed: the backup dials again, both see the other Running, and the rule leaves the master.
  auto heal = test::run_process({"ip", "-n", ns_a, "link", "set", veth_a, "up"}, 10s);
  ASSERT_EQ(heal.code, 0) << heal.err;
  ASSERT_TRUE(test::wait_for([&] { return state(*a) == "Running" && state(*b) == "Standby"; }, 20s))
      << a->console("node").dump() << b->console("node").dump();
  EXPECT_TRUE(has_event_text(*b, "node_standby", "split_brain")) << b->console("events 40").dump();
  EXPECT_EQ(a->console("node")["partner"]["link"], "up");
}

} // namespace
