// `tandem ua` against a real node-opcua server: endpoints, read, write, browse, watch, errors.

#include <csignal>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/opcua_peer.hpp"
#include "tests/support/process.hpp"

using namespace tandem;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

class ua_cli : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir = new test::temp_dir();
    server = new test::node_opcua_server(*dir, 0, {"--items", "50", "--rate-ms", "50"});
  }
  static void TearDownTestSuite() {
    delete server;
    delete dir;
  }
  void SetUp() override { ASSERT_TRUE(server->ok()) << server->why(); }
  json run(std::vector<std::string> args, int expect_code = 0) {
    args.insert(args.begin(), "ua");
    auto r = test::run_tandem(args, 60s);
    EXPECT_EQ(r.code, expect_code) << r.err << r.out;
    auto lines = r.out;
    auto j = json::parse(lines.substr(0, lines.find('\n')), nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
    return j;
  }
  static test::temp_dir* dir;
  static test::node_opcua_server* server;
};
test::temp_dir* ua_cli::dir = nullptr;
test::node_opcua_server* ua_cli::server = nullptr;

TEST_F(ua_cli, endpoints_echo_the_dialled_url) {
  auto j = run({"endpoints", server->url(), "--json"});
  ASSERT_FALSE(j["endpoints"].empty());
  EXPECT_EQ(j["endpoints"][0]["url"], server->url());
  EXPECT_EQ(j["endpoints"][0]["security_mode"], 1);
}

TEST_F(ua_cli, reads_values_with_status_and_timestamps) {
  auto j = run({"read", server->url(), "ns=1;s=Sim.Counter", "i=2259", "i=2267", "--json"});
  auto& v = j["values"];
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0]["type"], "Int32");
  EXPECT_TRUE(v[0]["value"].is_number());
  EXPECT_EQ(v[0]["status"].get<std::string>().rfind("Good", 0), 0u);
  EXPECT_TRUE(v[0]["source_time"].is_string());
  EXPECT_EQ(v[1]["value"], 0); // ServerState Running
  EXPECT_EQ(v[2]["value"], 255);
}

TEST_F(ua_cli, an_unknown_node_reads_as_bad_and_fails_the_command) {
  auto j = run({"read", server->url(), "ns=1;s=Sim.DoesNotExist", "--json"}, 1);
  EXPECT_NE(j["values"][0]["status"].get<std::string>().find("BadNodeIdUnknown"),
            std::string::npos);
}

TEST_F(ua_cli, writes_with_the_nodes_own_type_and_reads_it_back) {
  auto w = run({"write", server->url(), "ns=1;s=Sim.Setpoint", "12.25", "--json"});
  EXPECT_EQ(w["status"].get<std::string>().rfind("Good", 0), 0u);
  auto r = run({"read", server->url(), "ns=1;s=Sim.Setpoint", "--json"});
  EXPECT_EQ(r["values"][0]["value"], 12.25);
  auto t = run({"write", server->url(), "ns=1;s=Sim.Text", "hello plant", "--json"});
  EXPECT_EQ(t["status"].get<std::string>().rfind("Good", 0), 0u);
  auto rt = run({"read", server->url(), "ns=1;s=Sim.Text", "--json"});
  EXPECT_EQ(rt["values"][0]["value"], "hello plant");
}

TEST_F(ua_cli, a_value_of_the_wrong_type_is_refused_before_sending) {
  auto j = run({"write", server->url(), "ns=1;s=Sim.Setpoint", "twelve", "--json"}, 1);
  EXPECT_NE(j["error"].get<std::string>().find("is not a Double"), std::string::npos);
}

TEST_F(ua_cli, browses_the_whole_sim_tree) {
  auto j = run({"browse", server->url(), "--depth", "3", "--json"});
  std::set<std::string> nodes;
  for (auto& n : j["nodes"])
    nodes.insert(n["node"]);
  EXPECT_TRUE(nodes.count("ns=1;s=Sim.Counter")) << j.dump().substr(0, 500);
  EXPECT_TRUE(nodes.count("ns=1;s=Sim.Item0049"));
  EXPECT_TRUE(nodes.count("i=2253")); // Server object
}

TEST_F(ua_cli, watches_live_changes) {
  auto r = test::run_tandem({"ua", "watch", server->url(), "ns=1;s=Sim.Counter", "--interval-ms",
                             "50", "--count", "5", "--json"},
                            60s);
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<int64_t> values;
  size_t pos = 0;
  while (pos < r.out.size()) {
    auto nl = r.out.find('\n', pos);
    auto j = json::parse(r.out.substr(pos, nl - pos));
    values.push_back(j["value"]);
    pos = nl + 1;
  }
  ASSERT_GE(values.size(), 5u);
  for (size_t i = 1; i < values.size(); ++i)
    EXPECT_GT(values[i], values[i - 1]);
}

TEST_F(ua_cli, logs_in_with_a_user_name_and_an_encrypted_password) {
  auto ok =
      run({"read", server->url(), "i=2259", "--user", "op1", "--password", "secret1", "--json"});
  EXPECT_EQ(ok["values"][0]["value"], 0);
  auto bad =
      run({"read", server->url(), "i=2259", "--user", "op1", "--password", "nope", "--json"}, 1);
  EXPECT_NE(bad["error"].get<std::string>().find(
                "login as 'op1' refused by the server: BadUserAccessDenied"),
            std::string::npos)
      << bad.dump();
}

TEST(ua_cli_spec, browses_and_reads_an_address_space_the_test_defines) {
  test::temp_dir d;
  auto spec = d.write("plant.json", R"({"rateMs": 50, "folders": [{"name": "Plant",
    "variables": [{"name": "Alarm", "type": "Boolean", "writable": true, "value": false},
                  {"name": "Temp", "type": "Float", "sim": "sine", "period": 20,
                   "badWhen": "Plant.Alarm", "badStatus": "BadSensorFailure"},
                  {"name": "Speeds", "type": "UInt16", "length": 4, "sim": "counter"}],
    "folders": [{"name": "Line1", "variables": [{"name": "Tag", "type": "Int32", "sim": "item", "count": 3, "width": 2}]}]}]})");
  test::node_opcua_server srv(d, 0, {"--spec", spec});
  ASSERT_TRUE(srv.ok()) << srv.why();
  auto b =
      test::run_tandem({"ua", "browse", srv.url(), "ns=1;s=Plant", "--depth", "2", "--json"}, 60s);
  ASSERT_EQ(b.code, 0) << b.err;
  ASSERT_NE(b.out.find("Plant"), std::string::npos) << b.out << b.err;
  std::set<std::string> nodes;
  auto doc = json::parse(b.out);
  for (auto& n : doc["nodes"])
    nodes.insert(n["node"]);
  EXPECT_EQ(nodes,
            (std::set<std::string>{"ns=1;s=Plant.Alarm", "ns=1;s=Plant.Temp", "ns=1;s=Plant.Speeds",
                                   "ns=1;s=Plant.Line1", "ns=1;s=Plant.Line1.Tag00",
                                   "ns=1;s=Plant.Line1.Tag01", "ns=1;s=Plant.Line1.Tag02"}));
  auto r = test::run_tandem({"ua", "read", srv.url(), "ns=1;s=Plant.Speeds", "--json"}, 60s);
  ASSERT_EQ(r.code, 0) << r.err;
  auto v = json::parse(r.out)["values"][0];
  EXPECT_EQ(v["type"], "UInt16");
  ASSERT_TRUE(v["value"].is_array());
  EXPECT_EQ(v["value"].size(), 4u);
  // Quality: the alarm makes Temp bad, and the read says so (exit 1).
  auto w = test::run_tandem({"ua", "write", srv.url(), "ns=1;s=Plant.Alarm", "true"}, 60s);
  ASSERT_EQ(w.code, 0) << w.err;
  ASSERT_TRUE(test::wait_for(
      [&] {
        auto t = test::run_tandem({"ua", "read", srv.url(), "ns=1;s=Plant.Temp", "--json"}, 60s);
        if (t.code != 1) return false;
        auto st = json::parse(t.out)["values"][0]["status"].get<std::string>();
        return st.find("0x808C0000") != std::string::npos; // BadSensorFailure
      },
      10s));
}

TEST_F(ua_cli, bad_arguments_and_unreachable_servers_give_clear_errors) {
  auto j = run({"read", server->url(), "ns=x;s=oops", "--json"}, 1);
  EXPECT_NE(j["error"].get<std::string>().find("is not a NodeId"), std::string::npos);
  auto u = run({"read", "http://127.0.0.1:1/x", "i=2258", "--json"}, 1);
  EXPECT_NE(u["error"].get<std::string>().find("opc.tcp"), std::string::npos);
  auto port = test::free_port();
  auto c = run({"read", "opc.tcp://127.0.0.1:" + std::to_string(port), "i=2258", "--json"}, 1);
  EXPECT_NE(c["error"].get<std::string>().find("cannot connect"), std::string::npos) << c.dump();
}

} // namespace
