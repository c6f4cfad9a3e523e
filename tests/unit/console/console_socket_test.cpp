// The console socket on its own (no actors): permissions, lines, limits, stale sockets.

#include <condition_variable>
#include <mutex>
#include <thread>

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <gtest/gtest.h>

#include "tests/support/process.hpp"
#include "transports/console/client.hpp"
#include "transports/console/server.hpp"

using namespace tandem;
using namespace std::chrono_literals;

namespace {

/// Echoes every line back as {"echo": line} and records closes.
class echo_handler : public transports::console_handler {
public:
  void on_line(std::shared_ptr<console_peer> peer, std::string line) override {
    if (line == "who") return peer->send("{\"who\": \"" + peer->who() + "\"}");
    peer->send("{\"echo\": \"" + line + "\"}");
  }
  void on_close(uint64_t id) override {
    std::lock_guard<std::mutex> g(m);
    closed.push_back(id);
  }
  std::mutex m;
  std::vector<uint64_t> closed;
};

class console_socket : public ::testing::Test {
protected:
  void SetUp() override {
    server = std::make_unique<transports::console_server>(io, path, handler, limits);
    std::string err;
    ASSERT_TRUE(server->start(err)) << err;
    thread = std::thread([this] { io.run(); });
  }
  void TearDown() override {
    server->stop();
    work.reset();
    thread.join();
    server.reset();
  }
  test::temp_dir dir;
  std::string path = dir.file("c.sock");
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work =
      boost::asio::make_work_guard(io);
  echo_handler handler;
  transports::console_limits limits{64, 1 << 20, 4};
  std::unique_ptr<transports::console_server> server;
  std::thread thread;
};

TEST_F(console_socket, is_created_with_mode_0600) {
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600);
}

TEST_F(console_socket, knows_the_user_id_of_whoever_is_connected) {
  transports::console_client c;
  std::string err;
  ASSERT_TRUE(c.connect(path, err)) << err;
  ASSERT_TRUE(c.send_line("who", err));
  auto r = c.read_line(5000, err);
  ASSERT_TRUE(r) << err;
  // SO_PEERCRED: this test process's own uid, with its user name when it has one.
  EXPECT_NE(r->find("\"uid " + std::to_string(::getuid())), std::string::npos) << *r;
}

TEST(console_socket_group, a_configured_group_may_use_the_socket_and_a_missing_one_is_an_error) {
  test::temp_dir dir;
  boost::asio::io_context io;
  echo_handler handler;
  struct group* g = ::getgrgid(::getgid());
  ASSERT_NE(g, nullptr);
  std::string group_name = g->gr_name;
  {
    transports::console_server srv(io, dir.file("g.sock"), handler);
    srv.allow_group(group_name);
    std::string err;
    ASSERT_TRUE(srv.start(err)) << err;
    struct stat st {};
    ASSERT_EQ(::stat(dir.file("g.sock").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0660);
    EXPECT_EQ(st.st_gid, ::getgid());
    srv.stop();
    io.run();
  }
  io.restart();
  transports::console_server bad(io, dir.file("h.sock"), handler);
  bad.allow_group("no-such-group-tandem");
  std::string err;
  EXPECT_FALSE(bad.start(err));
  EXPECT_NE(err.find("node.console_group: no group 'no-such-group-tandem'"), std::string::npos)
      << err;
  struct stat st {};
  EXPECT_NE(::stat(dir.file("h.sock").c_str(), &st), 0) << "no socket left behind";
}

TEST_F(console_socket, answers_each_line_in_order) {
  transports::console_client c;
  std::string err;
  ASSERT_TRUE(c.connect(path, err)) << err;
  ASSERT_TRUE(c.send_line("one\r", err));
  ASSERT_TRUE(c.send_line("two", err));
  EXPECT_EQ(c.read_line(5000, err).value_or(err), R"({"echo": "one"})");
  EXPECT_EQ(c.read_line(5000, err).value_or(err), R"({"echo": "two"})");
}

TEST_F(console_socket, refuses_an_overlong_line_and_stays_usable) {
  transports::console_client c;
  std::string err;
  ASSERT_TRUE(c.connect(path, err));
  ASSERT_TRUE(c.send_line(std::string(200, 'x'), err));
  auto r = c.read_line(5000, err);
  ASSERT_TRUE(r) << err;
  EXPECT_NE(r->find("longer than 64 bytes"), std::string::npos) << *r;
  ASSERT_TRUE(c.send_line("after", err));
  EXPECT_EQ(c.read_line(5000, err).value_or(err), R"({"echo": "after"})");
}

TEST_F(console_socket, reports_a_client_that_disconnects) {
  {
    transports::console_client c;
    std::string err;
    ASSERT_TRUE(c.connect(path, err));
    ASSERT_TRUE(c.send_line("x", err));
    ASSERT_TRUE(c.read_line(5000, err));
  }
  EXPECT_TRUE(test::wait_for(
      [&] {
        std::lock_guard<std::mutex> g(handler.m);
        return handler.closed.size() == 1;
      },
      5s));
}

TEST_F(console_socket, limits_the_number_of_connections) {
  std::vector<std::unique_ptr<transports::console_client>> cs;
  std::string err;
  for (int i = 0; i < 4; ++i) {
    cs.push_back(std::make_unique<transports::console_client>());
    ASSERT_TRUE(cs.back()->connect(path, err));
    ASSERT_TRUE(cs.back()->send_line("hi", err));
    ASSERT_TRUE(cs.back()->read_line(5000, err)) << err; // accepted and served
  }
  transports::console_client extra;
  ASSERT_TRUE(extra.connect(path, err));
  auto r = extra.read_line(5000, err);
  ASSERT_TRUE(r) << err;
  EXPECT_NE(r->find("too many console connections"), std::string::npos);
}

TEST_F(console_socket, a_second_server_on_a_live_socket_is_refused) {
  echo_handler h2;
  boost::asio::io_context io2;
  transports::console_server second(io2, path, h2);
  std::string err;
  EXPECT_FALSE(second.start(err));
  EXPECT_NE(err.find("already serving"), std::string::npos) << err;
}

TEST(console_socket_paths, a_stale_socket_file_is_replaced_and_a_long_path_refused) {
  test::temp_dir dir;
  std::string path = dir.file("stale.sock");
  echo_handler h;
  {
    boost::asio::io_context io;
    transports::console_server s(io, path, h);
    std::string err;
    ASSERT_TRUE(s.start(err)) << err;
    // Simulate a killed node: the file stays, nobody listens.
  }
  struct stat st {};
  // The server above was destroyed without running io; its file is still there.
  boost::asio::io_context io;
  transports::console_server s(io, path, h);
  std::string err;
  EXPECT_TRUE(s.start(err)) << err;
  transports::console_server longp(io, std::string(120, 'a'), h);
  EXPECT_FALSE(longp.start(err));
  EXPECT_NE(err.find("at most 107"), std::string::npos) << err;
  (void)st;
}

TEST(console_socket_paths, a_client_names_the_missing_socket) {
  transports::console_client c;
  std::string err;
  EXPECT_FALSE(c.connect("/tmp/definitely-not-a-tandem.sock", err));
  EXPECT_NE(err.find("/tmp/definitely-not-a-tandem.sock"), std::string::npos);
  EXPECT_NE(err.find("is the node running?"), std::string::npos);
}

} // namespace
