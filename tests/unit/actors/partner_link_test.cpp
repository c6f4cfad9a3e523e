// Deterministic tests of the PARTNER LINK with a fake transport, in virtual time: the handshake
// decisions, heartbeats and RTT, both loss rules and whichever comes first, the reconnect
// back-off schedule, refusals and version mismatches, the death probe's certain and uncertain
// paths, SYNC both ways, status, faults, connect and disconnect.

#include <gtest/gtest.h>

#include "caf/typed_event_based_actor.hpp"

#include "actors/partner_link.hpp"
#include "tests/support/actor_fixture.hpp"

using namespace tandem;
using namespace std::chrono_literals;

namespace {

/// What the actor asked of its transport.
struct transport_log {
  std::vector<std::string> calls;
  uint64_t next_id = 1;
  std::vector<uint64_t> dials;
  std::vector<std::pair<uint64_t, std::string>> refusals;
  std::vector<uint64_t> heartbeats; ///< seq of each HEARTBEAT sent
  std::vector<uint64_t> heartbeat_times;
  std::vector<std::pair<uint64_t, uint64_t>> acks; ///< (seq, time) of each HEARTBEAT_ACK sent
  std::vector<sync_payload> syncs;
  std::vector<std::string> probes;
  std::vector<std::string> closes;
  bool stopped = false;
  std::chrono::milliseconds delay{0};
  partner_hello hello;
};

class fake_transport : public partner::link_transport {
public:
  explicit fake_transport(transport_log& log) : log_(log) {}
  std::string listen() override {
    log_.calls.push_back("listen");
    return "";
  }
  uint16_t listen_port() const override { return 0; }
  uint64_t dial() override {
    auto id = log_.next_id++;
    log_.dials.push_back(id);
    log_.calls.push_back("dial " + std::to_string(id));
    return id;
  }
  void set_hello(const partner_hello& h) override { log_.hello = h; }
  void accept(uint64_t conn) override { log_.calls.push_back("accept " + std::to_string(conn)); }
  void refuse(uint64_t conn, const std::string& reason) override {
    log_.refusals.emplace_back(conn, reason);
    log_.calls.push_back("refuse " + std::to_string(conn));
  }
  void heartbeat(uint64_t, uint64_t seq, uint64_t ns) override {
    log_.heartbeats.push_back(seq);
    log_.heartbeat_times.push_back(ns);
  }
  void heartbeat_ack(uint64_t, uint64_t seq, uint64_t ns) override {
    log_.acks.emplace_back(seq, ns);
  }
  void sync(uint64_t, sync_payload p) override { log_.syncs.push_back(std::move(p)); }
  void close(uint64_t conn, const std::string& reason) override {
    log_.closes.push_back(reason);
    log_.calls.push_back("close " + std::to_string(conn));
  }
  void drop(uint64_t conn) override { log_.calls.push_back("drop " + std::to_string(conn)); }
  void probe(uint64_t conn, const std::string& host, uint16_t link_port,
             const std::string& face_host, uint16_t face_port) override {
    log_.probes.push_back(std::to_string(conn) + " " + host + " " + std::to_string(link_port) +
                          (face_host.empty() ? "" : " " + face_host) + " " +
                          std::to_string(face_port));
  }
  void set_delay(std::chrono::milliseconds d) override { log_.delay = d; }
  void stop() override { log_.stopped = true; }

private:
  transport_log& log_;
};

struct listener_log {
  std::vector<partner_up> ups;
  std::vector<partner_down> downs;
  std::vector<partner_heartbeat> heartbeats;
  std::vector<sync_payload> syncs;
  std::vector<event_report> events;
  std::vector<std::string> event_kinds() const {
    std::vector<std::string> k;
    for (auto& e : events)
      k.push_back(e.kind);
    return k;
  }
};

partner_hello hello_of(const std::string& name, partner_role role) {
  partner_hello h;
  h.node_name = name;
  h.role = role;
  h.state = partner_state::running;
  h.face_port = 4841;
  h.config_digest = "abc";
  return h;
}

class partner_link_test : public test::actor_fixture {
protected:
  partner_link_config base_config() {
    partner_link_config c;
    c.hello = hello_of("node-a", partner_role::backup);
    c.dial = true;
    c.partner = "10.0.0.2:8099";
    c.partner_link_port = 8099;
    c.ping_interval = 100ms;
    c.ping_timeout = 1000ms;
    c.missed_pings = 3;
    c.backoff_min = 100ms;
    c.backoff_max = 5s;
    return c;
  }

  partner_link_actor spawn_link(partner_link_config c) {
    listener =
        sys.spawn([this](partner_listener_actor::pointer) -> partner_listener_actor::behavior_type {
          return {[this](partner_up& m) { seen.ups.push_back(m); },
                  [this](partner_down& m) { seen.downs.push_back(m); },
                  [this](partner_heartbeat& m) { seen.heartbeats.push_back(m); },
                  [this](sync_payload& m) { seen.syncs.push_back(m); }};
        });
    diag = sys.spawn([this](diagnostics_actor::pointer) -> diagnostics_actor::behavior_type {
      return {
          [this](event_report& e) { seen.events.push_back(e); },
          [](atom::events, uint64_t) { return std::vector<diag_event>{}; },
          [](atom::subscribe, event_listener_actor) {},
          [](atom::unsubscribe, event_listener_actor) {},
          [](atom::flush) { return uint64_t{0}; },
          [](atom::marks) { return std::vector<origin_mark>{}; },
          [](atom::export_rows, std::vector<origin_mark>, uint64_t) { return event_rows{}; },
          [](atom::merge, std::vector<diag_event>) { return uint64_t{0}; },
          [](fault&) { return std::string{}; },
          [](atom::commit) {},
          [](atom::retry) {},
          [](atom::stall_end) {},
      };
    });
    c.listener = listener;
    c.diagnostics = diag;
    c.make_transport = [this](std::shared_ptr<partner::link_events>) {
      return std::make_unique<fake_transport>(log);
    };
    link = sys.spawn(partner_link, c);
    run();
    return link;
  }

  void TearDown() override {
    for (auto* a : {&link})
      if (*a) self->send_exit(*a, caf::exit_reason::user_shutdown);
    if (listener) self->send_exit(listener, caf::exit_reason::user_shutdown);
    if (diag) self->send_exit(diag, caf::exit_reason::user_shutdown);
    run();
  }

  /// Brings the link up on the last dial (the partner is node-b, the master).
  uint64_t bring_up(bool inbound = false) {
    uint64_t conn = inbound ? 77 : log.dials.back();
    self->send(link, pl_hello{conn, inbound, hello_of("node-b", partner_role::master)});
    run();
    self->send(link, pl_up{conn, "10.0.0.2", inbound ? uint16_t{40000} : uint16_t{8099}});
    run();
    return conn;
  }

  /// Answers the last heartbeat sent, after `delay` of virtual time.
  void answer_last(uint64_t conn, caf::timespan delay = 0ms) {
    ASSERT_FALSE(log.heartbeats.empty());
    if (delay.count() > 0) advance(delay);
    self->send(link, pl_heartbeat{conn, true, log.heartbeats.back(), log.heartbeat_times.back()});
    run();
  }

  /// Moves virtual time in 1 ms steps, so every timer fires at its own time.
  void step(caf::timespan d) {
    for (auto t = caf::timespan{0}; t < d; t += 1ms)
      advance(1ms);
  }

  partner_link_status status() {
    auto s = ask<partner_link_status>(link, atom::status_v);
    EXPECT_TRUE(s);
    return s ? *s : partner_link_status{};
  }

  transport_log log;
  listener_log seen;
  partner_listener_actor listener;
  diagnostics_actor diag;
  partner_link_actor link;
};

TEST_F(partner_link_test, listens_and_dials_at_start) {
  spawn_link(base_config());
  EXPECT_EQ(log.calls, (std::vector<std::string>{"listen", "dial 1"}));
  EXPECT_EQ(status().link, "connecting");
}

TEST_F(partner_link_test, a_master_listens_but_does_not_dial) {
  auto c = base_config();
  c.dial = false;
  spawn_link(c);
  EXPECT_EQ(log.calls, (std::vector<std::string>{"listen"}));
  EXPECT_EQ(status().link, "down");
  // `connect` dials once.
  self->send(link, atom::connect_v);
  run();
  EXPECT_EQ(log.dials.size(), 1u);
}

TEST_F(partner_link_test, reconnect_back_off_doubles_to_five_seconds_and_resets_when_up) {
  spawn_link(base_config());
  std::vector<int64_t> gaps; // ms between a failed dial and the next
  for (int i = 0; i < 9; ++i) {
    auto conn = log.dials.back();
    self->send(link, pl_down{conn, partner_down_cause::closed, "connection refused", false});
    run();
    int64_t waited = 0;
    while (log.dials.back() == conn && waited < 10000) {
      advance(1ms);
      ++waited;
    }
    gaps.push_back(waited);
  }
  EXPECT_EQ(gaps, (std::vector<int64_t>{100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000}));
  // Failed dials are not the listener's business (no link was up).
  EXPECT_TRUE(seen.downs.empty());
  auto conn = bring_up();
  EXPECT_EQ(status().link, "up");
  self->send(link, pl_down{conn, partner_down_cause::closed, "closed by the peer", false});
  run();
  auto before = log.dials.size();
  advance(99ms);
  EXPECT_EQ(log.dials.size(), before);
  advance(1ms);
  EXPECT_EQ(log.dials.size(), before + 1);
}

TEST_F(partner_link_test, connect_tries_now_instead_of_waiting) {
  spawn_link(base_config());
  for (int i = 0; i < 5; ++i) {
    self->send(link, pl_down{log.dials.back(), partner_down_cause::closed, "refused", false});
    run();
    advance(5s);
  }
  self->send(link, pl_down{log.dials.back(), partner_down_cause::closed, "refused", false});
  run();
  auto before = log.dials.size();
  self->send(link, atom::connect_v);
  run();
  EXPECT_EQ(log.dials.size(), before + 1);
  // The old retry timer is moot: no second dial when it fires.
  advance(5s);
  EXPECT_EQ(log.dials.size(), before + 1);
}

TEST_F(partner_link_test, handshake_reports_up_and_starts_heartbeats) {
  spawn_link(base_config());
  auto conn = bring_up();
  EXPECT_EQ(log.calls.back(), "accept " + std::to_string(conn));
  ASSERT_EQ(seen.ups.size(), 1u);
  EXPECT_EQ(seen.ups[0].hello.node_name, "node-b");
  EXPECT_EQ(seen.ups[0].hello.role, partner_role::master);
  EXPECT_EQ(seen.ups[0].address, "10.0.0.2:8099");
  EXPECT_FALSE(seen.ups[0].inbound);
  EXPECT_EQ(seen.event_kinds(), (std::vector<std::string>{"partner_connected"}));
  EXPECT_EQ(log.heartbeats, (std::vector<uint64_t>{1})); // the first one at once
  advance(100ms);
  EXPECT_EQ(log.heartbeats, (std::vector<uint64_t>{1, 2})); // one every ping_interval
}

TEST_F(partner_link_test, answered_heartbeats_give_rtt_and_keep_the_link) {
  spawn_link(base_config());
  auto conn = bring_up();
  for (int i = 0; i < 100; ++i) {
    answer_last(conn, 3ms);
    advance(97ms);
  }
  EXPECT_TRUE(seen.downs.empty());
  ASSERT_EQ(seen.heartbeats.size(), 100u);
  EXPECT_EQ(seen.heartbeats.back().rtt, caf::timespan(3ms));
  EXPECT_EQ(log.heartbeats.size(), 101u);
  auto s = status();
  EXPECT_EQ(s.link, "up");
  EXPECT_EQ(s.partner, "node-b");
  EXPECT_EQ(s.rtt, caf::timespan(3ms));
  EXPECT_EQ(s.last_heartbeat_age, caf::timespan(97ms));
}

TEST_F(partner_link_test, partner_heartbeats_are_answered_with_their_time) {
  spawn_link(base_config());
  auto conn = bring_up();
  self->send(link, pl_heartbeat{conn, false, 17, 123456});
  run();
  ASSERT_EQ(log.acks.size(), 1u);
  EXPECT_EQ(log.acks[0], (std::pair<uint64_t, uint64_t>{17, 123456}));
}

TEST_F(partner_link_test, lost_by_silence_after_ping_timeout) {
  auto c = base_config();
  c.ping_timeout = 250ms;
  c.missed_pings = 100;
  spawn_link(c);
  bring_up();
  advance(249ms);
  EXPECT_TRUE(seen.downs.empty());
  advance(1ms);
  ASSERT_EQ(seen.downs.size(), 1u);
  EXPECT_EQ(seen.downs[0].cause, partner_down_cause::heartbeat_timeout);
  EXPECT_TRUE(seen.downs[0].lost);
  EXPECT_EQ(seen.downs[0].partner, "node-b");
  EXPECT_EQ(seen.downs[0].text, "nothing received for 250 ms (ping_timeout_ms 250)");
  EXPECT_EQ(log.closes.size(), 1u);
  EXPECT_EQ(seen.event_kinds().back(), "partner_lost");
  EXPECT_EQ(status().link, "down"); // redialed after the back-off
}

TEST_F(partner_link_test, frames_of_any_kind_reset_the_silence_clock) {
  auto c = base_config();
  c.ping_timeout = 250ms;
  c.missed_pings = 100;
  spawn_link(c);
  auto conn = bring_up();
  for (int i = 0; i < 10; ++i) {
    advance(200ms);
    self->send(link, pl_sync{conn, sync_payload{1, {}}});
    run();
  }
  EXPECT_TRUE(seen.downs.empty());
  advance(250ms);
  ASSERT_EQ(seen.downs.size(), 1u);
}

TEST_F(partner_link_test, lost_by_missed_pings_while_the_partner_still_talks) {
  auto c = base_config(); // 100 ms, 3 missed, 1000 ms timeout
  spawn_link(c);
  auto conn = bring_up();
  // The partner keeps sending its own heartbeats (so it is not silent) but answers none of ours.
  for (int t = 0; t < 299; ++t) {
    if (t % 50 == 0) {
      self->send(link, pl_heartbeat{conn, false, static_cast<uint64_t>(t), 0});
      run();
    }
    advance(1ms);
  }
  EXPECT_TRUE(seen.downs.empty());
  advance(1ms); // t = 300: the third heartbeat in a row is due unanswered
  ASSERT_EQ(seen.downs.size(), 1u);
  EXPECT_EQ(seen.downs[0].cause, partner_down_cause::missed_pings);
  EXPECT_TRUE(seen.downs[0].lost);
  EXPECT_EQ(seen.downs[0].text,
            "3 heartbeats in a row unanswered (ping_interval_ms 100, missed_pings 3)");
}

TEST_F(partner_link_test, a_late_answer_breaks_the_run_of_missed_pings) {
  spawn_link(base_config());
  auto conn = bring_up();
  step(250ms); // two missed
  answer_last(conn);
  step(250ms); // t = 500: heartbeats of 400 and 500 unanswered
  EXPECT_TRUE(seen.downs.empty());
  step(100ms); // t = 600: the third
  ASSERT_EQ(seen.downs.size(), 1u);
}

TEST_F(partner_link_test, whichever_rule_comes_first_decides) {
  {
    auto c = base_config();
    c.ping_timeout = 250ms; // before 3 x 100 ms
    spawn_link(c);
    bring_up();
    step(300ms);
    ASSERT_EQ(seen.downs.size(), 1u);
    EXPECT_EQ(seen.downs[0].cause, partner_down_cause::heartbeat_timeout);
  }
  TearDown();
  seen = {};
  log = {};
  {
    auto c = base_config();
    c.ping_timeout = 350ms; // after 3 x 100 ms
    spawn_link(c);
    bring_up();
    step(299ms);
    EXPECT_TRUE(seen.downs.empty());
    step(1ms);
    ASSERT_EQ(seen.downs.size(), 1u);
    EXPECT_EQ(seen.downs[0].cause, partner_down_cause::missed_pings);
    step(200ms); // the silence timer of the old link says nothing more
    EXPECT_EQ(seen.downs.size(), 1u);
  }
}

TEST_F(partner_link_test, version_mismatch_is_told_once_and_retried) {
  spawn_link(base_config());
  std::string text = "partner node-z speaks protocol version 7, this node speaks 1";
  self->send(link, pl_down{log.dials.back(), partner_down_cause::version_mismatch, text, false});
  run();
  ASSERT_EQ(seen.downs.size(), 1u);
  EXPECT_EQ(seen.downs[0].cause, partner_down_cause::version_mismatch);
  EXPECT_FALSE(seen.downs[0].lost);
  EXPECT_EQ(seen.downs[0].text, text);
  EXPECT_EQ(seen.event_kinds(), (std::vector<std::string>{"partner_refused"}));
  EXPECT_EQ(seen.events[0].text, text);
  advance(100ms);
  ASSERT_EQ(log.dials.size(), 2u);
  self->send(link, pl_down{log.dials.back(), partner_down_cause::version_mismatch, text, false});
  run();
  EXPECT_EQ(seen.downs.size(), 1u); // the same again is not news
  EXPECT_EQ(status().last_down, "version_mismatch: " + text);
}

TEST_F(partner_link_test, refused_by_the_partner_is_reported) {
  spawn_link(base_config());
  std::string text = "partner node-b refused this node: another partner is connected: node-c";
  self->send(link, pl_down{log.dials.back(), partner_down_cause::refused, text, false});
  run();
  ASSERT_EQ(seen.downs.size(), 1u);
  EXPECT_EQ(seen.downs[0].cause, partner_down_cause::refused);
  EXPECT_EQ(seen.downs[0].text, text);
}

TEST_F(partner_link_test, a_second_partner_is_refused_with_the_connected_ones_name) {
  spawn_link(base_config());
  bring_up();
  self->send(link, pl_hello{50, true, hello_of("node-c", partner_role::master)});
  run();
  ASSERT_EQ(log.refusals.size(), 1u);
  EXPECT_EQ(log.refusals[0].first, 50u);
  EXPECT_EQ(log.refusals[0].second, "another partner is connected: node-b");
  self->send(link, pl_down{50, partner_down_cause::refused, "partner node-c refused: …", false});
  run();
  EXPECT_TRUE(seen.downs.empty()); // the link to node-b is still up
  EXPECT_EQ(status().partner, "node-b");
  EXPECT_EQ(seen.event_kinds(), (std::vector<std::string>{"partner_connected", "partner_refused"}));
}

TEST_F(partner_link_test, a_partner_with_this_nodes_name_is_refused) {
  spawn_link(base_config());
  self->send(link, pl_hello{log.dials.back(), false, hello_of("node-a", partner_role::master)});
  run();
  ASSERT_EQ(log.refusals.size(), 1u);
  EXPECT_EQ(log.refusals[0].second,
            "the partner has this node's own name node-a (a node connected to itself?)");
}

TEST_F(partner_link_test, death_probe_certain_reports_partner_gone_at_once) {
  spawn_link(base_config());
  auto conn = bring_up();
  advance(10ms);
  self->send(link,
             pl_down{conn, partner_down_cause::closed, "the partner closed the connection", true});
  run();
  ASSERT_EQ(log.probes.size(), 1u);
  EXPECT_EQ(log.probes[0], std::to_string(conn) + " 10.0.0.2 8099 4841");
  EXPECT_TRUE(seen.downs.empty()); // told with the probe's outcome
  EXPECT_EQ(status().link, "down");
  self->send(link, pl_probe{conn, true, "probe: both refused"});
  run();
  ASSERT_EQ(seen.downs.size(), 1u);
  EXPECT_EQ(seen.downs[0].cause, partner_down_cause::partner_gone);
  EXPECT_TRUE(seen.downs[0].lost);
  EXPECT_EQ(seen.downs[0].text, "the partner closed the connection; probe: both refused");
  EXPECT_EQ(seen.event_kinds().back(), "partner_lost");
  // No later heartbeat-rule report: the partner is already lost.
  advance(5s);
  EXPECT_EQ(seen.downs.size(), 1u);
}

TEST_F(partner_link_test, death_probe_uncertain_leaves_it_to_the_heartbeat_rule) {
  auto c = base_config();
  c.ping_timeout = 250ms; // the rule: 250 ms after the last frame
  c.dial = false;         // nothing reconnects
  spawn_link(c);
  self->send(link, atom::connect_v);
  run();
  auto conn = bring_up();
  advance(50ms);
  answer_last(conn); // last frame at t = 50 ms
  advance(20ms);
  self->send(link, pl_down{conn, partner_down_cause::closed, "connection reset", true});
  run();
  self->send(link, pl_probe{conn, false, "probe: link port refused, face port accepts"});
  run();
  ASSERT_EQ(seen.downs.size(), 1u);
  EXPECT_EQ(seen.downs[0].cause, partner_down_cause::closed);
  EXPECT_FALSE(seen.downs[0].lost);
  EXPECT_EQ(seen.event_kinds().back(), "partner_disconnected");
  advance(229ms); // t = 299
  EXPECT_EQ(seen.downs.size(), 1u);
  advance(1ms); // t = 300 = 50 + 250
  ASSERT_EQ(seen.downs.size(), 2u);
  EXPECT_EQ(seen.downs[1].cause, partner_down_cause::heartbeat_timeout);
  EXPECT_TRUE(seen.downs[1].lost);
}

TEST_F(partner_link_test, back_before_the_heartbeat_rule_expires_is_not_lost) {
  auto c = base_config();
  c.ping_timeout = 250ms;
  spawn_link(c);
  auto conn = bring_up();
  self->send(link, pl_down{conn, partner_down_cause::closed, "connection reset", true});
  run();
  self->send(link, pl_probe{conn, false, "probe: uncertain"});
  run();
  advance(100ms); // redial
  bring_up();
  advance(200ms);
  for (auto& d : seen.downs)
    EXPECT_FALSE(d.lost) << d.text;
  EXPECT_EQ(seen.ups.size(), 2u);
}

TEST_F(partner_link_test, a_close_without_a_face_port_skips_the_probe) {
  spawn_link(base_config());
  auto conn = 5u;
  self->send(link, pl_hello{conn, true, [] {
                              auto h = hello_of("node-b", partner_role::master);
                              h.face_port = 0;
                              return h;
                            }()});
  run();
  self->send(link, pl_up{conn, "10.0.0.2", 40000});
  run();
  self->send(link, pl_down{conn, partner_down_cause::closed, "eof", true});
  run();
  EXPECT_TRUE(log.probes.empty());
  ASSERT_EQ(seen.downs.size(), 1u);
  EXPECT_FALSE(seen.downs[0].lost);
}

TEST_F(partner_link_test, sync_payloads_travel_both_ways_in_order) {
  spawn_link(base_config());
  self->send(link, sync_payload{1, {9}}); // not up: dropped
  run();
  EXPECT_TRUE(log.syncs.empty());
  auto conn = bring_up();
  for (uint8_t i = 0; i < 5; ++i)
    self->send(link, sync_payload{2, {i}});
  run();
  ASSERT_EQ(log.syncs.size(), 5u);
  EXPECT_EQ(log.syncs[4].bytes, (std::vector<uint8_t>{4}));
  for (uint8_t i = 0; i < 5; ++i)
    self->send(link, pl_sync{conn, sync_payload{3, {i}}});
  self->send(link, pl_sync{999, sync_payload{3, {42}}}); // not the link: ignored
  run();
  ASSERT_EQ(seen.syncs.size(), 5u);
  for (uint8_t i = 0; i < 5; ++i)
    EXPECT_EQ(seen.syncs[i].bytes, (std::vector<uint8_t>{i}));
}

TEST_F(partner_link_test, own_hello_updates_reach_the_transport) {
  spawn_link(base_config());
  auto h = hello_of("someone-else", partner_role::backup);
  h.state = partner_state::standby;
  h.epoch = {3, 4};
  self->send(link, h);
  run();
  EXPECT_EQ(log.hello.node_name, "node-a"); // the name stays the config's
  EXPECT_EQ(log.hello.state, partner_state::standby);
  EXPECT_EQ(log.hello.epoch, (data_epoch{3, 4}));
}

TEST_F(partner_link_test, disconnect_closes_and_stops_dialing_until_connect) {
  spawn_link(base_config());
  bring_up();
  self->send(link, atom::disconnect_v, std::string("maintenance"));
  run();
  ASSERT_EQ(log.closes.size(), 1u);
  EXPECT_EQ(log.closes[0], "maintenance");
  ASSERT_EQ(seen.downs.size(), 1u);
  EXPECT_FALSE(seen.downs[0].lost);
  auto dials = log.dials.size();
  advance(10s);
  EXPECT_EQ(log.dials.size(), dials);
  EXPECT_EQ(seen.downs.size(), 1u); // closed on purpose: no heartbeat rule afterwards
  self->send(link, atom::connect_v);
  run();
  EXPECT_EQ(log.dials.size(), dials + 1);
}

TEST_F(partner_link_test, drop_link_fault) {
  spawn_link(base_config());
  auto r = ask<std::string>(link, fault{fault_kind::drop_link, "", "", 0, 1});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "the partner link is not up");
  auto conn = bring_up();
  r = ask<std::string>(link, fault{fault_kind::drop_link, "", "", 0, 1});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "");
  EXPECT_EQ(log.calls.back(), "drop " + std::to_string(conn));
}

TEST_F(partner_link_test, delay_link_fault_sets_the_transport_delay) {
  spawn_link(base_config());
  auto r = ask<std::string>(link, fault{fault_kind::delay_link, "", "", 250, 1});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "");
  EXPECT_EQ(log.delay, 250ms);
  r = ask<std::string>(link, fault{fault_kind::stall_server, "", "", 250, 1});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "the partner link cannot apply fault stall_server");
}

TEST(partner_link_config, from_the_node_config) {
  config::node_config n;
  n.node.name = "node-a";
  n.redundancy.node_role = config::role::backup;
  n.redundancy.listen = {"0.0.0.0", 8099};
  n.redundancy.partner = config::endpoint{"10.0.0.2", 8100};
  n.redundancy.link_bind = "10.1.0.5";
  n.redundancy.ping_interval_ms = 100;
  n.redundancy.ping_timeout_ms = 320;
  n.redundancy.missed_pings = 3;
  auto c = partner_link_config_from(n);
  EXPECT_TRUE(c.dial);
  EXPECT_EQ(c.partner, "10.0.0.2:8100");
  EXPECT_EQ(c.partner_link_port, 8100);
  EXPECT_EQ(c.ping_interval, caf::timespan(100ms));
  EXPECT_EQ(c.ping_timeout, caf::timespan(320ms));
  EXPECT_EQ(c.missed_pings, 3);
  auto o = tcp_link_options_from(n);
  EXPECT_EQ(o.listen_host, "0.0.0.0");
  EXPECT_EQ(o.listen_port, 8099);
  EXPECT_EQ(o.partner_host, "10.0.0.2");
  EXPECT_EQ(o.partner_port, 8100);
  EXPECT_EQ(o.bind_host, "10.1.0.5");
  n.redundancy.node_role = config::role::master;
  EXPECT_FALSE(partner_link_config_from(n).dial);
}

TEST_F(partner_link_test, connect_while_up_does_not_dial) {
  spawn_link(base_config());
  bring_up();
  auto dials = log.dials.size();
  self->send(link, atom::connect_v);
  run();
  EXPECT_EQ(log.dials.size(), dials);
}

TEST_F(partner_link_test, stops_the_transport_when_it_ends) {
  spawn_link(base_config());
  self->send_exit(link, caf::exit_reason::user_shutdown);
  run();
  EXPECT_TRUE(log.stopped);
  link = partner_link_actor{};
}

} // namespace
