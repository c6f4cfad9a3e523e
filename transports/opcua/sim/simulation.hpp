#pragma once
/// The simulation server behind `tandem sim`: builds an in-memory address space from a
/// sim_config, serves it on the server face, and moves every generated variable at its rate.
///
/// Values are functions of wall-clock time (see config::sim_generator): at each multiple of a
/// variable's rate_ms since the Unix epoch it takes the value of that tick, with that instant as
/// its source timestamp. Two simulations with the same config, on machines with synchronised
/// clocks, publish identical (value, timestamp) streams: the failover benchmarks count lost
/// samples that way. A late timer skips to the current tick, like a device that samples.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "config/sim_config.hpp"
#include "transports/opcua/server/address_space.hpp"
#include "transports/opcua/server/server.hpp"

namespace tandem::opcua {

/// The value of a generated variable at tick `k` (exposed for tests): a scalar, or an array
/// whose element i is the generator's value at tick k + i.
Variant sim_value(const config::sim_variable& v, int64_t rate_ms, uint64_t node_hash, int64_t k);

class simulation {
public:
  simulation(boost::asio::io_context& io, config::sim_config cfg);
  ~simulation();
  simulation(const simulation&) = delete;
  simulation& operator=(const simulation&) = delete;

  /// Builds the address space, listens and starts the generators; the port (useful with 0).
  result<uint16_t> start();
  /// Stops the generators and the server.
  void stop();

  /// Test controls (the `tandem sim` stdin commands). `path` is the NodeId's string part
  /// ("Sim.Counter"); false when it names no variable.
  /// A forced status replaces Good on the variable's value now and at every later tick, until
  /// cleared with nullopt.
  bool force_status(const std::string& path, std::optional<StatusCode> sc);
  /// A frozen variable keeps its value (no more ticks) until thawed.
  bool freeze(const std::string& path, bool frozen);

  const std::shared_ptr<memory_address_space>& space() const { return space_; }
  const std::shared_ptr<server_endpoint>& server() const { return server_; }
  size_t variable_count() const;
  /// Value changes made by the generators since start.
  uint64_t updates() const;

private:
  struct state;
  std::shared_ptr<state> state_;
  std::shared_ptr<memory_address_space> space_;
  std::shared_ptr<server_endpoint> server_;
};

} // namespace tandem::opcua
