// Deterministic tests of the PAIR with fake links: first activation, failover causes, service
// level, return to the primary after settling, operator switch and pin, cold mode's standby.

#include <algorithm>
#include <gtest/gtest.h>

#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/history.hpp"
#include "actors/monitor.hpp"
#include "actors/pair.hpp"
#include "tests/support/actor_fixture.hpp"
#include "tests/support/process.hpp"
#include "transports/opcua/binary.hpp"

using namespace tandem;
using namespace std::chrono_literals;

namespace {

struct server_log {
  std::vector<std::string> calls;
  std::vector<item_spec> monitored;                                     ///< every monitor() item
  std::vector<std::pair<std::vector<uint32_t>, monitoring_mode>> modes; ///< set_mode() calls
  std::vector<uint32_t> unmonitored;                                    ///< unmonitor() handles
  uint64_t generation = 0;
  std::vector<uint64_t> polls;
};

class logging_link : public opcua::server_link {
public:
  explicit logging_link(server_log& l) : l_(l) {}
  void connect(uint64_t g) override {
    l_.calls.push_back("connect");
    l_.generation = g;
  }
  void disconnect() override { l_.calls.push_back("disconnect"); }
  void drop() override { l_.calls.push_back("drop"); }
  void poll_status(uint64_t, uint64_t poll) override { l_.polls.push_back(poll); }
  void monitor(uint64_t, std::vector<item_spec> items, double) override {
    l_.monitored.insert(l_.monitored.end(), items.begin(), items.end());
  }
  void set_mode(uint64_t, std::vector<uint32_t> handles, monitoring_mode m) override {
    l_.modes.emplace_back(std::move(handles), m);
  }
  void unmonitor(uint64_t, std::vector<uint32_t> handles) override {
    l_.unmonitored.insert(l_.unmonitored.end(), handles.begin(), handles.end());
  }

private:
  server_log& l_;
};

class pair_test : public test::actor_fixture {
protected:
  void start(config::pair_mode mode, bool return_to_primary = true,
             std::vector<config::monitor_entry> monitors = {},
             std::shared_ptr<opcua::pair_space> face = nullptr) {
    pair_actor_config c;
    c.face = std::move(face);
    c.pair.alias = "line1";
    c.pair.primary = "opc.tcp://a:4840";
    c.pair.secondary = "opc.tcp://b:4840";
    c.pair.mode = mode;
    c.pair.return_to_primary = return_to_primary;
    c.pair.return_settle_ms = 5000;
    c.pair.status_interval_ms = 1000;
    c.pair.status_timeout_ms = 500;
    c.pair.monitors = std::move(monitors);
    c.wall_now = [this] { return wall_now(); };
    c.role = role;
    c.cold_standby = cold_standby;
    c.pair.unused_item_linger_ms = linger_ms;
    c.pair.history = record_history;
    c.history = history;
    c.make_link = [this](int i, std::shared_ptr<opcua::link_events>) {
      return std::make_unique<logging_link>(logs[i]);
    };
    p = sys.spawn(pair, c);
    run();
  }
  void TearDown() override {
    if (p) self->send_exit(p, caf::exit_reason::user_shutdown);
    run();
  }
  pair_state& st() {
    using impl = caf::stateful_actor<pair_state, pair_actor::base>;
    return dynamic_cast<impl*>(caf::actor_cast<caf::abstract_actor*>(p))->state;
  }
  void up(int i) {
    self->send(st().servers[i], link_up{logs[i].generation});
    run();
    self->send(st().servers[i],
               status_reply{logs[i].generation, logs[i].polls.back(), true, 0, 0, 255, ""});
    run();
  }
  void down(int i) {
    self->send(st().servers[i], link_down{logs[i].generation, 0x80AE0000, "connection closed"});
    run();
  }
  /// A value of monitor condition `index` as server `i` reports it.
  void value(int i, int index, double v, uint32_t status_code = 0) {
    opcua::DataValue dv{opcua::Variant(v)};
    if (status_code) dv.status = opcua::StatusCode(status_code);
    auto bytes = opcua::encode_to_vector(dv);
    ASSERT_TRUE(bytes);
    server_data d{
        std::string("line1/") + (i == 0 ? "primary" : "secondary"),
        {item_update{monitor_handle_base + static_cast<uint32_t>(index), 0, status_code, *bytes}}};
    self->send(p, d);
    run();
  }
  pair_status status() {
    auto s = ask<pair_status>(p, atom::status_v);
    EXPECT_TRUE(s);
    return s ? *s : pair_status{};
  }
  void answer_polls() {
    for (int i = 0; i < 2; ++i)
      if (!logs[i].polls.empty())
        self->send(st().servers[i],
                   status_reply{logs[i].generation, logs[i].polls.back(), true, 0, 0, 255, ""});
    run();
  }
  switch_result switch_to(const std::string& to) {
    auto r = ask<switch_result>(p, atom::switch_to_v, to);
    EXPECT_TRUE(r);
    return r ? *r : switch_result{};
  }

  /// This node's role as the PAIR starts with it, and whether its standby is cold.
  node_role role{"Running", "independent", 0};
  bool cold_standby = false;
  int64_t linger_ms = 60000;  ///< unused_item_linger_ms of the next start()
  history_actor history;      ///< given to the next start() (null: no history)
  bool record_history = true; ///< [[pair]] history of the next start()
  server_log logs[2];
  pair_actor p;
};

TEST_F(pair_test, warm_connects_both_and_activates_the_first_healthy_server) {
  start(config::pair_mode::warm);
  EXPECT_EQ(logs[0].calls, (std::vector<std::string>{"connect"}));
  EXPECT_EQ(logs[1].calls, (std::vector<std::string>{"connect"}));
  EXPECT_EQ(status().active, "none");
  EXPECT_EQ(status().service_level, 1);
  up(0);
  auto s = status();
  EXPECT_EQ(s.active, "primary");
  EXPECT_EQ(s.service_level, 150) << "running on one server, the other not ready";
  EXPECT_EQ(s.last_failover.cause, "first_connection");
  up(1);
  EXPECT_EQ(status().service_level, 255);
  EXPECT_EQ(status().secondary.state, "connected");
}

TEST_F(pair_test, fails_over_with_the_cause_and_returns_to_the_primary_after_settling) {
  start(config::pair_mode::warm);
  up(0);
  up(1);
  down(0);
  auto s = status();
  EXPECT_EQ(s.active, "secondary");
  ASSERT_TRUE(s.has_last_failover);
  EXPECT_EQ(s.last_failover.from, "primary");
  EXPECT_EQ(s.last_failover.to, "secondary");
  EXPECT_EQ(s.last_failover.cause, "connection_lost");
  EXPECT_EQ(s.primary.state, "lost");
  advance(500ms); // the OPC-SERVER retries
  up(0);
  advance(4999ms);
  EXPECT_EQ(status().active, "secondary") << "returned before the settling time";
  advance(1ms);
  s = status();
  EXPECT_EQ(s.active, "primary");
  EXPECT_EQ(s.last_failover.cause, "return_to_primary");
}

TEST_F(pair_test, without_return_to_primary_it_stays_on_the_secondary) {
  start(config::pair_mode::hot, false);
  up(0);
  up(1);
  down(0);
  advance(500ms);
  up(0);
  advance(60s);
  EXPECT_EQ(status().active, "secondary");
}

TEST_F(pair_test, a_status_timeout_is_a_failover_cause) {
  start(config::pair_mode::hot);
  up(0);
  up(1);
  advance(1s);    // next polls sent
  advance(500ms); // unanswered: both time out... answer the secondary's
  // The secondary answered in time in this scenario:
  self->send(st().servers[1],
             status_reply{logs[1].generation, logs[1].polls.back(), true, 0, 0, 255, ""});
  run();
  auto s = status();
  EXPECT_EQ(s.primary.state, "status_timeout");
  EXPECT_EQ(s.active, "secondary");
  EXPECT_EQ(s.last_failover.cause, "status_timeout");
}

TEST_F(pair_test, an_operator_switch_pins_the_secondary_until_switched_back) {
  start(config::pair_mode::warm);
  up(0);
  up(1);
  auto r = switch_to("secondary");
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.active, "secondary");
  EXPECT_EQ(status().last_failover.cause, "operator");
  advance(60s); // primary healthy all along: no return while pinned
  EXPECT_EQ(status().active, "secondary");
  r = switch_to("primary");
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(status().active, "primary");
  r = switch_to("");
  EXPECT_EQ(r.active, "secondary") << "no name: the other one";
}

TEST_F(pair_test, switching_to_a_server_that_is_not_healthy_is_refused) {
  start(config::pair_mode::warm);
  up(0);
  auto r = switch_to("secondary");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("secondary server of line1 is connecting"), std::string::npos) << r.error;
  EXPECT_EQ(r.active, "primary");
  r = switch_to("third");
  EXPECT_FALSE(r.ok);
}

TEST_F(pair_test, cold_keeps_the_standby_disconnected_and_connects_it_on_failover) {
  start(config::pair_mode::cold);
  EXPECT_EQ(logs[0].calls, (std::vector<std::string>{"connect"}));
  EXPECT_TRUE(logs[1].calls.empty()) << "the cold standby is not connected";
  up(0);
  EXPECT_EQ(status().service_level, 255);
  EXPECT_EQ(status().secondary.state, "idle");
  down(0);
  // Nobody healthy: after the alternate delay the PAIR tries the secondary.
  advance(1s);
  ASSERT_FALSE(logs[1].calls.empty());
  EXPECT_EQ(logs[1].calls.back(), "connect");
  EXPECT_EQ(logs[0].calls.back(), "disconnect");
  up(1);
  auto s = status();
  EXPECT_EQ(s.active, "secondary");
  EXPECT_EQ(s.primary.state, "idle");
}

TEST_F(pair_test, the_node_role_caps_the_service_level_clients_see) {
  role = node_role{"Unknown", "starting", 0};
  start(config::pair_mode::warm);
  up(0);
  up(1);
  EXPECT_EQ(status().service_level, 1) << "a node not yet decided reports no data";
  EXPECT_FALSE(st().recording());
  self->send(p, node_role{"Standby", "partner_running", 0});
  run();
  EXPECT_EQ(status().service_level, 100) << "a healthy Standby stays below a healthy Running";
  EXPECT_FALSE(st().recording()) << "only the Running node records history";
  self->send(p, node_role{"Running", "handover", 2});
  run();
  EXPECT_EQ(status().service_level, 255);
  EXPECT_TRUE(st().recording());
  node_role maintenance{"Running", "maintenance", 2};
  maintenance.maintenance = true;
  self->send(p, maintenance);
  run();
  EXPECT_EQ(status().service_level, 0) << "maintenance: OPC UA's 0";
  EXPECT_EQ(logs[0].calls, (std::vector<std::string>{"connect"}))
      << "a warm standby stays connected";
}

TEST_F(pair_test, a_cold_standby_node_connects_to_no_server_until_it_runs) {
  role = node_role{"Standby", "partner_running", 0};
  cold_standby = true;
  start(config::pair_mode::warm);
  advance(5s);
  auto connects = [](const server_log& l) {
    return std::count(l.calls.begin(), l.calls.end(), "connect");
  };
  EXPECT_EQ(connects(logs[0]) + connects(logs[1]), 0);
  EXPECT_EQ(status().active, "none");
  EXPECT_EQ(status().primary.state, "idle");
  self->send(p, node_role{"Running", "partner_lost", 1});
  run();
  EXPECT_EQ(connects(logs[0]), 1);
  EXPECT_EQ(connects(logs[1]), 1);
  up(0);
  up(1);
  EXPECT_EQ(status().active, "primary");
  EXPECT_EQ(status().service_level, 255);
  // Standby again (a handover back): both servers are let go, and no failover is counted.
  self->send(p, node_role{"Standby", "handover", 1});
  run();
  EXPECT_EQ(logs[0].calls.back(), "disconnect");
  EXPECT_EQ(logs[1].calls.back(), "disconnect");
  EXPECT_EQ(status().active, "none");
  EXPECT_EQ(status().service_level, 1);
  EXPECT_EQ(st().failovers, 0u);
}

std::vector<config::monitor_entry> conditions() {
  config::monitor_entry stale{"ns=2;s=HB", config::monitor_condition::stale, 1000, std::nullopt};
  config::monitor_entry hot{"ns=2;s=Temp", config::monitor_condition::above, 5000, 50.0};
  config::monitor_entry quality{"ns=2;s=Q", config::monitor_condition::bad_quality, 5000,
                                std::nullopt};
  return {stale, hot, quality};
}

TEST_F(pair_test,
       a_failing_condition_fails_over_and_a_server_with_failing_conditions_is_not_chosen) {
  start(config::pair_mode::hot, false, conditions());
  up(0);
  up(1);
  value(0, 0, 1);
  value(1, 0, 1);
  value(0, 1, 20);
  value(1, 1, 20);
  EXPECT_EQ(status().active, "primary");
  value(0, 1, 60); // primary's temperature above 50
  auto s = status();
  EXPECT_EQ(s.active, "secondary");
  EXPECT_EQ(s.last_failover.cause, "condition");
  EXPECT_EQ(s.primary.state, "unhealthy");
  // The secondary fails too: nowhere better to go, no bouncing back.
  value(1, 1, 70);
  EXPECT_EQ(status().active, "secondary");
  EXPECT_EQ(status().service_level, 50) << "degraded: connected, no healthy server";
  // The primary recovers: it is chosen.
  value(0, 1, 10);
  EXPECT_EQ(status().active, "primary");
  EXPECT_EQ(status().last_failover.cause, "condition");
}

TEST_F(pair_test, a_stale_heartbeat_and_bad_quality_are_failover_causes) {
  start(config::pair_mode::warm, false, conditions());
  up(0);
  up(1);
  advance(900ms);
  value(1, 0, 1); // the secondary's heartbeat keeps changing
  answer_polls();
  advance(100ms); // the primary's heartbeat: 1000 ms without a change
  auto s = status();
  EXPECT_EQ(s.active, "secondary");
  EXPECT_EQ(s.last_failover.cause, "condition");
  value(0, 0, 2);              // the primary's heartbeat is back
  value(1, 2, 0, 0x80000000u); // and the secondary's quality goes bad
  EXPECT_EQ(status().active, "primary");
}

TEST_F(pair_test, fire_condition_fault_marks_the_active_server_failing) {
  start(config::pair_mode::hot, false, conditions());
  up(0);
  up(1);
  auto r = ask<std::string>(p, fault{fault_kind::fire_condition, "line1", "", 0, 1});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "");
  EXPECT_EQ(status().active, "secondary");
  auto bad = ask<std::string>(p, fault{fault_kind::fire_condition, "line1", "", 0, 9});
  ASSERT_TRUE(bad);
  EXPECT_NE(bad->find("no index 9"), std::string::npos) << *bad;
}

} // namespace

namespace {

/// The values a face client's monitored item receives.
struct face_client {
  std::vector<opcua::DataValue> values;
  uint64_t token = 0;
};

opcua::DataValue counter_value(int64_t v) {
  opcua::DataValue dv{opcua::Variant(v)};
  dv.source_timestamp = opcua::DateTime::from_unix_ms(1000 * v);
  return dv;
}

class pair_face_test : public pair_test {
protected:
  void SetUp() override {
    face = std::make_shared<opcua::pair_space>(
        opcua::pair_space_options{"line1", "urn:test", true, nullptr});
  }
  void TearDown() override {
    if (client.token) face->unwatch(client.token);
    pair_test::TearDown();
  }
  /// A client subscribes to ns=1;s=Counter through the face.
  void subscribe() {
    client.token =
        face->watch(opcua::NodeId(1, opcua::String("Counter")), opcua::attribute_id::Value,
                    [this](const opcua::DataValue& dv) { client.values.push_back(dv); });
    run();
  }
  /// Server `i` reports counter value `v` (source time v seconds) for the face item.
  void counter(int i, int64_t v) {
    auto bytes = opcua::encode_to_vector(counter_value(v));
    ASSERT_TRUE(bytes);
    ASSERT_FALSE(logs[i].monitored.empty());
    uint32_t handle = 0; // the client's item: the newest one of the node
    for (const auto& m : logs[i].monitored)
      if (m.node_id == "ns=1;s=Counter") handle = m.handle;
    self->send(
        p, server_data{std::string("line1/") + (i == 0 ? "primary" : "secondary"),
                       {item_update{handle, counter_value(v).source_timestamp->ticks, 0, *bytes}}});
    run();
  }
  std::vector<int64_t> received() const {
    std::vector<int64_t> out;
    for (const auto& dv : client.values)
      if (dv.value)
        if (auto* x = dv.value->get_if<int64_t>()) out.push_back(*x);
    return out;
  }

  std::shared_ptr<opcua::pair_space> face;
  face_client client;
};

TEST_F(pair_face_test, hot_forwards_the_active_server_and_on_failover_the_changes_it_missed) {
  start(config::pair_mode::hot, false, {}, face);
  up(0);
  up(1);
  EXPECT_EQ(face->active(), 0);
  subscribe();
  // The client's item is monitored on both servers, reporting on both.
  ASSERT_EQ(logs[0].monitored.size(), 1u);
  ASSERT_EQ(logs[1].monitored.size(), 1u);
  EXPECT_EQ(logs[0].monitored[0].node_id, "ns=1;s=Counter");
  EXPECT_EQ(logs[1].monitored[0].mode, monitoring_mode::reporting);
  counter(0, 1);
  counter(1, 1);
  counter(0, 2);
  counter(1, 2);
  counter(1, 3); // the primary dies before it delivers 3 and 4
  counter(1, 4);
  EXPECT_EQ(received(), (std::vector<int64_t>{1, 2}));
  down(0);
  EXPECT_EQ(face->active(), 1);
  // The standby's changes after the last forwarded one, in order, then its live stream.
  EXPECT_EQ(received(), (std::vector<int64_t>{1, 2, 3, 4}));
  counter(1, 5);
  counter(0, 99); // whatever the failed server still says is not forwarded
  EXPECT_EQ(received(), (std::vector<int64_t>{1, 2, 3, 4, 5}));
}

// The hot window holds only the standby's changes ahead of what was forwarded (all a catch-up
// can use): a standby value the active server delivered already is not kept, and one kept is
// dropped once the active server delivers its source time. With both servers in step it stays
// empty; the catch-up is the same as above.
TEST_F(pair_face_test, the_hot_window_keeps_only_the_standbys_changes_ahead_of_the_stream) {
  start(config::pair_mode::hot, false, {}, face);
  up(0);
  up(1);
  subscribe();
  uint32_t handle = logs[1].monitored.at(0).handle;
  auto window = [&] {
    std::vector<int64_t> out;
    auto w = st().window[1].find(handle);
    if (w != st().window[1].end())
      for (auto& u : w->second)
        out.push_back(u.source_time);
    return out;
  };
  auto ticks = [](int64_t v) { return counter_value(v).source_timestamp->ticks; };
  counter(1, 1); // ahead of the primary
  counter(1, 2);
  EXPECT_EQ(window(), (std::vector<int64_t>{ticks(1), ticks(2)}));
  counter(0, 1); // the primary catches up: 1 is delivered, 2 is still ahead
  EXPECT_EQ(window(), (std::vector<int64_t>{ticks(2)}));
  counter(0, 2);
  counter(0, 3);
  EXPECT_TRUE(window().empty());
  counter(1, 3); // behind the stream: not kept
  EXPECT_TRUE(window().empty());
  for (int64_t v = 4; v <= 100; ++v) { // in step for a while: the window never grows
    counter(0, v);
    counter(1, v);
  }
  EXPECT_TRUE(window().empty());
  counter(1, 101);
  counter(1, 102);
  down(0);
  std::vector<int64_t> expected;
  for (int64_t v = 1; v <= 102; ++v)
    expected.push_back(v);
  EXPECT_EQ(received(), expected);
}

TEST_F(pair_face_test, warm_reports_only_on_the_active_server_and_switches_modes_on_failover) {
  start(config::pair_mode::warm, false, {}, face);
  up(0);
  up(1);
  subscribe();
  ASSERT_EQ(logs[0].monitored.size(), 1u);
  ASSERT_EQ(logs[1].monitored.size(), 1u);
  EXPECT_EQ(logs[0].monitored[0].mode, monitoring_mode::reporting);
  // The standby samples and queues without reporting (Part 4 6.6.2.4.5.4).
  EXPECT_EQ(logs[1].monitored[0].mode, monitoring_mode::sampling);
  counter(0, 6);
  counter(0, 7);
  EXPECT_EQ(received(), (std::vector<int64_t>{6, 7}));
  down(0); // the primary dies before it delivers 8 and 9
  ASSERT_FALSE(logs[1].modes.empty());
  EXPECT_EQ(logs[1].modes.back().second, monitoring_mode::reporting);
  EXPECT_EQ(logs[1].modes.back().first, (std::vector<uint32_t>{logs[1].monitored[0].handle}));
  // Reporting now, the secondary delivers its queue, oldest first: what was forwarded already
  // is dropped, the rest follows in order, with nothing lost.
  for (int64_t v : {5, 6, 7, 8, 9, 10})
    counter(1, v);
  EXPECT_EQ(received(), (std::vector<int64_t>{6, 7, 8, 9, 10}));
  counter(1, 10); // after the catch-up an equal source time is forwarded as it comes
  EXPECT_EQ(received(), (std::vector<int64_t>{6, 7, 8, 9, 10, 10}));
  EXPECT_EQ(
      face->read(opcua::NodeId(opcua::node_ids::Server_ServiceLevel), opcua::attribute_id::Value)
          .value,
      opcua::Variant(uint8_t{150}));
}

TEST_F(pair_face_test, a_warm_catch_up_ends_after_a_second_so_a_server_whose_clock_lags_is_heard) {
  start(config::pair_mode::warm, false, {}, face);
  up(0);
  up(1);
  subscribe();
  counter(0, 50);
  down(0);
  counter(1, 40); // the secondary's clock is behind: taken for a queued duplicate
  EXPECT_EQ(received(), (std::vector<int64_t>{50}));
  advance(1100ms);
  counter(1, 41);
  EXPECT_EQ(received(), (std::vector<int64_t>{50, 41}));
}

// A client that deletes its monitored items (an HMI leaving a screen): after
// unused_item_linger_ms without any client the item is deleted on both servers; a client back
// sooner keeps it, one back later gets a new one; the partner's clients' items stay.
TEST_F(pair_face_test, an_item_no_client_watches_is_deleted_upstream_after_the_linger) {
  linger_ms = 400; // swept every 100 ms, removed after 4 sweeps without a client
  start(config::pair_mode::warm, false, {}, face);
  up(0);
  up(1);
  auto alive = [this](int steps) { // 100 ms at a time, the servers answering their polls
    for (int k = 0; k < steps; ++k) {
      advance(100ms);
      for (int i = 0; i < 2; ++i)
        if (!logs[i].polls.empty())
          self->send(st().servers[i],
                     status_reply{logs[i].generation, logs[i].polls.back(), true, 0, 0, 255, ""});
      run();
    }
  };
  subscribe();
  ASSERT_EQ(logs[0].monitored.size(), 1u);
  uint32_t h = logs[0].monitored.front().handle;
  face->unwatch(std::exchange(client.token, 0));
  alive(3);
  subscribe(); // back within the linger: the same item
  alive(6);
  EXPECT_TRUE(logs[0].unmonitored.empty());
  EXPECT_EQ(logs[0].monitored.size(), 1u);
  face->unwatch(std::exchange(client.token, 0));
  alive(5);
  EXPECT_EQ(logs[0].unmonitored, (std::vector<uint32_t>{h}));
  EXPECT_EQ(logs[1].unmonitored, (std::vector<uint32_t>{h}));
  EXPECT_EQ(status().items, 0u);
  subscribe(); // back later: a new item upstream
  ASSERT_EQ(logs[0].monitored.size(), 2u);
  EXPECT_NE(logs[0].monitored.back().handle, h);
  counter(0, 3);
  ASSERT_FALSE(received().empty());
  EXPECT_EQ(received().back(), 3);
  // What the partner node's clients watch stays, with no client here.
  self->send(p, item_set{"line1", {"ns=1;s=Level"}, true});
  run();
  ASSERT_EQ(logs[0].monitored.size(), 3u);
  alive(8);
  EXPECT_EQ(logs[0].unmonitored.size(), 1u);
  EXPECT_EQ(status().items, 2u);
}

/// Stands in for the SUPERVISOR: what a PAIR tells of its clients' items.
item_set_listener_actor::behavior_type
item_recorder(item_set_listener_actor::pointer, std::shared_ptr<std::vector<item_set>> sets,
              std::shared_ptr<std::vector<item_drop>> drops) {
  return {[sets](item_set& s) { sets->push_back(std::move(s)); },
          [drops](item_drop& d) { drops->push_back(std::move(d)); }};
}

// The partner's clients gave items up (SYNC's GONE): each is deleted on both servers after the
// linger, unless a client here watches it. This node's clients' items are told to the items
// owner (for the partner) when a client begins to watch one, also one watched for the partner
// already, and when none has watched it for the linger.
TEST_F(pair_face_test, items_the_partner_gave_up_are_swept_and_this_nodes_are_told_as_they_go) {
  linger_ms = 400; // swept every 100 ms, removed after 4 sweeps without a client
  start(config::pair_mode::warm, false, {}, face);
  auto sets = std::make_shared<std::vector<item_set>>();
  auto drops = std::make_shared<std::vector<item_drop>>();
  st().cfg.items_owner = sys.spawn(item_recorder, sets, drops);
  up(0);
  up(1);
  auto alive = [this](int steps) { // 100 ms at a time, the servers answering their polls
    for (int k = 0; k < steps; ++k) {
      advance(100ms);
      answer_polls();
    }
  };
  self->send(p, item_set{"line1", {"ns=1;s=Level", "ns=1;s=Counter"}, true});
  run();
  ASSERT_EQ(logs[0].monitored.size(), 2u);
  EXPECT_TRUE(sets->empty()); // the partner's items are not told back
  uint32_t level = logs[0].monitored[0].node_id == "ns=1;s=Level" ? logs[0].monitored[0].handle
                                                                  : logs[0].monitored[1].handle;
  subscribe(); // a client here watches Counter: the same item, told to the owner
  EXPECT_EQ(logs[0].monitored.size(), 2u);
  ASSERT_EQ(sets->size(), 1u);
  EXPECT_EQ(sets->at(0).pair, "line1");
  EXPECT_FALSE(sets->at(0).partner);
  EXPECT_EQ(sets->at(0).node_ids, (std::vector<std::string>{"ns=1;s=Counter"}));

  self->send(p, item_drop{"line1", {"ns=1;s=Level", "ns=1;s=Counter"}, true});
  run();
  alive(3);
  EXPECT_TRUE(logs[0].unmonitored.empty()) << "deleted before the linger";
  alive(2);
  EXPECT_EQ(logs[0].unmonitored, (std::vector<uint32_t>{level}));
  EXPECT_EQ(logs[1].unmonitored, (std::vector<uint32_t>{level}));
  EXPECT_TRUE(drops->empty()) << "Level was never this node's clients'";
  alive(10);
  EXPECT_EQ(status().items, 1u); // Counter: a client here watches it

  face->unwatch(std::exchange(client.token, 0));
  alive(5);
  EXPECT_EQ(logs[0].unmonitored.size(), 2u);
  ASSERT_EQ(drops->size(), 1u);
  EXPECT_EQ(drops->at(0).pair, "line1");
  EXPECT_FALSE(drops->at(0).partner);
  EXPECT_EQ(drops->at(0).node_ids, (std::vector<std::string>{"ns=1;s=Counter"}));
  EXPECT_EQ(status().items, 0u);
  self->send_exit(st().cfg.items_owner, caf::exit_reason::user_shutdown);
}

// History records what clients were given: after a hot failover the catch-up from the standby's
// window; after a warm one the new server's queue without what was forwarded already (no
// duplicate rows).
TEST_F(pair_face_test, history_records_the_catch_up_of_a_failover_and_no_duplicates) {
  test::temp_dir dir;
  auto recorded = [&] {
    history_query q;
    q.pair = "line1";
    q.item = "ns=1;s=Counter";
    std::vector<int64_t> out;
    if (auto v = ask<history_values>(history, q))
      for (auto& r : v->rows)
        out.push_back(r.time_ms / 1000); // counter_value(v) has source time v seconds
    return out;
  };
  for (auto mode : {config::pair_mode::hot, config::pair_mode::warm}) {
    SCOPED_TRACE(config::to_string(mode));
    std::string err, notice;
    auto store = storage::history_store::open(
        dir.file(std::string(config::to_string(mode)) + ".db"), err, notice);
    ASSERT_TRUE(store) << err;
    history_config hc;
    hc.node_name = "n1";
    hc.store = std::move(store);
    hc.wall_now = [this] { return wall_now(); };
    history = sys.spawn(tandem::history, hc);
    start(mode, false, {}, face);
    up(0);
    up(1);
    subscribe();
    counter(0, 1);
    counter(1, 1);
    counter(0, 2);
    counter(1, 2);
    if (mode == config::pair_mode::hot) counter(1, 3); // in the standby's window
    down(0);
    if (mode == config::pair_mode::warm)
      for (int64_t v : {1, 2, 3}) // the standby's queue, reported after the switch
        counter(1, v);
    counter(1, 4);
    EXPECT_EQ(recorded(), (std::vector<int64_t>{1, 2, 3, 4}));
    face->unwatch(std::exchange(client.token, 0));
    self->send_exit(p, caf::exit_reason::user_shutdown);
    self->send_exit(history, caf::exit_reason::user_shutdown);
    run();
    logs[0] = {};
    logs[1] = {};
    face = std::make_shared<opcua::pair_space>(
        opcua::pair_space_options{"line1", "urn:test", true, nullptr});
    client = {};
  }
}

// `history = false`: the pair's values reach the client as before, and HISTORY gets none of them.
TEST_F(pair_face_test, a_pair_with_history_off_serves_its_values_and_records_none) {
  test::temp_dir dir;
  std::string err, notice;
  auto store = storage::history_store::open(dir.file("h.db"), err, notice);
  ASSERT_TRUE(store) << err;
  auto* raw = store.get();
  history_config hc;
  hc.node_name = "n1";
  hc.store = std::move(store);
  hc.wall_now = [this] { return wall_now(); };
  history = sys.spawn(tandem::history, hc);
  record_history = false;
  start(config::pair_mode::hot, false, {}, face);
  up(0);
  up(1);
  subscribe();
  for (int64_t v : {1, 2, 3}) {
    counter(0, v);
    counter(1, v);
  }
  down(0); // a failover's catch-up is not recorded either
  counter(1, 4);
  EXPECT_EQ(received(), (std::vector<int64_t>{1, 2, 3, 4}));
  ASSERT_TRUE(ask<data_epoch>(history, atom::flush_v)); // anything pending is committed
  EXPECT_EQ(raw->count(), 0u);
  EXPECT_FALSE(raw->has_series("line1", "ns=1;s=Counter"));
  self->send_exit(history, caf::exit_reason::user_shutdown);
  run();
}

TEST_F(pair_face_test, with_no_server_left_the_client_sees_bad_no_communication_then_recovers) {
  start(config::pair_mode::hot, false, {}, face);
  up(0);
  up(1);
  subscribe();
  counter(0, 1);
  down(0);
  down(1);
  EXPECT_EQ(face->active(), -1);
  ASSERT_FALSE(client.values.empty());
  EXPECT_EQ(client.values.back().status_or_good().code(), opcua::status::BadNoCommunication.code());
  EXPECT_EQ(
      face->read(opcua::NodeId(opcua::node_ids::Server_ServiceLevel), opcua::attribute_id::Value)
          .value,
      opcua::Variant(uint8_t{1}));
  advance(500ms);
  up(1);
  counter(1, 5);
  EXPECT_EQ(client.values.back().status_or_good().code(), opcua::status::Good.code());
  EXPECT_EQ(received().back(), 5);
}

TEST_F(pair_face_test, the_primary_is_preferred_at_start_while_it_is_connecting) {
  start(config::pair_mode::warm, true, {}, face);
  up(1); // the secondary answers first
  EXPECT_EQ(status().active, "none") << "took the secondary while the primary was connecting";
  up(0);
  EXPECT_EQ(status().active, "primary");
}

TEST_F(pair_face_test, a_primary_whose_first_attempt_fails_ends_the_wait_at_once) {
  start(config::pair_mode::warm, true, {}, face);
  up(1);
  EXPECT_EQ(status().active, "none");
  down(0); // refused: no reason to wait any longer
  EXPECT_EQ(status().active, "secondary");
  EXPECT_EQ(status().last_failover.cause, "first_connection");
}

TEST_F(pair_face_test, the_secondary_becomes_active_when_the_primary_does_not_come) {
  start(config::pair_mode::warm, true, {}, face);
  up(1);
  advance(2999ms); // primary_wait_ms (3000 by default)
  EXPECT_EQ(status().active, "none");
  advance(1ms);
  EXPECT_EQ(status().active, "secondary");
  EXPECT_EQ(status().last_failover.cause, "first_connection");
}

} // namespace
