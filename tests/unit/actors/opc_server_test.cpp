// Deterministic tests of OPC-SERVER with a fake link: every transition of its state diagram,
// back-off, status polling, items re-created after a reconnect, data forwarding, faults.

#include <gtest/gtest.h>

#include "caf/typed_event_based_actor.hpp"

#include "actors/diagnostics.hpp"
#include "actors/opc_server.hpp"
#include "tests/support/actor_fixture.hpp"
#include "tests/unit/actors/test_util.hpp"

using namespace tandem;
using namespace std::chrono_literals;

namespace {

/// What the actor asked of its link.
struct link_log {
  std::vector<std::string> calls;
  std::vector<std::vector<item_spec>> monitored;
  std::vector<std::pair<std::vector<uint32_t>, monitoring_mode>> modes;
  std::vector<uint64_t> polls;
  uint64_t last_generation = 0;
};

class fake_link : public opcua::server_link {
public:
  explicit fake_link(link_log& log) : log_(log) {}
  void connect(uint64_t g) override {
    log_.calls.push_back("connect " + std::to_string(g));
    log_.last_generation = g;
  }
  void disconnect() override { log_.calls.push_back("disconnect"); }
  void drop() override { log_.calls.push_back("drop"); }
  void poll_status(uint64_t g, uint64_t poll) override {
    log_.calls.push_back("poll " + std::to_string(g) + " " + std::to_string(poll));
    log_.polls.push_back(poll);
  }
  void monitor(uint64_t g, std::vector<item_spec> items, double) override {
    log_.calls.push_back("monitor " + std::to_string(g) + " " + std::to_string(items.size()));
    log_.monitored.push_back(std::move(items));
  }
  void set_mode(uint64_t g, std::vector<uint32_t> handles, monitoring_mode m) override {
    log_.calls.push_back("mode " + std::to_string(g));
    log_.modes.emplace_back(std::move(handles), m);
  }
  void unmonitor(uint64_t g, std::vector<uint32_t> handles) override {
    log_.calls.push_back("unmonitor " + std::to_string(g) + " " + std::to_string(handles.size()));
  }

private:
  link_log& log_;
};

struct owner_log {
  std::vector<server_state_change> states;
  std::vector<server_data> data;
  std::vector<std::string> state_words() const {
    std::vector<std::string> w;
    for (auto& s : states)
      w.push_back(to_string(s.state));
    return w;
  }
};

class opc_server_test : public test::actor_fixture {
protected:
  opc_server_actor spawn_server(int32_t min_level = 1, diagnostics_actor diag = {}) {
    owner =
        sys.spawn([this](server_listener_actor::pointer) -> server_listener_actor::behavior_type {
          return {[this](server_state_change& c) { seen.states.push_back(c); },
                  [this](server_data& d) { seen.data.push_back(d); }};
        });
    opc_server_config c;
    c.name = "line1/primary";
    c.url = "opc.tcp://plc:4840";
    c.status_interval = 1s;
    c.status_timeout = 400ms;
    c.min_service_level = min_level;
    c.backoff_min = 500ms;
    c.backoff_max = 4s;
    c.owner = owner;
    c.diagnostics = diag;
    c.make_link = [this](std::shared_ptr<opcua::link_events>) {
      return std::make_unique<fake_link>(log);
    };
    auto a = sys.spawn(opc_server, c);
    run();
    return a;
  }
  void TearDown() override {
    if (srv) self->send_exit(srv, caf::exit_reason::user_shutdown);
    if (owner) self->send_exit(owner, caf::exit_reason::user_shutdown);
    run();
  }
  /// Connects and answers the first status poll as a healthy server.
  void bring_up() {
    self->send(srv, atom::connect_v);
    run();
    self->send(srv, link_up{log.last_generation});
    run();
    answer_poll(0, 255);
  }
  /// bring_up(), then a keep-alive from a subscription whose keep-alive period is `ms`.
  void bring_up_publishing(double keep_alive_ms) {
    bring_up();
    self->send(srv, data_batch{log.last_generation, {}, keep_alive_ms});
    run();
  }
  void answer_poll(int32_t server_state, int32_t level) {
    ASSERT_FALSE(log.polls.empty());
    self->send(
        srv, status_reply{log.last_generation, log.polls.back(), true, 0, server_state, level, ""});
    run();
  }
  server_snapshot snap() {
    auto s = ask<server_snapshot>(srv, atom::status_v);
    EXPECT_TRUE(s);
    return s ? *s : server_snapshot{};
  }
  std::vector<item_spec> items(std::initializer_list<uint32_t> handles) {
    std::vector<item_spec> v;
    for (auto h : handles)
      v.push_back(
          item_spec{h, "ns=2;s=Tag" + std::to_string(h), 100, 10, monitoring_mode::reporting});
    return v;
  }

  link_log log;
  owner_log seen;
  server_listener_actor owner;
  opc_server_actor srv;
};

TEST_F(opc_server_test, idle_until_told_to_connect_then_connected_after_link_up_and_status) {
  srv = spawn_server();
  EXPECT_TRUE(log.calls.empty());
  EXPECT_EQ(snap().state, server_conn_state::idle);
  bring_up();
  EXPECT_EQ(log.calls.front(), "connect 1");
  EXPECT_EQ(seen.state_words(), (std::vector<std::string>{"connecting", "connected"}));
  EXPECT_EQ(log.polls.size(), 1u) << "first poll at once after link_up";
  auto s = snap();
  EXPECT_EQ(s.state, server_conn_state::connected);
  EXPECT_EQ(s.service_level, 255);
  EXPECT_EQ(s.server_state, 0);
}

TEST_F(opc_server_test, polls_status_every_interval) {
  srv = spawn_server();
  bring_up();
  advance(1s);
  EXPECT_EQ(log.polls.size(), 2u);
  answer_poll(0, 255);
  advance(1s);
  EXPECT_EQ(log.polls.size(), 3u);
}

TEST_F(opc_server_test, an_unanswered_poll_means_status_timeout_and_an_answer_brings_it_back) {
  srv = spawn_server();
  bring_up();
  advance(1s); // poll 2 sent
  advance(399ms);
  EXPECT_EQ(snap().state, server_conn_state::connected);
  advance(1ms);
  EXPECT_EQ(snap().state, server_conn_state::status_timeout);
  EXPECT_NE(seen.states.back().detail.find("400 ms"), std::string::npos);
  advance(600ms); // poll 3
  answer_poll(0, 255);
  EXPECT_EQ(snap().state, server_conn_state::connected);
  EXPECT_EQ(seen.state_words(),
            (std::vector<std::string>{"connecting", "connected", "status_timeout", "connected"}));
}

// The silence rule (status_timeout 400 ms, polls every 1 s). A server whose subscription
// publishes and then says nothing gets a poll at half the timeout and is in status_timeout at the
// timeout, not at the next poll's timeout (here 1.4 s); an answer brings it back.
TEST_F(opc_server_test,
       a_publishing_server_that_goes_silent_is_timed_out_without_waiting_for_a_poll) {
  srv = spawn_server();
  bring_up_publishing(60); // keep-alives every 60 ms
  advance(199ms);
  EXPECT_EQ(log.polls.size(), 1u);
  advance(1ms);
  ASSERT_EQ(log.polls.size(), 2u) << "quiet for half the timeout: a poll at once";
  advance(199ms);
  EXPECT_EQ(snap().state, server_conn_state::connected);
  advance(1ms);
  EXPECT_EQ(snap().state, server_conn_state::status_timeout);
  auto detail = seen.states.back().detail;
  EXPECT_NE(detail.find("nothing from the server for 400 ms"), std::string::npos) << detail;
  EXPECT_NE(detail.find("sent 200 ms ago is unanswered"), std::string::npos) << detail;
  advance(600ms); // the regular poll at 1 s, answered
  EXPECT_EQ(log.polls.size(), 3u);
  answer_poll(0, 255);
  EXPECT_EQ(snap().state, server_conn_state::connected);
}

// A server that is quiet but answers the poll the silence sent is not timed out: silence alone
// never declares a server gone.
TEST_F(opc_server_test, a_quiet_server_that_answers_the_silence_poll_stays_connected) {
  srv = spawn_server();
  bring_up_publishing(60);
  advance(200ms);
  ASSERT_EQ(log.polls.size(), 2u);
  advance(150ms);
  answer_poll(0, 255); // slow, but there
  advance(249ms);      // quiet again since 350 ms: polled at 550, not yet 400 ms quiet
  EXPECT_EQ(log.polls.size(), 3u);
  EXPECT_EQ(snap().state, server_conn_state::connected);
  answer_poll(0, 255);
  advance(350ms);
  EXPECT_EQ(seen.state_words(), (std::vector<std::string>{"connecting", "connected"}));
}

// Keep-alives too rare for the timeout (200 ms periods, fewer than three in 400 ms): silence
// means nothing, the polls alone decide.
TEST_F(opc_server_test, silence_is_not_judged_when_keep_alives_are_too_rare_for_the_timeout) {
  srv = spawn_server();
  bring_up_publishing(200);
  advance(999ms);
  EXPECT_EQ(log.polls.size(), 1u);
  EXPECT_EQ(snap().state, server_conn_state::connected);
  advance(1ms); // the regular poll, unanswered
  advance(400ms);
  EXPECT_EQ(snap().state, server_conn_state::status_timeout);
  EXPECT_NE(seen.states.back().detail.find("no answer to the status poll"), std::string::npos);
}

TEST_F(opc_server_test, a_server_not_running_or_below_the_service_level_is_unhealthy) {
  srv = spawn_server(100);
  bring_up();
  advance(1s);
  answer_poll(1, 255);
  EXPECT_EQ(snap().state, server_conn_state::unhealthy);
  EXPECT_EQ(seen.states.back().detail, "ServerState is Failed");
  advance(1s);
  answer_poll(0, 50);
  EXPECT_EQ(seen.states.back().detail, "ServiceLevel 50 is below 100");
  advance(1s);
  answer_poll(0, 200);
  EXPECT_EQ(snap().state, server_conn_state::connected);
}

TEST_F(opc_server_test, service_level_is_ignored_when_the_minimum_is_zero) {
  srv = spawn_server(0);
  bring_up();
  advance(1s);
  answer_poll(0, 0);
  EXPECT_EQ(snap().state, server_conn_state::connected);
}

TEST_F(opc_server_test, a_lost_connection_is_retried_with_growing_back_off) {
  srv = spawn_server();
  bring_up();
  self->send(srv, link_down{1, 0x80AE0000, "connection closed"});
  run();
  EXPECT_EQ(snap().state, server_conn_state::lost);
  EXPECT_EQ(seen.states.back().detail, "connection closed");
  std::vector<caf::timespan> gaps = {500ms, 1s, 2s, 4s, 4s};
  for (auto gap : gaps) {
    auto before = log.calls.size();
    advance(gap - 1ms);
    EXPECT_EQ(log.calls.size(), before) << "retried too early";
    advance(1ms);
    ASSERT_EQ(log.calls.size(), before + 1);
    EXPECT_EQ(log.calls.back(), "connect " + std::to_string(log.last_generation));
    self->send(srv, link_down{log.last_generation, 0x800D0000, "refused"});
    run();
  }
  EXPECT_EQ(snap().reconnects, gaps.size());
  // Success resets the back-off.
  advance(4s);
  self->send(srv, link_up{log.last_generation});
  run();
  EXPECT_EQ(snap().state, server_conn_state::connected);
  self->send(srv, link_down{log.last_generation, 0, "again"});
  run();
  auto before = log.calls.size();
  advance(500ms);
  EXPECT_EQ(log.calls.size(), before + 1);
}

TEST_F(opc_server_test, failed_retries_do_not_repeat_the_lost_event) {
  test::temp_dir dir;
  diagnostics_config dc;
  dc.node_name = "n";
  dc.store = test::open_store(dir);
  dc.wall_now = [this] { return wall_now(); };
  auto diag = sys.spawn(diagnostics, dc);
  srv = spawn_server(1, diag);
  bring_up();
  for (int i = 0; i < 4; ++i) {
    self->send(srv, link_down{log.last_generation, 0, "refused"});
    run();
    advance(10s); // the retry fails again
  }
  auto evs = ask<std::vector<diag_event>>(diag, atom::events_v, uint64_t{100});
  ASSERT_TRUE(evs);
  std::vector<std::string> kinds;
  for (auto& e : *evs)
    kinds.push_back(e.kind);
  EXPECT_EQ(kinds, (std::vector<std::string>{"server_connected", "server_lost"}));
  self->send_exit(diag, caf::exit_reason::user_shutdown);
}

TEST_F(opc_server_test, items_are_created_on_connect_and_again_after_every_reconnect) {
  srv = spawn_server();
  self->send(srv, atom::monitor_v, items({1, 2, 3}));
  run();
  EXPECT_TRUE(log.monitored.empty()) << "nothing to create while idle";
  bring_up();
  ASSERT_EQ(log.monitored.size(), 1u);
  EXPECT_EQ(log.monitored[0].size(), 3u);
  self->send(srv, atom::monitor_v, items({3, 4}));
  run();
  ASSERT_EQ(log.monitored.size(), 2u);
  ASSERT_EQ(log.monitored[1].size(), 1u) << "only the new item";
  EXPECT_EQ(log.monitored[1][0].handle, 4u);
  self->send(srv, link_down{log.last_generation, 0, "lost"});
  run();
  advance(500ms);
  self->send(srv, link_up{log.last_generation});
  run();
  ASSERT_EQ(log.monitored.size(), 3u);
  EXPECT_EQ(log.monitored[2].size(), 4u) << "all items re-created on the new connection";
}

TEST_F(opc_server_test, monitoring_mode_changes_reach_the_link_and_survive_a_reconnect) {
  srv = spawn_server();
  self->send(srv, atom::monitor_v, items({1, 2}));
  bring_up();
  self->send(srv, atom::mode_v, std::vector<uint32_t>{1, 2}, monitoring_mode::disabled);
  run();
  ASSERT_EQ(log.modes.size(), 1u);
  EXPECT_EQ(log.modes[0].second, monitoring_mode::disabled);
  self->send(srv, link_down{log.last_generation, 0, "lost"});
  run();
  advance(500ms);
  self->send(srv, link_up{log.last_generation});
  run();
  ASSERT_FALSE(log.monitored.empty());
  for (auto& s : log.monitored.back())
    EXPECT_EQ(s.mode, monitoring_mode::disabled);
}

TEST_F(opc_server_test, data_is_forwarded_with_the_server_name_and_stale_reports_dropped) {
  srv = spawn_server();
  bring_up();
  data_batch b{log.last_generation, {item_update{7, 123, 0, {1, 2, 3}}}};
  self->send(srv, b);
  run();
  ASSERT_EQ(seen.data.size(), 1u);
  EXPECT_EQ(seen.data[0].server, "line1/primary");
  EXPECT_EQ(seen.data[0].updates[0].handle, 7u);
  EXPECT_EQ(seen.data[0].updates[0].value, (std::vector<uint8_t>{1, 2, 3}));
  self->send(srv, data_batch{log.last_generation - 1, {item_update{8, 0, 0, {}}}});
  self->send(srv, status_reply{log.last_generation - 1, 99, true, 0, 1, 0, ""});
  run();
  EXPECT_EQ(seen.data.size(), 1u);
  EXPECT_EQ(snap().state, server_conn_state::connected);
}

TEST_F(opc_server_test, disconnect_goes_idle_and_ignores_the_old_connection) {
  srv = spawn_server();
  bring_up();
  auto gen = log.last_generation;
  self->send(srv, atom::disconnect_v);
  run();
  EXPECT_EQ(log.calls.back(), "disconnect");
  EXPECT_EQ(snap().state, server_conn_state::idle);
  self->send(srv, link_down{gen, 0, "closed"});
  self->send(srv, data_batch{gen, {item_update{1, 0, 0, {}}}});
  run();
  EXPECT_EQ(snap().state, server_conn_state::idle);
  EXPECT_TRUE(seen.data.empty());
  advance(10s);
  EXPECT_EQ(log.calls.back(), "disconnect") << "no reconnect while idle on purpose";
}

TEST_F(opc_server_test, drop_fault_closes_the_link_and_stall_fault_makes_the_server_look_hung) {
  srv = spawn_server();
  bring_up();
  EXPECT_EQ(*ask<std::string>(srv, fault{fault_kind::drop_server, "line1", "primary", 0, 1}), "");
  EXPECT_EQ(log.calls.back(), "drop");
  EXPECT_EQ(*ask<std::string>(srv, fault{fault_kind::stall_server, "line1", "primary", 3000, 1}),
            "");
  advance(1s); // poll sent, its answer is swallowed by the stall
  answer_poll(0, 255);
  self->send(srv, data_batch{log.last_generation, {item_update{1, 0, 0, {}}}});
  run();
  EXPECT_TRUE(seen.data.empty());
  advance(400ms);
  EXPECT_EQ(snap().state, server_conn_state::status_timeout);
  advance(1600ms); // stall over at 3 s
  advance(1s);
  answer_poll(0, 255);
  EXPECT_EQ(snap().state, server_conn_state::connected);
}

} // namespace
