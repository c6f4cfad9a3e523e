#pragma once
/// Replay of a fuzz corpus as an ordinary test: every regular file of a folder, in name order, fed
/// to the fuzz target's entry function (which aborts on a finding), so CI runs the corpora under
/// its sanitizers. Header-only: the codec test executables do not link the test support library.

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <vector>

#include <gtest/gtest.h>

namespace tandem::test {

/// Runs `entry` on every file of `folder`; returns how many there were.
inline size_t replay_corpus(const std::filesystem::path& folder,
                            const std::function<void(const uint8_t*, size_t)>& entry) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(folder))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
    SCOPED_TRACE(path.filename().string());
    entry(data.data(), data.size());
  }
  return files.size();
}

} // namespace tandem::test
