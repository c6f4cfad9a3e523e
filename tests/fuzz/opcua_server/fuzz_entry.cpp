#include "tests/fuzz/opcua_server/fuzz_entry.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transports/opcua/framing.hpp"
#include "transports/opcua/server/address_space.hpp"
#include "transports/opcua/server/server.hpp"
#include "transports/opcua/services.hpp"

namespace tandem::opcua::fuzz_server {
namespace {

using steady = std::chrono::steady_clock;
/// How long the server may take to answer a valid request or to close after EOF (else: finding).
constexpr auto reply_wait = std::chrono::seconds(3);
/// How long an f2::sync record waits for its response (no finding when it does not come), and
/// all of them in one input together.
constexpr auto sync_wait = std::chrono::milliseconds(100);
constexpr auto sync_budget = std::chrono::milliseconds(250);
constexpr uint32_t service_fault_id = 397;

/// TANDEM_FUZZ_SERVER_TRACE=1 prints what the server answers (for checking seeds by hand).
bool tracing() {
  static const bool on = std::getenv("TANDEM_FUZZ_SERVER_TRACE") != nullptr;
  return on;
}

[[noreturn]] void finding(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "opcua server fuzz finding: %s%s%s\n", what, detail.empty() ? "" : ": ",
               detail.c_str());
  std::fflush(stderr);
  std::abort();
}

// -- the server under test -----------------------------------------------------------------------

struct harness {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{
      boost::asio::make_work_guard(io)};
  std::shared_ptr<memory_address_space> space;
  std::shared_ptr<server_endpoint> server;
  uint16_t port = 0;
  std::vector<std::thread> threads;

  harness() {
    memory_address_space_options so;
    so.application_uri = "urn:tandem:fuzz";
    space = std::make_shared<memory_address_space>(so);
    const NodeId plant(1, String("Plant")), line(1, String("Plant.Line1"));
    space->add_folder(plant, NodeId(85), {1, "Plant"});
    space->add_folder(line, plant, {1, "Line1"});
    space->add_variable(NodeId(1, String("Plant.Temp")), plant, {1, "Temp"}, Variant(21.5), true);
    space->add_variable(NodeId(1, 7), plant, {1, "Count"}, Variant(int32_t{42}));
    space->add_variable(NodeId(1, String("Plant.Line1.Name")), line, {1, "Name"},
                        Variant(String("line one")), true);
    space->add_variable(NodeId(1, String("Plant.Line1.Flag")), line, {1, "Flag"}, Variant(true),
                        true);
    space->add_variable(NodeId(1, 8), line, {1, "Note"}, Variant(String("")), true);
    space->set_user_check(
        [](const std::string& u, const std::string& p) { return u == "op1" && p == "secret1"; });

    server_options o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.max_message_size = 1u << 20;
    o.max_chunk_count = 64;
    o.min_session_timeout_ms = 200; // sessions left behind by inputs go away quickly
    o.max_session_timeout_ms = 500;
    o.max_sessions = 1000;
    o.max_continuation_points = 3;
    o.max_nodes_per_call = 50;
    o.min_publishing_interval_ms = 10;
    o.max_subscriptions_per_session = 5;
    o.max_publish_requests = 5;
    server = server_endpoint::create(io, o);
    server->add_endpoint("/plant", space);
    auto p = server->start();
    if (!p) finding("server start", p.error().reason);
    port = *p;
    for (int i = 0; i < 2; ++i)
      threads.emplace_back([this] { io.run(); });
  }

  void stop() {
    server->stop();
    work.reset();
    io.stop();
    for (auto& t : threads)
      t.join();
    threads.clear();
  }
};

harness& the_harness() {
  // Never destroyed (reachable for LeakSanitizer); its threads are joined at exit.
  static harness* h = [] {
    auto* created = new harness();
    std::atexit([] { the_harness().stop(); });
    return created;
  }();
  return *h;
}

std::string endpoint_url(uint16_t port) {
  return "opc.tcp://127.0.0.1:" + std::to_string(port) + "/plant";
}

uint32_t le32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

// -- one connection ------------------------------------------------------------------------------

/// A loopback client that writes what the input says and checks everything the server sends.
class client {
public:
  client(uint16_t port, uint8_t mode) : port_(port), mode_(mode) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) finding("socket()", std::strerror(errno));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      finding("cannot connect to the server", std::strerror(errno));
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
  }
  ~client() {
    if (fd_ >= 0) ::close(fd_);
  }
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// The server has closed or sent ERR: nothing more will be processed.
  bool gone() const { return eof_ || err_seen_ || send_failed_; }
  bool has_session() const { return !auth_.is_null(); }

  // -- prelude -----------------------------------------------------------------------------------

  void hello() {
    hel_.receive_buffer_size = mode_ & mode::small_buffers ? 8192 : 65536;
    hel_.send_buffer_size = hel_.receive_buffer_size;
    if (mode_ & mode::small_hel_limits) {
      hel_.max_message_size = 4096;
      hel_.max_chunk_count = 2;
    }
    hel_.endpoint_url = String(endpoint_url(port_));
    auto bytes = encode_hello(hel_);
    if (!bytes) finding("encode HEL", bytes.error().reason);
    hel_sent_ = true;
    send_bytes(*bytes);
    pump(steady::now() + reply_wait, [this] { return acked_; });
    if (!acked_) finding("no ACK for a valid HEL", why_not());
  }

  void open() {
    OpenSecureChannelRequest req;
    req.request_header.request_handle = next_request_id_;
    req.requested_lifetime = 600000;
    std::vector<uint8_t> body;
    if (!encode_message(req, body)) finding("encode OPN");
    ChunkContext ctx;
    ctx.type = MessageType::Open;
    ctx.secure_channel_id = 0;
    ctx.request_id = next_request_id_++;
    std::vector<uint8_t> out;
    if (!encode_secure_chunk(ctx, ChunkType::Final, seq_.next(), byte_span(body), out))
      finding("encode OPN chunk");
    sent_ids_.insert(ctx.request_id);
    secure_sent_ = true;
    send_bytes(out);
    pump(steady::now() + reply_wait, [this] { return channel_id_ != 0; });
    if (channel_id_ == 0) finding("no OPN response to a valid OPN Issue", why_not());
  }

  void session() {
    CreateSessionRequest cs;
    cs.endpoint_url = String(endpoint_url(port_));
    cs.session_name = String("fuzz");
    cs.client_nonce = ByteString(std::vector<uint8_t>(32, 0x5a));
    cs.requested_session_timeout = 300;
    cs.max_response_message_size = mode_ & mode::small_max_response ? 2048 : 0;
    uint32_t id = send_request(cs);
    await_reply(id);
    if (auth_.is_null()) return; // refused (too many sessions, response too large): go on
    ActivateSessionRequest as;
    if (mode_ & mode::user_login) {
      UserNameIdentityToken t;
      t.policy_id = String("username");
      t.user_name = String("op1");
      const std::string pw = "secret1";
      t.password = ByteString(std::vector<uint8_t>(pw.begin(), pw.end()));
      as.user_identity_token = *make_extension_object(t);
    } else {
      AnonymousIdentityToken t;
      t.policy_id = String("anonymous");
      as.user_identity_token = *make_extension_object(t);
    }
    await_reply(send_request(as));
  }

  /// Reads Plant.Count (read-only, 42) on the session: true when the value comes back.
  bool read_count() {
    if (auth_.is_null() || gone()) return false;
    ReadRequest r;
    ReadValueId v;
    v.node_id = NodeId(1, 7);
    r.nodes_to_read.push_back(v);
    probe_id_ = send_request(r);
    await_reply(probe_id_);
    return probe_ok_;
  }

  // -- fuzz bytes --------------------------------------------------------------------------------

  void raw(byte_span bytes) {
    raw_sent_ = true;
    send_bytes(bytes.to_vector());
  }

  void records(byte_span in) {
    size_t pos = 0;
    const auto budget_end = steady::now() + sync_budget;
    while (pos + 4 <= in.size && !gone()) {
      const uint8_t a = in[pos], b = in[pos + 1];
      const size_t len = uint32_t{in[pos + 2]} | uint32_t{in[pos + 3]} << 8;
      byte_span body = in.subspan(pos + 4, len);
      pos += 4 + body.size;
      uint32_t id = record(a, b, body);
      // Aborted, unfinished and CLO messages get no response: nothing to wait for.
      const bool answered = (a & 3) <= f1::split && (a >> 6) != 2;
      if ((b & f2::sync) && answered && id != 0 && !gone())
        pump(std::min(steady::now() + sync_wait, budget_end),
             [this, id] { return replied_.count(id) != 0; });
    }
  }

  /// Half-closes and reads until the server closes (or resets at once when the mode says so).
  void finish() {
    if (mode_ & mode::abortive_close) {
      linger l{1, 0};
      ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      ::close(fd_);
      fd_ = -1;
      return;
    }
    ::shutdown(fd_, SHUT_WR);
    pump(steady::now() + reply_wait, [] { return false; });
    if (!eof_) finding("the server did not close the connection after EOF", why_not());
    if (poison_id_ != 0 && poison_checkable_ && !err_seen_)
      finding("no ERR after a sequence gap or a chunk for another channel or token");
  }

private:
  std::string why_not() const {
    return std::string(eof_ ? "closed" : "open") + (err_seen_ ? ", ERR " + err_reason_ : "");
  }

  // -- sending -----------------------------------------------------------------------------------

  /// Writes everything (reading what comes meanwhile); stops when the server is gone.
  void send_bytes(const std::vector<uint8_t>& bytes) {
    size_t done = 0;
    const auto deadline = steady::now() + reply_wait;
    while (done < bytes.size() && !eof_ && !send_failed_) {
      ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n > 0) {
        done += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        // EPIPE / ECONNRESET: the server closed (with our unread bytes, so with a reset). What
        // it sent before (an ERR) is still to be read.
        send_failed_ = true;
        return;
      }
      pollfd p{fd_, POLLOUT | POLLIN, 0};
      int left = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count());
      if (left <= 0) finding("the server stopped reading without closing", why_not());
      if (::poll(&p, 1, left) < 0 && errno != EINTR) finding("poll", std::strerror(errno));
      if (p.revents & (POLLIN | POLLHUP | POLLERR)) read_once();
    }
  }

  uint32_t send_request(Request r) {
    auto& h = request_header(r);
    h.request_handle = next_request_id_;
    h.authentication_token = auth_;
    h.timestamp = DateTime::now();
    std::vector<uint8_t> body, out;
    if (!encode_request(r, body)) finding("encode request");
    ChunkContext ctx{MessageType::Message, channel_id_, token_id_, {}, next_request_id_++};
    if (!encode_secure_chunk(ctx, ChunkType::Final, seq_.next(), byte_span(body), out))
      finding("encode MSG chunk");
    sent_ids_.insert(ctx.request_id);
    sent_types_[ctx.request_id] = binary_encoding_id(r);
    secure_sent_ = true;
    send_bytes(out);
    return ctx.request_id;
  }

  /// A valid prelude request must be answered (a ServiceFault counts).
  void await_reply(uint32_t id) {
    pump(steady::now() + reply_wait, [this, id] { return replied_.count(id) != 0; });
    if (!replied_.count(id)) finding("no response to a valid prelude request", why_not());
  }

  /// The body with the session's authentication token put in (when it has a TypeId and a
  /// NodeId after it) and the markers replaced.
  std::vector<uint8_t> patched(byte_span in, bool put_token) const {
    std::vector<uint8_t> out = in.to_vector();
    if (put_token && !auth_.is_null()) {
      reader r(in);
      ExpandedNodeId type;
      decode(r, type);
      const size_t a = r.offset();
      NodeId token;
      decode(r, token);
      if (r.ok()) {
        std::vector<uint8_t> t;
        writer w(t);
        encode(w, auth_);
        out.assign(in.begin(), in.begin() + a);
        out.insert(out.end(), t.begin(), t.end());
        out.insert(out.end(), in.begin() + r.offset(), in.end());
      }
    }
    for (size_t i = 0; i + 4 <= out.size(); ++i) {
      const uint32_t v = le32(out.data() + i);
      uint32_t with = 0;
      if (v == subscription_marker) with = subscription_id_;
      if (v == item_marker) with = item_id_;
      if (v == sequence_marker) with = notification_sequence_;
      if (with == 0) continue;
      for (int k = 0; k < 4; ++k)
        out[i + static_cast<size_t>(k)] = static_cast<uint8_t>(with >> (8 * k));
      i += 3;
    }
    return out;
  }

  /// Sends one record; its RequestId (0 for raw bytes).
  uint32_t record(uint8_t a, uint8_t b, byte_span in) {
    if (b & f2::raw) {
      raw(in);
      return 0;
    }
    std::vector<uint8_t> body = patched(in, !(a & f1::keep_token));
    ChunkContext ctx;
    const uint8_t type = a >> 6;
    ctx.type = type == 2   ? MessageType::Close
               : type == 3 ? MessageType::Open
                           : MessageType::Message;
    ctx.secure_channel_id = channel_id_ + ((a & f1::wrong_channel) ? 1u + b : 0u);
    ctx.token_id = token_id_ + ((a & f1::wrong_token) ? 100u : 0u);
    ctx.request_id = next_request_id_++;
    if (a & f1::skip_sequence) seq_.next();
    // A sequence gap (the first chunk of a connection may start anywhere), or a MSG/CLO chunk
    // naming another channel or token, is fatal at its first chunk (OPC 10000-6 §6.7.2): nothing
    // sent from here on may be answered, and ERR must come.
    const bool poisoned =
        ((a & f1::skip_sequence) && secure_sent_) ||
        (ctx.type != MessageType::Open && (a & (f1::wrong_token | f1::wrong_channel)));
    if (poisoned && poison_id_ == 0 && !gone()) {
      poison_id_ = ctx.request_id;
      poison_checkable_ = !raw_sent_ && !clo_sent_;
    }
    if (ctx.type == MessageType::Close) clo_sent_ = true;
    secure_sent_ = true;
    {
      reader r{byte_span(body)};
      ExpandedNodeId tid;
      decode(r, tid);
      if (r.ok() && ctx.type == MessageType::Message && tid.node_id.namespace_index == 0)
        if (const uint32_t* n = tid.node_id.numeric()) sent_types_[ctx.request_id] = *n;
    }
    sent_ids_.insert(ctx.request_id);

    const size_t piece = 8 + 32 * size_t{static_cast<uint8_t>(b >> 2)};
    const uint8_t chunking = a & 3;
    std::vector<uint8_t> out;
    if (chunking == f1::single) {
      (void)encode_secure_chunk(ctx, ChunkType::Final, seq_.next(), byte_span(body), out);
    } else {
      size_t pos = 0;
      do {
        const size_t take = std::min(piece, body.size() - pos);
        const bool last = pos + take >= body.size();
        const ChunkType t =
            last && chunking == f1::split ? ChunkType::Final : ChunkType::Intermediate;
        (void)encode_secure_chunk(ctx, t, seq_.next(), byte_span(body).subspan(pos, take), out);
        pos += take;
      } while (pos < body.size());
      if (chunking == f1::split_abort) {
        std::vector<uint8_t> abort_body;
        writer w(abort_body);
        encode(w, StatusCode(0x80AB0000u));
        encode(w, String("fuzz abort"));
        (void)encode_secure_chunk(ctx, ChunkType::Abort, seq_.next(), byte_span(abort_body), out);
      }
    }
    send_bytes(out);
    return ctx.request_id;
  }

  // -- receiving ---------------------------------------------------------------------------------

  /// Reads until `done()`, EOF or the deadline.
  void pump(steady::time_point deadline, const std::function<bool()>& done) {
    while (!done() && !eof_ && fd_ >= 0) {
      int left = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count());
      if (left <= 0) return;
      pollfd p{fd_, POLLIN, 0};
      int r = ::poll(&p, 1, left);
      if (r < 0 && errno != EINTR) finding("poll", std::strerror(errno));
      if (r > 0) read_once();
    }
  }

  void read_once() {
    uint8_t buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      if (tracing())
        std::fprintf(stderr, "  closed by the server (%s)\n", n == 0 ? "EOF" : "reset");
      eof_ = true;
      return;
    }
    if (n < 0) return;
    splitter_.feed(byte_span(buf, static_cast<size_t>(n)));
    for (;;) {
      auto c = splitter_.next();
      if (!c) finding("the server sent a malformed frame", c.error().reason);
      if (!*c) break;
      on_chunk(**c);
    }
  }

  void on_chunk(byte_span chunk) {
    if (err_seen_) finding("the server sent data after ERR");
    auto h = decode_message_header(chunk);
    if (!h) finding("server chunk header", h.error().reason);
    if (hel_sent_ && hel_.receive_buffer_size != 0 && chunk.size > hel_.receive_buffer_size)
      finding("a chunk above our ReceiveBufferSize", std::to_string(chunk.size));
    switch (h->type) {
    case MessageType::Acknowledge: {
      auto ack = decode_acknowledge(chunk);
      if (!ack) finding("undecodable ACK", ack.error().reason);
      if (acked_) finding("a second ACK");
      if (ack->receive_buffer_size < 8192 || ack->send_buffer_size < 8192)
        finding("ACK buffers below 8192");
      if (hel_sent_ && (ack->receive_buffer_size > hel_.send_buffer_size ||
                        ack->send_buffer_size > hel_.receive_buffer_size))
        finding("ACK buffers above the HEL's");
      acked_ = true;
      if (tracing()) std::fprintf(stderr, "  ACK\n");
      return;
    }
    case MessageType::Error: {
      auto e = decode_error(chunk);
      if (!e) finding("undecodable ERR", e.error().reason);
      if (!e->error.is_bad()) finding("ERR with a status that is not Bad");
      err_seen_ = true;
      err_reason_ = e->reason.str();
      if (tracing())
        std::fprintf(stderr, "  ERR %s %s\n", to_string(e->error).c_str(), err_reason_.c_str());
      return;
    }
    case MessageType::Open:
    case MessageType::Message:
      return on_secure_chunk(chunk);
    default:
      finding("the server sent", message_type_code(h->type));
    }
  }

  void on_secure_chunk(byte_span chunk) {
    if (!acked_) finding("a secure chunk before ACK");
    auto c = decode_secure_chunk(chunk);
    if (!c) finding("undecodable secure chunk", c.error().reason);
    const uint32_t seq = c->sequence.sequence_number;
    if (!server_seq_ && seq != 1) finding("the server's first sequence number is not 1");
    server_seq_ = seq;
    if (c->type == MessageType::Message) {
      if (c->secure_channel_id != channel_id_ || channel_id_ == 0)
        finding("MSG on the wrong channel", std::to_string(c->secure_channel_id));
      if (c->token_id != token_id_) finding("MSG with a stale token", std::to_string(c->token_id));
    }
    if (!raw_sent_ && !sent_ids_.count(c->sequence.request_id))
      finding("a response for a RequestId never sent", std::to_string(c->sequence.request_id));
    auto ev = in_.add(*c);
    if (!ev) finding("server chunks do not assemble", ev.error().reason);
    if (auto* m = std::get_if<AssembledMessage>(&*ev)) on_message(*m);
  }

  void on_message(const AssembledMessage& m) {
    replied_.insert(m.request_id);
    if (poison_id_ != 0 && poison_checkable_ && m.request_id >= poison_id_)
      finding("a request answered after a sequence gap or a chunk for another channel or token",
              std::to_string(m.request_id));
    if (m.type == MessageType::Open) {
      auto r = decode_message<OpenSecureChannelResponse>(byte_span(m.body), {}, 79);
      if (!r) finding("undecodable OPN response", r.error().reason);
      const auto& t = r->security_token;
      if (t.channel_id == 0) finding("channel id 0");
      if (channel_id_ != 0 && t.channel_id != channel_id_) finding("Renew changed the channel");
      if (m.secure_channel_id != t.channel_id) finding("OPN response header channel");
      channel_id_ = t.channel_id;
      token_id_ = t.token_id;
      if (tracing())
        std::fprintf(stderr, "  #%u OPN channel %u token %u\n", m.request_id, channel_id_,
                     token_id_);
      return;
    }
    auto r = decode_response(byte_span(m.body));
    if (!r) finding("undecodable response", r.error().reason);
    const uint32_t got = binary_encoding_id(*r);
    if (tracing()) {
      const char* type_name = message_type_name(got);
      std::fprintf(stderr, "  #%u %s %s\n", m.request_id, type_name ? type_name : "?",
                   to_string(response_header(*r).service_result).c_str());
    }
    if (!raw_sent_) {
      auto it = sent_types_.find(m.request_id);
      if (it != sent_types_.end() && got != service_fault_id &&
          got != response_type_for(it->second))
        finding("response type does not match the request",
                std::to_string(it->second) + " -> " + std::to_string(got));
    }
    if (got == service_fault_id && !response_header(*r).service_result.is_bad())
      finding("a ServiceFault that is not Bad");
    if (auto* cs = std::get_if<CreateSessionResponse>(&*r)) auth_ = cs->authentication_token;
    if (m.request_id == probe_id_)
      if (auto* rr = std::get_if<ReadResponse>(&*r))
        probe_ok_ = rr->results.size() == 1 && rr->results[0].value &&
                    rr->results[0].value->get_if<int32_t>() &&
                    *rr->results[0].value->get_if<int32_t>() == 42;
    if (auto* sub = std::get_if<CreateSubscriptionResponse>(&*r))
      subscription_id_ = sub->subscription_id;
    if (auto* mi = std::get_if<CreateMonitoredItemsResponse>(&*r))
      for (const auto& res : mi->results)
        if (res.status_code.is_good()) item_id_ = res.monitored_item_id;
    if (auto* p = std::get_if<PublishResponse>(&*r))
      if (!p->notification_message.notification_data.empty())
        notification_sequence_ = p->notification_message.sequence_number;
  }

  uint16_t port_;
  uint8_t mode_;
  int fd_ = -1;
  HelloMessage hel_;
  bool hel_sent_ = false;
  bool acked_ = false;
  bool eof_ = false;
  bool err_seen_ = false;
  bool raw_sent_ = false;
  bool send_failed_ = false;
  std::string err_reason_;
  frame_splitter splitter_{16u << 20};
  chunk_assembler in_{assembler_limits{0, 0, 1u << 20}};
  std::optional<uint32_t> server_seq_;
  sequence_generator seq_{1};
  uint32_t next_request_id_ = 1;
  uint32_t channel_id_ = 0;
  uint32_t token_id_ = 0;
  NodeId auth_;
  uint32_t subscription_id_ = 0;
  uint32_t item_id_ = 0;
  uint32_t notification_sequence_ = 0;
  std::set<uint32_t> sent_ids_;
  std::map<uint32_t, uint32_t> sent_types_; ///< RequestId -> request TypeId
  std::set<uint32_t> replied_;
  uint32_t poison_id_ = 0;        ///< RequestId of the first record that must be fatal
  bool poison_checkable_ = false; ///< no raw bytes or CLO before it (those may end it first)
  bool clo_sent_ = false;
  bool secure_sent_ = false; ///< a chunk with our sequence numbers went out
  uint32_t probe_id_ = 0;
  bool probe_ok_ = false;
};

} // namespace

void run_one(const uint8_t* data, size_t size) {
  static uint64_t runs = 0;
  harness& h = the_harness();
  const uint8_t m = size ? data[0] : 0;
  const byte_span rest = size ? byte_span(data + 1, size - 1) : byte_span();
  const auto started = steady::now();
  {
    client c(h.port, m);
    const uint8_t prelude = m & 3;
    if (prelude >= mode::prelude_hello) c.hello();
    if (prelude >= mode::prelude_open && !c.gone()) c.open();
    if (prelude >= mode::prelude_session && !c.gone()) c.session();
    if (!c.gone()) {
      if (m & mode::records)
        c.records(rest);
      else
        c.raw(rest);
    }
    c.finish();
  }
  if (tracing())
    std::fprintf(stderr, "  input of %zu bytes, mode 0x%02x: %lld ms\n", size, m,
                 static_cast<long long>(
                     std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - started)
                         .count()));
  if (++runs % 64 == 0) {
    if (!server_serves_a_session()) finding("a new session cannot read any more");
    if (!connections_drain()) finding("connections stay open after their peers left");
  }
}

bool server_serves_a_session() {
  harness& h = the_harness();
  // Inputs may fill the session table (BadTooManySessions); their sessions expire in 500 ms.
  for (int attempt = 0; attempt < 3; ++attempt) {
    client c(h.port, mode::prelude_session);
    c.hello(); // these abort when the server does not answer
    c.open();
    c.session();
    if (!c.has_session()) {
      c.finish();
      std::this_thread::sleep_for(std::chrono::milliseconds(600));
      continue;
    }
    const bool ok = c.read_count();
    c.finish();
    return ok;
  }
  return false;
}

bool connections_drain() {
  harness& h = the_harness();
  const auto deadline = steady::now() + reply_wait;
  while (h.server->connection_count() != 0) {
    if (steady::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

} // namespace tandem::opcua::fuzz_server
