// Integration: a master and a backup `tandem node` on loopback, driven through their consoles.
// Takeover after kill -9 of the Running node, automatic recovery handing back when it restarts
// (manual recovery: not until `switch`), operator switch both ways, a hung node (SIGSTOP) and the
// split brain it leaves when it wakes, maintenance, and a peer speaking garbage refused.

#include <csignal>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "tests/support/node.hpp"
#include "tests/support/process.hpp"

using namespace tandem;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

class redundancy_it : public ::testing::Test {
protected:
  uint16_t port_a = test::free_port(), port_b = test::free_port();

  // Partner links are TLS: the two nodes trust each other's certificates from the start.
  void SetUp() override {
    ASSERT_EQ(test::pre_trust(dir, "plant-a", dir.path() + "/data-plant-a", "plant-b",
                              dir.path() + "/data-plant-b"),
              "");
  }

  std::string config(const std::string& name, const std::string& role, uint16_t listen,
                     uint16_t partner, const std::string& recovery) {
    return "[node]\nname = \"" + name + "\"\ndata_dir = \"data-" + name +
           "\"\n[redundancy]\nrole = \"" + role +
           "\"\nlisten = \"127.0.0.1:" + std::to_string(listen) +
           "\"\npartner = \"127.0.0.1:" + std::to_string(partner) +
           "\"\nping_interval_ms = 100\nping_timeout_ms = 320\nmissed_pings = 3\n"
           "connection_wait_ms = 1500\nrecovery = \"" +
           recovery + "\"\n";
  }
  std::unique_ptr<test::node_process> start(const std::string& name, const std::string& role,
                                            const std::string& recovery = "automatic") {
    bool master = role == "master";
    auto n = std::make_unique<test::node_process>(
        dir, name, config(name, role, master ? port_a : port_b, master ? port_b : port_a, recovery),
        dir.path() + "/data-" + name + "/console.sock");
    std::string why;
    EXPECT_TRUE(n->wait_ready(why)) << why;
    return n;
  }
  static bool has_event(test::node_process& n, const std::string& kind) {
    json events = n.console("events 100"); // kept: the loop must not outlive it
    for (auto& e : events["events"])
      if (e.value("kind", "") == kind) return true;
    return false;
  }
  static std::string state(test::node_process& n) {
    auto j = n.console("node");
    return j.contains("self") ? j["self"].value("state", "") : "";
  }
  /// Waits until the master and the backup are in these states.
  bool states_are(test::node_process& m, const std::string& sm, test::node_process& b,
                  const std::string& sb, std::chrono::milliseconds within = 15s) {
    return test::wait_for([&] { return state(m) == sm && state(b) == sb; }, within);
  }

  test::temp_dir dir;
};

TEST_F(redundancy_it, the_standby_takes_over_after_kill_9_and_hands_back_when_the_master_returns) {
  auto m = start("plant-a", "master");
  auto b = start("plant-b", "backup");
  ASSERT_TRUE(states_are(*m, "Running", *b, "Standby")) << m->console("node").dump();
  auto node_b = b->console("node");
  EXPECT_EQ(node_b["partner"]["name"], "plant-a") << node_b.dump();
  EXPECT_EQ(node_b["partner"]["link"], "up");
  EXPECT_EQ(node_b["partner"]["config_match"], "match");

  // kill -9 of the Running node: the Standby runs within the detection time (320 ms here).
  int64_t killed = now_ms();
  m->proc().signal(SIGKILL);
  m->proc().wait(10s);
  ASSERT_TRUE(test::wait_for([&] { return state(*b) == "Running"; }, 10s));
  int64_t took = now_ms() - killed;
  std::cout << "[ redundancy ] kill -9 to the Standby Running (console polling included): " << took
            << " ms\n";
  EXPECT_LT(took, 3000);
  EXPECT_EQ(b->console("node")["partner"]["state"], "Faulted");
  EXPECT_TRUE(has_event(*b, "takeover")) << b->console("events 50").dump();

  // The master comes back: automatic recovery hands the role back, by a controlled handover.
  m->restart();
  std::string why;
  ASSERT_TRUE(m->wait_ready(why)) << why;
  ASSERT_TRUE(states_are(*m, "Running", *b, "Standby")) << m->console("node").dump();
  // Its accumulated Running time survived the kill (role.json).
  EXPECT_GT(m->console("node")["self"]["running_total_ms"].get<int64_t>(), 0);
}

TEST_F(redundancy_it, manual_recovery_waits_for_the_operator) {
  auto m = start("plant-a", "master", "manual");
  auto b = start("plant-b", "backup", "manual");
  ASSERT_TRUE(states_are(*m, "Running", *b, "Standby"));
  m->proc().signal(SIGKILL);
  m->proc().wait(10s);
  ASSERT_TRUE(test::wait_for([&] { return state(*b) == "Running"; }, 10s));
  m->restart();
  std::string why;
  ASSERT_TRUE(m->wait_ready(why)) << why;
  ASSERT_TRUE(states_are(*m, "Standby", *b, "Running"));
  std::this_thread::sleep_for(1s); // nothing is meant to happen: it stays so
  EXPECT_EQ(state(*m), "Standby");
  auto sw = m->console("switch");
  EXPECT_EQ(sw.value("ok", false), true) << sw.dump();
  ASSERT_TRUE(states_are(*m, "Running", *b, "Standby"));
}

TEST_F(redundancy_it, switch_and_maintenance_hand_over_without_leaving_the_plant_unserved) {
  auto m = start("plant-a", "master");
  auto b = start("plant-b", "backup");
  ASSERT_TRUE(states_are(*m, "Running", *b, "Standby"));
  auto sw = m->console("switch");
  EXPECT_EQ(sw.value("ok", false), true) << sw.dump();
  ASSERT_TRUE(states_are(*m, "Standby", *b, "Running"));
  // The Running backup goes into maintenance: it hands over first.
  auto mt = b->console("maintenance on");
  EXPECT_EQ(mt.value("ok", false), true) << mt.dump();
  ASSERT_TRUE(states_are(*m, "Running", *b, "Standby"));
  EXPECT_EQ(b->console("node")["self"]["maintenance"], true);
  // The other one cannot go too: nobody would be left.
  auto refused = m->console("maintenance on");
  ASSERT_TRUE(refused.contains("error")) << refused.dump();
  EXPECT_NE(refused["error"].get<std::string>().find("no Standby partner can take over"),
            std::string::npos);
  EXPECT_EQ(b->console("maintenance off").value("ok", false), true);
}

TEST_F(redundancy_it, a_hung_running_node_is_replaced_and_the_split_brain_it_leaves_is_resolved) {
  auto m = start("plant-a", "master");
  auto b = start("plant-b", "backup");
  ASSERT_TRUE(states_are(*m, "Running", *b, "Standby"));
  std::this_thread::sleep_for(2500ms); // the master has run longer
  m->proc().signal(SIGSTOP);
  int64_t stopped = now_ms();
  ASSERT_TRUE(test::wait_for([&] { return state(*b) == "Running"; }, 10s));
  std::cout << "[ redundancy ] SIGSTOP to the Standby Running: " << now_ms() - stopped << " ms\n";
  // The hung node wakes up believing it is Running: both are, until the link is back and the
  // rule (longest_running: the master ran 2.5 s longer) leaves one.
  m->proc().signal(SIGCONT);
  ASSERT_TRUE(test::wait_for(
      [&] {
        auto sm = state(*m), sb = state(*b);
        return (sm == "Running") != (sb == "Running") && (sm == "Standby" || sb == "Standby");
      },
      15s))
      << m->console("node").dump() << b->console("node").dump();
  EXPECT_EQ(state(*m), "Running");
  EXPECT_EQ(state(*b), "Standby");
}

TEST_F(redundancy_it, a_peer_speaking_garbage_is_refused_and_the_node_carries_on) {
  auto m = start("plant-a", "master");
  ASSERT_TRUE(test::wait_for([&] { return state(*m) == "Running"; }, 10s));
  {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket s(io);
    s.connect({boost::asio::ip::make_address("127.0.0.1"), port_a});
    std::string junk = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    boost::asio::write(s, boost::asio::buffer(junk));
    std::this_thread::sleep_for(300ms);
  }
  ASSERT_TRUE(test::wait_for([&] { return has_event(*m, "partner_refused"); }, 10s))
      << m->console("events 30").dump();
  EXPECT_EQ(state(*m), "Running");
}

} // namespace
