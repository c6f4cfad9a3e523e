#include "tests/support/node.hpp"

#include <fstream>

#include "transports/console/client.hpp"

namespace tandem::test {

node_process::node_process(const temp_dir& dir, const std::string& name,
                           const std::string& config_text, const std::string& socket,
                           std::vector<std::string> wrapper)
    : config_path_(dir.write(name + ".toml", config_text)), socket_(socket),
      log_prefix_(dir.file(name)), wrapper_(std::move(wrapper)) {
  restart();
}

node_process::~node_process() = default;

void node_process::restart() {
  proc_.reset();
  std::vector<std::string> argv = wrapper_;
  for (const auto& a : {tandem_binary(), std::string("node"), std::string("-c"), config_path_})
    argv.push_back(a);
  proc_ = std::make_unique<child_process>(argv, log_prefix_ + "." + std::to_string(generation_++));
}

bool node_process::wait_ready(std::string& why, std::chrono::milliseconds timeout) {
  bool ok = wait_for(
      [&] {
        if (!proc_->running()) return true;
        auto j = console("status", 1000);
        return j.contains("node");
      },
      timeout);
  if (!proc_->running()) {
    why = "node exited early: " + proc_->err();
    return false;
  }
  if (!ok) why = "node did not answer on " + socket_ + " in time; stderr: " + proc_->err();
  return ok;
}

nlohmann::json node_process::console(const std::string& line, int timeout_ms) {
  transports::console_client c;
  std::string err;
  if (!c.connect(socket_, err)) return {{"error", err}};
  if (!c.send_line(line, err)) return {{"error", err}};
  auto reply = c.read_line(timeout_ms, err);
  if (!reply) return {{"error", err}};
  auto j = nlohmann::json::parse(*reply, nullptr, false);
  if (j.is_discarded()) return {{"error", "not JSON: " + *reply}};
  return j;
}

} // namespace tandem::test
