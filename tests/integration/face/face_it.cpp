// What a client sees of a pair through the node's face: a stock node-opcua client subscribed at
// opc.tcp://node/<alias> keeps its session and its values when the primary server is killed,
// in every mode; with two `tandem sim` servers (the same values at the same instants) the hot
// mode loses no sample at all.

#include <csignal>
#include <map>

#include <gtest/gtest.h>

#include "tests/support/node.hpp"
#include "tests/support/opcua_peer.hpp"
#include "tests/support/process.hpp"

#include "face_harness.hpp"

using namespace tandem;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

using namespace test::face;

struct face_case {
  test::peer_kind kind;
  const char* mode;
};

std::string case_name(const testing::TestParamInfo<face_case>& i) {
  return std::string(test::to_string(i.param.kind)) + "_" + i.param.mode;
}

class face_failover : public testing::TestWithParam<face_case> {};

TEST_P(face_failover, a_client_keeps_its_session_and_values_when_the_primary_is_killed) {
  const auto param = GetParam();
  const std::string mode = param.mode;
  test::temp_dir dir;
  const std::vector<std::string> args{"--items", "5", "--rate-ms", "50"};
  test::opcua_test_server a(dir, 0, args, "primary", param.kind);
  test::opcua_test_server b(dir, 0, args, "secondary", param.kind);
  ASSERT_TRUE(a.ok()) << a.why();
  ASSERT_TRUE(b.ok()) << b.why();
  uint16_t face_port = test::free_port();
  std::string cfg = "[node]\nname = \"face-node\"\ndata_dir = \"data\"\n[face]\nlisten = "
                    "\"127.0.0.1:" +
                    std::to_string(face_port) + "\"\n[[pair]]\nalias = \"line1\"\nprimary = \"" +
                    a.url() + "\"\nsecondary = \"" + b.url() + "\"\nmode = \"" + mode +
                    "\"\nreturn_to_primary = false\nstatus_interval_ms = 300\n"
                    "status_timeout_ms = 300\n";
  test::node_process n(dir, "node", cfg, dir.path() + "/data/console.sock");
  std::string why;
  ASSERT_TRUE(n.wait_ready(why)) << why;
  auto pair = [&] {
    auto j = n.console("pairs");
    return j.contains("pairs") && !j["pairs"].empty() ? j["pairs"][0] : json();
  };
  const std::string standby_state = mode == "cold" ? "idle" : "connected";
  ASSERT_TRUE(test::wait_for(
      [&] {
        auto p = pair();
        return p.is_object() && p["active"] == "primary" &&
               p["secondary"]["state"] == standby_state;
      },
      30s))
      << pair().dump();

  // A stock client subscribes to the counter through the face.
  std::string url = "opc.tcp://127.0.0.1:" + std::to_string(face_port) + "/line1";
  test::child_process client({"node", test::interop_dir() + "/client.js", "subscribe", url,
                              "ns=1;s=Sim.Counter", "--publish-ms", "50", "--queue-size", "50",
                              "--seconds", "120", "--print-values"},
                             dir.file("client"));
  ASSERT_TRUE(test::wait_for([&] { return values_of(client).size() >= 10; }, 30s))
      << client.out() << client.err();

  int64_t killed_at = now_ms();
  a.proc().signal(SIGKILL);
  a.proc().wait(10s);
  // Values keep coming, from the secondary now.
  ASSERT_TRUE(test::wait_for(
      [&] {
        int after = 0;
        for (auto& v : values_of(client))
          if (v.contains("sourceTimestamp") && v["sourceTimestamp"].is_string() &&
              unix_ms(v["sourceTimestamp"]) > killed_at + 200)
            ++after;
        return after >= 20;
      },
      20s))
      << client.out() << client.err();
  EXPECT_EQ(pair()["active"], "secondary") << pair().dump();
  EXPECT_EQ(pair()["last_failover"]["cause"], "connection_lost") << pair().dump();
  // A SCADA sees the same in the pair's Tandem folder, through the face.
  {
    auto read = [&](std::vector<std::string> ids) {
      std::vector<std::string> argv{"node", test::interop_dir() + "/client.js", "read", url};
      argv.insert(argv.end(), ids.begin(), ids.end());
      test::child_process r(argv, dir.file("read"));
      EXPECT_EQ(r.wait(30s), 0) << r.err();
      return json::parse(r.out(), nullptr, false);
    };
    auto ns = read({"i=2255"});
    ASSERT_TRUE(ns.contains("values")) << ns.dump();
    auto uris = ns["values"][0]["value"];
    int t = -1;
    for (size_t i = 0; i < uris.size(); ++i)
      if (uris[i] == "urn:tandem:pair") t = static_cast<int>(i);
    ASSERT_GT(t, 1) << uris.dump();
    std::string p = "ns=" + std::to_string(t) + ";s=Tandem.";
    auto v = read(
        {p + "ActiveServer", p + "FailoverCount", p + "LastFailoverCause", p + "PrimaryState"});
    ASSERT_TRUE(v.contains("values")) << v.dump();
    EXPECT_EQ(v["values"][0]["value"], "secondary") << v.dump();
    EXPECT_EQ(v["values"][1]["value"], 1) << v.dump();
    EXPECT_EQ(v["values"][2]["value"], "connection_lost") << v.dump();
    EXPECT_NE(v["values"][3]["value"], "connected") << v.dump();
  }
  // Enough seen: the client stops (SIGINT: it closes its session and exits 130).
  client.signal(SIGINT);
  ASSERT_EQ(client.wait(30s), 130) << client.err();

  auto lines = lines_of(client);
  for (auto& j : lines) {
    auto ev = j.value("event", "");
    EXPECT_NE(ev, "connection_lost") << "the client lost its connection to the face";
    EXPECT_NE(ev, "session_closed");
  }
  auto values = values_of(client);
  ASSERT_GE(values.size(), 30u);
  // Every value is Good (the failover is not seen as bad data), and the gap in source time
  // around the failover is bounded.
  int64_t max_gap = 0, prev = 0;
  std::vector<int64_t> counters;
  for (auto& v : values) {
    EXPECT_EQ(v["status"], "Good") << v.dump();
    if (!v["sourceTimestamp"].is_string()) continue;
    int64_t t = unix_ms(v["sourceTimestamp"]);
    if (prev != 0) max_gap = std::max(max_gap, t - prev);
    prev = t;
    if (v["value"].is_number_integer()) counters.push_back(v["value"].get<int64_t>());
  }
  RecordProperty("max_source_gap_ms", static_cast<int>(max_gap));
  std::cout << "[ " << case_name({param, 0}) << " ] longest gap in source time: " << max_gap
            << " ms over " << values.size() << " values\n";
  if (param.kind == test::peer_kind::tandem_sim) {
    // Both simulators publish the same counter at the same instants: a missing sample is a
    // missing counter value.
    int missing = 0, repeated = 0;
    for (size_t i = 1; i < counters.size(); ++i) {
      if (counters[i] <= counters[i - 1])
        ++repeated;
      else if (counters[i] != counters[i - 1] + 1)
        missing += static_cast<int>(counters[i] - counters[i - 1] - 1);
    }
    if (mode == "hot" || mode == "warm") {
      // Hot replays the standby's window; warm's standby queued while Sampling and reports its
      // queue on failover: neither loses a sample, nor repeats one.
      EXPECT_EQ(missing, 0) << mode << " failover lost samples";
      EXPECT_EQ(repeated, 0) << mode << " failover repeated samples";
    } else {
      EXPECT_LT(max_gap, 4000);
    }
  } else {
    EXPECT_LT(max_gap, 5000);
  }
  n.proc().signal(SIGTERM);
  EXPECT_EQ(n.proc().wait(20s), 0) << n.proc().err();
}

INSTANTIATE_TEST_SUITE_P(modes, face_failover,
                         testing::Values(face_case{test::peer_kind::tandem_sim, "hot"},
                                         face_case{test::peer_kind::tandem_sim, "warm"},
                                         face_case{test::peer_kind::tandem_sim, "cold"},
                                         face_case{test::peer_kind::node_opcua, "hot"},
                                         face_case{test::peer_kind::node_opcua, "warm"}),
                         case_name);

} // namespace
