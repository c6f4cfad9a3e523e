// The PARTNER LINK over real sockets on loopback: two link actors in one actor system (the
// `sharing` scheduler, as a node runs), each with its TCP transport, on ports picked at run time;
// raw sockets play a hung partner, garbage and a future protocol version. Detection times of a
// closed link and of a silent partner are measured and printed (ping_interval 100 ms, 3 missed).

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/atom.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/partner_link.hpp"
#include "tests/support/process.hpp"
#include "transports/partner/protocol.hpp"

using namespace tandem;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

/// What one listener heard, with the (real) time of each report.
struct heard {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::pair<clock_type::time_point, partner_up>> ups;
  std::vector<std::pair<clock_type::time_point, partner_down>> downs;
  std::vector<partner_heartbeat> heartbeats;
  std::vector<sync_payload> syncs;

  template <class Pred> bool wait(Pred p, std::chrono::milliseconds limit = 5000ms) {
    std::unique_lock<std::mutex> g(m);
    return cv.wait_for(g, limit, [&] { return p(); });
  }
  size_t n_ups() {
    std::lock_guard<std::mutex> g(m);
    return ups.size();
  }
  size_t n_downs() {
    std::lock_guard<std::mutex> g(m);
    return downs.size();
  }
  partner_down down(size_t i) {
    std::lock_guard<std::mutex> g(m);
    return downs.at(i).second;
  }
};

partner_listener_actor::behavior_type listener_fn(partner_listener_actor::pointer, heard* h) {
  auto note = [h](auto f) {
    {
      std::lock_guard<std::mutex> g(h->m);
      f();
    }
    h->cv.notify_all();
  };
  return {
      [=](partner_up& m) { note([&] { h->ups.emplace_back(clock_type::now(), m); }); },
      [=](partner_down& m) { note([&] { h->downs.emplace_back(clock_type::now(), m); }); },
      [=](partner_heartbeat& m) { note([&] { h->heartbeats.push_back(m); }); },
      [=](sync_payload& m) { note([&] { h->syncs.push_back(m); }); },
  };
}

caf::actor_system_config& sharing(caf::actor_system_config& c) {
  c.set("scheduler.policy", caf::atom("sharing"));
  return c;
}

class partner_link_it : public ::testing::Test {
protected:
  partner_link_it() : sys_(sharing(cfg_)), work_(asio::make_work_guard(io_)) {
    io_thread_ = std::thread([this] { io_.run(); });
  }
  ~partner_link_it() override {
    {
      caf::scoped_actor self(sys_);
      for (auto& a : actors_)
        self->send_exit(a, caf::exit_reason::user_shutdown);
      for (auto& l : listeners_)
        self->send_exit(l, caf::exit_reason::user_shutdown);
    }
    sys_.await_all_actors_done();
    work_.reset();
    io_thread_.join();
  }

  struct node {
    std::string name;
    uint16_t link_port = 0;
    uint16_t face_port = 0; ///< nobody listens there: a dead node's face refuses
    heard h;
    partner_link_actor actor;
  };

  /// A link actor named `name` listening on `port`, its partner on `partner_port`.
  void start(node& n, bool dial, uint16_t partner_port, caf::timespan interval = 100ms,
             caf::timespan timeout = 1000ms, int64_t missed = 3) {
    auto listener = sys_.spawn(listener_fn, &n.h);
    listeners_.push_back(listener);
    partner_link_config c;
    c.hello.node_name = n.name;
    c.hello.role = dial ? partner_role::backup : partner_role::master;
    c.hello.face_port = n.face_port;
    c.dial = dial;
    c.partner = "127.0.0.1:" + std::to_string(partner_port);
    c.partner_link_port = partner_port;
    c.ping_interval = interval;
    c.ping_timeout = timeout;
    c.missed_pings = missed;
    c.listener = listener;
    partner::tcp_link_options o;
    o.listen_host = "127.0.0.1";
    o.listen_port = n.link_port;
    o.partner_host = "127.0.0.1";
    o.partner_port = partner_port;
    o.handshake_timeout = 1000ms;
    c.make_transport = [this, o, hello = c.hello](std::shared_ptr<partner::link_events> ev) {
      return partner::make_tcp_transport(io_, o, hello, std::move(ev));
    };
    n.actor = sys_.spawn(partner_link, c);
    actors_.push_back(n.actor);
    status(n); // answered after its init: listening from now on
  }

  void stop(node& n) {
    caf::scoped_actor self(sys_);
    self->send_exit(n.actor, caf::exit_reason::kill);
  }

  partner_link_status status(node& n) {
    caf::scoped_actor self(sys_);
    partner_link_status s;
    self->request(n.actor, 2s, atom::status_v)
        .receive([&](partner_link_status& r) { s = r; }, [](caf::error&) {});
    return s;
  }

  /// A node that lives as long as the fixture (its listener writes into it until the end).
  node& make_node(const std::string& name) {
    auto& n = nodes_.emplace_back();
    n.name = name;
    n.link_port = test::free_port();
    n.face_port = test::free_port();
    return n;
  }

  caf::actor_system_config cfg_;
  caf::actor_system sys_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread io_thread_;
  std::vector<partner_link_actor> actors_;
  std::vector<partner_listener_actor> listeners_;
  std::deque<node> nodes_;
};

/// A raw TCP peer that does the handshake as "name", answers heartbeats and sends its own every
/// 100 ms until told to hang; then it neither reads nor writes (as a SIGSTOPped node).
class raw_peer {
public:
  raw_peer(uint16_t port, std::string name) : sock_(io_) {
    sock_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    sock_.set_option(tcp::no_delay(true));
    partner_hello h;
    h.node_name = std::move(name);
    h.face_port = test::free_port();
    asio::write(sock_, asio::buffer(partner::encode(h)));
    asio::write(sock_, asio::buffer(partner::encode(partner::hello_ack_msg{})));
    thread_ = std::thread([this] { loop(); });
  }
  ~raw_peer() {
    stop_ = true;
    boost::system::error_code ec;
    sock_.shutdown(tcp::socket::shutdown_both, ec);
    thread_.join();
  }
  void hang() {
    hung_at_ = clock_type::now();
    hang_ = true;
  }
  clock_type::time_point hung_at() const { return hung_at_; }

private:
  void loop() {
    partner::frame_reader r;
    std::array<uint8_t, 4096> buf;
    auto next_beat = clock_type::now();
    uint64_t seq = 0;
    bool up = false; // heartbeats only once the node accepted this one
    sock_.non_blocking(true);
    while (!stop_) {
      if (hang_) {
        std::this_thread::sleep_for(1ms);
        continue;
      }
      boost::system::error_code ec;
      auto n = sock_.read_some(asio::buffer(buf), ec);
      if (ec == asio::error::would_block) {
        std::this_thread::sleep_for(200us);
      } else if (ec) {
        return;
      } else {
        r.feed(partner::bytes_view(buf.data(), n));
        partner::frame_header fh;
        std::vector<uint8_t> p;
        std::string err;
        while (r.next(fh, p, err) == partner::frame_reader::result::frame) {
          partner::message m;
          if (!partner::decode_payload(fh.type, p, m).empty()) continue;
          if (std::holds_alternative<partner::hello_ack_msg>(m)) up = true;
          if (auto* hb = std::get_if<partner::heartbeat_msg>(&m)) {
            if (hang_) break;
            asio::write(
                sock_,
                asio::buffer(partner::encode(partner::heartbeat_ack_msg{hb->seq, hb->time_ns})),
                ec);
          }
        }
      }
      if (up && !hang_ && clock_type::now() >= next_beat) {
        next_beat += 100ms;
        asio::write(sock_, asio::buffer(partner::encode(partner::heartbeat_msg{++seq, 0})), ec);
      }
    }
  }

  asio::io_context io_;
  tcp::socket sock_;
  std::thread thread_;
  std::atomic<bool> stop_{false}, hang_{false};
  clock_type::time_point hung_at_;
};

double ms_between(clock_type::time_point a, clock_type::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

void print_figures(const char* what, std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))]; };
  std::printf("[figures] %s: n=%zu min %.1f ms, median %.1f ms, p90 %.1f ms, max %.1f ms\n", what,
              v.size(), v.front(), at(0.5), at(0.9), v.back());
}

TEST_F(partner_link_it, connect_handshake_heartbeats_and_sync) {
  auto& a = make_node("node-a");
  auto& b = make_node("node-b");
  start(a, false, b.link_port);
  start(b, true, a.link_port);
  ASSERT_TRUE(a.h.wait([&] { return a.h.ups.size() == 1; }));
  ASSERT_TRUE(b.h.wait([&] { return b.h.ups.size() == 1; }));
  EXPECT_EQ(a.h.ups[0].second.hello.node_name, "node-b");
  EXPECT_TRUE(a.h.ups[0].second.inbound);
  EXPECT_EQ(b.h.ups[0].second.hello.node_name, "node-a");
  EXPECT_EQ(b.h.ups[0].second.hello.role, partner_role::master);
  ASSERT_TRUE(b.h.wait([&] { return b.h.heartbeats.size() >= 3; }));
  {
    std::lock_guard<std::mutex> g(b.h.m);
    EXPECT_GT(b.h.heartbeats.back().rtt.count(), 0);
    EXPECT_LT(b.h.heartbeats.back().rtt, caf::timespan(50ms));
  }
  {
    caf::scoped_actor self(sys_);
    for (uint8_t i = 0; i < 50; ++i)
      self->send(b.actor, sync_payload{1, std::vector<uint8_t>(1000, i)});
  }
  ASSERT_TRUE(a.h.wait([&] { return a.h.syncs.size() == 50; }));
  for (uint8_t i = 0; i < 50; ++i)
    EXPECT_EQ(a.h.syncs[i].bytes[0], i);
  auto s = status(a);
  EXPECT_EQ(s.link, "up");
  EXPECT_EQ(s.partner, "node-b");
  EXPECT_LT(s.last_heartbeat_age, caf::timespan(200ms));
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(a.h.n_downs(), 0u); // a healthy link stays up
  EXPECT_EQ(b.h.n_downs(), 0u);
}

TEST_F(partner_link_it, a_dead_partner_is_gone_for_certain_at_once) {
  auto& a = make_node("node-a");
  auto& b = make_node("node-b");
  start(a, false, b.link_port);
  std::vector<double> took;
  for (int run = 0; run < 10; ++run) {
    start(b, true, a.link_port);
    ASSERT_TRUE(a.h.wait([&] { return a.h.ups.size() == static_cast<size_t>(run + 1); }));
    std::this_thread::sleep_for(150ms);
    auto before = a.h.n_downs();
    auto t0 = clock_type::now();
    stop(b); // its sockets close: the link sees EOF, both of b's ports refuse
    ASSERT_TRUE(a.h.wait([&] { return a.h.downs.size() == before + 1; }));
    auto d = a.h.down(before);
    EXPECT_EQ(d.cause, partner_down_cause::partner_gone) << d.text;
    EXPECT_TRUE(d.lost);
    {
      std::lock_guard<std::mutex> g(a.h.m);
      took.push_back(ms_between(t0, a.h.downs.back().first));
    }
    b.h.ups.clear();
    b.h.downs.clear();
  }
  print_figures("closed link (partner actor killed) to partner_gone", took);
  // Loose bounds: CI runs integration tests in parallel on a busy machine.
  EXPECT_LT(*std::max_element(took.begin(), took.end()), 250.0);
}

TEST_F(partner_link_it, a_dropped_connection_with_a_live_partner_is_uncertain_then_back) {
  auto& a = make_node("node-a");
  auto& b = make_node("node-b");
  start(a, false, b.link_port);
  start(b, true, a.link_port);
  ASSERT_TRUE(a.h.wait([&] { return a.h.ups.size() == 1; }));
  auto t0 = clock_type::now();
  {
    caf::scoped_actor self(sys_);
    self->request(b.actor, 2s, fault{fault_kind::drop_link, "", "", 0, 1})
        .receive([](std::string& r) { EXPECT_EQ(r, ""); }, [](caf::error&) { FAIL(); });
  }
  ASSERT_TRUE(a.h.wait([&] { return a.h.downs.size() >= 1; }));
  auto d = a.h.down(0);
  EXPECT_EQ(d.cause, partner_down_cause::closed) << d.text;
  EXPECT_FALSE(d.lost);
  EXPECT_NE(d.text.find("the partner may be alive"), std::string::npos) << d.text;
  std::printf("[figures] closed link, partner alive: told in %.1f ms\n",
              ms_between(t0, clock_type::now()));
  // b redials after its back-off; the link is back before the heartbeat rule expires.
  ASSERT_TRUE(a.h.wait([&] { return a.h.ups.size() == 2; }, 2000ms));
  std::this_thread::sleep_for(1200ms);
  for (size_t i = 0; i < a.h.n_downs(); ++i)
    EXPECT_FALSE(a.h.down(i).lost) << a.h.down(i).text;
}

TEST_F(partner_link_it, a_hung_partner_is_lost_after_missed_pings) {
  auto& a = make_node("node-a");
  start(a, false, test::free_port(), 100ms, 1000ms, 3);
  std::vector<double> took;
  for (int run = 0; run < 10; ++run) {
    auto peer = std::make_unique<raw_peer>(a.link_port, "node-h");
    ASSERT_TRUE(a.h.wait([&] { return a.h.ups.size() == static_cast<size_t>(run + 1); }))
        << status(a).link << " " << status(a).last_down;
    // Hang at a random phase of the heartbeat cycle.
    std::this_thread::sleep_for(300ms + std::chrono::milliseconds((run * 37) % 100));
    auto before = a.h.n_downs();
    peer->hang();
    ASSERT_TRUE(a.h.wait([&] { return a.h.downs.size() == before + 1; }));
    auto d = a.h.down(before);
    EXPECT_EQ(d.cause, partner_down_cause::missed_pings) << d.text;
    EXPECT_TRUE(d.lost);
    {
      std::lock_guard<std::mutex> g(a.h.m);
      took.push_back(ms_between(peer->hung_at(), a.h.downs.back().first));
    }
  }
  print_figures("silent partner (interval 100 ms, missed_pings 3, timeout 1000 ms)", took);
  for (auto t : took) {
    EXPECT_GE(t, 195.0); // at least missed_pings intervals
    EXPECT_LT(t, 700.0);
  }
}

TEST_F(partner_link_it, a_hung_partner_is_lost_after_ping_timeout) {
  auto& a = make_node("node-a");
  start(a, false, test::free_port(), 100ms, 320ms, 5);
  std::vector<double> took;
  for (int run = 0; run < 10; ++run) {
    auto peer = std::make_unique<raw_peer>(a.link_port, "node-h");
    ASSERT_TRUE(a.h.wait([&] { return a.h.ups.size() == static_cast<size_t>(run + 1); }))
        << status(a).link << " " << status(a).last_down;
    std::this_thread::sleep_for(300ms + std::chrono::milliseconds((run * 37) % 100));
    auto before = a.h.n_downs();
    peer->hang();
    ASSERT_TRUE(a.h.wait([&] { return a.h.downs.size() == before + 1; }));
    auto d = a.h.down(before);
    EXPECT_EQ(d.cause, partner_down_cause::heartbeat_timeout) << d.text;
    {
      std::lock_guard<std::mutex> g(a.h.m);
      took.push_back(ms_between(peer->hung_at(), a.h.downs.back().first));
    }
  }
  print_figures("silent partner (interval 100 ms, ping_timeout 320 ms)", took);
  for (auto t : took) {
    EXPECT_GE(t, 200.0); // at least ping_timeout less one interval
    EXPECT_LT(t, 600.0);
  }
}

TEST_F(partner_link_it, garbage_and_a_future_version_are_refused_and_the_link_still_works) {
  auto& a = make_node("node-a");
  auto& b = make_node("node-b");
  start(a, false, b.link_port);
  asio::io_context io;
  {
    tcp::socket s(io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), a.link_port));
    asio::write(s, asio::buffer(std::string("\x16\x03\x01\x02\x00garbage, or TLS", 20)));
    ASSERT_TRUE(a.h.wait([&] { return a.h.downs.size() == 1; }));
  }
  auto d = a.h.down(0);
  EXPECT_EQ(d.cause, partner_down_cause::protocol_error);
  EXPECT_EQ(d.text,
            "protocol error: bad magic 0x16030102 (expected \"TDMP\"): not a Tandem partner link");
  {
    tcp::socket s(io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), a.link_port));
    partner_hello h;
    h.node_name = "node-future";
    asio::write(s, asio::buffer(partner::encode(h, 7)));
    ASSERT_TRUE(a.h.wait([&] { return a.h.downs.size() == 2; }));
  }
  d = a.h.down(1);
  EXPECT_EQ(d.cause, partner_down_cause::version_mismatch);
  EXPECT_EQ(d.text, "partner node-future speaks protocol version 7, this node speaks 1");
  start(b, true, a.link_port);
  ASSERT_TRUE(a.h.wait([&] { return a.h.ups.size() == 1; }));
}

TEST_F(partner_link_it, a_second_partner_is_refused) {
  auto& a = make_node("node-a");
  auto& b = make_node("node-b");
  auto& c = make_node("node-c");
  start(a, false, b.link_port);
  start(b, true, a.link_port);
  ASSERT_TRUE(a.h.wait([&] { return a.h.ups.size() == 1; }));
  start(c, true, a.link_port);
  ASSERT_TRUE(c.h.wait([&] { return c.h.downs.size() == 1; }));
  auto d = c.h.down(0);
  EXPECT_EQ(d.cause, partner_down_cause::refused);
  EXPECT_EQ(d.text, "partner node-a refused this node: another partner is connected: node-b");
  EXPECT_EQ(status(a).partner, "node-b");
  EXPECT_EQ(a.h.n_downs(), 0u);
}

} // namespace
