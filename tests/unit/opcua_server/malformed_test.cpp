// Malformed input to the server face, each case with the exact protocol answer (FACTS §1, §4;
// transports/opcua/server/README.md, Behaviour): fatal framing and channel errors get ERR and a
// close of that connection only; errors inside a readable request get a ServiceFault and the
// channel stays open. In every case a second, healthy session on the same server keeps working.

#include <chrono>
#include <thread>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TANDEM_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TANDEM_TEST_ASAN 1
#endif
#if TANDEM_TEST_ASAN
#include <sanitizer/allocator_interface.h>
#else
#include <malloc.h>
#endif

#include "server_fixture.hpp"

using namespace tandem::opcua;
using namespace tandem::opcua::test;
using namespace std::chrono_literals;

namespace {

ReadRequest read_of(std::vector<NodeId> ids) {
  ReadRequest r;
  for (auto& id : ids) {
    ReadValueId v;
    v.node_id = id;
    r.nodes_to_read.push_back(v);
  }
  return r;
}

std::vector<uint8_t> encoded(const Request& r) {
  std::vector<uint8_t> body;
  EXPECT_TRUE(encode_request(r, body).ok());
  return body;
}

/// A Read of ServiceLevel and of an unknown node whose string id pads the body to `size` bytes.
std::vector<uint8_t> padded_read(const NodeId& auth, uint32_t handle, size_t size) {
  ReadRequest r = read_of({NodeId(2267), NodeId(1, String(""))});
  r.request_header.authentication_token = auth;
  r.request_header.request_handle = handle;
  const size_t base = encoded(r).size();
  EXPECT_LE(base, size);
  r.nodes_to_read[1].node_id = NodeId(1, String(std::string(size - base, 'p')));
  auto body = encoded(r);
  EXPECT_EQ(body.size(), size);
  return body;
}

class server_malformed : public server_fixture {
protected:
  void SetUp() override {
    healthy = ready_client();
    expect_healthy();
  }

  /// The other session reads Sim.Counter (42) and ServiceLevel on its own connection.
  void expect_healthy() { expect_healthy(*healthy); }
  static void expect_healthy(raw_client& c) {
    auto r = c.call(read_of({NodeId(2267), NodeId(1, String("Sim.Counter"))}));
    ASSERT_TRUE(r.ok()) << r.error().reason;
    auto* rr = std::get_if<ReadResponse>(&*r);
    ASSERT_NE(rr, nullptr) << to_string(response_header(*r).service_result);
    ASSERT_EQ(rr->results.size(), 2u);
    ASSERT_TRUE(rr->results[1].value.has_value());
    const int32_t* v = rr->results[1].value->get_if<int32_t>();
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(*v, 42);
  }

  /// One chunk with the given headers and the client's next sequence number (or `seq`).
  static std::vector<uint8_t> chunk(raw_client& c, MessageType type, ChunkType ct, uint32_t channel,
                                    uint32_t token, uint32_t request_id,
                                    const std::vector<uint8_t>& body,
                                    std::optional<uint32_t> seq = std::nullopt) {
    ChunkContext ctx{type, channel, token, {}, request_id};
    std::vector<uint8_t> out;
    EXPECT_TRUE(
        encode_secure_chunk(ctx, ct, seq ? *seq : c.out().sequence().next(), byte_span(body), out)
            .ok());
    return out;
  }

  /// ERR with `code`, then the server closes; the server forgets the connection.
  static void expect_err_and_close(raw_client& c, StatusCode code) {
    auto err = c.expect_error();
    ASSERT_TRUE(err) << "no ERR";
    EXPECT_EQ(err->error.code(), code.code()) << to_string(err->error) << " " << err->reason.str();
    EXPECT_TRUE(c.closed_by_peer());
  }

  /// Waits until the server has `n` open connections (it forgets a closed one right after).
  bool connections_settle(size_t n, std::shared_ptr<server_endpoint> s = nullptr) {
    if (!s) s = server;
    for (int i = 0; i < 200; ++i) {
      if (s->connection_count() == n) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }

  std::unique_ptr<raw_client> healthy;
};

// -- fatal: ERR + close ---------------------------------------------------------------------------

TEST_F(server_malformed, a_connection_message_type_on_an_open_channel_gets_err_type_invalid) {
  for (const char* type : {"ACK", "ERR", "RHE", "XYZ"}) {
    SCOPED_TRACE(type);
    auto c = ready_client();
    std::vector<uint8_t> bytes{
        uint8_t(type[0]), uint8_t(type[1]), uint8_t(type[2]), 'F', 28, 0, 0, 0};
    bytes.resize(28, 0);
    c->send(bytes);
    expect_err_and_close(*c, status::BadTcpMessageTypeInvalid);
    expect_healthy();
  }
  EXPECT_TRUE(connections_settle(1));
}

TEST_F(server_malformed, an_unknown_chunk_type_gets_err_type_invalid) {
  auto c = ready_client();
  auto bytes = chunk(*c, MessageType::Message, ChunkType::Final, c->channel_id, c->token_id, 90,
                     encoded(read_of({NodeId(2267)})));
  bytes[3] = 'X';
  c->send(bytes);
  expect_err_and_close(*c, status::BadTcpMessageTypeInvalid);
  expect_healthy();
}

TEST_F(server_malformed, a_chunk_larger_than_the_negotiated_buffer_gets_err_message_too_large) {
  raw_client c(port);
  auto ack = c.hello(url(), 8192, 8192);
  ASSERT_TRUE(ack);
  ASSERT_EQ(ack->receive_buffer_size, 8192u);
  ASSERT_TRUE(c.open().ok());
  c.session();
  // A complete, valid Read in one chunk of 8193 bytes: one byte over the ACK's ReceiveBufferSize.
  auto body = padded_read(c.auth, 91, 8193 - 24);
  auto bytes = chunk(c, MessageType::Message, ChunkType::Final, c.channel_id, c.token_id, 91, body);
  ASSERT_EQ(bytes.size(), 8193u);
  c.send(bytes);
  expect_err_and_close(c, status::BadTcpMessageTooLarge);
  expect_healthy();
}

TEST_F(server_malformed, a_chunk_of_exactly_the_negotiated_buffer_is_accepted) {
  raw_client c(port);
  ASSERT_TRUE(c.hello(url(), 8192, 8192));
  ASSERT_TRUE(c.open().ok());
  c.session();
  auto body = padded_read(c.auth, 92, 8192 - 24);
  auto bytes = chunk(c, MessageType::Message, ChunkType::Final, c.channel_id, c.token_id, 92, body);
  ASSERT_EQ(bytes.size(), 8192u);
  c.send(bytes);
  auto m = c.read_message();
  ASSERT_TRUE(m.ok()) << m.error().reason;
  auto resp = decode_response(byte_span(m->body));
  ASSERT_TRUE(resp.ok());
  auto* rr = std::get_if<ReadResponse>(&*resp);
  ASSERT_NE(rr, nullptr);
  ASSERT_EQ(rr->results.size(), 2u);
  EXPECT_EQ(rr->results[1].status_or_good().code(), status::BadNodeIdUnknown.code());
  expect_healthy();
}

TEST_F(server_malformed, a_sequence_number_gap_gets_err_sequence_number_invalid) {
  auto c = ready_client();
  c->out().sequence().next(); // skip one number
  c->send_request(read_of({NodeId(2267)}));
  expect_err_and_close(*c, status::BadSequenceNumberInvalid);
  expect_healthy();
}

TEST_F(server_malformed, a_repeated_sequence_number_gets_err_sequence_number_invalid) {
  auto c = ready_client();
  ASSERT_FALSE(c->sequence_numbers.empty());
  const uint32_t next = c->out().sequence().peek();
  auto body = encoded(read_of({NodeId(2267)}));
  auto first =
      chunk(*c, MessageType::Message, ChunkType::Final, c->channel_id, c->token_id, 93, body, next);
  auto replay =
      chunk(*c, MessageType::Message, ChunkType::Final, c->channel_id, c->token_id, 94, body, next);
  first.insert(first.end(), replay.begin(), replay.end());
  c->send(first);
  auto m = c->read_message(); // the first one is answered (without a session: a ServiceFault)
  ASSERT_TRUE(m.ok());
  expect_err_and_close(*c, status::BadSequenceNumberInvalid);
  expect_healthy();
}

TEST_F(server_malformed, out_of_order_sequence_numbers_get_err_sequence_number_invalid) {
  auto c = ready_client();
  const uint32_t next = c->out().sequence().peek();
  auto body = encoded(read_of({NodeId(2267)}));
  auto later = chunk(*c, MessageType::Message, ChunkType::Final, c->channel_id, c->token_id, 95,
                     body, next + 1);
  auto earlier =
      chunk(*c, MessageType::Message, ChunkType::Final, c->channel_id, c->token_id, 96, body, next);
  later.insert(later.end(), earlier.begin(), earlier.end());
  c->send(later);
  expect_err_and_close(*c, status::BadSequenceNumberInvalid);
  expect_healthy();
}

TEST_F(server_malformed, another_connections_channel_id_gets_err_channel_id_invalid) {
  auto c = ready_client();
  ASSERT_NE(c->channel_id, healthy->channel_id);
  c->channel_id = healthy->channel_id; // injecting into the healthy client's channel
  c->send_request(read_of({NodeId(2267)}));
  expect_err_and_close(*c, status::BadSecureChannelIdInvalid);
  expect_healthy();
}

TEST_F(server_malformed, an_unknown_token_id_gets_err_token_unknown) {
  for (uint32_t token : {0u, 2u, 0xFFFFFFFFu}) {
    SCOPED_TRACE(token);
    auto c = ready_client();
    c->send_request(read_of({NodeId(2267)}), token);
    expect_err_and_close(*c, status::BadSecureChannelTokenUnknown);
    expect_healthy();
  }
}

TEST_F(server_malformed, a_close_with_an_unknown_token_gets_err_token_unknown) {
  auto c = ready_client();
  std::vector<uint8_t> body;
  ASSERT_TRUE(encode_message(CloseSecureChannelRequest{}, body).ok());
  c->send(
      chunk(*c, MessageType::Close, ChunkType::Final, c->channel_id, c->token_id + 5, 97, body));
  expect_err_and_close(*c, status::BadSecureChannelTokenUnknown);
  expect_healthy();
}

TEST_F(server_malformed, open_before_hello_gets_err_type_invalid) {
  raw_client c(port);
  OpenSecureChannelRequest req;
  std::vector<uint8_t> body;
  ASSERT_TRUE(encode_message(req, body).ok());
  ChunkContext ctx;
  ctx.type = MessageType::Open;
  ctx.request_id = 1;
  std::vector<uint8_t> out;
  ASSERT_TRUE(encode_secure_chunk(ctx, ChunkType::Final, 1, byte_span(body), out).ok());
  c.send(out);
  expect_err_and_close(c, status::BadTcpMessageTypeInvalid);
  expect_healthy();
}

TEST_F(server_malformed, a_second_hello_gets_err_type_invalid) {
  auto c = ready_client();
  HelloMessage hel;
  hel.endpoint_url = String(url());
  c->send(*encode_hello(hel));
  expect_err_and_close(*c, status::BadTcpMessageTypeInvalid);
  expect_healthy();
}

TEST_F(server_malformed, a_second_open_issue_gets_err_type_invalid) {
  auto c = ready_client();
  auto r = c->open(SecurityTokenRequestType::Issue);
  EXPECT_FALSE(r.ok());
  auto err = decode_error(byte_span(c->last_chunk()));
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(err->error.code(), status::BadTcpMessageTypeInvalid.code());
  EXPECT_TRUE(c->closed_by_peer());
  expect_healthy();
}

TEST_F(server_malformed, a_renew_for_another_channel_gets_err_channel_id_invalid) {
  auto c = ready_client();
  c->channel_id = healthy->channel_id;
  auto r = c->open(SecurityTokenRequestType::Renew);
  EXPECT_FALSE(r.ok());
  auto err = decode_error(byte_span(c->last_chunk()));
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(err->error.code(), status::BadSecureChannelIdInvalid.code());
  EXPECT_TRUE(c->closed_by_peer());
  expect_healthy();
}

TEST_F(server_malformed, a_chunk_continuing_a_message_of_another_type_gets_err_type_invalid) {
  auto c = ready_client();
  auto body = encoded(read_of({NodeId(2267)}));
  auto bytes = chunk(*c, MessageType::Message, ChunkType::Intermediate, c->channel_id, c->token_id,
                     98, body);
  std::vector<uint8_t> clo;
  ASSERT_TRUE(encode_message(CloseSecureChannelRequest{}, clo).ok());
  auto tail = chunk(*c, MessageType::Close, ChunkType::Final, c->channel_id, c->token_id, 98, clo);
  bytes.insert(bytes.end(), tail.begin(), tail.end());
  c->send(bytes);
  expect_err_and_close(*c, status::BadTcpMessageTypeInvalid);
  expect_healthy();
}

TEST_F(server_malformed, too_many_partial_messages_get_err_not_enough_resources) {
  auto c = ready_client();
  auto body = encoded(read_of({NodeId(2267)}));
  std::vector<uint8_t> bytes;
  for (uint32_t id = 100; id < 105; ++id) { // 5 open messages, 4 allowed
    auto part = chunk(*c, MessageType::Message, ChunkType::Intermediate, c->channel_id, c->token_id,
                      id, body);
    bytes.insert(bytes.end(), part.begin(), part.end());
  }
  c->send(bytes);
  expect_err_and_close(*c, status::BadTcpNotEnoughResources);
  expect_healthy();
}

TEST_F(server_malformed, a_secure_chunk_shorter_than_its_headers_gets_err_decoding_error) {
  auto c = ready_client();
  // MSG F of 16 bytes: channel id and token, no sequence header.
  std::vector<uint8_t> bytes{'M', 'S', 'G', 'F', 16, 0, 0, 0};
  for (uint32_t v : {c->channel_id, c->token_id})
    for (int k = 0; k < 4; ++k)
      bytes.push_back(static_cast<uint8_t>(v >> (8 * k)));
  c->send(bytes);
  expect_err_and_close(*c, status::BadDecodingError);
  expect_healthy();
}

TEST_F(server_malformed, eof_in_the_middle_of_a_message_closes_that_connection_only) {
  {
    auto c = ready_client();
    auto bytes = chunk(*c, MessageType::Message, ChunkType::Final, c->channel_id, c->token_id, 99,
                       encoded(read_of({NodeId(2267)})));
    bytes.resize(bytes.size() / 2);
    c->send(bytes);
  } // closed half-way through the chunk
  EXPECT_TRUE(connections_settle(1));
  expect_healthy();
}

// Every chunk carries the channel id and token (OPC 10000-6 §6.7.2) and is checked on its own:
// an intermediate chunk with a wrong channel id or token, or sent before OPN, gets ERR at once
// instead of being stored until a final chunk comes (found by the server fuzzing work; fixed).
TEST_F(server_malformed, an_intermediate_chunk_with_an_unknown_token_gets_err_at_once) {
  auto c = ready_client();
  auto part = chunk(*c, MessageType::Message, ChunkType::Intermediate, c->channel_id,
                    c->token_id + 7, 140, encoded(read_of({NodeId(2267)})));
  c->send(part);
  // The next, valid request must not be served on a channel that just sent a forged chunk.
  c->send_request(read_of({NodeId(2267)}));
  expect_err_and_close(*c, status::BadSecureChannelTokenUnknown);
  expect_healthy();
}

TEST_F(server_malformed, an_intermediate_chunk_for_another_channel_gets_err_at_once) {
  auto c = ready_client();
  auto part = chunk(*c, MessageType::Message, ChunkType::Intermediate, healthy->channel_id,
                    c->token_id, 141, encoded(read_of({NodeId(2267)})));
  c->send(part);
  c->send_request(read_of({NodeId(2267)}));
  expect_err_and_close(*c, status::BadSecureChannelIdInvalid);
  expect_healthy();
}

TEST_F(server_malformed, an_intermediate_chunk_before_open_gets_err_at_once) {
  raw_client c(port);
  ASSERT_TRUE(c.hello(url()));
  std::vector<uint8_t> body(60000, 'z'); // buffered by the server until a final chunk comes
  c.send(chunk(c, MessageType::Message, ChunkType::Intermediate, 12345, 1, 142, body));
  expect_err_and_close(c, status::BadTcpMessageTypeInvalid);
  expect_healthy();
}

// A subscription moved to another session and back before the old session's timer fired used to
// keep both timers (every round trip added one, so cycles ran that many times per interval);
// found by the server fuzzing work, fixed with a timer generation per subscription.
TEST_F(server_malformed, moving_a_subscription_back_and_forth_keeps_one_publishing_timer) {
  auto c = ready_client();
  const NodeId a = c->auth;
  CreateSessionRequest cs;
  cs.requested_session_timeout = 60000;
  cs.client_description.application_uri = String("urn:tandem:test"); // the same application
  auto created = c->call(cs);
  ASSERT_TRUE(created.ok());
  auto* csr = std::get_if<CreateSessionResponse>(&*created);
  ASSERT_NE(csr, nullptr);
  const NodeId b = csr->authentication_token;
  c->auth = b;
  c->activate(); // two sessions on one channel
  c->auth = a;
  CreateSubscriptionRequest sub;
  sub.requested_publishing_interval = 300;
  sub.requested_max_keep_alive_count = 1; // a keep-alive every cycle
  sub.requested_lifetime_count = 100;
  auto r = c->call(sub);
  ASSERT_TRUE(r.ok());
  auto* sr = std::get_if<CreateSubscriptionResponse>(&*r);
  ASSERT_NE(sr, nullptr);
  TransferSubscriptionsRequest t;
  t.subscription_ids.push_back(sr->subscription_id);
  for (int i = 0; i < 10; ++i) { // ends in session a, well within the first 300 ms
    c->auth = i % 2 == 0 ? b : a;
    auto moved = c->call(t);
    ASSERT_TRUE(moved.ok());
    auto* tr = std::get_if<TransferSubscriptionsResponse>(&*moved);
    ASSERT_NE(tr, nullptr);
    ASSERT_TRUE(tr->results.at(0).status_code.is_good());
  }
  c->auth = a;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 4; ++i)
    c->send_request(PublishRequest{});
  for (int i = 0; i < 4; ++i) {
    auto m = c->read_message();
    ASSERT_TRUE(m.ok());
    auto p = decode_response(byte_span(m->body));
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE(std::holds_alternative<PublishResponse>(*p))
        << to_string(response_header(*p).service_result);
  }
  // One timer: four keep-alives need at least three more intervals after the first.
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  EXPECT_GE(took.count(), 600) << "four keep-alives of a 300 ms subscription in " << took.count()
                               << " ms";
  expect_healthy();
}

/// Heap bytes in use in this process (the server runs in it); ASan's quarantine not counted.
size_t allocated_bytes() {
#if TANDEM_TEST_ASAN
  return __sanitizer_get_current_allocated_bytes();
#else
  return mallinfo2().uordblks;
#endif
}

// A peer that sends requests and never reads the responses must not make the server hold them
// all. The server stops reading at a 4 MiB write backlog, but only between reads: the requests
// already in one read buffer (up to 64 KiB, hundreds of small Reads here, each answered with
// 160 kB) are all answered first, so the backlog reaches tens of MB. Enable when on_bytes() stops
// at the backlog too (see the report of the server fuzzing work).
TEST_F(server_malformed, a_peer_that_does_not_read_cannot_grow_the_servers_write_queue) {
  auto c = ready_client();
  WriteRequest w;
  WriteValue wv;
  wv.node_id = NodeId(1, String("Sim.Text"));
  wv.value = DataValue(Variant(String(std::string(40000, 't'))));
  w.nodes_to_write.push_back(wv);
  ASSERT_TRUE(fault_status(c->call(w)).is_good());
  const size_t before = allocated_bytes();
  // 600 Reads of 4 x 40 kB: about 80 kB of requests, 96 MB of responses nobody reads.
  std::vector<uint8_t> bytes;
  const NodeId text(1, String("Sim.Text"));
  ReadRequest r = read_of({text, text, text, text});
  r.request_header.authentication_token = c->auth;
  auto body = encoded(r);
  for (uint32_t id = 1000; id < 1600; ++id) {
    auto ch =
        chunk(*c, MessageType::Message, ChunkType::Final, c->channel_id, c->token_id, id, body);
    bytes.insert(bytes.end(), ch.begin(), ch.end());
  }
  c->send(bytes);
  std::this_thread::sleep_for(1500ms);
  const size_t now = allocated_bytes();
  const size_t grown = now - std::min(before, now);
  // The 4 MiB backlog, plus the response being encoded.
  EXPECT_LT(grown, size_t{8} << 20) << "the server holds " << (grown >> 20) << " MB more";
  expect_healthy();
}

// -- limits of the message size -------------------------------------------------------------------

class server_malformed_limits : public server_malformed {
protected:
  void SetUp() override {
    server_malformed::SetUp();
    server_options o;
    o.receive_buffer_size = 8192;
    o.max_message_size = 16384;
    o.max_chunk_count = 3;
    limited = server_endpoint::create(io, o);
    limited->add_endpoint("/sim", space);
    auto p = limited->start();
    ASSERT_TRUE(p.ok());
    limited_port = *p;
    other = std::make_unique<raw_client>(limited_port);
    auto ack = other->hello(limited_url(), 8192, 8192);
    ASSERT_TRUE(ack);
    EXPECT_EQ(ack->max_message_size, 16384u);
    EXPECT_EQ(ack->max_chunk_count, 3u);
    ASSERT_TRUE(other->open().ok());
    other->session();
    expect_healthy(*other);
  }
  void TearDown() override { limited->stop(); }

  std::string limited_url() const {
    return "opc.tcp://127.0.0.1:" + std::to_string(limited_port) + "/sim";
  }
  std::unique_ptr<raw_client> limited_client() {
    auto c = std::make_unique<raw_client>(limited_port);
    EXPECT_TRUE(c->hello(limited_url(), 8192, 8192));
    EXPECT_TRUE(c->open().ok());
    c->session();
    return c;
  }

  std::shared_ptr<server_endpoint> limited;
  uint16_t limited_port = 0;
  std::unique_ptr<raw_client> other; ///< the healthy session on the limited server
};

TEST_F(server_malformed_limits, more_chunks_than_max_chunk_count_get_err_message_too_large) {
  auto c = limited_client();
  ReadRequest r = read_of({NodeId(2267)});
  r.request_header.authentication_token = c->auth;
  auto body = encoded(r);
  std::vector<uint8_t> bytes;
  const size_t piece = body.size() / 4 + 1;
  for (size_t pos = 0; pos < body.size(); pos += piece) { // 4 chunks, 3 allowed
    std::vector<uint8_t> part(body.begin() + static_cast<long>(pos),
                              body.begin() + static_cast<long>(std::min(body.size(), pos + piece)));
    const bool last = pos + piece >= body.size();
    auto ch = chunk(*c, MessageType::Message, last ? ChunkType::Final : ChunkType::Intermediate,
                    c->channel_id, c->token_id, 120, part);
    bytes.insert(bytes.end(), ch.begin(), ch.end());
  }
  c->send(bytes);
  expect_err_and_close(*c, status::BadTcpMessageTooLarge);
  expect_healthy(*other);
  expect_healthy();
}

TEST_F(server_malformed_limits, a_message_above_max_message_size_gets_err_message_too_large) {
  auto c = limited_client();
  WriteRequest w;
  WriteValue wv;
  wv.node_id = NodeId(1, String("Sim.Text"));
  wv.value = DataValue(Variant(String(std::string(20000, 'x')))); // 3 chunks, > 16384 bytes
  w.nodes_to_write.push_back(wv);
  c->out().set_limits(chunk_limits{8192, 0, 0}); // ignore the ACK's limits
  c->send_request(w);
  expect_err_and_close(*c, status::BadTcpMessageTooLarge);
  expect_healthy(*other);
  expect_healthy();
}

TEST_F(server_malformed_limits, a_message_of_exactly_the_limits_is_accepted) {
  auto c = limited_client();
  WriteRequest w;
  WriteValue wv;
  wv.node_id = NodeId(1, String("Sim.Text"));
  wv.value = DataValue(Variant(String("x")));
  w.nodes_to_write.push_back(wv);
  w.request_header.authentication_token = c->auth;
  const size_t base = encoded(w).size();
  w.nodes_to_write[0].value = DataValue(Variant(String(std::string(16384 - base + 1, 'x'))));
  ASSERT_EQ(encoded(w).size(), 16384u);
  c->out().set_limits(chunk_limits{8192, 0, 0}); // 3 chunks
  auto r = c->call(w);
  ASSERT_TRUE(r.ok()) << r.error().reason;
  auto* wr = std::get_if<WriteResponse>(&*r);
  ASSERT_NE(wr, nullptr);
  ASSERT_EQ(wr->results.size(), 1u);
  EXPECT_TRUE(wr->results[0].is_good());
  EXPECT_EQ(c->chunk_types.size(), 4u); // OPN, CreateSession, ActivateSession, Write
  expect_healthy(*other);
}

TEST_F(server_malformed, a_response_above_the_hello_max_message_size_is_a_service_fault) {
  raw_client c(port);
  HelloMessage hel; // raw_client::hello has no MaxMessageSize parameter
  hel.max_message_size = 8192;
  hel.endpoint_url = String(url());
  c.send(*encode_hello(hel));
  auto ack_chunk = c.read_chunk();
  ASSERT_TRUE(ack_chunk);
  ASSERT_TRUE(decode_acknowledge(byte_span(*ack_chunk)).ok());
  ASSERT_TRUE(c.open().ok());
  c.session();
  WriteRequest w;
  WriteValue wv;
  wv.node_id = NodeId(1, String("Sim.Text"));
  wv.value = DataValue(Variant(String(std::string(5000, 'y'))));
  w.nodes_to_write.push_back(wv);
  ASSERT_TRUE(fault_status(c.call(w)).is_good());
  auto r = c.call(read_of({NodeId(1, String("Sim.Text")), NodeId(1, String("Sim.Text"))}));
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(std::holds_alternative<ServiceFault>(*r));
  EXPECT_EQ(fault_status(r).code(), status::BadResponseTooLarge.code());
  EXPECT_EQ(response_header(*r).request_handle, c.request_ids.back());
  // The channel stays open.
  auto again = c.call(read_of({NodeId(1, String("Sim.Text"))}));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(std::holds_alternative<ReadResponse>(*again));
  expect_healthy();
}

// -- not fatal: ServiceFault, channel open --------------------------------------------------------

/// Sends `body` as one MSG and returns the decoded response.
result<Response> call_body(raw_client& c, const std::vector<uint8_t>& body, uint32_t request_id) {
  std::vector<uint8_t> out;
  ChunkContext ctx{MessageType::Message, c.channel_id, c.token_id, {}, request_id};
  EXPECT_TRUE(c.out().encode(ctx, byte_span(body), out).ok());
  c.send(out);
  auto m = c.read_message();
  if (!m) return m.error();
  EXPECT_EQ(m->request_id, request_id);
  return decode_response(byte_span(m->body));
}

TEST_F(server_malformed, unknown_service_type_ids_get_service_unsupported_and_the_channel_stays) {
  auto c = ready_client();
  // i=9999 (nothing), i=634 (ReadResponse, not a request), i=0 (the null NodeId).
  for (uint32_t id : {9999u, 634u, 0u}) {
    SCOPED_TRACE(id);
    std::vector<uint8_t> body;
    writer w(body);
    encode(w, NodeId(id));
    RequestHeader h;
    h.authentication_token = c->auth;
    h.request_handle = 200 + id;
    encode(w, h);
    auto r = call_body(*c, body, 300);
    ASSERT_TRUE(r.ok()) << r.error().reason;
    ASSERT_TRUE(std::holds_alternative<ServiceFault>(*r));
    EXPECT_EQ(fault_status(r).code(), status::BadServiceUnsupported.code());
    EXPECT_EQ(response_header(*r).request_handle, 200 + id);
  }
  EXPECT_TRUE(fault_status(c->call(read_of({NodeId(2267)}))).is_good());
  expect_healthy();
}

TEST_F(server_malformed, a_body_that_fails_to_decode_gets_decoding_error_and_the_channel_stays) {
  auto c = ready_client();
  ReadRequest r = read_of({NodeId(2267)});
  r.request_header.authentication_token = c->auth;
  r.request_header.request_handle = 61;
  auto good = encoded(r);
  std::vector<std::vector<uint8_t>> bad;
  bad.push_back(std::vector<uint8_t>(good.begin(), good.end() - 2)); // truncated
  bad.push_back(good);
  bad.back().push_back(0); // a trailing byte
  bad.push_back(good);
  // The NodeId of the ReadValueId (FourByte i=2267, then attributeId, indexRange and
  // dataEncoding: 18 bytes from the end) with an encoding byte that is no NodeId form.
  bad.back()[good.size() - 18] = 0x3F;
  // nodesToRead announcing 2^31-1 elements: the count is the last field of an empty Read.
  ReadRequest empty;
  empty.request_header = r.request_header;
  const size_t count_at = encoded(empty).size() - 4;
  bad.push_back(good);
  for (size_t k = 0; k < 4; ++k)
    bad.back()[count_at + k] = k == 3 ? 0x7F : 0xFF;
  for (size_t k = 0; k < bad.size(); ++k) {
    SCOPED_TRACE(k);
    auto resp = call_body(*c, bad[k], 400 + static_cast<uint32_t>(k));
    ASSERT_TRUE(resp.ok()) << resp.error().reason;
    ASSERT_TRUE(std::holds_alternative<ServiceFault>(*resp));
    EXPECT_EQ(fault_status(resp).code(), status::BadDecodingError.code());
    EXPECT_EQ(response_header(*resp).request_handle, 61u);
  }
  EXPECT_TRUE(fault_status(c->call(read_of({NodeId(2267)}))).is_good());
  expect_healthy();
}

TEST_F(server_malformed, a_wrong_authentication_token_gets_session_id_invalid) {
  auto c = ready_client();
  const NodeId real = c->auth;
  const std::vector<NodeId> wrong{
      NodeId(0, ByteString(std::vector<uint8_t>(32, 7))), // unknown token
      NodeId(),                                           // null
      NodeId(1, *real.opaque()),                          // right bytes, wrong namespace
      NodeId(0, String("not a token")),                   // wrong identifier type
  };
  for (const auto& w : wrong) {
    SCOPED_TRACE(w.to_string());
    c->auth = w;
    EXPECT_EQ(fault_status(c->call(read_of({NodeId(2267)}))).code(),
              status::BadSessionIdInvalid.code());
  }
  c->auth = real;
  EXPECT_TRUE(fault_status(c->call(read_of({NodeId(2267)}))).is_good());
  expect_healthy();
}

TEST_F(server_malformed, an_aborted_message_is_dropped_and_the_channel_stays) {
  auto c = ready_client();
  auto body = encoded(read_of({NodeId(2267)}));
  auto bytes = chunk(*c, MessageType::Message, ChunkType::Intermediate, c->channel_id, c->token_id,
                     130, body);
  std::vector<uint8_t> abort_body;
  {
    writer w(abort_body);
    encode(w, status::BadRequestCancelledByClient);
    encode(w, String("changed my mind"));
  }
  auto a = chunk(*c, MessageType::Message, ChunkType::Abort, c->channel_id, c->token_id, 130,
                 abort_body);
  bytes.insert(bytes.end(), a.begin(), a.end());
  c->send(bytes);
  // No answer for request 130; the next request is answered normally.
  auto r = c->call(read_of({NodeId(2267)}));
  ASSERT_TRUE(r.ok()) << r.error().reason;
  EXPECT_TRUE(std::holds_alternative<ReadResponse>(*r));
  EXPECT_NE(c->request_ids.back(), 130u);
  expect_healthy();
}

TEST_F(server_malformed, requests_of_a_closed_session_get_session_id_invalid) {
  auto c = ready_client();
  EXPECT_TRUE(fault_status(c->call(CloseSessionRequest{})).is_good());
  EXPECT_EQ(fault_status(c->call(read_of({NodeId(2267)}))).code(),
            status::BadSessionIdInvalid.code());
  EXPECT_EQ(fault_status(c->call(CloseSessionRequest{})).code(),
            status::BadSessionIdInvalid.code());
  expect_healthy();
}

} // namespace
