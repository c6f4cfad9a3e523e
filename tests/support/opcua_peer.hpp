#pragma once
/// An OPC UA test server as a child process on a loopback port: the node-opcua test server
/// (tests/interop/server.js, the independent peer) or `tandem sim` (the project's own). Both
/// take `--items N --rate-ms R`, serve the same built-in address space at /sim, print
/// `ready PORT` and obey the same stdin commands.

#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.hpp"

namespace tandem::test {

enum class peer_kind { node_opcua, tandem_sim };

const char* to_string(peer_kind k);

class node_opcua_server {
public:
  /// Starts the server on `port` (0 = a free one) with extra arguments; check ok() / why().
  node_opcua_server(const temp_dir& dir, uint16_t port, std::vector<std::string> extra_args = {},
                    const std::string& name = "opcua-server",
                    peer_kind kind = peer_kind::node_opcua);
  /// Starts it again on the same port (after a kill).
  bool restart();
  bool ok() const { return ok_; }
  const std::string& why() const { return why_; }
  uint16_t port() const { return port_; }
  /// opc.tcp://127.0.0.1:PORT/sim
  std::string url() const;
  child_process& proc() { return *proc_; }
  /// Sends a stdin command (service_level 50, bad Sim.Quality, state Suspended...).
  bool command(const std::string& line);

private:
  bool start();
  const temp_dir& dir_;
  std::string name_;
  peer_kind kind_;
  uint16_t port_;
  std::vector<std::string> extra_;
  int generation_ = 0;
  std::unique_ptr<child_process> proc_;
  bool ok_ = false;
  std::string why_;
};

/// Directory of tests/interop (the node-opcua scripts and their node_modules).
std::string interop_dir();

/// Either kind of test server.
using opcua_test_server = node_opcua_server;

} // namespace tandem::test
