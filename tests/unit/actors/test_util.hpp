#pragma once
// Shared bits of the actor tests: a store in a temp dir and a recording console peer.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "messages/console.hpp"
#include "storage/event_store.hpp"
#include "tests/support/process.hpp"

namespace tandem::test {

inline std::shared_ptr<storage::event_store> open_store(const temp_dir& dir,
                                                        const std::string& name = "events.db") {
  std::string err, notice;
  std::shared_ptr<storage::event_store> s = storage::event_store::open(dir.file(name), err, notice);
  EXPECT_TRUE(s) << err;
  return s;
}

/// A console connection that records what the console sends it.
class recording_peer : public console_peer {
public:
  explicit recording_peer(uint64_t id) : id_(id) {}
  uint64_t id() const override { return id_; }
  void send(std::string line) override {
    std::lock_guard<std::mutex> g(m_);
    lines_.push_back(std::move(line));
  }
  std::vector<nlohmann::json> take() {
    std::lock_guard<std::mutex> g(m_);
    std::vector<nlohmann::json> out;
    for (auto& l : lines_)
      out.push_back(nlohmann::json::parse(l));
    lines_.clear();
    return out;
  }

private:
  uint64_t id_;
  std::mutex m_;
  std::vector<std::string> lines_;
};

} // namespace tandem::test
