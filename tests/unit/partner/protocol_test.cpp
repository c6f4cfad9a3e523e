// The partner link's codec and handshake state machine, without sockets: round trips of every
// frame, every malformed case with its diagnostic, the splitter over arbitrary chunking, and the
// session's handshake, refusals, version mismatch and protocol errors.

#include <gtest/gtest.h>

#include <cstring>

#include "transports/partner/protocol.hpp"
#include "transports/partner/session.hpp"

using namespace tandem;
using namespace tandem::partner;

namespace {

partner_hello sample_hello(const std::string& name = "node-a") {
  partner_hello h;
  h.node_name = name;
  h.role = partner_role::backup;
  h.config_digest = "3f1c9a";
  h.epoch = {7, 123456789012ull};
  h.running_total_ms = 86'400'000;
  h.state = partner_state::standby;
  h.maintenance = true;
  h.face_port = 4840;
  h.start_time_ms = 1'767'225'600'123;
  return h;
}

/// Decodes one whole frame; "" or the error.
std::string decode_frame(const std::vector<uint8_t>& f, message& out,
                         uint32_t max = default_max_frame) {
  frame_header h;
  auto err = decode_header(bytes_view(f.data(), std::min(f.size(), header_size)), max, h);
  if (!err.empty()) return err;
  if (f.size() != header_size + h.length) return "length mismatch";
  return decode_payload(h.type, bytes_view(f.data() + header_size, h.length), out);
}

std::vector<uint8_t> payload_of(const std::vector<uint8_t>& frame) {
  return std::vector<uint8_t>(frame.begin() + header_size, frame.end());
}

TEST(partner_codec, hello_round_trip) {
  auto h = sample_hello();
  auto f = encode(h);
  ASSERT_GE(f.size(), header_size);
  EXPECT_EQ(0, std::memcmp(f.data(), "TDMP", 4));
  EXPECT_EQ(f[4], 1);
  message m;
  ASSERT_EQ(decode_frame(f, m), "");
  auto& d = std::get<partner_hello>(m);
  EXPECT_EQ(d.protocol_version, protocol_version);
  EXPECT_EQ(d.node_name, h.node_name);
  EXPECT_EQ(d.role, h.role);
  EXPECT_EQ(d.config_digest, h.config_digest);
  EXPECT_EQ(d.epoch, h.epoch);
  EXPECT_EQ(d.running_total_ms, h.running_total_ms);
  EXPECT_EQ(d.state, h.state);
  EXPECT_EQ(d.maintenance, h.maintenance);
  EXPECT_EQ(d.face_port, h.face_port);
  EXPECT_EQ(d.start_time_ms, h.start_time_ms);
}

TEST(partner_codec, hello_face_host_of_minor_revision_1_round_trips_and_is_optional) {
  auto h = sample_hello();
  h.face_host = "10.1.2.3";
  message m;
  ASSERT_EQ(decode_frame(encode(h), m), "");
  EXPECT_EQ(std::get<partner_hello>(m).face_host, "10.1.2.3");
  // A revision-0 HELLO (no face_host) still decodes: the face is at the link's address.
  h.face_host.clear();
  auto f = encode(h);
  f.resize(f.size() - 4); // drop the empty string's length
  uint32_t len = static_cast<uint32_t>(f.size() - header_size);
  std::memcpy(f.data() + 5, &len, 4);
  ASSERT_EQ(decode_frame(f, m), "");
  EXPECT_EQ(std::get<partner_hello>(m).face_host, "");
  // Anything but an IP address is refused, with the field named.
  h.face_host = "not an address";
  EXPECT_NE(decode_frame(encode(h), m).find("face_host"), std::string::npos);
}

TEST(partner_codec, hello_negative_start_time_round_trips) {
  auto h = sample_hello();
  h.start_time_ms = -5;
  message m;
  ASSERT_EQ(decode_frame(encode(h), m), "");
  EXPECT_EQ(std::get<partner_hello>(m).start_time_ms, -5);
}

TEST(partner_codec, every_other_frame_round_trips) {
  message m;
  ASSERT_EQ(decode_frame(encode(hello_ack_msg{}), m), "");
  EXPECT_TRUE(std::holds_alternative<hello_ack_msg>(m));
  ASSERT_EQ(decode_frame(encode(refuse_msg{"another partner is connected: b"}), m), "");
  EXPECT_EQ(std::get<refuse_msg>(m).reason, "another partner is connected: b");
  ASSERT_EQ(decode_frame(encode(heartbeat_msg{42, 0xfedcba9876543210ull}), m), "");
  EXPECT_EQ(std::get<heartbeat_msg>(m).seq, 42u);
  EXPECT_EQ(std::get<heartbeat_msg>(m).time_ns, 0xfedcba9876543210ull);
  ASSERT_EQ(decode_frame(encode(heartbeat_ack_msg{43, 7}), m), "");
  EXPECT_EQ(std::get<heartbeat_ack_msg>(m).seq, 43u);
  EXPECT_EQ(std::get<heartbeat_ack_msg>(m).time_ns, 7u);
  ASSERT_EQ(decode_frame(encode(sync_payload{513, {1, 2, 3, 0, 255}}), m), "");
  EXPECT_EQ(std::get<sync_payload>(m).channel, 513);
  EXPECT_EQ(std::get<sync_payload>(m).bytes, (std::vector<uint8_t>{1, 2, 3, 0, 255}));
  ASSERT_EQ(decode_frame(encode(sync_payload{0, {}}), m), "");
  EXPECT_TRUE(std::get<sync_payload>(m).bytes.empty());
  ASSERT_EQ(decode_frame(encode(close_msg{"shutting down"}), m), "");
  EXPECT_EQ(std::get<close_msg>(m).reason, "shutting down");
}

TEST(partner_codec, little_endian_length_and_fields) {
  auto f = encode(heartbeat_msg{0x0102030405060708ull, 0});
  ASSERT_EQ(f.size(), header_size + 16);
  EXPECT_EQ(f[5], 16);
  EXPECT_EQ(f[6], 0);
  EXPECT_EQ(f[9], 0x08);
  EXPECT_EQ(f[16], 0x01);
}

TEST(partner_codec, bad_magic_is_named) {
  auto f = encode(hello_ack_msg{});
  f[0] = 'G';
  f[1] = 'E';
  f[2] = 'T';
  f[3] = ' ';
  message m;
  auto err = decode_frame(f, m);
  EXPECT_NE(err.find("bad magic 0x47455420"), std::string::npos) << err;
  EXPECT_NE(err.find("not a Tandem partner link"), std::string::npos) << err;
}

TEST(partner_codec, unknown_frame_types_are_errors) {
  for (int t : {0, 8, 9, 200, 255}) {
    message m;
    auto err = decode_frame(encode_raw(static_cast<uint8_t>(t), {}), m);
    EXPECT_EQ(err, "unknown frame type " + std::to_string(t));
  }
}

TEST(partner_codec, frame_over_the_limit_is_refused_from_the_header) {
  auto f = encode(sync_payload{1, std::vector<uint8_t>(100, 7)});
  frame_header h;
  auto err = decode_header(bytes_view(f.data(), header_size), 50, h);
  EXPECT_EQ(err, "SYNC frame of 102 bytes exceeds the limit of 50 bytes");
  // Only the header is needed: a peer announcing 4 GiB is refused before anything is buffered.
  std::vector<uint8_t> huge = {'T', 'D', 'M', 'P', 6, 0xff, 0xff, 0xff, 0xff};
  err = decode_header(huge, default_max_frame, h);
  EXPECT_NE(err.find("4294967295 bytes exceeds the limit of 16777216"), std::string::npos) << err;
}

TEST(partner_codec, truncated_header) {
  frame_header h;
  std::vector<uint8_t> f = {'T', 'D', 'M'};
  EXPECT_EQ(decode_header(f, 100, h), "frame header truncated: 3 of 9 bytes");
}

TEST(partner_codec, malformed_payloads_name_the_problem) {
  message m;
  struct bad_case {
    frame_type t;
    std::vector<uint8_t> payload;
    std::string expect;
  };
  auto hello = payload_of(encode(sample_hello()));
  auto cut = [&](size_t n) { return std::vector<uint8_t>(hello.begin(), hello.begin() + n); };
  auto with = [&](size_t at, uint8_t v) {
    auto p = hello;
    p[at] = v;
    return p;
  };
  // Offsets in the sample HELLO: version 0-1, name length 2-5, name 6-11, role 12, digest
  // length 13-16, digest 17-22, term 23-30, seq 31-38, running 39-46, state 47, maint 48, ...
  std::vector<bad_case> cases = {
      {frame_type::hello, {}, "HELLO frame: truncated at protocol_version (payload is 0 bytes)"},
      {frame_type::hello, cut(2), "HELLO frame: truncated at node_name (payload is 2 bytes)"},
      {frame_type::hello, cut(8), "HELLO frame: node_name says 6 bytes but only 2 follow"},
      {frame_type::hello, cut(30), "HELLO frame: truncated at epoch.term (payload is 30 bytes)"},
      {frame_type::hello, with(12, 3), "HELLO frame: role 3 is not 0, 1 or 2"},
      {frame_type::hello, with(47, 9), "HELLO frame: state 9 is not 0 to 4"},
      {frame_type::hello, with(48, 2), "HELLO frame: maintenance is 2, not 0 or 1"},
      {frame_type::hello, with(6, ' '),
       "HELLO frame: node_name ' ode-a' is not 1 to 64 characters of A-Z a-z 0-9 _ . -"},
      {frame_type::hello, with(2, 200),
       "HELLO frame: node_name is 200 bytes long, at most 64 "
       "are allowed"},
      {frame_type::hello_ack, {0}, "HELLO_ACK frame: 1 unexpected bytes after the last field"},
      {frame_type::refuse,
       {5, 0, 0, 0, 'a'},
       "REFUSE frame: reason says 5 bytes but only 1 follow"},
      {frame_type::close, {0, 0, 0, 0, 1}, "CLOSE frame: 1 unexpected bytes after the last field"},
      {frame_type::close,
       {0xff, 0xff, 0, 0},
       "CLOSE frame: reason is 65535 bytes long, at most 1024 are allowed"},
      {frame_type::heartbeat, std::vector<uint8_t>(15, 0),
       "HEARTBEAT frame: truncated at time (payload is 15 bytes)"},
      {frame_type::heartbeat_ack, std::vector<uint8_t>(17, 0),
       "HEARTBEAT_ACK frame: 1 unexpected bytes after the last field"},
      {frame_type::sync, {1}, "SYNC frame: truncated at channel (payload is 1 bytes)"},
  };
  for (auto& c : cases)
    EXPECT_EQ(decode_payload(c.t, c.payload, m), c.expect) << to_string(c.t);
}

TEST(partner_codec, hello_of_another_version_decodes_its_frozen_start_only) {
  auto f = encode(sample_hello("future-node"), 7);
  // Cut everything after the name: a future HELLO may look entirely different there.
  std::vector<uint8_t> payload(f.begin() + header_size, f.begin() + header_size + 2 + 4 + 11);
  payload.push_back(0xee);
  message m;
  ASSERT_EQ(decode_payload(frame_type::hello, payload, m), "");
  EXPECT_EQ(std::get<partner_hello>(m).protocol_version, 7);
  EXPECT_EQ(std::get<partner_hello>(m).node_name, "future-node");
}

TEST(partner_codec, hello_allows_fields_of_a_later_minor_revision) {
  auto p = payload_of(encode(sample_hello()));
  p.insert(p.end(), {1, 2, 3, 4});
  message m;
  EXPECT_EQ(decode_payload(frame_type::hello, p, m), "");
}

TEST(partner_codec, long_strings_are_cut_when_encoding) {
  message m;
  ASSERT_EQ(decode_frame(encode(close_msg{std::string(5000, 'x')}), m), "");
  EXPECT_EQ(std::get<close_msg>(m).reason.size(), max_reason_bytes);
}

TEST(partner_codec, printable_replaces_control_bytes) {
  EXPECT_EQ(printable(std::string("a\nb\x01\xff"
                                  "c")),
            "a?b??c");
  EXPECT_EQ(printable("abcdef", 3), "abc");
}

TEST(partner_reader, splits_frames_at_every_chunking) {
  std::vector<uint8_t> stream;
  std::vector<std::vector<uint8_t>> frames = {
      encode(sample_hello()), encode(hello_ack_msg{}), encode(heartbeat_msg{1, 2}),
      encode(sync_payload{3, std::vector<uint8_t>(300, 9)}), encode(close_msg{"bye"})};
  for (auto& f : frames)
    stream.insert(stream.end(), f.begin(), f.end());
  for (size_t chunk : {1u, 2u, 5u, 9u, 10u, 64u, 1000u}) {
    frame_reader r;
    std::vector<frame_type> seen;
    for (size_t off = 0; off < stream.size(); off += chunk) {
      r.feed(bytes_view(stream.data() + off, std::min(chunk, stream.size() - off)));
      frame_header h;
      std::vector<uint8_t> p;
      std::string err;
      while (true) {
        auto res = r.next(h, p, err);
        ASSERT_NE(res, frame_reader::result::error) << err;
        if (res == frame_reader::result::need_more) break;
        seen.push_back(h.type);
      }
    }
    EXPECT_EQ(seen.size(), frames.size()) << "chunk " << chunk;
    EXPECT_EQ(r.buffered(), 0u);
  }
}

TEST(partner_reader, stays_failed_after_an_error) {
  frame_reader r(100);
  std::vector<uint8_t> junk = {'H', 'T', 'T', 'P', '/', '1', '.', '1', ' ', '2'};
  r.feed(junk);
  frame_header h;
  std::vector<uint8_t> p;
  std::string err;
  EXPECT_EQ(r.next(h, p, err), frame_reader::result::error);
  EXPECT_NE(err.find("bad magic"), std::string::npos);
  r.feed(encode(hello_ack_msg{}));
  err.clear();
  EXPECT_EQ(r.next(h, p, err), frame_reader::result::error);
  EXPECT_NE(err.find("bad magic"), std::string::npos);
}

// -- the session ------------------------------------------------------------------------------

/// Two sessions wired back to back; returns what each reported.
struct pair_of_sessions {
  session a{sample_hello("node-a")};
  session b{sample_hello("node-b")};
  std::vector<session_event> ea, eb;

  /// Moves every queued frame across until quiet.
  void pump() {
    for (int i = 0; i < 10; ++i) {
      auto oa = a.take_output(), ob = b.take_output();
      if (oa.empty() && ob.empty()) return;
      for (auto& f : oa)
        b.receive(f.bytes, eb);
      for (auto& f : ob)
        a.receive(f.bytes, ea);
    }
  }
};

std::vector<session_event::kind> kinds(const std::vector<session_event>& ev) {
  std::vector<session_event::kind> k;
  for (auto& e : ev)
    k.push_back(e.what);
  return k;
}

using K = session_event::kind;

TEST(partner_session, handshake_both_ways_then_frames) {
  pair_of_sessions p;
  p.a.start();
  p.b.start();
  p.pump();
  ASSERT_EQ(kinds(p.ea), (std::vector<K>{K::hello}));
  ASSERT_EQ(kinds(p.eb), (std::vector<K>{K::hello}));
  EXPECT_EQ(p.ea[0].hello.node_name, "node-b");
  EXPECT_EQ(p.eb[0].hello.node_name, "node-a");
  p.a.accept(p.ea);
  p.pump();
  EXPECT_FALSE(p.a.up());
  p.b.accept(p.eb);
  EXPECT_TRUE(p.b.up()); // a's ACK was already there
  p.pump();
  EXPECT_TRUE(p.a.up());
  EXPECT_EQ(kinds(p.ea), (std::vector<K>{K::hello, K::up}));
  EXPECT_EQ(kinds(p.eb), (std::vector<K>{K::hello, K::up}));
  p.ea.clear();
  EXPECT_TRUE(p.b.send_heartbeat(5, 99));
  EXPECT_TRUE(p.b.send_sync(sync_payload{2, {1, 2}}));
  EXPECT_TRUE(p.b.send_heartbeat_ack(4, 77));
  p.pump();
  ASSERT_EQ(kinds(p.ea), (std::vector<K>{K::heartbeat, K::sync, K::heartbeat_ack}));
  EXPECT_EQ(p.ea[0].seq, 5u);
  EXPECT_EQ(p.ea[0].time_ns, 99u);
  EXPECT_EQ(p.ea[1].sync.channel, 2);
  EXPECT_EQ(p.ea[2].seq, 4u);
}

TEST(partner_session, sync_frames_are_data_and_the_rest_control) {
  pair_of_sessions p;
  p.a.start();
  p.b.start();
  p.pump();
  p.a.accept(p.ea);
  p.b.accept(p.eb);
  p.pump();
  ASSERT_TRUE(p.a.up());
  p.a.send_sync(sync_payload{1, {}});
  p.a.send_heartbeat(1, 1);
  auto out = p.a.take_output();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_FALSE(out[0].control);
  EXPECT_TRUE(out[1].control);
}

TEST(partner_session, nothing_is_sent_before_up) {
  session s(sample_hello());
  s.start();
  EXPECT_FALSE(s.send_heartbeat(1, 1));
  EXPECT_FALSE(s.send_sync(sync_payload{}));
  EXPECT_EQ(s.take_output().size(), 1u); // the HELLO only
}

TEST(partner_session, refusal_reaches_the_peer_with_its_reason) {
  pair_of_sessions p;
  p.a.start();
  p.b.start();
  p.pump();
  p.a.refuse("another partner is connected: node-c", p.ea);
  p.pump();
  ASSERT_EQ(kinds(p.ea), (std::vector<K>{K::hello, K::failed}));
  EXPECT_EQ(p.ea[1].cause, partner_down_cause::refused);
  ASSERT_EQ(kinds(p.eb), (std::vector<K>{K::hello, K::failed}));
  EXPECT_EQ(p.eb[1].cause, partner_down_cause::refused);
  EXPECT_EQ(p.eb[1].text, "partner node-a refused this node: another partner is connected: node-c");
}

TEST(partner_session, future_version_is_refused_with_both_versions_named) {
  session ours(sample_hello("node-a"));
  session future(sample_hello("node-z"), default_max_frame, 7);
  std::vector<session_event> eo, ef;
  ours.start();
  future.start();
  for (auto& f : future.take_output())
    ours.receive(f.bytes, eo);
  ASSERT_EQ(kinds(eo), (std::vector<K>{K::failed}));
  EXPECT_EQ(eo[0].cause, partner_down_cause::version_mismatch);
  EXPECT_EQ(eo[0].text, "partner node-z speaks protocol version 7, this node speaks 1");
  // The future node hears a REFUSE that says why (after our HELLO, which it refuses as well).
  for (auto& f : ours.take_output())
    future.receive(f.bytes, ef);
  ASSERT_FALSE(ef.empty());
  EXPECT_EQ(ef.back().cause, partner_down_cause::version_mismatch);
  EXPECT_TRUE(ours.failed());
}

TEST(partner_session, protocol_errors) {
  struct bad_case {
    std::vector<uint8_t> bytes;
    bool after_hello;
    std::string expect;
  };
  auto peer_hello = encode(sample_hello("node-b"));
  std::vector<bad_case> cases = {
      {{'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P'},
       false,
       "protocol error: bad magic 0x47455420 (expected \"TDMP\"): not a Tandem partner link"},
      {encode(heartbeat_msg{1, 1}), false,
       "protocol error: HEARTBEAT before the handshake finished"},
      {encode(hello_ack_msg{}), false, "protocol error: an unexpected HELLO_ACK"},
      {encode(sync_payload{1, {}}), true, "protocol error: SYNC before the handshake finished"},
      {peer_hello, true, "protocol error: a second HELLO"},
      {encode_raw(9, {}), true, "protocol error: unknown frame type 9"},
      {encode_raw(4, {1, 2}), true,
       "protocol error: HEARTBEAT frame: truncated at seq (payload "
       "is 2 bytes)"},
  };
  for (auto& c : cases) {
    session s(sample_hello());
    s.start();
    s.take_output();
    std::vector<session_event> ev;
    if (c.after_hello) s.receive(peer_hello, ev);
    ev.clear();
    s.receive(c.bytes, ev);
    ASSERT_EQ(kinds(ev), (std::vector<K>{K::failed})) << c.expect;
    EXPECT_EQ(ev[0].cause, partner_down_cause::protocol_error);
    EXPECT_EQ(ev[0].text, c.expect);
    // The peer is told why in a CLOSE.
    auto out = s.take_output();
    ASSERT_EQ(out.size(), 1u);
    message m;
    ASSERT_EQ(decode_frame(out[0].bytes, m), "");
    EXPECT_EQ(std::get<close_msg>(m).reason, c.expect);
    // Nothing more is read or reported.
    s.receive(encode(heartbeat_msg{1, 1}), ev);
    EXPECT_EQ(ev.size(), 1u);
  }
}

TEST(partner_session, up_session_rejects_handshake_frames) {
  pair_of_sessions p;
  p.a.start();
  p.b.start();
  p.pump();
  p.a.accept(p.ea);
  p.b.accept(p.eb);
  p.pump();
  ASSERT_TRUE(p.a.up());
  std::vector<session_event> ev;
  p.a.receive(encode(hello_ack_msg{}), ev);
  ASSERT_EQ(kinds(ev), (std::vector<K>{K::failed}));
  EXPECT_EQ(ev[0].text, "protocol error: an unexpected HELLO_ACK");
}

TEST(partner_session, close_from_the_peer_carries_its_reason) {
  pair_of_sessions p;
  p.a.start();
  p.b.start();
  p.pump();
  p.a.accept(p.ea);
  p.b.accept(p.eb);
  p.pump();
  p.b.close("node stopping", partner_down_cause::closed, "closed by this node", p.eb);
  p.pump();
  ASSERT_EQ(p.ea.back().what, K::failed);
  EXPECT_EQ(p.ea.back().cause, partner_down_cause::closed);
  EXPECT_EQ(p.ea.back().text, "the partner closed the link: node stopping");
}

TEST(partner_session, frames_beyond_the_limit_are_a_protocol_error) {
  session a(sample_hello("node-a"), 64);
  a.start();
  std::vector<session_event> ev;
  a.receive(encode(sample_hello("node-b")), ev);
  ev.clear();
  a.receive(encode(close_msg{std::string(100, 'x')}), ev);
  ASSERT_EQ(kinds(ev), (std::vector<K>{K::failed}));
  EXPECT_EQ(ev[0].text, "protocol error: CLOSE frame of 104 bytes exceeds the limit of 64 bytes");
}

} // namespace
