// Framing: chunker, frame splitter, chunk assembler, sequence numbers, HEL/ACK negotiation.

#include <gtest/gtest.h>

#include "test_util.hpp"
#include "transports/opcua/framing.hpp"
#include "transports/opcua/services.hpp"
#include "vectors.hpp"

namespace tandem::opcua {
namespace {

using test::from_hex;
using test::hex;
using test::vector_by_id;

std::vector<uint8_t> pattern(size_t n) {
  std::vector<uint8_t> b(n);
  for (size_t i = 0; i < n; ++i)
    b[i] = static_cast<uint8_t>(i * 7 + 3);
  return b;
}

/// Splits a stream into whole chunks with a frame_splitter.
std::vector<std::vector<uint8_t>> split_all(const std::vector<uint8_t>& stream, uint32_t max) {
  frame_splitter s(max);
  s.feed(byte_span(stream));
  std::vector<std::vector<uint8_t>> out;
  for (;;) {
    auto n = s.next();
    EXPECT_TRUE(n.ok()) << n.error().reason;
    if (!n.ok() || !*n) break;
    out.push_back((*n)->to_vector());
  }
  EXPECT_EQ(s.buffered(), 0u);
  return out;
}

TEST(OpcuaFraming, MessageHeader) {
  auto h = decode_message_header(byte_span(vector_by_id("V11").bytes));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->type, MessageType::Message);
  EXPECT_EQ(h->chunk_type, ChunkType::Final);
  EXPECT_EQ(h->message_size, 120u);
  EXPECT_STREQ(message_type_code(MessageType::Close), "CLO");
  EXPECT_FALSE(decode_message_header(byte_span(from_hex("4d5347"))).ok());
  EXPECT_EQ(decode_message_header(byte_span(vector_by_id("V11").bytes), 100).code(),
            status::BadTcpMessageTooLarge);
}

TEST(OpcuaFraming, ChunkerSplitsForThePeerBufferAndAssemblerRejoins) {
  const auto body = pattern(100000);
  ChunkContext ctx;
  ctx.secure_channel_id = 5;
  ctx.token_id = 2;
  ctx.request_id = 77;
  chunker ch(chunk_limits{8192, 0, 0}, 51);
  std::vector<uint8_t> stream;
  auto n = ch.encode(ctx, byte_span(body), stream);
  ASSERT_TRUE(n.ok()) << n.error().reason;
  const size_t per_chunk = 8192 - 24;
  EXPECT_EQ(*n, (body.size() + per_chunk - 1) / per_chunk);
  EXPECT_EQ(stream.size(), body.size() + *n * 24);
  EXPECT_EQ(ch.sequence().peek(), 51 + *n);

  auto chunks = split_all(stream, 8192);
  ASSERT_EQ(chunks.size(), *n);
  chunk_assembler a;
  for (size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_LE(chunks[i].size(), 8192u);
    auto c = decode_secure_chunk(byte_span(chunks[i]));
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->sequence.sequence_number, 51 + i);
    EXPECT_EQ(c->sequence.request_id, 77u);
    EXPECT_EQ(c->token_id, 2u);
    EXPECT_EQ(c->chunk_type, i + 1 == chunks.size() ? ChunkType::Final : ChunkType::Intermediate);
    auto e = a.add(*c);
    ASSERT_TRUE(e.ok()) << e.error().reason;
    if (i + 1 < chunks.size()) {
      EXPECT_TRUE(std::holds_alternative<std::monostate>(*e));
      EXPECT_EQ(a.pending_messages(), 1u);
    } else {
      auto& m = std::get<AssembledMessage>(*e);
      EXPECT_EQ(m.body, body);
      EXPECT_EQ(m.request_id, 77u);
      EXPECT_EQ(m.secure_channel_id, 5u);
      EXPECT_EQ(m.chunk_count, chunks.size());
      EXPECT_EQ(m.sequence_number, 51 + i);
      EXPECT_EQ(a.pending_messages(), 0u);
    }
  }
}

TEST(OpcuaFraming, ChunkerEdgeSizes) {
  ChunkContext ctx;
  for (size_t size : {size_t{0}, size_t{1}, size_t{8192 - 24 - 1}, size_t{8192 - 24},
                      size_t{8192 - 24 + 1}, size_t{3 * (8192 - 24)}}) {
    chunker ch(chunk_limits{8192, 0, 0});
    std::vector<uint8_t> out;
    auto n = ch.encode(ctx, byte_span(pattern(size)), out);
    ASSERT_TRUE(n.ok());
    size_t expected = size == 0 ? 1 : (size + 8167) / 8168;
    EXPECT_EQ(*n, expected) << size;
    chunk_assembler a;
    std::vector<uint8_t> got;
    for (auto& c : split_all(out, 8192)) {
      auto e = a.add(byte_span(c));
      ASSERT_TRUE(e.ok());
      if (auto* m = std::get_if<AssembledMessage>(&*e)) got = m->body;
    }
    EXPECT_EQ(got, pattern(size)) << size;
  }
}

TEST(OpcuaFraming, OpenChunksUseTheAsymmetricHeader) {
  ChunkContext ctx;
  ctx.type = MessageType::Open;
  ctx.request_id = 1;
  EXPECT_EQ(chunk_header_size(ctx), 79u);
  // Re-chunking V03's body reproduces V03.
  auto c = decode_secure_chunk(byte_span(vector_by_id("V03").bytes));
  ASSERT_TRUE(c.ok());
  chunker ch(chunk_limits{65536, 0, 0}, 1);
  std::vector<uint8_t> out;
  ASSERT_TRUE(ch.encode(ctx, c->body, out).ok());
  EXPECT_EQ(hex(out), hex(vector_by_id("V03").bytes));
}

TEST(OpcuaFraming, ChunkerRefusesTooLargeWithoutUsingSequenceNumbers) {
  ChunkContext ctx;
  chunker ch(chunk_limits{8192, 10000, 0}, 1);
  std::vector<uint8_t> out;
  auto r = ch.encode(ctx, byte_span(pattern(10001)), out, status::BadResponseTooLarge);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, status::BadResponseTooLarge);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(ch.sequence().peek(), 1u);
  ch.set_limits(chunk_limits{8192, 0, 2});
  auto c = ch.encode(ctx, byte_span(pattern(3 * 8168)), out, status::BadRequestTooLarge);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, status::BadRequestTooLarge);
  EXPECT_NE(c.error().reason.find("needs 3 chunks"), std::string::npos);
  EXPECT_TRUE(ch.encode(ctx, byte_span(pattern(2 * 8168)), out).ok());
  EXPECT_EQ(ch.sequence().peek(), 3u);
  chunker tiny(chunk_limits{24, 0, 0});
  EXPECT_EQ(tiny.encode(ctx, byte_span(pattern(1)), out).code(), status::BadInternalError);
}

TEST(OpcuaFraming, AbortChunkDiscardsThePartialMessage) {
  ChunkContext ctx;
  ctx.request_id = 9;
  chunker ch(chunk_limits{8192, 0, 0}, 1);
  std::vector<uint8_t> first;
  ASSERT_TRUE(encode_secure_chunk(ctx, ChunkType::Intermediate, ch.sequence().next(),
                                  byte_span(pattern(100)), first)
                  .ok());
  std::vector<uint8_t> abort;
  ASSERT_TRUE(ch.encode_abort(ctx, status::BadResponseTooLarge, "too big", abort).ok());
  chunk_assembler a;
  ASSERT_TRUE(a.add(byte_span(first)).ok());
  EXPECT_EQ(a.pending_messages(), 1u);
  auto e = a.add(byte_span(abort));
  ASSERT_TRUE(e.ok()) << e.error().reason;
  auto& ab = std::get<AbortedMessage>(*e);
  EXPECT_EQ(ab.request_id, 9u);
  EXPECT_EQ(ab.error, status::BadResponseTooLarge);
  EXPECT_EQ(ab.reason.str(), "too big");
  EXPECT_EQ(a.pending_messages(), 0u);
  // The channel continues with the next sequence number.
  std::vector<uint8_t> next;
  ASSERT_TRUE(ch.encode(ctx, byte_span(pattern(10)), next).ok());
  auto m = a.add(byte_span(next));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(std::get<AssembledMessage>(*m).body, pattern(10));
  // An abort reason is cut to fit the chunk.
  chunker small(chunk_limits{100, 0, 0});
  std::vector<uint8_t> cut;
  ASSERT_TRUE(small.encode_abort(ctx, status::BadTimeout, String(std::string(500, 'r')), cut).ok());
  EXPECT_EQ(cut.size(), 100u);
}

TEST(OpcuaFraming, InterleavedMessagesByRequestId) {
  ChunkContext a_ctx, b_ctx;
  a_ctx.request_id = 1;
  b_ctx.request_id = 2;
  sequence_generator seq(1);
  std::vector<uint8_t> s;
  auto add = [&](const ChunkContext& c, ChunkType t, size_t n) {
    ASSERT_TRUE(encode_secure_chunk(c, t, seq.next(), byte_span(pattern(n)), s).ok());
  };
  add(a_ctx, ChunkType::Intermediate, 10);
  add(b_ctx, ChunkType::Final, 20);
  add(a_ctx, ChunkType::Final, 30);
  chunk_assembler a;
  std::vector<std::pair<uint32_t, size_t>> got;
  for (auto& c : split_all(s, 65536)) {
    auto e = a.add(byte_span(c));
    ASSERT_TRUE(e.ok());
    if (auto* m = std::get_if<AssembledMessage>(&*e))
      got.emplace_back(m->request_id, m->body.size());
  }
  EXPECT_EQ(got, (std::vector<std::pair<uint32_t, size_t>>{{2, 20}, {1, 40}}));
}

TEST(OpcuaFraming, SequenceNumbersWrap) {
  sequence_generator g(sequence_number_wrap - 1);
  EXPECT_EQ(g.next(), sequence_number_wrap - 1);
  EXPECT_EQ(g.next(), sequence_number_wrap);
  EXPECT_EQ(g.next(), 1u);
  EXPECT_EQ(g.next(), 2u);
  EXPECT_TRUE(sequence_number_follows(5, 6));
  EXPECT_FALSE(sequence_number_follows(5, 7));
  EXPECT_FALSE(sequence_number_follows(5, 5));
  EXPECT_FALSE(sequence_number_follows(5, 4));
  EXPECT_TRUE(sequence_number_follows(sequence_number_wrap, 1));
  EXPECT_TRUE(sequence_number_follows(sequence_number_wrap, 0));
  EXPECT_TRUE(sequence_number_follows(sequence_number_wrap, 1023));
  EXPECT_FALSE(sequence_number_follows(sequence_number_wrap, 1024));
  EXPECT_TRUE(sequence_number_follows(sequence_number_wrap, sequence_number_wrap + 1));
  EXPECT_TRUE(sequence_number_follows(0xFFFFFFFFu, 3));
  EXPECT_FALSE(sequence_number_follows(sequence_number_wrap - 1, 1));

  // Through the assembler, across the wrap.
  ChunkContext ctx;
  chunker ch(chunk_limits{8192, 0, 0}, sequence_number_wrap - 1);
  chunk_assembler a;
  for (int i = 0; i < 4; ++i) {
    std::vector<uint8_t> out;
    ASSERT_TRUE(ch.encode(ctx, byte_span(pattern(5)), out).ok());
    ASSERT_TRUE(a.add(byte_span(out)).ok()) << i;
  }
  EXPECT_EQ(a.last_sequence_number(), 2u);
}

TEST(OpcuaFraming, SplitterHandlesArbitraryPieces) {
  std::vector<uint8_t> stream;
  std::vector<std::vector<uint8_t>> expected;
  for (const char* id : {"V01", "V03", "V05", "V07", "V09", "V11"}) {
    const auto& b = vector_by_id(id).bytes;
    stream.insert(stream.end(), b.begin(), b.end());
    expected.push_back(b);
  }
  for (size_t piece : {size_t{1}, size_t{3}, size_t{8}, size_t{100}, size_t{5000}}) {
    frame_splitter s(65536);
    std::vector<std::vector<uint8_t>> got;
    for (size_t i = 0; i < stream.size(); i += piece) {
      s.feed(byte_span(stream).subspan(i, piece));
      for (;;) {
        auto n = s.next();
        ASSERT_TRUE(n.ok());
        if (!*n) break;
        got.push_back((*n)->to_vector());
      }
    }
    EXPECT_EQ(got, expected) << piece;
    EXPECT_EQ(s.buffered(), 0u);
  }
}

TEST(OpcuaFraming, HelloAcknowledgeErrorRoundTrip) {
  HelloMessage h;
  h.receive_buffer_size = 8192;
  h.send_buffer_size = 16384;
  h.endpoint_url = "opc.tcp://localhost:4840";
  auto hb = encode_hello(h);
  ASSERT_TRUE(hb.ok());
  auto hd = decode_hello(byte_span(*hb));
  ASSERT_TRUE(hd.ok());
  EXPECT_EQ(hd->endpoint_url.str(), "opc.tcp://localhost:4840");
  EXPECT_EQ(hd->send_buffer_size, 16384u);

  // ACK rules: recv <= HEL.send, send <= HEL.recv, both >= 8192.
  auto ack = negotiate_acknowledge(h, AcknowledgeMessage{0, 65536, 65536, 0, 0});
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->receive_buffer_size, 16384u);
  EXPECT_EQ(ack->send_buffer_size, 8192u);
  auto low = negotiate_acknowledge(HelloMessage{0, 65536, 65536, 0, 0, {}},
                                   AcknowledgeMessage{0, 1000, 1000, 0, 0});
  ASSERT_TRUE(low.ok());
  EXPECT_EQ(low->receive_buffer_size, 8192u);
  auto ab = encode_acknowledge(*ack);
  ASSERT_TRUE(ab.ok());
  EXPECT_EQ(ab->size(), 28u);

  ErrorMessage e{status::BadTcpMessageTooLarge, String(std::string(5000, 'x'))};
  auto eb = encode_error(e);
  ASSERT_TRUE(eb.ok());
  auto ed = decode_error(byte_span(*eb));
  ASSERT_TRUE(ed.ok());
  EXPECT_EQ(ed->reason.size(), 4096u);
  EXPECT_EQ(ed->error, status::BadTcpMessageTooLarge);

  ReverseHelloMessage rhe{"urn:server", "opc.tcp://x:1"};
  auto rb = encode_reverse_hello(rhe);
  ASSERT_TRUE(rb.ok());
  auto rd = decode_reverse_hello(byte_span(*rb));
  ASSERT_TRUE(rd.ok());
  EXPECT_EQ(rd->server_uri.str(), "urn:server");
  EXPECT_EQ(decode_acknowledge(byte_span(*hb)).code(), status::BadTcpMessageTypeInvalid);
}

TEST(OpcuaFraming, ServiceOverChunksEndToEnd) {
  // A ReadResponse with 2000 values, chunked at 8192 bytes and decoded on the other side.
  ReadResponse rr;
  rr.response_header.request_handle = 42;
  for (int i = 0; i < 2000; ++i) {
    DataValue dv(Variant(static_cast<double>(i)));
    dv.source_timestamp = DateTime(1000 + i);
    rr.results.push_back(dv);
  }
  std::vector<uint8_t> body;
  ASSERT_TRUE(encode_message(rr, body).ok());
  ChunkContext ctx;
  ctx.request_id = 42;
  chunker ch(chunk_limits{8192, 0, 0});
  std::vector<uint8_t> stream;
  auto n = ch.encode(ctx, byte_span(body), stream);
  ASSERT_TRUE(n.ok());
  EXPECT_GT(*n, 1u);
  chunk_assembler a;
  std::optional<Response> got;
  for (auto& c : split_all(stream, 8192)) {
    auto e = a.add(byte_span(c));
    ASSERT_TRUE(e.ok());
    if (auto* m = std::get_if<AssembledMessage>(&*e)) {
      auto r = decode_response(byte_span(m->body));
      ASSERT_TRUE(r.ok()) << r.error().reason;
      got = std::move(*r);
    }
  }
  ASSERT_TRUE(got);
  const auto& back = std::get<ReadResponse>(*got);
  EXPECT_EQ(back.results.size(), 2000u);
  EXPECT_EQ(*back.results[1999].value->get_if<double>(), 1999.0);
  EXPECT_EQ(response_header(*got).request_handle, 42u);
}

} // namespace
} // namespace tandem::opcua
