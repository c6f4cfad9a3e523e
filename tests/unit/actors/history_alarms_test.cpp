// Deterministic tests of HISTORY (batching, stamping with node and epoch, queries, retention,
// export and merge between two nodes) and ALARMS (raise -> clear -> ack from diagnostics
// events, persistence across a restart, stamping, export and merge between two nodes).

#include <gtest/gtest.h>

#include "caf/typed_event_based_actor.hpp"

#include "actors/alarms.hpp"
#include "actors/history.hpp"
#include "actors/monitor.hpp"
#include "tests/support/actor_fixture.hpp"
#include "tests/support/process.hpp"

using namespace tandem;
using namespace std::chrono_literals;

namespace {

std::shared_ptr<storage::history_store> open_history(const test::temp_dir& d,
                                                     const std::string& name) {
  std::string err, notice;
  std::shared_ptr<storage::history_store> s =
      storage::history_store::open(d.file(name), err, notice);
  EXPECT_TRUE(s) << err;
  return s;
}

std::shared_ptr<storage::alarm_store> open_alarms(const test::temp_dir& d,
                                                  const std::string& name) {
  std::string err, notice;
  std::shared_ptr<storage::alarm_store> s = storage::alarm_store::open(d.file(name), err, notice);
  EXPECT_TRUE(s) << err;
  return s;
}

// A DataValue holding Int32 v (mask: value).
std::vector<uint8_t> int32_value(int32_t v) {
  auto u = static_cast<uint32_t>(v);
  return {0x01,
          0x06,
          static_cast<uint8_t>(u),
          static_cast<uint8_t>(u >> 8),
          static_cast<uint8_t>(u >> 16),
          static_cast<uint8_t>(u >> 24)};
}

// Ends the actors a test spawned (they keep timers), so the system can shut down.
class stopping_fixture : public test::actor_fixture {
protected:
  ~stopping_fixture() override {
    for (auto& a : spawned)
      self->send_exit(a, caf::exit_reason::user_shutdown);
    run();
  }
  std::vector<caf::actor_addr> spawned;
};

class history_test : public stopping_fixture {
protected:
  history_actor spawn_history(const std::string& node, std::shared_ptr<storage::history_store> s,
                              size_t max_batch = 20000) {
    history_config c;
    c.node_name = node;
    c.store = std::move(s);
    c.wall_now = [this] { return wall_now(); };
    c.retention_ms = 3'600'000;
    c.max_batch = max_batch;
    auto h = sys.spawn(history, c);
    spawned.push_back(h.address());
    run();
    return h;
  }
  history_batch batch(const std::string& item, std::vector<int32_t> values, int64_t time0) {
    history_batch b{"line1", {}};
    for (size_t i = 0; i < values.size(); ++i)
      b.values.push_back(
          recorded_value{item, time0 + static_cast<int64_t>(i), 0, int32_value(values[i])});
    return b;
  }
  history_values query(const history_actor& h, const std::string& item, bool has_since = false,
                       int64_t since = 0, bool relative = false) {
    history_query q;
    q.pair = "line1";
    q.item = item;
    q.has_since = has_since;
    q.since_ms = since;
    q.since_relative = relative;
    auto r = ask<history_values>(h, q);
    EXPECT_TRUE(r) << "no reply to a query";
    return r ? *r : history_values{};
  }
  void stop(const caf::actor_addr& a) {
    self->send_exit(a, caf::exit_reason::user_shutdown);
    run();
  }

  test::temp_dir dir;
  std::shared_ptr<storage::history_store> store = open_history(dir, "a.db");
};

TEST_F(history_test, commits_batches_on_the_timer_stamped_with_node_and_epoch) {
  auto h = spawn_history("n1", store);
  int64_t t0 = wall_now();
  self->send(h, batch("ns=1;s=A", {1, 2, 3}, t0));
  self->send(h, batch("ns=1;s=A", {4, 5}, t0 + 10));
  run();
  EXPECT_EQ(store->count(), 0u); // waiting for the commit timer
  advance(200ms);
  EXPECT_EQ(store->count(), 5u);
  EXPECT_EQ(store->max_stamp("n1"), (data_epoch{0, 5}));
  self->send(h, atom::epoch_v, uint64_t{3});
  self->send(h, batch("ns=1;s=A", {6}, t0 + 20));
  run();
  advance(200ms);
  EXPECT_EQ(store->max_stamp("n1"), (data_epoch{3, 6}));
  auto v = query(h, "ns=1;s=A");
  ASSERT_EQ(v.error, "");
  ASSERT_EQ(v.rows.size(), 6u);
  for (size_t i = 1; i < v.rows.size(); ++i)
    EXPECT_LT(v.rows[i - 1].time_ms, v.rows[i].time_ms);
  EXPECT_EQ(v.rows[0].origin, "n1");
  EXPECT_EQ(v.rows[0].stamp, (data_epoch{0, 1}));
  EXPECT_EQ(v.rows[5].stamp, (data_epoch{3, 6}));
  EXPECT_EQ(v.rows[5].value, int32_value(6));
  EXPECT_EQ(v.rows[0].recorded_ms, t0);

  // A restarted HISTORY continues the sequence, in the last term at least (its stamps never
  // fall below what a partner may already hold).
  stop(h.address());
  auto h2 = spawn_history("n1", store);
  self->send(h2, atom::epoch_v, uint64_t{1});
  self->send(h2, batch("ns=1;s=A", {7}, t0 + 30));
  auto stamp = ask<data_epoch>(h2, atom::flush_v);
  ASSERT_TRUE(stamp);
  EXPECT_EQ(*stamp, (data_epoch{3, 7}));
}

TEST_F(history_test, a_full_batch_commits_at_once_and_queries_see_pending_values) {
  auto h = spawn_history("n1", store, 4);
  self->send(h, batch("ns=1;s=A", {1, 2, 3, 4, 5}, wall_now()));
  run();
  EXPECT_EQ(store->count(), 5u);
  self->send(h, batch("ns=1;s=A", {6}, wall_now() + 100));
  run();
  EXPECT_EQ(store->count(), 5u);
  EXPECT_EQ(query(h, "ns=1;s=A").rows.size(), 6u); // the query commits first
  EXPECT_EQ(store->count(), 6u);
}

TEST_F(history_test, queries_since_a_time_relative_or_absolute_and_unknown_items) {
  auto h = spawn_history("n1", store);
  advance(10min);
  int64_t now = wall_now();
  self->send(h, batch("ns=1;s=A", {1}, now - 20 * 60'000));
  self->send(h, batch("ns=1;s=A", {2}, now - 5 * 60'000));
  self->send(h, batch("ns=1;s=A", {3}, now - 1000));
  run();
  EXPECT_EQ(query(h, "ns=1;s=A", true, -10 * 60'000, true).rows.size(), 2u);
  EXPECT_EQ(query(h, "ns=1;s=A", true, now - 2000).rows.size(), 1u);
  auto none = query(h, "ns=1;s=Nope");
  EXPECT_NE(none.error.find("nothing recorded for ns=1;s=Nope"), std::string::npos) << none.error;
  // A value without a source time takes the time it was recorded.
  history_batch b{"line1", {recorded_value{"ns=1;s=B", 0, 0x80000000u, int32_value(9)}}};
  self->send(h, b);
  auto v = query(h, "ns=1;s=B");
  ASSERT_EQ(v.rows.size(), 1u);
  EXPECT_EQ(v.rows[0].time_ms, now);
  EXPECT_EQ(v.rows[0].source_ms, 0);
  EXPECT_EQ(v.rows[0].status, 0x80000000u);
}

TEST_F(history_test, retention_deletes_old_values_on_its_timer) {
  auto h = spawn_history("n1", store);
  int64_t now = wall_now();
  self->send(h, batch("ns=1;s=A", {1, 2}, now - 3'600'000 + 30'000)); // 30 s before the limit
  self->send(h, batch("ns=1;s=A", {3}, now));
  run();
  advance(200ms);
  EXPECT_EQ(store->count(), 3u);
  advance(60s);
  EXPECT_EQ(store->count(), 1u);
}

TEST_F(history_test, two_nodes_exchange_what_the_other_lacks_and_a_repeat_merges_nothing) {
  auto store_b = open_history(dir, "b.db");
  auto a = spawn_history("a", store);
  auto b = spawn_history("b", store_b);
  int64_t now = wall_now();
  // Split brain: both record the same item meanwhile, each with its own stamps.
  self->send(a, atom::epoch_v, uint64_t{2});
  self->send(b, atom::epoch_v, uint64_t{2});
  self->send(a, batch("ns=1;s=A", {1, 2, 3}, now));
  self->send(b, batch("ns=1;s=A", {3, 4}, now + 2)); // value 3 at now+2 on both
  run();
  auto sync = [&](const history_actor& from, const history_actor& to) {
    auto marks = ask<std::vector<origin_mark>>(to, atom::marks_v);
    EXPECT_TRUE(marks);
    uint64_t total = 0;
    for (;;) {
      auto rows = ask<history_rows>(from, atom::export_rows_v, *marks, uint64_t{2});
      EXPECT_TRUE(rows);
      auto n = ask<uint64_t>(to, atom::merge_v, rows->rows);
      EXPECT_TRUE(n);
      total += *n;
      if (!rows->more) break;
      marks = ask<std::vector<origin_mark>>(to, atom::marks_v);
    }
    return total;
  };
  EXPECT_EQ(sync(a, b), 3u);
  EXPECT_EQ(sync(b, a), 2u);
  EXPECT_EQ(sync(a, b), 0u);
  EXPECT_EQ(store->count(), 5u);
  EXPECT_EQ(store_b->count(), 5u);
  // Nothing either side recorded is lost; the sample both recorded shows once.
  auto va = query(a, "ns=1;s=A");
  auto vb = query(b, "ns=1;s=A");
  ASSERT_EQ(va.rows.size(), 4u);
  ASSERT_EQ(vb.rows.size(), 4u);
  EXPECT_EQ(va.rows[3].value, int32_value(4));
  EXPECT_EQ(store->max_stamp("b"), (data_epoch{2, 2}));
  EXPECT_EQ(store_b->max_stamp("a"), (data_epoch{2, 3}));
}

TEST_F(history_test, a_node_that_lost_its_database_continues_after_its_rows_merged_back) {
  auto store_b = open_history(dir, "b.db");
  auto a = spawn_history("a", store);
  self->send(a, batch("ns=1;s=A", {1, 2, 3}, wall_now()));
  auto rows = ask<history_rows>(a, atom::export_rows_v, std::vector<origin_mark>{}, uint64_t{100});
  ASSERT_TRUE(rows);
  stop(a.address());
  // "a" starts again on an empty database and gets its rows back from the partner.
  auto fresh = open_history(dir, "a2.db");
  auto a2 = spawn_history("a", fresh);
  EXPECT_EQ(ask<uint64_t>(a2, atom::merge_v, rows->rows), uint64_t{3});
  self->send(a2, batch("ns=1;s=A", {4}, wall_now() + 10));
  auto stamp = ask<data_epoch>(a2, atom::flush_v);
  EXPECT_EQ(*stamp, (data_epoch{0, 4}));
}

TEST_F(history_test, a_failed_commit_keeps_the_values_and_retries) {
  auto h = spawn_history("n1", store);
  store->fail_next_writes(1);
  self->send(h, batch("ns=1;s=A", {1, 2}, wall_now()));
  run();
  advance(200ms);
  EXPECT_EQ(store->count(), 0u);
  advance(200ms);
  EXPECT_EQ(store->count(), 2u);
}

TEST_F(history_test, a_listener_gets_the_values_as_they_are_stamped) {
  auto h = spawn_history("n1", store);
  self->send(h, atom::subscribe_v, caf::actor_cast<history_listener_actor>(self));
  self->send(h, batch("ns=1;s=A", {1, 2}, wall_now()));
  run();
  std::vector<history_row> got;
  self->receive([&](atom::history, std::vector<history_row>& rows) { got = std::move(rows); },
                caf::after(0s) >> [] {});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].stamp, (data_epoch{0, 2}));
  EXPECT_EQ(got[1].origin, "n1");
  EXPECT_EQ(store->count(), 0u); // before the commit
  self->send(h, atom::unsubscribe_v, caf::actor_cast<history_listener_actor>(self));
  self->send(h, batch("ns=1;s=A", {3}, wall_now() + 1));
  run();
  EXPECT_TRUE(self_mailbox_empty());
}

TEST(history_batch_of, records_clients_and_monitors_items_by_node_id) {
  std::unordered_map<uint32_t, item_spec> face;
  face[7].node_id = "ns=1;s=Face";
  std::vector<config::monitor_entry> monitors(1);
  monitors[0].item = "ns=1;s=Mon";
  int64_t ticks = 116444736000000000 + int64_t{1'700'000'000'123} * 10000;
  std::vector<item_update> ups = {{7, ticks, 0, {1}},
                                  {monitor_handle_base, 0, 5, {2}},
                                  {8, ticks, 0, {3}},                    // not a face item
                                  {monitor_handle_base + 1, 0, 0, {4}}}; // no such monitor
  auto b = history_batch_of("line1", ups, face, monitors);
  EXPECT_EQ(b.pair, "line1");
  ASSERT_EQ(b.values.size(), 2u);
  EXPECT_EQ(b.values[0].item, "ns=1;s=Face");
  EXPECT_EQ(b.values[0].source_ms, 1'700'000'000'123);
  EXPECT_EQ(b.values[1].item, "ns=1;s=Mon");
  EXPECT_EQ(b.values[1].source_ms, 0);
  EXPECT_EQ(b.values[1].status, 5u);
  // The values' bytes travel along (moved when the caller hands its vector over).
  EXPECT_EQ(b.values[0].value, std::vector<uint8_t>{1});
  EXPECT_EQ(b.values[1].value, std::vector<uint8_t>{2});
  auto moved = history_batch_of("line1", std::move(ups), face, monitors);
  ASSERT_EQ(moved.values.size(), 2u);
  EXPECT_EQ(moved.values[0].value, std::vector<uint8_t>{1});
}

// -- ALARMS ------------------------------------------------------------------------------------

class alarms_test : public stopping_fixture {
protected:
  alarms_actor spawn_alarms(const std::string& node, std::shared_ptr<storage::alarm_store> s) {
    alarms_config c;
    c.node_name = node;
    c.store = std::move(s);
    c.wall_now = [this] { return wall_now(); };
    auto a = sys.spawn(alarms, c);
    spawned.push_back(a.address());
    run();
    return a;
  }
  void event(const alarms_actor& a, const std::string& node, const std::string& source,
             const std::string& kind, const std::string& text) {
    diag_event e;
    e.node = node;
    e.source = source;
    e.kind = kind;
    e.text = text;
    e.time_ms = wall_now();
    self->send(a, e);
    run();
  }
  std::vector<tandem::alarm> list(const alarms_actor& a, bool all = false) {
    auto r = ask<alarm_list>(a, atom::alarms_v, all);
    EXPECT_TRUE(r);
    return r ? r->alarms : std::vector<tandem::alarm>{};
  }
  alarm_list ack(const alarms_actor& a, const std::string& id) {
    auto r = ask<alarm_list>(a, atom::ack_v, id);
    EXPECT_TRUE(r);
    return r ? *r : alarm_list{};
  }

  test::temp_dir dir;
  std::shared_ptr<storage::alarm_store> store = open_alarms(dir, "a.db");
};

TEST_F(alarms_test, a_server_lost_raises_one_alarm_its_reconnect_clears_it_and_ack_acks_it) {
  auto a = spawn_alarms("n1", store);
  EXPECT_TRUE(list(a).empty());
  int64_t raised = wall_now();
  event(a, "n1", "server/line1/primary", "server_lost", "line1/primary: lost: refused");
  advance(1s);
  event(a, "n1", "server/line1/primary", "server_status_timeout", "line1/primary: timeout");
  auto l = list(a);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].id, "n1:1");
  EXPECT_TRUE(l[0].active);
  EXPECT_FALSE(l[0].acked);
  EXPECT_EQ(l[0].raised_ms, raised);
  EXPECT_EQ(l[0].text, "line1/primary: timeout");
  EXPECT_EQ(l[0].source, "server/line1/primary");
  EXPECT_EQ(l[0].key, "comm:line1/primary");
  advance(1s);
  event(a, "n1", "server/line1/primary", "server_connected", "line1/primary: connected");
  l = list(a);
  ASSERT_EQ(l.size(), 1u); // cleared, not yet acknowledged: still listed
  EXPECT_FALSE(l[0].active);
  EXPECT_EQ(l[0].cleared_ms, raised + 2000);
  auto r = ack(a, "n1:1");
  ASSERT_EQ(r.error, "");
  ASSERT_EQ(r.alarms.size(), 1u);
  EXPECT_TRUE(r.alarms[0].acked);
  EXPECT_EQ(r.alarms[0].acked_ms, raised + 2000);
  EXPECT_TRUE(list(a).empty());
  EXPECT_EQ(list(a, true).size(), 1u);
  EXPECT_NE(ack(a, "n1:99").error.find("no alarm 'n1:99'"), std::string::npos);
  // Lost again: a new occurrence.
  event(a, "n1", "server/line1/primary", "server_lost", "line1/primary: lost again");
  l = list(a);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].id, "n1:2");
  // Every change is stamped with the node and its epoch, seq increasing.
  EXPECT_EQ(l[0].origin, "n1");
  EXPECT_EQ(l[0].stamp, (data_epoch{0, 5}));
  self->send(a, atom::epoch_v, uint64_t{7});
  EXPECT_EQ(ack(a, "n1:2").alarms[0].stamp, (data_epoch{7, 6}));
}

TEST_F(alarms_test, monitor_conditions_partner_and_direct_reports_events_of_others_ignored) {
  auto a = spawn_alarms("n1", store);
  event(a, "n1", "pair/line1", "condition_failing",
        "line1/primary: monitor 0 (ns=1;s=Heartbeat) stale: no change for 5000 ms");
  event(a, "n1", "pair/line1", "condition_failing",
        "line1/secondary: monitor 1 (ns=1;s=T) = 90 (above 80)");
  event(a, "n1", "partner", "partner_lost", "partner plant-b lost: heartbeat_timeout");
  event(a, "n2", "server/line1/primary", "server_lost", "the partner's own server");
  self->send(a, alarm_report{"config_mismatch", "election", "configurations differ", true});
  run();
  auto l = list(a);
  ASSERT_EQ(l.size(), 4u);
  EXPECT_EQ(l[0].key, "condition:line1/primary/0");
  EXPECT_EQ(l[1].key, "condition:line1/secondary/1");
  EXPECT_EQ(l[2].key, "partner");
  EXPECT_EQ(l[3].key, "config_mismatch");
  event(a, "n1", "pair/line1", "condition_cleared", "line1/primary disconnected");
  event(a, "n1", "pair/line1", "condition_cleared",
        "line1/secondary: monitor 1 (ns=1;s=T) = 70 (no longer above 80)");
  event(a, "n1", "partner", "partner_connected", "partner plant-b connected");
  self->send(a, alarm_report{"config_mismatch", "election", "", false});
  run();
  for (auto& x : list(a))
    EXPECT_FALSE(x.active) << x.key;
}

// Availability first: a mismatched configuration is an alarm, and a takeover despite it another;
// a matching configuration again clears both.
TEST_F(alarms_test, a_config_mismatch_and_a_takeover_despite_it_are_alarms_until_it_matches) {
  auto a = spawn_alarms("n1", store);
  event(a, "n1", "election", "config_mismatch", "the partner plant-a runs another configuration");
  event(a, "n1", "election", "takeover", "this node is Running (partner_lost)");
  event(a, "n1", "election", "takeover_mismatched",
        "took over from plant-a, whose configuration differs from this node's");
  run();
  auto l = list(a);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].key, "config");
  EXPECT_EQ(l[1].key, "config_takeover");
  EXPECT_NE(l[1].text.find("took over from plant-a"), std::string::npos) << l[1].text;
  EXPECT_TRUE(l[0].active && l[1].active);
  event(a, "n1", "election", "config_matched", "the partner plant-a runs this node's again");
  run();
  for (auto& x : list(a))
    EXPECT_FALSE(x.active) << x.key;
}

TEST_F(alarms_test, alarms_survive_a_restart_and_conditions_start_afresh) {
  auto a = spawn_alarms("n1", store);
  event(a, "n1", "server/line1/primary", "server_lost", "lost");
  event(a, "n1", "pair/line1", "condition_failing", "line1/secondary: monitor 0 (x) stale");
  event(a, "n1", "server/line1/secondary", "server_unhealthy", "unhealthy");
  event(a, "n1", "server/line1/secondary", "server_connected", "connected");
  ack(a, "n1:3");
  self->send_exit(a, caf::exit_reason::user_shutdown);
  run();
  auto b = spawn_alarms("n1", store);
  auto l = list(b, true);
  ASSERT_EQ(l.size(), 3u);
  EXPECT_TRUE(l[0].active);  // the server is still lost until it reports connected
  EXPECT_FALSE(l[1].active); // the condition is evaluated afresh
  EXPECT_FALSE(l[2].active);
  EXPECT_TRUE(l[2].acked);
  event(b, "n1", "server/line1/primary", "server_lost", "lost");
  EXPECT_EQ(list(b, true).size(), 3u); // the same alarm, still active
  event(b, "n1", "server/line1/secondary", "server_lost", "lost");
  EXPECT_EQ(list(b, true).back().id, "n1:4"); // numbers continue
}

TEST_F(alarms_test, a_listener_gets_every_change) {
  auto a = spawn_alarms("n1", store);
  self->send(a, atom::subscribe_v, caf::actor_cast<alarm_listener_actor>(self));
  run();
  event(a, "n1", "server/line1/primary", "server_lost", "lost");
  event(a, "n1", "server/line1/primary", "server_connected", "back");
  std::vector<tandem::alarm> got;
  for (int i = 0; i < 2; ++i)
    self->receive(
        [&](atom::alarms, std::vector<tandem::alarm>& xs) {
          got.insert(got.end(), xs.begin(), xs.end());
        },
        caf::after(0s) >> [] {});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(got[0].active);
  EXPECT_FALSE(got[1].active);
  EXPECT_EQ(got[1].stamp, (data_epoch{0, 2}));
}

TEST_F(alarms_test, two_nodes_merge_to_the_same_alarms_clear_and_ack_win) {
  auto store_b = open_alarms(dir, "b.db");
  auto a = spawn_alarms("a", store);
  auto b = spawn_alarms("b", store_b);
  auto sync = [&](const alarms_actor& from, const alarms_actor& to) {
    auto marks = ask<std::vector<origin_mark>>(to, atom::marks_v);
    auto rows = ask<std::vector<tandem::alarm>>(from, atom::export_rows_v, *marks);
    auto n = ask<uint64_t>(to, atom::merge_v, *rows);
    return *n;
  };
  event(a, "a", "server/line1/primary", "server_lost", "lost on a");
  EXPECT_EQ(sync(a, b), 1u);
  EXPECT_EQ(sync(a, b), 0u);
  ASSERT_EQ(list(b).size(), 1u);
  EXPECT_EQ(list(b)[0].id, "a:1");
  // b (now serving) sees the server back; meanwhile an operator acknowledges it on a.
  event(b, "b", "server/line1/primary", "server_connected", "back");
  ack(a, "a:1");
  EXPECT_EQ(sync(a, b), 1u);
  EXPECT_EQ(sync(b, a), 1u);
  EXPECT_EQ(sync(a, b), 0u);
  EXPECT_EQ(sync(b, a), 0u);
  for (auto* x : {&a, &b}) {
    auto l = list(*x, true);
    ASSERT_EQ(l.size(), 1u);
    EXPECT_FALSE(l[0].active);
    EXPECT_TRUE(l[0].acked);
    EXPECT_NE(l[0].cleared_ms, 0);
  }
  // b raises the same condition while a's alarm is active there: one alarm, not two.
  event(a, "a", "server/line1/secondary", "server_lost", "lost on a");
  sync(a, b);
  event(b, "b", "server/line1/secondary", "server_lost", "lost on b too");
  auto lb = list(b);
  ASSERT_EQ(lb.size(), 1u);
  EXPECT_EQ(lb[0].id, "a:2");
  EXPECT_EQ(lb[0].text, "lost on b too");
  sync(b, a);
  EXPECT_EQ(list(a)[0].text, "lost on b too");
}

} // namespace
