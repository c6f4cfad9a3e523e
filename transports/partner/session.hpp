#pragma once
/// One partner-link connection's protocol state, without I/O: bytes in, events and frames out.
/// The socket side (link.hpp) and the fuzzer drive the same object.
///
///                 start(): HELLO sent
///   (new) ─────────────────────────────▶ hello_sent ──peer HELLO, same major──▶ deciding
///                                            │                                    │
///            peer HELLO of another major:    │                 accept(): HELLO_ACK sent
///            REFUSE sent, failed             │                                    ▼
///            (version_mismatch) ◀────────────┘                               accepted
///                                                                                 │
///   deciding ──refuse(): REFUSE sent──▶ failed (refused)      peer HELLO_ACK seen │ (before or
///                                                              after accept())    ▼  after)
///                                                                                up
///   up: HEARTBEAT, HEARTBEAT_ACK and SYNC are reported; CLOSE ends it (closed).
///
///   In any state but failed: peer REFUSE -> failed (refused); peer CLOSE -> failed (closed);
///   a malformed frame, an unknown frame type, or a frame the state does not allow (a second
///   HELLO, HEARTBEAT before up, HELLO_ACK after up…) -> CLOSE with the reason sent, failed
///   (protocol_error). After failed nothing is read or reported; the owner flushes what was
///   queued and closes the socket.

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "transports/partner/protocol.hpp"

namespace tandem::partner {

/// What the session tells its owner.
struct session_event {
  enum class kind { hello, up, heartbeat, heartbeat_ack, sync, failed };
  kind what = kind::failed;
  partner_hello hello;                                   ///< kind::hello
  uint64_t seq = 0;                                      ///< heartbeat, heartbeat_ack
  uint64_t time_ns = 0;                                  ///< heartbeat, heartbeat_ack
  sync_payload sync;                                     ///< kind::sync
  partner_down_cause cause = partner_down_cause::closed; ///< kind::failed
  std::string text;                                      ///< kind::failed
};

/// A frame to write; control frames (handshake, heartbeats, CLOSE) go before queued SYNC data.
struct out_frame {
  std::vector<uint8_t> bytes;
  bool control = true;
};

class session {
public:
  enum class state { fresh, hello_sent, deciding, accepted, up, failed };

  /// `hello`: this node's HELLO; `max_frame`: the largest payload accepted from the peer.
  session(partner_hello hello, uint32_t max_frame = default_max_frame,
          uint16_t version = protocol_version);

  /// Queues this node's HELLO.
  void start();
  /// Bytes from the peer; appends what happened to `events` (nothing once failed).
  void receive(bytes_view in, std::vector<session_event>& events);
  /// The owner's decision on the peer's HELLO (only in `deciding`; ignored otherwise).
  void accept(std::vector<session_event>& events);
  void refuse(const std::string& reason, std::vector<session_event>& events);
  /// Frames of an established session (false, nothing queued, when not up).
  bool send_heartbeat(uint64_t seq, uint64_t time_ns);
  bool send_heartbeat_ack(uint64_t seq, uint64_t time_ns);
  bool send_sync(const sync_payload& p);
  /// Queues CLOSE (any state but failed) and fails with `cause` and `text`.
  void close(const std::string& reason, partner_down_cause cause, std::string text,
             std::vector<session_event>& events);
  /// Frames to write, oldest first (the owner orders control before data).
  std::vector<out_frame> take_output();

  state current() const { return state_; }
  bool up() const { return state_ == state::up; }
  bool failed() const { return state_ == state::failed; }
  const partner_hello& peer() const { return peer_; }
  const partner_hello& own() const { return hello_; }
  void set_own(const partner_hello& h) { hello_ = h; }

private:
  void on_frame(frame_type t, const std::vector<uint8_t>& payload,
                std::vector<session_event>& events);
  void fail(partner_down_cause cause, std::string text, std::vector<session_event>& events);
  void protocol_error(std::string text, std::vector<session_event>& events);
  void queue(const message& m, bool control = true);

  partner_hello hello_;
  partner_hello peer_;
  uint16_t version_;
  frame_reader reader_;
  state state_ = state::fresh;
  bool peer_acked_ = false;
  std::vector<out_frame> out_;
};

} // namespace tandem::partner
