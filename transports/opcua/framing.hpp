#pragma once
/// OPC UA TCP and Secure Conversation framing (OPC 10000-6 §6.7, §7.1; FACTS.md §1), SecurityPolicy
/// None only: message header, HEL/ACK/ERR/RHE bodies, OPN/MSG/CLO chunk headers, abort chunks, and
/// the pure state machines around them:
///  * `frame_splitter`  TCP byte stream -> whole chunks (validates the 8-byte header),
///  * `chunk_assembler` chunks of one channel -> complete message bodies (sequence numbers, limits,
///                      abort chunks),
///  * `chunker`         message body -> chunks for the peer's buffer size, numbered by its
///                      `sequence_generator`.
/// No sockets, no clocks: each function maps bytes to bytes or values.

#include <cstdint>
#include <map>
#include <optional>
#include <variant>
#include <vector>

#include "transports/opcua/binary.hpp"

namespace tandem::opcua {

// -- message header ------------------------------------------------------------------------------

enum class MessageType : uint8_t {
  Hello,        ///< HEL
  Acknowledge,  ///< ACK
  Error,        ///< ERR
  ReverseHello, ///< RHE
  Open,         ///< OPN
  Message,      ///< MSG
  Close,        ///< CLO
};

/// "HEL", "ACK", ...
const char* message_type_code(MessageType t);
/// Secure conversation chunk types (OPN, MSG, CLO) carry security and sequence headers.
constexpr bool is_secure_message(MessageType t) {
  return t == MessageType::Open || t == MessageType::Message || t == MessageType::Close;
}

enum class ChunkType : uint8_t { Final = 'F', Intermediate = 'C', Abort = 'A' };

/// The 8 bytes in front of every TCP message / chunk.
struct MessageHeader {
  MessageType type = MessageType::Hello;
  ChunkType chunk_type = ChunkType::Final;
  uint32_t message_size = 0; ///< whole chunk including these 8 bytes
};

constexpr size_t message_header_size = 8;
/// Smallest ReceiveBufferSize / SendBufferSize a peer may announce.
constexpr uint32_t min_buffer_size = 8192;
/// The None security policy URI (47 bytes).
inline constexpr const char* security_policy_none =
    "http://opcfoundation.org/UA/SecurityPolicy#None";
/// transportProfileUri of opc.tcp with UA Binary.
inline constexpr const char* transport_profile_uatcp =
    "http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary";

/// Parses and validates a message header (type, chunk type, size >= 8; HEL/ACK/ERR/RHE must be F).
/// BadTcpMessageTypeInvalid for an unknown type or chunk type, BadTcpMessageTooLarge for a size
/// below 8 or above `max_size` (0 = no upper check).
result<MessageHeader> decode_message_header(byte_span bytes, uint32_t max_size = 0);
void encode_message_header(writer& w, const MessageHeader& h);

// -- connection messages -------------------------------------------------------------------------

struct HelloMessage {
  static constexpr const char* type_name = "Hello";
  uint32_t protocol_version = 0;
  uint32_t receive_buffer_size = 65536;
  uint32_t send_buffer_size = 65536;
  uint32_t max_message_size = 0; ///< 0 = no limit
  uint32_t max_chunk_count = 0;  ///< 0 = no limit
  String endpoint_url;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("protocolVersion", s.protocol_version);
    v("receiveBufferSize", s.receive_buffer_size);
    v("sendBufferSize", s.send_buffer_size);
    v("maxMessageSize", s.max_message_size);
    v("maxChunkCount", s.max_chunk_count);
    v("endpointUrl", s.endpoint_url);
  }
};

struct AcknowledgeMessage {
  static constexpr const char* type_name = "Acknowledge";
  uint32_t protocol_version = 0;
  uint32_t receive_buffer_size = 65536;
  uint32_t send_buffer_size = 65536;
  uint32_t max_message_size = 0;
  uint32_t max_chunk_count = 0;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("protocolVersion", s.protocol_version);
    v("receiveBufferSize", s.receive_buffer_size);
    v("sendBufferSize", s.send_buffer_size);
    v("maxMessageSize", s.max_message_size);
    v("maxChunkCount", s.max_chunk_count);
  }
};

struct ErrorMessage {
  static constexpr const char* type_name = "Error";
  StatusCode error;
  String reason;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("error", s.error);
    v("reason", s.reason);
  }
};

struct ReverseHelloMessage {
  static constexpr const char* type_name = "ReverseHello";
  String server_uri;
  String endpoint_url;

  template <class S, class V> static void fields(S& s, V&& v) {
    v("serverUri", s.server_uri);
    v("endpointUrl", s.endpoint_url);
  }
};

constexpr size_t max_endpoint_url_length = 4096;
constexpr size_t max_error_reason_length = 4096;

/// Whole HEL/ACK/ERR/RHE messages (header + body). ERR reasons longer than 4096 bytes are cut.
result<std::vector<uint8_t>> encode_hello(const HelloMessage& m);
result<std::vector<uint8_t>> encode_acknowledge(const AcknowledgeMessage& m);
result<std::vector<uint8_t>> encode_error(const ErrorMessage& m);
result<std::vector<uint8_t>> encode_reverse_hello(const ReverseHelloMessage& m);

/// Decode a whole message of that type; the body must end exactly at MessageSize.
/// decode_hello fails with BadTcpEndpointUrlInvalid for an EndpointUrl over 4096 bytes.
result<HelloMessage> decode_hello(byte_span message);
result<AcknowledgeMessage> decode_acknowledge(byte_span message);
result<ErrorMessage> decode_error(byte_span message);
result<ReverseHelloMessage> decode_reverse_hello(byte_span message);

/// The server's ACK for `hello` given its own limits (FACTS §1.2): ReceiveBufferSize <=
/// HEL.SendBufferSize, SendBufferSize <= HEL.ReceiveBufferSize, both >= 8192; MaxMessageSize and
/// MaxChunkCount are the server's. BadConnectionRejected when the client's buffers are below 8192,
/// BadProtocolVersionUnsupported is never returned (version 0 is answered with 0).
result<AcknowledgeMessage> negotiate_acknowledge(const HelloMessage& hello,
                                                 const AcknowledgeMessage& server_limits);

// -- secure conversation chunks ------------------------------------------------------------------

struct AsymmetricSecurityHeader {
  String security_policy_uri{security_policy_none};
  ByteString sender_certificate;              ///< null with None
  ByteString receiver_certificate_thumbprint; ///< null with None

  friend bool operator==(const AsymmetricSecurityHeader& a, const AsymmetricSecurityHeader& b) {
    return a.security_policy_uri == b.security_policy_uri &&
           a.sender_certificate == b.sender_certificate &&
           a.receiver_certificate_thumbprint == b.receiver_certificate_thumbprint;
  }
};

struct SequenceHeader {
  uint32_t sequence_number = 0;
  uint32_t request_id = 0;
};

/// One parsed OPN/MSG/CLO chunk. `body` views the input bytes.
struct SecureChunk {
  MessageType type = MessageType::Message;
  ChunkType chunk_type = ChunkType::Final;
  uint32_t secure_channel_id = 0;
  AsymmetricSecurityHeader asymmetric; ///< OPN only
  uint32_t token_id = 0;               ///< MSG / CLO only
  SequenceHeader sequence;
  byte_span body;
  size_t body_offset = 0; ///< offset of the body in the chunk (79 for OPN/None, 24 for MSG/CLO)
};

/// Parses one whole chunk (as yielded by frame_splitter). The chunk must be exactly MessageSize
/// bytes. Only SecurityPolicy None is accepted (no signature/padding): another policy URI gives
/// BadSecurityPolicyRejected.
result<SecureChunk> decode_secure_chunk(byte_span chunk, const decode_limits& limits = {});

/// The body of an `A` chunk.
struct AbortBody {
  StatusCode error;
  String reason;
};
result<AbortBody> decode_abort_body(byte_span body);

/// What every chunk of one outgoing message repeats.
struct ChunkContext {
  MessageType type = MessageType::Message; ///< Open, Message or Close
  uint32_t secure_channel_id = 0;
  uint32_t token_id = 0;               ///< MSG / CLO
  AsymmetricSecurityHeader asymmetric; ///< OPN
  uint32_t request_id = 0;
};

/// Bytes in front of the body: 24 for MSG/CLO, 79 for OPN with None and null certificates.
size_t chunk_header_size(const ChunkContext& ctx);

/// Encodes one chunk (header, security header, sequence header, body) onto `out`.
result<void> encode_secure_chunk(const ChunkContext& ctx, ChunkType chunk_type,
                                 uint32_t sequence_number, byte_span body,
                                 std::vector<uint8_t>& out);

// -- sequence numbers ----------------------------------------------------------------------------

/// Largest sequence number before the wrap (UInt32 max - 1024); node-opcua wraps to 1 after it.
constexpr uint32_t sequence_number_wrap = 4294966271u;

/// True when `next` may follow `prev` on a channel: prev + 1, or after the wrap point a value
/// below 1024 (FACTS §1.4).
constexpr bool sequence_number_follows(uint32_t prev, uint32_t next) {
  if (prev >= sequence_number_wrap) return next < 1024 || (prev != 0xFFFFFFFFu && next == prev + 1);
  return next == prev + 1;
}

/// A sender's per-channel counter: +1 per chunk (OPN, MSG, CLO), wrapping after 4294966271 to 1.
class sequence_generator {
public:
  explicit sequence_generator(uint32_t first = 1) : next_(first) {}
  uint32_t next() {
    uint32_t n = next_;
    next_ = n >= sequence_number_wrap ? 1 : n + 1;
    return n;
  }
  uint32_t peek() const { return next_; }

private:
  uint32_t next_;
};

// -- chunker -------------------------------------------------------------------------------------

/// Limits announced by the peer (its HEL or ACK).
struct chunk_limits {
  uint32_t max_chunk_size = 65536; ///< the peer's ReceiveBufferSize
  uint32_t max_message_size = 0;   ///< body bytes, 0 = no limit
  uint32_t max_chunk_count = 0;    ///< 0 = no limit
};

/// Splits message bodies into chunks for one channel and numbers them.
class chunker {
public:
  explicit chunker(chunk_limits limits = {}, uint32_t first_sequence_number = 1)
      : limits_(limits), seq_(first_sequence_number) {}

  void set_limits(const chunk_limits& limits) { limits_ = limits; }
  const chunk_limits& limits() const { return limits_; }
  sequence_generator& sequence() { return seq_; }

  /// Appends the chunks of `body` (C…C F, at least one) to `out`; returns how many. When the body
  /// exceeds max_message_size or would need more than max_chunk_count chunks nothing is written,
  /// no sequence number is used, and the error carries `too_large` (BadRequestTooLarge on a
  /// client, BadResponseTooLarge on a server).
  result<size_t> encode(const ChunkContext& ctx, byte_span body, std::vector<uint8_t>& out,
                        StatusCode too_large = status::BadTcpMessageTooLarge);

  /// Appends an `A` chunk (error + reason) for `ctx.request_id`.
  result<void> encode_abort(const ChunkContext& ctx, StatusCode error, const String& reason,
                            std::vector<uint8_t>& out);

private:
  chunk_limits limits_;
  sequence_generator seq_;
};

// -- frame splitter ------------------------------------------------------------------------------

/// Accumulates a TCP byte stream and yields whole chunks.
class frame_splitter {
public:
  /// `max_chunk_size`: the largest MessageSize accepted (our ReceiveBufferSize).
  explicit frame_splitter(uint32_t max_chunk_size = 65536) : max_(max_chunk_size) {}

  void set_max_chunk_size(uint32_t n) { max_ = n; }
  /// Appends received bytes.
  void feed(byte_span bytes);
  /// The next whole chunk (valid until the next feed()/next()), nullopt if more bytes are needed.
  /// Errors (bad type, MessageSize < 8 or > max) are sticky: the connection must be closed.
  result<std::optional<byte_span>> next();
  size_t buffered() const { return buf_.size() - pos_; }

private:
  std::vector<uint8_t> buf_;
  size_t pos_ = 0;
  uint32_t max_;
  std::optional<error> failed_;
};

// -- chunk assembler -----------------------------------------------------------------------------

struct assembler_limits {
  uint32_t max_message_size = 16u << 20; ///< body bytes of one message, 0 = no limit
  uint32_t max_chunk_count = 0;          ///< chunks in one message, 0 = no limit
  uint32_t max_pending_messages = 4;     ///< partially received messages at once
};

/// A complete message: the concatenated chunk bodies and the headers of its last chunk.
struct AssembledMessage {
  MessageType type = MessageType::Message;
  uint32_t secure_channel_id = 0;
  uint32_t token_id = 0;
  AsymmetricSecurityHeader asymmetric; ///< OPN
  uint32_t request_id = 0;
  uint32_t sequence_number = 0; ///< of the final chunk
  uint32_t chunk_count = 0;
  std::vector<uint8_t> body;
};

/// The peer gave up on a message with an `A` chunk; its partial chunks were discarded.
struct AbortedMessage {
  uint32_t request_id = 0;
  StatusCode error;
  String reason;
};

/// Nothing yet (an intermediate chunk was stored), a message, or an abort.
using assembler_event = std::variant<std::monostate, AssembledMessage, AbortedMessage>;

/// Reassembles the chunks one peer sends on one channel. Checks that sequence numbers increase by
/// exactly one (wrap rule of FACTS §1.4) across all chunks, enforces the limits, and discards a
/// message on its `A` chunk. Any error is fatal for the channel (send ERR, close).
class chunk_assembler {
public:
  explicit chunk_assembler(assembler_limits limits = {}) : limits_(limits) {}

  void set_limits(const assembler_limits& limits) { limits_ = limits; }
  /// Parses and adds one whole chunk.
  result<assembler_event> add(byte_span chunk, const decode_limits& limits = {});
  /// Adds an already parsed chunk.
  result<assembler_event> add(const SecureChunk& chunk);
  /// The last sequence number seen, if any.
  std::optional<uint32_t> last_sequence_number() const { return last_seq_; }
  size_t pending_messages() const { return partial_.size(); }

private:
  struct partial {
    MessageType type;
    uint32_t chunks = 0;
    std::vector<uint8_t> body;
  };
  assembler_limits limits_;
  std::optional<uint32_t> last_seq_;
  std::map<uint32_t, partial> partial_; // by RequestId
};

} // namespace tandem::opcua
