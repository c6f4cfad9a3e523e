#pragma once
// A server face on 127.0.0.1 port 0 serving an in-memory address space at /sim, and a raw-byte
// client that speaks UASC with the codec, for tests that need exact control over the bytes.

#include <future>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/time.h>

#include "transports/opcua/server/server.hpp"

namespace tandem::opcua::test {

/// A blocking loopback client speaking raw UASC (3 s read timeout).
class raw_client {
public:
  explicit raw_client(uint16_t port) {
    sock_.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    timeval tv{3, 0};
    ::setsockopt(sock_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  void send(const std::vector<uint8_t>& bytes) {
    boost::system::error_code ec;
    boost::asio::write(sock_, boost::asio::buffer(bytes), ec);
  }

  /// The next whole chunk, nullopt on EOF, error or timeout.
  std::optional<std::vector<uint8_t>> read_chunk() {
    std::vector<uint8_t> buf(8);
    boost::system::error_code ec;
    boost::asio::read(sock_, boost::asio::buffer(buf), ec);
    if (ec) return std::nullopt;
    uint32_t size =
        uint32_t{buf[4]} | uint32_t{buf[5]} << 8 | uint32_t{buf[6]} << 16 | uint32_t{buf[7]} << 24;
    if (size < 8 || size > (16u << 20)) return std::nullopt;
    buf.resize(size);
    boost::asio::read(sock_, boost::asio::buffer(buf.data() + 8, size - 8), ec);
    if (ec) return std::nullopt;
    return buf;
  }

  /// True when the server closed the connection (EOF before the timeout).
  bool closed_by_peer() {
    uint8_t b;
    boost::system::error_code ec;
    sock_.read_some(boost::asio::buffer(&b, 1), ec);
    return ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset;
  }

  /// Sends HEL; returns the ACK (nullopt when something else came).
  std::optional<AcknowledgeMessage> hello(const std::string& url, uint32_t receive = 65536,
                                          uint32_t send_size = 65536) {
    HelloMessage hel;
    hel.receive_buffer_size = receive;
    hel.send_buffer_size = send_size;
    hel.endpoint_url = String(url);
    send(*encode_hello(hel));
    auto c = read_chunk();
    if (!c) return std::nullopt;
    last_ = *c;
    auto ack = decode_acknowledge(byte_span(*c));
    if (!ack) return std::nullopt;
    out_.set_limits(chunk_limits{ack->receive_buffer_size, ack->max_message_size, 0});
    return *ack;
  }

  /// The ERR that must come next, then EOF.
  std::optional<ErrorMessage> expect_error() {
    auto c = read_chunk();
    if (!c) return std::nullopt;
    auto e = decode_error(byte_span(*c));
    if (!e) return std::nullopt;
    return *e;
  }

  result<OpenSecureChannelResponse>
  open(SecurityTokenRequestType type = SecurityTokenRequestType::Issue) {
    OpenSecureChannelRequest req;
    req.request_header.request_handle = next_id_;
    req.request_type = type;
    req.requested_lifetime = 600000;
    std::vector<uint8_t> body, out;
    (void)encode_message(req, body);
    ChunkContext ctx;
    ctx.type = MessageType::Open;
    ctx.secure_channel_id = type == SecurityTokenRequestType::Issue ? 0 : channel_id;
    ctx.request_id = next_id_++;
    (void)out_.encode(ctx, byte_span(body), out);
    send(out);
    auto m = read_message();
    if (!m) return m.error();
    auto resp = decode_message<OpenSecureChannelResponse>(byte_span(m->body), {}, 79);
    if (resp) {
      channel_id = resp->security_token.channel_id;
      token_id = resp->security_token.token_id;
    }
    return resp;
  }

  /// Sends a request with `token` (default: the current one) and the session's auth token.
  void send_request(Request req, std::optional<uint32_t> token = std::nullopt) {
    auto& h = request_header(req);
    h.request_handle = next_id_;
    h.authentication_token = auth;
    std::vector<uint8_t> body, out;
    (void)encode_request(req, body);
    ChunkContext ctx{MessageType::Message, channel_id, token ? *token : token_id, {}, next_id_++};
    (void)out_.encode(ctx, byte_span(body), out);
    send(out);
  }

  /// Reads chunks until a whole message (checks the server's sequence numbers).
  result<AssembledMessage> read_message() {
    for (;;) {
      auto c = read_chunk();
      if (!c) return error{status::BadConnectionClosed, "no chunk"};
      last_ = *c;
      auto sc = decode_secure_chunk(byte_span(*c));
      if (sc) {
        sequence_numbers.push_back(sc->sequence.sequence_number);
        request_ids.push_back(sc->sequence.request_id);
        chunk_types.push_back(sc->chunk_type);
      }
      auto ev = in_.add(byte_span(*c));
      if (!ev) return ev.error();
      if (auto* m = std::get_if<AssembledMessage>(&*ev)) return std::move(*m);
    }
  }

  result<Response> call(Request req, std::optional<uint32_t> token = std::nullopt) {
    send_request(std::move(req), token);
    auto m = read_message();
    if (!m) return m.error();
    return decode_response(byte_span(m->body));
  }

  /// CreateSession + ActivateSession (anonymous); auth is set.
  /// Creates and activates an anonymous session for the client application `client_uri`.
  void session(double timeout_ms = 60000, const std::string& client_uri = "urn:tandem:test",
               uint32_t max_response_size = 0) {
    CreateSessionRequest cs;
    cs.requested_session_timeout = timeout_ms;
    cs.max_response_message_size = max_response_size;
    cs.client_description.application_uri = String(client_uri);
    cs.client_nonce = ByteString(std::vector<uint8_t>(32, 1));
    auto r = call(cs);
    ASSERT_TRUE(r.ok());
    auto* csr = std::get_if<CreateSessionResponse>(&*r);
    ASSERT_NE(csr, nullptr);
    auth = csr->authentication_token;
    activate();
  }

  void activate() {
    ActivateSessionRequest as;
    AnonymousIdentityToken anon;
    anon.policy_id = String("anonymous");
    as.user_identity_token = *make_extension_object(anon);
    auto r = call(as);
    ASSERT_TRUE(r.ok());
    ASSERT_NE(std::get_if<ActivateSessionResponse>(&*r), nullptr);
  }

  chunker& out() { return out_; }
  const std::vector<uint8_t>& last_chunk() const { return last_; }

  uint32_t channel_id = 0;
  uint32_t token_id = 0;
  NodeId auth;
  std::vector<uint32_t> sequence_numbers;
  std::vector<uint32_t> request_ids;
  std::vector<ChunkType> chunk_types;

private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket sock_{io_};
  chunker out_;
  chunk_assembler in_{assembler_limits{0, 0, 4}};
  uint32_t next_id_ = 1;
  std::vector<uint8_t> last_;
};

/// The status of a ServiceFault (or Good when the response is something else).
inline StatusCode fault_status(const result<Response>& r) {
  if (!r) return r.code();
  return response_header(*r).service_result;
}

class server_fixture : public ::testing::Test {
protected:
  static server_options test_options() {
    server_options o;
    o.min_session_timeout_ms = 100;
    o.hello_timeout_ms = 1500;
    return o;
  }
  /// `s`: the space served at /sim (default: a plain memory_address_space).
  explicit server_fixture(server_options o = test_options(),
                          std::shared_ptr<memory_address_space> s = nullptr)
      : work_(boost::asio::make_work_guard(io)) {
    space = s ? std::move(s) : std::make_shared<memory_address_space>();
    space->add_folder(NodeId(1, String("Sim")), NodeId(85), {1, "Sim"});
    space->add_variable(NodeId(1, String("Sim.Counter")), NodeId(1, String("Sim")), {1, "Counter"},
                        Variant(int32_t{42}));
    space->add_variable(NodeId(1, String("Sim.Setpoint")), NodeId(1, String("Sim")),
                        {1, "Setpoint"}, Variant(1.5), true);
    space->add_variable(NodeId(1, String("Sim.Text")), NodeId(1, String("Sim")), {1, "Text"},
                        Variant(String("hello")), true);
    server = server_endpoint::create(io, o);
    server->add_endpoint("/sim", space);
    auto p = server->start();
    EXPECT_TRUE(p.ok());
    port = p.ok() ? *p : 0;
    for (int i = 0; i < 2; ++i)
      threads_.emplace_back([this] { io.run(); });
  }
  ~server_fixture() override {
    server->stop();
    work_.reset();
    io.stop();
    for (auto& t : threads_)
      t.join();
  }

  std::string url() const { return "opc.tcp://127.0.0.1:" + std::to_string(port) + "/sim"; }

  /// A raw client with an open channel and an activated session.
  std::unique_ptr<raw_client> ready_client(const std::string& client_uri = "urn:tandem:test") {
    auto c = std::make_unique<raw_client>(port);
    EXPECT_TRUE(c->hello(url()));
    EXPECT_TRUE(c->open().ok());
    c->session(60000, client_uri);
    return c;
  }

  boost::asio::io_context io;
  std::shared_ptr<memory_address_space> space;
  std::shared_ptr<server_endpoint> server;
  uint16_t port = 0;

private:
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
};

} // namespace tandem::opcua::test
