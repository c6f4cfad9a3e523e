// The OPC-SERVER actor over its real link against a node-opcua server: connect, 1,000 monitored
// items, kill -9 and restart (reconnect, items restored), SIGSTOP (status timeout), a server
// that accepts TCP but never answers.

#include <atomic>
#include <csignal>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <gtest/gtest.h>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/atom.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/opc_server.hpp"
#include "tests/support/opcua_peer.hpp"
#include "tests/support/process.hpp"

using namespace tandem;
using namespace std::chrono_literals;

namespace {

/// What the owner heard, shared with the test thread.
struct heard {
  std::mutex m;
  std::vector<server_state_change> states;
  std::set<uint32_t> handles;
  std::map<uint32_t, uint64_t> per_handle; ///< updates per handle since clear_data
  uint64_t updates = 0;
  server_conn_state state() {
    std::lock_guard<std::mutex> g(m);
    return states.empty() ? server_conn_state::idle : states.back().state;
  }
  std::string last_detail() {
    std::lock_guard<std::mutex> g(m);
    return states.empty() ? "" : states.back().detail;
  }
  void clear_data() {
    std::lock_guard<std::mutex> g(m);
    handles.clear();
    per_handle.clear();
    updates = 0;
  }
  uint64_t of(uint32_t h) {
    std::lock_guard<std::mutex> g(m);
    auto it = per_handle.find(h);
    return it == per_handle.end() ? 0 : it->second;
  }
  size_t distinct() {
    std::lock_guard<std::mutex> g(m);
    return handles.size();
  }
};

class opc_server_it : public ::testing::Test {
protected:
  opc_server_it() : sys(make_cfg()), work(boost::asio::make_work_guard(io)) {
    io_thread = std::thread([this] { io.run(); });
  }
  ~opc_server_it() override {
    if (srv) caf::anon_send_exit(srv, caf::exit_reason::user_shutdown);
    if (owner) caf::anon_send_exit(owner, caf::exit_reason::user_shutdown);
    sys.await_all_actors_done();
    work.reset();
    io.stop();
    io_thread.join();
  }
  static caf::actor_system_config& make_cfg() {
    static caf::actor_system_config cfg;
    cfg.set("scheduler.policy", caf::atom("sharing"));
    return cfg;
  }
  void start(const std::string& url, caf::timespan status_timeout = 1s) {
    auto* h = &log;
    owner = sys.spawn([h](server_listener_actor::pointer) -> server_listener_actor::behavior_type {
      return {[h](server_state_change& c) {
                std::lock_guard<std::mutex> g(h->m);
                h->states.push_back(c);
              },
              [h](server_data& d) {
                std::lock_guard<std::mutex> g(h->m);
                for (auto& u : d.updates) {
                  h->handles.insert(u.handle);
                  ++h->per_handle[u.handle];
                }
                h->updates += d.updates.size();
              }};
    });
    opc_server_config c;
    c.name = "line1/primary";
    c.url = url;
    c.status_interval = 500ms;
    c.status_timeout = status_timeout;
    c.backoff_min = 200ms;
    c.backoff_max = 1s;
    c.publishing_ms = 100;
    c.owner = owner;
    auto* io_ptr = &io;
    c.make_link = [io_ptr, url](std::shared_ptr<opcua::link_events> ev) {
      opcua::ua_link_options o;
      o.url = url;
      o.connect_timeout = 2s;
      o.request_timeout = 5s;
      return opcua::make_ua_link(*io_ptr, o, std::move(ev));
    };
    srv = sys.spawn(opc_server, c);
    caf::anon_send(srv, atom::connect_v);
  }
  /// Connects to `url` and monitors items 1..n until every one has reported.
  ::testing::AssertionResult monitoring(const std::string& url, uint32_t n) {
    start(url);
    if (!wait_state(server_conn_state::connected))
      return ::testing::AssertionFailure() << "not connected: " << log.last_detail();
    monitor_items(n);
    if (!test::wait_for([&] { return log.distinct() == n; }, 30s))
      return ::testing::AssertionFailure() << log.distinct() << " of " << n << " items report";
    return ::testing::AssertionSuccess();
  }
  bool wait_state(server_conn_state s, std::chrono::milliseconds t = 30s) {
    return test::wait_for([&] { return log.state() == s; }, t);
  }
  void monitor_items(size_t n) {
    std::vector<item_spec> specs;
    for (uint32_t i = 0; i < n; ++i) {
      char id[40];
      std::snprintf(id, sizeof id, "ns=1;s=Sim.Item%04u", i);
      specs.push_back(item_spec{i + 1, id, 100, 10, monitoring_mode::reporting});
    }
    caf::anon_send(srv, atom::monitor_v, specs);
  }

  caf::actor_system sys;
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work;
  std::thread io_thread;
  heard log;
  server_listener_actor owner;
  opc_server_actor srv;
  test::temp_dir dir;
};

TEST_F(opc_server_it, monitors_1000_items_and_receives_all_their_changes) {
  test::node_opcua_server server(dir, 0, {"--items", "1000", "--rate-ms", "100"});
  ASSERT_TRUE(server.ok()) << server.why();
  start(server.url());
  ASSERT_TRUE(wait_state(server_conn_state::connected)) << log.last_detail();
  monitor_items(1000);
  EXPECT_TRUE(test::wait_for([&] { return log.distinct() == 1000; }, 30s)) << log.distinct();
  // They keep changing.
  log.clear_data();
  EXPECT_TRUE(test::wait_for([&] { return log.distinct() == 1000; }, 10s)) << log.distinct();
}

TEST_F(opc_server_it, a_killed_server_is_reported_lost_and_items_come_back_with_it) {
  test::node_opcua_server server(dir, 0, {"--items", "100", "--rate-ms", "100"});
  ASSERT_TRUE(server.ok()) << server.why();
  ASSERT_TRUE(monitoring(server.url(), 100));
  server.proc().signal(SIGKILL);
  server.proc().wait(10s);
  ASSERT_TRUE(wait_state(server_conn_state::lost, 10s)) << log.last_detail();
  EXPECT_FALSE(log.last_detail().empty());
  log.clear_data();
  ASSERT_TRUE(server.restart()) << server.why();
  ASSERT_TRUE(wait_state(server_conn_state::connected, 30s)) << log.last_detail();
  EXPECT_TRUE(test::wait_for([&] { return log.distinct() == 100; }, 30s)) << log.distinct();
  auto snap = caf::scoped_actor{sys};
  server_snapshot s;
  snap->request(srv, 5s, atom::status_v)
      .receive([&](server_snapshot& x) { s = x; }, [](caf::error&) {});
  EXPECT_GE(s.reconnects, 1u);
  EXPECT_EQ(s.items, 100u);
  EXPECT_EQ(s.items_failed, 0u);
}

TEST_F(opc_server_it, monitoring_modes_switch_the_data_off_and_on) {
  test::node_opcua_server server(dir, 0, {"--items", "10", "--rate-ms", "50"});
  ASSERT_TRUE(server.ok()) << server.why();
  ASSERT_TRUE(monitoring(server.url(), 10));
  std::vector<uint32_t> handles;
  for (uint32_t h = 1; h <= 10; ++h)
    handles.push_back(h);
  caf::anon_send(srv, atom::mode_v, handles, monitoring_mode::disabled);
  std::this_thread::sleep_for(500ms); // let what was already queued drain
  log.clear_data();
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(log.distinct(), 0u) << "disabled items still report";
  caf::anon_send(srv, atom::mode_v, handles, monitoring_mode::reporting);
  EXPECT_TRUE(test::wait_for([&] { return log.distinct() == 10; }, 10s)) << log.distinct();
}

// Items no client watches any more are deleted on the server (DeleteMonitoredItems, node-opcua
// as the independent peer): their data stops while the others' goes on, and a reconnect does
// not bring them back.
TEST_F(opc_server_it, unmonitored_items_are_deleted_on_the_server_and_stay_gone_after_a_reconnect) {
  test::node_opcua_server server(dir, 0, {"--items", "10", "--rate-ms", "50"});
  ASSERT_TRUE(server.ok()) << server.why();
  ASSERT_TRUE(monitoring(server.url(), 10));
  caf::anon_send(srv, atom::unmonitor_v, std::vector<uint32_t>{1, 2, 3, 4, 5});
  // Windows in which each remaining item changed at least twice: the first may still carry
  // values published before the deletion; from then on, no deleted item reports.
  auto quiet_window = [&] {
    log.clear_data();
    bool others = test::wait_for(
        [&] {
          for (uint32_t h = 6; h <= 10; ++h)
            if (log.of(h) < 2) return false;
          return true;
        },
        10s);
    uint64_t deleted = 0;
    for (uint32_t h = 1; h <= 5; ++h)
      deleted += log.of(h);
    return others && deleted == 0;
  };
  ASSERT_TRUE(test::wait_for(quiet_window, 10s)) << "deleted items kept reporting";
  EXPECT_TRUE(quiet_window());
  EXPECT_TRUE(quiet_window());
  // A reconnect re-creates the remaining items only.
  auto snap = [&] {
    caf::scoped_actor a{sys};
    server_snapshot s;
    a->request(srv, 5s, atom::status_v)
        .receive([&](server_snapshot& x) { s = x; }, [](caf::error&) {});
    return s;
  };
  EXPECT_EQ(snap().items, 5u);
  caf::scoped_actor a{sys};
  std::string err = "no answer";
  fault f;
  f.kind = fault_kind::drop_server;
  a->request(srv, 5s, f).receive([&](std::string& e) { err = e; }, [](caf::error&) {});
  ASSERT_EQ(err, "");
  ASSERT_TRUE(test::wait_for([&] { return snap().reconnects == 1; }, 10s));
  ASSERT_TRUE(wait_state(server_conn_state::connected)) << log.last_detail();
  EXPECT_TRUE(test::wait_for(quiet_window, 10s)) << "a deleted item came back";
  EXPECT_EQ(snap().items, 5u);
}

// A failover of a warm pair switches every face item at once: more items than the server takes
// in one call (tandem sim: MaxMonitoredItemsPerCall 1000) must not cost the session.
TEST_F(opc_server_it, modes_of_more_items_than_one_call_takes_switch_without_a_reconnect) {
  test::node_opcua_server server(dir, 0, {"--items", "1500", "--rate-ms", "100"}, "sim",
                                 test::peer_kind::tandem_sim);
  ASSERT_TRUE(server.ok()) << server.why();
  ASSERT_TRUE(monitoring(server.url(), 1500));
  std::vector<uint32_t> handles;
  for (uint32_t h = 1; h <= 1500; ++h)
    handles.push_back(h);
  caf::anon_send(srv, atom::mode_v, handles, monitoring_mode::disabled);
  std::this_thread::sleep_for(500ms);
  log.clear_data();
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(log.distinct(), 0u) << "disabled items still report";
  caf::anon_send(srv, atom::mode_v, handles, monitoring_mode::reporting);
  EXPECT_TRUE(test::wait_for([&] { return log.distinct() == 1500; }, 10s)) << log.distinct();
  {
    std::lock_guard<std::mutex> g(log.m);
    for (auto& c : log.states)
      EXPECT_FALSE(c.state == server_conn_state::lost) << c.detail;
  }
  auto snap = caf::scoped_actor{sys};
  server_snapshot s;
  snap->request(srv, 5s, atom::status_v)
      .receive([&](server_snapshot& x) { s = x; }, [](caf::error&) {});
  EXPECT_EQ(s.reconnects, 0u);
}

TEST_F(opc_server_it, a_stopped_server_times_out_its_status_and_recovers_when_continued) {
  test::node_opcua_server server(dir, 0, {"--items", "10"});
  ASSERT_TRUE(server.ok()) << server.why();
  start(server.url(), 300ms);
  ASSERT_TRUE(wait_state(server_conn_state::connected)) << log.last_detail();
  server.proc().signal(SIGSTOP);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(wait_state(server_conn_state::status_timeout, 10s)) << log.last_detail();
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, 2s); // interval 500 ms + timeout 300 ms, with slack for a loaded machine
  server.proc().signal(SIGCONT);
  EXPECT_TRUE(wait_state(server_conn_state::connected, 20s)) << log.last_detail();
}

TEST_F(opc_server_it, unhealthy_when_the_server_says_so) {
  test::node_opcua_server server(dir, 0, {"--items", "10"});
  ASSERT_TRUE(server.ok()) << server.why();
  start(server.url());
  ASSERT_TRUE(wait_state(server_conn_state::connected)) << log.last_detail();
  server.command("service_level 0");
  // min_service_level 1: ServiceLevel 0 (maintenance) is unhealthy.
  EXPECT_TRUE(wait_state(server_conn_state::unhealthy, 10s)) << log.last_detail();
  EXPECT_NE(log.last_detail().find("ServiceLevel 0"), std::string::npos) << log.last_detail();
  server.command("service_level 255");
  EXPECT_TRUE(wait_state(server_conn_state::connected, 10s)) << log.last_detail();
}

TEST_F(opc_server_it, a_server_that_never_answers_fails_the_connect_in_time_and_is_retried) {
  // Accepts TCP connections and never says a word.
  boost::asio::io_context silent_io;
  boost::asio::ip::tcp::acceptor acc(silent_io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  std::vector<boost::asio::ip::tcp::socket> held;
  std::atomic<int> accepted{0};
  std::thread t([&] {
    for (int i = 0; i < 2; ++i) { // the first attempt and one retry
      boost::system::error_code ec;
      held.push_back(acc.accept(ec));
      if (ec) return;
      ++accepted;
    }
  });
  auto url = "opc.tcp://127.0.0.1:" + std::to_string(acc.local_endpoint().port()) + "/silent";
  start(url);
  EXPECT_TRUE(wait_state(server_conn_state::lost, 10s)) << log.last_detail();
  EXPECT_NE(log.last_detail().find("no secure channel"), std::string::npos) << log.last_detail();
  // It tries again after its back-off, and the retry is accepted too.
  EXPECT_TRUE(test::wait_for([&] { return accepted >= 2; }, 10s));
  caf::anon_send(srv, atom::disconnect_v);
  if (accepted < 2) {
    // Unblock the acceptor so the thread ends even when the test failed.
    boost::asio::ip::tcp::socket poke(silent_io);
    boost::system::error_code ec;
    poke.connect(acc.local_endpoint(), ec);
    poke.connect(acc.local_endpoint(), ec);
  }
  t.join();
}

} // namespace
