// Integration: SYNC between two real `tandem node` processes on loopback, with a pair over two
// `tandem sim` servers and OPC UA clients (`tandem ua watch`) subscribed through the nodes' faces,
// so the Running node records history.
//  (a) A backup started after the master has recorded for a while holds the master's history
//      once it is synced (full sync), and new values follow incrementally.
//  (b) A split brain made by an injected fault (delay_link longer than the loss rule: both nodes
//      Running, nothing of SYNC gets through), each node recording an item of its own client
//      meanwhile; healed, both nodes hold what both recorded: history, alarms and events.
//  (c) Client items leave the warm backup too: after the master's linger (GONE), and when the
//      master restarts without clients (its whole set, then ITEMS_END).

#include <csignal>
#include <cstdio>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "tests/support/node.hpp"
#include "tests/support/process.hpp"

using namespace tandem;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string counter = "ns=1;s=Sim.Counter";
const std::string ramp = "ns=1;s=Sim.Ramp";

class sync_it : public ::testing::Test {
protected:
  void SetUp() override {
    for (int i = 0; i < 2; ++i) {
      sim_port[i] = test::free_port();
      sims[i] = std::make_unique<test::child_process>(
          std::vector<std::string>{test::tandem_binary(), "sim", "--port",
                                   std::to_string(sim_port[i]), "--rate-ms", "100"},
          dir.file("sim" + std::to_string(i)));
    }
    for (auto& s : sims)
      ASSERT_TRUE(test::wait_for(
          [&] { return !s->running() || s->out().find("ready ") != std::string::npos; }, 15s))
          << s->err();
    // Partner links are TLS: the two nodes trust each other's certificates from the start.
    ASSERT_EQ(test::pre_trust(dir, "plant-a", dir.path() + "/data-plant-a", "plant-b",
                              dir.path() + "/data-plant-b"),
              "");
  }

  std::string sim_url(int i) const {
    return "opc.tcp://127.0.0.1:" + std::to_string(sim_port[i]) + "/sim";
  }

  std::string config(const std::string& name, bool master) {
    uint16_t listen = master ? link_a : link_b, partner = master ? link_b : link_a;
    return "[node]\nname = \"" + name + "\"\ndata_dir = \"data-" + name +
           "\"\n[face]\nlisten = \"127.0.0.1:" + std::to_string(master ? face_a : face_b) +
           "\"\n[redundancy]\nrole = \"" + (master ? "master" : "backup") +
           "\"\nlisten = \"127.0.0.1:" + std::to_string(listen) +
           "\"\npartner = \"127.0.0.1:" + std::to_string(partner) +
           "\"\nping_interval_ms = 100\nping_timeout_ms = 320\nmissed_pings = 3\n"
           "connection_wait_ms = 1000\n[debug]\nfault_injection = true\n"
           "[[pair]]\nalias = \"line1\"\nprimary = \"" +
           sim_url(0) + "\"\nsecondary = \"" + sim_url(1) +
           "\"\nmode = \"warm\"\nreturn_to_primary = false\nunused_item_linger_ms = " +
           std::to_string(linger_ms) + "\n";
  }

  std::unique_ptr<test::node_process> start(const std::string& name, bool master) {
    auto n = std::make_unique<test::node_process>(dir, name, config(name, master),
                                                  dir.path() + "/data-" + name + "/console.sock");
    std::string why;
    EXPECT_TRUE(n->wait_ready(why)) << why;
    return n;
  }

  /// An OPC UA client subscribed to `item` through a node's face: what makes the node record it.
  std::unique_ptr<test::child_process> watch(uint16_t face, const std::string& item,
                                             const std::string& name, int seconds = 120) {
    return std::make_unique<test::child_process>(
        std::vector<std::string>{test::tandem_binary(), "ua", "watch",
                                 "opc.tcp://127.0.0.1:" + std::to_string(face) + "/line1", item,
                                 "--interval-ms", "100", "--seconds", std::to_string(seconds)},
        dir.file(name));
  }
  /// The items of the pair's face (console `pairs`), -1 when unknown.
  static int items(test::node_process& n) {
    auto p = n.console("pairs");
    return p.contains("pairs") && !p["pairs"].empty() ? p["pairs"][0].value("items", 0) : -1;
  }
  /// `self.sync.items.FIELD` of a node.
  static int64_t sync_items(test::node_process& n, const std::string& field) {
    auto j = n.console("node");
    try {
      return j.at("self").at("sync").at("items").at(field).get<int64_t>();
    } catch (const std::exception&) {
      return -1;
    }
  }

  static json history(test::node_process& n, const std::string& item) {
    return n.console("history line1 " + item + " --since -10m");
  }
  static size_t count(test::node_process& n, const std::string& item,
                      const std::string& origin = "") {
    auto h = history(n, item);
    if (!h.contains("values")) return 0;
    size_t k = 0;
    for (auto& v : h["values"])
      if (origin.empty() || v["origin"] == origin) ++k;
    return k;
  }
  /// (time, origin) of the rows of `item` up to `until` (RFC 3339 text order is time order).
  static std::set<std::pair<std::string, std::string>>
  rows(test::node_process& n, const std::string& item, const std::string& until) {
    std::set<std::pair<std::string, std::string>> out;
    auto h = history(n, item);
    for (auto& v : h.value("values", json::array()))
      if (v["time"].get<std::string>() <= until)
        out.insert({v["time"].get<std::string>(), v["origin"].get<std::string>()});
    return out;
  }
  static std::string last_time(test::node_process& n, const std::string& item) {
    auto h = history(n, item);
    if (!h.contains("values") || h["values"].empty()) return "";
    return h["values"].back()["time"];
  }
  static std::string state(test::node_process& n) {
    auto j = n.console("node");
    return j.contains("self") ? j["self"].value("state", "") : "";
  }
  static std::string sync_word(test::node_process& n) {
    auto j = n.console("node");
    return j.contains("partner") && j["partner"].is_object() ? j["partner"].value("sync", "") : "";
  }
  static bool has_event(test::node_process& n, const std::string& kind, const std::string& node) {
    auto events = n.console("events 2000");
    for (auto& e : events.value("events", json::array()))
      if (e.value("kind", "") == kind && e.value("node", "") == node) return true;
    return false;
  }
  static bool has_alarm_from(test::node_process& n, const std::string& prefix) {
    auto a = n.console("alarms --all");
    for (auto& x : a.value("alarms", json::array()))
      if (x.value("id", "").rfind(prefix, 0) == 0) return true;
    return false;
  }

  test::temp_dir dir;
  int64_t linger_ms = 60000; ///< the pair's unused_item_linger_ms in the next config
  uint16_t sim_port[2] = {0, 0};
  std::unique_ptr<test::child_process> sims[2];
  uint16_t link_a = test::free_port(), link_b = test::free_port();
  uint16_t face_a = test::free_port(), face_b = test::free_port();
};

TEST_F(sync_it, a_backup_started_later_gets_the_masters_history_then_new_values_as_they_come) {
  auto a = start("plant-a", true);
  ASSERT_TRUE(test::wait_for([&] { return state(*a) == "Running"; }, 15s));
  auto client = watch(face_a, counter, "watch-a");
  ASSERT_TRUE(test::wait_for([&] { return count(*a, counter) >= 20; }, 20s))
      << history(*a, counter).dump() << client->err();
  std::string first_a = history(*a, counter)["values"].front()["time"];

  auto b = start("plant-b", false);
  ASSERT_TRUE(
      test::wait_for([&] { return state(*b) == "Standby" && sync_word(*b) == "synced"; }, 20s))
      << b->console("node").dump();
  auto node_b = b->console("node");
  std::cout << "[ sync     ] full sync: " << node_b["self"]["sync"].dump() << "\n";
  EXPECT_GE(node_b["self"]["sync"]["pulled"]["history"].get<int>(), 20);
  // The Standby records nothing itself: what it holds is the master's, from its first value on.
  auto hb = history(*b, counter);
  ASSERT_TRUE(hb.contains("values")) << hb.dump();
  ASSERT_GE(hb["values"].size(), 20u);
  EXPECT_EQ(hb["values"].front()["time"], first_a);
  for (auto& v : hb["values"])
    EXPECT_EQ(v["origin"], "plant-a");

  // Incremental: new values reach the Standby as they are recorded.
  size_t before = count(*b, counter);
  ASSERT_TRUE(test::wait_for([&] { return count(*b, counter) >= before + 10; }, 10s));
  auto last_a = last_time(*a, counter);
  ASSERT_TRUE(test::wait_for([&] { return last_time(*b, counter) >= last_a; }, 5s));
  std::string upto = last_time(*b, counter);
  EXPECT_EQ(rows(*b, counter, upto), rows(*a, counter, upto));
  node_b = b->console("node");
  std::cout << "[ sync     ] incremental: " << node_b["self"]["sync"].dump() << "\n";
  EXPECT_GT(node_b["self"]["sync"]["live"]["history"].get<int>(), 0);
  EXPECT_TRUE(has_event(*b, "sync_done", "plant-b"));
}

/// Milliseconds of the day of an RFC 3339 time ("…T05:59:01.123Z"); the test spans no midnight
/// that matters (a wrap only makes a gap look larger, failing the test rather than passing it).
int64_t ms_of_day(const std::string& t) {
  int h = 0, m = 0, sec = 0, ms = 0;
  if (std::sscanf(t.c_str() + 11, "%d:%d:%d.%d", &h, &m, &sec, &ms) != 4) return -1;
  return ((h * 60 + m) * 60 + sec) * 1000 + ms;
}

// Warm standby keeps the Running node's client items monitored (SYNC's ITEMS): after a kill -9
// of the master, the backup records them from its first moment as Running, before any client has
// found it, and nothing needs subscribing.
TEST_F(sync_it, a_warm_backup_watches_the_masters_client_items_and_records_them_after_a_takeover) {
  auto a = start("plant-a", true);
  ASSERT_TRUE(test::wait_for([&] { return state(*a) == "Running"; }, 15s));
  auto client = watch(face_a, counter, "watch-a");
  auto b = start("plant-b", false);
  // The backup's face holds the master's client's item, with no client of its own.
  ASSERT_TRUE(test::wait_for([&] { return items(*b) == 1; }, 20s)) << b->console("pairs").dump();
  EXPECT_EQ(items(*a), 1);
  auto node_b = b->console("node");
  EXPECT_EQ(node_b["self"]["sync"]["items"]["received"], 1) << node_b.dump();
  EXPECT_TRUE(test::wait_for([&] { return count(*b, counter, "plant-a") >= 5; }, 10s));

  a->proc().signal(SIGKILL);
  ASSERT_TRUE(test::wait_for([&] { return state(*b) == "Running"; }, 10s))
      << b->console("node").dump();
  // Recorded by the backup itself, which no client has reached.
  ASSERT_TRUE(test::wait_for([&] { return count(*b, counter, "plant-b") >= 5; }, 10s))
      << history(*b, counter).dump();
  EXPECT_EQ(b->console("node")["self"].value("client_sessions", -1), 0);
  std::string last_a, first_b;
  auto hb = history(*b, counter);
  for (auto& v : hb["values"]) {
    if (v["origin"] == "plant-a") last_a = v["time"];
    if (v["origin"] == "plant-b" && first_b.empty()) first_b = v["time"];
  }
  int64_t gap = ms_of_day(first_b) - ms_of_day(last_a);
  std::cout << "[ items    ] history gap across the takeover: " << gap << " ms (" << last_a
            << " plant-a, " << first_b << " plant-b)\n";
  // At most the takeover (death probe, a few ms) plus the sim's 100 ms tick; 0 when both nodes
  // recorded the last tick before the kill. A backup that had to subscribe first would show a
  // second or more, one without the items nothing at all.
  ASSERT_FALSE(last_a.empty() || first_b.empty()) << hb.dump();
  EXPECT_LT(gap, 1500);
}

TEST_F(sync_it, after_a_split_brain_both_nodes_hold_what_both_recorded) {
  auto a = start("plant-a", true);
  auto b = start("plant-b", false);
  ASSERT_TRUE(test::wait_for(
      [&] { return state(*a) == "Running" && state(*b) == "Standby" && sync_word(*b) == "synced"; },
      20s))
      << b->console("node").dump();
  // plant-a's client subscribes to Counter; plant-b (warm) monitors it too, since the items
  // clients watch travel, but a node records only while Running.
  auto client_a = watch(face_a, counter, "watch-a");
  ASSERT_TRUE(test::wait_for([&] { return count(*b, counter) >= 5; }, 20s))
      << history(*b, counter).dump();
  EXPECT_EQ(count(*b, counter, "plant-b"), 0u) << "the Standby records nothing";

  // Heartbeats held back 3 s on plant-a: each side loses the other, both are Running, and
  // nothing of SYNC gets through (every reconnect is lost again before it delivers anything).
  auto inj = a->console("inject delay_link 3000");
  ASSERT_FALSE(inj.contains("error")) << inj.dump();
  ASSERT_TRUE(test::wait_for([&] { return state(*a) == "Running" && state(*b) == "Running"; }, 10s))
      << a->console("node").dump() << b->console("node").dump();
  // plant-b's client subscribes to Ramp during the split: only plant-b hears of it and records it.
  auto client_b = watch(face_b, ramp, "watch-b");
  ASSERT_TRUE(test::wait_for([&] { return count(*b, ramp, "plant-b") >= 20; }, 15s))
      << history(*b, ramp).dump() << client_b->err();
  EXPECT_EQ(count(*a, ramp), 0u) << "nothing crossed during the split";

  // Heal: one node stays Running, and both merge what the other recorded meanwhile.
  auto heal = a->console("inject delay_link 0");
  ASSERT_FALSE(heal.contains("error")) << heal.dump();
  ASSERT_TRUE(test::wait_for(
      [&] {
        auto sa = state(*a), sb = state(*b);
        return (sa == "Running") != (sb == "Running") && sync_word(*a) == "synced" &&
               sync_word(*b) == "synced";
      },
      20s))
      << a->console("node").dump() << b->console("node").dump();
  std::cout << "[ sync     ] after the split: " << a->console("node")["self"]["sync"].dump()
            << "\n                  " << b->console("node")["self"]["sync"].dump() << "\n";

  // History: plant-b's Ramp (recorded only during the split) is on plant-a, the same rows.
  ASSERT_TRUE(test::wait_for([&] { return count(*a, ramp, "plant-b") >= 20; }, 10s))
      << history(*a, ramp).dump();
  auto hb = history(*b, ramp);
  std::string split_from = hb["values"].front()["time"], split_to = hb["values"].back()["time"];
  EXPECT_EQ(rows(*a, ramp, split_to), rows(*b, ramp, split_to));
  // plant-a's Counter recorded during the split is on plant-b, without a gap.
  std::string upto;
  ASSERT_TRUE(test::wait_for(
      [&] {
        upto = std::min(last_time(*a, counter), last_time(*b, counter));
        return upto > split_to;
      },
      10s));
  auto ca = rows(*a, counter, upto), cb = rows(*b, counter, upto);
  EXPECT_EQ(ca, cb);
  size_t in_split = 0;
  for (auto& [t, o] : cb)
    if (t >= split_from && t <= split_to && o == "plant-a") ++in_split;
  EXPECT_GE(in_split, 10u) << "plant-a's rows of the split reached plant-b";

  // Alarms and events of both sides are on both nodes.
  EXPECT_TRUE(test::wait_for([&] { return has_alarm_from(*a, "plant-b:"); }, 5s))
      << a->console("alarms --all").dump();
  EXPECT_TRUE(test::wait_for([&] { return has_alarm_from(*b, "plant-a:"); }, 5s))
      << b->console("alarms --all").dump();
  EXPECT_TRUE(has_event(*a, "partner_lost", "plant-b"));
  EXPECT_TRUE(has_event(*b, "partner_lost", "plant-a"));
}

// An item no client of the Running node has watched for the linger leaves the warm backup too:
// the master says so (GONE) and the backup deletes it after its own linger. And a master that
// restarts without clients leaves the backup with exactly its set (none): the backup, Running
// meanwhile, kept the master's item while the master was away, and ends it once the master's
// whole set arrives without it (ITEMS_END).
TEST_F(sync_it, items_no_client_watches_any_more_leave_the_backup_too) {
  linger_ms = 1000;
  auto a = start("plant-a", true);
  ASSERT_TRUE(test::wait_for([&] { return state(*a) == "Running"; }, 15s));
  auto b = start("plant-b", false);
  ASSERT_TRUE(
      test::wait_for([&] { return state(*b) == "Standby" && sync_word(*b) == "synced"; }, 20s))
      << b->console("node").dump();
  auto client = watch(face_a, counter, "watch-a", 4); // closes its session after 4 s
  ASSERT_TRUE(test::wait_for([&] { return items(*b) == 1; }, 20s)) << b->console("pairs").dump();
  EXPECT_EQ(items(*a), 1);
  ASSERT_TRUE(client->wait(20s).has_value()) << "the client did not end";
  ASSERT_TRUE(test::wait_for([&] { return items(*a) == 0 && items(*b) == 0; }, 15s))
      << a->console("pairs").dump() << b->console("pairs").dump();
  EXPECT_EQ(sync_items(*a, "removed_sent"), 1) << a->console("node").dump();
  EXPECT_EQ(sync_items(*b, "removed_received"), 1) << b->console("node").dump();
  EXPECT_EQ(sync_items(*b, "removed_sent"), 0) << "echoed back";

  // The master's client watches Ramp; the master dies with it.
  auto client2 = watch(face_a, ramp, "watch-a2");
  ASSERT_TRUE(test::wait_for([&] { return items(*b) == 1; }, 20s)) << b->console("pairs").dump();
  a->proc().signal(SIGKILL);
  client2->signal(SIGKILL);
  ASSERT_TRUE(test::wait_for([&] { return state(*b) == "Running"; }, 10s))
      << b->console("node").dump();
  // Kept for the master while it is away (well past the linger).
  std::this_thread::sleep_for(2500ms);
  EXPECT_EQ(items(*b), 1) << b->console("pairs").dump();
  // Back without clients: its whole set is empty, so the backup lets Ramp go after its linger.
  a->restart();
  std::string why;
  ASSERT_TRUE(a->wait_ready(why)) << why;
  ASSERT_TRUE(test::wait_for([&] { return sync_word(*b) == "synced"; }, 20s))
      << b->console("node").dump();
  ASSERT_TRUE(test::wait_for([&] { return items(*b) == 0; }, 15s)) << b->console("pairs").dump();
  EXPECT_EQ(sync_items(*b, "removed_received"), 2) << b->console("node").dump();
  EXPECT_EQ(items(*a), 0) << a->console("pairs").dump();
}

} // namespace
