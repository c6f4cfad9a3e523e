// The server face's connection layer, driven with raw bytes: HEL/ACK limits, endpoint paths,
// OPN Issue/Renew, sequence numbers and RequestIds, chunking both ways, fatal errors (ERR +
// close) that leave other connections alone.

#include "server_fixture.hpp"

using namespace tandem::opcua;
using namespace tandem::opcua::test;

namespace {

using server_channel = server_fixture;

ReadRequest read_of(std::vector<NodeId> ids) {
  ReadRequest r;
  for (auto& id : ids) {
    ReadValueId v;
    v.node_id = id;
    r.nodes_to_read.push_back(v);
  }
  return r;
}

TEST_F(server_channel, hello_is_acknowledged_within_both_sides_limits) {
  raw_client c(port);
  auto ack = c.hello(url(), 8192, 16384);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->receive_buffer_size, 16384u); // <= HEL.SendBufferSize
  EXPECT_EQ(ack->send_buffer_size, 8192u);     // <= HEL.ReceiveBufferSize
  EXPECT_EQ(ack->protocol_version, 0u);
}

TEST_F(server_channel, unknown_endpoint_path_gets_err_endpoint_url_invalid_and_close) {
  raw_client c(port);
  EXPECT_FALSE(c.hello("opc.tcp://127.0.0.1:" + std::to_string(port) + "/nope"));
  auto err = decode_error(byte_span(c.last_chunk()));
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(err->error.code(), status::BadTcpEndpointUrlInvalid.code());
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(server_channel, tiny_hello_buffers_get_err_connection_rejected) {
  raw_client c(port);
  EXPECT_FALSE(c.hello(url(), 1024, 1024));
  auto err = decode_error(byte_span(c.last_chunk()));
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(err->error.code(), status::BadConnectionRejected.code());
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(server_channel, a_secure_message_before_hello_is_fatal) {
  raw_client c(port);
  c.send({'M', 'S', 'G', 'F', 24, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0});
  auto err = c.expect_error();
  ASSERT_TRUE(err);
  EXPECT_EQ(err->error.code(), status::BadTcpMessageTypeInvalid.code());
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(server_channel, a_peer_that_never_opens_a_channel_is_dropped) {
  raw_client silent(port);
  raw_client hello_only(port);
  ASSERT_TRUE(hello_only.hello(url()));
  auto opened = ready_client();
  std::this_thread::sleep_for(std::chrono::milliseconds(1800));
  EXPECT_TRUE(silent.closed_by_peer());
  EXPECT_TRUE(hello_only.closed_by_peer());
  EXPECT_TRUE(fault_status(opened->call(read_of({NodeId(2267)}))).is_good());
}

TEST_F(server_channel, oversized_chunk_gets_err_message_too_large) {
  raw_client c(port);
  ASSERT_TRUE(c.hello(url()));
  c.send({'M', 'S', 'G', 'F', 0, 0, 0, 1}); // 16 MiB chunk announced
  auto err = c.expect_error();
  ASSERT_TRUE(err);
  EXPECT_EQ(err->error.code(), status::BadTcpMessageTooLarge.code());
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(server_channel, garbage_message_type_gets_err_type_invalid) {
  raw_client c(port);
  c.send({'X', 'Y', 'Z', 'F', 8, 0, 0, 0});
  auto err = c.expect_error();
  ASSERT_TRUE(err);
  EXPECT_EQ(err->error.code(), status::BadTcpMessageTypeInvalid.code());
}

TEST_F(server_channel, open_assigns_a_channel_and_token_and_revises_the_lifetime) {
  raw_client c(port);
  ASSERT_TRUE(c.hello(url()));
  auto r = c.open();
  ASSERT_TRUE(r.ok()) << r.error().reason;
  EXPECT_NE(r->security_token.channel_id, 0u);
  EXPECT_NE(r->security_token.token_id, 0u);
  EXPECT_GT(r->security_token.revised_lifetime, 0u);
  EXPECT_EQ(r->response_header.request_handle, 1u);
  raw_client d(port);
  ASSERT_TRUE(d.hello(url()));
  auto r2 = d.open();
  ASSERT_TRUE(r2.ok());
  EXPECT_NE(r2->security_token.channel_id, r->security_token.channel_id);
}

TEST_F(server_channel, responses_carry_our_own_sequence_numbers_from_one_and_echo_request_ids) {
  auto c = ready_client();
  auto r = c->call(read_of({NodeId(2267)}));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(c->sequence_numbers.size(), 4u); // OPN, CreateSession, ActivateSession, Read
  for (size_t i = 0; i < c->sequence_numbers.size(); ++i) {
    EXPECT_EQ(c->sequence_numbers[i], i + 1);
    EXPECT_EQ(c->request_ids[i], i + 1);
  }
}

TEST_F(server_channel, renewal_issues_a_new_token_and_both_tokens_are_accepted) {
  auto c = ready_client();
  uint32_t old_token = c->token_id;
  auto renewed = c->open(SecurityTokenRequestType::Renew);
  ASSERT_TRUE(renewed.ok());
  EXPECT_EQ(renewed->security_token.channel_id, c->channel_id);
  EXPECT_NE(renewed->security_token.token_id, old_token);
  auto with_old = c->call(read_of({NodeId(2267)}), old_token);
  ASSERT_TRUE(with_old.ok());
  EXPECT_TRUE(std::holds_alternative<ReadResponse>(*with_old));
  auto with_new = c->call(read_of({NodeId(2267)}));
  ASSERT_TRUE(with_new.ok());
  EXPECT_TRUE(std::holds_alternative<ReadResponse>(*with_new));
}

TEST_F(server_channel, unknown_token_is_fatal_for_that_connection_only) {
  auto c = ready_client();
  auto other = ready_client();
  c->send_request(read_of({NodeId(2267)}), 99);
  auto err = c->expect_error();
  ASSERT_TRUE(err);
  EXPECT_EQ(err->error.code(), status::BadSecureChannelTokenUnknown.code());
  EXPECT_TRUE(c->closed_by_peer());
  auto r = other->call(read_of({NodeId(2267)}));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(std::holds_alternative<ReadResponse>(*r));
}

TEST_F(server_channel, a_sequence_number_gap_is_fatal) {
  auto c = ready_client();
  c->out().sequence().next(); // skip one number
  c->send_request(read_of({NodeId(2267)}));
  auto err = c->expect_error();
  ASSERT_TRUE(err);
  EXPECT_EQ(err->error.code(), status::BadSequenceNumberInvalid.code());
  EXPECT_TRUE(c->closed_by_peer());
}

TEST_F(server_channel, wrong_channel_id_is_fatal) {
  auto c = ready_client();
  c->channel_id += 1000;
  c->send_request(read_of({NodeId(2267)}));
  auto err = c->expect_error();
  ASSERT_TRUE(err);
  EXPECT_EQ(err->error.code(), status::BadSecureChannelIdInvalid.code());
}

TEST_F(server_channel, unsupported_service_gets_a_service_fault_and_the_channel_stays_open) {
  auto c = ready_client();
  CallRequest call;
  auto r = c->call(call);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(std::holds_alternative<ServiceFault>(*r));
  EXPECT_EQ(fault_status(r).code(), status::BadServiceUnsupported.code());
  EXPECT_EQ(response_header(*r).request_handle, c->request_ids.back());
  auto again = c->call(read_of({NodeId(2267)}));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(std::holds_alternative<ReadResponse>(*again));
}

TEST_F(server_channel, unknown_type_id_gets_bad_service_unsupported) {
  auto c = ready_client();
  // A body whose TypeId i=9999 is no known request, with a valid RequestHeader.
  std::vector<uint8_t> body;
  {
    writer w(body);
    encode(w, NodeId(9999));
    RequestHeader h;
    h.request_handle = 77;
    encode(w, h);
  }
  std::vector<uint8_t> out;
  ChunkContext ctx{MessageType::Message, c->channel_id, c->token_id, {}, 77};
  ASSERT_TRUE(c->out().encode(ctx, byte_span(body), out).ok());
  c->send(out);
  auto m = c->read_message();
  ASSERT_TRUE(m.ok());
  auto resp = decode_response(byte_span(m->body));
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(response_header(*resp).service_result.code(), status::BadServiceUnsupported.code());
  EXPECT_EQ(response_header(*resp).request_handle, 77u);
  EXPECT_EQ(m->request_id, 77u);
}

TEST_F(server_channel, malformed_body_with_a_readable_header_gets_bad_decoding_error) {
  auto c = ready_client();
  std::vector<uint8_t> body;
  ReadRequest r = read_of({NodeId(2267)});
  r.request_header.request_handle = 50;
  ASSERT_TRUE(encode_message(r, body).ok());
  body.resize(body.size() - 3); // truncate the last ReadValueId
  std::vector<uint8_t> out;
  ChunkContext ctx{MessageType::Message, c->channel_id, c->token_id, {}, 50};
  ASSERT_TRUE(c->out().encode(ctx, byte_span(body), out).ok());
  c->send(out);
  auto m = c->read_message();
  ASSERT_TRUE(m.ok());
  auto resp = decode_response(byte_span(m->body));
  ASSERT_TRUE(resp.ok());
  EXPECT_TRUE(std::holds_alternative<ServiceFault>(*resp));
  EXPECT_EQ(response_header(*resp).service_result.code(), status::BadDecodingError.code());
  auto again = c->call(read_of({NodeId(2267)}));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(std::holds_alternative<ReadResponse>(*again));
}

TEST_F(server_channel, an_unreadable_header_gets_err_and_close) {
  auto c = ready_client();
  std::vector<uint8_t> body{0x01, 0x00, 0x77, 0x02, 0x05}; // TypeId 631, then a broken header
  std::vector<uint8_t> out;
  ChunkContext ctx{MessageType::Message, c->channel_id, c->token_id, {}, 9};
  ASSERT_TRUE(c->out().encode(ctx, byte_span(body), out).ok());
  c->send(out);
  auto err = c->expect_error();
  ASSERT_TRUE(err);
  EXPECT_EQ(err->error.code(), status::BadDecodingError.code());
  EXPECT_TRUE(c->closed_by_peer());
}

TEST_F(server_channel, chunked_requests_are_reassembled_and_large_responses_chunked) {
  raw_client c(port);
  auto ack = c.hello(url(), 8192, 8192); // both directions in 8 KiB chunks
  ASSERT_TRUE(ack);
  ASSERT_TRUE(c.open().ok());
  c.session();
  std::string big(40000, 'x');
  WriteRequest w;
  WriteValue wv;
  wv.node_id = NodeId(1, String("Sim.Text"));
  wv.value = DataValue(Variant(String(big)));
  w.nodes_to_write.push_back(wv);
  auto wr = c.call(w);
  ASSERT_TRUE(wr.ok());
  auto* wresp = std::get_if<WriteResponse>(&*wr);
  ASSERT_NE(wresp, nullptr);
  ASSERT_EQ(wresp->results.size(), 1u);
  EXPECT_TRUE(wresp->results[0].is_good());

  size_t before = c.chunk_types.size();
  auto rr = c.call(read_of({NodeId(1, String("Sim.Text"))}));
  ASSERT_TRUE(rr.ok());
  auto* rresp = std::get_if<ReadResponse>(&*rr);
  ASSERT_NE(rresp, nullptr);
  ASSERT_EQ(rresp->results.size(), 1u);
  EXPECT_EQ(rresp->results[0].value->get_if<String>()->str(), big);
  size_t chunks = c.chunk_types.size() - before;
  EXPECT_GE(chunks, 5u);
  EXPECT_EQ(c.chunk_types.back(), ChunkType::Final);
  EXPECT_EQ(c.chunk_types[before], ChunkType::Intermediate);
  for (size_t i = 1; i < c.sequence_numbers.size(); ++i)
    EXPECT_EQ(c.sequence_numbers[i], c.sequence_numbers[i - 1] + 1);
}

TEST_F(server_channel, close_secure_channel_closes_the_connection_without_a_reply) {
  auto c = ready_client();
  CloseSecureChannelRequest clo;
  std::vector<uint8_t> body, out;
  ASSERT_TRUE(encode_message(clo, body).ok());
  ChunkContext ctx{MessageType::Close, c->channel_id, c->token_id, {}, 40};
  ASSERT_TRUE(c->out().encode(ctx, byte_span(body), out).ok());
  c->send(out);
  EXPECT_TRUE(c->closed_by_peer());
}

} // namespace
