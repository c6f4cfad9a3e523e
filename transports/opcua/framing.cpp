#include "transports/opcua/framing.hpp"

#include <algorithm>
#include <cstring>

namespace tandem::opcua {
namespace {

constexpr const char* type_codes[] = {"HEL", "ACK", "ERR", "RHE", "OPN", "MSG", "CLO"};

error make_error(StatusCode code, std::string reason) {
  return error{code, std::move(reason)};
}

std::string printable(const uint8_t* p, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    uint8_t c = p[i];
    if (c >= 0x20 && c < 0x7F) {
      s += static_cast<char>(c);
    } else {
      static constexpr char hex[] = "0123456789abcdef";
      s += "\\x";
      s += hex[c >> 4];
      s += hex[c & 15];
    }
  }
  return s;
}

template <class T>
result<std::vector<uint8_t>> encode_connection_message(MessageType type, const T& m) {
  std::vector<uint8_t> out;
  writer w(out);
  encode_message_header(w, MessageHeader{type, ChunkType::Final, 0});
  encode_structure(w, m);
  if (!w.ok()) return w.error(T::type_name);
  if (out.size() > 0xFFFFFFFFu) return make_error(status::BadEncodingError, "message too large");
  w.patch_u32(4, static_cast<uint32_t>(out.size()));
  return std::move(out);
}

template <class T> result<T> decode_connection_message(MessageType type, byte_span message) {
  auto h = decode_message_header(message);
  if (!h) return h.error();
  if (h->type != type)
    return make_error(status::BadTcpMessageTypeInvalid, std::string("expected ") +
                                                            message_type_code(type) + ", got " +
                                                            message_type_code(h->type));
  if (h->message_size != message.size)
    return make_error(status::BadDecodingError, "MessageSize " + std::to_string(h->message_size) +
                                                    " but " + std::to_string(message.size) +
                                                    " bytes given");
  decode_limits lim;
  lim.max_string_length = 1u << 20;
  reader r(message.subspan(message_header_size), lim, message_header_size);
  T m;
  decode_structure(r, m);
  if (r.ok() && !r.at_end()) r.fail(std::to_string(r.remaining()) + " trailing bytes");
  if (!r.ok()) return r.error(T::type_name);
  return std::move(m);
}

} // namespace

const char* message_type_code(MessageType t) {
  auto i = static_cast<size_t>(t);
  return i < 7 ? type_codes[i] : "???";
}

// -- header --------------------------------------------------------------------------------------

result<MessageHeader> decode_message_header(byte_span b, uint32_t max_size) {
  if (b.size < message_header_size)
    return make_error(status::BadDecodingError,
                      "message header needs 8 bytes, " + std::to_string(b.size) + " given");
  MessageHeader h;
  size_t t = 0;
  for (; t < 7; ++t)
    if (std::memcmp(b.data, type_codes[t], 3) == 0) break;
  if (t == 7)
    return make_error(status::BadTcpMessageTypeInvalid,
                      "unknown message type '" + printable(b.data, 3) + "' at byte 0");
  h.type = static_cast<MessageType>(t);
  uint8_t c = b[3];
  if (c != 'F' && c != 'C' && c != 'A')
    return make_error(status::BadTcpMessageTypeInvalid,
                      "unknown chunk type '" + printable(b.data + 3, 1) + "' at byte 3");
  h.chunk_type = static_cast<ChunkType>(c);
  if (!is_secure_message(h.type) && h.chunk_type != ChunkType::Final)
    return make_error(status::BadTcpMessageTypeInvalid,
                      std::string(message_type_code(h.type)) + " must be a final chunk");
  std::memcpy(&h.message_size, b.data + 4, 4);
  if (h.message_size < message_header_size)
    return make_error(status::BadTcpMessageTooLarge,
                      "MessageSize " + std::to_string(h.message_size) + " is below 8 at byte 4");
  if (max_size != 0 && h.message_size > max_size)
    return make_error(status::BadTcpMessageTooLarge, "MessageSize " +
                                                         std::to_string(h.message_size) +
                                                         " exceeds the receive buffer size " +
                                                         std::to_string(max_size) + " at byte 4");
  return h;
}

void encode_message_header(writer& w, const MessageHeader& h) {
  w.write_bytes(message_type_code(h.type), 3);
  w.write(static_cast<uint8_t>(h.chunk_type));
  w.write(h.message_size);
}

// -- connection messages -------------------------------------------------------------------------

result<std::vector<uint8_t>> encode_hello(const HelloMessage& m) {
  return encode_connection_message(MessageType::Hello, m);
}
result<std::vector<uint8_t>> encode_acknowledge(const AcknowledgeMessage& m) {
  return encode_connection_message(MessageType::Acknowledge, m);
}
result<std::vector<uint8_t>> encode_error(const ErrorMessage& m) {
  if (m.reason.size() <= max_error_reason_length)
    return encode_connection_message(MessageType::Error, m);
  ErrorMessage cut = m;
  cut.reason.mutable_str().resize(max_error_reason_length);
  return encode_connection_message(MessageType::Error, cut);
}
result<std::vector<uint8_t>> encode_reverse_hello(const ReverseHelloMessage& m) {
  return encode_connection_message(MessageType::ReverseHello, m);
}

result<HelloMessage> decode_hello(byte_span message) {
  auto m = decode_connection_message<HelloMessage>(MessageType::Hello, message);
  if (m && m->endpoint_url.size() > max_endpoint_url_length)
    return make_error(status::BadTcpEndpointUrlInvalid, "EndpointUrl of " +
                                                            std::to_string(m->endpoint_url.size()) +
                                                            " bytes exceeds 4096");
  return m;
}
result<AcknowledgeMessage> decode_acknowledge(byte_span message) {
  return decode_connection_message<AcknowledgeMessage>(MessageType::Acknowledge, message);
}
result<ErrorMessage> decode_error(byte_span message) {
  return decode_connection_message<ErrorMessage>(MessageType::Error, message);
}
result<ReverseHelloMessage> decode_reverse_hello(byte_span message) {
  return decode_connection_message<ReverseHelloMessage>(MessageType::ReverseHello, message);
}

result<AcknowledgeMessage> negotiate_acknowledge(const HelloMessage& hello,
                                                 const AcknowledgeMessage& server) {
  if (hello.receive_buffer_size < min_buffer_size || hello.send_buffer_size < min_buffer_size)
    return make_error(status::BadConnectionRejected,
                      "HEL buffer sizes " + std::to_string(hello.receive_buffer_size) + "/" +
                          std::to_string(hello.send_buffer_size) + " are below 8192");
  AcknowledgeMessage ack = server;
  ack.protocol_version = 0;
  ack.receive_buffer_size =
      std::max(min_buffer_size, std::min(server.receive_buffer_size, hello.send_buffer_size));
  ack.send_buffer_size =
      std::max(min_buffer_size, std::min(server.send_buffer_size, hello.receive_buffer_size));
  return ack;
}

// -- secure chunks -------------------------------------------------------------------------------

result<SecureChunk> decode_secure_chunk(byte_span chunk, const decode_limits& limits) {
  auto h = decode_message_header(chunk);
  if (!h) return h.error();
  if (!is_secure_message(h->type))
    return make_error(status::BadTcpMessageTypeInvalid,
                      std::string(message_type_code(h->type)) + " is not a secure channel chunk");
  if (h->message_size != chunk.size)
    return make_error(status::BadDecodingError, "MessageSize " + std::to_string(h->message_size) +
                                                    " but " + std::to_string(chunk.size) +
                                                    " bytes given");
  SecureChunk c;
  c.type = h->type;
  c.chunk_type = h->chunk_type;
  reader r(chunk.subspan(message_header_size), limits, message_header_size);
  const char* part = "secureChannelId";
  if (r.read(c.secure_channel_id)) {
    if (c.type == MessageType::Open) {
      part = "securityPolicyUri";
      decode(r, c.asymmetric.security_policy_uri);
      if (r.ok()) {
        part = "senderCertificate";
        decode(r, c.asymmetric.sender_certificate);
      }
      if (r.ok()) {
        part = "receiverCertificateThumbprint";
        decode(r, c.asymmetric.receiver_certificate_thumbprint);
      }
    } else {
      part = "tokenId";
      r.read(c.token_id);
    }
  }
  if (r.ok()) {
    part = "sequenceNumber";
    if (r.read(c.sequence.sequence_number)) {
      part = "requestId";
      r.read(c.sequence.request_id);
    }
  }
  if (!r.ok()) {
    r.note_field(part);
    return r.error(message_type_code(c.type));
  }
  if (c.type == MessageType::Open &&
      c.asymmetric.security_policy_uri.view() != security_policy_none)
    return make_error(status::BadSecurityPolicyRejected,
                      "security policy '" + c.asymmetric.security_policy_uri.str().substr(0, 200) +
                          "' is not supported (None only)");
  c.body_offset = message_header_size + r.offset();
  c.body = chunk.subspan(c.body_offset);
  return std::move(c);
}

result<AbortBody> decode_abort_body(byte_span body) {
  reader r(body);
  AbortBody a;
  decode(r, a.error);
  if (r.ok()) decode(r, a.reason);
  if (r.ok() && !r.at_end()) r.fail(std::to_string(r.remaining()) + " trailing bytes");
  if (!r.ok()) return r.error("abort");
  return std::move(a);
}

size_t chunk_header_size(const ChunkContext& ctx) {
  if (ctx.type != MessageType::Open) return 24;
  const auto& a = ctx.asymmetric;
  return 12 + 4 + a.security_policy_uri.size() + 4 + a.sender_certificate.size() + 4 +
         a.receiver_certificate_thumbprint.size() + 8;
}

result<void> encode_secure_chunk(const ChunkContext& ctx, ChunkType chunk_type,
                                 uint32_t sequence_number, byte_span body,
                                 std::vector<uint8_t>& out) {
  if (!is_secure_message(ctx.type))
    return make_error(status::BadEncodingError, "not an OPN/MSG/CLO chunk");
  size_t total = chunk_header_size(ctx) + body.size;
  if (total > 0xFFFFFFFFu) return make_error(status::BadEncodingError, "chunk exceeds 4 GiB");
  size_t start = out.size();
  writer w(out);
  encode_message_header(w, MessageHeader{ctx.type, chunk_type, static_cast<uint32_t>(total)});
  w.write(ctx.secure_channel_id);
  if (ctx.type == MessageType::Open) {
    encode(w, ctx.asymmetric.security_policy_uri);
    encode(w, ctx.asymmetric.sender_certificate);
    encode(w, ctx.asymmetric.receiver_certificate_thumbprint);
  } else {
    w.write(ctx.token_id);
  }
  w.write(sequence_number);
  w.write(ctx.request_id);
  w.write_bytes(body.data, body.size);
  if (!w.ok()) {
    out.resize(start);
    return w.error("chunk");
  }
  return {};
}

// -- chunker -------------------------------------------------------------------------------------

result<size_t> chunker::encode(const ChunkContext& ctx, byte_span body, std::vector<uint8_t>& out,
                               StatusCode too_large) {
  const size_t header = chunk_header_size(ctx);
  if (limits_.max_chunk_size <= header)
    return make_error(status::BadInternalError, "chunk size " +
                                                    std::to_string(limits_.max_chunk_size) +
                                                    " leaves no room for a body");
  const size_t max_body = limits_.max_chunk_size - header;
  if (limits_.max_message_size != 0 && body.size > limits_.max_message_size)
    return make_error(too_large, "message body of " + std::to_string(body.size) +
                                     " bytes exceeds the peer's MaxMessageSize " +
                                     std::to_string(limits_.max_message_size));
  const size_t chunks = body.size == 0 ? 1 : (body.size + max_body - 1) / max_body;
  if (limits_.max_chunk_count != 0 && chunks > limits_.max_chunk_count)
    return make_error(too_large, "message needs " + std::to_string(chunks) +
                                     " chunks, the peer's MaxChunkCount is " +
                                     std::to_string(limits_.max_chunk_count));
  out.reserve(out.size() + body.size + chunks * header);
  for (size_t i = 0; i < chunks; ++i) {
    byte_span part = body.subspan(i * max_body, max_body);
    bool last = i + 1 == chunks;
    auto r = encode_secure_chunk(ctx, last ? ChunkType::Final : ChunkType::Intermediate,
                                 seq_.next(), part, out);
    if (!r) return r.error();
  }
  return chunks;
}

result<void> chunker::encode_abort(const ChunkContext& ctx, StatusCode error, const String& reason,
                                   std::vector<uint8_t>& out) {
  const size_t header = chunk_header_size(ctx);
  if (limits_.max_chunk_size < header + 8)
    return make_error(status::BadInternalError, "chunk size leaves no room for an abort body");
  String r = reason;
  size_t room = std::min<size_t>(limits_.max_chunk_size - header - 8, max_error_reason_length);
  if (r.size() > room) r.mutable_str().resize(room);
  std::vector<uint8_t> body;
  writer w(body);
  w.write(error.value);
  opcua::encode(w, r);
  if (!w.ok()) return w.error("abort");
  return encode_secure_chunk(ctx, ChunkType::Abort, seq_.next(), byte_span(body), out);
}

// -- frame splitter ------------------------------------------------------------------------------

void frame_splitter::feed(byte_span bytes) {
  if (pos_ > 0) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
  buf_.insert(buf_.end(), bytes.begin(), bytes.end());
}

result<std::optional<byte_span>> frame_splitter::next() {
  if (failed_) return *failed_;
  size_t avail = buf_.size() - pos_;
  if (avail < message_header_size) return std::optional<byte_span>{};
  auto h = decode_message_header(byte_span(buf_.data() + pos_, message_header_size), max_);
  if (!h) {
    failed_ = h.error();
    return *failed_;
  }
  if (avail < h->message_size) return std::optional<byte_span>{};
  byte_span chunk(buf_.data() + pos_, h->message_size);
  pos_ += h->message_size;
  return std::optional<byte_span>(chunk);
}

// -- chunk assembler -----------------------------------------------------------------------------

result<assembler_event> chunk_assembler::add(byte_span chunk, const decode_limits& limits) {
  auto c = decode_secure_chunk(chunk, limits);
  if (!c) return c.error();
  return add(*c);
}

result<assembler_event> chunk_assembler::add(const SecureChunk& c) {
  const uint32_t seq = c.sequence.sequence_number;
  if (last_seq_ && !sequence_number_follows(*last_seq_, seq))
    return make_error(status::BadSequenceNumberInvalid,
                      "sequence number " + std::to_string(seq) + " after " +
                          std::to_string(*last_seq_) + " (expected " +
                          std::to_string(*last_seq_ >= sequence_number_wrap ? 1u : *last_seq_ + 1) +
                          ")");
  last_seq_ = seq;
  const uint32_t rid = c.sequence.request_id;
  auto it = partial_.find(rid);

  if (c.chunk_type == ChunkType::Abort) {
    if (it != partial_.end()) partial_.erase(it);
    auto a = decode_abort_body(c.body);
    if (!a) return a.error();
    return assembler_event(AbortedMessage{rid, a->error, std::move(a->reason)});
  }

  const uint32_t chunks = (it == partial_.end() ? 0 : it->second.chunks) + 1;
  const size_t size = (it == partial_.end() ? 0 : it->second.body.size()) + c.body.size;
  if (it != partial_.end() && it->second.type != c.type)
    return make_error(status::BadTcpMessageTypeInvalid,
                      std::string(message_type_code(c.type)) + " chunk continues a " +
                          message_type_code(it->second.type) + " message (request " +
                          std::to_string(rid) + ")");
  if (limits_.max_chunk_count != 0 && chunks > limits_.max_chunk_count)
    return make_error(status::BadTcpMessageTooLarge,
                      "message of request " + std::to_string(rid) + " has more than " +
                          std::to_string(limits_.max_chunk_count) + " chunks");
  if (limits_.max_message_size != 0 && size > limits_.max_message_size)
    return make_error(status::BadTcpMessageTooLarge,
                      "message of request " + std::to_string(rid) + " exceeds " +
                          std::to_string(limits_.max_message_size) + " bytes");

  if (c.chunk_type == ChunkType::Intermediate) {
    if (it == partial_.end()) {
      if (partial_.size() >= limits_.max_pending_messages)
        return make_error(status::BadTcpNotEnoughResources,
                          "more than " + std::to_string(limits_.max_pending_messages) +
                              " partially received messages");
      it = partial_.emplace(rid, partial{c.type, 0, {}}).first;
    }
    it->second.chunks = chunks;
    it->second.body.insert(it->second.body.end(), c.body.begin(), c.body.end());
    return assembler_event{};
  }

  AssembledMessage m;
  m.type = c.type;
  m.secure_channel_id = c.secure_channel_id;
  m.token_id = c.token_id;
  m.asymmetric = c.asymmetric;
  m.request_id = rid;
  m.sequence_number = seq;
  m.chunk_count = chunks;
  if (it != partial_.end()) {
    m.body = std::move(it->second.body);
    partial_.erase(it);
  }
  m.body.insert(m.body.end(), c.body.begin(), c.body.end());
  return assembler_event(std::move(m));
}

} // namespace tandem::opcua
