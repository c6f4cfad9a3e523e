// Deterministic tests of the HTTP actor inside a supervisor (virtual time): the API answers as
// the console does, /metrics from the actors' figures, and a stream's snapshot, events, status
// ticks and end.

#include <mutex>

#include <gtest/gtest.h>

#include "caf/typed_event_based_actor.hpp"

#include "actors/http.hpp"
#include "actors/json.hpp"
#include "actors/supervisor.hpp"
#include "tests/support/actor_fixture.hpp"
#include "tests/unit/actors/test_util.hpp"

using namespace tandem;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

/// An HTTP request whose answer is recorded.
class recording_exchange : public http_exchange {
public:
  explicit recording_exchange(uint64_t id) : id_(id) {}
  uint64_t id() const override { return id_; }
  void respond(int s, std::string ct, std::string b) override {
    std::lock_guard<std::mutex> g(m);
    ++responses;
    status = s;
    content_type = std::move(ct);
    body = std::move(b);
  }
  void start_stream() override {
    std::lock_guard<std::mutex> g(m);
    streaming = true;
  }
  void push(std::string text) override {
    std::lock_guard<std::mutex> g(m);
    pushes.push_back(std::move(text));
  }
  std::vector<std::string> take() {
    std::lock_guard<std::mutex> g(m);
    auto out = std::move(pushes);
    pushes.clear();
    return out;
  }
  std::mutex m;
  int responses = 0;
  int status = 0;
  std::string content_type, body;
  bool streaming = false;
  std::vector<std::string> pushes;

private:
  uint64_t id_;
};

/// "event: NAME\ndata: JSON\n\n" -> (NAME, JSON)
std::pair<std::string, json> parse_sse(const std::string& text) {
  auto nl = text.find('\n');
  if (text.rfind("event: ", 0) != 0 || nl == std::string::npos) return {"", json()};
  auto data = text.substr(nl + 1);
  if (data.rfind("data: ", 0) != 0 || data.size() < 8 || data.substr(data.size() - 2) != "\n\n")
    return {"", json()};
  return {text.substr(7, nl - 7), json::parse(data.substr(6, data.size() - 8), nullptr, false)};
}

class http_actor_test : public test::actor_fixture {
protected:
  void SetUp() override {
    config::node_config c;
    c.node.name = "n1";
    c.http.listen = config::endpoint{"127.0.0.1", 8080};
    config::pair_section p;
    p.alias = "line1";
    p.primary = "opc.tcp://h1:4840";
    p.secondary = "opc.tcp://h2:4840";
    c.pairs.push_back(p);
    node_runtime rt;
    rt.events = store;
    rt.wall_now = [this] { return wall_now(); };
    rt.attach_http = [this](const http_actor& a) { api = a; };
    node = sys.spawn(supervisor, c, rt);
    run();
    ASSERT_TRUE(api) << "the supervisor did not spawn the HTTP actor for http.listen";
  }
  void TearDown() override {
    self->send(node, atom::shutdown_v);
    run();
  }
  std::shared_ptr<recording_exchange> request(http_endpoint ep, uint64_t n = 20) {
    auto ex = std::make_shared<recording_exchange>(next_id++);
    self->send(api, http_request{ex, ep, n});
    run();
    return ex;
  }
  /// Makes the supervisor record an event (fault_injected, a warning).
  void make_event() {
    self->send(node, fault{fault_kind::fail_storage_write, "", "", 0, 0});
    run();
  }

  test::temp_dir dir;
  std::shared_ptr<storage::event_store> store = test::open_store(dir);
  node_actor node;
  http_actor api;
  uint64_t next_id = 1;
};

TEST_F(http_actor_test, status_is_the_console_status_document) {
  auto ex = request(http_endpoint::status);
  ASSERT_EQ(ex->responses, 1);
  EXPECT_EQ(ex->status, 200);
  EXPECT_EQ(ex->content_type, "application/json");
  auto expected = ask<node_status>(node, atom::status_v);
  ASSERT_TRUE(expected);
  EXPECT_EQ(json::parse(ex->body), to_json(*expected));
  EXPECT_EQ(json::parse(ex->body)["pairs"][0]["alias"], "line1");
}

TEST_F(http_actor_test, events_are_the_newest_n_oldest_first) {
  make_event();
  auto ex = request(http_endpoint::events, 1);
  ASSERT_EQ(ex->status, 200);
  auto j = json::parse(ex->body);
  ASSERT_EQ(j["events"].size(), 1u);
  EXPECT_EQ(j["events"][0]["kind"], "fault_injected");
  auto all = json::parse(request(http_endpoint::events, 100)->body)["events"];
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["kind"], "node_started");
}

TEST_F(http_actor_test, metrics_come_from_the_actors_figures) {
  make_event();
  auto ex = request(http_endpoint::metrics);
  ASSERT_EQ(ex->status, 200);
  EXPECT_EQ(ex->content_type, "text/plain; version=0.0.4; charset=utf-8");
  for (auto* line : {"tandem_node_info{node=\"n1\",role=\"independent\"} 1",
                     "tandem_node_state{state=\"Running\"} 1",
                     "tandem_diagnostics_events_total{severity=\"info\"} 1",
                     "tandem_diagnostics_events_total{severity=\"warning\"} 1",
                     "tandem_pair_active_server{pair=\"line1\",server=\"primary\"} 0",
                     "tandem_scrape_complete 1"})
    EXPECT_NE(ex->body.find(std::string("\n") + line + "\n"), std::string::npos) << line << "\n"
                                                                                 << ex->body;
}

TEST_F(http_actor_test, a_stream_gets_a_snapshot_then_events_and_the_status) {
  auto ex = request(http_endpoint::stream);
  EXPECT_TRUE(ex->streaming);
  EXPECT_EQ(ex->responses, 0);
  auto first = ex->take();
  ASSERT_EQ(first.size(), 1u);
  auto [name, snap] = parse_sse(first[0]);
  EXPECT_EQ(name, "snapshot");
  EXPECT_EQ(snap["status"]["node"]["name"], "n1");
  EXPECT_EQ(snap["node"]["self"]["name"], "n1");
  ASSERT_EQ(snap["events"].size(), 1u);
  EXPECT_EQ(snap["events"][0]["kind"], "node_started");

  // A new event: sent as it is recorded, and the status follows at once.
  make_event();
  auto next = ex->take();
  ASSERT_GE(next.size(), 2u);
  auto [ev_name, ev] = parse_sse(next[0]);
  EXPECT_EQ(ev_name, "event");
  EXPECT_EQ(ev["kind"], "fault_injected");
  EXPECT_EQ(parse_sse(next[1]).first, "status");

  // Nothing happening: the status every second.
  advance(1s);
  auto tick = ex->take();
  ASSERT_EQ(tick.size(), 1u);
  EXPECT_EQ(parse_sse(tick[0]).first, "status");
  EXPECT_EQ(parse_sse(tick[0]).second["status"]["node"]["state"], "Running");

  // The connection closed: nothing more is sent, and the ticks stop.
  self->send(api, atom::closed_v, ex->id());
  run();
  make_event();
  advance(3s);
  EXPECT_TRUE(ex->take().empty());
}

} // namespace
