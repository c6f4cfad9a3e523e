#include "transports/partner/protocol.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <cstring>

namespace tandem::partner {

namespace {

// -- writer --------------------------------------------------------------------------------------

class writer {
public:
  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v) {
    for (int i = 0; i < 2; ++i)
      out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i)
      out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i)
      out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void str(const std::string& s, size_t max) {
    size_t n = std::min(s.size(), max);
    u32(static_cast<uint32_t>(n));
    out_.insert(out_.end(), s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n));
  }
  void raw(const std::vector<uint8_t>& b) { out_.insert(out_.end(), b.begin(), b.end()); }
  std::vector<uint8_t>& bytes() { return out_; }

private:
  std::vector<uint8_t> out_;
};

// -- reader --------------------------------------------------------------------------------------

/// Reads fields in order; the first failure is remembered with the field's name.
class reader {
public:
  reader(bytes_view in, const char* frame) : in_(in), frame_(frame) {}

  bool u8(uint8_t& v, const char* field) {
    if (!need(1, field)) return false;
    v = in_.data[pos_++];
    return true;
  }
  bool u16(uint16_t& v, const char* field) {
    if (!need(2, field)) return false;
    v = static_cast<uint16_t>(in_.data[pos_] | (in_.data[pos_ + 1] << 8));
    pos_ += 2;
    return true;
  }
  bool u64(uint64_t& v, const char* field) {
    if (!need(8, field)) return false;
    v = 0;
    for (int i = 7; i >= 0; --i)
      v = (v << 8) | in_.data[pos_ + static_cast<size_t>(i)];
    pos_ += 8;
    return true;
  }
  bool i64(int64_t& v, const char* field) {
    uint64_t u = 0;
    if (!u64(u, field)) return false;
    std::memcpy(&v, &u, sizeof v);
    return true;
  }
  bool boolean(bool& v, const char* field) {
    uint8_t b = 0;
    if (!u8(b, field)) return false;
    if (b > 1) return fail(std::string(field) + " is " + std::to_string(b) + ", not 0 or 1");
    v = b == 1;
    return true;
  }
  bool str(std::string& v, const char* field, size_t max) {
    if (!need(4, field)) return false;
    uint32_t n = 0;
    for (int i = 3; i >= 0; --i)
      n = (n << 8) | in_.data[pos_ + static_cast<size_t>(i)];
    pos_ += 4;
    if (n > max)
      return fail(std::string(field) + " is " + std::to_string(n) + " bytes long, at most " +
                  std::to_string(max) + " are allowed");
    if (in_.size - pos_ < n)
      return fail(std::string(field) + " says " + std::to_string(n) + " bytes but only " +
                  std::to_string(in_.size - pos_) + " follow");
    v.assign(reinterpret_cast<const char*>(in_.data + pos_), n);
    pos_ += n;
    return true;
  }
  bool at_end() const { return pos_ == in_.size; }
  void rest(std::vector<uint8_t>& v) {
    v.assign(in_.data + pos_, in_.data + in_.size);
    pos_ = in_.size;
  }
  /// Fails when bytes are left over (every frame but HELLO).
  bool end() {
    if (pos_ == in_.size) return true;
    return fail(std::to_string(in_.size - pos_) + " unexpected bytes after the last field");
  }
  bool fail(std::string why) {
    if (error_.empty()) error_ = std::string(frame_) + " frame: " + why;
    return false;
  }
  const std::string& error() const { return error_; }

private:
  bool need(size_t n, const char* field) {
    if (in_.size - pos_ >= n) return true;
    return fail(std::string("truncated at ") + field + " (payload is " + std::to_string(in_.size) +
                " bytes)");
  }
  bytes_view in_;
  const char* frame_;
  size_t pos_ = 0;
  std::string error_;
};

bool valid_node_name(const std::string& s) {
  if (s.empty() || s.size() > max_name_bytes) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

std::string decode_hello(bytes_view in, partner_hello& h) {
  reader r(in, "HELLO");
  if (!r.u16(h.protocol_version, "protocol_version")) return r.error();
  if (h.protocol_version != protocol_version) {
    // Another major version: only the frozen start is read, and only to name the peer.
    std::string name;
    if (r.str(name, "node_name", max_name_bytes)) h.node_name = printable(name, max_name_bytes);
    return "";
  }
  uint8_t role = 0, state = 0;
  if (!r.str(h.node_name, "node_name", max_name_bytes)) return r.error();
  if (!valid_node_name(h.node_name))
    return "HELLO frame: node_name '" + printable(h.node_name) +
           "' is not 1 to 64 characters of A-Z a-z 0-9 _ . -";
  if (!r.u8(role, "role")) return r.error();
  if (role > static_cast<uint8_t>(partner_role::backup))
    return "HELLO frame: role " + std::to_string(role) + " is not 0, 1 or 2";
  h.role = static_cast<partner_role>(role);
  if (!r.str(h.config_digest, "config_digest", max_digest_bytes) ||
      !r.u64(h.epoch.term, "epoch.term") || !r.u64(h.epoch.seq, "epoch.seq") ||
      !r.u64(h.running_total_ms, "running_total_ms") || !r.u8(state, "state"))
    return r.error();
  if (state > static_cast<uint8_t>(partner_state::disconnected))
    return "HELLO frame: state " + std::to_string(state) + " is not 0 to 4";
  h.state = static_cast<partner_state>(state);
  if (!r.boolean(h.maintenance, "maintenance") || !r.u16(h.face_port, "face_port") ||
      !r.i64(h.start_time_ms, "start_time_ms"))
    return r.error();
  // Minor revision 1: the face's address, when it is not the link's (absent from revision 0).
  if (r.at_end()) return "";
  if (!r.str(h.face_host, "face_host", max_host_bytes)) return r.error();
  boost::system::error_code ec;
  if (!h.face_host.empty() && (boost::asio::ip::make_address(h.face_host, ec), ec))
    return "HELLO frame: face_host '" + printable(h.face_host) + "' is not an IP address";
  return ""; // trailing bytes: fields of a later minor revision
}

} // namespace

const char* to_string(frame_type t) {
  switch (t) {
  case frame_type::hello:
    return "HELLO";
  case frame_type::hello_ack:
    return "HELLO_ACK";
  case frame_type::refuse:
    return "REFUSE";
  case frame_type::heartbeat:
    return "HEARTBEAT";
  case frame_type::heartbeat_ack:
    return "HEARTBEAT_ACK";
  case frame_type::sync:
    return "SYNC";
  case frame_type::close:
    return "CLOSE";
  }
  return "?";
}

frame_type type_of(const message& m) {
  return static_cast<frame_type>(m.index() + 1); // the variant's order is the type numbering
}

std::vector<uint8_t> encode_raw(uint8_t type, const std::vector<uint8_t>& payload) {
  writer w;
  for (auto b : frame_magic)
    w.u8(b);
  w.u8(type);
  w.u32(static_cast<uint32_t>(payload.size()));
  w.raw(payload);
  return std::move(w.bytes());
}

std::vector<uint8_t> encode(const message& m, uint16_t version_override) {
  writer w;
  std::visit(
      [&](auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, partner_hello>) {
          w.u16(version_override != 0 ? version_override : protocol_version);
          w.str(x.node_name, max_name_bytes);
          w.u8(static_cast<uint8_t>(x.role));
          w.str(x.config_digest, max_digest_bytes);
          w.u64(x.epoch.term);
          w.u64(x.epoch.seq);
          w.u64(x.running_total_ms);
          w.u8(static_cast<uint8_t>(x.state));
          w.u8(x.maintenance ? 1 : 0);
          w.u16(x.face_port);
          w.u64(static_cast<uint64_t>(x.start_time_ms));
          w.str(x.face_host, max_host_bytes);
        } else if constexpr (std::is_same_v<T, hello_ack_msg>) {
        } else if constexpr (std::is_same_v<T, refuse_msg> || std::is_same_v<T, close_msg>) {
          w.str(x.reason, max_reason_bytes);
        } else if constexpr (std::is_same_v<T, heartbeat_msg> ||
                             std::is_same_v<T, heartbeat_ack_msg>) {
          w.u64(x.seq);
          w.u64(x.time_ns);
        } else if constexpr (std::is_same_v<T, sync_payload>) {
          w.u16(x.channel);
          w.raw(x.bytes);
        }
      },
      m);
  return encode_raw(static_cast<uint8_t>(type_of(m)), w.bytes());
}

std::string decode_header(bytes_view in, uint32_t max_frame, frame_header& out) {
  if (in.size < header_size)
    return "frame header truncated: " + std::to_string(in.size) + " of " +
           std::to_string(header_size) + " bytes";
  if (std::memcmp(in.data, frame_magic, 4) != 0) {
    std::string got;
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < 4; ++i) {
      got += hex[in.data[i] >> 4];
      got += hex[in.data[i] & 15];
    }
    return "bad magic 0x" + got + " (expected \"TDMP\"): not a Tandem partner link";
  }
  uint8_t t = in.data[4];
  if (t < static_cast<uint8_t>(frame_type::hello) || t > static_cast<uint8_t>(frame_type::close))
    return "unknown frame type " + std::to_string(t);
  uint32_t len = 0;
  for (int i = 3; i >= 0; --i)
    len = (len << 8) | in.data[5 + static_cast<size_t>(i)];
  if (len > max_frame)
    return std::string(to_string(static_cast<frame_type>(t))) + " frame of " + std::to_string(len) +
           " bytes exceeds the limit of " + std::to_string(max_frame) + " bytes";
  out.type = static_cast<frame_type>(t);
  out.length = len;
  return "";
}

std::string decode_payload(frame_type t, bytes_view in, message& out) {
  switch (t) {
  case frame_type::hello: {
    partner_hello h;
    auto err = decode_hello(in, h);
    if (err.empty()) out = std::move(h);
    return err;
  }
  case frame_type::hello_ack: {
    reader r(in, "HELLO_ACK");
    if (!r.end()) return r.error();
    out = hello_ack_msg{};
    return "";
  }
  case frame_type::refuse:
  case frame_type::close: {
    reader r(in, to_string(t));
    std::string reason;
    if (!r.str(reason, "reason", max_reason_bytes) || !r.end()) return r.error();
    if (t == frame_type::refuse)
      out = refuse_msg{std::move(reason)};
    else
      out = close_msg{std::move(reason)};
    return "";
  }
  case frame_type::heartbeat:
  case frame_type::heartbeat_ack: {
    reader r(in, to_string(t));
    uint64_t seq = 0, ns = 0;
    if (!r.u64(seq, "seq") || !r.u64(ns, "time") || !r.end()) return r.error();
    if (t == frame_type::heartbeat)
      out = heartbeat_msg{seq, ns};
    else
      out = heartbeat_ack_msg{seq, ns};
    return "";
  }
  case frame_type::sync: {
    reader r(in, "SYNC");
    sync_payload s;
    if (!r.u16(s.channel, "channel")) return r.error();
    r.rest(s.bytes);
    out = std::move(s);
    return "";
  }
  }
  return "unknown frame type " + std::to_string(static_cast<unsigned>(t));
}

void frame_reader::feed(bytes_view in) {
  if (failed_ || in.size == 0) return;
  // Drop consumed bytes before growing, so the buffer holds at most about one frame.
  if (pos_ > 0 && (pos_ == buf_.size() || pos_ > 65536)) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
  buf_.insert(buf_.end(), in.data, in.data + in.size);
}

frame_reader::result frame_reader::next(frame_header& h, std::vector<uint8_t>& payload,
                                        std::string& error) {
  if (failed_) {
    error = error_;
    return result::error;
  }
  size_t avail = buf_.size() - pos_;
  if (avail < header_size) return result::need_more;
  auto err = decode_header(bytes_view(buf_.data() + pos_, header_size), max_frame_, h);
  if (!err.empty()) {
    failed_ = true;
    error_ = err;
    error = err;
    buf_.clear();
    pos_ = 0;
    return result::error;
  }
  if (avail - header_size < h.length) return result::need_more;
  auto* p = buf_.data() + pos_ + header_size;
  payload.assign(p, p + h.length);
  pos_ += header_size + h.length;
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  return result::frame;
}

std::string printable(const std::string& s, size_t max) {
  std::string out;
  out.reserve(std::min(s.size(), max));
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  return out;
}

} // namespace tandem::partner
