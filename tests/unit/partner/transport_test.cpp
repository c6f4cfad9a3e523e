// The TCP transport of the partner link on loopback (ports picked by the kernel), without actors:
// two transports shake hands and exchange frames; raw sockets play a peer that speaks garbage, a
// future protocol version, nothing at all, or stops reading; dial failures and the death probe.

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "transports/partner/link.hpp"

using namespace tandem;
using namespace tandem::partner;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

/// Records every report; tests wait for what they expect.
class recorder : public link_events {
public:
  void hello(pl_hello m) override {
    add([&] { hellos.push_back(std::move(m)); });
  }
  void up(pl_up m) override {
    add([&] { ups.push_back(std::move(m)); });
  }
  void down(pl_down m) override {
    add([&] { downs.push_back(std::move(m)); });
  }
  void heartbeat(pl_heartbeat m) override {
    add([&] { heartbeats.push_back(m); });
  }
  void sync(pl_sync m) override {
    add([&] { syncs.push_back(std::move(m)); });
  }
  void probe(pl_probe m) override {
    add([&] { probes.push_back(std::move(m)); });
  }

  template <class Pred> bool wait(Pred p, std::chrono::milliseconds limit = 5000ms) {
    std::unique_lock<std::mutex> g(m_);
    return cv_.wait_for(g, limit, [&] { return p(); });
  }

  std::vector<pl_hello> hellos;
  std::vector<pl_up> ups;
  std::vector<pl_down> downs;
  std::vector<pl_heartbeat> heartbeats;
  std::vector<pl_sync> syncs;
  std::vector<pl_probe> probes;
  std::mutex m_;

private:
  template <class F> void add(F f) {
    {
      std::lock_guard<std::mutex> g(m_);
      f();
    }
    cv_.notify_all();
  }
  std::condition_variable cv_;
};

partner_hello hello_of(const std::string& name) {
  partner_hello h;
  h.node_name = name;
  h.face_port = 4840;
  return h;
}

class transport_test : public ::testing::Test {
protected:
  transport_test() : work_(asio::make_work_guard(io_)) {
    thread_ = std::thread([this] { io_.run(); });
  }
  ~transport_test() override {
    for (auto& t : transports_)
      t->stop();
    // The I/O thread ends before the transports go (a handler may still use one).
    work_.reset();
    io_.stop();
    thread_.join();
    transports_.clear();
  }

  link_transport& make(const std::string& name, std::shared_ptr<recorder> rec, bool listen,
                       uint16_t partner_port = 0, tcp_link_options o = {}) {
    o.listen_host = listen ? "127.0.0.1" : "";
    o.listen_port = 0;
    o.partner_host = "127.0.0.1";
    o.partner_port = partner_port;
    transports_.push_back(make_tcp_transport(io_, o, hello_of(name), std::move(rec)));
    auto& t = *transports_.back();
    if (listen) EXPECT_EQ(t.listen(), "");
    return t;
  }

  /// A blocking raw socket connected to `port`.
  tcp::socket raw(uint16_t port) {
    tcp::socket s(raw_io_);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    return s;
  }

  /// Reads frames from a raw socket until EOF (or `limit` frames).
  std::vector<message> read_frames(tcp::socket& s, size_t limit = 10) {
    std::vector<message> out;
    frame_reader r;
    std::array<uint8_t, 4096> buf;
    while (out.size() < limit) {
      boost::system::error_code ec;
      auto n = s.read_some(asio::buffer(buf), ec);
      if (ec) break;
      r.feed(bytes_view(buf.data(), n));
      frame_header h;
      std::vector<uint8_t> p;
      std::string err;
      while (r.next(h, p, err) == frame_reader::result::frame) {
        message m;
        EXPECT_EQ(decode_payload(h.type, p, m), "");
        out.push_back(std::move(m));
      }
    }
    return out;
  }

  static uint16_t closed_port() {
    asio::io_context io;
    tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return a.local_endpoint().port(); // closed again when `a` goes
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  asio::io_context raw_io_;
  std::vector<std::unique_ptr<link_transport>> transports_;
};

TEST_F(transport_test, handshake_frames_and_close) {
  auto ra = std::make_shared<recorder>(), rb = std::make_shared<recorder>();
  auto& a = make("node-a", ra, true);
  auto& b = make("node-b", rb, false, a.listen_port());
  auto conn_b = b.dial();
  ASSERT_TRUE(ra->wait([&] { return ra->hellos.size() == 1; }));
  ASSERT_TRUE(rb->wait([&] { return rb->hellos.size() == 1; }));
  EXPECT_EQ(ra->hellos[0].hello.node_name, "node-b");
  EXPECT_TRUE(ra->hellos[0].inbound);
  EXPECT_EQ(rb->hellos[0].hello.node_name, "node-a");
  EXPECT_EQ(rb->hellos[0].conn, conn_b);
  EXPECT_FALSE(rb->hellos[0].inbound);
  auto conn_a = ra->hellos[0].conn;
  a.accept(conn_a);
  b.accept(conn_b);
  ASSERT_TRUE(ra->wait([&] { return ra->ups.size() == 1; }));
  ASSERT_TRUE(rb->wait([&] { return rb->ups.size() == 1; }));
  EXPECT_EQ(rb->ups[0].remote_host, "127.0.0.1");
  EXPECT_EQ(rb->ups[0].remote_port, a.listen_port());

  b.heartbeat(conn_b, 1, 12345);
  b.sync(conn_b, sync_payload{7, std::vector<uint8_t>(100000, 3)});
  b.sync(conn_b, sync_payload{8, {1}});
  ASSERT_TRUE(ra->wait([&] { return ra->heartbeats.size() == 1 && ra->syncs.size() == 2; }));
  EXPECT_EQ(ra->heartbeats[0].seq, 1u);
  EXPECT_EQ(ra->heartbeats[0].time_ns, 12345u);
  EXPECT_EQ(ra->syncs[0].payload.bytes.size(), 100000u);
  EXPECT_EQ(ra->syncs[1].payload.channel, 8);
  a.heartbeat_ack(conn_a, 1, 12345);
  ASSERT_TRUE(rb->wait([&] { return rb->heartbeats.size() == 1; }));
  EXPECT_TRUE(rb->heartbeats[0].ack);

  b.close(conn_b, "node stopping");
  ASSERT_TRUE(ra->wait([&] { return ra->downs.size() == 1; }));
  EXPECT_EQ(ra->downs[0].cause, partner_down_cause::closed);
  EXPECT_EQ(ra->downs[0].text, "the partner closed the link: node stopping");
  EXPECT_FALSE(ra->downs[0].abrupt);
  std::this_thread::sleep_for(50ms);
  std::lock_guard<std::mutex> g(rb->m_);
  EXPECT_TRUE(rb->downs.empty()); // a local close is not reported
}

TEST_F(transport_test, delay_link_holds_heartbeats_and_sync_both_ways) {
  auto ra = std::make_shared<recorder>(), rb = std::make_shared<recorder>();
  auto& a = make("node-a", ra, true);
  auto& b = make("node-b", rb, false, a.listen_port());
  auto conn_b = b.dial();
  ASSERT_TRUE(ra->wait([&] { return ra->hellos.size() == 1; }));
  auto conn_a = ra->hellos[0].conn;
  a.accept(conn_a);
  ASSERT_TRUE(rb->wait([&] { return rb->hellos.size() == 1; }));
  b.accept(conn_b);
  ASSERT_TRUE(ra->wait([&] { return ra->ups.size() == 1; }));
  b.set_delay(150ms);
  std::this_thread::sleep_for(10ms);
  auto t0 = std::chrono::steady_clock::now();
  b.heartbeat(conn_b, 1, 1);
  ASSERT_TRUE(ra->wait([&] { return ra->heartbeats.size() == 1; }));
  auto out = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(out, 145ms);
  t0 = std::chrono::steady_clock::now();
  a.sync(conn_a, sync_payload{1, {1}});
  ASSERT_TRUE(rb->wait([&] { return rb->syncs.size() == 1; }));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 145ms); // held on the way in
  b.set_delay(0ms);
  std::this_thread::sleep_for(10ms);
  t0 = std::chrono::steady_clock::now();
  b.heartbeat(conn_b, 2, 2);
  ASSERT_TRUE(ra->wait([&] { return ra->heartbeats.size() == 2; }));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 145ms); // not held any more
}

TEST_F(transport_test, drop_is_seen_as_an_abrupt_close) {
  auto ra = std::make_shared<recorder>(), rb = std::make_shared<recorder>();
  auto& a = make("node-a", ra, true);
  auto& b = make("node-b", rb, false, a.listen_port());
  auto conn_b = b.dial();
  ASSERT_TRUE(ra->wait([&] { return ra->hellos.size() == 1; }));
  a.accept(ra->hellos[0].conn);
  ASSERT_TRUE(rb->wait([&] { return rb->hellos.size() == 1; }));
  b.accept(conn_b);
  ASSERT_TRUE(ra->wait([&] { return ra->ups.size() == 1; }));
  b.drop(conn_b);
  ASSERT_TRUE(ra->wait([&] { return ra->downs.size() == 1; }));
  EXPECT_TRUE(ra->downs[0].abrupt);
  EXPECT_EQ(ra->downs[0].text, "the partner closed the connection");
  ASSERT_TRUE(rb->wait([&] { return rb->downs.size() == 1; }));
  EXPECT_EQ(rb->downs[0].text, "the link was dropped (fault drop_link)");
}

TEST_F(transport_test, garbage_is_a_protocol_error_named_to_both) {
  auto ra = std::make_shared<recorder>();
  auto& a = make("node-a", ra, true);
  auto s = raw(a.listen_port());
  asio::write(s, asio::buffer(std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n")));
  ASSERT_TRUE(ra->wait([&] { return ra->downs.size() == 1; }));
  EXPECT_EQ(ra->downs[0].cause, partner_down_cause::protocol_error);
  EXPECT_EQ(ra->downs[0].text,
            "protocol error: bad magic 0x47455420 (expected \"TDMP\"): not a Tandem partner link");
  auto frames = read_frames(s);
  ASSERT_EQ(frames.size(), 2u); // its HELLO, then a CLOSE saying why; then EOF
  EXPECT_TRUE(std::holds_alternative<partner_hello>(frames[0]));
  EXPECT_EQ(std::get<close_msg>(frames[1]).reason, ra->downs[0].text);
}

TEST_F(transport_test, a_future_version_is_refused_with_a_reason) {
  auto ra = std::make_shared<recorder>();
  auto& a = make("node-a", ra, true);
  auto s = raw(a.listen_port());
  asio::write(s, asio::buffer(encode(hello_of("node-z"), 7)));
  ASSERT_TRUE(ra->wait([&] { return ra->downs.size() == 1; }));
  EXPECT_EQ(ra->downs[0].cause, partner_down_cause::version_mismatch);
  EXPECT_EQ(ra->downs[0].text, "partner node-z speaks protocol version 7, this node speaks 1");
  EXPECT_TRUE(ra->hellos.empty());
  auto frames = read_frames(s);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(std::get<refuse_msg>(frames[1]).reason,
            "node-a speaks partner protocol version 1, not 7");
}

TEST_F(transport_test, a_silent_peer_is_dropped_after_the_handshake_deadline) {
  auto ra = std::make_shared<recorder>();
  tcp_link_options o;
  o.handshake_timeout = 200ms;
  auto& a = make("node-a", ra, true, 0, o);
  auto start = std::chrono::steady_clock::now();
  auto s = raw(a.listen_port());
  ASSERT_TRUE(ra->wait([&] { return ra->downs.size() == 1; }));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 190ms);
  EXPECT_LT(took, 1000ms);
  EXPECT_EQ(ra->downs[0].cause, partner_down_cause::protocol_error);
  EXPECT_EQ(ra->downs[0].text, "protocol error: no complete handshake within 200 ms");
}

TEST_F(transport_test, a_peer_that_stops_reading_is_dropped_at_the_queue_bound) {
  auto ra = std::make_shared<recorder>();
  tcp_link_options o;
  o.max_queued_bytes = 256 * 1024;
  auto& a = make("node-a", ra, true, 0, o);
  auto s = raw(a.listen_port());
  s.set_option(asio::socket_base::receive_buffer_size(4096));
  asio::write(s, asio::buffer(encode(hello_of("node-b"))));
  ASSERT_TRUE(ra->wait([&] { return ra->hellos.size() == 1; }));
  auto conn = ra->hellos[0].conn;
  a.accept(conn);
  asio::write(s, asio::buffer(encode(hello_ack_msg{})));
  ASSERT_TRUE(ra->wait([&] { return ra->ups.size() == 1; }));
  // The raw peer never reads: the kernel's buffers fill, then the transport's queue.
  for (int i = 0; i < 400 && ra->downs.empty(); ++i) {
    a.sync(conn, sync_payload{1, std::vector<uint8_t>(64 * 1024, 1)});
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(ra->wait([&] { return ra->downs.size() == 1; }));
  EXPECT_EQ(ra->downs[0].cause, partner_down_cause::closed);
  EXPECT_NE(ra->downs[0].text.find("the partner does not read"), std::string::npos)
      << ra->downs[0].text;
}

TEST_F(transport_test, dial_to_a_closed_port_fails_with_the_reason) {
  auto rb = std::make_shared<recorder>();
  auto port = closed_port();
  auto& b = make("node-b", rb, false, port);
  auto conn = b.dial();
  ASSERT_TRUE(rb->wait([&] { return rb->downs.size() == 1; }));
  EXPECT_EQ(rb->downs[0].conn, conn);
  EXPECT_EQ(rb->downs[0].text,
            "cannot connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
}

TEST_F(transport_test, dial_binds_to_link_bind) {
  auto ra = std::make_shared<recorder>(), rb = std::make_shared<recorder>();
  auto& a = make("node-a", ra, true);
  tcp_link_options o;
  o.bind_host = "127.0.0.1";
  auto& b = make("node-b", rb, false, a.listen_port(), o);
  b.dial();
  ASSERT_TRUE(ra->wait([&] { return ra->hellos.size() == 1; }));
  tcp_link_options bad;
  bad.bind_host = "192.0.2.1"; // TEST-NET: not this machine's
  auto rc = std::make_shared<recorder>();
  auto& c = make("node-c", rc, false, a.listen_port(), bad);
  c.dial();
  ASSERT_TRUE(rc->wait([&] { return rc->downs.size() == 1; }));
  EXPECT_EQ(rc->downs[0].text.rfind("cannot bind the link to 192.0.2.1: ", 0), 0u)
      << rc->downs[0].text;
}

TEST_F(transport_test, death_probe_is_certain_only_when_both_ports_refuse) {
  auto ra = std::make_shared<recorder>();
  auto& a = make("node-a", ra, true);
  auto p1 = closed_port(), p2 = closed_port();
  a.probe(1, "127.0.0.1", p1, "", p2);
  ASSERT_TRUE(ra->wait([&] { return ra->probes.size() == 1; }));
  EXPECT_TRUE(ra->probes[0].gone);
  EXPECT_NE(ra->probes[0].text.find("the partner process is gone"), std::string::npos)
      << ra->probes[0].text;
  a.probe(2, "127.0.0.1", p1, "127.0.0.1", a.listen_port()); // one port answers
  ASSERT_TRUE(ra->wait([&] { return ra->probes.size() == 2; }));
  EXPECT_FALSE(ra->probes[1].gone);
  EXPECT_NE(ra->probes[1].text.find("accepts connections"), std::string::npos);
  a.probe(3, "127.0.0.1", p1, "", 0); // face port unknown
  ASSERT_TRUE(ra->wait([&] { return ra->probes.size() == 3; }));
  EXPECT_FALSE(ra->probes[2].gone);
}

} // namespace
