// Integration: the real `tandem` process, its console, its event log across kills and restarts.

#include <csignal>
#include <filesystem>

#include <gtest/gtest.h>

#include "tests/support/node.hpp"
#include "tests/support/process.hpp"
#include "transports/console/client.hpp"

using namespace tandem;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// Pairs add server connection events at times of their own; tests that count events run
// without one.
std::string config_text(const test::temp_dir& dir, int max_events = 10000, bool with_pair = false) {
  return "[node]\nname = \"it-node\"\ndata_dir = \"data\"\ncomment = \"integration\"\n"
         "[face]\nlisten = \"127.0.0.1:" +
         std::to_string(test::free_port()) + "\"\n" +
         (with_pair
              ? "[[pair]]\nalias = \"line1\"\nprimary = \"opc.tcp://127.0.0.1:" +
                    std::to_string(test::free_port()) + "/a\"\nsecondary = \"opc.tcp://127.0.0.1:" +
                    std::to_string(test::free_port()) + "/a\"\nmode = \"hot\"\n"
              : std::string()) +
         "[diagnostics]\nmax_events = " + std::to_string(max_events) +
         "\n[debug]\nfault_injection = true\n";
}

class node_it : public ::testing::Test {
protected:
  std::unique_ptr<test::node_process> start(int max_events = 10000, bool with_pair = false) {
    auto n = std::make_unique<test::node_process>(
        dir, "node", config_text(dir, max_events, with_pair), socket());
    std::string why;
    EXPECT_TRUE(n->wait_ready(why)) << why;
    return n;
  }
  std::string socket() const { return dir.path() + "/data/console.sock"; }
  std::vector<json> events(test::node_process& n, int count = 1000) {
    auto j = n.console("events " + std::to_string(count));
    EXPECT_TRUE(j.contains("events")) << j.dump();
    return j.contains("events") ? j["events"].get<std::vector<json>>() : std::vector<json>{};
  }
  std::vector<std::string> kinds(test::node_process& n) {
    std::vector<std::string> k;
    for (auto& e : events(n))
      k.push_back(e["kind"]);
    return k;
  }
  void mark(test::node_process& n) {
    // Each injected (harmless) fault records two events: console_command (who ran it), then
    // fault_injected.
    auto j = n.console("inject stall_actor console 1");
    ASSERT_EQ(j, json({{"ok", true}})) << j.dump();
  }
  test::temp_dir dir;
};

TEST_F(node_it, console_shows_status_and_events) {
  auto n = start(10000, true);
  auto s = n->console("status");
  EXPECT_EQ(s["node"]["name"], "it-node");
  EXPECT_EQ(s["node"]["role"], "independent");
  EXPECT_EQ(s["node"]["state"], "Running");
  EXPECT_EQ(s["node"]["comment"], "integration");
  EXPECT_GE(s["node"]["uptime_ms"].get<int64_t>(), 0);
  ASSERT_EQ(s["pairs"].size(), 1u);
  EXPECT_EQ(s["pairs"][0]["alias"], "line1");
  EXPECT_EQ(s["pairs"][0]["mode"], "hot");
  auto evs = events(*n);
  ASSERT_FALSE(evs.empty());
  EXPECT_EQ(evs[0]["kind"], "node_started");
  EXPECT_EQ(evs[0]["node"], "it-node");
  // The command-line console, text and JSON, one-shot.
  auto text = test::run_tandem({"console", "--socket", socket(), "-e", "status"});
  EXPECT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find("it-node (independent) Running"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("line1"), std::string::npos) << text.out;
  auto js = test::run_tandem({"console", "-c", n->config_path(), "--json", "-e", "events 1"});
  EXPECT_EQ(js.code, 0) << js.err;
  auto doc = json::parse(js.out);
  EXPECT_EQ(doc["events"].size(), 1u);
}

TEST_F(node_it, the_interactive_console_runs_commands_line_by_line) {
  auto n = start();
  auto input = dir.write("input.txt", "status\nevents 1\nbogus\nhelp\n");
  test::child_process c({test::tandem_binary(), "console", "--socket", socket()},
                        dir.file("interactive"), "", input);
  ASSERT_EQ(c.wait(20s), 0) << c.err();
  auto out = c.out();
  EXPECT_NE(out.find("it-node (independent) Running"), std::string::npos) << out;
  EXPECT_NE(out.find("node_started"), std::string::npos) << out;
  EXPECT_NE(out.find("events [N] [--follow]"), std::string::npos) << out;
  EXPECT_NE(c.err().find("unknown command 'bogus'"), std::string::npos) << c.err();
}

TEST_F(node_it, bad_console_commands_fail_with_a_message_and_the_node_keeps_serving) {
  auto n = start();
  auto bad = test::run_tandem({"console", "--socket", socket(), "-e", "frobnicate now"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("unknown command 'frobnicate'"), std::string::npos) << bad.err;
  auto badjson = test::run_tandem({"console", "--socket", socket(), "--json", "-e", "events -3"});
  EXPECT_EQ(badjson.code, 1);
  EXPECT_TRUE(json::parse(badjson.err).contains("error")) << badjson.err;
  // Garbage bytes and an overlong line on a raw connection.
  transports::console_client c;
  std::string err;
  ASSERT_TRUE(c.connect(socket(), err)) << err;
  ASSERT_TRUE(c.send_line(std::string("\x01\x02\xff garbage", 12), err));
  auto r1 = c.read_line(5000, err);
  ASSERT_TRUE(r1) << err;
  EXPECT_TRUE(json::parse(*r1).contains("error"));
  ASSERT_TRUE(c.send_line(std::string(10000, 'z'), err));
  auto r2 = c.read_line(5000, err);
  ASSERT_TRUE(r2) << err;
  EXPECT_NE(r2->find("longer than"), std::string::npos);
  ASSERT_TRUE(c.send_line("status", err));
  auto r3 = c.read_line(5000, err);
  ASSERT_TRUE(r3) << err;
  EXPECT_TRUE(json::parse(*r3).contains("node"));
  // A client that vanishes mid-command (follow) affects nothing.
  {
    transports::console_client gone;
    ASSERT_TRUE(gone.connect(socket(), err));
    ASSERT_TRUE(gone.send_line("events 5 --follow", err));
  }
  mark(*n);
  EXPECT_TRUE(n->console("status").contains("node"));
  EXPECT_TRUE(n->proc().running());
}

TEST_F(node_it, follow_prints_new_events_as_they_happen) {
  auto n = start();
  test::child_process follower(
      {test::tandem_binary(), "console", "--socket", socket(), "--json", "-e", "events 1 --follow"},
      dir.file("follow"));
  ASSERT_TRUE(
      test::wait_for([&] { return follower.out().find("\"events\"") != std::string::npos; }, 10s))
      << follower.err();
  mark(*n);
  EXPECT_TRUE(test::wait_for(
      [&] { return follower.out().find("fault_injected") != std::string::npos; }, 10s))
      << follower.out();
  follower.signal(SIGINT);
  EXPECT_EQ(follower.wait(10s), 0);
}

TEST_F(node_it, sigkill_then_restart_shows_old_events_followed_by_new_ones) {
  auto n = start();
  mark(*n);
  mark(*n);
  auto before = events(*n);
  ASSERT_EQ(before.size(), 5u);
  n->proc().signal(SIGKILL);
  ASSERT_EQ(n->proc().wait(10s), 128 + SIGKILL);
  n->restart();
  std::string why;
  ASSERT_TRUE(n->wait_ready(why)) << why;
  mark(*n);
  auto after = events(*n);
  ASSERT_EQ(after.size(), 8u);
  for (size_t i = 0; i < before.size(); ++i)
    EXPECT_EQ(after[i], before[i]) << i;
  EXPECT_EQ(after[5]["kind"], "node_started");
  EXPECT_EQ(after[6]["kind"], "console_command");
  EXPECT_EQ(after[7]["kind"], "fault_injected");
  for (size_t i = 1; i < after.size(); ++i)
    EXPECT_GT(after[i]["seq"].get<uint64_t>(), after[i - 1]["seq"].get<uint64_t>());
}

TEST_F(node_it, max_events_is_respected_across_restarts) {
  auto n = start(4);
  for (int i = 0; i < 6; ++i)
    mark(*n);
  auto first = events(*n);
  ASSERT_EQ(first.size(), 4u);
  EXPECT_EQ(first.back()["seq"], 13);
  n->proc().signal(SIGKILL);
  n->proc().wait(10s);
  n->restart();
  std::string why;
  ASSERT_TRUE(n->wait_ready(why)) << why;
  auto second = events(*n);
  ASSERT_EQ(second.size(), 4u);
  EXPECT_EQ(second[0], first[1]);
  EXPECT_EQ(second[2], first[3]);
  EXPECT_EQ(second[3]["kind"], "node_started");
  EXPECT_EQ(second[3]["seq"], 14);
}

TEST_F(node_it, sigterm_stops_cleanly_and_records_the_stop) {
  auto n = start();
  n->proc().signal(SIGTERM);
  EXPECT_EQ(n->proc().wait(20s), 0) << n->proc().err();
  EXPECT_FALSE(std::filesystem::exists(socket())) << "console socket left behind";
  EXPECT_NE(n->proc().out().find("stopped"), std::string::npos);
  n->restart();
  std::string why;
  ASSERT_TRUE(n->wait_ready(why)) << why;
  auto k = kinds(*n);
  ASSERT_GE(k.size(), 3u);
  EXPECT_EQ(k[k.size() - 2], "node_stopping");
  EXPECT_EQ(k.back(), "node_started");
  n->proc().signal(SIGINT);
  EXPECT_EQ(n->proc().wait(20s), 0);
}

TEST_F(node_it, a_second_signal_forces_the_exit) {
  auto n = start();
  // A stalled supervisor cannot finish the orderly stop; the operator insists.
  ASSERT_EQ(n->console("inject stall_actor supervisor 60000"), json({{"ok", true}}));
  n->proc().signal(SIGTERM);
  ASSERT_TRUE(
      test::wait_for([&] { return n->proc().err().find("stopping") != std::string::npos; }, 10s));
  n->proc().signal(SIGTERM);
  EXPECT_EQ(n->proc().wait(10s), 4);
}

TEST_F(node_it, a_second_node_on_the_same_data_directory_is_refused) {
  auto n = start();
  auto r = test::run_tandem({"node", "-c", n->config_path()});
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("already serving the console socket"), std::string::npos) << r.err;
  EXPECT_TRUE(n->console("status").contains("node"));
}

TEST_F(node_it, a_malformed_config_is_refused_with_file_line_and_column) {
  auto path = dir.write("bad.toml", "[node]\nname = \"ok\"\n[redundancy]\nping_interval_ms = 2000\n"
                                    "ping_timeout_ms = 1000\n[pair]\nalias = 5\n");
  auto r = test::run_tandem({"node", "-c", path});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("refusing to start"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(path + ":5:"), std::string::npos) << r.err; // ping_timeout_ms line
  EXPECT_NE(r.err.find("ping_timeout_ms"), std::string::npos) << r.err;
  auto c = test::run_tandem({"check", path});
  EXPECT_EQ(c.code, 2);
  EXPECT_NE(c.err.find("errors"), std::string::npos) << c.err;
  auto syntax = dir.write("syntax.toml", "[node]\nname = \"x\nport = 3\n");
  auto s = test::run_tandem({"node", "-c", syntax});
  EXPECT_EQ(s.code, 2);
  EXPECT_NE(s.err.find(syntax + ":2:"), std::string::npos) << s.err;
  auto missing = test::run_tandem({"node", "-c", dir.file("nope.toml")});
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("nope.toml"), std::string::npos) << missing.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("data"))) << "a refused node must not create files";
}

TEST_F(node_it, usage_errors_and_version) {
  auto v = test::run_tandem({"--version"});
  EXPECT_EQ(v.code, 0);
  EXPECT_NE(v.out.find("tandem "), std::string::npos);
  auto u = test::run_tandem({"console"});
  EXPECT_EQ(u.code, 1);
  EXPECT_NE(u.err.find("-c CONFIG or --socket PATH"), std::string::npos) << u.err;
  auto none = test::run_tandem({});
  EXPECT_EQ(none.code, 1);
  auto nodeless = test::run_tandem({"console", "--socket", dir.file("none.sock"), "-e", "status"});
  EXPECT_EQ(nodeless.code, 1);
  EXPECT_NE(nodeless.err.find("is the node running?"), std::string::npos) << nodeless.err;
}

} // namespace
