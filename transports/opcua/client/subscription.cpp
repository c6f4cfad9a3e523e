#include "transports/opcua/client/subscription.hpp"

#include <boost/asio/post.hpp>

namespace tandem::opcua {

std::shared_ptr<publisher> publisher::create(std::shared_ptr<ua_client> client, size_t outstanding,
                                             std::chrono::milliseconds timeout,
                                             message_handler on_msg, stopped_handler on_stop) {
  std::shared_ptr<publisher> p(new publisher());
  p->client_ = std::move(client);
  p->target_ = outstanding == 0 ? 1 : outstanding;
  p->timeout_ = timeout;
  p->on_msg_ = std::move(on_msg);
  p->on_stop_ = std::move(on_stop);
  return p;
}

void publisher::start() {
  boost::asio::post(client_->channel()->strand(), [self = shared_from_this()] {
    if (self->running_) return;
    self->running_ = true;
    while (self->in_flight_ < self->target_)
      self->send_one();
  });
}

void publisher::stop() {
  boost::asio::post(client_->channel()->strand(),
                    [self = shared_from_this()] { self->running_ = false; });
}

void publisher::send_one() {
  PublishRequest req;
  req.subscription_acknowledgements = std::move(acks_);
  acks_.clear();
  ++in_flight_;
  client_->call<PublishResponse>(
      std::move(req),
      [self = shared_from_this()](result<PublishResponse> r) { self->on_response(std::move(r)); },
      timeout_);
}

void publisher::on_response(result<PublishResponse> r) {
  --in_flight_;
  if (!r) {
    auto code = r.error().code.code();
    if (code == status::BadTimeout.code() && running_) {
      send_one(); // no notification within our deadline: ask again
      return;
    }
    if (code == status::BadTooManyPublishRequests.code()) {
      if (target_ > 1) --target_;
      return;
    }
    if (running_) {
      running_ = false;
      if (on_stop_) on_stop_(r.error());
    }
    return;
  }
  auto& resp = *r;
  // A keep-alive carries no data and its sequence number is not consumed: nothing to ack.
  if (!resp.notification_message.notification_data.empty()) {
    acks_.push_back(SubscriptionAcknowledgement{resp.subscription_id,
                                                resp.notification_message.sequence_number});
    if (on_msg_) on_msg_(resp.subscription_id, resp.notification_message);
  } else if (on_keep_alive_) {
    on_keep_alive_(resp.subscription_id);
  }
  if (running_)
    while (in_flight_ < target_)
      send_one();
}

} // namespace tandem::opcua
