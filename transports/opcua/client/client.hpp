#pragma once
/// An OPC UA client session over a client_channel: GetEndpoints, CreateSession, ActivateSession
/// (anonymous or user name), typed service calls with per-request timeouts, CloseSession.
/// Every failure is an `error` whose StatusCode the caller can act on. Same threading as the
/// channel: public functions may be called from any thread; handlers run on the strand.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "transports/opcua/client/channel.hpp"

namespace tandem::opcua {

struct client_options {
  std::string url;
  std::string user;     ///< empty: anonymous
  std::string password; ///< for `user`
  std::string session_name = "tandem";
  std::string application_uri = "urn:tandem:client";
  double session_timeout_ms = 60000;
  std::chrono::milliseconds request_timeout{5000};
  channel_options channel; ///< its url is taken from `url`
};

class ua_client : public std::enable_shared_from_this<ua_client> {
public:
  using done_handler = std::function<void(const error*)>; ///< nullptr: success

  static std::shared_ptr<ua_client> create(boost::asio::io_context& io, client_options opts);
  /// A client whose channel runs on `strand` (shared with its owner).
  static std::shared_ptr<ua_client> create(client_channel::strand_type strand, client_options opts);

  /// Opens the channel and an activated session.
  void connect(done_handler h);
  /// Called once when the connection is lost after connect() succeeded (not after disconnect()).
  void set_lost_handler(std::function<void(const error&)> h);
  /// Closes the session (deleting its subscriptions) and the channel; `h` may be empty.
  void disconnect(std::function<void()> h);

  /// Sends any request with the session's authentication token. A ServiceFault, or a response
  /// whose serviceResult is Bad, becomes an error naming the service and the code.
  template <class Resp, class Req>
  void call(Req req, std::function<void(result<Resp>)> h,
            std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) {
    send_request(Request(std::move(req)), timeout, [h = std::move(h)](result<Response> r) {
      if (!r) return h(r.error());
      if (auto* resp = std::get_if<Resp>(&*r)) return h(std::move(*resp));
      h(unexpected_response(*r, Resp::type_name));
    });
  }

  /// Sends any request with the session's authentication token and hands back the response as
  /// it came (a ServiceFault or a Bad serviceResult included): what a proxy forwards.
  void send_raw(Request req, std::function<void(result<Response>)> h,
                std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

  /// The endpoints the server announced in GetEndpoints (valid after connect()).
  const Array<EndpointDescription>& endpoints() const { return endpoints_; }
  const NodeId& session_id() const { return session_id_; }
  double revised_session_timeout() const { return revised_session_timeout_; }
  const std::shared_ptr<client_channel>& channel() const { return channel_; }
  const client_options& options() const { return opts_; }

private:
  ua_client(client_channel::strand_type strand, client_options opts);
  void send_request(Request req, std::chrono::milliseconds timeout,
                    std::function<void(result<Response>)> h);
  void send_on_strand(Request req, std::chrono::milliseconds timeout,
                      std::function<void(result<Response>)> h);
  static error unexpected_response(const Response& r, const char* expected);
  void get_endpoints(done_handler h);
  void create_session(done_handler h);
  void activate_session(done_handler h);

  client_options opts_;
  std::shared_ptr<client_channel> channel_;
  std::function<void(const error&)> lost_handler_;
  Array<EndpointDescription> endpoints_;
  NodeId session_id_;
  NodeId auth_token_;
  double revised_session_timeout_ = 0;
  ByteString server_nonce_;
  ByteString server_certificate_;
  bool connected_ = false;
};

} // namespace tandem::opcua
