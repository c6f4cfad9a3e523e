// A real node with a pair of real `tandem sim` servers and a monitor condition item: `history`
// returns the item's values with increasing times; kill -9 of the primary raises an alarm, its
// return clears it, `ack` acknowledges it; after a kill -9 and a restart of the node, the history
// and the alarms are still there.

#include <csignal>
#include <cstdio>
#include <memory>

#include <gtest/gtest.h>

#include "tests/support/node.hpp"
#include "tests/support/process.hpp"

using namespace tandem;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

/// `tandem sim` on a fixed port (so a restarted one has the same URL), 100 ms ticks.
class sim_on_port {
public:
  sim_on_port(const test::temp_dir& dir, uint16_t port, std::string name)
      : dir_(dir), port_(port), name_(std::move(name)) {
    start();
  }
  bool start() {
    proc_.reset();
    proc_ = std::make_unique<test::child_process>(
        std::vector<std::string>{test::tandem_binary(), "sim", "--port", std::to_string(port_),
                                 "--rate-ms", "100"},
        dir_.file(name_ + "-" + std::to_string(++gen_)));
    return test::wait_for(
               [&] {
                 return !proc_->running() || proc_->out().find("ready ") != std::string::npos;
               },
               15s) &&
           proc_->running();
  }
  std::string url() const { return "opc.tcp://127.0.0.1:" + std::to_string(port_) + "/sim"; }
  test::child_process& proc() { return *proc_; }

private:
  const test::temp_dir& dir_;
  uint16_t port_;
  std::string name_;
  int gen_ = 0;
  std::unique_ptr<test::child_process> proc_;
};

json alarm_of(const json& doc, const std::string& source) {
  if (!doc.contains("alarms")) return json();
  for (auto& a : doc["alarms"])
    if (a["source"] == source) return a;
  return json();
}

TEST(history_alarms_it, history_and_alarms_from_a_real_pair_survive_a_restart) {
  test::temp_dir dir;
  sim_on_port a(dir, test::free_port(), "primary");
  sim_on_port b(dir, test::free_port(), "secondary");
  ASSERT_TRUE(a.proc().running()) << a.proc().err();
  ASSERT_TRUE(b.proc().running()) << b.proc().err();
  std::string cfg =
      "[node]\nname = \"hist-node\"\ndata_dir = \"data\"\n[face]\nlisten = \"127.0.0.1:" +
      std::to_string(test::free_port()) + "\"\n[[pair]]\nalias = \"line1\"\nprimary = \"" +
      a.url() + "\"\nsecondary = \"" + b.url() +
      "\"\nmode = \"warm\"\nreturn_to_primary = false\n"
      "status_interval_ms = 300\nstatus_timeout_ms = 300\n"
      "[[pair.monitor]]\nitem = \"ns=1;s=Sim.Counter\"\ncondition = \"above\"\n"
      "value = 1e15\n";
  test::node_process n(dir, "node", cfg, dir.path() + "/data/console.sock");
  std::string why;
  ASSERT_TRUE(n.wait_ready(why)) << why;
  const std::string item = "ns=1;s=Sim.Counter";
  auto history = [&](const std::string& extra = "") {
    return n.console("history line1 " + item + extra);
  };
  ASSERT_TRUE(test::wait_for(
      [&] {
        auto h = history();
        return h.contains("values") && h["values"].size() >= 5;
      },
      30s))
      << history().dump();
  auto h = history();
  std::string prev;
  for (auto& v : h["values"]) {
    ASSERT_TRUE(v["value"].is_number()) << v.dump();
    EXPECT_EQ(v["status"], "Good") << v.dump();
    EXPECT_EQ(v["origin"], "hist-node");
    auto t = v["time"].get<std::string>();
    EXPECT_LT(prev, t) << h.dump(); // RFC 3339 UTC with ms: text order is time order
    prev = t;
  }
  std::printf("[ figures  ] history: %zu values, first %s, last %s; first value %s\n",
              h["values"].size(), h["values"].front()["time"].dump().c_str(),
              h["values"].back()["time"].dump().c_str(),
              h["values"].front()["value"].dump().c_str());
  auto recent = history(" --since -1m");
  ASSERT_TRUE(recent.contains("values")) << recent.dump();
  EXPECT_FALSE(recent["values"].empty());
  auto future = history(" --since 2100-01-01T00:00:00Z");
  ASSERT_TRUE(future.contains("values")) << future.dump();
  EXPECT_TRUE(future["values"].empty());
  // Clear errors.
  auto bad_pair = n.console("history nope " + item);
  ASSERT_TRUE(bad_pair.contains("error"));
  EXPECT_NE(bad_pair["error"].get<std::string>().find("no pair 'nope'"), std::string::npos);
  auto bad_time = history(" --since yesterday");
  ASSERT_TRUE(bad_time.contains("error"));
  EXPECT_NE(bad_time["error"].get<std::string>().find("not a time"), std::string::npos);
  EXPECT_TRUE(n.console("ack nope:1").contains("error"));

  // kill -9 of the primary: its communication alarm is active.
  a.proc().signal(SIGKILL);
  a.proc().wait(10s);
  json al;
  ASSERT_TRUE(test::wait_for(
      [&] {
        al = alarm_of(n.console("alarms"), "server/line1/primary");
        return al.is_object() && al["active"] == true;
      },
      15s))
      << n.console("alarms").dump();
  EXPECT_EQ(al["acked"], false);
  std::string id = al["id"];
  std::printf("[ figures  ] alarm %s\n", al.dump().c_str());
  // History goes on from the secondary.
  size_t before = history()["values"].size();
  ASSERT_TRUE(test::wait_for([&] { return history()["values"].size() > before + 2; }, 15s));

  // It comes back: cleared, still listed until acknowledged.
  ASSERT_TRUE(a.start()) << a.proc().err();
  ASSERT_TRUE(test::wait_for(
      [&] {
        al = alarm_of(n.console("alarms"), "server/line1/primary");
        return al.is_object() && al["active"] == false;
      },
      30s))
      << n.console("alarms").dump();
  EXPECT_EQ(al["id"], id);
  auto acked = n.console("ack " + id);
  ASSERT_TRUE(acked.contains("alarms")) << acked.dump();
  EXPECT_EQ(acked["alarms"][0]["acked"], true);
  EXPECT_TRUE(alarm_of(n.console("alarms"), "server/line1/primary").is_null());
  EXPECT_EQ(alarm_of(n.console("alarms --all"), "server/line1/primary")["acked"], true);

  // kill -9 of the node and a restart: history and alarms are still there.
  size_t recorded = history()["values"].size();
  n.proc().signal(SIGKILL);
  n.proc().wait(10s);
  n.restart();
  ASSERT_TRUE(n.wait_ready(why)) << why;
  auto after = history();
  ASSERT_TRUE(after.contains("values")) << after.dump() << n.console("events 50").dump();
  EXPECT_GE(after["values"].size(), recorded);
  auto kept = alarm_of(n.console("alarms --all"), "server/line1/primary");
  ASSERT_TRUE(kept.is_object()) << n.console("alarms --all").dump();
  EXPECT_EQ(kept["id"], id);
  EXPECT_EQ(kept["acked"], true);
  EXPECT_EQ(kept["active"], false);
  n.proc().signal(SIGTERM);
  EXPECT_EQ(n.proc().wait(20s), 0) << n.proc().err();
}

} // namespace

namespace {

// `history = false` on a pair, set on a node that recorded it before: after the restart the
// console still answers what was recorded, says why nothing new comes, and records nothing while
// the face serves newer values.
TEST(history_alarms_it, a_pair_with_history_off_keeps_what_was_recorded_and_records_nothing_new) {
  test::temp_dir dir;
  sim_on_port a(dir, test::free_port(), "primary");
  sim_on_port b(dir, test::free_port(), "secondary");
  ASSERT_TRUE(a.proc().running()) << a.proc().err();
  ASSERT_TRUE(b.proc().running()) << b.proc().err();
  const auto face = test::free_port();
  auto config = [&](bool history) {
    return "[node]\nname = \"hist-off\"\ndata_dir = \"data\"\n[face]\nlisten = \"127.0.0.1:" +
           std::to_string(face) + "\"\n[[pair]]\nalias = \"line1\"\nprimary = \"" + a.url() +
           "\"\nsecondary = \"" + b.url() + "\"\nmode = \"warm\"\n" +
           (history ? "" : "history = false\n") +
           "[[pair.monitor]]\nitem = \"ns=1;s=Sim.Counter\"\ncondition = \"above\"\n"
           "value = 1e15\n";
  };
  test::node_process n(dir, "node", config(true), dir.path() + "/data/console.sock");
  std::string why;
  ASSERT_TRUE(n.wait_ready(why)) << why;
  auto history = [&] { return n.console("history line1 ns=1;s=Sim.Counter"); };
  ASSERT_TRUE(
      test::wait_for([&] { return history().value("values", json::array()).size() >= 3; }, 30s))
      << history().dump();
  n.proc().signal(SIGTERM);
  ASSERT_EQ(n.proc().wait(20s), 0) << n.proc().err();
  {
    std::FILE* f = std::fopen(n.config_path().c_str(), "w");
    ASSERT_NE(f, nullptr);
    auto text = config(false);
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  n.restart();
  ASSERT_TRUE(n.wait_ready(why)) << why;
  auto before = history();
  ASSERT_TRUE(before.contains("values")) << before.dump();
  ASSERT_FALSE(before["values"].empty());
  EXPECT_NE(before.value("note", "").find("history = false"), std::string::npos) << before.dump();
  double last = before["values"].back()["value"].get<double>();
  // The face serves the counter 2 s (20 ticks) past the last recorded value...
  auto read_counter = [&]() -> double {
    auto r =
        test::run_tandem({"ua", "read", "opc.tcp://127.0.0.1:" + std::to_string(face) + "/line1",
                          "ns=1;s=Sim.Counter", "--json"});
    if (r.code != 0) return -1;
    auto j = json::parse(r.out, nullptr, false);
    if (!j.contains("values") || !j["values"][0]["value"].is_number()) return -1;
    return j["values"][0]["value"].get<double>();
  };
  ASSERT_TRUE(test::wait_for([&] { return read_counter() >= last + 20; }, 30s))
      << "face value " << read_counter() << ", last recorded " << last;
  // ... and none of those values was recorded (a query commits what is pending first).
  auto after = history();
  ASSERT_TRUE(after.contains("values")) << after.dump();
  EXPECT_EQ(after["values"].size(), before["values"].size()) << after.dump();
  EXPECT_EQ(after["values"].back()["value"].get<double>(), last);
  n.proc().signal(SIGTERM);
  EXPECT_EQ(n.proc().wait(20s), 0) << n.proc().err();
}

} // namespace
