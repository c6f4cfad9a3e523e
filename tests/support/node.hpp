#pragma once
/// A real `tandem node` process for integration tests, driven through its console socket.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/process.hpp"

namespace tandem::test {

class node_process {
public:
  /// Writes `config_text` to `<dir>/<name>.toml` and starts the node on it. `socket` is the
  /// console socket path the config names (used to talk to it).
  node_process(const temp_dir& dir, const std::string& name, const std::string& config_text,
               const std::string& socket, std::vector<std::string> wrapper = {});
  ~node_process();

  /// Waits until the console answers `status`; false (with the node's stderr in `why`) if the
  /// process exits or the deadline passes first.
  bool wait_ready(std::string& why, std::chrono::milliseconds timeout = std::chrono::seconds(20));

  /// Runs one console command; returns the reply document ({"error": …} on failures).
  nlohmann::json console(const std::string& line, int timeout_ms = 10000);

  /// Starts the node again on the same config (after it exited or was killed).
  void restart();

  child_process& proc() { return *proc_; }
  const std::string& config_path() const { return config_path_; }
  const std::string& socket() const { return socket_; }

private:
  std::string config_path_, socket_, log_prefix_;
  std::vector<std::string> wrapper_; ///< argv before `tandem node` (e.g. ip netns exec NS)
  int generation_ = 0;
  std::unique_ptr<child_process> proc_;
};

/// Pairs two nodes' partner-link certificates before their first start, as an integrator
/// pre-provisions them (docs/PKI.md): `tandem cert` makes each node's identity in its data_dir
/// (absolute path) and `tandem cert --trust` puts each one's certificate in the other's trusted/.
/// Partner links are always TLS; this is how tests (and plants) skip the console approval.
/// Returns "" or what went wrong.
std::string pre_trust(const temp_dir& dir, const std::string& name_a, const std::string& data_a,
                      const std::string& name_b, const std::string& data_b);

/// `tandem cert` for one node (made when missing); its certificate file in `cert_file` and its
/// thumbprint in `thumbprint`. Returns "" or what went wrong.
std::string make_cert(const temp_dir& dir, const std::string& name, const std::string& data_dir,
                      std::string& cert_file, std::string& thumbprint);

} // namespace tandem::test
