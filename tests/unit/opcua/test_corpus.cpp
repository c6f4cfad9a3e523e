// Replays the fuzz corpus (tests/fuzz/opcua/corpus, seeds plus any crashers found) through the
// fuzz entry point, so CI checks it as an ordinary test under its sanitizers.

#include <gtest/gtest.h>

#include "tests/fuzz/opcua/fuzz_entry.hpp"
#include "tests/support/corpus.hpp"

namespace tandem::opcua {
namespace {

TEST(OpcuaFuzzCorpus, EveryFileReplaysCleanly) {
  EXPECT_GE(tandem::test::replay_corpus(TANDEM_OPCUA_CORPUS, fuzz::run_one), 50u);
}

TEST(OpcuaFuzzCorpus, EmptyAndTinyInputs) {
  fuzz::run_one(nullptr, 0);
  for (int b = 0; b < 256; ++b) {
    uint8_t one = static_cast<uint8_t>(b);
    fuzz::run_one(&one, 1);
  }
}

} // namespace
} // namespace tandem::opcua
