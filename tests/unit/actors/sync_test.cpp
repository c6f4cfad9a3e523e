// SYNC in virtual time: two nodes, each with real HISTORY, ALARMS and DIAGNOSTICS actors over
// their own SQLite files, and a fake partner link between their SYNC actors that can hold,
// deliver, drop and inspect what travels. Full sync of an empty Standby (paged), the paging cursor
// with live rows arriving meanwhile, incremental replication, the split-brain merge both ways, a
// link lost in the middle of a pull and resumed, duplicates, version refusal and garbage.

#include <deque>
#include <memory>
#include <set>

#include <gtest/gtest.h>

#include "caf/typed_event_based_actor.hpp"

#include "actors/alarms.hpp"
#include "actors/diagnostics.hpp"
#include "actors/history.hpp"
#include "actors/sync.hpp"
#include "tests/support/actor_fixture.hpp"
#include "tests/support/process.hpp"

using namespace tandem;
using namespace std::chrono_literals;
namespace ps = tandem::partner::sync;

namespace {

std::vector<uint8_t> int32_value(int32_t v) {
  auto u = static_cast<uint32_t>(v);
  return {0x01,
          0x06,
          static_cast<uint8_t>(u),
          static_cast<uint8_t>(u >> 8),
          static_cast<uint8_t>(u >> 16),
          static_cast<uint8_t>(u >> 24)};
}

/// What one direction of the fake link carries: held until delivered (or delivered at once).
struct wire {
  std::deque<sync_payload> held;
  bool hold = false;                  ///< keep payloads until the test delivers them
  bool cut = false;                   ///< drop everything (the link is down)
  sync_actor to;                      ///< the receiving SYNC
  std::vector<ps::sync_message> seen; ///< every payload sent, decoded
};

/// The PARTNER LINK as SYNC sees it: sends go to the other node's SYNC (as that node's ELECTION
/// would forward them), in order.
sync_link_actor::behavior_type fake_link(sync_link_actor::pointer self, std::shared_ptr<wire> w) {
  return {
      [self, w](sync_payload& p) {
        ps::sync_message m;
        if (ps::decode(p.bytes, m).empty()) w->seen.push_back(m);
        if (w->cut) return;
        if (w->hold)
          w->held.push_back(std::move(p));
        else
          self->send(w->to, std::move(p));
      },
      [w](atom::status) {
        partner_link_status s;
        s.link = w->cut ? "down" : "up";
        return s;
      },
  };
}

/// Stands in for the SUPERVISOR: keeps the partner's client items SYNC hands on, and those it
/// says the partner no longer wants.
item_set_listener_actor::behavior_type item_sink(item_set_listener_actor::pointer,
                                                 std::shared_ptr<std::vector<item_set>> got,
                                                 std::shared_ptr<std::vector<item_drop>> dropped) {
  return {[got](item_set& s) { got->push_back(std::move(s)); },
          [dropped](item_drop& d) { dropped->push_back(std::move(d)); }};
}

struct node {
  std::string name;
  std::shared_ptr<std::vector<item_set>> items = std::make_shared<std::vector<item_set>>();
  std::shared_ptr<std::vector<item_drop>> drops = std::make_shared<std::vector<item_drop>>();
  item_set_listener_actor item_owner;
  std::shared_ptr<storage::history_store> hstore;
  std::shared_ptr<storage::alarm_store> astore;
  std::shared_ptr<storage::event_store> estore;
  history_actor history;
  alarms_actor alarms;
  diagnostics_actor diag;
  sync_actor sync;
  std::shared_ptr<wire> out = std::make_shared<wire>(); ///< what this node sends
  sync_link_actor link;
};

class sync_test : public test::actor_fixture {
protected:
  ~sync_test() override {
    for (auto* n : {&a, &b})
      for (caf::actor_addr x : {n->sync.address(), n->history.address(), n->alarms.address(),
                                n->diag.address(), n->link.address(), n->item_owner.address()})
        if (x) self->send_exit(x, caf::exit_reason::user_shutdown);
    run();
  }

  void make(node& n, const std::string& name, uint64_t page_rows = 1000) {
    n.name = name;
    std::string err, notice;
    n.hstore = storage::history_store::open(dir.file(name + "-h.db"), err, notice);
    n.astore = storage::alarm_store::open(dir.file(name + "-a.db"), err, notice);
    n.estore = storage::event_store::open(dir.file(name + "-e.db"), err, notice);
    ASSERT_TRUE(n.hstore && n.astore && n.estore) << err;
    diagnostics_config dc;
    dc.node_name = name;
    dc.store = n.estore;
    dc.wall_now = [this] { return wall_now(); };
    n.diag = sys.spawn(diagnostics, dc);
    history_config hc;
    hc.node_name = name;
    hc.store = n.hstore;
    hc.wall_now = [this] { return wall_now(); };
    n.history = sys.spawn(history, hc);
    alarms_config ac;
    ac.node_name = name;
    ac.store = n.astore;
    ac.wall_now = [this] { return wall_now(); };
    ac.diagnostics = n.diag;
    n.alarms = sys.spawn(alarms, ac);
    sync_config sc;
    sc.node_name = name;
    sc.history = n.history;
    sc.alarms = n.alarms;
    sc.diagnostics = n.diag;
    sc.page_rows = page_rows;
    sc.wall_now = [this] { return wall_now(); };
    n.item_owner = sys.spawn(item_sink, n.items, n.drops);
    sc.items_owner = n.item_owner;
    n.sync = sys.spawn(tandem::sync, sc);
    n.link = sys.spawn(fake_link, n.out);
    run();
  }

  /// Two nodes; each SYNC knows its link.
  void make_pair(uint64_t page_rows_a = 1000, uint64_t page_rows_b = 1000) {
    make(a, "plant-a", page_rows_a);
    make(b, "plant-b", page_rows_b);
    a.out->to = b.sync;
    b.out->to = a.sync;
    self->send(a.sync, a.link);
    self->send(b.sync, b.link);
    a.out->cut = b.out->cut = true; // no link yet
    run();
  }

  partner_up up_of(const std::string& partner) {
    partner_up u;
    u.hello.node_name = partner;
    return u;
  }
  void connect() {
    a.out->cut = b.out->cut = false;
    self->send(a.sync, up_of("plant-b"));
    self->send(b.sync, up_of("plant-a"));
    run();
  }
  void disconnect() {
    a.out->cut = b.out->cut = true;
    a.out->held.clear();
    b.out->held.clear();
    self->send(a.sync, partner_down{partner_down_cause::closed, false, "test", "plant-b"});
    self->send(b.sync, partner_down{partner_down_cause::closed, false, "test", "plant-a"});
    run();
  }
  /// Delivers what is held on w, at most n payloads (then runs the system).
  size_t deliver(wire& w, size_t n = SIZE_MAX) {
    size_t k = 0;
    while (!w.held.empty() && k < n) {
      self->send(w.to, std::move(w.held.front()));
      w.held.pop_front();
      ++k;
    }
    run();
    return k;
  }
  /// Delivers only the newest payload held on w (overtaking the others).
  void deliver_last(wire& w) {
    ASSERT_FALSE(w.held.empty());
    self->send(w.to, std::move(w.held.back()));
    w.held.pop_back();
    run();
  }
  /// Delivers both ways until nothing is held any more.
  void flow() {
    while (deliver(*a.out) + deliver(*b.out) > 0) {
    }
  }

  void record(node& n, const std::string& item, int from, int count) {
    history_batch hb{"line1", {}};
    for (int i = 0; i < count; ++i)
      hb.values.push_back(recorded_value{item, wall_now() + from + i, 0, int32_value(from + i)});
    self->send(n.history, std::move(hb));
    run();
  }
  std::vector<history_row> rows(node& n, const std::string& item) {
    history_query q;
    q.pair = "line1";
    q.item = item;
    q.limit = 100000;
    auto r = ask<history_values>(n.history, q);
    return r ? r->rows : std::vector<history_row>{};
  }
  /// Rows of (origin, seq) held by n for item, each once.
  std::multiset<std::pair<std::string, uint64_t>> stamps(node& n, const std::string& item) {
    std::multiset<std::pair<std::string, uint64_t>> s;
    for (auto& r : rows(n, item))
      s.insert({r.origin, r.stamp.seq});
    return s;
  }
  sync_status status(node& n) {
    auto s = ask<sync_status>(n.sync, atom::status_v);
    return s ? *s : sync_status{};
  }
  std::vector<diag_event> events(node& n) {
    auto e = ask<std::vector<diag_event>>(n.diag, atom::events_v, uint64_t{10000});
    return e ? *e : std::vector<diag_event>{};
  }
  bool has_event(node& n, const std::string& kind, const std::string& node_name = "") {
    for (auto& e : events(n))
      if (e.kind == kind && (node_name.empty() || e.node == node_name)) return true;
    return false;
  }
  std::vector<tandem::alarm> alarm_list(node& n) {
    auto l = ask<tandem::alarm_list>(n.alarms, atom::alarms_v, true);
    return l ? l->alarms : std::vector<tandem::alarm>{};
  }
  /// Messages of type t that w carried.
  size_t sent(wire& w, ps::sync_type t) {
    size_t n = 0;
    for (auto& m : w.seen)
      n += m.type == t;
    return n;
  }
  size_t pulls(wire& w, ps::data_kind k) {
    size_t n = 0;
    for (auto& m : w.seen)
      if (m.type == ps::sync_type::pull && m.kind == k) ++n;
    return n;
  }

  test::temp_dir dir;
  node a, b;
};

TEST_F(sync_test, an_empty_standby_gets_everything_in_pages) {
  make_pair(1000, 7); // b asks for 7 rows a page
  record(a, "ns=1;s=X", 0, 50);
  self->send(a.alarms, alarm_report{"comm:line1/primary", "server/line1/primary", "lost", true});
  self->send(a.diag, event_report{severity::warning, "test", "something", "happened on a"});
  run();
  EXPECT_EQ(status(b).state, "not_synced");
  connect();
  auto sb = status(b);
  EXPECT_EQ(sb.state, "synced") << sb.last_error;
  EXPECT_EQ(sb.history, 50u);
  EXPECT_EQ(sb.syncs, 1u);
  EXPECT_EQ(status(a).state, "synced");
  // Paged: 50 rows at 7 a page.
  EXPECT_GE(pulls(*b.out, ps::data_kind::history), 8u);
  auto got = stamps(b, "ns=1;s=X");
  EXPECT_EQ(got, stamps(a, "ns=1;s=X"));
  EXPECT_EQ(got.size(), 50u);
  auto al = alarm_list(b);
  ASSERT_EQ(al.size(), 1u);
  EXPECT_EQ(al[0].id, "plant-a:1");
  EXPECT_TRUE(has_event(b, "something", "plant-a"));
  EXPECT_TRUE(has_event(b, "sync_done", "plant-b"));
  EXPECT_TRUE(has_event(b, "sync_started", "plant-b"));
  // b's merged events are not b's: its ALARMS made no alarm of a's events.
  EXPECT_EQ(alarm_list(b).size(), 1u);
}

TEST_F(sync_test, incremental_rows_alarms_and_events_follow_once_synced) {
  make_pair();
  connect();
  ASSERT_EQ(status(b).state, "synced");
  record(a, "ns=1;s=X", 0, 5);
  self->send(a.alarms, alarm_report{"comm:line1/primary", "server/line1/primary", "lost", true});
  self->send(a.diag, event_report{severity::info, "test", "live_one", "pushed"});
  run();
  EXPECT_EQ(stamps(b, "ns=1;s=X").size(), 5u);
  EXPECT_EQ(alarm_list(b).size(), 1u);
  EXPECT_TRUE(has_event(b, "live_one", "plant-a"));
  auto sb = status(b);
  EXPECT_EQ(sb.live_history, 5u);
  EXPECT_GE(sb.live_alarms, 1u);
  EXPECT_GE(sb.lag_ms, 0);
  // An acknowledgement on b travels back to a.
  auto acked = ask<tandem::alarm_list>(b.alarms, atom::ack_v, std::string("plant-a:1"));
  ASSERT_TRUE(acked && acked->error.empty());
  run();
  auto al = alarm_list(a);
  ASSERT_EQ(al.size(), 1u);
  EXPECT_TRUE(al[0].acked);
}

TEST_F(sync_test, the_cursor_comes_from_the_pages_so_live_rows_meanwhile_skip_nothing) {
  make_pair(1000, 5);
  record(a, "ns=1;s=X", 0, 40);
  a.out->hold = b.out->hold = true;
  connect();
  deliver(*b.out);    // b's HELLO
  deliver(*a.out);    // a's HELLO and pulls: b pulls now, and answers a
  deliver(*b.out);    // b's pulls (a answers) and its pages to a
  deliver(*a.out, 1); // b gets a first page
  // a records more while b is still paging: pushed live, with stamps above b's remaining rows;
  // merged at once they would raise b's marks past the rows it has not pulled yet.
  record(a, "ns=1;s=X", 100, 10);
  flow();
  EXPECT_EQ(status(b).state, "synced") << status(b).last_error;
  auto got = stamps(b, "ns=1;s=X");
  EXPECT_EQ(got, stamps(a, "ns=1;s=X"));
  EXPECT_EQ(got.size(), 50u);
  EXPECT_GE(pulls(*b.out, ps::data_kind::history), 8u);
  // And the store's marks are right for the next reconnect: nothing more to pull.
  disconnect();
  a.out->hold = b.out->hold = false;
  connect();
  EXPECT_EQ(status(b).state, "synced");
  EXPECT_EQ(status(b).history, 0u);
}

TEST_F(sync_test, a_split_brain_is_merged_both_ways_and_nothing_is_lost) {
  make_pair(1000, 1000);
  connect();
  record(a, "ns=1;s=X", 0, 3);
  disconnect();
  // Split brain: both Running, both recording, both raising alarms and logging events.
  self->send(a.history, atom::epoch_v, uint64_t{5});
  self->send(b.history, atom::epoch_v, uint64_t{6});
  record(a, "ns=1;s=X", 10, 20);
  record(b, "ns=1;s=X", 50, 30);
  self->send(a.alarms, alarm_report{"partner", "partner", "lost plant-b", true});
  self->send(b.alarms, alarm_report{"partner", "partner", "lost plant-a", true});
  self->send(a.diag, event_report{severity::warning, "test", "split_a", "a alone"});
  self->send(b.diag, event_report{severity::warning, "test", "split_b", "b alone"});
  run();
  connect();
  EXPECT_EQ(status(a).state, "synced") << status(a).last_error;
  EXPECT_EQ(status(b).state, "synced") << status(b).last_error;
  auto sa = stamps(a, "ns=1;s=X"), sb = stamps(b, "ns=1;s=X");
  EXPECT_EQ(sa, sb);
  EXPECT_EQ(sa.size(), 53u);
  EXPECT_EQ(status(a).history, 30u);
  EXPECT_EQ(status(b).history, 20u);
  // Both alarms (each node raised its own while alone) are on both nodes.
  EXPECT_EQ(alarm_list(a).size(), 2u);
  EXPECT_EQ(alarm_list(b).size(), 2u);
  for (auto* n : {&a, &b}) {
    EXPECT_TRUE(has_event(*n, "split_a", "plant-a"));
    EXPECT_TRUE(has_event(*n, "split_b", "plant-b"));
  }
}

TEST_F(sync_test, a_link_lost_in_the_middle_of_a_pull_resumes_where_it_stopped) {
  make_pair(1000, 4);
  record(a, "ns=1;s=X", 0, 40);
  a.out->hold = b.out->hold = true;
  connect();
  deliver(*b.out);
  deliver(*a.out, 5); // a few pages only (after HELLO, ITEMS_END and a's pulls)
  deliver(*b.out);
  deliver(*a.out, 2);
  // a records more, pushed live: b keeps it aside (merged now, it would raise b's marks above
  // the rows not pulled yet, and the next pull would start after them).
  record(a, "ns=1;s=X", 100, 5);
  deliver_last(*a.out);
  auto part = stamps(b, "ns=1;s=X").size();
  EXPECT_GT(part, 0u);
  EXPECT_LT(part, 40u);
  EXPECT_EQ(status(b).state, "syncing");
  disconnect();
  EXPECT_EQ(status(b).state, "not_synced");
  EXPECT_TRUE(has_event(b, "sync_failed"));
  a.out->hold = b.out->hold = false;
  connect();
  EXPECT_EQ(status(b).state, "synced");
  EXPECT_EQ(status(b).history, 45u - part) << "the second pull starts where the first stopped";
  EXPECT_EQ(stamps(b, "ns=1;s=X"), stamps(a, "ns=1;s=X"));
}

TEST_F(sync_test, duplicates_change_nothing) {
  make_pair();
  record(a, "ns=1;s=X", 0, 10);
  connect();
  ASSERT_EQ(stamps(b, "ns=1;s=X").size(), 10u);
  // The same page again, as a live push: merged, nothing new.
  std::vector<history_row> again = rows(a, "ns=1;s=X");
  size_t taken = 0;
  self->send(b.sync, sync_payload{ps::channel,
                                  ps::encode_history_page(0, again, 0, false, 1 << 20, taken)});
  self->send(b.sync, sync_payload{ps::channel,
                                  ps::encode_history_page(0, again, 0, false, 1 << 20, taken)});
  run();
  EXPECT_EQ(stamps(b, "ns=1;s=X").size(), 10u);
  // A reconnect pulls nothing new either way.
  disconnect();
  connect();
  EXPECT_EQ(status(b).history, 0u);
  EXPECT_EQ(status(a).history, 0u);
  EXPECT_EQ(status(b).syncs, 2u);
}

TEST_F(sync_test, a_partner_of_another_version_is_refused_with_a_reason) {
  make_pair();
  a.out->hold = b.out->hold = true;
  connect();
  a.out->held.clear();
  // "a" speaks only versions newer than this build's.
  uint8_t lo = ps::sync_version + 1, hi = ps::sync_version + 2;
  self->send(b.sync, sync_payload{ps::channel, ps::encode_hello("plant-a", lo, hi)});
  run();
  EXPECT_EQ(status(b).state, "not_synced");
  EXPECT_NE(status(b).last_error.find("speaks sync versions " + std::to_string(lo) + " to " +
                                      std::to_string(hi)),
            std::string::npos)
      << status(b).last_error;
  EXPECT_TRUE(has_event(b, "sync_refused"));
  bool refused = false;
  for (auto& m : b.out->seen)
    refused = refused || m.type == ps::sync_type::refuse;
  EXPECT_TRUE(refused);
  // A message of version 9 is refused too (and says so once).
  auto pull = ps::encode_pull(1, ps::data_kind::history, 10, {});
  pull[0] = 9;
  self->send(b.sync, sync_payload{ps::channel, pull});
  run();
  EXPECT_NE(status(b).last_error.find("version 9"), std::string::npos) << status(b).last_error;
}

TEST_F(sync_test, a_partner_that_never_says_hello_is_reported_not_waited_for) {
  make_pair();
  b.out->hold = true; // b's SYNC says nothing (as a Tandem without SYNC)
  connect();
  b.out->held.clear();
  EXPECT_EQ(status(a).state, "syncing");
  advance(30s);
  EXPECT_EQ(status(a).state, "not_synced");
  EXPECT_NE(status(a).last_error.find("has not answered"), std::string::npos)
      << status(a).last_error;
  EXPECT_TRUE(has_event(a, "sync_failed"));
}

TEST_F(sync_test, an_empty_page_that_says_more_ends_the_pull_instead_of_looping) {
  make_pair();
  a.out->hold = b.out->hold = true;
  connect();
  deliver(*b.out); // b's HELLO: a pulls
  a.out->held.clear();
  deliver(*b.out); // b's answers to nothing; then a fake answer to a's history pull
  uint64_t req = 0;
  for (auto& m : a.out->seen)
    if (m.type == ps::sync_type::pull && m.kind == ps::data_kind::history) req = m.request;
  ASSERT_NE(req, 0u);
  size_t taken = 0;
  self->send(a.sync,
             sync_payload{ps::channel, ps::encode_history_page(req, {}, 0, true, 1 << 20, taken)});
  run();
  EXPECT_EQ(status(a).state, "not_synced");
  EXPECT_NE(status(a).last_error.find("says more"), std::string::npos) << status(a).last_error;
}

TEST_F(sync_test, garbage_from_the_partner_is_reported_and_survived) {
  make_pair();
  connect();
  ASSERT_EQ(status(b).state, "synced");
  self->send(b.sync, sync_payload{ps::channel, {1, 4, 1, 1, 0, 0, 0xff}});
  self->send(b.sync, sync_payload{ps::channel, {}});
  run();
  EXPECT_TRUE(has_event(b, "sync_refused"));
  // Still working.
  record(a, "ns=1;s=X", 0, 3);
  EXPECT_EQ(stamps(b, "ns=1;s=X").size(), 3u);
}

TEST_F(sync_test, a_failed_merge_stops_the_pull_and_it_is_tried_again) {
  make_pair(1000, 5);
  record(a, "ns=1;s=X", 0, 20);
  b.hstore->fail_next_writes(1);
  connect();
  EXPECT_EQ(status(b).state, "not_synced");
  EXPECT_NE(status(b).last_error.find("cannot merge"), std::string::npos) << status(b).last_error;
  EXPECT_TRUE(has_event(b, "sync_failed"));
  advance(5s); // the retry
  EXPECT_EQ(status(b).state, "synced") << status(b).last_error;
  EXPECT_EQ(stamps(b, "ns=1;s=X"), stamps(a, "ns=1;s=X"));
}

// The items clients watch through a pair go to the partner (ITEMS), which hands them to its
// PAIRs; each side tells the other only its own clients' items and only once, a reconnect tells
// them all again without repeating them to the PAIRs, and a version-1 partner is sent none.
TEST_F(sync_test, client_items_reach_the_partners_pairs_once) {
  make_pair();
  auto line1 = [](std::vector<std::string> ids) {
    return item_set{"line1", std::move(ids), false};
  };
  self->send(b.sync, line1({"ns=1;s=A", "nsu=urn:plc;s=B"})); // before the link is up
  run();
  connect();
  flow();
  ASSERT_EQ(a.items->size(), 1u);
  EXPECT_TRUE(a.items->at(0).partner);
  EXPECT_EQ(a.items->at(0).pair, "line1");
  EXPECT_EQ(a.items->at(0).node_ids, (std::vector<std::string>{"ns=1;s=A", "nsu=urn:plc;s=B"}));
  // A new item follows at once; one told before is not told again.
  self->send(b.sync, line1({"ns=1;s=A", "ns=1;s=C"}));
  flow();
  ASSERT_EQ(a.items->size(), 2u);
  EXPECT_EQ(a.items->at(1).node_ids, (std::vector<std::string>{"ns=1;s=C"}));
  EXPECT_EQ(sent(*a.out, ps::sync_type::items), 0u); // a tells nothing of b's items back
  EXPECT_EQ(status(a).items_received, 3u);
  EXPECT_EQ(status(b).items_sent, 3u);
  // a's own client adds D: b's PAIRs hear of it.
  self->send(a.sync, line1({"ns=1;s=D"}));
  flow();
  ASSERT_EQ(b.items->size(), 1u);
  EXPECT_EQ(b.items->at(0).node_ids, (std::vector<std::string>{"ns=1;s=D"}));
  // A reconnect tells the whole set again (a restarted partner needs it); nothing is new.
  disconnect();
  connect();
  flow();
  EXPECT_EQ(a.items->size(), 2u);
  EXPECT_EQ(b.items->size(), 1u);
  bool told = false;
  for (auto& m : b.out->seen)
    told = told || (m.type == ps::sync_type::items && m.items.size() == 3);
  EXPECT_TRUE(told);
  EXPECT_TRUE(a.drops->empty()); // the whole set names every item b has
  // A partner that speaks only version 1 is sent no ITEMS (it could not read them).
  a.out->hold = true;
  self->send(a.sync, partner_down{partner_down_cause::closed, false, "test", "plant-b"});
  self->send(a.sync, up_of("plant-b"));
  run();
  a.out->held.clear();
  a.out->seen.clear();
  self->send(a.sync, sync_payload{ps::channel, ps::encode_hello("plant-b", 1, 1)});
  self->send(a.sync, line1({"ns=1;s=E"}));
  run();
  for (auto& m : a.out->seen)
    EXPECT_NE(m.type, ps::sync_type::items);
}

// Items no client of a node has watched for the linger leave the partner's PAIRs: GONE is sent
// once, only for items the partner was told, never echoed back, and the partner's own clients
// are not its business (its PAIR keeps what they watch).
TEST_F(sync_test, items_no_client_watches_any_more_leave_the_partner_once) {
  make_pair();
  connect();
  flow();
  self->send(b.sync, item_set{"line1", {"ns=1;s=A", "ns=1;s=B", "ns=1;s=C"}, false});
  self->send(b.sync, item_set{"line2", {"ns=1;s=A"}, false});
  flow();
  ASSERT_EQ(a.items->size(), 2u);
  self->send(b.sync, item_drop{"line1", {"ns=1;s=B", "ns=1;s=X"}, false}); // X: never told
  flow();
  ASSERT_EQ(a.drops->size(), 1u);
  EXPECT_EQ(a.drops->at(0).pair, "line1");
  EXPECT_TRUE(a.drops->at(0).partner);
  EXPECT_EQ(a.drops->at(0).node_ids, (std::vector<std::string>{"ns=1;s=B"}));
  EXPECT_EQ(sent(*b.out, ps::sync_type::gone), 1u);
  EXPECT_EQ(status(b).items_removed_sent, 1u);
  EXPECT_EQ(status(a).items_removed_received, 1u);
  // Not echoed: a's PAIR ending its watch for b sends nothing back.
  EXPECT_EQ(sent(*a.out, ps::sync_type::gone), 0u);
  EXPECT_EQ(sent(*a.out, ps::sync_type::items), 0u);
  // Said twice, or of another pair than the item's, nothing travels.
  self->send(b.sync, item_drop{"line1", {"ns=1;s=B"}, false});
  self->send(b.sync, item_drop{"line3", {"ns=1;s=A"}, false});
  flow();
  EXPECT_EQ(sent(*b.out, ps::sync_type::gone), 1u);
  EXPECT_EQ(a.drops->size(), 1u);
  // Watched again later: told again, and a's PAIRs hear of it again.
  self->send(b.sync, item_set{"line1", {"ns=1;s=B"}, false});
  flow();
  ASSERT_EQ(a.items->size(), 3u);
  EXPECT_EQ(a.items->at(2).node_ids, (std::vector<std::string>{"ns=1;s=B"}));
  // The other pair's item goes by itself.
  self->send(b.sync, item_drop{"line2", {"ns=1;s=A"}, false});
  flow();
  ASSERT_EQ(a.drops->size(), 2u);
  EXPECT_EQ(a.drops->at(1).pair, "line2");
  // A GONE naming items a was never told, or a pair it knows nothing of, changes nothing.
  size_t taken = 0;
  self->send(a.sync,
             sync_payload{ps::channel, ps::encode_gone("line1", {"ns=1;s=Z"}, 0, 1 << 20, taken)});
  self->send(a.sync,
             sync_payload{ps::channel, ps::encode_gone("line9", {"ns=1;s=A"}, 0, 1 << 20, taken)});
  run();
  EXPECT_EQ(a.drops->size(), 2u);
  EXPECT_EQ(status(a).items_removed_received, 2u);
}

// While the link is down nothing can be said; at link-up each side sends its whole set and
// ITEMS_END, and the partner forgets what it holds from it that the set does not name: it ends
// up with exactly the other side's current set. A whole set that arrived short (an ITEMS refused
// on the way) forgets nothing.
TEST_F(sync_test, a_link_up_sends_the_whole_set_and_the_partner_forgets_the_rest) {
  make_pair();
  connect();
  flow();
  self->send(b.sync, item_set{"line1", {"ns=1;s=A", "ns=1;s=B", "ns=1;s=C"}, false});
  self->send(b.sync, item_set{"line2", {"ns=1;s=Q"}, false});
  flow();
  ASSERT_EQ(a.items->size(), 2u);
  disconnect();
  self->send(b.sync, item_drop{"line1", {"ns=1;s=B", "ns=1;s=C"}, false});
  self->send(b.sync, item_drop{"line2", {"ns=1;s=Q"}, false});
  self->send(b.sync, item_set{"line1", {"ns=1;s=D"}, false});
  run();
  EXPECT_EQ(status(b).items_removed_sent, 0u); // the link was down: nothing was said
  a.out->seen.clear();
  b.out->seen.clear();
  connect();
  flow();
  EXPECT_EQ(sent(*b.out, ps::sync_type::items_end), 1u);
  EXPECT_EQ(sent(*b.out, ps::sync_type::gone), 0u);
  for (auto& m : b.out->seen)
    if (m.type == ps::sync_type::items_end) EXPECT_EQ(m.count, 2u); // A and D
  ASSERT_EQ(a.items->size(), 3u); // D is new; A is not told to the PAIRs again
  EXPECT_EQ(a.items->at(2).node_ids, (std::vector<std::string>{"ns=1;s=D"}));
  ASSERT_EQ(a.drops->size(), 2u);
  EXPECT_EQ(a.drops->at(0).pair, "line1");
  EXPECT_EQ(a.drops->at(0).node_ids, (std::vector<std::string>{"ns=1;s=B", "ns=1;s=C"}));
  EXPECT_EQ(a.drops->at(1).pair, "line2");
  EXPECT_EQ(a.drops->at(1).node_ids, (std::vector<std::string>{"ns=1;s=Q"}));
  EXPECT_EQ(status(a).items_removed_received, 3u);
  // a has no clients' items: its ITEMS_END says 0, and b forgets nothing it did not have.
  for (auto& m : a.out->seen)
    if (m.type == ps::sync_type::items_end) EXPECT_EQ(m.count, 0u);
  EXPECT_TRUE(b.drops->empty());

  // b restarted (it knows no items any more): its whole set is empty, so a forgets A and D.
  a.out->hold = true;
  self->send(a.sync, partner_down{partner_down_cause::closed, false, "test", "plant-b"});
  self->send(a.sync, up_of("plant-b"));
  run();
  self->send(a.sync, sync_payload{ps::channel, ps::encode_hello("plant-b", 1, ps::gone_version)});
  self->send(a.sync, sync_payload{ps::channel, ps::encode_items_end(0)});
  run();
  ASSERT_EQ(a.drops->size(), 3u);
  EXPECT_EQ(a.drops->at(2).node_ids, (std::vector<std::string>{"ns=1;s=A", "ns=1;s=D"}));

  // A whole set one short (an ITEMS lost to a refusal): nothing is forgotten.
  self->send(a.sync, partner_down{partner_down_cause::closed, false, "test", "plant-b"});
  self->send(a.sync, up_of("plant-b"));
  run();
  size_t taken = 0;
  self->send(a.sync, sync_payload{ps::channel, ps::encode_hello("plant-b", 1, ps::gone_version)});
  self->send(a.sync, sync_payload{ps::channel, ps::encode_items("line1", {"ns=1;s=E", "ns=1;s=F"},
                                                                0, 1 << 20, taken)});
  self->send(a.sync, sync_payload{ps::channel, ps::encode_items_end(2)});
  run();
  ASSERT_EQ(a.drops->size(), 3u);
  self->send(a.sync, partner_down{partner_down_cause::closed, false, "test", "plant-b"});
  self->send(a.sync, up_of("plant-b"));
  run();
  self->send(a.sync, sync_payload{ps::channel, ps::encode_hello("plant-b", 1, ps::gone_version)});
  self->send(a.sync,
             sync_payload{ps::channel, ps::encode_items("line1", {"ns=1;s=E"}, 0, 1 << 20, taken)});
  self->send(a.sync, sync_payload{ps::channel, ps::encode_items_end(2)}); // F's ITEMS never came
  run();
  EXPECT_EQ(a.drops->size(), 3u);
  // An ITEMS_END nobody waits for (no HELLO before it in this session) forgets nothing either.
  self->send(a.sync, sync_payload{ps::channel, ps::encode_items_end(0)});
  run();
  EXPECT_EQ(a.drops->size(), 3u);
}

// What the faces watched for the partner before SYNC (re)started is seeded by the SUPERVISOR
// (item_set with partner = true): not told to the PAIRs again, and forgotten by the partner's
// next whole set unless it names them.
TEST_F(sync_test, a_restarted_sync_forgets_seeded_partner_items_the_whole_set_leaves_out) {
  make_pair();
  self->send(a.sync, item_set{"line1", {"ns=1;s=Old", "ns=1;s=Kept"}, true});
  run();
  EXPECT_TRUE(a.items->empty());
  EXPECT_EQ(sent(*a.out, ps::sync_type::items), 0u); // the partner's items are not told to it
  self->send(b.sync, item_set{"line1", {"ns=1;s=Kept"}, false});
  connect();
  flow();
  ASSERT_EQ(a.drops->size(), 1u);
  EXPECT_EQ(a.drops->at(0).node_ids, (std::vector<std::string>{"ns=1;s=Old"}));
  EXPECT_TRUE(a.items->empty()); // Kept was known already
}

// A version-2 partner reads ITEMS but neither GONE nor ITEMS_END: it is sent neither (it keeps
// the items longer, as before), and since it sends no ITEMS_END its items are never forgotten
// here at link-up.
TEST_F(sync_test, a_version_2_partner_is_sent_no_gone_and_keeps_its_items_here) {
  make_pair();
  a.out->hold = true;
  self->send(a.sync, up_of("plant-b"));
  run();
  self->send(a.sync, item_set{"line1", {"ns=1;s=A"}, false});
  size_t taken = 0;
  self->send(a.sync, sync_payload{ps::channel, ps::encode_hello("plant-b", 1, 2)});
  self->send(a.sync,
             sync_payload{ps::channel, ps::encode_items("line1", {"ns=1;s=P"}, 0, 1 << 20, taken)});
  run();
  EXPECT_EQ(sent(*a.out, ps::sync_type::items), 1u);
  EXPECT_EQ(sent(*a.out, ps::sync_type::items_end), 0u);
  self->send(a.sync, item_drop{"line1", {"ns=1;s=A"}, false});
  run();
  EXPECT_EQ(sent(*a.out, ps::sync_type::gone), 0u);
  EXPECT_EQ(status(a).items_removed_sent, 0u);
  // The partner reconnects without P: a version-2 whole set has no end, so P stays.
  self->send(a.sync, partner_down{partner_down_cause::closed, false, "test", "plant-b"});
  self->send(a.sync, up_of("plant-b"));
  run();
  self->send(a.sync, sync_payload{ps::channel, ps::encode_hello("plant-b", 1, 2)});
  self->send(a.sync, sync_payload{ps::channel, ps::encode_items_end(0)}); // not its to send
  run();
  EXPECT_TRUE(a.drops->empty());
  ASSERT_EQ(a.items->size(), 1u);
}

} // namespace
