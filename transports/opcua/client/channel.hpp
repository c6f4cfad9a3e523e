#pragma once
/// Client side of UA Secure Conversation (SecurityPolicy None) over TCP: HEL/ACK, OPN issue and
/// renewal before the token lifetime ends, chunked requests, responses matched by RequestId,
/// per-request deadlines, CLO. Knows nothing of sessions or actors.
///
/// Threading: a channel lives on one strand of an io_context. Its public functions may be called
/// from any thread (they post to the strand); every handler is called on the strand.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "transports/opcua/framing.hpp"
#include "transports/opcua/services.hpp"

namespace tandem::opcua {

/// The parts of an `opc.tcp://host:port/path` URL.
struct endpoint_url {
  std::string host;
  uint16_t port = 4840;
  std::string path; ///< with its leading '/', or empty
};
/// Parses an opc.tcp URL; BadTcpEndpointUrlInvalid with a reason when it is not one.
result<endpoint_url> parse_endpoint_url(const std::string& url);

struct channel_options {
  std::string url; ///< the endpoint URL sent in HEL (and used for resolving)
  uint32_t requested_lifetime_ms = 600000;
  uint32_t receive_buffer_size = 65536; ///< our largest chunk
  uint32_t send_buffer_size = 65536;
  uint32_t max_message_size = 16u << 20; ///< largest response we accept
  uint32_t max_chunk_count = 0;
  std::chrono::milliseconds connect_timeout{5000}; ///< TCP connect + HEL/ACK + OPN
  decode_limits limits;
};

class client_channel : public std::enable_shared_from_this<client_channel> {
public:
  /// nullptr on success, else why opening failed.
  using open_handler = std::function<void(const error*)>;
  using response_handler = std::function<void(result<Response>)>;
  /// Called once when an open channel ends for any reason but close().
  using closed_handler = std::function<void(const error&)>;

  using strand_type = boost::asio::strand<boost::asio::io_context::executor_type>;
  static std::shared_ptr<client_channel> create(boost::asio::io_context& io, channel_options opts);
  /// A channel on a strand its owner shares (so the owner's state and the channel's handlers
  /// never run at once).
  static std::shared_ptr<client_channel> create(strand_type strand, channel_options opts);
  ~client_channel();

  void set_closed_handler(closed_handler h);
  /// Connects, says hello and opens the secure channel.
  void open(open_handler h);
  /// Sends a request. Its RequestHeader's requestHandle (= RequestId), timestamp and timeoutHint
  /// are set here; the authentication token is the caller's. The handler gets the response (a
  /// ServiceFault too), or an error: BadTimeout after `timeout`, BadConnectionClosed,
  /// BadRequestTooLarge, the peer's ERR/abort status...
  void send(Request req, std::chrono::milliseconds timeout, response_handler h);
  /// Sends CLO and closes the socket; pending requests fail with BadConnectionClosed.
  void close();
  /// Closes the socket at once, as a network failure would: pending requests and the closed
  /// handler get `why`. Call on the strand.
  void abort(const error& why) { fail(why); }

  boost::asio::strand<boost::asio::io_context::executor_type>& strand() { return strand_; }

  // Observers, valid on the strand.
  bool is_open() const { return state_ == state::open; }
  uint32_t channel_id() const { return channel_id_; }
  uint32_t token_id() const { return token_id_; }
  uint32_t revised_lifetime_ms() const { return revised_lifetime_; }
  uint32_t renewals() const { return renewals_; }
  const AcknowledgeMessage& acknowledge() const { return ack_; }

private:
  enum class state { idle, connecting, hello, opening, open, closed };
  struct pending {
    response_handler handler;
    std::chrono::steady_clock::time_point deadline;
  };

  client_channel(strand_type strand, channel_options opts);
  void do_open(open_handler h);
  void on_connected();
  void send_open(SecurityTokenRequestType type);
  void do_send(Request req, std::chrono::milliseconds timeout, response_handler h);
  void write(std::vector<uint8_t> bytes);
  void write_next();
  void read();
  void on_bytes(size_t n);
  bool on_chunk(byte_span chunk);
  void on_message(AssembledMessage&& m);
  void on_open_response(const AssembledMessage& m);
  void arm_deadline_timer();
  void on_deadline();
  void schedule_renewal();
  void fail(const error& e);
  void finish_open(const error* e);

  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  channel_options opts_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer open_timer_;
  boost::asio::steady_timer deadline_timer_;
  boost::asio::steady_timer renew_timer_;
  state state_ = state::idle;
  open_handler open_handler_;
  closed_handler closed_handler_;
  frame_splitter splitter_;
  chunk_assembler assembler_;
  chunker chunker_;
  AcknowledgeMessage ack_;
  uint32_t channel_id_ = 0;
  uint32_t token_id_ = 0;
  uint32_t revised_lifetime_ = 0;
  uint32_t renewals_ = 0;
  uint32_t next_request_id_ = 1;
  uint32_t open_request_id_ = 0;
  std::map<uint32_t, pending> pending_;
  std::deque<std::vector<uint8_t>> write_queue_;
  std::vector<uint8_t> read_buf_;
};

} // namespace tandem::opcua
