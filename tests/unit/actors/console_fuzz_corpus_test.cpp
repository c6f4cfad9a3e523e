// Replays the console fuzz corpus (tests/fuzz/console/corpus: seeds plus findings) through the
// fuzz entry, so CI runs it under its sanitizers. The entry aborts on a finding: a line without a
// reply, a reply that is not one JSON object, or a crash.

#include <gtest/gtest.h>

#include "tests/fuzz/console/fuzz_entry.hpp"
#include "tests/support/corpus.hpp"

namespace {

TEST(console_fuzz_corpus, every_file_replays_cleanly) {
  EXPECT_GE(tandem::test::replay_corpus(TANDEM_CONSOLE_CORPUS, tandem::console_fuzz::run_one), 7u);
}

TEST(console_fuzz_corpus, empty_and_one_byte_inputs) {
  tandem::console_fuzz::run_one(nullptr, 0);
  for (int b = 0; b < 256; b += 17) {
    const uint8_t one = static_cast<uint8_t>(b);
    tandem::console_fuzz::run_one(&one, 1);
  }
}

} // namespace
