// The server face against a stock node-opcua 2.186.4 client (tests/interop/client.js, default
// options: endpointMustExist, GetEndpoints before CreateSession): read, write, browse, user-name
// login. The server runs in this process on a free 127.0.0.1 port.

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/opcua_peer.hpp"
#include "tests/support/process.hpp"
#include "transports/opcua/server/server.hpp"

using namespace tandem;
using namespace tandem::opcua;
using namespace std::chrono_literals;

namespace {

class node_client_it : public ::testing::Test {
protected:
  node_client_it() : work_(boost::asio::make_work_guard(io_)) {
    ::setenv("INTEROP_CLIENT_PKI", dir_.file("pki").c_str(), 1);
    space = std::make_shared<memory_address_space>(memory_address_space_options{
        "urn:tandem:it", "urn:tandem", "Tandem", "0.1", 240, RedundancySupport::Transparent});
    space->add_folder(NodeId(1, String("Sim")), NodeId(85), {1, "Sim"});
    space->add_variable(NodeId(1, String("Sim.Counter")), NodeId(1, String("Sim")), {1, "Counter"},
                        Variant(int32_t{42}));
    space->add_variable(NodeId(1, String("Sim.Setpoint")), NodeId(1, String("Sim")),
                        {1, "Setpoint"}, Variant(0.0), true);
    space->add_variable(NodeId(1, String("Sim.Text")), NodeId(1, String("Sim")), {1, "Text"},
                        Variant(String("hello")), true);
    space->set_user_check(
        [](const std::string& u, const std::string& p) { return u == "op1" && p == "secret1"; });
    server_options o;
    o.application_uri = "urn:tandem:it";
    server = server_endpoint::create(io_, o);
    server->add_endpoint("/sim", space);
    auto p = server->start();
    EXPECT_TRUE(p.ok());
    port_ = p.ok() ? *p : 0;
    thread_ = std::thread([this] { io_.run(); });
  }
  ~node_client_it() override {
    server->stop();
    work_.reset();
    io_.stop();
    thread_.join();
    // The server's strands belong to io_, which is declared (and so destroyed) after it.
    server.reset();
  }

  void SetUp() override {
    if (!std::filesystem::exists(test::interop_dir() + "/node_modules/node-opcua"))
      GTEST_SKIP() << "node-opcua is not installed in " << test::interop_dir();
  }

  /// Stops the server and starts a fresh one (no sessions) on the same port, as a failover to
  /// another node would look to the client.
  bool restart_server() {
    server->stop();
    test::wait_for([&] { return server->connection_count() == 0; }, 3s);
    server_options o;
    o.application_uri = "urn:tandem:it";
    o.port = port_;
    auto fresh = server_endpoint::create(io_, o);
    fresh->add_endpoint("/sim", space);
    std::string why;
    bool started = test::wait_for(
        [&] {
          auto r = fresh->start();
          if (!r) why = r.error().reason;
          return r.ok();
        },
        3s);
    EXPECT_TRUE(started) << why;
    server = fresh;
    return started;
  }

  std::string url() const { return "opc.tcp://127.0.0.1:" + std::to_string(port_) + "/sim"; }

  /// Runs client.js; returns its exit code and the JSON lines it printed.
  struct run {
    int code = -1;
    std::vector<nlohmann::json> lines;
    std::string err;
  };
  run client(std::vector<std::string> args) {
    std::vector<std::string> argv{"node", test::interop_dir() + "/client.js"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--timeout-ms");
    argv.push_back("8000");
    test::child_process proc(argv, dir_.file("client" + std::to_string(++runs_)));
    run out;
    auto code = proc.wait(20s);
    out.code = code ? *code : -1;
    out.err = proc.err();
    std::istringstream in(proc.out());
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded()) out.lines.push_back(std::move(j));
    }
    return out;
  }

  std::shared_ptr<memory_address_space> space;
  std::shared_ptr<server_endpoint> server;

private:
  test::temp_dir dir_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
  uint16_t port_ = 0;
  int runs_ = 0;
};

TEST_F(node_client_it, node_opcua_reads_server_object_and_host_variables) {
  auto r = client(
      {"read", url(), "i=2267", "ns=1;s=Sim.Counter", "i=2255", "i=3709", "i=2259", "ns=1;s=Nope"});
  ASSERT_EQ(r.code, 0) << r.err.substr(0, 2000);
  ASSERT_EQ(r.lines.size(), 1u);
  auto& v = r.lines[0]["values"];
  ASSERT_EQ(v.size(), 6u) << r.lines[0].dump();
  EXPECT_EQ(v[0]["value"], 240);
  EXPECT_EQ(v[0]["status"], "Good");
  EXPECT_EQ(v[1]["value"], 42);
  EXPECT_EQ(v[1]["dataType"], "Int32");
  EXPECT_EQ(v[2]["value"][1], "urn:tandem:it");
  EXPECT_EQ(v[3]["value"], 4);
  EXPECT_EQ(v[4]["value"], 0);
  EXPECT_EQ(v[5]["status"], "BadNodeIdUnknown");
  EXPECT_TRUE(test::wait_for([&] { return server->session_count() == 0; }, 3s))
      << "node-opcua closes its session";
}

TEST_F(node_client_it, node_opcua_writes_and_reads_back) {
  auto w = client({"write", url(), "ns=1;s=Sim.Setpoint", "Double", "3.5"});
  ASSERT_EQ(w.code, 0) << w.err.substr(0, 2000);
  ASSERT_EQ(w.lines.size(), 1u);
  EXPECT_EQ(w.lines[0]["status"], "Good");
  auto dv = space->read(NodeId(1, String("Sim.Setpoint")), attribute_id::Value);
  ASSERT_TRUE(dv.value);
  EXPECT_DOUBLE_EQ(*dv.value->get_if<double>(), 3.5);

  auto ro = client({"write", url(), "ns=1;s=Sim.Counter", "Int32", "1"});
  ASSERT_EQ(ro.code, 0) << ro.err.substr(0, 2000);
  EXPECT_EQ(ro.lines.at(0)["status"], "BadNotWritable");
}

TEST_F(node_client_it, node_opcua_browses_the_objects_folder) {
  auto b = client({"browse", url()});
  ASSERT_EQ(b.code, 0) << b.err.substr(0, 2000);
  ASSERT_EQ(b.lines.size(), 1u);
  std::set<std::string> ids;
  for (auto& n : b.lines[0]["nodes"])
    ids.insert(n["nodeId"].get<std::string>());
  EXPECT_TRUE(ids.count("ns=1;s=Sim")) << b.lines[0].dump();
  EXPECT_TRUE(ids.count("ns=1;s=Sim.Counter"));
  EXPECT_TRUE(ids.count("ns=1;s=Sim.Text"));
  EXPECT_TRUE(ids.count("i=2253"));
  EXPECT_TRUE(ids.count("i=2267"));
}

TEST_F(node_client_it, node_opcua_logs_in_with_a_user_name) {
  auto ok = client({"read", url(), "i=2267", "--user", "op1", "--password", "secret1"});
  ASSERT_EQ(ok.code, 0) << ok.err.substr(0, 2000);
  EXPECT_EQ(ok.lines.at(0)["values"][0]["value"], 240);
  auto bad = client({"read", url(), "i=2267", "--user", "op1", "--password", "wrong"});
  EXPECT_EQ(bad.code, 1);
  ASSERT_FALSE(bad.lines.empty());
  EXPECT_TRUE(bad.lines.back().contains("error"));
}

TEST_F(node_client_it, node_opcua_subscribes_and_receives_data_changes) {
  std::atomic<bool> done{false};
  std::thread ticker([&] {
    for (int32_t n = 0; !done; ++n) {
      space->set_value(NodeId(1, String("Sim.Counter")), DataValue(Variant(n)));
      std::this_thread::sleep_for(50ms);
    }
  });
  auto s = client({"subscribe", url(), "ns=1;s=Sim.Counter", "ns=1;s=Nope", "--publish-ms", "100",
                   "--seconds", "2"});
  done = true;
  ticker.join();
  ASSERT_EQ(s.code, 0) << s.err.substr(0, 2000);
  nlohmann::json subscribed, summary;
  for (auto& l : s.lines) {
    if (l.value("event", "") == "subscribed") subscribed = l;
    if (l.value("event", "") == "summary") summary = l;
  }
  ASSERT_FALSE(subscribed.is_null()) << s.lines.size();
  EXPECT_EQ(subscribed["items"], 2);
  EXPECT_EQ(subscribed["failed"], 1);
  EXPECT_EQ(subscribed["first_failure"]["status"], "BadNodeIdUnknown");
  ASSERT_FALSE(summary.is_null());
  EXPECT_EQ(summary["items_seen"], 1);
  EXPECT_GE(summary["notifications"].get<int>(), 10) << summary.dump();
}

TEST_F(node_client_it, node_opcua_reconnects_to_a_restarted_server_face) {
  std::atomic<bool> restarted{false}, new_session{false};
  std::thread restarter([&] {
    if (!test::wait_for([&] { return server->session_count() == 1; }, 10s)) {
      ADD_FAILURE() << "no session";
      return;
    }
    std::this_thread::sleep_for(500ms);
    if (!restart_server()) {
      ADD_FAILURE() << "restart failed, connections " << server->connection_count();
      return;
    }
    restarted = true;
    new_session = test::wait_for([&] { return server->session_count() == 1; }, 6s);
  });
  auto s = client({"session", url(), "--seconds", "4", "--interval-ms", "100"});
  restarter.join();
  ASSERT_EQ(s.code, 0) << s.err.substr(0, 2000);
  ASSERT_TRUE(restarted);
  EXPECT_TRUE(new_session) << "node-opcua made a new session on the fresh server";
  nlohmann::json summary;
  for (auto& l : s.lines)
    if (l.value("event", "") == "summary") summary = l;
  ASSERT_FALSE(summary.is_null());
  auto& ev = summary["events"];
  EXPECT_GE(ev.value("connection_lost", 0), 1) << summary.dump();
  EXPECT_GE(ev.value("connection_reestablished", 0) + ev.value("after_reconnection", 0), 1)
      << summary.dump();
  EXPECT_GT(summary["reads"].get<int>(), 10);
}

} // namespace
