// Replays the fuzz corpus (tests/fuzz/opcua/corpus, seeds plus any crashers found) through the
// fuzz entry point, so CI checks it as an ordinary test under its sanitizers.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "tests/fuzz/opcua/fuzz_entry.hpp"

namespace tandem::opcua {
namespace {

TEST(OpcuaFuzzCorpus, EveryFileReplaysCleanly) {
  namespace fs = std::filesystem;
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(TANDEM_OPCUA_CORPUS)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
    SCOPED_TRACE(entry.path().filename().string());
    fuzz::run_one(data.data(), data.size());
    ++files;
  }
  EXPECT_GE(files, 50u);
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
