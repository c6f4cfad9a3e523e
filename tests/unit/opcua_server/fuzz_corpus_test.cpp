// Replays the server fuzz corpus (tests/fuzz/opcua_server/corpus: seeds plus minimised findings)
// through the fuzz entry point, so CI runs it as an ordinary test under its sanitizers. The
// entry function aborts on a finding (see tests/fuzz/opcua_server/fuzz_entry.hpp).

#include <gtest/gtest.h>

#include "tests/fuzz/opcua_server/fuzz_entry.hpp"
#include "tests/support/corpus.hpp"

namespace tandem::opcua {
namespace {

TEST(server_fuzz_corpus, every_file_replays_cleanly) {
  EXPECT_GE(tandem::test::replay_corpus(TANDEM_OPCUA_SERVER_CORPUS, fuzz_server::run_one), 30u);
  EXPECT_TRUE(fuzz_server::server_serves_a_session());
  EXPECT_TRUE(fuzz_server::connections_drain());
}

TEST(server_fuzz_corpus, empty_and_one_byte_inputs) {
  fuzz_server::run_one(nullptr, 0);
  for (int b = 0; b < 256; ++b) {
    const uint8_t one = static_cast<uint8_t>(b);
    fuzz_server::run_one(&one, 1);
  }
  EXPECT_TRUE(fuzz_server::server_serves_a_session());
  EXPECT_TRUE(fuzz_server::connections_drain());
}

} // namespace
} // namespace tandem::opcua
