// Replays the server fuzz corpus (tests/fuzz/opcua_server/corpus: seeds plus minimised findings)
// through the fuzz entry point, so CI runs it as an ordinary test under its sanitizers. The
// entry function aborts on a finding (see tests/fuzz/opcua_server/fuzz_entry.hpp).

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "tests/fuzz/opcua_server/fuzz_entry.hpp"

namespace tandem::opcua {
namespace {

TEST(server_fuzz_corpus, every_file_replays_cleanly) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(TANDEM_OPCUA_SERVER_CORPUS))
    if (entry.is_regular_file()) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
    SCOPED_TRACE(path.filename().string());
    fuzz_server::run_one(data.data(), data.size());
  }
  EXPECT_GE(files.size(), 30u);
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
