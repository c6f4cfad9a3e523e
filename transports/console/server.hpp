#pragma once
/// The console's Unix domain socket: accepts operator connections, reads one command per line and
/// writes the replies the CONSOLE actor sends back. Knows nothing of actors: it reports through
/// `console_handler`, which the node wires to the CONSOLE actor.

#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "messages/console.hpp"

namespace tandem::transports {

/// "uid 1000 (alice)" for a connected Unix socket's peer (SO_PEERCRED); "uid ?" when unknown.
std::string peer_user(int fd);

/// Receives what console connections say. Called on the transport's thread; must not block.
class console_handler {
public:
  virtual ~console_handler() = default;
  virtual void on_line(std::shared_ptr<console_peer> peer, std::string line) = 0;
  virtual void on_close(uint64_t peer_id) = 0;
};

/// Limits that keep a misbehaving client from hurting the node.
struct console_limits {
  size_t max_line = 4096;              ///< longer command lines are refused
  size_t max_queued_bytes = 16u << 20; ///< a client this far behind is disconnected
  size_t max_connections = 64;
};

class console_server {
public:
  console_server(boost::asio::io_context& io, std::string path, console_handler& handler,
                 console_limits limits = {});
  ~console_server();

  /// Creates the socket (mode 0600, or 0660 owned by `group` when one is set) and starts
  /// accepting. A stale socket file left by a dead node is replaced; a live one (another node
  /// answering) is an error, and so is a group that does not exist.
  bool start(std::string& error);

  /// The group (node.console_group) whose members may use the console too; call before start().
  void allow_group(std::string group) { group_ = std::move(group); }

  /// Stops accepting and removes the socket file; open connections are closed. Thread-safe.
  void stop();

  const std::string& path() const { return path_; }

private:
  struct impl;
  std::shared_ptr<impl> impl_;
  std::string path_;
  std::string group_;
};

} // namespace tandem::transports
