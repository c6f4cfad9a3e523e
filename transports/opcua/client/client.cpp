#include "transports/opcua/client/client.hpp"

#include "transports/opcua/client/identity.hpp"

#include <random>
#include <utility>

#include <boost/asio/post.hpp>

namespace tandem::opcua {

namespace asio = boost::asio;

std::shared_ptr<ua_client> ua_client::create(asio::io_context& io, client_options opts) {
  return create(asio::make_strand(io), std::move(opts));
}

std::shared_ptr<ua_client> ua_client::create(client_channel::strand_type strand,
                                             client_options opts) {
  return std::shared_ptr<ua_client>(new ua_client(std::move(strand), std::move(opts)));
}

ua_client::ua_client(client_channel::strand_type strand, client_options opts)
    : opts_(std::move(opts)) {
  opts_.channel.url = opts_.url;
  channel_ = client_channel::create(std::move(strand), opts_.channel);
}

error ua_client::unexpected_response(const Response& r, const char* expected) {
  if (auto* f = std::get_if<ServiceFault>(&r))
    return error{f->response_header.service_result,
                 std::string(expected) + ": the server answered " +
                     to_string(f->response_header.service_result)};
  return error{status::BadUnknownResponse, std::string("expected ") + expected + ", got " +
                                               (message_type_name(binary_encoding_id(r))
                                                    ? message_type_name(binary_encoding_id(r))
                                                    : "?")};
}

void ua_client::set_lost_handler(std::function<void(const error&)> h) {
  asio::post(channel_->strand(), [self = shared_from_this(), h = std::move(h)]() mutable {
    self->lost_handler_ = std::move(h);
  });
}

void ua_client::send_request(Request req, std::chrono::milliseconds timeout,
                             std::function<void(result<Response>)> h) {
  if (timeout.count() <= 0) timeout = opts_.request_timeout;
  // The token is read on the strand, where connect() writes it.
  asio::post(channel_->strand(), [self = shared_from_this(), req = std::move(req), timeout,
                                  h = std::move(h)]() mutable {
    request_header(req).authentication_token = self->auth_token_;
    self->send_on_strand(std::move(req), timeout, std::move(h));
  });
}

void ua_client::send_raw(Request req, std::function<void(result<Response>)> h,
                         std::chrono::milliseconds timeout) {
  if (timeout.count() <= 0) timeout = opts_.request_timeout;
  asio::post(channel_->strand(), [self = shared_from_this(), req = std::move(req), timeout,
                                  h = std::move(h)]() mutable {
    request_header(req).authentication_token = self->auth_token_;
    self->channel_->send(std::move(req), timeout, std::move(h));
  });
}

void ua_client::send_on_strand(Request req, std::chrono::milliseconds timeout,
                               std::function<void(result<Response>)> h) {
  channel_->send(std::move(req), timeout, [h = std::move(h)](result<Response> r) {
    if (r) {
      auto sr = response_header(*r).service_result;
      if (sr.is_bad() && !std::holds_alternative<ServiceFault>(*r))
        return h(error{sr, std::string(message_type_name(binary_encoding_id(*r))
                                           ? message_type_name(binary_encoding_id(*r))
                                           : "response") +
                               ": " + to_string(sr)});
    }
    h(std::move(r));
  });
}

void ua_client::connect(done_handler h) {
  auto self = shared_from_this();
  channel_->set_closed_handler([self](const error& e) {
    bool was = self->connected_;
    self->connected_ = false;
    if (was && self->lost_handler_) self->lost_handler_(e);
  });
  channel_->open([self, h = std::move(h)](const error* e) mutable {
    if (e) return h(e);
    self->get_endpoints(std::move(h));
  });
}

void ua_client::get_endpoints(done_handler h) {
  GetEndpointsRequest req;
  req.endpoint_url = String(opts_.url);
  auto self = shared_from_this();
  call<GetEndpointsResponse>(std::move(req),
                             [self, h = std::move(h)](result<GetEndpointsResponse> r) mutable {
                               if (!r) return h(&r.error());
                               self->endpoints_ = std::move(r->endpoints);
                               self->create_session(std::move(h));
                             });
}

void ua_client::create_session(done_handler h) {
  CreateSessionRequest req;
  req.client_description.application_uri = String(opts_.application_uri);
  req.client_description.product_uri = String("urn:tandem");
  req.client_description.application_name = LocalizedText("Tandem");
  req.client_description.application_type = ApplicationType::Client;
  req.endpoint_url = String(opts_.url);
  req.session_name = String(opts_.session_name);
  std::vector<uint8_t> nonce(32);
  std::random_device rd;
  for (auto& b : nonce)
    b = static_cast<uint8_t>(rd());
  req.client_nonce = ByteString(std::move(nonce));
  req.requested_session_timeout = opts_.session_timeout_ms;
  req.max_response_message_size = 0;
  auto self = shared_from_this();
  call<CreateSessionResponse>(std::move(req),
                              [self, h = std::move(h)](result<CreateSessionResponse> r) mutable {
                                if (!r) return h(&r.error());
                                self->session_id_ = r->session_id;
                                self->auth_token_ = r->authentication_token;
                                self->revised_session_timeout_ = r->revised_session_timeout;
                                self->server_nonce_ = r->server_nonce;
                                self->server_certificate_ = r->server_certificate;
                                self->activate_session(std::move(h));
                              });
}

void ua_client::activate_session(done_handler h) {
  // Pick the identity policy the server announced for our kind of login on a None endpoint.
  UserTokenType wanted = opts_.user.empty() ? UserTokenType::Anonymous : UserTokenType::UserName;
  const UserTokenPolicy* policy = nullptr;
  String endpoint_policy;
  ByteString endpoint_cert;
  for (auto& ep : endpoints_) {
    if (ep.security_mode != MessageSecurityMode::None) continue;
    for (auto& p : ep.user_identity_tokens)
      if (p.token_type == wanted && !policy) {
        policy = &p;
        endpoint_policy = ep.security_policy_uri;
        endpoint_cert = ep.server_certificate;
      }
  }
  if (!policy && !endpoints_.empty()) {
    error e{status::BadIdentityTokenInvalid, std::string("the server offers no ") +
                                                 (opts_.user.empty() ? "anonymous" : "user-name") +
                                                 " login on an unsecured endpoint"};
    return h(&e);
  }
  ActivateSessionRequest req;
  result<ExtensionObject> token = ExtensionObject{};
  if (opts_.user.empty()) {
    AnonymousIdentityToken t;
    if (policy) t.policy_id = policy->policy_id;
    token = make_extension_object(t);
  } else {
    UserTokenPolicy fallback;
    fallback.token_type = UserTokenType::UserName;
    const ByteString& cert = server_certificate_.empty() ? endpoint_cert : server_certificate_;
    auto t = make_user_token(policy ? *policy : fallback, endpoint_policy, opts_.user,
                             opts_.password, cert, server_nonce_);
    if (!t) return h(&t.error());
    token = make_extension_object(*t);
  }
  if (!token) return h(&token.error());
  req.user_identity_token = std::move(*token);
  auto self = shared_from_this();
  call<ActivateSessionResponse>(
      std::move(req), [self, h = std::move(h)](result<ActivateSessionResponse> r) mutable {
        if (!r) {
          error e = r.error();
          e.reason = (self->opts_.user.empty() ? std::string("anonymous login")
                                               : "login as '" + self->opts_.user + "'") +
                     " refused by the server: " + to_string(e.code);
          return h(&e);
        }
        self->connected_ = true;
        h(nullptr);
      });
}

void ua_client::disconnect(std::function<void()> h) {
  auto self = shared_from_this();
  asio::post(channel_->strand(), [self, h = std::move(h)]() mutable {
    if (!self->connected_) {
      self->channel_->close();
      if (h) h();
      return;
    }
    self->connected_ = false;
    CloseSessionRequest req;
    req.delete_subscriptions = true;
    self->call<CloseSessionResponse>(
        std::move(req),
        [self, h = std::move(h)](result<CloseSessionResponse>) mutable {
          self->channel_->close();
          if (h) h();
        },
        std::chrono::milliseconds(2000));
  });
}

} // namespace tandem::opcua
