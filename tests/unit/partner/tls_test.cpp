// The partner transport over TLS on loopback: mutual authentication against each node's
// trusted/ folder. Trusted peers shake hands; an untrusted certificate (a stranger, or an impostor
// with a trusted node's name but its own key) is refused and kept in rejected/ until approved; an
// expired one and a plain-text client are refused; revoking the connected partner's certificate
// drops the link; bytes tampered with after the handshake end the connection.

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <mutex>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "tests/support/process.hpp"
#include "transports/partner/link.hpp"
#include "transports/partner/pki.hpp"
#include "transports/partner/tls_stream.hpp"

using namespace tandem;
using namespace tandem::partner;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

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
  void heartbeat(pl_heartbeat) override {}
  void sync(pl_sync m) override {
    add([&] { syncs.push_back(std::move(m)); });
  }
  void probe(pl_probe) override {}
  template <class Pred> bool wait(Pred p, std::chrono::milliseconds limit = 5000ms) {
    std::unique_lock<std::mutex> g(m_);
    return cv_.wait_for(g, limit, [&] { return p(); });
  }
  /// The text of the first down with this cause, or "".
  std::string down_text(partner_down_cause c) {
    std::lock_guard<std::mutex> g(m_);
    for (auto& d : downs)
      if (d.cause == c) return d.text;
    return {};
  }
  std::vector<pl_hello> hellos;
  std::vector<pl_up> ups;
  std::vector<pl_down> downs;
  std::vector<pl_sync> syncs;
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

/// Accepts every hello it hears (the actor's decision, here always yes).
class accepting : public recorder {
public:
  link_transport* t = nullptr;
  void hello(pl_hello m) override {
    auto conn = m.conn;
    recorder::hello(std::move(m));
    t->accept(conn);
  }
};

class tls_test : public ::testing::Test {
protected:
  tls_test() : work_(asio::make_work_guard(io_)) {
    thread_ = std::thread([this] { io_.run(); });
  }
  ~tls_test() override {
    for (auto& t : transports_)
      t->stop();
    // The I/O thread ends before the transports go: a handler still running (a hello that
    // `accepting` answers through its transport) must not find it freed.
    work_.reset();
    io_.stop();
    thread_.join();
    transports_.clear();
  }

  std::shared_ptr<pki_store> store(const std::string& folder, const std::string& name) {
    std::string err;
    auto s = pki_store::open(dir_.file(folder), name, err);
    EXPECT_TRUE(s) << err;
    return s;
  }
  std::shared_ptr<tls_context> ctx(std::shared_ptr<pki_store> s) {
    std::string err;
    auto c = tls_context::make(std::move(s), err);
    EXPECT_TRUE(c) << err;
    return c;
  }

  /// A transport named `name` with TLS from `pki`; listens when partner_port is 0.
  link_transport& make(const std::string& name, std::shared_ptr<pki_store> pki,
                       std::shared_ptr<accepting> rec, uint16_t partner_port = 0) {
    tcp_link_options o;
    o.listen_host = partner_port == 0 ? "127.0.0.1" : "";
    o.listen_port = 0;
    o.partner_host = "127.0.0.1";
    o.partner_port = partner_port;
    o.handshake_timeout = 1500ms;
    o.tls = ctx(std::move(pki));
    partner_hello h;
    h.node_name = name;
    transports_.push_back(make_tcp_transport(io_, o, h, rec));
    rec->t = transports_.back().get();
    if (partner_port == 0) EXPECT_EQ(transports_.back()->listen(), "");
    return *transports_.back();
  }

  test::temp_dir dir_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  std::vector<std::unique_ptr<link_transport>> transports_;
};

TEST_F(tls_test, trusted_nodes_shake_hands_and_exchange_frames) {
  auto pa = store("a", "node-a"), pb = store("b", "node-b");
  ASSERT_EQ(pa->trust_file(pb->own().path), "");
  ASSERT_EQ(pb->trust_file(pa->own().path), "");
  auto ra = std::make_shared<accepting>(), rb = std::make_shared<accepting>();
  auto& a = make("node-a", pa, ra);
  auto& b = make("node-b", pb, rb, a.listen_port());
  auto t0 = std::chrono::steady_clock::now();
  b.dial();
  ASSERT_TRUE(ra->wait([&] { return !ra->ups.empty(); })) << ra->downs.size();
  ASSERT_TRUE(rb->wait([&] { return !rb->ups.empty(); }));
  std::cout << "[ figure ] dial to link up over TLS (connect, TLS handshake, HELLOs): "
            << std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::steady_clock::now() - t0)
                   .count()
            << " us" << std::endl;
  EXPECT_EQ(ra->hellos.at(0).hello.node_name, "node-b");
  sync_payload p;
  p.channel = 3;
  p.bytes.assign(200000, 0x5a); // several TLS records
  b.sync(rb->ups[0].conn, p);
  ASSERT_TRUE(ra->wait([&] { return !ra->syncs.empty(); }));
  EXPECT_EQ(ra->syncs[0].payload.bytes, p.bytes);
}

TEST_F(tls_test, an_untrusted_certificate_is_refused_kept_in_rejected_and_approve_lets_it_in) {
  auto pa = store("a", "node-a"), pb = store("b", "node-b");
  ASSERT_EQ(pb->trust_file(pa->own().path), ""); // b trusts a; a does not know b yet
  auto ra = std::make_shared<accepting>(), rb = std::make_shared<accepting>();
  auto& a = make("node-a", pa, ra);
  auto& b = make("node-b", pb, rb, a.listen_port());
  b.dial();
  ASSERT_TRUE(ra->wait([&] { return !ra->downs.empty(); }));
  auto text = ra->down_text(partner_down_cause::untrusted);
  EXPECT_NE(text.find("certificate not trusted: thumbprint " + pb->own().thumbprint +
                      ", subject CN=node-b, O=Tandem"),
            std::string::npos)
      << text;
  EXPECT_TRUE(ra->hellos.empty());
  EXPECT_TRUE(
      std::filesystem::exists(dir_.file("a/rejected/certs/" + pb->own().thumbprint + ".der")));
  // The dialing side hears that its certificate was refused, and what to do.
  ASSERT_TRUE(rb->wait([&] { return !rb->downs.empty(); }));
  auto btext = rb->down_text(partner_down_cause::untrusted);
  EXPECT_NE(btext.find("approve " + pb->own().thumbprint), std::string::npos) << rb->downs[0].text;
  EXPECT_TRUE(rb->ups.empty());

  ASSERT_EQ(pa->approve(pb->own().thumbprint), "");
  b.dial();
  EXPECT_TRUE(ra->wait([&] { return !ra->ups.empty(); }));
  EXPECT_TRUE(rb->wait([&] { return !rb->ups.empty(); }));
}

TEST_F(tls_test, an_impostor_with_a_trusted_nodes_name_but_its_own_key_is_refused) {
  auto pa = store("a", "node-a"), pb = store("b", "node-b"), fake = store("fake", "node-b");
  ASSERT_EQ(pa->trust_file(pb->own().path), "");
  ASSERT_EQ(fake->trust_file(pa->own().path), "");
  auto ra = std::make_shared<accepting>(), rf = std::make_shared<accepting>();
  auto& a = make("node-a", pa, ra);
  auto& f = make("node-b", fake, rf, a.listen_port());
  f.dial();
  ASSERT_TRUE(ra->wait([&] { return !ra->downs.empty(); }));
  auto text = ra->down_text(partner_down_cause::untrusted);
  EXPECT_NE(text.find("certificate not trusted: thumbprint " + fake->own().thumbprint),
            std::string::npos)
      << text;
  EXPECT_TRUE(ra->ups.empty());
}

TEST_F(tls_test, a_trusted_certificate_under_another_name_than_the_hello_says_is_refused) {
  // node-b holds a trusted certificate but claims to be node-c in its HELLO.
  auto pa = store("a", "node-a"), pb = store("b", "node-b");
  ASSERT_EQ(pa->trust_file(pb->own().path), "");
  ASSERT_EQ(pb->trust_file(pa->own().path), "");
  auto ra = std::make_shared<accepting>(), rb = std::make_shared<accepting>();
  auto& a = make("node-a", pa, ra);
  auto& b = make("node-c", pb, rb, a.listen_port());
  b.dial();
  ASSERT_TRUE(ra->wait([&] { return !ra->downs.empty(); }));
  auto text = ra->down_text(partner_down_cause::untrusted);
  EXPECT_NE(text.find("names it node-c but its certificate is issued to node-b"), std::string::npos)
      << text;
  EXPECT_TRUE(ra->hellos.empty());
}

TEST_F(tls_test, an_expired_certificate_is_refused_even_when_trusted) {
  auto pa = store("a", "node-a");
  // node-b's identity expired yesterday: written into its store by hand.
  identity old;
  std::string err;
  ASSERT_TRUE(make_identity("node-b", -3 * 86400, 2 * 86400, old, err)) << err;
  std::filesystem::create_directories(dir_.file("b/own/certs"));
  std::filesystem::create_directories(dir_.file("b/own/private"));
  std::ofstream(dir_.file("b/own/private/key.pem")) << old.key_pem;
  std::ofstream(dir_.file("b/own/certs/" + thumbprint_of(old.cert_der) + ".der"), std::ios::binary)
      .write(reinterpret_cast<const char*>(old.cert_der.data()),
             static_cast<std::streamsize>(old.cert_der.size()));
  auto pb = store("b", "node-b");
  ASSERT_EQ(pb->own().thumbprint, thumbprint_of(old.cert_der));
  ASSERT_EQ(pa->trust_file(pb->own().path), "");
  ASSERT_EQ(pb->trust_file(pa->own().path), "");
  auto ra = std::make_shared<accepting>(), rb = std::make_shared<accepting>();
  auto& a = make("node-a", pa, ra);
  auto& b = make("node-b", pb, rb, a.listen_port());
  b.dial();
  ASSERT_TRUE(ra->wait([&] { return !ra->downs.empty(); }));
  auto text = ra->down_text(partner_down_cause::untrusted);
  EXPECT_NE(text.find("certificate expired on "), std::string::npos) << ra->downs[0].text;
  EXPECT_NE(text.find(pb->own().thumbprint), std::string::npos) << text;
  ASSERT_TRUE(rb->wait([&] { return !rb->downs.empty(); }));
  EXPECT_NE(rb->down_text(partner_down_cause::untrusted).find("as expired"), std::string::npos)
      << rb->downs[0].text;
}

TEST_F(tls_test, a_plain_text_client_is_refused_and_one_that_sends_nothing_times_out) {
  auto pa = store("a", "node-a");
  auto ra = std::make_shared<accepting>();
  auto& a = make("node-a", pa, ra);
  asio::io_context raw_io;
  {
    tcp::socket s(raw_io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), a.listen_port()));
    // A plain partner HELLO's first bytes: "TDMP", type 1, length.
    std::string plain = std::string("TDMP\x01\x10\x00\x00\x00", 9) + std::string(16, 'x');
    asio::write(s, asio::buffer(plain));
    ASSERT_TRUE(ra->wait([&] { return !ra->downs.empty(); }));
  }
  auto text = ra->down_text(partner_down_cause::protocol_error);
  EXPECT_NE(text.find("not a TLS connection"), std::string::npos) << ra->downs[0].text;
  tcp::socket quiet(raw_io);
  quiet.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), a.listen_port()));
  ASSERT_TRUE(ra->wait([&] { return ra->downs.size() >= 2; }, 5000ms));
  EXPECT_NE(ra->downs[1].text.find("no TLS handshake within 1500 ms"), std::string::npos)
      << ra->downs[1].text;
  EXPECT_TRUE(ra->hellos.empty());
}

TEST_F(tls_test, revoking_the_connected_partners_certificate_drops_the_link_at_once) {
  auto pa = store("a", "node-a"), pb = store("b", "node-b");
  ASSERT_EQ(pa->trust_file(pb->own().path), "");
  ASSERT_EQ(pb->trust_file(pa->own().path), "");
  auto ra = std::make_shared<accepting>(), rb = std::make_shared<accepting>();
  auto& a = make("node-a", pa, ra);
  auto& b = make("node-b", pb, rb, a.listen_port());
  b.dial();
  ASSERT_TRUE(ra->wait([&] { return !ra->ups.empty(); }));
  ASSERT_TRUE(rb->wait([&] { return !rb->ups.empty(); }));
  ASSERT_EQ(pa->revoke(pb->own().thumbprint), "");
  ASSERT_TRUE(ra->wait([&] { return !ra->downs.empty(); }, 2000ms));
  EXPECT_NE(ra->down_text(partner_down_cause::untrusted).find("no longer trusted"),
            std::string::npos)
      << ra->downs[0].text;
  ASSERT_TRUE(rb->wait([&] { return !rb->downs.empty(); }, 2000ms));
  // Dialing again is refused at the TLS handshake.
  b.dial();
  ASSERT_TRUE(ra->wait([&] { return ra->downs.size() >= 2; }));
  EXPECT_NE(ra->downs[1].text.find("certificate not trusted"), std::string::npos)
      << ra->downs[1].text;
  EXPECT_EQ(ra->ups.size(), 1u);
}

/// The TLS stream alone: two ends on loopback, then raw bytes written under the TLS layer.
TEST_F(tls_test, bytes_tampered_with_after_the_handshake_end_the_stream_with_an_error) {
  auto pa = store("a", "node-a"), pb = store("b", "node-b");
  ASSERT_EQ(pa->trust_file(pb->own().path), "");
  ASSERT_EQ(pb->trust_file(pa->own().path), "");
  auto ca = ctx(pa), cb = ctx(pb);
  tcp::acceptor acc(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(io_);
  client.connect(acc.local_endpoint());
  tcp::socket server_sock = acc.accept();
  auto server = std::make_shared<tls_stream>(std::move(server_sock), ca);
  auto cl = std::make_shared<tls_stream>(std::move(client), cb);
  std::mutex m;
  std::condition_variable cv;
  int done = 0;
  std::string failures;
  auto finish = [&](tls_failure f) {
    std::lock_guard<std::mutex> g(m);
    failures += f.text;
    ++done;
    cv.notify_all();
  };
  asio::post(io_, [&] {
    server->handshake(true, 2000ms, finish);
    cl->handshake(false, 2000ms, finish);
  });
  {
    std::unique_lock<std::mutex> g(m);
    ASSERT_TRUE(cv.wait_for(g, 5s, [&] { return done == 2; }));
  }
  ASSERT_EQ(failures, "");
  EXPECT_EQ(server->peer_name(), "node-b");
  EXPECT_EQ(server->peer_thumbprint(), pb->own().thumbprint);
  // A TLS application-data record whose contents were changed on the way: the MAC fails.
  std::vector<uint8_t> record = {0x17, 0x03, 0x03, 0x00, 0x20};
  record.resize(5 + 0x20, 0xab);
  boost::system::error_code read_ec;
  std::array<uint8_t, 256> buf{};
  bool read_done = false;
  asio::post(io_, [&] {
    server->async_read_some(asio::buffer(buf), [&](const boost::system::error_code& ec, size_t) {
      std::lock_guard<std::mutex> g(m);
      read_ec = ec;
      read_done = true;
      cv.notify_all();
    });
    boost::system::error_code wec;
    asio::write(cl->socket(), asio::buffer(record), wec);
  });
  std::unique_lock<std::mutex> g(m);
  ASSERT_TRUE(cv.wait_for(g, 5s, [&] { return read_done; }));
  EXPECT_TRUE(read_ec) << "a tampered record must not be read as data";
  EXPECT_NE(read_ec, asio::error::eof);
  EXPECT_EQ(server->refusal(read_ec), "") << "not a certificate problem";
  g.unlock();
  std::promise<void> closed;
  asio::post(io_, [&] {
    server->close();
    cl->close();
    closed.set_value();
  });
  closed.get_future().wait();
}

} // namespace
