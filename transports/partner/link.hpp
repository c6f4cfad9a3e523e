#pragma once
/// The PARTNER LINK actor's view of the sockets: commands it gives (`link_transport`) and reports
/// it receives (`link_events`), every report tagged with the connection's number. The real
/// transport runs on Asio (TCP over `byte_stream`); the actor tests use a fake one.
///
/// Policy lives in the actor (whether to accept a partner's HELLO, heartbeats, loss rules,
/// back-off); the transport owns what only sockets can do: connecting, listening, framing, the
/// handshake deadline, the bounded write queue and the death probe.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "messages/partner.hpp"
#include "transports/partner/protocol.hpp"

namespace tandem::partner {
class tls_context;
}

namespace tandem::partner {

/// Where a transport's reports go. Called from the transport's strand; must not block.
class link_events {
public:
  virtual ~link_events() = default;
  /// The peer of `conn` sent a HELLO of this node's major version: accept() or refuse() it.
  virtual void hello(pl_hello m) = 0;
  /// Both sides accepted: the link is up.
  virtual void up(pl_up m) = 0;
  /// The connection is gone (dial failed, handshake failed, closed, error); nothing follows.
  virtual void down(pl_down m) = 0;
  virtual void heartbeat(pl_heartbeat m) = 0;
  virtual void sync(pl_sync m) = 0;
  /// Outcome of probe().
  virtual void probe(pl_probe m) = 0;
};

/// Commands; every call returns at once.
class link_transport {
public:
  virtual ~link_transport() = default;
  /// Opens the listening socket; "" or why it could not (address in use…). Accepted connections
  /// get their numbers from the transport and report like dialed ones (inbound = true).
  virtual std::string listen() = 0;
  /// The port actually listened on (0 when not listening).
  virtual uint16_t listen_port() const = 0;
  /// Dials the partner: a new connection, whose number is returned. Reports hello, up, down.
  virtual uint64_t dial() = 0;
  /// This node's HELLO for connections opened from now on.
  virtual void set_hello(const partner_hello& h) = 0;
  /// The decision on a reported hello.
  virtual void accept(uint64_t conn) = 0;
  /// Sends REFUSE with the reason and closes; reports down (refused).
  virtual void refuse(uint64_t conn, const std::string& reason) = 0;
  virtual void heartbeat(uint64_t conn, uint64_t seq, uint64_t time_ns) = 0;
  virtual void heartbeat_ack(uint64_t conn, uint64_t seq, uint64_t time_ns) = 0;
  virtual void sync(uint64_t conn, sync_payload p) = 0;
  /// Sends CLOSE with the reason and closes; no report follows.
  virtual void close(uint64_t conn, const std::string& reason) = 0;
  /// Closes abruptly, as a network failure would (fault drop_link): reports down (abrupt).
  virtual void drop(uint64_t conn) = 0;
  /// The death probe: connects to host:link_port and face_host:face_port (face_host "" = host)
  /// at once; reports probe with gone = true only when both are refused (ECONNREFUSED).
  virtual void probe(uint64_t conn, const std::string& host, uint16_t link_port,
                     const std::string& face_host, uint16_t face_port) = 0;
  /// Fault delay_link: every heartbeat, answer and SYNC, both ways, is held this long before it is
  /// sent or reported (0: off). Handshakes and closes are not delayed.
  virtual void set_delay(std::chrono::milliseconds d) = 0;
  /// Closes every socket; no report follows.
  virtual void stop() = 0;
};

struct tcp_link_options {
  std::string listen_host = "0.0.0.0"; ///< "" = do not listen
  uint16_t listen_port = 8099;         ///< 0: any free port (tests)
  std::string partner_host;            ///< "" = cannot dial
  uint16_t partner_port = 0;
  std::string bind_host; ///< local address for dialing (redundancy.link_bind); "" = any
  uint32_t max_frame = default_max_frame;
  /// Bytes queued for a partner that does not read before the link is dropped. Dropping (not
  /// back-pressure): the link's frames are heartbeats and the SYNC stream; a partner that stops
  /// reading for this long is hung, holding the node's actors back for it would spread the hang,
  /// and a reconnect starts with a full sync anyway.
  size_t max_queued_bytes = 2 * static_cast<size_t>(default_max_frame) + (1u << 20);
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds handshake_timeout{3000}; ///< from TCP connect to link up
  std::chrono::milliseconds probe_timeout{1000};
  size_t max_pending = 4; ///< accepted connections still in their handshake, at most
  /// TLS with mutual authentication (tls_stream.hpp) on every connection, before the HELLO. A node
  /// always sets it (tools/node_cmd.cpp); null (plain TCP) is left for the transport's own tests.
  std::shared_ptr<tls_context> tls;
};

/// The real transport: TCP (TLS when `opts.tls` is set) on `io` (all of it on one strand). With
/// TLS, a certificate the peer presents that is not trusted is reported as down with cause
/// `untrusted` (never a hello), and when an operator withdraws trust in a connected partner's
/// certificate (pki_store::revoke/reject) the link is closed at once with that cause.
std::unique_ptr<link_transport> make_tcp_transport(boost::asio::io_context& io,
                                                   tcp_link_options opts, partner_hello own,
                                                   std::shared_ptr<link_events> events);

} // namespace tandem::partner
