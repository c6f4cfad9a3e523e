#pragma once
/// The OPC UA server face: a TCP acceptor speaking UA Secure Conversation (SecurityPolicy None)
/// and the session and attribute/view services of FACTS §4 over `address_space` providers.
///
///  * HEL/ACK with negotiated limits; the path of the HEL EndpointUrl (`opc.tcp://h:p/<alias>`)
///    selects a registered address space; an unknown path gets ERR BadTcpEndpointUrlInvalid.
///  * OPN Issue/Renew (old and new token accepted after a renewal), chunk reassembly, chunked
///    responses numbered by our own counter from 1, RequestId echoed, CLO closes.
///  * GetEndpoints/FindServers echo the dialled URL; CreateSession/ActivateSession (anonymous,
///    user name with a plain password checked by the provider)/CloseSession, session timeout.
///  * Read, Write, Browse, BrowseNext, TranslateBrowsePathsToNodeIds, RegisterNodes,
///    UnregisterNodes; subscriptions (Create/Modify/Delete, SetPublishingMode, monitored items
///    sampled from the address space once per publishing cycle, SetMonitoringMode, parked
///    Publishes answered in order, keep-alives, acknowledgements, Republish,
///    TransferSubscriptions). Any other service (Call, Cancel, ...) gets ServiceFault
///    BadServiceUnsupported.
/// Fatal protocol errors send ERR and close that connection only.
///
/// Threading: each connection runs on its own strand of the io_context; the session table is
/// shared under a mutex. start()/stop() may be called from any thread.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>

#include "transports/opcua/framing.hpp"
#include "transports/opcua/server/address_space.hpp"
#include "transports/opcua/services.hpp"

namespace tandem::opcua {

struct server_options {
  std::string host = "127.0.0.1"; ///< address to listen on
  uint16_t port = 0;              ///< 0 = any free port (see server_endpoint::port())
  std::string application_uri = "urn:tandem:server";
  std::string product_uri = "urn:tandem";
  std::string application_name = "Tandem";
  uint32_t receive_buffer_size = 65536; ///< our largest chunk (ACK.ReceiveBufferSize upper bound)
  uint32_t send_buffer_size = 65536;
  uint32_t max_message_size = 16u << 20; ///< largest request body we accept
  uint32_t max_chunk_count = 0;
  uint32_t hello_timeout_ms = 10000; ///< from accept to an open secure channel
  uint32_t min_token_lifetime_ms = 10000;
  uint32_t max_token_lifetime_ms = 3600000;
  double min_session_timeout_ms = 1000;
  double max_session_timeout_ms = 3600000;
  size_t max_sessions = 100;
  size_t max_continuation_points = 10; ///< per session (Browse)
  uint32_t max_nodes_per_call = 1000;  ///< Read/Write/Browse/Translate operations per request
  double min_publishing_interval_ms = 10;
  size_t max_subscriptions_per_session = 100;
  size_t max_publish_requests = 20; ///< parked per session; more: BadTooManyPublishRequests
  size_t max_monitored_items_per_subscription = 1000000; ///< more: BadTooManyMonitoredItems
  size_t max_connections = 1000; ///< more: ERR BadMaxConnectionsReached, then closed
  decode_limits limits;
};

class server_connection;
struct server_session;

/// An OPC UA server face listening on one host:port, serving several address spaces by path.
class server_endpoint : public std::enable_shared_from_this<server_endpoint> {
public:
  static std::shared_ptr<server_endpoint> create(boost::asio::io_context& io,
                                                 server_options opts = {});
  ~server_endpoint();

  /// Registers `space` for the URL path `path` ("/sim", or "" / "/" for the bare host:port).
  /// Call before start().
  void add_endpoint(const std::string& path, std::shared_ptr<address_space> space);
  /// Binds and listens; returns the port (useful with port 0).
  result<uint16_t> start();
  /// Stops accepting and closes every connection. Sessions are dropped.
  void stop();

  uint16_t port() const { return port_; }
  const server_options& options() const { return opts_; }
  /// Open TCP connections and live sessions (for tests and diagnostics).
  size_t connection_count() const;
  size_t session_count() const;

private:
  friend class server_connection;
  server_endpoint(boost::asio::io_context& io, server_options opts);
  void accept();
  std::shared_ptr<address_space> find_space(const std::string& path) const;
  uint32_t next_channel_id() { return next_channel_id_.fetch_add(1) + 1; }
  void forget(server_connection* c);
  /// Runs one publishing cycle of a subscription after `interval_ms`, then re-arms itself while
  /// the subscription's timer generation is still `generation`.
  void schedule_publish(std::weak_ptr<server_session> session, uint32_t subscription_id,
                        double interval_ms, uint64_t generation);

  boost::asio::io_context& io_;
  server_options opts_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::map<std::string, std::shared_ptr<address_space>> spaces_;
  std::atomic<uint32_t> next_channel_id_{0};
  std::atomic<bool> stopped_{false};

  mutable std::mutex mutex_; ///< guards connections_ and sessions_
  std::map<server_connection*, std::weak_ptr<server_connection>> connections_;
  std::map<std::vector<uint8_t>, std::shared_ptr<server_session>> sessions_; ///< by token bytes
  uint32_t next_session_number_ = 1000;
  uint32_t next_subscription_id_ = 1;
  uint32_t next_item_id_ = 1;
};

} // namespace tandem::opcua
