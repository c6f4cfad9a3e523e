#pragma once
/// The OPC-SERVER actor's view of one upstream server: commands it gives (`server_link`) and
/// reports it receives (`link_events`). The real link runs a ua_client on Asio; tests give the
/// actor a fake link and send it the reports themselves.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "messages/server.hpp"
#include "transports/opcua/client/client.hpp"

namespace tandem::opcua {

/// Where a link's reports go. Called on the link's strand; must not block.
class link_events {
public:
  virtual ~link_events() = default;
  virtual void up(link_up msg) = 0;
  virtual void down(link_down msg) = 0;
  virtual void status(status_reply msg) = 0;
  virtual void items(items_created msg) = 0;
  /// Data changes; an empty batch is a keep-alive (the subscription still publishes).
  virtual void data(data_batch msg) = 0;
};

/// Forwards a client's request to one upstream server's current session (the face of a pair).
/// `done` is called exactly once, from the link's strand: the upstream response as it came, or
/// a ServiceFault (BadNoCommunication when the server is not connected, the transport's code
/// when the request failed on the way).
class request_forwarder {
public:
  virtual ~request_forwarder() = default;
  virtual void forward(Request req, std::function<void(Response)> done) = 0;
  /// The NamespaceArray of the server the session of the moment is on (read when it connected);
  /// null when not connected or not known.
  virtual std::shared_ptr<const std::vector<std::string>> namespaces() const { return nullptr; }
};

/// The keep-alive count the link asks for: a server with nothing to report still answers a
/// Publish after this many publishing intervals, so its silence means something (OPC-SERVER's
/// silence rule).
inline constexpr uint32_t keep_alive_count = 3;

/// Commands to one upstream server. Every call returns at once; results come as reports, each
/// carrying the `generation` of the connection it belongs to.
class server_link {
public:
  virtual ~server_link() = default;
  /// Connects (a new connection, numbered `generation`): reports up or down.
  virtual void connect(uint64_t generation) = 0;
  /// Closes the session and connection politely; no report follows.
  virtual void disconnect() = 0;
  /// Closes the connection abruptly, as a network failure would: reports down.
  virtual void drop() = 0;
  /// Reads ServerStatus.State and ServiceLevel: reports status.
  virtual void poll_status(uint64_t generation, uint64_t poll) = 0;
  /// Creates monitored items (and the subscription, the first time): reports items, then data.
  virtual void monitor(uint64_t generation, std::vector<item_spec> items, double publishing_ms) = 0;
  /// Changes the monitoring mode of items already created.
  virtual void set_mode(uint64_t generation, std::vector<uint32_t> handles,
                        monitoring_mode mode) = 0;
  /// Deletes monitored items (also ones still being created: deleted once they exist).
  virtual void unmonitor(uint64_t generation, std::vector<uint32_t> handles) = 0;
  /// Forwards requests to whatever session the link has at the time (null: cannot forward).
  virtual std::shared_ptr<request_forwarder> forwarder() { return nullptr; }
};

struct ua_link_options {
  std::string url;
  std::string user;
  std::string password;
  std::string session_name = "tandem";
  std::chrono::milliseconds request_timeout{5000};
  std::chrono::milliseconds connect_timeout{5000};
  size_t publish_pipeline = 3;
  uint32_t max_items_per_call = 1000;
};

/// The real link: a ua_client on `io`.
std::unique_ptr<server_link> make_ua_link(boost::asio::io_context& io, ua_link_options opts,
                                          std::shared_ptr<link_events> events);

} // namespace tandem::opcua
