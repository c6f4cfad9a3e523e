#pragma once
/// The handle a console transport gives the CONSOLE actor for one connected operator.

#include <cstdint>
#include <memory>
#include <string>

namespace tandem {

/// One console connection. Thread-safe: the CONSOLE actor calls it from any scheduler thread.
class console_peer {
public:
  virtual ~console_peer() = default;
  /// Unique per process; also sent with `closed` when the connection ends.
  virtual uint64_t id() const = 0;
  /// Queues one reply line (a JSON document without the newline).
  virtual void send(std::string line) = 0;
  /// Who is connected, for the audit trail: "uid 1000 (alice)" from the socket's peer
  /// credentials; "" when unknown (tests).
  virtual std::string who() const { return {}; }
};

/// A command line received from a console connection.
struct console_request {
  std::shared_ptr<console_peer> peer;
  std::string line;
};

} // namespace tandem
