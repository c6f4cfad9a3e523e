#pragma once
/// OPC-SERVER: one actor per underlying OPC UA server.
///
///            connect                 link_up
///   idle ─────────────▶ connecting ───────────▶ connected ◀──────┐
///    ▲                    ▲   │                  │   │  ▲        │ status ok
///    │ disconnect         │   │ link_down        │   │  │        │
///    │ (from any state)   │   ▼                  │   ▼  │        │
///    │              retry │  lost ◀──────────────┘  status_timeout / unhealthy
///    │           (back-off)   ▲      link_down          (poll unanswered / not Running,
///    │                        └──────────────────────── ServiceLevel below the minimum)
///
/// A hung server is noticed status_timeout after it hung, whatever the poll's phase (silence
/// rule): while its subscription publishes (data or keep-alives, at least three keep-alive
/// periods within status_timeout), a server that has said nothing for half of status_timeout
/// gets a status poll at once, and one that has said nothing at all for status_timeout with
/// that poll unanswered is in status_timeout. A server that is only slow answers the poll; a
/// server that is quiet without publishing is judged by the polls alone.
///
/// Every state change goes to the owner as `server_state_change` and to DIAGNOSTICS as an event.
/// Time is read only through the actor clock (status interval, poll timeout, back-off), so the
/// deterministic tests drive it with a fake link.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "actors/interfaces.hpp"
#include "transports/opcua/client/link.hpp"

namespace tandem {

struct opc_server_config {
  std::string name; ///< "line1/primary"
  std::string url;
  caf::timespan status_interval = std::chrono::seconds(1);
  caf::timespan status_timeout = std::chrono::seconds(1);
  int32_t min_service_level = 1; ///< 0 = ServiceLevel not checked
  caf::timespan backoff_min = std::chrono::milliseconds(500);
  caf::timespan backoff_max = std::chrono::seconds(10);
  double publishing_ms = 100; ///< upstream subscription's publishing interval
  server_listener_actor owner;
  diagnostics_actor diagnostics;
  /// The owner's address when the actor should end with it (empty: it does not).
  caf::actor_addr parent;
  /// Makes the link; it reports through the events object it is given.
  std::function<std::unique_ptr<opcua::server_link>(std::shared_ptr<opcua::link_events>)> make_link;
};

struct opc_server_state {
  opc_server_config cfg;
  std::shared_ptr<opcua::link_events> events;
  std::unique_ptr<opcua::server_link> link;
  server_conn_state state = server_conn_state::idle;
  std::string detail;
  server_conn_state last_event = server_conn_state::idle; ///< state of the last event written
  bool want_connected = false;
  uint64_t generation = 0;
  uint64_t poll = 0; ///< number of the last poll sent
  bool poll_outstanding = false;
  caf::timespan backoff{0};
  bool retry_queued = false;
  int32_t service_level = -1;
  int32_t server_state = 7;
  uint64_t reconnects = 0;
  std::map<uint32_t, item_spec> items;
  std::map<uint32_t, uint32_t> item_results; ///< handle -> StatusCode of the last creation
  bool stalled = false;                      ///< stall_actor: the actor itself
  bool server_stalled = false;               ///< stall_server: the server is "hung"
  /// When the server last said anything on this connection (data, keep-alive, status reply,
  /// item results).
  caf::actor_clock::time_point last_heard{};
  caf::actor_clock::time_point poll_sent{}; ///< when the outstanding poll went out
  double keep_alive_ms = 0; ///< its subscription's keep-alive period; 0 = not publishing
  /// Whether silence alone may mean a hang: the subscription publishes, with keep-alives at
  /// least three times within status_timeout.
  bool silence_rule() const;
  void heard(); ///< the server said something now
  void send_poll();

  void set_state(server_conn_state s, std::string why);
  void start_connect();
  bool current(uint64_t gen) const { return gen == generation; }
  void on_status(const status_reply& r);
  server_snapshot snapshot() const;

  opc_server_actor::pointer self = nullptr;
  static inline const char* name = "opc_server";
};

opc_server_actor::behavior_type
opc_server(opc_server_actor::stateful_pointer<opc_server_state> self, opc_server_config cfg);

/// Link events that become messages to an OPC-SERVER actor (thread-safe).
std::shared_ptr<opcua::link_events> make_actor_link_events(const opc_server_actor& target);

} // namespace tandem
