// Many sessions on one `tandem sim` at once: 100 of Tandem's own clients (in this process) and
// three stock node-opcua clients (client.js processes), each with its own subscription, while
// misbehaving peers hit the same port: raw TCP garbage, connections that never say HEL,
// connections cut in the middle of a message, clients that vanish with a live session. Every
// healthy client must keep its session and receive every tick the server generated, with no
// pause longer than a stated bound.

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include "sim_harness.hpp"
#include "transports/opcua/framing.hpp"

using namespace tandem;
using namespace tandem::opcua;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

constexpr int64_t rate_ms = 100;
constexpr int healthy_clients = 100;
constexpr int node_clients = 3;
constexpr int items = 100;
/// Longest time a healthy client may go without a value while the misbehaving peers run.
/// One tick is 100 ms and the publishing interval 100 ms, so a value arrives every ~100 ms;
/// the figures measured here are printed by the test.
constexpr auto max_gap = 1000ms;
/// The same for the node-opcua clients, whose figure covers their whole run (the start of the
/// subscription included) and their own event loop's pauses.
constexpr auto max_node_gap = 2000ms;

/// A blocking loopback TCP socket with a receive timeout.
class raw_socket {
public:
  explicit raw_socket(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    timeval tv{0, 200000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~raw_socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  raw_socket(const raw_socket&) = delete;
  raw_socket& operator=(const raw_socket&) = delete;
  bool ok() const { return fd_ >= 0; }
  bool send(const std::vector<uint8_t>& b) {
    return ::send(fd_, b.data(), b.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(b.size());
  }
  /// Reads one whole message of the connection protocol (8-byte header + body).
  std::optional<std::vector<uint8_t>> read_message() {
    std::vector<uint8_t> buf(8);
    if (!read_exact(buf.data(), 8)) return std::nullopt;
    uint32_t size = buf[4] | buf[5] << 8 | buf[6] << 16 | static_cast<uint32_t>(buf[7]) << 24;
    if (size < 8 || size > 1000000) return std::nullopt;
    buf.resize(size);
    if (!read_exact(buf.data() + 8, size - 8)) return std::nullopt;
    return buf;
  }
  /// True when the server closes the connection within `timeout` (what it sends first is
  /// skipped).
  bool closed_by_server(std::chrono::milliseconds timeout) {
    auto deadline = steady::now() + timeout;
    uint8_t b[4096];
    while (steady::now() < deadline) {
      ssize_t n = ::recv(fd_, b, sizeof b, 0);
      if (n == 0) return true;
      if (n < 0 && errno == ECONNRESET) return true;
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return true;
    }
    return false;
  }
  /// True while the server keeps the connection open (nothing to read, no EOF).
  bool still_open() {
    uint8_t b;
    ssize_t n = ::recv(fd_, &b, 1, MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

private:
  bool read_exact(uint8_t* p, size_t n) {
    auto deadline = steady::now() + 3s;
    while (n > 0 && steady::now() < deadline) {
      ssize_t r = ::recv(fd_, p, n, 0);
      if (r == 0) return false;
      if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
        return false;
      }
      p += r;
      n -= static_cast<size_t>(r);
    }
    return n == 0;
  }
  int fd_ = -1;
};

std::vector<uint8_t> hello_bytes(const std::string& url) {
  HelloMessage hel;
  hel.endpoint_url = String(url);
  return *encode_hello(hel);
}

/// What the misbehaving peers did.
struct misbehaviour {
  std::atomic<int> garbage{0}, garbage_closed{0};         // random bytes instead of HEL
  std::atomic<int> after_hel{0}, after_hel_closed{0};     // HEL/ACK, then random bytes
  std::atomic<int> huge{0}, huge_closed{0};               // a header announcing 2 GB
  std::atomic<int> cut_hel{0}, cut_opn{0}, cut_header{0}; // closed in the middle of a message
  std::atomic<int> failures{0};                           // a step that should work did not
};

/// Runs the misbehaving peers until `stop`: one after the other, a few milliseconds apart.
/// The counters are bumped before each attempt (the window's end waits for them).
void misbehave(uint16_t port, const std::string& url, std::atomic<bool>& stop, misbehaviour& m) {
  std::mt19937 rng(12345);
  auto random_bytes = [&](size_t n) {
    std::vector<uint8_t> b(n);
    for (auto& x : b)
      x = static_cast<uint8_t>(rng());
    return b;
  };
  auto hel = hello_bytes(url);
  for (int i = 0; !stop; ++i) {
    raw_socket s(port);
    if (!s.ok()) {
      ++m.failures;
      continue;
    }
    switch (i % 6) {
    case 0: { // garbage from the first byte
      auto junk = random_bytes(2048);
      junk[0] = 'X'; // never a valid message type
      ++m.garbage;
      s.send(junk);
      if (s.closed_by_server(3s)) ++m.garbage_closed;
      break;
    }
    case 1: { // a proper HEL, then garbage
      ++m.after_hel;
      if (!s.send(hel) || !s.read_message()) {
        ++m.failures;
        break;
      }
      s.send(random_bytes(1024));
      if (s.closed_by_server(3s)) ++m.after_hel_closed;
      break;
    }
    case 2: // half a HEL, then gone
      ++m.cut_hel;
      s.send(std::vector<uint8_t>(hel.begin(), hel.begin() + static_cast<long>(hel.size() / 2)));
      break;
    case 3: { // HEL/ACK, then the start of an OPN that never ends
      ++m.cut_opn;
      if (!s.send(hel) || !s.read_message()) {
        ++m.failures;
        break;
      }
      std::vector<uint8_t> opn{'O', 'P', 'N', 'F', 200, 0, 0, 0, 0, 0, 0, 0};
      auto rest = random_bytes(40);
      opn.insert(opn.end(), rest.begin(), rest.end());
      s.send(opn);
      break;
    }
    case 4: { // a message header claiming 2 GB
      ++m.huge;
      s.send({'M', 'S', 'G', 'F', 0xF0, 0xFF, 0xFF, 0x7F, 1, 0, 0, 0});
      if (s.closed_by_server(3s)) ++m.huge_closed;
      break;
    }
    case 5: // three bytes of a header
      ++m.cut_header;
      s.send({'H', 'E', 'L'});
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
}

class many_sessions_it : public ::testing::Test {
protected:
  many_sessions_it() : work_(boost::asio::make_work_guard(io_)) {
    for (int i = 0; i < 2; ++i)
      threads_.emplace_back([this] { io_.run(); });
  }
  ~many_sessions_it() override {
    subs_.clear();
    sessions_.clear();
    work_.reset();
    io_.stop();
    for (auto& t : threads_)
      t.join();
  }

  test::temp_dir dir_;
  boost::asio::io_context io_;
  std::vector<std::unique_ptr<test::ua_session>> sessions_;
  std::vector<std::shared_ptr<test::ua_subscription>> subs_;

private:
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
};

std::string item_id(int i) {
  char b[32];
  std::snprintf(b, sizeof b, "Sim.Item%04d", i);
  return b;
}

TEST_F(many_sessions_it, a_hundred_clients_keep_their_data_while_peers_misbehave) {
  auto cfg = dir_.write("sim.toml", test::builtin_sim_toml(rate_ms, items, "max_sessions = 150\n"));
  test::sim_process sim(dir_, {"-c", cfg});
  ASSERT_TRUE(sim.ok()) << sim.why();

  // node-opcua clients first: loading node takes seconds, the in-process clients connect
  // meanwhile.
  std::vector<std::unique_ptr<test::child_process>> nodes;
  bool with_node = test::node_opcua_installed();
  if (with_node) {
    std::string why;
    ASSERT_TRUE(test::prepare_node_pki(sim.url(), why)) << why;
    for (int i = 0; i < node_clients; ++i)
      nodes.push_back(test::start_node_client(
          dir_,
          {"subscribe", sim.url(), "--items", std::to_string(items), "--publish-ms", "100",
           "--queue-size", "5", "--seconds", "6", "--timeout-ms", "30000"},
          "node" + std::to_string(i)));
  } else {
    std::printf("node-opcua is not installed: only Tandem's clients take part\n");
  }

  auto t_connect = steady::now();
  for (int i = 0; i < healthy_clients; ++i) {
    sessions_.push_back(std::make_unique<test::ua_session>(io_, sim.url()));
    sessions_.back()->connect_async();
  }
  ASSERT_TRUE(test::wait_for(
      [&] {
        for (auto& s : sessions_)
          if (!s->connect_done()) return false;
        return true;
      },
      20s));
  for (auto& s : sessions_) {
    auto e = s->connect_error();
    ASSERT_FALSE(e) << e->reason;
  }
  auto connect_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t_connect).count();
  // Each: the counter and one item of its own.
  for (int i = 0; i < healthy_clients; ++i) {
    auto sub = test::ua_subscription::create(
        *sessions_[static_cast<size_t>(i)],
        {NodeId(1, String("Sim.Counter")), NodeId(1, String(item_id(i % items)))},
        static_cast<double>(rate_ms), 10);
    ASSERT_TRUE(sub) << "client " << i << ": " << sub.error().reason;
    for (auto& st : (*sub)->item_status())
      ASSERT_TRUE(st.is_good()) << to_string(st);
    subs_.push_back(*sub);
  }
  ASSERT_TRUE(test::wait_for(
      [&] {
        for (auto& s : subs_)
          if (s->count_of(0) < 2 || s->count_of(1) < 2) return false;
        for (auto& n : nodes)
          if (n->out().find("\"subscribed\"") == std::string::npos) return false;
        return true;
      },
      40s))
      << "not every client got going";

  // The misbehaving peers, plus long-lived connections that never speak and clients that
  // vanish with a session and a subscription.
  auto window_start = steady::now();
  int64_t window_start_ms = DateTime::now().to_unix_ms();
  std::vector<std::unique_ptr<raw_socket>> silent;
  for (int i = 0; i < 10; ++i)
    silent.push_back(std::make_unique<raw_socket>(sim.port()));
  std::vector<std::unique_ptr<raw_socket>> silent_after_ack;
  for (int i = 0; i < 5; ++i) {
    silent_after_ack.push_back(std::make_unique<raw_socket>(sim.port()));
    silent_after_ack.back()->send(hello_bytes(sim.url()));
    EXPECT_TRUE(silent_after_ack.back()->read_message()) << "no ACK";
  }
  std::vector<std::unique_ptr<test::ua_session>> vanishing;
  for (int i = 0; i < 5; ++i) {
    vanishing.push_back(std::make_unique<test::ua_session>(io_, sim.url()));
    ASSERT_FALSE(vanishing.back()->connect());
    auto sub = test::ua_subscription::create(*vanishing.back(), {NodeId(1, String("Sim.Counter"))},
                                             static_cast<double>(rate_ms), 10);
    ASSERT_TRUE(sub);
    auto ch = vanishing.back()->client()->channel();
    boost::asio::post(ch->strand(), [ch] {
      ch->abort(error{status::BadConnectionClosed, "the test pulls the cable"});
    });
  }
  misbehaviour m;
  std::atomic<bool> stop{false};
  std::thread bad([&] { misbehave(sim.port(), sim.url(), stop, m); });
  // The window lasts until the peers made 60 attempts (10 of each kind) and every healthy
  // client received 25 more values of the counter (2.5 s of ticks) meanwhile.
  bool window_done = test::wait_for(
      [&] {
        if (m.garbage + m.after_hel + m.huge + m.cut_hel + m.cut_opn + m.cut_header < 60)
          return false;
        for (auto& s : subs_) {
          auto c = s->samples_of(0);
          if (std::count_if(c.begin(), c.end(),
                            [&](const test::sample& x) { return x.arrival > window_start; }) < 25)
            return false;
        }
        return true;
      },
      20s);
  stop = true;
  bad.join();
  int silent_open = 0;
  for (auto& s : silent)
    silent_open += s->still_open() ? 1 : 0;
  silent.clear();
  silent_after_ack.clear();
  auto window_end = steady::now();
  EXPECT_TRUE(window_done) << "the healthy clients did not get 25 values in 20 s";
  int64_t window_end_ms = DateTime::now().to_unix_ms();
  // One more second after the window: the clients go on receiving.
  auto settle = window_end + 1s;
  ASSERT_TRUE(test::wait_for(
      [&] {
        for (auto& s : subs_) {
          auto c = s->samples_of(0);
          if (c.empty() || c.back().arrival < settle) return false;
        }
        return true;
      },
      10s))
      << "some clients stopped receiving after the window";

  // Every healthy session is alive: no loss, publishing on, a read on the same session works.
  for (int i = 0; i < healthy_clients; ++i) {
    auto& s = *sessions_[static_cast<size_t>(i)];
    EXPECT_FALSE(s.lost()) << "client " << i << ": " << s.lost_reason();
    EXPECT_FALSE(subs_[static_cast<size_t>(i)]->stopped())
        << "client " << i << ": " << subs_[static_cast<size_t>(i)]->stop_reason();
    auto r = s.read({NodeId(node_ids::Server_ServerStatus_State)});
    EXPECT_TRUE(r && r->at(0).status_or_good().is_good())
        << "client " << i << " lost its session: " << (r ? "" : r.error().reason);
  }

  // The ticks the server generated from just before the window to a second after it: what any
  // client received (a loaded server may skip a tick; it then skips it for everybody).
  int64_t from_ms = window_start_ms - 500, to_ms = window_end_ms + 1000;
  auto ticks_of = [&](const test::ua_subscription& s, uint32_t h) {
    std::set<int64_t> out;
    for (auto& x : s.samples_of(h)) {
      int64_t t = test::unix_ms(*x.value.source_timestamp);
      if (t >= from_ms && t <= to_ms) out.insert(t);
    }
    return out;
  };
  std::set<int64_t> all_ticks;
  for (auto& s : subs_) {
    auto t = ticks_of(*s, 0);
    all_ticks.insert(t.begin(), t.end());
  }
  int64_t server_skipped = 0;
  for (auto it = all_ticks.begin(); it != all_ticks.end() && std::next(it) != all_ticks.end(); ++it)
    server_skipped += (*std::next(it) - *it) / rate_ms - 1;
  EXPECT_GE(all_ticks.size(), static_cast<size_t>((to_ms - from_ms) / rate_ms * 3 / 4));
  std::vector<int64_t> gaps_ms;
  int64_t worst_gap = 0;
  int worst_client = -1;
  for (int i = 0; i < healthy_clients; ++i) {
    auto& s = *subs_[static_cast<size_t>(i)];
    auto t = ticks_of(s, 0);
    EXPECT_EQ(t, all_ticks) << "client " << i << " missed " << all_ticks.size() - t.size()
                            << " ticks of Sim.Counter";
    auto item = ticks_of(s, 1);
    EXPECT_GE(item.size() + 2, all_ticks.size()) << "client " << i << " lost item values";
    // Largest pause between two values as they arrived, over the window and the second after.
    auto c = s.samples_of(0);
    int64_t g = 0;
    for (size_t j = 1; j < c.size(); ++j) {
      if (c[j].arrival < window_start || c[j - 1].arrival > window_end + 1s) continue;
      g = std::max<int64_t>(
          g, std::chrono::duration_cast<std::chrono::milliseconds>(c[j].arrival - c[j - 1].arrival)
                 .count());
    }
    gaps_ms.push_back(g);
    if (g > worst_gap) {
      worst_gap = g;
      worst_client = i;
    }
    EXPECT_LE(g, max_gap.count()) << "client " << i << " waited " << g << " ms for a value";
  }
  std::sort(gaps_ms.begin(), gaps_ms.end());

  // The misbehaving peers were dealt with: garbage and oversized headers closed by the
  // server, silent connections left alone (until the hello timeout).
  EXPECT_EQ(m.failures.load(), 0);
  EXPECT_GT(m.garbage.load(), 0);
  EXPECT_EQ(m.garbage_closed.load(), m.garbage.load());
  EXPECT_EQ(m.after_hel_closed.load(), m.after_hel.load());
  EXPECT_EQ(m.huge_closed.load(), m.huge.load());
  EXPECT_EQ(silent_open, 10);

  // The node-opcua clients: every item, no reconnection, no long pause.
  int node_gap_max = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    auto r = test::finish_node_client(*nodes[i], 40s);
    ASSERT_EQ(r.code, 0) << "node client " << i << ": " << r.err.substr(0, 2000);
    auto sub = r.event("subscribed");
    auto sum = r.event("summary");
    ASSERT_FALSE(sum.is_null()) << i;
    EXPECT_EQ(sub["failed"], 0) << sub.dump();
    EXPECT_EQ(sum["items_seen"], items) << sum.dump();
    EXPECT_TRUE(sum["events"].empty())
        << "node client " << i << " had connection events: " << sum.dump();
    EXPECT_LE(sum["arrival_gap_ms_max"].get<int>(), max_node_gap.count()) << sum.dump();
    EXPECT_LE(sum["source_gap_ms_max"].get<int64_t>(), (server_skipped + 1) * rate_ms + 2 * rate_ms)
        << sum.dump();
    node_gap_max = std::max(node_gap_max, sum["arrival_gap_ms_max"].get<int>());
  }

  // Still serving: a newcomer gets a session.
  test::ua_session late(io_, sim.url());
  auto e = late.connect();
  EXPECT_FALSE(e) << e->reason;
  EXPECT_TRUE(sim.proc().running());

  std::printf(
      "[ figures ] %d sessions connected in %lld ms; misbehaviour %lld ms: %d garbage, %d "
      "HEL+garbage, %d 2GB headers, %d cut HEL, %d cut OPN, %d cut headers, 10 silent, 5 "
      "silent after ACK, 5 vanished sessions\n",
      healthy_clients, static_cast<long long>(connect_ms),
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(window_end - window_start).count()),
      m.garbage.load(), m.after_hel.load(), m.huge.load(), m.cut_hel.load(), m.cut_opn.load(),
      m.cut_header.load());
  std::printf("[ figures ] %zu ticks in the checked span, %lld skipped by the server; largest "
              "pause between values per client: median %lld ms, p90 %lld ms, max %lld ms "
              "(client %d, bound %lld ms); node-opcua clients max %d ms (bound %lld ms)\n",
              all_ticks.size(), static_cast<long long>(server_skipped),
              static_cast<long long>(gaps_ms[gaps_ms.size() / 2]),
              static_cast<long long>(gaps_ms[gaps_ms.size() * 9 / 10]),
              static_cast<long long>(worst_gap), worst_client,
              static_cast<long long>(max_gap.count()), node_gap_max,
              static_cast<long long>(max_node_gap.count()));
}

} // namespace
