#include "transports/opcua/server/server.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <deque>
#include <random>
#include <utility>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

namespace tandem::opcua {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

namespace {

std::vector<uint8_t> random_bytes(size_t n) {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  std::vector<uint8_t> out(n);
  for (auto& b : out)
    b = static_cast<uint8_t>(gen());
  return out;
}

/// The path of an opc.tcp URL ("" for none); trailing '/' removed so "/sim/" = "/sim" and
/// "/" = "".
std::string url_path(const std::string& url) {
  const std::string scheme = "opc.tcp://";
  size_t pos = 0;
  if (url.size() >= scheme.size() &&
      std::equal(scheme.begin(), scheme.end(), url.begin(),
                 [](char a, char b) { return std::tolower(static_cast<unsigned char>(b)) == a; }))
    pos = scheme.size();
  if (pos < url.size() && url[pos] == '[') {
    size_t end = url.find(']', pos);
    pos = end == std::string::npos ? url.size() : end + 1;
  }
  size_t slash = url.find('/', pos);
  std::string path = slash == std::string::npos ? std::string() : url.substr(slash);
  while (!path.empty() && path.back() == '/')
    path.pop_back();
  return path;
}

std::string normalize_path(std::string path) {
  if (!path.empty() && path.front() != '/') path.insert(path.begin(), '/');
  while (!path.empty() && path.back() == '/')
    path.pop_back();
  return path;
}

ResponseHeader response_for(const RequestHeader& h, StatusCode sc = status::Good) {
  ResponseHeader r;
  r.timestamp = DateTime::now();
  r.request_handle = h.request_handle;
  r.service_result = sc;
  return r;
}

ServiceFault fault(const RequestHeader& h, StatusCode sc) {
  return make_service_fault(h, sc);
}

constexpr StatusCode bad_max_age_invalid{0x80700000u};
constexpr StatusCode bad_view_id_unknown{0x806B0000u};

DataValue bad_value(StatusCode sc) {
  DataValue dv;
  dv.status = sc;
  return dv;
}

/// Encodes a continuation point number as its 8 bytes.
ByteString continuation_bytes(uint64_t n) {
  std::vector<uint8_t> b(8);
  for (int i = 0; i < 8; ++i)
    b[static_cast<size_t>(i)] = static_cast<uint8_t>(n >> (8 * i));
  return ByteString(std::move(b));
}

} // namespace

/// One session, shared by the connections that use it; guarded by server_endpoint::mutex_.
struct server_session {
  NodeId session_id;
  NodeId token;
  std::shared_ptr<address_space> space;
  uint32_t channel_id = 0;
  bool activated = false;
  double timeout_ms = 60000;
  steady::time_point last_used;
  uint32_t max_response_size = 0;
  struct continuation {
    std::vector<ReferenceDescription> rest;
    uint32_t max = 0;
  };
  std::map<ByteString, continuation> continuations;
  uint64_t next_continuation = 1;

  bool expired(steady::time_point now) const {
    return now - last_used > std::chrono::duration<double, std::milli>(timeout_ms);
  }
};

// -- connection ----------------------------------------------------------------------------------

/// One TCP connection: HEL/ACK, one secure channel, and the services on it. Lives on its strand.
class server_connection : public std::enable_shared_from_this<server_connection> {
public:
  using strand_type = asio::strand<asio::io_context::executor_type>;

  server_connection(std::shared_ptr<server_endpoint> server, strand_type strand, tcp::socket s)
      : server_(std::move(server)), opts_(server_->opts_), strand_(std::move(strand)),
        socket_(std::move(s)), lifetime_timer_(strand_), splitter_(opts_.receive_buffer_size),
        assembler_(assembler_limits{opts_.max_message_size, opts_.max_chunk_count, 4}) {
    read_buf_.resize(std::max<uint32_t>(opts_.receive_buffer_size, 8192));
  }

  void start() {
    asio::post(strand_, [self = shared_from_this()] {
      boost::system::error_code ignored;
      self->socket_.set_option(tcp::no_delay(true), ignored);
      self->read();
    });
  }

  /// Closes the socket at once (server stop).
  void stop() {
    asio::post(strand_, [self = shared_from_this()] { self->close(); });
  }

private:
  enum class state { hello, acknowledged, open, closing, closed };

  // -- I/O ---------------------------------------------------------------------------------------

  void read() {
    socket_.async_read_some(asio::buffer(read_buf_),
                            [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                              if (self->state_ == state::closed || self->state_ == state::closing)
                                return;
                              if (ec) return self->close();
                              self->on_bytes(n);
                              if (self->state_ != state::closed && self->state_ != state::closing)
                                self->read();
                            });
  }

  void write(std::vector<uint8_t> bytes) {
    if (state_ == state::closed) return;
    write_queue_.push_back(std::move(bytes));
    if (write_queue_.size() == 1) write_next();
  }

  void write_next() {
    asio::async_write(socket_, asio::buffer(write_queue_.front()),
                      [self = shared_from_this()](boost::system::error_code ec, size_t) {
                        if (self->state_ == state::closed) return;
                        if (ec) return self->close();
                        self->write_queue_.pop_front();
                        if (!self->write_queue_.empty())
                          self->write_next();
                        else if (self->state_ == state::closing)
                          self->close();
                      });
  }

  void close() {
    if (state_ == state::closed) return;
    state_ = state::closed;
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    lifetime_timer_.cancel();
    write_queue_.clear();
    server_->forget(this);
  }

  /// Sends ERR and closes once it is written.
  void fatal(const error& e) {
    if (state_ == state::closed || state_ == state::closing) return;
    ErrorMessage m;
    m.error = e.code;
    m.reason = String(e.reason);
    auto bytes = encode_error(m);
    state_ = state::closing;
    if (!bytes) return close();
    write(std::move(*bytes));
  }

  void on_bytes(size_t n) {
    splitter_.feed(byte_span(read_buf_.data(), n));
    while (state_ != state::closed && state_ != state::closing) {
      auto next = splitter_.next();
      if (!next) return fatal(next.error());
      if (!next->has_value()) return;
      on_chunk(**next);
    }
  }

  void on_chunk(byte_span chunk) {
    auto hdr = decode_message_header(chunk);
    if (!hdr) return fatal(hdr.error());
    if (hdr->type == MessageType::Hello) return on_hello(chunk);
    if (!is_secure_message(hdr->type))
      return fatal(error{status::BadTcpMessageTypeInvalid,
                         std::string("unexpected ") + message_type_code(hdr->type)});
    if (state_ == state::hello)
      return fatal(error{status::BadTcpMessageTypeInvalid, "secure message before HEL"});
    auto ev = assembler_.add(chunk, opts_.limits);
    if (!ev) return fatal(ev.error());
    if (auto* m = std::get_if<AssembledMessage>(&*ev)) {
      if (m->type == MessageType::Open) return on_open(*m);
      return on_message(*m);
    }
    // An aborted request (A chunk) is simply dropped; the channel stays.
  }

  // -- HEL / OPN ---------------------------------------------------------------------------------

  void on_hello(byte_span chunk) {
    if (state_ != state::hello)
      return fatal(error{status::BadTcpMessageTypeInvalid, "a second HEL"});
    auto hel = decode_hello(chunk);
    if (!hel) return fatal(hel.error());
    hel_url_ = hel->endpoint_url.str();
    space_ = server_->find_space(url_path(hel_url_));
    if (!space_)
      return fatal(error{status::BadTcpEndpointUrlInvalid,
                         "no endpoint for '" + hel_url_ + "' on this server"});
    AcknowledgeMessage ours;
    ours.receive_buffer_size = opts_.receive_buffer_size;
    ours.send_buffer_size = opts_.send_buffer_size;
    ours.max_message_size = opts_.max_message_size;
    ours.max_chunk_count = opts_.max_chunk_count;
    auto ack = negotiate_acknowledge(*hel, ours);
    if (!ack) return fatal(ack.error());
    chunker_.set_limits(
        chunk_limits{ack->send_buffer_size, hel->max_message_size, hel->max_chunk_count});
    splitter_.set_max_chunk_size(ack->receive_buffer_size);
    auto bytes = encode_acknowledge(*ack);
    if (!bytes) return fatal(bytes.error());
    state_ = state::acknowledged;
    write(std::move(*bytes));
  }

  void on_open(const AssembledMessage& m) {
    auto req = decode_message<OpenSecureChannelRequest>(byte_span(m.body), opts_.limits, 79);
    if (!req) return fatal(req.error());
    if (req->request_type == SecurityTokenRequestType::Issue) {
      if (state_ != state::acknowledged)
        return fatal(error{status::BadTcpMessageTypeInvalid, "a second OPN Issue"});
      if (m.secure_channel_id != 0)
        return fatal(error{status::BadTcpSecureChannelUnknown,
                           "OPN Issue for channel " + std::to_string(m.secure_channel_id)});
      channel_id_ = server_->next_channel_id();
      token_id_ = 1;
    } else if (req->request_type == SecurityTokenRequestType::Renew) {
      if (state_ != state::open)
        return fatal(error{status::BadTcpMessageTypeInvalid, "OPN Renew before Issue"});
      if (m.secure_channel_id != channel_id_)
        return fatal(error{status::BadSecureChannelIdInvalid,
                           "OPN Renew for channel " + std::to_string(m.secure_channel_id)});
      previous_token_id_ = token_id_;
      ++token_id_;
    } else {
      return fatal(error{status::BadDecodingError, "unknown OPN requestType"});
    }
    if (req->security_mode != MessageSecurityMode::None)
      return fatal(error{status::BadSecurityPolicyRejected, "only MessageSecurityMode None"});
    uint32_t lifetime = req->requested_lifetime == 0 ? 600000 : req->requested_lifetime;
    lifetime = std::clamp(lifetime, opts_.min_token_lifetime_ms, opts_.max_token_lifetime_ms);
    OpenSecureChannelResponse resp;
    resp.response_header = response_for(req->request_header);
    resp.security_token.channel_id = channel_id_;
    resp.security_token.token_id = token_id_;
    resp.security_token.created_at = DateTime::now();
    resp.security_token.revised_lifetime = lifetime;
    std::vector<uint8_t> body, out;
    auto enc = encode_message(resp, body);
    if (!enc) return fatal(enc.error());
    ChunkContext ctx;
    ctx.type = MessageType::Open;
    ctx.secure_channel_id = channel_id_;
    ctx.request_id = m.request_id;
    auto n = chunker_.encode(ctx, byte_span(body), out);
    if (!n) return fatal(n.error());
    state_ = state::open;
    write(std::move(out));
    // A channel whose token is neither renewed nor used past 125 % of its lifetime is dropped.
    lifetime_timer_.expires_after(std::chrono::milliseconds(uint64_t{lifetime} * 5 / 4));
    lifetime_timer_.async_wait(
        [self = shared_from_this(), token = token_id_](boost::system::error_code ec) {
          if (ec || self->token_id_ != token) return;
          self->close();
        });
  }

  // -- MSG / CLO ---------------------------------------------------------------------------------

  void on_message(const AssembledMessage& m) {
    if (state_ != state::open)
      return fatal(error{status::BadTcpMessageTypeInvalid, "MSG before OPN"});
    if (m.secure_channel_id != channel_id_)
      return fatal(error{status::BadSecureChannelIdInvalid,
                         "message for channel " + std::to_string(m.secure_channel_id) +
                             ", this is " + std::to_string(channel_id_)});
    if (m.token_id != token_id_ && (previous_token_id_ == 0 || m.token_id != previous_token_id_))
      return fatal(error{status::BadSecureChannelTokenUnknown,
                         "unknown token id " + std::to_string(m.token_id)});
    if (m.type == MessageType::Close) return close();

    byte_span body(m.body);
    auto req = decode_request(body, opts_.limits, 24);
    if (!req) {
      auto hdr = peek_request_header(body, opts_.limits);
      if (!hdr) return fatal(error{status::BadDecodingError, req.error().reason});
      StatusCode sc = req.code().code() == status::BadServiceUnsupported.code()
                          ? status::BadServiceUnsupported
                          : status::BadDecodingError;
      return send_response(m.request_id, Response(fault(*hdr, sc)), 0);
    }
    uint32_t max_response = 0;
    Response resp = std::visit([&](const auto& r) { return on(r, max_response); }, *req);
    send_response(m.request_id, std::move(resp), max_response);
  }

  void send_response(uint32_t request_id, Response resp, uint32_t max_size) {
    std::vector<uint8_t> body, out;
    auto enc = encode_response(resp, body);
    StatusCode failed = status::Good;
    if (!enc)
      failed = status::BadEncodingError;
    else if (max_size != 0 && body.size() > max_size)
      failed = status::BadResponseTooLarge;
    ChunkContext ctx{MessageType::Message, channel_id_, token_id_, {}, request_id};
    if (failed == status::Good) {
      auto n = chunker_.encode(ctx, byte_span(body), out, status::BadResponseTooLarge);
      if (n) return write(std::move(out));
      failed = n.code();
    }
    ServiceFault f;
    f.response_header = response_header(resp);
    f.response_header.service_result = failed;
    f.response_header.string_table = Array<String>();
    f.response_header.service_diagnostics = DiagnosticInfo();
    body.clear();
    out.clear();
    if (!encode_message(f, body)) return fatal(error{failed, "cannot encode a ServiceFault"});
    auto n = chunker_.encode(ctx, byte_span(body), out, status::BadResponseTooLarge);
    if (!n) return fatal(n.error());
    write(std::move(out));
  }

  // -- sessions ----------------------------------------------------------------------------------

  /// The session of a request, or the status to refuse it with. Locks the server's mutex.
  std::shared_ptr<server_session> session_for(const RequestHeader& h, StatusCode& sc,
                                              bool need_activated = true) {
    std::lock_guard<std::mutex> lock(server_->mutex_);
    return session_locked(h, sc, need_activated);
  }

  std::shared_ptr<server_session> session_locked(const RequestHeader& h, StatusCode& sc,
                                                 bool need_activated) {
    sc = status::BadSessionIdInvalid;
    const ByteString* tok = h.authentication_token.opaque();
    if (!tok || h.authentication_token.namespace_index != 0) return nullptr;
    auto it = server_->sessions_.find(tok->bytes());
    if (it == server_->sessions_.end()) return nullptr;
    auto s = it->second;
    auto now = steady::now();
    if (s->expired(now)) {
      server_->sessions_.erase(it);
      return nullptr;
    }
    if (s->space != space_) return nullptr;
    if (need_activated) {
      if (!s->activated) {
        sc = status::BadSessionNotActivated;
        return nullptr;
      }
      if (s->channel_id != channel_id_) {
        sc = status::BadSecureChannelIdInvalid;
        return nullptr;
      }
    }
    s->last_used = now;
    sc = status::Good;
    return s;
  }

  String dialled(const String& requested) const {
    return requested.is_null() || requested.empty() ? String(hel_url_) : requested;
  }

  ApplicationDescription application(const String& url) const {
    ApplicationDescription a;
    a.application_uri = String(opts_.application_uri);
    a.product_uri = String(opts_.product_uri);
    a.application_name = LocalizedText(String(opts_.application_name));
    a.application_type = ApplicationType::Server;
    a.discovery_urls = Array<String>{url};
    return a;
  }

  Array<EndpointDescription> endpoints(const String& url) const {
    EndpointDescription e;
    e.endpoint_url = url;
    e.server = application(url);
    e.security_mode = MessageSecurityMode::None;
    e.security_policy_uri = String(security_policy_none);
    UserTokenPolicy anonymous;
    anonymous.policy_id = String("anonymous");
    anonymous.token_type = UserTokenType::Anonymous;
    e.user_identity_tokens.push_back(anonymous);
    if (space_->allows_user_names()) {
      UserTokenPolicy user;
      user.policy_id = String("username");
      user.token_type = UserTokenType::UserName;
      user.security_policy_uri = String(security_policy_none);
      e.user_identity_tokens.push_back(user);
    }
    e.transport_profile_uri = String(transport_profile_uatcp);
    e.security_level = 0;
    return Array<EndpointDescription>{e};
  }

  // -- services ----------------------------------------------------------------------------------

  /// Any service not implemented below.
  template <class T> Response on(const T& r, uint32_t&) {
    return fault(r.request_header, status::BadServiceUnsupported);
  }

  Response on(const GetEndpointsRequest& r, uint32_t&) {
    GetEndpointsResponse resp;
    resp.response_header = response_for(r.request_header);
    bool wanted = r.profile_uris.empty() ||
                  std::find(r.profile_uris.begin(), r.profile_uris.end(),
                            String(transport_profile_uatcp)) != r.profile_uris.end();
    if (wanted) resp.endpoints = endpoints(dialled(r.endpoint_url));
    return resp;
  }

  Response on(const FindServersRequest& r, uint32_t&) {
    FindServersResponse resp;
    resp.response_header = response_for(r.request_header);
    bool wanted =
        r.server_uris.empty() || std::find(r.server_uris.begin(), r.server_uris.end(),
                                           String(opts_.application_uri)) != r.server_uris.end();
    if (wanted) resp.servers.push_back(application(dialled(r.endpoint_url)));
    return resp;
  }

  Response on(const CreateSessionRequest& r, uint32_t& max_response) {
    auto s = std::make_shared<server_session>();
    {
      std::lock_guard<std::mutex> lock(server_->mutex_);
      auto now = steady::now();
      for (auto it = server_->sessions_.begin(); it != server_->sessions_.end();)
        it = it->second->expired(now) ? server_->sessions_.erase(it) : std::next(it);
      if (server_->sessions_.size() >= opts_.max_sessions)
        return fault(r.request_header, status::BadTooManySessions);
      s->session_id = NodeId(1, server_->next_session_number_++);
      auto token = random_bytes(32);
      s->token = NodeId(0, ByteString(token));
      s->space = space_;
      s->channel_id = channel_id_;
      double t = r.requested_session_timeout > 0 ? r.requested_session_timeout : 60000;
      s->timeout_ms = std::clamp(t, opts_.min_session_timeout_ms, opts_.max_session_timeout_ms);
      s->last_used = now;
      s->max_response_size = r.max_response_message_size;
      server_->sessions_[token] = s;
    }
    max_response = r.max_response_message_size;
    CreateSessionResponse resp;
    resp.response_header = response_for(r.request_header);
    resp.session_id = s->session_id;
    resp.authentication_token = s->token;
    resp.revised_session_timeout = s->timeout_ms;
    resp.server_nonce = ByteString(random_bytes(32));
    resp.server_endpoints = endpoints(dialled(r.endpoint_url));
    resp.max_request_message_size = opts_.max_message_size;
    return resp;
  }

  Response on(const ActivateSessionRequest& r, uint32_t& max_response) {
    StatusCode sc;
    auto s = session_for(r.request_header, sc, /*need_activated=*/false);
    if (!s) return fault(r.request_header, sc);
    auto token = decode_identity_token(r.user_identity_token, opts_.limits);
    if (!token) return fault(r.request_header, status::BadIdentityTokenInvalid);
    StatusCode ok = status::Good;
    if (auto* anon = std::get_if<AnonymousIdentityToken>(&*token)) {
      const String& p = anon->policy_id;
      if (!p.is_null() && !p.empty() && p.str() != "anonymous")
        ok = status::BadIdentityTokenInvalid;
    } else if (auto* user = std::get_if<UserNameIdentityToken>(&*token)) {
      const String& p = user->policy_id;
      if (!space_->allows_user_names())
        ok = status::BadIdentityTokenRejected;
      else if (!p.is_null() && !p.empty() && p.str() != "username")
        ok = status::BadIdentityTokenInvalid;
      else if (!user->encryption_algorithm.is_null() && !user->encryption_algorithm.empty())
        ok = status::BadIdentityTokenInvalid;
      else
        ok = space_->check_user(user->user_name.str(), std::string(user->password.bytes().begin(),
                                                                   user->password.bytes().end()));
    } else if (!std::holds_alternative<std::monostate>(*token)) {
      ok = status::BadIdentityTokenRejected;
    }
    if (ok.is_bad()) return fault(r.request_header, ok);
    {
      std::lock_guard<std::mutex> lock(server_->mutex_);
      s->activated = true;
      s->channel_id = channel_id_; // a session may move to a new channel (reconnect)
      s->last_used = steady::now();
      max_response = s->max_response_size;
    }
    ActivateSessionResponse resp;
    resp.response_header = response_for(r.request_header);
    resp.server_nonce = ByteString(random_bytes(32));
    return resp;
  }

  Response on(const CloseSessionRequest& r, uint32_t&) {
    std::lock_guard<std::mutex> lock(server_->mutex_);
    StatusCode sc;
    auto s = session_locked(r.request_header, sc, /*need_activated=*/false);
    if (!s) return fault(r.request_header, sc);
    if (s->activated && s->channel_id != channel_id_)
      return fault(r.request_header, status::BadSecureChannelIdInvalid);
    server_->sessions_.erase(s->token.opaque()->bytes());
    CloseSessionResponse resp;
    resp.response_header = response_for(r.request_header);
    return resp;
  }

  /// Checks the session and the operation count; Good or the fault status.
  StatusCode check_call(const RequestHeader& h, size_t count, std::shared_ptr<server_session>& s,
                        uint32_t& max_response) {
    StatusCode sc;
    s = session_for(h, sc);
    if (!s) return sc;
    {
      std::lock_guard<std::mutex> lock(server_->mutex_);
      max_response = s->max_response_size;
    }
    if (count == 0) return status::BadNothingToDo;
    if (count > opts_.max_nodes_per_call) return status::BadTooManyOperations;
    return status::Good;
  }

  Response on(const ReadRequest& r, uint32_t& max_response) {
    std::shared_ptr<server_session> s;
    StatusCode sc = check_call(r.request_header, r.nodes_to_read.size(), s, max_response);
    if (sc.is_bad()) return fault(r.request_header, sc);
    auto ttr = static_cast<int32_t>(r.timestamps_to_return);
    if (ttr < 0 || ttr > 3) return fault(r.request_header, status::BadTimestampsToReturnInvalid);
    if (r.max_age < 0) return fault(r.request_header, bad_max_age_invalid);
    ReadResponse resp;
    resp.response_header = response_for(r.request_header);
    DateTime now = DateTime::now();
    for (const auto& item : r.nodes_to_read) {
      DataValue dv;
      if (!item.index_range.is_null() && !item.index_range.empty())
        dv = bad_value(status::BadIndexRangeInvalid);
      else if (!item.data_encoding.name.is_null() && !item.data_encoding.name.empty() &&
               item.data_encoding.name.str() != "Default Binary")
        dv = bad_value(status::BadDataEncodingUnsupported);
      else
        dv = s->space->read(item.node_id, item.attribute_id);
      bool failed = !dv.value && dv.status && dv.status->is_bad();
      if (item.attribute_id != attribute_id::Value || failed) {
        dv.source_timestamp.reset();
        dv.source_picoseconds.reset();
        dv.server_timestamp.reset();
        dv.server_picoseconds.reset();
      } else {
        auto t = r.timestamps_to_return;
        if (t == TimestampsToReturn::Server || t == TimestampsToReturn::Neither) {
          dv.source_timestamp.reset();
          dv.source_picoseconds.reset();
        }
        if (t == TimestampsToReturn::Server || t == TimestampsToReturn::Both) {
          dv.server_timestamp = now;
        } else {
          dv.server_timestamp.reset();
          dv.server_picoseconds.reset();
        }
      }
      resp.results.push_back(std::move(dv));
    }
    return resp;
  }

  Response on(const WriteRequest& r, uint32_t& max_response) {
    std::shared_ptr<server_session> s;
    StatusCode sc = check_call(r.request_header, r.nodes_to_write.size(), s, max_response);
    if (sc.is_bad()) return fault(r.request_header, sc);
    WriteResponse resp;
    resp.response_header = response_for(r.request_header);
    for (const auto& w : r.nodes_to_write) {
      if (!w.index_range.is_null() && !w.index_range.empty())
        resp.results.push_back(status::BadIndexRangeInvalid);
      else
        resp.results.push_back(s->space->write(w.node_id, w.attribute_id, w.value));
    }
    return resp;
  }

  /// Takes up to `max` references from `refs` into `br`; the rest go to a continuation point.
  void page(server_session& s, std::vector<ReferenceDescription> refs, uint32_t max,
            BrowseResult& br, const ByteString* reuse) {
    if (max == 0 || refs.size() <= max) {
      br.references = Array<ReferenceDescription>(std::move(refs));
      if (reuse) s.continuations.erase(*reuse);
      return;
    }
    ByteString cp;
    if (reuse) {
      cp = *reuse;
    } else {
      if (s.continuations.size() >= opts_.max_continuation_points) {
        br.status_code = status::BadNoContinuationPoints;
        return;
      }
      cp = continuation_bytes(s.next_continuation++);
    }
    std::vector<ReferenceDescription> rest(refs.begin() + max, refs.end());
    refs.resize(max);
    br.references = Array<ReferenceDescription>(std::move(refs));
    br.continuation_point = cp;
    s.continuations[cp] = server_session::continuation{std::move(rest), max};
  }

  Response on(const BrowseRequest& r, uint32_t& max_response) {
    std::shared_ptr<server_session> s;
    StatusCode sc = check_call(r.request_header, r.nodes_to_browse.size(), s, max_response);
    if (sc.is_bad()) return fault(r.request_header, sc);
    if (!r.view.view_id.is_null()) return fault(r.request_header, bad_view_id_unknown);
    BrowseResponse resp;
    resp.response_header = response_for(r.request_header);
    for (const auto& d : r.nodes_to_browse) {
      BrowseResult br;
      auto dir = static_cast<int32_t>(d.browse_direction);
      if (dir < 0 || dir > 2) {
        br.status_code = status::BadBrowseDirectionInvalid;
      } else if (!d.reference_type_id.is_null() &&
                 !is_reference_subtype(d.reference_type_id, NodeId(node_ids::References))) {
        br.status_code = status::BadReferenceTypeIdInvalid;
      } else {
        auto refs = s->space->browse(d.node_id, d.browse_direction, d.reference_type_id,
                                     d.include_subtypes);
        if (!refs) {
          br.status_code = refs.code();
        } else {
          std::vector<ReferenceDescription> kept;
          for (auto& ref : *refs) {
            if (d.node_class_mask != 0 &&
                (d.node_class_mask & static_cast<uint32_t>(ref.node_class)) == 0)
              continue;
            if (!(d.result_mask & browse_result_mask::ReferenceType))
              ref.reference_type_id = NodeId();
            if (!(d.result_mask & browse_result_mask::NodeClass))
              ref.node_class = NodeClass::Unspecified;
            if (!(d.result_mask & browse_result_mask::BrowseName)) ref.browse_name = {};
            if (!(d.result_mask & browse_result_mask::DisplayName)) ref.display_name = {};
            if (!(d.result_mask & browse_result_mask::TypeDefinition))
              ref.type_definition = ExpandedNodeId();
            kept.push_back(std::move(ref));
          }
          std::lock_guard<std::mutex> lock(server_->mutex_);
          page(*s, std::move(kept), r.requested_max_references_per_node, br, nullptr);
        }
      }
      resp.results.push_back(std::move(br));
    }
    return resp;
  }

  Response on(const BrowseNextRequest& r, uint32_t& max_response) {
    std::shared_ptr<server_session> s;
    StatusCode sc = check_call(r.request_header, r.continuation_points.size(), s, max_response);
    if (sc.is_bad()) return fault(r.request_header, sc);
    BrowseNextResponse resp;
    resp.response_header = response_for(r.request_header);
    std::lock_guard<std::mutex> lock(server_->mutex_);
    for (const auto& cp : r.continuation_points) {
      BrowseResult br;
      auto it = s->continuations.find(cp);
      if (it == s->continuations.end()) {
        br.status_code = status::BadContinuationPointInvalid;
      } else if (r.release_continuation_points) {
        s->continuations.erase(it);
      } else {
        auto rest = std::move(it->second.rest);
        page(*s, std::move(rest), it->second.max, br, &cp);
      }
      resp.results.push_back(std::move(br));
    }
    return resp;
  }

  Response on(const TranslateBrowsePathsToNodeIdsRequest& r, uint32_t& max_response) {
    std::shared_ptr<server_session> s;
    StatusCode sc = check_call(r.request_header, r.browse_paths.size(), s, max_response);
    if (sc.is_bad()) return fault(r.request_header, sc);
    TranslateBrowsePathsToNodeIdsResponse resp;
    resp.response_header = response_for(r.request_header);
    for (const auto& path : r.browse_paths) {
      BrowsePathResult res;
      if (path.relative_path.elements.empty()) {
        res.status_code = status::BadNothingToDo;
        resp.results.push_back(std::move(res));
        continue;
      }
      auto start = s->space->browse(path.starting_node, BrowseDirection::Forward, NodeId(), false);
      if (!start) {
        res.status_code = status::BadNodeIdUnknown;
        resp.results.push_back(std::move(res));
        continue;
      }
      std::vector<NodeId> current{path.starting_node};
      for (const auto& el : path.relative_path.elements) {
        std::vector<NodeId> next;
        NodeId type =
            el.reference_type_id.is_null() ? NodeId(node_ids::References) : el.reference_type_id;
        for (const auto& n : current) {
          auto refs = s->space->browse(
              n, el.is_inverse ? BrowseDirection::Inverse : BrowseDirection::Forward, type,
              el.include_subtypes);
          if (!refs) continue;
          for (const auto& ref : *refs)
            if (ref.browse_name == el.target_name && ref.node_id.is_local() &&
                std::find(next.begin(), next.end(), ref.node_id.node_id) == next.end())
              next.push_back(ref.node_id.node_id);
        }
        current = std::move(next);
        if (current.empty()) break;
      }
      if (current.empty()) {
        res.status_code = status_bad_no_match;
      } else {
        for (auto& n : current) {
          BrowsePathTarget t;
          t.target_id = ExpandedNodeId(std::move(n));
          res.targets.push_back(std::move(t));
        }
      }
      resp.results.push_back(std::move(res));
    }
    return resp;
  }

  Response on(const RegisterNodesRequest& r, uint32_t& max_response) {
    std::shared_ptr<server_session> s;
    StatusCode sc = check_call(r.request_header, r.nodes_to_register.size(), s, max_response);
    if (sc.is_bad()) return fault(r.request_header, sc);
    RegisterNodesResponse resp;
    resp.response_header = response_for(r.request_header);
    resp.registered_node_ids = r.nodes_to_register;
    return resp;
  }

  Response on(const UnregisterNodesRequest& r, uint32_t& max_response) {
    std::shared_ptr<server_session> s;
    StatusCode sc = check_call(r.request_header, r.nodes_to_unregister.size(), s, max_response);
    if (sc.is_bad()) return fault(r.request_header, sc);
    UnregisterNodesResponse resp;
    resp.response_header = response_for(r.request_header);
    return resp;
  }

  std::shared_ptr<server_endpoint> server_;
  const server_options& opts_;
  strand_type strand_;
  tcp::socket socket_;
  asio::steady_timer lifetime_timer_;
  state state_ = state::hello;
  frame_splitter splitter_;
  chunk_assembler assembler_;
  chunker chunker_;
  std::string hel_url_;
  std::shared_ptr<address_space> space_;
  uint32_t channel_id_ = 0;
  uint32_t token_id_ = 0;
  uint32_t previous_token_id_ = 0;
  std::deque<std::vector<uint8_t>> write_queue_;
  std::vector<uint8_t> read_buf_;
};

// -- endpoint ------------------------------------------------------------------------------------

std::shared_ptr<server_endpoint> server_endpoint::create(asio::io_context& io,
                                                         server_options opts) {
  return std::shared_ptr<server_endpoint>(new server_endpoint(io, std::move(opts)));
}

server_endpoint::server_endpoint(asio::io_context& io, server_options opts)
    : io_(io), opts_(std::move(opts)), strand_(asio::make_strand(io)), acceptor_(strand_) {}

server_endpoint::~server_endpoint() = default;

void server_endpoint::add_endpoint(const std::string& path, std::shared_ptr<address_space> space) {
  spaces_[normalize_path(path)] = std::move(space);
}

std::shared_ptr<address_space> server_endpoint::find_space(const std::string& path) const {
  auto it = spaces_.find(path);
  return it == spaces_.end() ? nullptr : it->second;
}

result<uint16_t> server_endpoint::start() {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(opts_.host, ec);
  if (ec) return error{status::BadTcpEndpointUrlInvalid, "bad listen address " + opts_.host};
  tcp::endpoint ep(addr, opts_.port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    return error{status::BadCommunicationError, "cannot listen on " + opts_.host + ":" +
                                                    std::to_string(opts_.port) + ": " +
                                                    ec.message()};
  }
  port_ = acceptor_.local_endpoint().port();
  asio::post(strand_, [self = shared_from_this()] { self->accept(); });
  return port_;
}

void server_endpoint::accept() {
  auto strand = asio::make_strand(io_);
  acceptor_.async_accept(strand, [self = shared_from_this(), strand](boost::system::error_code ec,
                                                                     tcp::socket s) mutable {
    if (self->stopped_ || !self->acceptor_.is_open()) return;
    if (!ec) {
      auto c = std::make_shared<server_connection>(self, std::move(strand), std::move(s));
      {
        std::lock_guard<std::mutex> lock(self->mutex_);
        self->connections_[c.get()] = c;
      }
      c->start();
    }
    self->accept();
  });
}

void server_endpoint::stop() {
  stopped_ = true;
  asio::post(strand_, [self = shared_from_this()] {
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
  });
  std::vector<std::shared_ptr<server_connection>> live;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [p, w] : connections_)
      if (auto c = w.lock()) live.push_back(c);
    sessions_.clear();
  }
  for (auto& c : live)
    c->stop();
}

void server_endpoint::forget(server_connection* c) {
  std::lock_guard<std::mutex> lock(mutex_);
  connections_.erase(c);
}

size_t server_endpoint::connection_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return connections_.size();
}

size_t server_endpoint::session_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sessions_.size();
}

} // namespace tandem::opcua
