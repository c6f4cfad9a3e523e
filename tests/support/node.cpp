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

std::string make_cert(const temp_dir& dir, const std::string& name, const std::string& data_dir,
                      std::string& cert_file, std::string& thumbprint) {
  auto cfg = dir.write("cert-" + name + ".toml",
                       "[node]\nname = \"" + name + "\"\ndata_dir = \"" + data_dir + "\"\n");
  auto r = run_tandem({"cert", "-c", cfg, "--json"});
  if (r.code != 0) return "tandem cert for " + name + " failed: " + r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded() || !j.contains("own")) return "tandem cert printed no JSON: " + r.out;
  cert_file = j["own"].value("file", "");
  thumbprint = j["own"].value("thumbprint", "");
  return "";
}

std::string pre_trust(const temp_dir& dir, const std::string& name_a, const std::string& data_a,
                      const std::string& name_b, const std::string& data_b) {
  std::string file_a, file_b, tp;
  if (auto e = make_cert(dir, name_a, data_a, file_a, tp); !e.empty()) return e;
  if (auto e = make_cert(dir, name_b, data_b, file_b, tp); !e.empty()) return e;
  auto trust = [&](const std::string& name, const std::string& file) -> std::string {
    auto r = run_tandem({"cert", "-c", dir.file("cert-" + name + ".toml"), "--trust", file});
    return r.code == 0 ? "" : "tandem cert --trust for " + name + " failed: " + r.err;
  };
  if (auto e = trust(name_a, file_b); !e.empty()) return e;
  return trust(name_b, file_a);
}

} // namespace tandem::test
