// A real node with http.listen on a loopback port picked at run time and a warm pair over two
// `tandem sim` servers: the JSON API agrees with the console, /metrics follows a kill -9
// failover (counter with its cause, active server), bad requests get 4xx while the node keeps
// serving, a taken port stops the start with a clear error; and the status page in headless
// Chromium shows the states, follows the failover without a reload, shows a lost connection
// and reconnects by itself.

#include <csignal>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/http_client.hpp"
#include "tests/support/node.hpp"
#include "tests/support/opcua_peer.hpp"
#include "tests/support/process.hpp"

using namespace tandem;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

/// Two simulators and a node serving HTTP in front of them.
struct http_rig {
  explicit http_rig(const test::temp_dir& dir)
      : a(dir, 0, {"--items", "5", "--rate-ms", "100"}, "primary", test::peer_kind::tandem_sim),
        b(dir, 0, {"--items", "5", "--rate-ms", "100"}, "secondary", test::peer_kind::tandem_sim),
        http_port(test::free_port()) {}

  std::string config() const {
    return "[node]\nname = \"http-node\"\ndata_dir = \"data\"\n[face]\nlisten = \"127.0.0.1:" +
           std::to_string(test::free_port()) +
           "\"\n[http]\nlisten = \"127.0.0.1:" + std::to_string(http_port) +
           "\"\n[[pair]]\nalias = \"line1\"\nprimary = \"" + a.url() + "\"\nsecondary = \"" +
           b.url() + "\"\nmode = \"warm\"\nstatus_interval_ms = 300\nstatus_timeout_ms = 300\n";
  }

  json get_json(const std::string& target) {
    auto r = test::http_get(http_port, target);
    if (r.status != 200) return json();
    return json::parse(r.body, nullptr, false);
  }
  json pair() {
    auto s = get_json("/api/status");
    return s.is_object() && s["pairs"].is_array() && !s["pairs"].empty() ? s["pairs"][0] : json();
  }
  std::string metrics() { return test::http_get(http_port, "/metrics").body; }

  test::opcua_test_server a, b;
  uint16_t http_port;
};

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(http_it, api_and_metrics_follow_a_failover_and_bad_requests_get_4xx) {
  test::temp_dir dir;
  http_rig rig(dir);
  ASSERT_TRUE(rig.a.ok()) << rig.a.why();
  ASSERT_TRUE(rig.b.ok()) << rig.b.why();
  test::node_process n(dir, "node", rig.config(), dir.path() + "/data/console.sock");
  std::string why;
  ASSERT_TRUE(n.wait_ready(why)) << why;
  ASSERT_TRUE(test::wait_for(
      [&] {
        auto p = rig.pair();
        return p.is_object() && p["active"] == "primary" && p["secondary"]["state"] == "connected";
      },
      20s))
      << rig.pair().dump();

  // /api/status is the console's `status`, field for field (uptime aside).
  auto api = rig.get_json("/api/status");
  auto console = n.console("status");
  ASSERT_TRUE(api.is_object());
  api["node"].erase("uptime_ms");
  console["node"].erase("uptime_ms");
  EXPECT_EQ(api, console);

  // /api/events is the console's `events N`.
  auto events = rig.get_json("/api/events?n=3");
  ASSERT_TRUE(events.contains("events")) << events.dump();
  EXPECT_EQ(events["events"].size(), 3u);
  EXPECT_EQ(events["events"].back().size(), n.console("events 1")["events"][0].size());
  EXPECT_EQ(rig.get_json("/api/events")["events"].size(),
            n.console("events")["events"].size()); // the same default

  // The stream's snapshot carries the same status and the console's `node` document.
  {
    test::http_client c(rig.http_port);
    c.send("GET /api/stream HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_FALSE(c.take_until("event: snapshot\ndata: ").empty());
    auto snap = json::parse(c.take_until("\n\n"), nullptr, false);
    ASSERT_TRUE(snap.is_object());
    EXPECT_EQ(snap["node"], n.console("node"));
    EXPECT_EQ(snap["status"]["pairs"], n.console("status")["pairs"]);
    EXPECT_FALSE(snap["events"].empty());
  }

  auto before = rig.metrics();
  EXPECT_TRUE(has_line(before, "tandem_pair_active_server{pair=\"line1\",server=\"primary\"} 1"))
      << before;
  EXPECT_TRUE(has_line(before, "tandem_node_state{state=\"Running\"} 1")) << before;
  EXPECT_TRUE(has_line(before, "tandem_pair_service_level{pair=\"line1\"} 255")) << before;
  EXPECT_EQ(before.find("tandem_pair_failovers_total{"), std::string::npos) << before;
  EXPECT_NE(before.find("# TYPE tandem_pair_failovers_total counter"), std::string::npos);
  EXPECT_NE(before.find("tandem_diagnostics_events_total{severity=\"info\"}"), std::string::npos);
  auto head = test::http_get(rig.http_port, "/metrics");
  EXPECT_NE(head.headers.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);

  rig.a.proc().signal(SIGKILL);
  rig.a.proc().wait(10s);
  ASSERT_TRUE(test::wait_for([&] { return rig.pair()["active"] == "secondary"; }, 10s))
      << rig.pair().dump();
  auto p = rig.pair();
  EXPECT_EQ(p["last_failover"]["cause"], "connection_lost");
  EXPECT_EQ(p["service_level"], 150);
  auto after = rig.metrics();
  EXPECT_TRUE(
      has_line(after, "tandem_pair_failovers_total{pair=\"line1\",cause=\"connection_lost\"} 1"))
      << after;
  EXPECT_TRUE(has_line(after, "tandem_pair_active_server{pair=\"line1\",server=\"secondary\"} 1"))
      << after;
  EXPECT_TRUE(has_line(after, "tandem_pair_server_healthy{pair=\"line1\",server=\"primary\"} 0"))
      << after;
  EXPECT_TRUE(has_line(after, "tandem_pair_service_level{pair=\"line1\"} 150")) << after;
  auto warnings = [](const std::string& m) {
    auto key = std::string("tandem_diagnostics_events_total{severity=\"warning\"} ");
    auto pos = m.find(key);
    return pos == std::string::npos ? -1 : std::stol(m.substr(pos + key.size()));
  };
  EXPECT_GT(warnings(after), warnings(before)); // server_lost and failover are warnings
  auto ev = rig.get_json("/api/events?n=50").dump();
  EXPECT_NE(ev.find("failover from primary to secondary (connection_lost"), std::string::npos)
      << ev;

  // Bad requests: answered with 4xx, and the node keeps serving.
  EXPECT_EQ(test::http_get(rig.http_port, "/nothing").status, 404);
  EXPECT_EQ(test::http_get(rig.http_port, "/api/events?n=0").status, 400);
  {
    test::http_client c(rig.http_port);
    c.send("DELETE /api/status HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(c.read().status, 405);
  }
  {
    test::http_client c(rig.http_port);
    EXPECT_EQ(c.get("/", "X-Big: " + std::string(20000, 'x') + "\r\n").status, 431);
  }
  {
    test::http_client c(rig.http_port);
    c.send("POST /api/status HTTP/1.1\r\nHost: x\r\nContent-Length: 999999\r\n\r\n");
    EXPECT_EQ(c.read().status, 413);
  }
  {
    test::http_client c(rig.http_port);
    c.send(std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n", 15));
    EXPECT_EQ(c.read().status, 400);
  }
  EXPECT_EQ(rig.pair()["active"], "secondary");
  EXPECT_EQ(test::http_get(rig.http_port, "/").status, 200);

  // Counters stay where they were (monotonic) and the node stops cleanly.
  EXPECT_TRUE(has_line(rig.metrics(),
                       "tandem_pair_failovers_total{pair=\"line1\",cause=\"connection_lost\"} 1"));
  n.proc().signal(SIGTERM);
  EXPECT_EQ(n.proc().wait(20s), 0) << n.proc().err();
}

TEST(http_it, a_taken_port_stops_the_start_with_a_clear_error) {
  test::temp_dir dir;
  http_rig rig(dir);
  // Take the port with a listening socket of our own.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(rig.http_port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  auto cfg = dir.file("taken.toml");
  {
    std::ofstream f(cfg);
    f << "[node]\nname = \"taken\"\ndata_dir = \"" << dir.path() << "/taken\"\n[http]\nlisten = "
      << "\"127.0.0.1:" << rig.http_port << "\"\n";
  }
  auto r = test::run_tandem({"node", "-c", cfg}, 20s);
  ::close(fd);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("cannot serve HTTP on 127.0.0.1:" + std::to_string(rig.http_port)),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("in use"), std::string::npos) << r.err;
}

TEST(http_it, the_status_page_in_headless_chromium_follows_a_failover) {
  if (test::run_process({"sh", "-c", "command -v chromium"}, 5s).code != 0)
    GTEST_SKIP() << "chromium is not installed (tools/install-deps.sh installs Debian's "
                    "chromium package); the status page was not checked in a browser";
  test::temp_dir dir;
  http_rig rig(dir);
  ASSERT_TRUE(rig.a.ok()) << rig.a.why();
  ASSERT_TRUE(rig.b.ok()) << rig.b.why();
  test::node_process n(dir, "node", rig.config(), dir.path() + "/data/console.sock");
  std::string why;
  ASSERT_TRUE(n.wait_ready(why)) << why;

  std::filesystem::create_directories(TANDEM_TEST_ARTIFACTS);
  std::string shot = std::string(TANDEM_TEST_ARTIFACTS) + "/status_page.png";
  std::filesystem::remove(shot);
  test::child_process page({"node", TANDEM_PAGE_CHECK,
                            "http://127.0.0.1:" + std::to_string(rig.http_port) + "/", shot,
                            "line1"},
                           dir.path() + "/page_check");
  auto said = [&](const std::string& step) {
    return page.out().find(step + "\n") != std::string::npos;
  };
  auto fail_text = [&] { return "page_check said:\n" + page.out() + page.err(); };
  ASSERT_TRUE(test::wait_for([&] { return said("loaded") || !page.running(); }, 20s))
      << fail_text();
  ASSERT_TRUE(said("loaded")) << fail_text();

  rig.a.proc().signal(SIGKILL);
  ASSERT_TRUE(test::wait_for([&] { return said("updated") || !page.running(); }, 20s))
      << fail_text();
  ASSERT_TRUE(said("updated")) << fail_text();
  EXPECT_GT(std::filesystem::file_size(shot), 10000u) << shot;
  EXPECT_EQ(test::read_file(shot).substr(1, 3), "PNG");

  // The node goes away: the page says so; it comes back: the page is live again by itself.
  n.proc().signal(SIGKILL);
  n.proc().wait(10s);
  ASSERT_TRUE(test::wait_for([&] { return said("lost") || !page.running(); }, 20s)) << fail_text();
  ASSERT_TRUE(said("lost")) << fail_text();
  n.restart();
  ASSERT_TRUE(n.wait_ready(why)) << why;
  ASSERT_EQ(page.wait(25s), 0) << fail_text();
  EXPECT_TRUE(said("reconnected")) << fail_text();
}

} // namespace
