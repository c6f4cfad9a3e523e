// Monitor conditions fail a pair over: each condition ([[pair.monitor]] stale, equals, above,
// below, bad_quality) made to fail on the primary only moves the pair to the secondary with
// cause "condition" while a client subscribed through the face keeps receiving; the same
// condition failing on the secondary too leaves the pair where it is (Tandem never fails over to
// a server whose own monitors fail: no back and forth); the primary recovering brings it back.

#include <iostream>

#include <gtest/gtest.h>

#include "face_harness.hpp"

using namespace tandem;
using namespace tandem::test::face;
using namespace std::chrono_literals;

namespace {

struct condition_case {
  const char* condition; ///< the monitor's condition, and the case's name
  const char* monitor;   ///< its [[pair.monitor]] table
  const char* word;      ///< what the failing condition's event text says
};

std::string case_name(const testing::TestParamInfo<condition_case>& i) {
  return i.param.condition;
}

const std::string setpoint = "ns=1;s=Sim.Setpoint";

/// Sends a stdin command to a simulator and waits for its "ok <command> <path>" reply.
bool sim_command(test::opcua_test_server& s, const std::string& line) {
  auto space = line.find(' ');
  auto second = line.find(' ', space + 1);
  std::string reply = "ok " + line.substr(0, second);
  auto count = [&] {
    size_t n = 0, pos = 0;
    std::string out = s.proc().out();
    while ((pos = out.find(reply + "\n", pos)) != std::string::npos) {
      ++n;
      pos += reply.size();
    }
    return n;
  };
  size_t before = count();
  if (!s.command(line)) return false;
  return test::wait_for([&] { return count() > before; }, 5s);
}

class face_condition : public testing::TestWithParam<condition_case> {
protected:
  /// Makes the condition fail on server `s`.
  std::string fail(test::opcua_test_server& s) {
    std::string c = GetParam().condition;
    if (c == "stale") return sim_command(s, "freeze Sim.Counter") ? "" : "freeze refused";
    if (c == "bad_quality")
      return sim_command(s, "bad Sim.Counter BadSensorFailure") ? "" : "bad refused";
    return write_double(s.url(), setpoint, c == "equals" ? 13 : c == "above" ? 75 : -75);
  }
  /// Makes it hold again on server `s`.
  std::string clear(test::opcua_test_server& s) {
    std::string c = GetParam().condition;
    if (c == "stale") return sim_command(s, "thaw Sim.Counter") ? "" : "thaw refused";
    if (c == "bad_quality") return sim_command(s, "good Sim.Counter") ? "" : "good refused";
    return write_double(s.url(), setpoint, 0);
  }
};

TEST_P(face_condition, fails_over_from_the_failing_server_only) {
  const auto param = GetParam();
  test::temp_dir dir;
  sim_pair s(dir);
  ASSERT_TRUE(s.ok()) << s.why();
  auto p = s.options("warm");
  p.monitors = param.monitor;
  face_node n(dir, {p});
  std::string why;
  ASSERT_TRUE(n.wait_ready(why)) << why;
  auto pair = [&] { return n.pair("line1"); };
  ASSERT_TRUE(n.wait_started("line1")) << n.pair("line1").dump();
  // The monitored item is not the client's: its values stay Good whatever the condition does.
  auto client = subscribe(dir, n.url("line1"), "ns=1;s=Sim.Item0000", "client");
  ASSERT_TRUE(test::wait_for([&] { return values_of(*client).size() >= 10; }, 30s))
      << client->out() << client->err();
  ASSERT_TRUE(n.events_of("line1", "condition_failing").empty());

  // 1. The condition fails on the primary: failover to the secondary, cause "condition".
  const int64_t failed_at = now_ms();
  const int64_t t0 = steady_ms();
  ASSERT_EQ(fail(s.a), "");
  int64_t t1 = 0;
  ASSERT_TRUE(test::wait_for(
      [&] {
        if (pair()["active"] != "secondary") return false;
        t1 = steady_ms();
        return true;
      },
      10s))
      << pair().dump();
  std::cout << "[ " << param.condition << " ] condition made to fail on the primary to "
            << "active=secondary: " << t1 - t0 << " ms\n";
  auto q = pair();
  EXPECT_EQ(q["last_failover"]["cause"], "condition") << q.dump();
  EXPECT_EQ(q["primary"]["state"], "unhealthy") << q.dump();
  auto failing = n.events_of("line1", "condition_failing");
  ASSERT_EQ(failing.size(), 1u);
  auto text = failing[0].value("text", "");
  EXPECT_NE(text.find("line1/primary"), std::string::npos) << text;
  EXPECT_NE(text.find(param.word), std::string::npos) << text;
  auto failovers = n.events_of("line1", "failover");
  ASSERT_EQ(failovers.size(), 1u);
  EXPECT_NE(failovers[0].value("text", "").find("(condition"), std::string::npos)
      << failovers[0].dump();
  ASSERT_TRUE(test::wait_for(
      [&] { return good_values_since(values_of(*client), failed_at + 200) >= 10; }, 20s))
      << client->out() << client->err();

  // 2. It fails on the secondary too: no server is healthy, the pair stays on the secondary.
  const int64_t both_at = now_ms();
  ASSERT_EQ(fail(s.b), "");
  ASSERT_TRUE(test::wait_for(
      [&] {
        for (auto& e : n.events_of("line1", "condition_failing"))
          if (e.value("text", "").find("line1/secondary") != std::string::npos) return true;
        return false;
      },
      10s));
  const auto stays = std::chrono::milliseconds(3 * p.status_interval_ms);
  EXPECT_TRUE(holds_for(
      [&] {
        auto q = pair();
        return q["active"] == "secondary" && q["secondary"]["state"] == "unhealthy" &&
               q["service_level"] == 50; // degraded: connected, but no healthy server
      },
      stays))
      << pair().dump();
  EXPECT_EQ(n.events_of("line1", "failover").size(), 1u) << "failed over to a failing server";
  const int64_t cleared_at = now_ms();

  // 3. The primary recovers: the pair goes back to it (its secondary is still failing).
  ASSERT_EQ(clear(s.a), "");
  ASSERT_TRUE(test::wait_for([&] { return pair()["active"] == "primary"; }, 10s)) << pair().dump();
  q = pair();
  EXPECT_EQ(q["last_failover"]["cause"], "condition") << q.dump();
  EXPECT_EQ(q["primary"]["state"], "connected") << q.dump();
  EXPECT_EQ(n.events_of("line1", "failover").size(), 2u);
  ASSERT_TRUE(test::wait_for(
      [&] { return good_values_since(values_of(*client), cleared_at + 500) >= 10; }, 20s))
      << client->out() << client->err();

  EXPECT_EQ(reconnection_event(lines_of(*client)), "")
      << "the client lost its session or connection";
  auto values = values_of(*client);
  // While one server was healthy, every value was Good and none was missing.
  auto healthy = figures_of(values, 0, both_at);
  std::cout << "[ " << param.condition << " ] client before both failed: " << healthy.count
            << " values, " << healthy.bad << " bad, " << healthy.missing
            << " missing, longest gap in source time " << healthy.max_source_gap_ms
            << " ms, in arrival " << healthy.max_arrival_gap_ms << " ms\n";
  EXPECT_EQ(healthy.bad, 0u) << healthy.first_bad;
  EXPECT_LT(healthy.max_source_gap_ms, 2000);
  auto both = figures_of(values, both_at, cleared_at);
  auto after = figures_of(values, cleared_at + 500);
  std::cout << "[ " << param.condition << " ] while both failed: " << both.count << " values, "
            << both.bad << " bad; after the primary recovered: " << after.count << " values, "
            << after.bad << " bad\n";
  EXPECT_EQ(after.bad, 0u) << after.first_bad;
  EXPECT_EQ(n.stop(), 0) << n.proc().proc().err();
}

// While both servers fail their conditions the pair has no healthy server, but the active one is
// still connected: the pair stays where it is (no bouncing), reports ServiceLevel 50 (degraded)
// and keeps serving that server's data (availability first: the values carry their own status).
TEST(face_condition_both, clients_keep_the_active_servers_data_while_both_servers_fail) {
  test::temp_dir dir;
  sim_pair s(dir);
  ASSERT_TRUE(s.ok()) << s.why();
  auto p = s.options("warm");
  p.monitors = "[[pair.monitor]]\nitem = \"ns=1;s=Sim.Counter\"\ncondition = \"bad_quality\"\n";
  face_node n(dir, {p});
  std::string why;
  ASSERT_TRUE(n.wait_ready(why)) << why;
  auto pair = [&] { return n.pair("line1"); };
  ASSERT_TRUE(n.wait_started("line1")) << n.pair("line1").dump();
  auto client = subscribe(dir, n.url("line1"), "ns=1;s=Sim.Item0000", "client");
  ASSERT_TRUE(test::wait_for([&] { return values_of(*client).size() >= 10; }, 30s))
      << client->out() << client->err();
  auto failing = [&](const std::string& server) {
    for (auto& e : n.events_of("line1", "condition_failing"))
      if (e.value("text", "").find("line1/" + server) != std::string::npos) return true;
    return false;
  };
  ASSERT_TRUE(sim_command(s.b, "bad Sim.Counter BadSensorFailure"));
  ASSERT_TRUE(test::wait_for([&] { return failing("secondary"); }, 10s));
  ASSERT_TRUE(sim_command(s.a, "bad Sim.Counter BadSensorFailure"));
  ASSERT_TRUE(test::wait_for([&] { return failing("primary"); }, 10s));
  EXPECT_EQ(pair()["active"], "primary");
  EXPECT_EQ(pair()["service_level"], 50);
  // The client's item keeps its Good values from the active server, with no Bad in between.
  const int64_t both_failing_at = now_ms();
  ASSERT_TRUE(test::wait_for(
      [&] { return good_values_since(values_of(*client), both_failing_at) >= 10; }, 10s))
      << client->out();
  for (auto& v : values_of(*client))
    EXPECT_NE(v.value("status", ""), "BadNoCommunication") << v.dump();
  EXPECT_EQ(pair()["active"], "primary") << "no bouncing between two failing servers";
  // The primary recovers: healthy again.
  ASSERT_TRUE(sim_command(s.a, "good Sim.Counter"));
  ASSERT_TRUE(test::wait_for([&] { return pair()["service_level"] == 150; }, 10s)) << pair().dump();
  EXPECT_EQ(reconnection_event(lines_of(*client)), "");
  EXPECT_EQ(n.stop(), 0) << n.proc().proc().err();
}

INSTANTIATE_TEST_SUITE_P(
    conditions, face_condition,
    testing::Values(condition_case{"stale",
                                   "[[pair.monitor]]\nitem = \"ns=1;s=Sim.Counter\"\ncondition = "
                                   "\"stale\"\nstale_ms = 500\n",
                                   "stale"},
                    condition_case{"equals",
                                   "[[pair.monitor]]\nitem = \"ns=1;s=Sim.Setpoint\"\ncondition = "
                                   "\"equals\"\nvalue = 13\n",
                                   "(equals 13)"},
                    condition_case{"above",
                                   "[[pair.monitor]]\nitem = \"ns=1;s=Sim.Setpoint\"\ncondition = "
                                   "\"above\"\nvalue = 50\n",
                                   "(above 50)"},
                    condition_case{"below",
                                   "[[pair.monitor]]\nitem = \"ns=1;s=Sim.Setpoint\"\ncondition = "
                                   "\"below\"\nvalue = -50\n",
                                   "(below -50)"},
                    condition_case{"bad_quality",
                                   "[[pair.monitor]]\nitem = \"ns=1;s=Sim.Counter\"\ncondition = "
                                   "\"bad_quality\"\n",
                                   "bad quality BadSensorFailure"}),
    case_name);

} // namespace
