#pragma once
/// The partner link's wire protocol: frames and their payloads, as pure functions over bytes.
///
/// Frame = header + payload:
///   offset 0  4 bytes  magic "TDMP"
///   offset 4  1 byte   frame type (frame_type)
///   offset 5  4 bytes  payload length, little endian, at most the receiver's max frame size
///   offset 9  payload
/// Integers are little endian; a string is a uint32 length and that many bytes; a boolean is one
/// byte, 0 or 1.
///
/// Versioning: `protocol_version` is the major version. Two things are frozen for every version
/// to come, so that any two versions can at least refuse each other with a clear reason: the
/// header above, and the start of the HELLO (type 1): uint16 version, then the node name. A
/// HELLO may carry bytes after the fields this version knows (fields a later minor revision
/// appends; they are ignored); every other frame must be exactly what its type says. A peer of
/// another major version is refused; an unknown frame type from a peer of the same version is a
/// protocol error.
///
/// Payloads:
///   HELLO         u16 version, str node_name, u8 role, str config_digest, u64 epoch.term,
///                 u64 epoch.seq, u64 running_total_ms, u8 state, u8 maintenance, u16 face_port,
///                 i64 start_time_ms,
///                 [minor revision 1] str face_host (the face's IP address; "" = the link's)
///   HELLO_ACK     (empty)
///   REFUSE        str reason
///   HEARTBEAT     u64 seq, u64 sender time (ns, the sender's monotonic clock)
///   HEARTBEAT_ACK u64 seq echoed, u64 sender time echoed
///   SYNC          u16 channel, the rest: opaque bytes
///   CLOSE         str reason

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "messages/partner.hpp"

namespace tandem::partner {

/// The major protocol version this build speaks.
inline constexpr uint16_t protocol_version = 1;
inline constexpr uint8_t frame_magic[4] = {'T', 'D', 'M', 'P'};
inline constexpr size_t header_size = 9;
/// Default hard limit of one frame's payload (the receiver's limit; a larger frame is an error).
inline constexpr uint32_t default_max_frame = 16u * 1024 * 1024;
/// Limits of the strings inside frames.
inline constexpr size_t max_name_bytes = 64;
inline constexpr size_t max_digest_bytes = 128;
inline constexpr size_t max_host_bytes = 64; ///< an IP address as text
inline constexpr size_t max_reason_bytes = 1024;

enum class frame_type : uint8_t {
  hello = 1,
  hello_ack = 2,
  refuse = 3,
  heartbeat = 4,
  heartbeat_ack = 5,
  sync = 6,
  close = 7,
};

const char* to_string(frame_type t);

/// A view of bytes owned elsewhere.
struct bytes_view {
  const uint8_t* data = nullptr;
  size_t size = 0;
  bytes_view() = default;
  bytes_view(const uint8_t* d, size_t n) : data(d), size(n) {}
  bytes_view(const std::vector<uint8_t>& v) : data(v.data()), size(v.size()) {} // NOLINT
};

struct frame_header {
  frame_type type = frame_type::hello;
  uint32_t length = 0;
};

// -- payload types -----------------------------------------------------------------------------

struct hello_ack_msg {};
struct refuse_msg {
  std::string reason;
};
struct heartbeat_msg {
  uint64_t seq = 0;
  uint64_t time_ns = 0;
};
struct heartbeat_ack_msg {
  uint64_t seq = 0;
  uint64_t time_ns = 0;
};
struct close_msg {
  std::string reason;
};

using message = std::variant<partner_hello, hello_ack_msg, refuse_msg, heartbeat_msg,
                             heartbeat_ack_msg, sync_payload, close_msg>;

frame_type type_of(const message& m);

// -- encoding ----------------------------------------------------------------------------------

/// The whole frame (header and payload). A HELLO is sent with `protocol_version` whatever its
/// `protocol_version` field says, unless `version_override` is non-zero (tests of other
/// versions). Strings longer than their limit are cut.
std::vector<uint8_t> encode(const message& m, uint16_t version_override = 0);

/// A frame of any type byte and payload, for tests and the fuzzer.
std::vector<uint8_t> encode_raw(uint8_t type, const std::vector<uint8_t>& payload);

// -- decoding: each returns "" on success, else what is wrong (for people) ----------------------

/// Reads a header from exactly `header_size` bytes. Errors: wrong magic, unknown frame type,
/// payload longer than `max_frame`.
std::string decode_header(bytes_view in, uint32_t max_frame, frame_header& out);

/// Decodes a payload of type `t`. A HELLO of another major version decodes without error with
/// only `protocol_version` and (if readable) `node_name` set: the caller refuses it.
std::string decode_payload(frame_type t, bytes_view payload, message& out);

/// Splits a byte stream into frames; keeps at most one frame buffered.
class frame_reader {
public:
  explicit frame_reader(uint32_t max_frame = default_max_frame) : max_frame_(max_frame) {}

  enum class result { frame, need_more, error };

  /// Appends received bytes.
  void feed(bytes_view in);
  /// The next complete frame: `frame` with `h` and `payload` set; `need_more`; or `error` with
  /// `error` set (the stream cannot be read any further).
  result next(frame_header& h, std::vector<uint8_t>& payload, std::string& error);
  size_t buffered() const { return buf_.size() - pos_; }

private:
  uint32_t max_frame_;
  std::vector<uint8_t> buf_;
  size_t pos_ = 0;
  bool failed_ = false;
  std::string error_;
};

/// Text from the wire made safe to print: control and non-ASCII bytes become '?', cut at `max`.
std::string printable(const std::string& s, size_t max = max_reason_bytes);

} // namespace tandem::partner
