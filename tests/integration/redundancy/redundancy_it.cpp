// Integration: a master and a backup `tandem node` on loopback, driven through their consoles.
// Takeover after kill -9 of the Running node, automatic recovery handing back when it restarts
// (manual recovery: not until `switch`), operator switch both ways, a hung node (SIGSTOP) and the
// split brain it leaves when it wakes, maintenance, and a peer speaking garbage refused.

#include <array>
#include <csignal>
#include <functional>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "tests/support/node.hpp"
#include "tests/support/process.hpp"
#include "transports/partner/protocol.hpp"
#include "transports/partner/tls_stream.hpp"

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
           recovery + "\"\n" + redundancy_extra + tables;
  }
  /// Starts plant-a (the master, link port_a) or plant-b (the backup, port_b); `as_role` gives
  /// another role for the same node (two nodes of one role).
  std::unique_ptr<test::node_process> start(const std::string& name, const std::string& role,
                                            const std::string& recovery = "automatic",
                                            bool first = true) {
    bool a = role == "master" ? first : !first;
    auto n = std::make_unique<test::node_process>(
        dir, name, config(name, role, a ? port_a : port_b, a ? port_b : port_a, recovery),
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
  std::string redundancy_extra; ///< more [redundancy] keys for the next start()
  std::string tables;           ///< tables after [redundancy] ([face], [[pair]]) for it
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
  // The master must have heard the backup's state too (until then `switch` refuses: the partner
  // is Unknown, it cannot take over).
  ASSERT_TRUE(
      test::wait_for([&] { return m->console("node")["partner"]["state"] == "Standby"; }, 15s))
      << m->console("node").dump();
  auto sw = m->console("switch");
  EXPECT_EQ(sw.value("ok", false), true) << sw.dump();
  // The answer comes once the handover is done: the partner runs, this node stands by.
  EXPECT_EQ(sw.value("state", ""), "Standby") << sw.dump();
  EXPECT_EQ(state(*b), "Running");
  // The Running backup goes into maintenance: it hands over first.
  auto mt = b->console("maintenance on");
  EXPECT_EQ(mt.value("ok", false), true) << mt.dump();
  EXPECT_EQ(state(*b), "Standby") << "answered after the handover";
  EXPECT_EQ(state(*m), "Running");
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

// A peer that passes TLS with a trusted certificate (plant-b's) but speaks a future partner
// protocol version: the node refuses it, tells it why in a REFUSE, records both versions in
// `partner_refused`, stays Running, and the real plant-b links afterwards.
TEST_F(redundancy_it, a_peer_speaking_a_future_protocol_version_is_refused_with_both_versions) {
  auto m = start("plant-a", "master");
  ASSERT_TRUE(test::wait_for([&] { return state(*m) == "Running"; }, 10s));
  std::string err;
  auto pki = partner::pki_store::open(dir.path() + "/data-plant-b/pki", "plant-b", err);
  ASSERT_TRUE(pki) << err;
  auto ctx = partner::tls_context::make(pki, err);
  ASSERT_TRUE(ctx) << err;
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket s(io);
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port_a});
  auto tls = std::make_shared<partner::tls_stream>(std::move(s), ctx);
  std::string failure = "no answer";
  tls->handshake(false, 5000ms, [&](partner::tls_failure f) { failure = f.text; });
  io.run();
  io.restart();
  ASSERT_EQ(failure, "");
  partner_hello h;
  h.node_name = "plant-b";
  h.role = partner_role::backup;
  auto hello = partner::encode(partner::message(h), 7);
  tls->async_write(boost::asio::buffer(hello), [](const boost::system::error_code&, size_t) {});
  std::string answer;
  std::array<char, 4096> buf{};
  std::function<void()> read_more = [&] {
    tls->async_read_some(boost::asio::buffer(buf),
                         [&](const boost::system::error_code& ec, size_t n) {
                           if (ec) return;
                           answer.append(buf.data(), n);
                           read_more();
                         });
  };
  read_more();
  io.run_for(5s); // until the node closes the connection
  EXPECT_NE(answer.find("plant-a speaks partner protocol version 1, not 7"), std::string::npos)
      << answer.size() << " bytes";
  tls->close();
  ASSERT_TRUE(test::wait_for(
      [&] {
        json events = m->console("events 100");
        for (auto& e : events["events"])
          if (e.value("kind", "") == "partner_refused" &&
              e.value("text", "") ==
                  "partner plant-b speaks protocol version 7, this node speaks 1")
            return true;
        return false;
      },
      10s))
      << m->console("events 30").dump();
  EXPECT_EQ(state(*m), "Running");
  auto b = start("plant-b", "backup");
  EXPECT_TRUE(states_are(*m, "Running", *b, "Standby"));
}

TEST_F(redundancy_it, a_config_mismatch_is_reported_and_verify_names_the_key_paths) {
  auto m = start("plant-a", "master", "automatic");
  auto b = start("plant-b", "backup", "manual");
  ASSERT_TRUE(states_are(*m, "Running", *b, "Standby"));
  auto node_m = m->console("node");
  EXPECT_EQ(node_m["partner"]["config_match"], "mismatch") << node_m.dump();
  ASSERT_TRUE(test::wait_for(
      [&] { return b->console("verify").value("config_match", "") == "mismatch"; }, 5s))
      << b->console("verify").dump();
  auto v = b->console("verify");
  EXPECT_EQ(v["differences"], json::array({"redundancy.recovery"})) << v.dump();
  EXPECT_TRUE(has_event(*m, "config_mismatch"));
  auto has_alarm = [](test::node_process& n, const std::string& key) {
    json alarms = n.console("alarms");
    for (auto& a : alarms["alarms"])
      if (a.value("key", "") == key && a.value("active", false)) return true;
    return false;
  };
  EXPECT_TRUE(test::wait_for([&] { return has_alarm(*b, "config"); }, 5s))
      << b->console("alarms").dump();
  // Availability first: the backup takes over all the same, and raises an alarm saying so.
  m->proc().signal(SIGKILL);
  ASSERT_TRUE(test::wait_for([&] { return state(*b) == "Running"; }, 5s))
      << b->console("node").dump();
  ASSERT_TRUE(test::wait_for([&] { return has_alarm(*b, "config_takeover"); }, 5s))
      << b->console("alarms").dump();
}

TEST_F(redundancy_it, two_nodes_of_the_same_role_refuse_each_other_and_say_why) {
  auto one = start("plant-a", "backup", "automatic", /*first=*/true);
  auto two = start("plant-b", "backup", "automatic", /*first=*/false);
  auto refused_for_role = [](test::node_process& n) {
    json events = n.console("events 100");
    for (auto& e : events["events"])
      if (e.value("kind", "") == "partner_refused" &&
          e.value("text", "").find("both nodes are configured as backup") != std::string::npos)
        return true;
    return false;
  };
  ASSERT_TRUE(test::wait_for([&] { return refused_for_role(*one) && refused_for_role(*two); }, 10s))
      << one->console("events 30").dump();
  EXPECT_EQ(one->console("node")["partner"]["link"], "down");
}

TEST_F(redundancy_it, the_faces_tell_opc_ua_clients_which_node_runs_and_a_cold_standby_idles) {
  // Two `tandem sim` servers make one pair that both nodes serve.
  std::vector<std::unique_ptr<test::child_process>> sims;
  std::vector<uint16_t> sim_ports;
  for (const char* name : {"sim-primary", "sim-secondary"}) {
    sim_ports.push_back(test::free_port());
    sims.push_back(std::make_unique<test::child_process>(
        std::vector<std::string>{test::tandem_binary(), "sim", "--port",
                                 std::to_string(sim_ports.back()), "--rate-ms", "100"},
        dir.file(name)));
  }
  for (auto& p : sims)
    ASSERT_TRUE(test::wait_for([&] { return p->out().find("ready ") != std::string::npos; }, 15s));
  uint16_t face_a = test::free_port(), face_b = test::free_port();
  auto pair_table = [&](uint16_t face) {
    return "[face]\nlisten = \"127.0.0.1:" + std::to_string(face) +
           "\"\n[[pair]]\nalias = \"line1\"\nmode = \"warm\"\nprimary = "
           "\"opc.tcp://127.0.0.1:" +
           std::to_string(sim_ports[0]) +
           "/sim\"\nsecondary = \"opc.tcp://127.0.0.1:" + std::to_string(sim_ports[1]) +
           "/sim\"\nstatus_interval_ms = 300\nstatus_timeout_ms = 300\n";
  };
  redundancy_extra = "standby = \"cold\"\n";
  tables = pair_table(face_a);
  auto m = start("plant-a", "master");
  tables = pair_table(face_b);
  auto b = start("plant-b", "backup");
  ASSERT_TRUE(states_are(*m, "Running", *b, "Standby"));

  auto pair_of = [](test::node_process& n) { return n.console("pairs")["pairs"][0]; };
  auto read_face = [](uint16_t face) {
    auto r =
        test::run_tandem({"ua", "read", "opc.tcp://127.0.0.1:" + std::to_string(face) + "/line1",
                          "i=2267", "i=3709", "i=11314", "--json"});
    return r.code == 0 ? json::parse(r.out, nullptr, false)["values"] : json();
  };
  // The Running master serves the pair; the cold Standby is connected to neither server.
  ASSERT_TRUE(test::wait_for([&] { return pair_of(*m).value("service_level", 0) == 255; }, 10s))
      << pair_of(*m).dump();
  auto pb = pair_of(*b);
  EXPECT_EQ(pb["primary"]["state"], "idle") << pb.dump();
  EXPECT_EQ(pb["secondary"]["state"], "idle") << pb.dump();
  EXPECT_EQ(pb["service_level"], 1);
  auto va = read_face(face_a);
  ASSERT_EQ(va.size(), 3u) << va.dump();
  EXPECT_EQ(va[0]["value"], 255);
  EXPECT_EQ(va[1]["value"], 1) << "RedundancySupport Cold";
  EXPECT_EQ(va[2]["value"], json::array({"urn:tandem:plant-a", "urn:tandem:plant-b"})) << va.dump();
  auto vb = read_face(face_b);
  ASSERT_EQ(vb.size(), 3u) << vb.dump();
  EXPECT_EQ(vb[0]["value"], 1) << "a redundancy-aware client does not pick the Standby";
  // Each node counts its face's OPC UA client sessions and tells the partner.
  ASSERT_TRUE(test::wait_for(
      [&] { return m->console("node")["partner"]["client_sessions"].is_number(); }, 5s))
      << m->console("node").dump();

  // The roles swap: the backup connects and serves, the master lets go of both servers.
  auto sw = m->console("switch");
  ASSERT_EQ(sw.value("ok", false), true) << sw.dump();
  ASSERT_TRUE(test::wait_for([&] { return pair_of(*b).value("service_level", 0) == 255; }, 10s))
      << pair_of(*b).dump();
  ASSERT_TRUE(test::wait_for(
      [&] {
        auto p = pair_of(*m);
        return p["primary"]["state"] == "idle" && p["secondary"]["state"] == "idle";
      },
      5s))
      << pair_of(*m).dump();
  EXPECT_EQ(read_face(face_b)[0]["value"], 255);
}

} // namespace
