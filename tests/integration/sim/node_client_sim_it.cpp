// `tandem sim` against a stock node-opcua 2.186.4 client (tests/interop/client.js, default
// OPCUAClient options: endpointMustExist left true, GetEndpoints before CreateSession): browse of
// the whole tree, typed reads with timestamps on the tick grid, writes and their refusals, 1000
// monitored items across several secure channel token renewals, and sessions closed at the end.
//
// Every server here allows `max_sessions` sessions; after the node-opcua runs the test opens
// exactly that many sessions with Tandem's own client (and one more is refused): so no session of
// node-opcua was left behind on the server.

#include <cmath>
#include <map>
#include <set>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <gtest/gtest.h>

#include "sim_harness.hpp"

using namespace tandem;
using namespace tandem::opcua;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr int64_t rate_ms = 100;

class node_client_sim_it : public ::testing::Test {
protected:
  node_client_sim_it() : work_(boost::asio::make_work_guard(io_)) {
    thread_ = std::thread([this] { io_.run(); });
  }
  ~node_client_sim_it() override {
    work_.reset();
    io_.stop();
    thread_.join();
  }

  void SetUp() override {
    if (!test::node_opcua_installed())
      GTEST_SKIP() << "node-opcua is not installed in tests/interop (run tools/install-deps.sh)";
  }

  /// Starts `tandem sim -c` on the built-in address space with `items` items and these
  /// [server] lines (max_sessions is set from `max_sessions`).
  void start_sim(int64_t items, int max_sessions, const std::string& server_lines = "") {
    max_sessions_ = max_sessions;
    auto cfg = dir_.write("sim.toml",
                          test::builtin_sim_toml(rate_ms, items,
                                                 "max_sessions = " + std::to_string(max_sessions) +
                                                     "\n" + server_lines));
    sim_ = std::make_unique<test::sim_process>(dir_, std::vector<std::string>{"-c", cfg});
    ASSERT_TRUE(sim_->ok()) << sim_->why();
    std::string why;
    ASSERT_TRUE(test::prepare_node_pki(sim_->url(), why)) << why;
  }

  test::node_run client(std::vector<std::string> args) {
    args.push_back("--timeout-ms");
    args.push_back("15000");
    return test::run_node_client(dir_, args, "client" + std::to_string(++runs_));
  }

  /// Opens as many sessions as the server allows, all at once, with Tandem's client: they all
  /// get one only if nobody else holds a session. One more is refused with BadTooManySessions
  /// (so the check means something). The sim must still answer reads afterwards.
  void expect_no_session_left() {
    std::vector<std::unique_ptr<test::ua_session>> s;
    for (int i = 0; i < max_sessions_; ++i) {
      s.push_back(std::make_unique<test::ua_session>(io_, sim_->url()));
      s.back()->connect_async();
    }
    ASSERT_TRUE(test::wait_for(
        [&] {
          for (auto& x : s)
            if (!x->connect_done()) return false;
          return true;
        },
        10s));
    for (auto& x : s) {
      auto e = x->connect_error();
      EXPECT_FALSE(e) << "a session is still held on the server: " << e->reason;
    }
    test::ua_session extra(io_, sim_->url());
    auto e = extra.connect();
    ASSERT_TRUE(e) << "max_sessions is not enforced, the check proves nothing";
    EXPECT_EQ(e->code.code(), status::BadTooManySessions.code()) << e->reason;
    auto r = s.front()->read({NodeId(node_ids::Server_ServerStatus_State)});
    ASSERT_TRUE(r) << r.error().reason;
    EXPECT_EQ(*r->at(0).value->get_if<int32_t>(), 0) << "the sim is Running";
    EXPECT_TRUE(sim_->proc().running());
  }

  test::temp_dir dir_;
  std::unique_ptr<test::sim_process> sim_;
  boost::asio::io_context io_;

private:
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
  int max_sessions_ = 1;
  int runs_ = 0;
};

const char* const sim_variables[] = {"Counter", "Ramp",     "Sine", "Heartbeat",
                                     "Random",  "Setpoint", "Text", "Array"};

TEST_F(node_client_sim_it, browses_the_whole_tree_with_the_right_node_classes) {
  constexpr int items = 20;
  start_sim(items, 2);
  auto b = client({"browse", sim_->url()});
  ASSERT_EQ(b.code, 0) << b.err.substr(0, 2000);
  ASSERT_EQ(b.lines.size(), 1u);
  struct node_info {
    std::string browse_name, node_class, parent;
  };
  std::map<std::string, node_info> nodes;
  for (auto& n : b.lines[0]["nodes"]) {
    auto id = n["nodeId"].get<std::string>();
    EXPECT_TRUE(nodes
                    .emplace(id, node_info{n["browseName"].get<std::string>(),
                                           n["nodeClass"].get<std::string>(),
                                           n["parent"].get<std::string>()})
                    .second)
        << "listed twice: " << id;
  }
  // The tree hangs together: every parent is Objects or a node of the listing.
  for (auto& [id, n] : nodes)
    EXPECT_TRUE(n.parent == "i=85" || nodes.count(n.parent)) << id << " under " << n.parent;

  ASSERT_TRUE(nodes.count("ns=1;s=Sim")) << b.lines[0].dump().substr(0, 3000);
  EXPECT_EQ(nodes["ns=1;s=Sim"].node_class, "Object");
  EXPECT_EQ(nodes["ns=1;s=Sim"].browse_name, "1:Sim");
  EXPECT_EQ(nodes["ns=1;s=Sim"].parent, "i=85");
  std::set<std::string> expected;
  for (const char* v : sim_variables)
    expected.insert(v);
  for (int i = 0; i < items; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "Item%04d", i);
    expected.insert(name);
  }
  for (const auto& name : expected) {
    std::string id = "ns=1;s=Sim." + name;
    ASSERT_TRUE(nodes.count(id)) << "missing " << id;
    EXPECT_EQ(nodes[id].node_class, "Variable") << id;
    EXPECT_EQ(nodes[id].browse_name, "1:" + name) << id;
    EXPECT_EQ(nodes[id].parent, "ns=1;s=Sim") << id;
  }
  size_t under_sim = 0;
  for (auto& [id, n] : nodes)
    if (n.parent == "ns=1;s=Sim") ++under_sim;
  EXPECT_EQ(under_sim, expected.size()) << "Sim has children that are not in the config";
  // The standard Server object subset.
  EXPECT_EQ(nodes["i=2253"].node_class, "Object");
  EXPECT_EQ(nodes["i=2267"].node_class, "Variable");
  EXPECT_EQ(nodes["i=2259"].node_class, "Variable");
  EXPECT_EQ(nodes["i=2255"].node_class, "Variable");

  // Tandem's own client finds exactly the same tree.
  test::ua_session own(io_, sim_->url());
  ASSERT_FALSE(own.connect());
  std::set<std::string> own_ids;
  std::vector<NodeId> level{NodeId(node_ids::ObjectsFolder)};
  std::set<std::string> visited{"i=85"};
  while (!level.empty()) {
    std::vector<NodeId> next;
    for (auto& n : level) {
      auto refs = own.browse(n, 7); // small pages: continuation points too
      ASSERT_TRUE(refs) << refs.error().reason;
      for (auto& r : *refs) {
        auto key = r.node_id.node_id.to_string();
        if (!visited.insert(key).second) continue;
        own_ids.insert(key);
        next.push_back(r.node_id.node_id);
      }
    }
    level = std::move(next);
  }
  std::set<std::string> node_ids_seen;
  for (auto& [id, n] : nodes)
    node_ids_seen.insert(id);
  EXPECT_EQ(own_ids, node_ids_seen);
  own.disconnect();
  expect_no_session_left();
}

TEST_F(node_client_sim_it, reads_typed_good_values_stamped_on_the_tick_grid) {
  start_sim(5, 2);
  std::vector<std::string> args{"read", sim_->url()};
  for (const char* v : sim_variables)
    args.push_back(std::string("ns=1;s=Sim.") + v);
  for (const char* extra : {"ns=1;s=Sim.Item0004", "i=2267", "i=2259", "i=2255"})
    args.push_back(extra);
  auto before_ms = DateTime::now().to_unix_ms();
  auto r = client(args);
  auto after_ms = DateTime::now().to_unix_ms();
  ASSERT_EQ(r.code, 0) << r.err.substr(0, 2000);
  ASSERT_EQ(r.lines.size(), 1u);
  std::map<std::string, json> v;
  for (auto& x : r.lines[0]["values"])
    v[x["nodeId"].get<std::string>()] = x;
  ASSERT_EQ(v.size(), args.size() - 2) << r.lines[0].dump();
  for (auto& [id, x] : v) {
    EXPECT_EQ(x["status"], "Good") << id;
    EXPECT_FALSE(x["serverTimestamp"].is_null()) << id;
  }
  auto sim = [&](const char* name) -> json& { return v[std::string("ns=1;s=Sim.") + name]; };
  EXPECT_EQ(sim("Counter")["dataType"], "Int32");
  EXPECT_EQ(sim("Ramp")["dataType"], "Double");
  EXPECT_EQ(sim("Sine")["dataType"], "Double");
  EXPECT_EQ(sim("Heartbeat")["dataType"], "Boolean");
  EXPECT_EQ(sim("Random")["dataType"], "Double");
  EXPECT_EQ(sim("Setpoint")["dataType"], "Double");
  EXPECT_EQ(sim("Text")["dataType"], "String");
  EXPECT_EQ(sim("Array")["dataType"], "Double");
  EXPECT_EQ(sim("Item0004")["dataType"], "Double");
  EXPECT_EQ(v["i=2267"]["dataType"], "Byte");
  EXPECT_EQ(v["i=2267"]["value"], 255);
  EXPECT_EQ(v["i=2259"]["value"], 0); // Running
  EXPECT_EQ(v["i=2255"]["value"][1], sim_->namespace_uri());
  EXPECT_EQ(sim("Setpoint")["value"], 0.0);
  EXPECT_EQ(sim("Text")["value"], "hello");

  // Generated values carry the instant of their tick (a multiple of rate_ms, at most a few
  // seconds old) and are the documented functions of it (docs/SIM.md).
  for (const char* name : {"Counter", "Ramp", "Sine", "Heartbeat", "Random", "Array", "Item0004"}) {
    auto& x = sim(name);
    auto ts = DateTime::parse_rfc3339(x["sourceTimestamp"].get<std::string>());
    ASSERT_TRUE(ts) << name << " " << x.dump();
    int64_t ms = ts->to_unix_ms();
    EXPECT_EQ(ms % rate_ms, 0) << name << " stamped off the grid: " << x.dump();
    EXPECT_GE(ms, before_ms - 10000) << name;
    EXPECT_LE(ms, after_ms) << name;
    int64_t k = ms / rate_ms;
    if (std::string(name) == "Counter")
      EXPECT_EQ(x["value"].get<int64_t>(), k % 2147483648LL) << x.dump();
    if (std::string(name) == "Ramp")
      EXPECT_NEAR(x["value"].get<double>(), static_cast<double>(k % 100), 1e-9) << x.dump();
    if (std::string(name) == "Sine")
      EXPECT_NEAR(x["value"].get<double>(), std::sin(2 * M_PI * static_cast<double>(k % 100) / 100),
                  1e-9)
          << x.dump();
    if (std::string(name) == "Heartbeat") EXPECT_EQ(x["value"].get<bool>(), k % 2 == 0) << x.dump();
    if (std::string(name) == "Random") {
      EXPECT_GE(x["value"].get<double>(), 0.0);
      EXPECT_LE(x["value"].get<double>(), 100.0);
    }
    if (std::string(name) == "Item0004")
      EXPECT_EQ(x["value"].get<double>(), static_cast<double>(k)) << x.dump();
    if (std::string(name) == "Array") {
      auto& a = x["value"];
      ASSERT_TRUE(a.is_array()) << x.dump();
      ASSERT_EQ(a.size(), 10u);
      for (size_t i = 0; i < a.size(); ++i)
        EXPECT_EQ(a[i].get<double>(), static_cast<double>(k + static_cast<int64_t>(i)));
    }
  }
  expect_no_session_left();
}

TEST_F(node_client_sim_it, writes_setpoint_and_text_and_is_refused_elsewhere) {
  start_sim(0, 2);
  auto w = client({"write",
                   sim_->url(), //
                   "ns=1;s=Sim.Setpoint",
                   "Double",
                   "3.5", //
                   "ns=1;s=Sim.Text",
                   "String",
                   "written by node-opcua", //
                   "ns=1;s=Sim.Counter",
                   "Int32",
                   "1", // generated: read-only
                   "ns=1;s=Sim.Setpoint",
                   "String",
                   "4.5", // wrong type
                   "ns=1;s=Sim.Text",
                   "Double",
                   "7", // wrong type
                   "ns=1;s=Sim.Nope",
                   "Double",
                   "1"});
  ASSERT_EQ(w.code, 0) << w.err.substr(0, 2000);
  ASSERT_EQ(w.lines.size(), 1u);
  EXPECT_EQ(w.lines[0]["statuses"],
            json::parse(R"(["Good","Good","BadNotWritable","BadTypeMismatch","BadTypeMismatch",
                            "BadNodeIdUnknown"])"))
      << w.lines[0].dump();

  // Read back by another node-opcua session: the good writes stuck, the refused ones changed
  // nothing.
  auto r = client({"read", sim_->url(), "ns=1;s=Sim.Setpoint", "ns=1;s=Sim.Text"});
  ASSERT_EQ(r.code, 0) << r.err.substr(0, 2000);
  auto& v = r.lines.at(0)["values"];
  EXPECT_EQ(v[0]["value"], 3.5);
  EXPECT_EQ(v[0]["dataType"], "Double");
  EXPECT_EQ(v[0]["status"], "Good");
  EXPECT_EQ(v[1]["value"], "written by node-opcua");
  EXPECT_EQ(v[1]["dataType"], "String");
  expect_no_session_left();
}

TEST_F(node_client_sim_it, subscribes_to_1000_items_across_secure_channel_renewals) {
  constexpr int seconds = 4;
  // Tokens live 1 s: node-opcua renews every 750 ms, five times or so during the run.
  start_sim(1000, 2, "token_lifetime_ms = 1000\n");
  auto s = client({"subscribe", sim_->url(), "--items", "1000", "--publish-ms", "100",
                   "--queue-size", "5", "--seconds", std::to_string(seconds), "--ts-grid-ms",
                   std::to_string(rate_ms), "--channel-events"});
  ASSERT_EQ(s.code, 0) << s.err.substr(0, 2000);
  auto sub = s.event("subscribed");
  auto sum = s.event("summary");
  ASSERT_FALSE(sub.is_null()) << s.lines.size();
  ASSERT_FALSE(sum.is_null()) << s.lines.size();
  EXPECT_EQ(sub["items"], 1000);
  EXPECT_EQ(sub["failed"], 0) << sub.dump();
  EXPECT_EQ(sub["revised_publish_ms"], 100);

  // Every item reported, each about once per tick (first value + one per 100 ms tick; queue 5
  // keeps ticks from being merged, a loaded sim may skip one).
  const int per_item = 1 + seconds * 1000 / static_cast<int>(rate_ms);
  EXPECT_EQ(sum["items_seen"], 1000) << sum.dump();
  EXPECT_GE(sum["per_item_min"].get<int>(), per_item * 3 / 4) << sum.dump();
  EXPECT_LE(sum["per_item_max"].get<int>(), per_item + 3) << sum.dump();
  EXPECT_LE(sum["per_item_max"].get<int>() - sum["per_item_min"].get<int>(), 3)
      << "all items of one tick travel together: " << sum.dump();
  EXPECT_GE(sum["notifications"].get<int>(), 1000 * sum["per_item_min"].get<int>());
  EXPECT_LE(sum["notifications"].get<int>(), 1000 * sum["per_item_max"].get<int>());
  EXPECT_EQ(sum["off_grid"], 0) << sum.dump();
  EXPECT_EQ(sum["source_gap_ms_min"], rate_ms) << sum.dump();
  EXPECT_LE(sum["source_gap_ms_max"].get<int>(), 3 * rate_ms) << sum.dump();
  EXPECT_LE(sum["arrival_gap_ms_max"].get<int>(), 1000)
      << "data stopped for a while around a renewal: " << sum.dump();
  for (auto& st : s.events("stats"))
    EXPECT_GE(st["notifications"].get<int>(), 5000) << st.dump();

  // Several renewals on the same channel, no reconnection.
  auto renewals = s.events("token_renewed");
  EXPECT_GE(renewals.size(), 3u) << sum.dump();
  int64_t last_token = 1;
  for (auto& r : renewals) {
    EXPECT_EQ(r["lifetime_ms"], 1000) << r.dump();
    EXPECT_EQ(r["channel_id"], renewals.front()["channel_id"]) << r.dump();
    EXPECT_GT(r["token_id"].get<int64_t>(), last_token) << r.dump();
    last_token = r["token_id"].get<int64_t>();
  }
  for (auto& [name, count] : sum["events"].items())
    EXPECT_EQ(name, "token_renewed") << "unexpected client event " << name << " x" << count;
  EXPECT_EQ(sum["events"].value("token_renewed", 0), static_cast<int>(renewals.size()));
  std::printf("[ figures ] 1000 items %d s: %s renewals, per item %d..%d, arrival gap max %d "
              "ms, lag p50/p99/max %s/%s/%s ms\n",
              seconds, std::to_string(renewals.size()).c_str(), sum["per_item_min"].get<int>(),
              sum["per_item_max"].get<int>(), sum["arrival_gap_ms_max"].get<int>(),
              sum["lag_ms_p50"].dump().c_str(), sum["lag_ms_p99"].dump().c_str(),
              sum["lag_ms_max"].dump().c_str());
  expect_no_session_left();
}

} // namespace
