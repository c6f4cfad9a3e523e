#include "transports/opcua/client/channel.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

namespace tandem::opcua {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

result<endpoint_url> parse_endpoint_url(const std::string& url) {
  auto bad = [&](const std::string& why) {
    return error{status::BadTcpEndpointUrlInvalid, "'" + url + "' is not an opc.tcp URL: " + why};
  };
  const std::string scheme = "opc.tcp://";
  if (url.size() < scheme.size() ||
      !std::equal(scheme.begin(), scheme.end(), url.begin(),
                  [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; }))
    return bad("it must start with opc.tcp://");
  endpoint_url out;
  size_t pos = scheme.size();
  size_t host_end;
  if (pos < url.size() && url[pos] == '[') {
    host_end = url.find(']', pos);
    if (host_end == std::string::npos) return bad("unterminated [IPv6 address]");
    out.host = url.substr(pos + 1, host_end - pos - 1);
    ++host_end;
  } else {
    host_end = url.find_first_of(":/", pos);
    if (host_end == std::string::npos) host_end = url.size();
    out.host = url.substr(pos, host_end - pos);
  }
  if (out.host.empty()) return bad("no host");
  pos = host_end;
  if (pos < url.size() && url[pos] == ':') {
    size_t end = url.find('/', pos);
    if (end == std::string::npos) end = url.size();
    std::string port = url.substr(pos + 1, end - pos - 1);
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos)
      return bad("port '" + port + "' is not a number");
    unsigned long p = std::stoul(port);
    if (p == 0 || p > 65535) return bad("port " + port + " is out of range 1-65535");
    out.port = static_cast<uint16_t>(p);
    pos = end;
  }
  if (pos < url.size()) {
    if (url[pos] != '/') return bad("unexpected '" + url.substr(pos, 1) + "'");
    out.path = url.substr(pos);
  }
  return out;
}

std::shared_ptr<client_channel> client_channel::create(asio::io_context& io, channel_options opts) {
  return create(asio::make_strand(io), std::move(opts));
}

std::shared_ptr<client_channel> client_channel::create(strand_type strand, channel_options opts) {
  return std::shared_ptr<client_channel>(new client_channel(std::move(strand), std::move(opts)));
}

client_channel::client_channel(strand_type strand, channel_options opts)
    : strand_(std::move(strand)), opts_(std::move(opts)), resolver_(strand_), socket_(strand_),
      open_timer_(strand_), deadline_timer_(strand_), renew_timer_(strand_),
      splitter_(opts_.receive_buffer_size),
      assembler_(assembler_limits{opts_.max_message_size, opts_.max_chunk_count, 16}) {
  read_buf_.resize(opts_.receive_buffer_size);
}

client_channel::~client_channel() = default;

void client_channel::set_closed_handler(closed_handler h) {
  asio::post(strand_, [self = shared_from_this(), h = std::move(h)]() mutable {
    self->closed_handler_ = std::move(h);
  });
}

void client_channel::open(open_handler h) {
  asio::post(strand_, [self = shared_from_this(), h = std::move(h)]() mutable {
    self->do_open(std::move(h));
  });
}

void client_channel::send(Request req, std::chrono::milliseconds timeout, response_handler h) {
  asio::post(strand_, [self = shared_from_this(), req = std::move(req), timeout,
                       h = std::move(h)]() mutable {
    self->do_send(std::move(req), timeout, std::move(h));
  });
}

void client_channel::close() {
  asio::post(strand_, [self = shared_from_this()] {
    if (self->state_ == state::closed) return;
    if (self->state_ == state::open) {
      CloseSecureChannelRequest clo;
      clo.request_header.timestamp = DateTime::now();
      std::vector<uint8_t> body, out;
      if (encode_message(clo, body).ok()) {
        ChunkContext ctx{
            MessageType::Close, self->channel_id_, self->token_id_, {}, self->next_request_id_++};
        if (self->chunker_.encode(ctx, byte_span(body), out).ok()) {
          // Best effort, synchronously: the socket is closed right after.
          boost::system::error_code ignored;
          asio::write(self->socket_, asio::buffer(out), ignored);
        }
      }
    }
    self->closed_handler_ = nullptr; // a deliberate close is not reported as a loss
    self->fail(error{status::BadConnectionClosed, "the channel was closed"});
  });
}

void client_channel::do_open(open_handler h) {
  if (state_ != state::idle) {
    error e{status::BadInvalidState, "the channel was already opened once"};
    h(&e);
    return;
  }
  open_handler_ = std::move(h);
  auto url = parse_endpoint_url(opts_.url);
  if (!url) return finish_open(&url.error());
  state_ = state::connecting;
  open_timer_.expires_after(opts_.connect_timeout);
  open_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->state_ == state::open || self->state_ == state::closed) return;
    self->fail(error{status::BadTimeout, "no secure channel to " + self->opts_.url + " within " +
                                             std::to_string(self->opts_.connect_timeout.count()) +
                                             " ms"});
  });
  resolver_.async_resolve(
      url->host, std::to_string(url->port),
      [self = shared_from_this()](boost::system::error_code ec, tcp::resolver::results_type res) {
        if (self->state_ != state::connecting) return;
        if (ec)
          return self->fail(error{status::BadTcpEndpointUrlInvalid,
                                  "cannot resolve " + self->opts_.url + ": " + ec.message()});
        asio::async_connect(self->socket_, res,
                            [self](boost::system::error_code ec2, const tcp::endpoint&) {
                              if (self->state_ != state::connecting) return;
                              if (ec2)
                                return self->fail(error{status::BadNotConnected,
                                                        "cannot connect to " + self->opts_.url +
                                                            ": " + ec2.message()});
                              self->on_connected();
                            });
      });
}

void client_channel::on_connected() {
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  state_ = state::hello;
  HelloMessage hel;
  hel.protocol_version = 0;
  hel.receive_buffer_size = opts_.receive_buffer_size;
  hel.send_buffer_size = opts_.send_buffer_size;
  hel.max_message_size = opts_.max_message_size;
  hel.max_chunk_count = opts_.max_chunk_count;
  hel.endpoint_url = String(opts_.url);
  auto bytes = encode_hello(hel);
  if (!bytes) return fail(bytes.error());
  write(std::move(*bytes));
  read();
}

void client_channel::send_open(SecurityTokenRequestType type) {
  OpenSecureChannelRequest req;
  req.request_header.timestamp = DateTime::now();
  open_request_id_ = next_request_id_++;
  req.request_header.request_handle = open_request_id_;
  req.request_header.timeout_hint = static_cast<uint32_t>(opts_.connect_timeout.count());
  req.request_type = type;
  req.security_mode = MessageSecurityMode::None;
  req.requested_lifetime = opts_.requested_lifetime_ms;
  std::vector<uint8_t> body, out;
  auto enc = encode_message(req, body);
  if (!enc) return fail(enc.error());
  ChunkContext ctx;
  ctx.type = MessageType::Open;
  ctx.secure_channel_id = type == SecurityTokenRequestType::Issue ? 0 : channel_id_;
  ctx.request_id = open_request_id_;
  auto chunks = chunker_.encode(ctx, byte_span(body), out);
  if (!chunks) return fail(chunks.error());
  write(std::move(out));
}

void client_channel::do_send(Request req, std::chrono::milliseconds timeout, response_handler h) {
  if (state_ != state::open) {
    h(error{status::BadNotConnected, "the secure channel to " + opts_.url + " is not open"});
    return;
  }
  uint32_t id = next_request_id_++;
  if (next_request_id_ == 0) next_request_id_ = 1;
  auto& hdr = request_header(req);
  hdr.request_handle = id;
  hdr.timestamp = DateTime::now();
  hdr.timeout_hint = static_cast<uint32_t>(std::max<int64_t>(0, timeout.count()));
  std::vector<uint8_t> body, out;
  auto enc = encode_request(req, body);
  if (!enc) {
    h(enc.error());
    return;
  }
  ChunkContext ctx{MessageType::Message, channel_id_, token_id_, {}, id};
  auto chunks = chunker_.encode(ctx, byte_span(body), out, status::BadRequestTooLarge);
  if (!chunks) {
    h(chunks.error());
    return;
  }
  bool rearm =
      pending_.empty() || std::chrono::steady_clock::now() + timeout < deadline_timer_.expiry();
  pending_[id] = pending{std::move(h), std::chrono::steady_clock::now() + timeout};
  write(std::move(out));
  if (rearm) arm_deadline_timer();
}

void client_channel::write(std::vector<uint8_t> bytes) {
  write_queue_.push_back(std::move(bytes));
  if (write_queue_.size() == 1) write_next();
}

void client_channel::write_next() {
  asio::async_write(socket_, asio::buffer(write_queue_.front()),
                    [self = shared_from_this()](boost::system::error_code ec, size_t) {
                      if (self->state_ == state::closed) return;
                      if (ec)
                        return self->fail(
                            error{status::BadConnectionClosed,
                                  "cannot send to " + self->opts_.url + ": " + ec.message()});
                      self->write_queue_.pop_front();
                      if (!self->write_queue_.empty()) self->write_next();
                    });
}

void client_channel::read() {
  socket_.async_read_some(
      asio::buffer(read_buf_), [self = shared_from_this()](boost::system::error_code ec, size_t n) {
        if (self->state_ == state::closed) return;
        if (ec)
          return self->fail(error{status::BadConnectionClosed,
                                  "connection to " + self->opts_.url + " lost: " + ec.message()});
        self->on_bytes(n);
        if (self->state_ != state::closed) self->read();
      });
}

void client_channel::on_bytes(size_t n) {
  splitter_.feed(byte_span(read_buf_.data(), n));
  for (;;) {
    auto next = splitter_.next();
    if (!next) return fail(next.error());
    if (!next->has_value()) return;
    if (!on_chunk(**next)) return;
  }
}

bool client_channel::on_chunk(byte_span chunk) {
  auto hdr = decode_message_header(chunk);
  if (!hdr) {
    fail(hdr.error());
    return false;
  }
  switch (hdr->type) {
  case MessageType::Acknowledge: {
    if (state_ != state::hello) {
      fail(error{status::BadTcpMessageTypeInvalid, "unexpected ACK from " + opts_.url});
      return false;
    }
    auto ack = decode_acknowledge(chunk);
    if (!ack) {
      fail(ack.error());
      return false;
    }
    if (ack->receive_buffer_size < 8192 || ack->send_buffer_size < 8192) {
      fail(error{status::BadConnectionRejected,
                 "the server's ACK announces buffers below 8192 bytes"});
      return false;
    }
    ack_ = *ack;
    chunker_.set_limits(
        chunk_limits{ack_.receive_buffer_size, ack_.max_message_size, ack_.max_chunk_count});
    // The server's SendBufferSize bounds the chunks it sends us.
    splitter_.set_max_chunk_size(
        std::min(opts_.receive_buffer_size, std::max<uint32_t>(ack_.send_buffer_size, 8192)));
    state_ = state::opening;
    send_open(SecurityTokenRequestType::Issue);
    return true;
  }
  case MessageType::Error: {
    auto err = decode_error(chunk);
    if (!err) {
      fail(err.error());
      return false;
    }
    fail(error{err->error,
               "the server " + opts_.url + " closed the channel: " + to_string(err->error) +
                   (err->reason.empty() ? std::string() : " (" + err->reason.str() + ")")});
    return false;
  }
  case MessageType::Open:
  case MessageType::Message:
  case MessageType::Close: {
    if (state_ != state::opening && state_ != state::open) {
      fail(error{status::BadTcpMessageTypeInvalid, "secure message before the channel was open"});
      return false;
    }
    auto ev = assembler_.add(chunk, opts_.limits);
    if (!ev) {
      fail(ev.error());
      return false;
    }
    if (auto* m = std::get_if<AssembledMessage>(&*ev)) {
      on_message(std::move(*m));
    } else if (auto* a = std::get_if<AbortedMessage>(&*ev)) {
      auto it = pending_.find(a->request_id);
      if (it != pending_.end()) {
        auto h = std::move(it->second.handler);
        pending_.erase(it);
        h(error{a->error, "the server aborted the response: " + a->reason.str()});
      }
    }
    return state_ != state::closed;
  }
  default:
    fail(error{status::BadTcpMessageTypeInvalid, "unexpected message type from " + opts_.url});
    return false;
  }
}

void client_channel::on_message(AssembledMessage&& m) {
  if (m.type == MessageType::Open) return on_open_response(m);
  if (m.secure_channel_id != channel_id_) {
    return fail(error{status::BadSecureChannelIdInvalid,
                      "response for channel " + std::to_string(m.secure_channel_id) + ", ours is " +
                          std::to_string(channel_id_)});
  }
  auto it = pending_.find(m.request_id);
  if (it == pending_.end()) return; // timed out earlier: drop the late answer
  auto h = std::move(it->second.handler);
  pending_.erase(it);
  auto resp = decode_response(byte_span(m.body), opts_.limits, 24);
  h(std::move(resp));
}

void client_channel::on_open_response(const AssembledMessage& m) {
  if (m.request_id != open_request_id_) {
    return fail(error{status::BadTcpMessageTypeInvalid, "OPN response with an unknown RequestId"});
  }
  auto resp = decode_response(byte_span(m.body), opts_.limits, 79);
  if (!resp) return fail(resp.error());
  if (auto* fault = std::get_if<ServiceFault>(&*resp)) {
    return fail(error{fault->response_header.service_result,
                      "the server refused to open a secure channel: " +
                          to_string(fault->response_header.service_result)});
  }
  auto* osc = std::get_if<OpenSecureChannelResponse>(&*resp);
  if (!osc) return fail(error{status::BadUnknownResponse, "OPN answered with another message"});
  if (osc->response_header.service_result.is_bad())
    return fail(
        error{osc->response_header.service_result,
              "OpenSecureChannel failed: " + to_string(osc->response_header.service_result)});
  if (osc->security_token.channel_id == 0)
    return fail(error{status::BadSecureChannelIdInvalid, "the server assigned channel id 0"});
  bool renewal = state_ == state::open;
  channel_id_ = osc->security_token.channel_id;
  token_id_ = osc->security_token.token_id;
  revised_lifetime_ = osc->security_token.revised_lifetime;
  if (revised_lifetime_ == 0) revised_lifetime_ = opts_.requested_lifetime_ms;
  schedule_renewal();
  if (renewal) {
    ++renewals_;
    return;
  }
  state_ = state::open;
  open_timer_.cancel();
  finish_open(nullptr);
}

void client_channel::schedule_renewal() {
  // node-opcua renews at 75 % of the lifetime; so do we.
  renew_timer_.expires_after(std::chrono::milliseconds(revised_lifetime_ * 3 / 4));
  renew_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->state_ != state::open) return;
    self->send_open(SecurityTokenRequestType::Renew);
  });
}

void client_channel::arm_deadline_timer() {
  if (pending_.empty()) {
    deadline_timer_.cancel();
    return;
  }
  auto earliest = std::min_element(pending_.begin(), pending_.end(), [](auto& a, auto& b) {
                    return a.second.deadline < b.second.deadline;
                  })->second.deadline;
  deadline_timer_.expires_at(earliest);
  deadline_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec) return;
    self->on_deadline();
  });
}

void client_channel::on_deadline() {
  auto now = std::chrono::steady_clock::now();
  std::vector<response_handler> expired;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.deadline <= now) {
      expired.push_back(std::move(it->second.handler));
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& h : expired)
    h(error{status::BadTimeout, "no response from " + opts_.url + " in time"});
  if (state_ != state::closed) arm_deadline_timer();
}

void client_channel::finish_open(const error* e) {
  if (!open_handler_) return;
  auto h = std::move(open_handler_);
  open_handler_ = nullptr;
  h(e);
}

void client_channel::fail(const error& e) {
  if (state_ == state::closed) return;
  bool was_open = state_ == state::open;
  state_ = state::closed;
  boost::system::error_code ignored;
  resolver_.cancel();
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  open_timer_.cancel();
  deadline_timer_.cancel();
  renew_timer_.cancel();
  auto pending = std::move(pending_);
  pending_.clear();
  finish_open(&e);
  for (auto& [id, p] : pending)
    p.handler(e);
  // The handler is dropped in every case: it usually holds the channel's owner, and keeping it
  // would keep both alive forever after a failed open.
  auto h = std::move(closed_handler_);
  closed_handler_ = nullptr;
  if (was_open && h) h(e);
}

} // namespace tandem::opcua
