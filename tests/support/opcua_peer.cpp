#include "tests/support/opcua_peer.hpp"

#include <chrono>
#include <filesystem>

namespace tandem::test {

std::string interop_dir() {
#ifdef TANDEM_SOURCE_DIR
  return std::string(TANDEM_SOURCE_DIR) + "/tests/interop";
#else
  return "tests/interop";
#endif
}

const char* to_string(peer_kind k) {
  return k == peer_kind::tandem_sim ? "tandem_sim" : "node_opcua";
}

node_opcua_server::node_opcua_server(const temp_dir& dir, uint16_t port,
                                     std::vector<std::string> extra_args, const std::string& name,
                                     peer_kind kind)
    : dir_(dir), name_(name), kind_(kind), port_(port == 0 ? free_port() : port),
      extra_(std::move(extra_args)) {
  start();
}

bool node_opcua_server::start() {
  ok_ = false;
  std::vector<std::string> argv;
  if (kind_ == peer_kind::tandem_sim) {
    argv = {tandem_binary(), "sim", "--port", std::to_string(port_), "--path", "/sim"};
  } else {
    if (!std::filesystem::exists(interop_dir() + "/node_modules/node-opcua")) {
      why_ = "node-opcua is not installed in " + interop_dir() + " (run tools/install-deps.sh)";
      return false;
    }
    argv = {"node", interop_dir() + "/server.js", "--port", std::to_string(port_), "--path",
            "/sim"};
  }
  argv.insert(argv.end(), extra_.begin(), extra_.end());
  proc_.reset();
  proc_ = std::make_unique<child_process>(
      argv, dir_.file(name_ + "." + std::to_string(generation_++)), "", "|");
  // node-opcua takes a few seconds to load on a busy machine.
  bool ready = wait_for(
      [&] { return !proc_->running() || proc_->out().find("ready ") != std::string::npos; },
      std::chrono::seconds(60));
  if (!ready || !proc_->running()) {
    why_ = std::string(to_string(kind_)) + " server did not start: " + proc_->err().substr(0, 2000);
    return false;
  }
  ok_ = true;
  return true;
}

bool node_opcua_server::restart() {
  return start();
}

std::string node_opcua_server::url() const {
  return "opc.tcp://127.0.0.1:" + std::to_string(port_) + "/sim";
}

bool node_opcua_server::command(const std::string& line) {
  return proc_->write_stdin(line + "\n");
}

} // namespace tandem::test
