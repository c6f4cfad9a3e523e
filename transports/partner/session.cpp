#include "transports/partner/session.hpp"

#include <utility>

namespace tandem::partner {

session::session(partner_hello hello, uint32_t max_frame, uint16_t version)
    : hello_(std::move(hello)), version_(version), reader_(max_frame) {}

void session::queue(const message& m, bool control) {
  out_.push_back(out_frame{encode(m, version_), control});
}

void session::start() {
  if (state_ != state::fresh) return;
  queue(hello_);
  state_ = state::hello_sent;
}

std::vector<out_frame> session::take_output() {
  return std::exchange(out_, {});
}

void session::fail(partner_down_cause cause, std::string text, std::vector<session_event>& events) {
  state_ = state::failed;
  session_event e;
  e.what = session_event::kind::failed;
  e.cause = cause;
  e.text = std::move(text);
  events.push_back(std::move(e));
}

void session::protocol_error(std::string text, std::vector<session_event>& events) {
  // The peer learns why before the socket closes.
  queue(close_msg{"protocol error: " + text});
  fail(partner_down_cause::protocol_error, "protocol error: " + text, events);
}

void session::receive(bytes_view in, std::vector<session_event>& events) {
  if (state_ == state::failed) return;
  reader_.feed(in);
  frame_header h;
  std::vector<uint8_t> payload;
  std::string err;
  while (state_ != state::failed) {
    auto r = reader_.next(h, payload, err);
    if (r == frame_reader::result::need_more) return;
    if (r == frame_reader::result::error) return protocol_error(err, events);
    on_frame(h.type, payload, events);
  }
}

void session::on_frame(frame_type t, const std::vector<uint8_t>& payload,
                       std::vector<session_event>& events) {
  message m;
  auto err = decode_payload(t, payload, m);
  if (!err.empty()) return protocol_error(err, events);
  switch (t) {
  case frame_type::hello: {
    auto& h = std::get<partner_hello>(m);
    if (state_ != state::fresh && state_ != state::hello_sent)
      return protocol_error("a second HELLO", events);
    if (h.protocol_version != version_) {
      std::string who = h.node_name.empty() ? "the partner" : "partner " + h.node_name;
      queue(refuse_msg{hello_.node_name + " speaks partner protocol version " +
                       std::to_string(version_) + ", not " + std::to_string(h.protocol_version)});
      return fail(partner_down_cause::version_mismatch,
                  who + " speaks protocol version " + std::to_string(h.protocol_version) +
                      ", this node speaks " + std::to_string(version_),
                  events);
    }
    peer_ = h;
    state_ = state::deciding;
    session_event e;
    e.what = session_event::kind::hello;
    e.hello = h;
    events.push_back(std::move(e));
    return;
  }
  case frame_type::hello_ack:
    // The peer sends its HELLO before its HELLO_ACK, so an ACK is only expected after it.
    if ((state_ != state::deciding && state_ != state::accepted) || peer_acked_)
      return protocol_error("an unexpected HELLO_ACK", events);
    peer_acked_ = true;
    if (state_ == state::accepted) {
      state_ = state::up;
      session_event e;
      e.what = session_event::kind::up;
      events.push_back(std::move(e));
    }
    return;
  case frame_type::refuse: {
    auto reason = printable(std::get<refuse_msg>(m).reason);
    return fail(
        partner_down_cause::refused,
        (peer_.node_name.empty() ? std::string("the partner") : "partner " + peer_.node_name) +
            " refused this node: " + reason,
        events);
  }
  case frame_type::close: {
    auto reason = printable(std::get<close_msg>(m).reason);
    return fail(partner_down_cause::closed,
                "the partner closed the link: " + (reason.empty() ? "no reason given" : reason),
                events);
  }
  case frame_type::heartbeat:
  case frame_type::heartbeat_ack:
  case frame_type::sync:
    break;
  }
  if (state_ != state::up)
    return protocol_error(std::string(to_string(t)) + " before the handshake finished", events);
  session_event e;
  if (t == frame_type::heartbeat) {
    auto& hb = std::get<heartbeat_msg>(m);
    e.what = session_event::kind::heartbeat;
    e.seq = hb.seq;
    e.time_ns = hb.time_ns;
  } else if (t == frame_type::heartbeat_ack) {
    auto& hb = std::get<heartbeat_ack_msg>(m);
    e.what = session_event::kind::heartbeat_ack;
    e.seq = hb.seq;
    e.time_ns = hb.time_ns;
  } else {
    e.what = session_event::kind::sync;
    e.sync = std::move(std::get<sync_payload>(m));
  }
  events.push_back(std::move(e));
}

void session::accept(std::vector<session_event>& events) {
  if (state_ != state::deciding) return;
  queue(hello_ack_msg{});
  state_ = state::accepted;
  if (peer_acked_) {
    state_ = state::up;
    session_event e;
    e.what = session_event::kind::up;
    events.push_back(std::move(e));
  }
}

void session::refuse(const std::string& reason, std::vector<session_event>& events) {
  if (state_ == state::failed) return;
  queue(refuse_msg{reason});
  fail(partner_down_cause::refused,
       (peer_.node_name.empty() ? std::string("the partner") : "partner " + peer_.node_name) +
           " refused: " + reason,
       events);
}

bool session::send_heartbeat(uint64_t seq, uint64_t time_ns) {
  if (state_ != state::up) return false;
  queue(heartbeat_msg{seq, time_ns});
  return true;
}

bool session::send_heartbeat_ack(uint64_t seq, uint64_t time_ns) {
  if (state_ != state::up) return false;
  queue(heartbeat_ack_msg{seq, time_ns});
  return true;
}

bool session::send_sync(const sync_payload& p) {
  if (state_ != state::up) return false;
  queue(p, false);
  return true;
}

void session::close(const std::string& reason, partner_down_cause cause, std::string text,
                    std::vector<session_event>& events) {
  if (state_ == state::failed) return;
  queue(close_msg{reason});
  fail(cause, std::move(text), events);
}

} // namespace tandem::partner
