// Items no client watches any more: a node-opcua client subscribes through the face and goes
// away (its session closed); after unused_item_linger_ms the pair's item is gone from the face
// (and deleted on both servers: opc_server_it checks that against a node-opcua server), while a
// client that stays keeps its item; a client that comes back later gets values again.

#include <gtest/gtest.h>

#include "face_harness.hpp"

using namespace tandem;
using namespace tandem::test::face;
using namespace std::chrono_literals;

namespace {

TEST(face_items, an_item_no_client_watches_is_removed_after_the_linger) {
  test::temp_dir dir;
  sim_pair s(dir);
  ASSERT_TRUE(s.ok()) << s.why();
  auto p = s.options("warm");
  p.extra = "unused_item_linger_ms = 500\n";
  face_node n(dir, {p});
  std::string why;
  ASSERT_TRUE(n.wait_ready(why)) << why;
  ASSERT_TRUE(n.wait_started("line1")) << n.pair("line1").dump();
  auto items = [&] { return n.pair("line1").value("items", -1); };

  auto stays = subscribe(dir, n.url("line1"), "ns=1;s=Sim.Counter", "stays", 50, 60);
  // A client that subscribes for 4 s, then closes its session.
  auto goes = subscribe(dir, n.url("line1"), "ns=1;s=Sim.Ramp", "goes", 50, 4);
  ASSERT_TRUE(test::wait_for([&] { return items() == 2 && values_of(*goes).size() >= 5; }, 30s))
      << n.pair("line1").dump() << goes->err();
  // Watched: kept past the linger.
  EXPECT_TRUE(holds_for([&] { return items() == 2; }, 1000ms)) << n.pair("line1").dump();
  ASSERT_TRUE(goes->wait(20s).has_value()) << "the client did not end";
  ASSERT_TRUE(test::wait_for([&] { return items() == 1; }, 30s)) << n.pair("line1").dump();
  size_t before = values_of(*stays).size();
  EXPECT_TRUE(test::wait_for([&] { return values_of(*stays).size() >= before + 5; }, 10s))
      << "the item a client still watches stopped";
  auto again = subscribe(dir, n.url("line1"), "ns=1;s=Sim.Ramp", "again", 50, 60);
  EXPECT_TRUE(test::wait_for([&] { return values_of(*again).size() >= 5; }, 30s)) << again->err();
  EXPECT_EQ(items(), 2);
}

} // namespace
