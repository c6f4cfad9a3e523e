#pragma once
/// Messages of the PARTNER LINK: what a node tells its partner in its HELLO, what the link's
/// transport reports to the PARTNER LINK actor (tagged with the connection's number), and what the
/// PARTNER LINK reports to its listener (the ELECTION) and accepts from it.
/// The wire encoding of these is transports/partner/protocol.hpp; these are plain data.

#include <cstdint>
#include <string>
#include <vector>

#include "caf/meta/type_name.hpp"
#include "caf/timespan.hpp"

namespace tandem {

/// A node's role in the config, as it travels in the HELLO.
enum class partner_role : uint8_t { independent = 0, master = 1, backup = 2 };

/// A node's state as operators know it (CONSOLE.md), as it travels in the HELLO.
enum class partner_state : uint8_t {
  unknown = 0,
  running = 1,
  standby = 2,
  faulted = 3,
  disconnected = 4,
};

inline const char* to_string(partner_role r) {
  switch (r) {
  case partner_role::independent:
    return "independent";
  case partner_role::master:
    return "master";
  case partner_role::backup:
    return "backup";
  }
  return "?";
}

inline const char* to_string(partner_state s) {
  switch (s) {
  case partner_state::unknown:
    return "Unknown";
  case partner_state::running:
    return "Running";
  case partner_state::standby:
    return "Standby";
  case partner_state::faulted:
    return "Faulted";
  case partner_state::disconnected:
    return "Disconnected";
  }
  return "?";
}

/// Monotonic stamp of recorded data: compare epochs, not roles.
struct data_epoch {
  uint64_t term = 0;
  uint64_t seq = 0;
};

inline bool operator==(const data_epoch& a, const data_epoch& b) {
  return a.term == b.term && a.seq == b.seq;
}
inline bool operator<(const data_epoch& a, const data_epoch& b) {
  return a.term != b.term ? a.term < b.term : a.seq < b.seq;
}

/// What a node says about itself when a link opens (the HELLO frame).
struct partner_hello {
  uint16_t protocol_version = 0; ///< major version; filled in by the codec when encoding
  std::string node_name;
  partner_role role = partner_role::independent;
  std::string config_digest; ///< hex SHA-256 of the shared settings (docs/CONFIG.md)
  data_epoch epoch;
  uint64_t running_total_ms = 0; ///< accumulated Running time, surviving restarts
  partner_state state = partner_state::unknown;
  bool maintenance = false;
  uint16_t face_port = 0;    ///< the node's OPC UA face port (the death probe tries it); 0: none
  int64_t start_time_ms = 0; ///< Unix ms when the node started
  /// The face's IP address when it is not the one the link comes from (a dedicated link
  /// interface); "" = the link's. Minor revision 1 of the HELLO: absent from older nodes.
  std::string face_host;
};

/// Why a partner link went down (or a connection attempt failed after the TCP connect).
enum class partner_down_cause : uint8_t {
  closed,            ///< the link closed (EOF, reset, socket error, CLOSE); partner may live
  partner_gone,      ///< closed, and the death probe found both partner ports refused
  heartbeat_timeout, ///< nothing received for ping_timeout_ms
  missed_pings,      ///< missed_pings heartbeats in a row unanswered
  protocol_error,    ///< malformed frame, unknown frame type, handshake out of order or too slow
  refused,           ///< the partner refused this node, or this node refused the partner
  version_mismatch,  ///< the partner speaks another major protocol version
  untrusted,         ///< TLS: a certificate was refused (not trusted, expired, name mismatch)
};

inline const char* to_string(partner_down_cause c) {
  switch (c) {
  case partner_down_cause::closed:
    return "closed";
  case partner_down_cause::partner_gone:
    return "partner_gone";
  case partner_down_cause::heartbeat_timeout:
    return "heartbeat_timeout";
  case partner_down_cause::missed_pings:
    return "missed_pings";
  case partner_down_cause::protocol_error:
    return "protocol_error";
  case partner_down_cause::refused:
    return "refused";
  case partner_down_cause::version_mismatch:
    return "version_mismatch";
  case partner_down_cause::untrusted:
    return "untrusted";
  }
  return "?";
}

/// Opaque bytes of the SYNC actor on one channel; the link carries them in order. To the PARTNER
/// LINK: send to the partner. From it (to the sync sink): received from the partner.
struct sync_payload {
  uint16_t channel = 0;
  std::vector<uint8_t> bytes;
};

// -- PARTNER LINK -> listener (ELECTION) ---------------------------------------------------------

/// The link is up: handshake done both ways. `hello` is the partner's.
struct partner_up {
  partner_hello hello;
  std::string address;  ///< remote host:port of the connection
  bool inbound = false; ///< the partner dialed this node
};

/// The link is down, or the partner is lost.
/// `lost` is true when the partner must now be considered gone: the death probe was certain
/// (partner_gone) or a heartbeat rule expired (heartbeat_timeout, missed_pings, also reported
/// after a `closed` link that did not come back before the heartbeat rule would have expired).
/// `lost` is false when only the link is down (closed and uncertain, or a refused handshake).
struct partner_down {
  partner_down_cause cause = partner_down_cause::closed;
  bool lost = false;
  std::string text;    ///< for people: what happened
  std::string partner; ///< the partner's name when known
};

/// Heartbeat statistics, sent on every heartbeat answer.
struct partner_heartbeat {
  caf::timespan rtt{0}; ///< round trip of the heartbeat just answered
  uint64_t seq = 0;     ///< its number
  int64_t at_ns = 0;    ///< when the answer arrived (actor clock, ns since its epoch)
};

/// The answer to `status`.
struct partner_link_status {
  std::string link = "down"; ///< down | connecting | handshake | up
  std::string partner;       ///< partner's node name once known
  std::string address;       ///< partner address (config or remote end)
  bool has_heartbeat = false;
  caf::timespan last_heartbeat_age{0}; ///< since the last frame received (when has_heartbeat)
  caf::timespan rtt{0};                ///< of the last answered heartbeat
  uint64_t reconnects = 0;
  std::string last_down; ///< cause and text of the last down, "" when none
  partner_hello hello;   ///< the partner's last hello (when partner is not empty)
};

// -- transport -> PARTNER LINK (INTERNAL), tagged with the connection number --------------------

/// A connection's peer sent a HELLO of this node's major version: accept or refuse it.
struct pl_hello {
  uint64_t conn = 0;
  bool inbound = false;
  partner_hello hello;
};

/// Handshake done both ways on `conn`.
struct pl_up {
  uint64_t conn = 0;
  std::string remote_host; ///< remote address of the connection (the death probe's target)
  uint16_t remote_port = 0;
};

/// Connection `conn` failed or closed (no report follows for it).
struct pl_down {
  uint64_t conn = 0;
  partner_down_cause cause = partner_down_cause::closed;
  std::string text;
  bool abrupt = false; ///< EOF, reset or socket error (not CLOSE, not a local decision)
};

/// A frame of an established connection. kind: heartbeat, heartbeat_ack.
struct pl_heartbeat {
  uint64_t conn = 0;
  bool ack = false; ///< false: HEARTBEAT from the partner; true: HEARTBEAT_ACK to ours
  uint64_t seq = 0;
  uint64_t time_ns = 0; ///< sender's clock (HEARTBEAT), echo of ours (ACK)
};

struct pl_sync {
  uint64_t conn = 0;
  sync_payload payload;
};

/// Outcome of the death probe of `conn`'s partner.
struct pl_probe {
  uint64_t conn = 0;
  bool gone = false; ///< both ports refused
  std::string text;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, data_epoch& x) {
  return f(caf::meta::type_name("data_epoch"), x.term, x.seq);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, partner_hello& x) {
  return f(caf::meta::type_name("partner_hello"), x.protocol_version, x.node_name, x.role,
           x.config_digest, x.epoch, x.running_total_ms, x.state, x.maintenance, x.face_port,
           x.start_time_ms, x.face_host);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, sync_payload& x) {
  return f(caf::meta::type_name("sync_payload"), x.channel, x.bytes);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, partner_up& x) {
  return f(caf::meta::type_name("partner_up"), x.hello, x.address, x.inbound);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, partner_down& x) {
  return f(caf::meta::type_name("partner_down"), x.cause, x.lost, x.text, x.partner);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, partner_heartbeat& x) {
  return f(caf::meta::type_name("partner_heartbeat"), x.rtt, x.seq, x.at_ns);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, partner_link_status& x) {
  return f(caf::meta::type_name("partner_link_status"), x.link, x.partner, x.address,
           x.has_heartbeat, x.last_heartbeat_age, x.rtt, x.reconnects, x.last_down, x.hello);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, pl_hello& x) {
  return f(caf::meta::type_name("pl_hello"), x.conn, x.inbound, x.hello);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, pl_up& x) {
  return f(caf::meta::type_name("pl_up"), x.conn, x.remote_host, x.remote_port);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, pl_down& x) {
  return f(caf::meta::type_name("pl_down"), x.conn, x.cause, x.text, x.abrupt);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, pl_heartbeat& x) {
  return f(caf::meta::type_name("pl_heartbeat"), x.conn, x.ack, x.seq, x.time_ns);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, pl_sync& x) {
  return f(caf::meta::type_name("pl_sync"), x.conn, x.payload);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, pl_probe& x) {
  return f(caf::meta::type_name("pl_probe"), x.conn, x.gone, x.text);
}

} // namespace tandem
