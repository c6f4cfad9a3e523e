// The HTTP server on a loopback socket with a fake handler (no actors): the page, routing to
// the handler, keep-alive, the limits on headers and bodies, bad requests, the connection
// bound, and server-sent event streams that end when the client goes away.

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <gtest/gtest.h>

#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"
#include "transports/http/server.hpp"

using namespace tandem;
using namespace tandem::transports::http;
using namespace std::chrono_literals;
using test::http_client;
using test::http_response;

namespace {

/// Answers status with {"ok": N}, events with n, metrics with a line; streams are kept so a
/// test can push to them. Records closes.
class fake_handler : public http_handler {
public:
  void on_request(http_request req) override {
    std::lock_guard<std::mutex> g(m);
    ++requests;
    switch (req.endpoint) {
    case http_endpoint::status:
      req.exchange->respond(200, "application/json", "{\"ok\": " + std::to_string(requests) + "}");
      break;
    case http_endpoint::events:
      req.exchange->respond(200, "application/json", "{\"n\": " + std::to_string(req.n) + "}");
      break;
    case http_endpoint::metrics:
      req.exchange->respond(200, "text/plain", "m 1\n");
      break;
    case http_endpoint::stream:
      req.exchange->start_stream();
      streams.push_back(req.exchange);
      break;
    }
    cv.notify_all();
  }
  void on_close(uint64_t id) override {
    std::lock_guard<std::mutex> g(m);
    closed.push_back(id);
    cv.notify_all();
  }
  std::mutex m;
  std::condition_variable cv;
  int requests = 0;
  std::vector<std::shared_ptr<http_exchange>> streams;
  std::vector<uint64_t> closed;
};

class http_server_test : public ::testing::Test {
protected:
  void SetUp() override {
    limits.max_header = 1024;
    limits.max_body = 256;
    limits.max_connections = 4;
    limits.idle_timeout = 1s;
    server = std::make_unique<http_server>(io, "127.0.0.1", 0, handler, limits);
    std::string err;
    ASSERT_TRUE(server->start(err)) << err;
    port = server->port();
    thread = std::thread([this] { io.run(); });
  }
  void TearDown() override {
    server->stop();
    work.reset();
    thread.join();
    server.reset();
  }
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work =
      boost::asio::make_work_guard(io);
  fake_handler handler;
  http_limits limits;
  std::unique_ptr<http_server> server;
  uint16_t port = 0;
  std::thread thread;
};

TEST_F(http_server_test, serves_the_embedded_page) {
  http_client c(port);
  ASSERT_TRUE(c.connected());
  auto r = c.get("/");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.headers.find("Content-Type: text/html; charset=utf-8"), std::string::npos);
  EXPECT_NE(r.body.find("<title>Tandem</title>"), std::string::npos);
  EXPECT_NE(r.body.find("api/stream"), std::string::npos);
  // Self-contained: nothing is fetched from anywhere else, and the browser is told so.
  EXPECT_NE(r.headers.find("Content-Security-Policy: default-src 'none';"), std::string::npos);
  EXPECT_EQ(r.body.find("http://"), std::string::npos);
  EXPECT_EQ(r.body.find("https://"), std::string::npos);
  EXPECT_EQ(r.body.find("<link"), std::string::npos);
  EXPECT_EQ(r.body.find("src="), std::string::npos);
}

TEST_F(http_server_test, keeps_the_connection_for_several_requests) {
  http_client c(port);
  auto a = c.get("/api/status");
  auto b = c.get("/api/events?n=7");
  auto m = c.get("/metrics");
  ASSERT_TRUE(a.ok && b.ok && m.ok);
  EXPECT_EQ(a.body, "{\"ok\": 1}");
  EXPECT_NE(a.headers.find("Connection: keep-alive"), std::string::npos);
  EXPECT_EQ(b.body, "{\"n\": 7}");
  EXPECT_EQ(m.body, "m 1\n");
  // Pipelined: both answered, in order.
  c.send("GET /api/status HTTP/1.1\r\nHost: x\r\n\r\nGET /api/events HTTP/1.1\r\nHost: x\r\n\r\n");
  auto p1 = c.read();
  auto p2 = c.read();
  EXPECT_EQ(p1.body, "{\"ok\": 4}");
  EXPECT_EQ(p2.body, "{\"n\": 20}");
  // Connection: close is honoured.
  auto last = c.get("/", "Connection: close\r\n");
  EXPECT_EQ(last.status, 200);
  EXPECT_NE(last.headers.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(http_server_test, answers_head_without_a_body) {
  http_client c(port);
  c.send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
  // The Content-Length is the page's, but no body follows: the next response comes at once.
  c.send("GET /api/status HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(c.read_until("HTTP/1.1 200 OK"));
  ASSERT_TRUE(c.read_until("{\"ok\": 1}"));
}

TEST_F(http_server_test, answers_unknown_paths_and_methods_and_stays_open) {
  http_client c(port);
  auto nf = c.get("/nothing");
  EXPECT_EQ(nf.status, 404);
  EXPECT_NE(nf.body.find("no such page: /nothing"), std::string::npos);
  c.send("POST /api/status HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
  auto m = c.read();
  EXPECT_EQ(m.status, 405);
  EXPECT_NE(m.headers.find("Allow: GET, HEAD"), std::string::npos);
  auto bad_n = c.get("/api/events?n=zero");
  EXPECT_EQ(bad_n.status, 400);
  EXPECT_NE(bad_n.body.find("n must be"), std::string::npos);
  EXPECT_EQ(c.get("/api/status").status, 200);
  std::lock_guard<std::mutex> g(handler.m);
  EXPECT_EQ(handler.requests, 1); // only the good one reached the handler
}

TEST_F(http_server_test, refuses_headers_over_the_limit_with_431) {
  http_client c(port);
  auto r = c.get("/", "X-Big: " + std::string(2000, 'a') + "\r\n");
  EXPECT_EQ(r.status, 431);
  EXPECT_NE(r.body.find("exceed 1024 bytes"), std::string::npos);
  EXPECT_TRUE(c.closed_by_server());
  http_client l(port);
  auto line = l.get("/" + std::string(3000, 'x'));
  EXPECT_EQ(line.status, 431);
  http_client after(port);
  EXPECT_EQ(after.get("/api/status").status, 200);
}

TEST_F(http_server_test, refuses_bodies_over_the_limit_with_413) {
  http_client c(port);
  c.send("GET /api/status HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
  auto r = c.read();
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("body exceeds 256 bytes"), std::string::npos);
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(http_server_test, answers_garbage_with_400_and_keeps_serving) {
  for (std::string junk :
       {std::string("HELLO THERE\r\n\r\n"), std::string("GET\r\n\r\n"),
        std::string("GET / HTTP/1.1\r\nBad Header\r\n\r\n"),
        std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + "\r\n\r\n",
        std::string("GET /api/status HTTP/1.1\r\nContent-Length: x\r\n\r\n"),
        std::string("GET /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "zz\r\n")}) {
    http_client c(port);
    c.send(junk);
    auto r = c.read();
    EXPECT_EQ(r.status, 400) << junk;
    EXPECT_NE(r.body.find("malformed HTTP request"), std::string::npos) << r.body;
  }
  http_client ok(port);
  EXPECT_EQ(ok.get("/api/status").status, 200);
}

TEST_F(http_server_test, survives_random_bytes) {
  std::srand(9);
  for (int i = 0; i < 40; ++i) {
    std::string junk(static_cast<size_t>(1 + std::rand() % 3000), '\0');
    for (auto& c : junk)
      c = static_cast<char>(std::rand() % 256);
    if (i % 2) junk = "GET /" + junk; // past the method, into the target and headers
    http_client c(port);
    c.send(junk + "\r\n\r\n");
    auto r = c.read();
    if (r.ok) EXPECT_TRUE(r.status == 400 || r.status == 404 || r.status == 431) << r.status;
  }
  http_client ok(port);
  EXPECT_EQ(ok.get("/api/status").status, 200);
}

TEST_F(http_server_test, bounds_the_connections) {
  std::vector<std::unique_ptr<http_client>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<http_client>(port));
    ASSERT_EQ(held.back()->get("/api/status").status, 200); // open and counted
  }
  http_client extra(port);
  auto r = extra.read();
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("too many connections (at most 4)"), std::string::npos);
  held.pop_back();
  ASSERT_TRUE(test::wait_for([&] { return server->connections() < 4; }, 5s));
  http_client again(port);
  EXPECT_EQ(again.get("/api/status").status, 200);
}

TEST_F(http_server_test, closes_idle_connections) {
  http_client c(port);
  c.send("GET / HTTP/1.1\r\n"); // and nothing more
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST_F(http_server_test, streams_events_until_the_client_goes_away) {
  uint64_t id = 0;
  {
    http_client c(port);
    c.send("GET /api/stream HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(c.read_until("Content-Type: text/event-stream"));
    std::shared_ptr<http_exchange> ex;
    {
      std::unique_lock<std::mutex> g(handler.m);
      ASSERT_TRUE(handler.cv.wait_for(g, 5s, [&] { return !handler.streams.empty(); }));
      ex = handler.streams.front();
    }
    id = ex->id();
    ex->push("event: status\ndata: {\"a\": 1}\n\n");
    ASSERT_TRUE(c.read_until("data: {\"a\": 1}\n\n"));
    ex->push("event: event\ndata: 2\n\n");
    ASSERT_TRUE(c.read_until("data: 2\n\n"));
  }
  std::unique_lock<std::mutex> g(handler.m);
  ASSERT_TRUE(handler.cv.wait_for(g, 5s, [&] { return !handler.closed.empty(); }));
  EXPECT_EQ(handler.closed.front(), id);
}

TEST(http_server_start, names_the_problem_when_the_port_is_taken) {
  boost::asio::io_context io;
  fake_handler h;
  http_server a(io, "127.0.0.1", 0, h);
  std::string err;
  ASSERT_TRUE(a.start(err)) << err;
  http_server b(io, "127.0.0.1", a.port(), h);
  EXPECT_FALSE(b.start(err));
  EXPECT_NE(err.find("cannot serve HTTP on 127.0.0.1:" + std::to_string(a.port())),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("in use"), std::string::npos) << err;
  http_server c(io, "not-an-address", 0, h);
  EXPECT_FALSE(c.start(err));
  EXPECT_NE(err.find("not a numeric IP address"), std::string::npos) << err;
}

} // namespace
