// Replays the partner fuzz corpus (tests/fuzz/partner/corpus: seeds plus findings) through the
// fuzz entry point, so CI runs it under its sanitizers. The entry aborts on a finding.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "tests/fuzz/partner/fuzz_entry.hpp"

namespace {

TEST(partner_fuzz_corpus, every_file_replays_cleanly) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(TANDEM_PARTNER_CORPUS))
    if (entry.is_regular_file()) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
    SCOPED_TRACE(path.filename().string());
    tandem::partner::fuzz::run_one(data.data(), data.size());
  }
  EXPECT_GE(files.size(), 15u);
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
