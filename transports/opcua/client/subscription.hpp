#pragma once
/// Keeps a pipeline of Publish requests outstanding on a session and acknowledges what it
/// receives: the engine behind every subscription a ua_client owns.

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "transports/opcua/client/client.hpp"

namespace tandem::opcua {

class publisher : public std::enable_shared_from_this<publisher> {
public:
  /// A NotificationMessage with data (keep-alives go to the keep-alive handler, if any).
  using message_handler = std::function<void(uint32_t subscription_id, NotificationMessage& msg)>;
  /// A keep-alive: the server has nothing to report but still publishes.
  using keep_alive_handler = std::function<void(uint32_t subscription_id)>;
  /// Publishing stopped: the session or channel failed, or the server has no subscription.
  using stopped_handler = std::function<void(const error&)>;

  static std::shared_ptr<publisher> create(std::shared_ptr<ua_client> client, size_t outstanding,
                                           std::chrono::milliseconds timeout,
                                           message_handler on_msg, stopped_handler on_stop);
  /// Reports keep-alives too (set before start()).
  void on_keep_alive(keep_alive_handler h) { on_keep_alive_ = std::move(h); }
  /// Starts the pipeline (from any thread).
  void start();
  /// Stops sending new requests; answers to outstanding ones are still acknowledged.
  void stop();
  size_t outstanding() const { return in_flight_; }

private:
  publisher() = default;
  void send_one();
  void on_response(result<PublishResponse> r);

  std::shared_ptr<ua_client> client_;
  size_t target_ = 3;
  size_t in_flight_ = 0;
  std::chrono::milliseconds timeout_{30000};
  message_handler on_msg_;
  keep_alive_handler on_keep_alive_;
  stopped_handler on_stop_;
  std::vector<SubscriptionAcknowledgement> acks_;
  bool running_ = false;
};

} // namespace tandem::opcua
