// Integration: trust between two real `tandem node` processes over TLS partner links. Not paired
// until an operator approves on both sides, then paired; revoke drops the link at once; a third
// node with its own certificate and a plain-text TCP client are refused while the pair carries
// on; bytes tampered with on the wire after the handshake drop the link without crashing either
// node, and it comes back.

#include <atomic>
#include <csignal>
#include <cstring>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/support/node.hpp"
#include "tests/support/process.hpp"

using namespace tandem;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

/// A TCP relay on loopback between the backup and the master that can flip one byte of what the
/// backup sends (the man in the middle of a tampered link). Plain POSIX sockets and threads.
class tamper_proxy {
public:
  tamper_proxy(uint16_t listen_port, uint16_t target) : target_(target) {
    lfd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(lfd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a = addr(listen_port);
    ok_ = ::bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(lfd_, 8) == 0;
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~tamper_proxy() {
    stop_ = true;
    ::shutdown(lfd_, SHUT_RDWR);
    acceptor_.join();
    ::close(lfd_);
    for (int fd : fds_)
      ::shutdown(fd, SHUT_RDWR);
    for (auto& t : pumps_)
      t.join();
    for (int fd : fds_)
      ::close(fd);
  }
  bool ok() const { return ok_; }
  /// Flips a byte of the next chunk the backup sends.
  void corrupt_next() { corrupt_ = true; }
  bool corrupted() const { return done_; }

private:
  static sockaddr_in addr(uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
  }
  void accept_loop() {
    while (!stop_) {
      int c = ::accept(lfd_, nullptr, nullptr);
      if (c < 0) return;
      int s = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a = addr(target_);
      if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(c);
        ::close(s);
        continue;
      }
      fds_.push_back(c);
      fds_.push_back(s);
      pumps_.emplace_back([this, c, s] { pump(c, s, true); });
      pumps_.emplace_back([this, c, s] { pump(s, c, false); });
    }
  }
  void pump(int from, int to, bool from_backup) {
    char buf[16384];
    for (;;) {
      ssize_t n = ::read(from, buf, sizeof buf);
      if (n <= 0) break;
      if (from_backup && n > 8 && corrupt_.exchange(false)) {
        buf[n - 1] ^= 0x5a; // inside the record's encrypted body or tag
        done_ = true;
      }
      // MSG_NOSIGNAL: a side that closed must end the relay, not the test (SIGPIPE).
      if (::send(to, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) break;
    }
    ::shutdown(to, SHUT_RDWR);
    ::shutdown(from, SHUT_RDWR);
  }
  uint16_t target_;
  int lfd_ = -1;
  bool ok_ = false;
  std::atomic<bool> stop_{false}, corrupt_{false}, done_{false};
  std::thread acceptor_;
  std::vector<std::thread> pumps_; // only the acceptor thread adds, joined after it ends
  std::vector<int> fds_;
};

class trust_it : public ::testing::Test {
protected:
  uint16_t port_a = test::free_port(), port_b = test::free_port();

  std::string config(const std::string& name, const std::string& role, uint16_t listen,
                     uint16_t partner) {
    return "[node]\nname = \"" + name + "\"\ndata_dir = \"data-" + name +
           "\"\n[redundancy]\nrole = \"" + role +
           "\"\nlisten = \"127.0.0.1:" + std::to_string(listen) +
           "\"\npartner = \"127.0.0.1:" + std::to_string(partner) +
           "\"\nping_interval_ms = 100\nping_timeout_ms = 400\nmissed_pings = 3\n"
           "connection_wait_ms = 1000\n";
  }
  std::unique_ptr<test::node_process> start(const std::string& name, const std::string& role,
                                            uint16_t listen, uint16_t partner) {
    auto n = std::make_unique<test::node_process>(dir, name, config(name, role, listen, partner),
                                                  dir.path() + "/data-" + name + "/console.sock");
    std::string why;
    EXPECT_TRUE(n->wait_ready(why)) << why;
    return n;
  }
  std::string pre_trust() {
    return test::pre_trust(dir, "plant-a", dir.path() + "/data-plant-a", "plant-b",
                           dir.path() + "/data-plant-b");
  }
  /// The first event of this kind whose text contains `part` ("" when none).
  static std::string event_text(test::node_process& n, const std::string& kind,
                                const std::string& part = "") {
    json events = n.console("events 200");
    for (auto& e : events["events"])
      if (e.value("kind", "") == kind && e.value("text", "").find(part) != std::string::npos)
        return e.value("text", "");
    return "";
  }
  static json partner(test::node_process& n) { return n.console("node")["partner"]; }
  static std::string state(test::node_process& n) {
    auto j = n.console("node");
    return j.contains("self") ? j["self"].value("state", "") : "";
  }
  static bool linked(test::node_process& n) {
    auto p = partner(n);
    return p.is_object() && p.value("link", "") == "up";
  }
  /// The thumbprints of certs with this status.
  static std::vector<std::string> certs(test::node_process& n, const std::string& status) {
    std::vector<std::string> out;
    json j = n.console("certs");
    for (auto& c : j["certs"])
      if (c.value("status", "") == status) out.push_back(c.value("thumbprint", ""));
    return out;
  }
  bool paired(test::node_process& m, test::node_process& b, std::chrono::milliseconds within) {
    return test::wait_for(
        [&] {
          auto sm = state(m), sb = state(b);
          return linked(m) && linked(b) &&
                 ((sm == "Running" && sb == "Standby") || (sm == "Standby" && sb == "Running"));
        },
        within);
  }

  test::temp_dir dir;
};

TEST_F(trust_it, nodes_pair_only_after_both_operators_approve_and_revoke_drops_the_link) {
  auto m = start("plant-a", "master", port_a, port_b);
  auto b = start("plant-b", "backup", port_b, port_a);
  // Each refuses the other's certificate and keeps it in rejected/.
  ASSERT_TRUE(test::wait_for(
      [&] { return certs(*m, "rejected").size() == 1 && certs(*b, "rejected").size() == 1; }, 10s))
      << m->console("certs").dump() << b->console("certs").dump();
  std::string tp_b = certs(*m, "rejected")[0], tp_a = certs(*b, "rejected")[0];
  EXPECT_EQ(certs(*m, "own").at(0), tp_a);
  EXPECT_EQ(certs(*b, "own").at(0), tp_b);
  EXPECT_NE(event_text(*m, "certificate_untrusted", "certificate not trusted: thumbprint " + tp_b),
            "")
      << m->console("events 30").dump();
  auto p = partner(*b);
  EXPECT_EQ(p.value("state", ""), "Faulted") << p.dump();
  EXPECT_NE(p.value("reason", "").find("certificate not trusted"), std::string::npos) << p.dump();
  EXPECT_FALSE(linked(*m));

  // One side approving is not enough.
  auto r = m->console("approve " + tp_b);
  ASSERT_EQ(r.value("ok", false), true) << r.dump();
  std::this_thread::sleep_for(1500ms); // several dials: none may pair
  EXPECT_FALSE(linked(*m));
  EXPECT_FALSE(linked(*b));
  EXPECT_NE(event_text(*m, "certificate_approved", tp_b).find("uid "), std::string::npos);

  auto t0 = std::chrono::steady_clock::now();
  r = b->console("approve " + tp_a);
  ASSERT_EQ(r.value("ok", false), true) << r.dump();
  ASSERT_TRUE(paired(*m, *b, 10s)) << m->console("node").dump() << b->console("node").dump();
  std::cout << "[ figure ] paired "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - t0)
                   .count()
            << " ms after the second approve" << std::endl;
  EXPECT_EQ(certs(*b, "trusted"), std::vector<std::string>{tp_a});

  // Revoke on the backup: the link drops at once and stays down.
  t0 = std::chrono::steady_clock::now();
  r = b->console("revoke " + tp_a);
  ASSERT_EQ(r.value("ok", false), true) << r.dump();
  ASSERT_TRUE(test::wait_for([&] { return !linked(*b) && !linked(*m); }, 2s))
      << b->console("node").dump();
  std::cout << "[ figure ] link down "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - t0)
                   .count()
            << " ms after revoke" << std::endl;
  EXPECT_NE(event_text(*b, "certificate_revoked", tp_a), "");
  EXPECT_NE(event_text(*b, "console_command", "revoke " + tp_a), "");
  std::this_thread::sleep_for(1000ms);
  EXPECT_FALSE(linked(*b));
  EXPECT_EQ(certs(*b, "rejected"), std::vector<std::string>{tp_a});
  EXPECT_TRUE(m->proc().running());
  EXPECT_TRUE(b->proc().running());
}

TEST_F(trust_it, a_third_node_and_a_plain_tcp_client_are_refused_while_the_pair_carries_on) {
  ASSERT_EQ(pre_trust(), "");
  auto m = start("plant-a", "master", port_a, port_b);
  auto b = start("plant-b", "backup", port_b, port_a);
  ASSERT_TRUE(paired(*m, *b, 10s)) << m->console("node").dump() << b->console("node").dump();

  // A third node dials the master with its own certificate (and even the backup's name would not
  // help: the certificate decides).
  auto c = start("plant-c", "backup", test::free_port(), port_a);
  std::string tp_c = certs(*c, "own").at(0);
  ASSERT_TRUE(test::wait_for(
      [&] { return event_text(*m, "certificate_untrusted", "thumbprint " + tp_c) != ""; }, 10s))
      << m->console("events 30").dump();
  EXPECT_NE(event_text(*m, "certificate_untrusted", tp_c).find("CN=plant-c"), std::string::npos);
  c.reset();

  // A plain-text client speaking the partner protocol's bytes.
  {
    int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port_a);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    std::string plain = std::string("TDMP\x01\x10\x00\x00\x00", 9) + std::string(16, 'x');
    ASSERT_EQ(::write(s, plain.data(), plain.size()), static_cast<ssize_t>(plain.size()));
    char buf[256];
    (void)::read(s, buf, sizeof buf); // the node answers with a TLS alert or closes
    ::close(s);
  }
  ASSERT_TRUE(test::wait_for(
      [&] { return event_text(*m, "partner_refused", "not a TLS connection") != ""; }, 10s))
      << m->console("events 30").dump();
  EXPECT_TRUE(linked(*m));
  EXPECT_TRUE(linked(*b));
  EXPECT_EQ(partner(*m).value("name", ""), "plant-b");
}

TEST_F(trust_it, tampered_bytes_after_the_handshake_drop_the_link_without_crashing_either_node) {
  ASSERT_EQ(pre_trust(), "");
  uint16_t proxy_port = test::free_port();
  tamper_proxy proxy(proxy_port, port_a);
  ASSERT_TRUE(proxy.ok());
  auto m = start("plant-a", "master", port_a, port_b);
  auto b = start("plant-b", "backup", port_b, proxy_port); // the backup dials through the relay
  ASSERT_TRUE(paired(*m, *b, 10s)) << m->console("node").dump() << b->console("node").dump();
  auto before = m->console("node")["partner"];
  proxy.corrupt_next();
  ASSERT_TRUE(test::wait_for([&] { return proxy.corrupted(); }, 5s));
  ASSERT_TRUE(test::wait_for(
      [&] { return event_text(*m, "partner_disconnected", "connection error") != ""; }, 5s))
      << m->console("events 30").dump();
  std::cout << "[ figure ] " << event_text(*m, "partner_disconnected", "connection error")
            << std::endl;
  EXPECT_TRUE(m->proc().running());
  EXPECT_TRUE(b->proc().running());
  // The backup dials again (through the relay, now honest) and the pair is whole again.
  EXPECT_TRUE(paired(*m, *b, 10s)) << m->console("node").dump() << b->console("node").dump();
}

} // namespace
