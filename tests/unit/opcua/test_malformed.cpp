// Malformed input: every truncation of every vector, and a table of corruptions, each giving the
// right status code and a reason naming the field and byte offset, never a crash.

#include <gtest/gtest.h>

#include "test_util.hpp"
#include "transports/opcua/framing.hpp"
#include "transports/opcua/services.hpp"
#include "vectors.hpp"

namespace tandem::opcua {
namespace {

using test::captured_vectors;
using test::from_hex;
using test::vector_by_id;

/// Decodes a whole chunk the way a peer would: header, chunk, then the service body.
result<void> decode_chunk_and_body(const std::vector<uint8_t>& bytes, bool client_to_server,
                                   const decode_limits& limits = {}) {
  auto h = decode_message_header(byte_span(bytes));
  if (!h) return h.error();
  switch (h->type) {
  case MessageType::Hello: {
    auto m = decode_hello(byte_span(bytes));
    if (!m) return m.error();
    return {};
  }
  case MessageType::Acknowledge: {
    auto m = decode_acknowledge(byte_span(bytes));
    if (!m) return m.error();
    return {};
  }
  case MessageType::Error: {
    auto m = decode_error(byte_span(bytes));
    if (!m) return m.error();
    return {};
  }
  default:
    break;
  }
  auto c = decode_secure_chunk(byte_span(bytes), limits);
  if (!c) return c.error();
  if (client_to_server) {
    auto r = decode_request(c->body, limits, c->body_offset);
    if (!r) return r.error();
  } else {
    auto r = decode_response(c->body, limits, c->body_offset);
    if (!r) return r.error();
  }
  return {};
}

std::vector<uint8_t> with_size_field(std::vector<uint8_t> b) {
  if (b.size() >= 8) {
    uint32_t n = static_cast<uint32_t>(b.size());
    std::memcpy(b.data() + 4, &n, 4);
  }
  return b;
}

TEST(OpcuaMalformed, TruncatedAtEveryOffsetOfEveryVector) {
  size_t cases = 0, total = 0;
  for (const auto& v : captured_vectors()) {
    total += v.bytes.size();
    SCOPED_TRACE(v.id);
    ASSERT_TRUE(decode_chunk_and_body(v.bytes, v.client_to_server).ok());
    for (size_t n = 0; n < v.bytes.size(); ++n) {
      std::vector<uint8_t> prefix(v.bytes.begin(), v.bytes.begin() + static_cast<long>(n));
      // As received from TCP: the splitter waits for more bytes.
      frame_splitter split(1u << 20);
      split.feed(byte_span(prefix));
      auto next = split.next();
      ASSERT_TRUE(next.ok()) << n;
      EXPECT_FALSE(*next) << n;
      // As a chunk: MessageSize disagrees with the bytes.
      auto raw = decode_chunk_and_body(prefix, v.client_to_server);
      EXPECT_FALSE(raw.ok()) << n;
      // With MessageSize patched to the truncated length, the body decoder must find the cut.
      auto patched = decode_chunk_and_body(with_size_field(prefix), v.client_to_server);
      ASSERT_FALSE(patched.ok()) << n;
      if (n >= 8)
        EXPECT_TRUE(patched.error().code == status::BadDecodingError ||
                    patched.error().code == status::BadTcpMessageTooLarge)
            << n << ": " << to_string(patched.error().code) << " " << patched.error().reason;
      EXPECT_FALSE(patched.error().reason.empty());
      ++cases;
    }
  }
  EXPECT_EQ(cases, total);
  EXPECT_GT(total, 9000u);
}

struct corruption {
  const char* vector;
  size_t offset;
  const char* bytes; ///< hex written at offset (may extend the vector)
  StatusCode code;
  const char* reason; ///< substring of the reason
};

TEST(OpcuaMalformed, CorruptionTable) {
  const corruption table[] = {
      // Array counts: huge, larger than the input, negative other than -1.
      {"V11", 90, "ffffff7f", status::BadDecodingError,
       "ReadRequest.nodesToRead: array length 2147483647 exceeds max_array_length 1048576 at "
       "byte 90"},
      {"V11", 90, "e8030000", status::BadDecodingError,
       "ReadRequest.nodesToRead: array length 1000 needs at least 1000 bytes, 26 left at byte 90"},
      {"V11", 90, "feffffff", status::BadDecodingError,
       "ReadRequest.nodesToRead: negative array length -2 at byte 90"},
      {"V21", 78, "00000080", status::BadDecodingError, "negative array length -2147483648"},
      {"V29", 90, "0a000000", status::BadDecodingError, "nodesToRead[9].nodeId: needs 1 bytes"},
      // String lengths.
      {"V05", 57, "fbffffff", status::BadDecodingError,
       "GetEndpointsRequest.endpointUrl: negative length -5 at byte 57"},
      {"V05", 57, "22000000", status::BadDecodingError,
       "GetEndpointsRequest.endpointUrl: length 34 exceeds the 33 bytes left at byte 57"},
      {"V07", 251, "ffffff7f", status::BadDecodingError,
       "CreateSessionRequest.clientCertificate: length 2147483647 exceeds max_string_length"},
      // NodeId encoding bytes.
      {"V11", 94, "09", status::BadDecodingError,
       "ReadRequest.nodesToRead[0].nodeId: unknown NodeId encoding byte 0x09 at byte 94"},
      {"V11", 94, "83", status::BadDecodingError,
       "nodeId: NodeId encoding byte 0x83 has "
       "ExpandedNodeId flags at byte 94"},
      {"V09", 28, "07", status::BadDecodingError,
       "ActivateSessionRequest.requestHeader.authenticationToken: unknown NodeId encoding byte "
       "0x07 at byte 28"},
      // Variant type ids and masks.
      {"V12", 57, "3e", status::BadDecodingError,
       "ReadResponse.results[0].value: invalid Variant type id 62 at byte 57"},
      {"V12", 57, "1a", status::BadDecodingError, "invalid Variant type id 26"},
      {"V12", 57, "18", status::BadDecodingError, "a scalar Variant cannot hold a Variant"},
      {"V12", 57, "4b", status::BadDecodingError, "ArrayDimensions flag"},
      {"V12", 56, "c1", status::BadDecodingError,
       "ReadResponse.results[0]: DataValue encoding mask 0xC1 has reserved bits at byte 56"},
      {"V24", 44, "80", status::BadDecodingError,
       "ServiceFault.responseHeader.serviceDiagnostics: DiagnosticInfo encoding mask 0x80"},
      // ExtensionObject encodings and bodies.
      {"V09", 98, "05", status::BadDecodingError,
       "ActivateSessionRequest.userIdentityToken: unknown ExtensionObject encoding 0x05 at byte "
       "98"},
      {"V20", 86, "ffffff7f", status::BadDecodingError,
       "PublishResponse.notificationMessage.notificationData[0].body: length 2147483647"},
      {"V20", 86, "33000000", status::BadDecodingError,
       "notificationData[0].body: length 51 exceeds the 50 bytes left at byte 86"},
      // Message TypeIds.
      {"V11", 24, "0100ff0f", status::BadServiceUnsupported, "unsupported request type i=4095"},
      {"V11", 24, "01007a02", status::BadServiceUnsupported,
       "unsupported request type i=634 (ReadResponse)"},
      {"V12", 24, "01007702", status::BadUnknownResponse, "i=631 (ReadRequest)"},
      {"V11", 24, "0101", status::BadDecodingError, "TypeId ns=1;i=631 is not a ns=0 numeric id"},
      {"V11", 24, "41", status::BadDecodingError, "TypeId svr="},
      // Enumerations are not range-checked (a proxy passes them on), but lengths still are.
      {"V11", 86, "ffffffff", status::Good, ""},
      // Trailing bytes after a complete message.
      {"V11", 120, "00", status::BadDecodingError, "1 trailing bytes after the message"},
      // Secure chunk headers.
      {"V03", 59, "58", status::BadSecurityPolicyRejected,
       "security policy 'http://opcfoundation.org/UA/SecurityPolicy#Xone' is not supported"},
      {"V03", 12, "ffffff00", status::BadDecodingError, "OPN.securityPolicyUri: length"},
      {"V11", 0, "58595a46", status::BadTcpMessageTypeInvalid, "unknown message type 'XYZ'"},
      {"V11", 3, "58", status::BadTcpMessageTypeInvalid, "unknown chunk type 'X'"},
      {"V01", 3, "43", status::BadTcpMessageTypeInvalid, "HEL must be a final chunk"},
      {"V11", 4, "07000000", status::BadTcpMessageTooLarge, "MessageSize 7 is below 8"},
      {"V11", 4, "79000000", status::BadDecodingError, "MessageSize 121 but 120 bytes given"},
      // Connection messages.
      {"V01", 28, "1a000000", status::BadDecodingError,
       "Hello.endpointUrl: length 26 exceeds the 25 bytes left at byte 28"},
      {"V50", 12, "ffffffff", status::BadDecodingError, "Error: 94 trailing bytes"},
  };
  for (const auto& c : table) {
    const auto& v = vector_by_id(c.vector);
    std::vector<uint8_t> b = v.bytes;
    auto patch = from_hex(c.bytes);
    if (c.offset + patch.size() > b.size()) {
      b.resize(c.offset + patch.size());
      uint32_t n = static_cast<uint32_t>(b.size());
      std::memcpy(b.data() + 4, &n, 4);
    }
    std::copy(patch.begin(), patch.end(), b.begin() + static_cast<long>(c.offset));
    auto r = decode_chunk_and_body(b, v.client_to_server);
    SCOPED_TRACE(std::string(c.vector) + " @" + std::to_string(c.offset) + " " + c.bytes);
    if (c.code == status::Good) {
      EXPECT_TRUE(r.ok()) << r.error().reason;
      continue;
    }
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(to_string(r.error().code), to_string(c.code)) << r.error().reason;
    EXPECT_NE(r.error().reason.find(c.reason), std::string::npos) << r.error().reason;
  }
}

TEST(OpcuaMalformed, DeepNestingInAMessage) {
  // A WriteRequest whose value is a Variant array nested 40 deep: refused at max_depth 32.
  WriteRequest w;
  Variant v(Array<int32_t>{1});
  for (int i = 0; i < 40; ++i)
    v = Variant(Array<Variant>{v});
  w.nodes_to_write.push_back(WriteValue{NodeId(1, "x"), attribute_id::Value, {}, DataValue(v)});
  std::vector<uint8_t> body;
  ASSERT_TRUE(encode_message(w, body).ok());
  auto r = decode_request(byte_span(body));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, status::BadDecodingError);
  EXPECT_NE(r.error().reason.find("WriteRequest.nodesToWrite[0].value.value.Variant[0].Variant[0]"),
            std::string::npos)
      << r.error().reason;
  EXPECT_NE(r.error().reason.find("nesting deeper than max_depth 32"), std::string::npos);
  decode_limits deep;
  deep.max_depth = 50;
  EXPECT_TRUE(decode_request(byte_span(body), deep).ok());

  // DiagnosticInfo chains in a response.
  ReadResponse rr;
  DiagnosticInfo d;
  for (int i = 0; i < 60; ++i) {
    DiagnosticInfo outer;
    outer.inner_diagnostic_info = d;
    d = outer;
  }
  rr.diagnostic_infos.push_back(d);
  body.clear();
  ASSERT_TRUE(encode_message(rr, body).ok()); // the writer allows 64 levels
  auto resp = decode_response(byte_span(body));
  ASSERT_FALSE(resp.ok());
  EXPECT_NE(resp.error().reason.find("ReadResponse.diagnosticInfos[0].innerDiagnosticInfo"),
            std::string::npos)
      << resp.error().reason;

  // The writer refuses what it cannot bound either.
  for (int i = 0; i < 10; ++i) {
    DiagnosticInfo outer;
    outer.inner_diagnostic_info = d;
    d = outer;
  }
  rr.diagnostic_infos[0] = d;
  body.clear();
  auto enc = encode_message(rr, body);
  ASSERT_FALSE(enc.ok());
  EXPECT_EQ(enc.error().code, status::BadEncodingError);
  EXPECT_TRUE(body.empty());
}

TEST(OpcuaMalformed, LimitsAreConfigurable) {
  const auto& v = vector_by_id("V29"); // 9 ReadValueIds
  decode_limits lim;
  lim.max_array_length = 8;
  auto r = decode_chunk_and_body(v.bytes, true, lim);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().reason.find("array length 9 exceeds max_array_length 8"), std::string::npos);
  decode_limits str;
  str.max_string_length = 100;
  auto s = decode_chunk_and_body(vector_by_id("V07").bytes, true, str);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().reason.find("clientCertificate"), std::string::npos) << s.error().reason;
}

TEST(OpcuaMalformed, SplitterRejectsBadHeadersStickily) {
  struct {
    const char* hex;
    uint32_t max;
    StatusCode code;
    const char* reason;
  } cases[] = {
      {"4d534746 01200000", 8192, status::BadTcpMessageTooLarge,
       "MessageSize 8193 exceeds the receive buffer size 8192"},
      {"4d534746 ffffffff", 8192, status::BadTcpMessageTooLarge, "MessageSize 4294967295"},
      {"4d534746 00000000", 8192, status::BadTcpMessageTooLarge, "below 8"},
      {"4d534746 07000000", 8192, status::BadTcpMessageTooLarge, "below 8"},
      {"47455420 2f204854", 8192, status::BadTcpMessageTypeInvalid, "unknown message type 'GET'"},
      {"4d53475a 18000000", 8192, status::BadTcpMessageTypeInvalid, "unknown chunk type 'Z'"},
      {"41434b43 1c000000", 8192, status::BadTcpMessageTypeInvalid, "ACK must be a final chunk"},
  };
  for (auto& c : cases) {
    frame_splitter s(c.max);
    s.feed(byte_span(from_hex(c.hex)));
    auto r = s.next();
    ASSERT_FALSE(r.ok()) << c.hex;
    EXPECT_EQ(r.error().code, c.code) << c.hex;
    EXPECT_NE(r.error().reason.find(c.reason), std::string::npos) << r.error().reason;
    s.feed(byte_span(vector_by_id("V01").bytes));
    EXPECT_FALSE(s.next().ok()) << "errors are sticky";
  }
}

TEST(OpcuaMalformed, AssemblerErrors) {
  ChunkContext ctx;
  ctx.secure_channel_id = 1;
  ctx.token_id = 1;
  ctx.request_id = 7;
  std::vector<uint8_t> body(1000, 0xAB);
  auto chunks_of = [&](uint32_t first_seq, uint32_t chunk_size,
                       MessageType type = MessageType::Message) {
    chunker ch(chunk_limits{chunk_size, 0, 0}, first_seq);
    ChunkContext c = ctx;
    c.type = type;
    std::vector<uint8_t> out;
    EXPECT_TRUE(ch.encode(c, byte_span(body), out).ok());
    std::vector<std::vector<uint8_t>> list;
    frame_splitter s(1u << 20);
    s.feed(byte_span(out));
    while (auto n = s.next()) {
      if (!*n) break;
      list.push_back((*n)->to_vector());
    }
    return list;
  };

  // Sequence gap.
  {
    chunk_assembler a;
    ASSERT_TRUE(a.add(byte_span(vector_by_id("V05").bytes)).ok()); // seq 2
    auto r = a.add(byte_span(vector_by_id("V09").bytes));          // seq 4
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, status::BadSequenceNumberInvalid);
    EXPECT_EQ(r.error().reason, "sequence number 4 after 2 (expected 3)");
  }
  // Repeated sequence number.
  {
    chunk_assembler a;
    ASSERT_TRUE(a.add(byte_span(vector_by_id("V05").bytes)).ok());
    EXPECT_EQ(a.add(byte_span(vector_by_id("V05").bytes)).code(), status::BadSequenceNumberInvalid);
  }
  // Too many chunks (1000 bytes in 200-byte chunks = 6 chunks).
  {
    auto list = chunks_of(1, 200);
    ASSERT_EQ(list.size(), 6u);
    chunk_assembler a(assembler_limits{0, 5, 4});
    for (size_t i = 0; i < 5; ++i)
      ASSERT_TRUE(a.add(byte_span(list[i])).ok()) << i;
    auto r = a.add(byte_span(list[5]));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, status::BadTcpMessageTooLarge);
    EXPECT_NE(r.error().reason.find("more than 5 chunks"), std::string::npos);
  }
  // Message larger than max_message_size.
  {
    auto list = chunks_of(1, 200);
    chunk_assembler a(assembler_limits{999, 0, 4});
    for (size_t i = 0; i < 5; ++i)
      ASSERT_TRUE(a.add(byte_span(list[i])).ok()) << i;
    auto r = a.add(byte_span(list[5]));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, status::BadTcpMessageTooLarge);
    EXPECT_NE(r.error().reason.find("exceeds 999 bytes"), std::string::npos);
  }
  // Too many partially received messages.
  {
    chunk_assembler a(assembler_limits{0, 0, 2});
    chunker ch(chunk_limits{200, 0, 0}, 1);
    for (uint32_t rid = 1; rid <= 3; ++rid) {
      ChunkContext c = ctx;
      c.request_id = rid;
      std::vector<uint8_t> out;
      ASSERT_TRUE(encode_secure_chunk(c, ChunkType::Intermediate, ch.sequence().next(),
                                      byte_span(body).subspan(0, 10), out)
                      .ok());
      auto r = a.add(byte_span(out));
      if (rid < 3) {
        ASSERT_TRUE(r.ok());
      } else {
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, status::BadTcpNotEnoughResources);
      }
    }
  }
  // A CLO chunk cannot continue a MSG message.
  {
    auto msg = chunks_of(1, 200);
    auto clo = chunks_of(2, 200, MessageType::Close);
    chunk_assembler a;
    ASSERT_TRUE(a.add(byte_span(msg[0])).ok());
    auto r = a.add(byte_span(clo[0]));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, status::BadTcpMessageTypeInvalid);
  }
  // A malformed abort body.
  {
    std::vector<uint8_t> out;
    ASSERT_TRUE(
        encode_secure_chunk(ctx, ChunkType::Abort, 1, byte_span(from_hex("0000")), out).ok());
    chunk_assembler a;
    EXPECT_EQ(a.add(byte_span(out)).code(), status::BadDecodingError);
  }
  // HEL is not a secure chunk.
  {
    chunk_assembler a;
    EXPECT_EQ(a.add(byte_span(vector_by_id("V01").bytes)).code(), status::BadTcpMessageTypeInvalid);
  }
}

TEST(OpcuaMalformed, OversizedEndpointUrl) {
  HelloMessage h;
  h.endpoint_url = String(std::string(5000, 'x'));
  auto bytes = encode_hello(h);
  ASSERT_TRUE(bytes.ok());
  auto r = decode_hello(byte_span(*bytes));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, status::BadTcpEndpointUrlInvalid);
}

} // namespace
} // namespace tandem::opcua
