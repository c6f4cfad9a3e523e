// Replays the partner fuzz corpus (tests/fuzz/partner/corpus: seeds plus findings) through the
// fuzz entry point, so CI runs it under its sanitizers. The entry aborts on a finding.

#include <gtest/gtest.h>

#include "tests/fuzz/partner/fuzz_entry.hpp"
#include "tests/support/corpus.hpp"

namespace {

TEST(partner_fuzz_corpus, every_file_replays_cleanly) {
  EXPECT_GE(tandem::test::replay_corpus(TANDEM_PARTNER_CORPUS, tandem::partner::fuzz::run_one),
            15u);
}

TEST(partner_fuzz_corpus, short_inputs) {
  tandem::partner::fuzz::run_one(nullptr, 0);
  for (int b = 0; b < 256; ++b) {
    const uint8_t two[2] = {static_cast<uint8_t>(b), static_cast<uint8_t>(255 - b)};
    tandem::partner::fuzz::run_one(two, 1);
    tandem::partner::fuzz::run_one(two, 2);
  }
}

} // namespace
