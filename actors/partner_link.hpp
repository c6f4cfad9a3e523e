#pragma once
/// PARTNER LINK: the connection to the partner node (one per node with a partner).
///
///                 dial (backup at start, `connect`, retry after back-off)
///     down ─────────────────────────────────▶ connecting
///      ▲ ▲                                        │ TCP connected (or accepted: any state but up)
///      │ │  dial failed / handshake failed:       ▼
///      │ └───── back-off 100 ms doubling ◀─── handshake ── partner HELLO: accept, or refuse
///      │        to 5 s, reset when up             │         (own name; another partner is
///      │                                          │          connected: NAME)
///      │                                          ▼ both HELLO_ACKs
///      │   heartbeat_timeout / missed_pings     up ◀── HEARTBEAT answered, HEARTBEAT_ACK → rtt,
///      ├──────────────────────────────────────── │      SYNC both ways
///      │   (lost: reported at once)               │
///      │                                          │ closed by EOF/RST/error
///      │                                          ▼
///      │                                     death probe: link port and face port
///      │   both refused: partner_gone (lost)      │
///      ├──────────────────────────────────────────┤
///      │   otherwise: closed (not lost) ──────────┘ … and if the link is not up again when the
///      │                                            heartbeat rule would have expired:
///      └──────────────────────────────────────────  heartbeat_timeout / missed_pings (lost)
///
///   A CLOSE from the partner, a protocol error or a partner that stops reading: closed (not
///   lost), then the heartbeat rule as above. Refusals and version mismatches during the handshake
///   go to the listener as partner_down (not lost), once per distinct text.
///
/// Loss rules, while up: the partner is lost when nothing was received for ping_timeout_ms, or
/// when missed_pings heartbeats in a row were missed (a heartbeat is missed when its answer has
/// not come by the time the next one is due), whichever comes first. A rule that fires is
/// confirmed by a message the actor sends itself, so frames already waiting in its mailbox (a
/// busy machine) count before the partner is declared lost. The listener hears
/// partner_up, partner_down, partner_heartbeat and (unless a sync sink is given) sync_payload;
/// DIAGNOSTICS hears partner_connected, partner_disconnected, partner_lost, partner_refused.
/// Time is read only through the actor clock, so the deterministic tests drive it with a fake
/// transport.

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "actors/interfaces.hpp"
#include "config/config.hpp"
#include "transports/partner/link.hpp"

namespace tandem {

struct partner_link_config {
  partner_hello hello;            ///< this node's HELLO (node_name must be set)
  bool dial = false;              ///< dial the partner on its own (the backup does)
  std::string partner;            ///< partner's link address host:port, for status and diagnostics
  uint16_t partner_link_port = 0; ///< the death probe tries this port (redundancy.partner's)
  caf::timespan ping_interval = std::chrono::seconds(1);
  caf::timespan ping_timeout = std::chrono::seconds(3);
  int64_t missed_pings = 3;
  caf::timespan backoff_min = std::chrono::milliseconds(100);
  caf::timespan backoff_max = std::chrono::seconds(5);
  partner_listener_actor listener;
  sync_sink_actor sync_sink; ///< empty: SYNC payloads go to the listener
  diagnostics_actor diagnostics;
  /// The owner's address when the actor should end with it (empty: it does not).
  caf::actor_addr parent;
  /// Makes the transport; it reports through the events object it is given.
  std::function<std::unique_ptr<partner::link_transport>(std::shared_ptr<partner::link_events>)>
      make_transport;
};

/// Timers, addresses and dialing from the node config ([redundancy]); the caller sets hello,
/// listener, diagnostics and make_transport.
partner_link_config partner_link_config_from(const config::node_config& cfg);

/// Transport options from the node config (listen, partner, link_bind).
partner::tcp_link_options tcp_link_options_from(const config::node_config& cfg);

struct partner_link_state {
  enum class link { down, connecting, handshake, up };

  partner_link_state() = default;
  partner_link_state(const partner_link_state&) = delete;
  partner_link_state& operator=(const partner_link_state&) = delete;
  /// The sockets close with the actor.
  ~partner_link_state() {
    if (transport) transport->stop();
  }

  partner_link_config cfg;
  std::shared_ptr<partner::link_events> events;
  std::unique_ptr<partner::link_transport> transport;

  link state = link::down;
  bool dialing_enabled = false;
  uint64_t dial_conn = 0;     ///< outstanding dial (0: none)
  uint64_t accepted_conn = 0; ///< candidate accepted, handshake not finished (0: none)
  uint64_t up_conn = 0;       ///< the established link (0: none)
  std::set<uint64_t> refused; ///< connections this node refused (their down is expected)

  partner_hello peer;
  bool has_peer = false;
  std::string remote_host;
  uint16_t remote_port = 0;
  bool inbound = false;

  uint64_t gen = 0; ///< generation of the current up link (heartbeat and silence timers)
  uint64_t hb_seq = 0;
  bool hb_outstanding = false; ///< the last heartbeat sent is not answered yet
  int64_t missed = 0;
  caf::actor_clock::time_point last_rx{};
  bool has_rx = false;
  caf::timespan rtt{0};
  bool has_rtt = false;
  bool silence_armed = false; ///< a silence check of this generation is scheduled
  bool confirming = false;    ///< a confirm_loss message is on its way

  caf::timespan backoff{0};
  caf::timespan listen_backoff{0}; ///< retrying redundancy.listen (0: listening or not yet tried)
  uint64_t retry_gen = 0;
  uint64_t down_gen = 0;   ///< numbers the heartbeat-rule deadline after an uncertain close
  uint64_t probe_conn = 0; ///< conn whose death probe is outstanding
  std::string probe_text;  ///< the close text waiting for the probe's outcome
  uint64_t reconnects = 0;
  uint64_t sync_dropped = 0;
  std::string last_down;
  std::string last_failure; ///< last handshake failure told (told once per distinct text)

  // -- decisions -------------------------------------------------------------------------------
  void start();
  void dial_now();
  void schedule_retry();
  void on_hello(pl_hello& m);
  void on_up(pl_up& m);
  void on_down(pl_down& m);
  void on_probe(pl_probe& m);
  void on_heartbeat(pl_heartbeat& m);
  void on_tick(uint64_t g);
  void on_silence(uint64_t g);
  void arm_silence(caf::timespan after);
  /// A loss rule fired: confirmed (or not) once the mailbox before it is handled.
  void confirm_loss();
  void on_confirm(uint64_t g);
  void on_lost_after(uint64_t g);
  /// The established link is gone: stop its timers, tell, reconnect.
  void link_gone(partner_down_cause cause, bool lost, std::string text);
  /// After an uncertain close: lost when the heartbeat rule would have expired.
  void arm_lost_deadline();
  void report_failure(partner_down_cause cause, const std::string& text);
  void event(severity sev, const char* kind, std::string text);
  partner_link_status status() const;
  uint64_t now_ns() const;
  std::string partner_name() const { return has_peer ? peer.node_name : std::string("partner"); }

  partner_link_actor::pointer self = nullptr;
  static inline const char* name = "partner_link";
};

partner_link_actor::behavior_type
partner_link(partner_link_actor::stateful_pointer<partner_link_state> self,
             partner_link_config cfg);

/// Transport events that become messages to a PARTNER LINK actor (thread-safe; holds only the
/// actor's address).
std::shared_ptr<partner::link_events> make_partner_link_events(const partner_link_actor& target);

} // namespace tandem
