// The face's user-name logins: a node whose face refuses anonymous clients and accepts the
// [[face.user]] of its config (a salted hash, never the password). Tandem's own client and a
// stock node-opcua client: anonymous refused, the right password accepted, a wrong one refused.

#include <gtest/gtest.h>

#include "tests/support/node.hpp"
#include "tests/support/opcua_peer.hpp"
#include "tests/support/process.hpp"

using namespace tandem;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// PBKDF2-HMAC-SHA256 of "secret-one" (10,000 iterations), made outside Tandem.
const std::string op1_hash =
    "$pbkdf2-sha256$10000$G3bZjUxXGP4M6agC4bII1A==$PMTkQvdnmAubMYGgeljV38s8DfFKOxD04uBgCA8GYXU=";

TEST(face_login_it, anonymous_is_refused_and_only_the_configured_password_logs_in) {
  test::temp_dir dir;
  std::vector<std::unique_ptr<test::child_process>> sims;
  std::vector<uint16_t> ports;
  for (const char* name : {"sim-a", "sim-b"}) {
    ports.push_back(test::free_port());
    sims.push_back(std::make_unique<test::child_process>(
        std::vector<std::string>{test::tandem_binary(), "sim", "--port",
                                 std::to_string(ports.back())},
        dir.file(name)));
  }
  for (auto& s : sims)
    ASSERT_TRUE(test::wait_for([&] { return s->out().find("ready ") != std::string::npos; }, 15s));
  uint16_t face = test::free_port();
  std::string cfg = "[node]\nname = \"login-node\"\ndata_dir = \"data\"\n[face]\nlisten = "
                    "\"127.0.0.1:" +
                    std::to_string(face) +
                    "\"\nanonymous = false\n[[face.user]]\nname = \"op1\"\npassword_hash = \"" +
                    op1_hash + "\"\n[[pair]]\nalias = \"line1\"\nprimary = \"opc.tcp://127.0.0.1:" +
                    std::to_string(ports[0]) +
                    "/sim\"\nsecondary = \"opc.tcp://127.0.0.1:" + std::to_string(ports[1]) +
                    "/sim\"\n";
  test::node_process n(dir, "node", cfg, dir.path() + "/data/console.sock");
  std::string why;
  ASSERT_TRUE(n.wait_ready(why)) << why;
  std::string url = "opc.tcp://127.0.0.1:" + std::to_string(face) + "/line1";

  // Tandem's own client.
  auto read = [&](std::vector<std::string> login) {
    std::vector<std::string> args{"ua", "read", url, "i=2267", "--json"};
    args.insert(args.end(), login.begin(), login.end());
    return test::run_tandem(args);
  };
  auto anonymous = read({});
  EXPECT_NE(anonymous.code, 0) << anonymous.out;
  // The face does not even offer an anonymous token on its endpoints.
  EXPECT_NE((anonymous.err + anonymous.out).find("no anonymous login"), std::string::npos)
      << anonymous.err << anonymous.out;
  auto wrong = read({"--user", "op1", "--password", "secret-two"});
  EXPECT_NE(wrong.code, 0) << wrong.out;
  auto stranger = read({"--user", "mallory", "--password", "secret-one"});
  EXPECT_NE(stranger.code, 0) << stranger.out;
  auto right = read({"--user", "op1", "--password", "secret-one"});
  EXPECT_EQ(right.code, 0) << right.err;
  EXPECT_NE(right.out.find("\"values\""), std::string::npos) << right.out;
  auto again = read({"--user", "op1", "--password", "secret-one"}); // remembered: still fine
  EXPECT_EQ(again.code, 0) << again.err;

  // A stock node-opcua client.
  auto node_client = [&](std::vector<std::string> login) {
    std::vector<std::string> argv{"node",   test::interop_dir() + "/client.js",
                                  "read",   url,
                                  "i=2267", "--timeout-ms",
                                  "8000",   "--in-memory-pki"};
    argv.insert(argv.end(), login.begin(), login.end());
    return test::run_process(argv, 30s);
  };
  auto js_anonymous = node_client({});
  EXPECT_NE(js_anonymous.code, 0) << js_anonymous.out;
  auto js_right = node_client({"--user", "op1", "--password", "secret-one"});
  EXPECT_EQ(js_right.code, 0) << js_right.out << js_right.err;
  EXPECT_NE(js_right.out.find("\"values\""), std::string::npos) << js_right.out;
}

} // namespace
