#include "tests/fuzz/partner/fuzz_entry.hpp"

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "transports/partner/protocol.hpp"
#include "transports/partner/session.hpp"

namespace tandem::partner::fuzz {

namespace {

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "partner fuzz: invariant broken: %s\n", what);
  std::abort();
}

bool same(const message& a, const message& b) {
  return encode(a) == encode(b);
}

/// Every complete frame in `bytes`: a decoded message re-encodes to something that decodes to
/// the same message.
void check_round_trips(const uint8_t* data, size_t size, uint32_t max_frame) {
  frame_reader r(max_frame);
  r.feed(bytes_view(data, size));
  frame_header h;
  std::vector<uint8_t> payload;
  std::string err;
  while (r.next(h, payload, err) == frame_reader::result::frame) {
    message m;
    if (!decode_payload(h.type, payload, m).empty()) continue;
    if (auto* hello = std::get_if<partner_hello>(&m);
        hello && hello->protocol_version != protocol_version)
      continue; // only the frozen start was read
    auto again = encode(m);
    frame_header h2;
    if (!decode_header(bytes_view(again.data(), header_size), default_max_frame, h2).empty())
      broken("a re-encoded header does not decode");
    message m2;
    if (!decode_payload(h2.type, bytes_view(again.data() + header_size, h2.length), m2).empty())
      broken("a re-encoded payload does not decode");
    if (!same(m, m2)) broken("a round trip changed a message");
  }
}

/// Output of the session must be readable by this codec.
void check_output(const std::vector<out_frame>& out) {
  for (auto& f : out) {
    frame_header h;
    if (f.bytes.size() < header_size ||
        !decode_header(bytes_view(f.bytes.data(), header_size), default_max_frame, h).empty() ||
        f.bytes.size() != header_size + h.length)
      broken("the session wrote a frame this codec cannot read");
    message m;
    if (!decode_payload(h.type, bytes_view(f.bytes.data() + header_size, h.length), m).empty())
      broken("the session wrote a payload this codec cannot read");
  }
}

} // namespace

void run_one(const uint8_t* data, size_t size) {
  uint8_t flags = size > 0 ? data[0] : 0;
  size_t chunk = size > 1 ? static_cast<size_t>(data[1]) + 1 : 1;
  const uint8_t* rest = size > 2 ? data + 2 : data + size;
  size_t n = size > 2 ? size - 2 : 0;
  uint32_t max_frame = (flags & 8) ? 256 : default_max_frame;

  check_round_trips(rest, n, max_frame);

  partner_hello own;
  own.node_name = "fuzz-node";
  own.face_port = 4840;
  session s(own, max_frame);
  s.start();
  check_output(s.take_output());

  bool failed = false, hello = false, up = false, accepted = false;
  size_t off = 0;
  while (off < n) {
    size_t take = (flags & 2) ? std::min(chunk, n - off) : n - off;
    std::vector<session_event> events;
    s.receive(bytes_view(rest + off, take), events);
    off += take;
    for (auto& e : events) {
      if (failed) broken("an event after failed");
      switch (e.what) {
      case session_event::kind::hello:
        if (hello) broken("a second hello event");
        hello = true;
        if (e.hello.protocol_version != protocol_version) broken("hello of another version");
        {
          std::vector<session_event> more;
          if (flags & 1) {
            accepted = true;
            s.accept(more);
          } else {
            s.refuse("fuzz says no", more);
          }
          for (auto& m : more) {
            if (m.what == session_event::kind::up) {
              if (up) broken("a second up");
              up = true;
            } else if (m.what == session_event::kind::failed) {
              failed = true;
            } else {
              broken("accept/refuse reported something else");
            }
          }
        }
        break;
      case session_event::kind::up:
        if (!hello || !accepted || up) broken("up without hello and accept, or twice");
        up = true;
        break;
      case session_event::kind::heartbeat:
      case session_event::kind::heartbeat_ack:
      case session_event::kind::sync:
        if (!up) broken("a frame event before up");
        break;
      case session_event::kind::failed:
        failed = true;
        if (e.text.empty()) broken("a failure without a reason");
        break;
      }
    }
    if (up && !failed && (flags & 4)) {
      s.send_heartbeat(1, 2);
      s.send_heartbeat_ack(3, 4);
      s.send_sync(sync_payload{5, {6, 7}});
    }
    check_output(s.take_output());
    if (failed != s.failed()) broken("failed event and state disagree");
    if (up != (s.up() || (failed && up))) broken("up event and state disagree");
  }
}

} // namespace tandem::partner::fuzz
