#pragma once
/// PAIR: one redundant server pair. Spawns an OPC-SERVER for the primary and one for the
/// secondary, and decides which is active:
///
///   active = the pinned server (operator `switch`) while it is healthy;
///            else the current one while it is healthy;
///            else the other one if it is healthy              -> failover (cause: why the
///                                                                 active one is not healthy)
///            else nobody new: the pair reports no data (ServiceLevel 1) until one recovers.
///   At start the primary is preferred: the secondary becomes active first only when the
///            primary has failed, or after status_timeout_ms without it.
///   return_to_primary: running on the secondary, not pinned, the primary healthy for
///            return_settle_ms without interruption            -> back to the primary.
///
/// Modes decide what the standby does: cold: disconnected (connected only on failover; when
/// neither answers the PAIR alternates between them with back-off); warm: connected, its items
/// Sampling (the server samples and queues, reports nothing: OPC UA Part 4 6.6.2.4.5.4), switched
/// to Reporting on failover, when the server delivers its queue and the PAIR forwards what came
/// after the last change forwarded; hot: connected and reporting (the face will take its stream
/// over at failover).
/// Every failover is written to DIAGNOSTICS with its cause.

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "actors/interfaces.hpp"
#include "config/config.hpp"
#include "transports/opcua/client/link.hpp"
#include "transports/opcua/face/pair_space.hpp"

namespace tandem {

struct pair_actor_config {
  config::pair_section pair;
  diagnostics_actor diagnostics;
  std::function<int64_t()> wall_now; ///< Unix ms, for failover records
  /// Makes the link of server 0 (primary) or 1 (secondary).
  std::function<std::unique_ptr<opcua::server_link>(int, std::shared_ptr<opcua::link_events>)>
      make_link;
  caf::timespan alternate_min = std::chrono::seconds(1); ///< cold mode, nobody answering
  caf::timespan alternate_max = std::chrono::seconds(30);
  /// What clients see of the pair (null: no face, as in the actor tests).
  std::shared_ptr<opcua::pair_space> face;
  /// Records the active server's values of clients' and monitors' items (null: no history).
  history_actor history;
  /// This node's role (the SUPERVISOR passes the ELECTION's word on): only a Running node
  /// records history; a Standby's clients see a lower ServiceLevel, a node in maintenance 0.
  node_role role{"Running", "independent", 0};
  /// redundancy.standby = cold on a master or backup: while not Running, connect to no server.
  bool cold_standby = false;
  /// Told the items this node's clients begin to watch, and those they stopped watching for
  /// unused_item_linger_ms (null: nobody; the partner never hears of them).
  item_set_listener_actor items_owner;
  caf::actor_addr parent;
};

struct pair_state {
  pair_actor_config cfg;
  std::array<opc_server_actor, 2> servers;
  std::array<server_conn_state, 2> states{server_conn_state::idle, server_conn_state::idle};
  std::array<std::string, 2> details;
  monitor_actor monitor;                       ///< null without conditions
  std::array<std::vector<bool>, 2> conditions; ///< failing monitor conditions per server
  std::array<std::string, 2> condition_text;   ///< the last failing one, for people
  int active = -1;                             ///< -1 none, 0 primary, 1 secondary
  int pinned = -1;                             ///< the operator's choice, while it lasts
  int cold_target = 0;
  std::string failure_cause; ///< why the active server stopped being healthy
  caf::timespan alternate_delay{0};
  uint64_t alternate_gen = 0;
  bool primary_settling = false;
  bool primary_grace =
      true; ///< at start, wait status_timeout_ms for the primary before the secondary
  uint64_t settle_gen = 0;
  uint64_t failovers = 0;
  std::map<std::string, uint64_t> failovers_by_cause; ///< for /metrics
  bool has_last_failover = false;
  failover_record last_failover;
  uint64_t values_forwarded = 0;
  /// Items clients of the face subscribe to, by handle (hashed: looked up twice for every value
  /// forwarded).
  std::unordered_map<uint32_t, item_spec> face_items;
  /// Hot mode: each server's latest changes per face item (a short window), and the source
  /// time of the last change forwarded per item, so a failover forwards the standby's changes
  /// the failed server never delivered, in order. The window keeps only changes newer than the
  /// last one forwarded (with both servers in step, none), bounded by window_ticks() and
  /// max_window for a server that hangs.
  std::array<std::unordered_map<uint32_t, std::deque<item_update>>, 2> window;
  std::unordered_map<uint32_t, int64_t> last_forwarded;
  /// Warm mode: after a failover, per face item, the source time of the last change forwarded
  /// from the failed server. The new server reports what it queued while Sampling (oldest
  /// first); changes up to that time were forwarded already and are dropped, the first later one
  /// ends the item's catch-up.
  std::unordered_map<uint32_t, int64_t> catch_up_after;
  /// The catch-up ends at this time whatever comes (the servers' clocks may disagree: a server
  /// whose clock is behind must not be silenced for longer).
  caf::actor_clock::time_point catch_up_until{};
  static constexpr caf::timespan catch_up_for = std::chrono::seconds(1);
  /// How often items no client watches are looked for, and after how many sweeps in a row
  /// without a client they are removed (unused_item_linger_ms).
  caf::timespan sweep_every() const;
  uint32_t sweeps_to_remove() const;
  /// Forgets face items (removed from the face) and deletes them on both servers.
  void remove_face_items(const std::vector<uint32_t>& handles);
  /// The window reaches back as far as a hung server can go unnoticed (status interval and
  /// timeout, one upstream publishing interval, and a margin), at most max_window per item.
  int64_t window_ticks() const {
    return (cfg.pair.status_interval_ms + cfg.pair.status_timeout_ms + cfg.pair.publishing_ms +
            500) *
           10000;
  }
  static constexpr size_t max_window = 4096;
  /// `verify` requests waiting for both servers' address spaces.
  std::map<uint64_t, caf::typed_response_promise<verify_result>> verifies;
  uint64_t next_verify = 1;

  static const char* which(int i) { return i == 0 ? "primary" : i == 1 ? "secondary" : "none"; }
  /// 0 or 1 for one of this pair's OPC-SERVER names ("line1/primary"), -1 for anything else.
  int server_index(const std::string& server) const {
    return server == cfg.pair.alias + "/primary"     ? 0
           : server == cfg.pair.alias + "/secondary" ? 1
                                                     : -1;
  }
  bool condition_failing(int i) const;
  /// Connected, whatever its monitor conditions say: its data still reaches clients when no
  /// server is healthy (availability first; the values carry their own status).
  bool serving(int i) const { return i >= 0 && states[i] == server_conn_state::connected; }
  bool healthy(int i) const {
    return i >= 0 && states[i] == server_conn_state::connected && !condition_failing(i);
  }
  /// Re-decides the active server; `cause` names an operator or settle decision.
  void evaluate(const std::string& cause = "");
  void activate(int to, const std::string& cause);
  void apply_mode();
  /// Sends the face items to both servers with the mode each should report in.
  void monitor_face_items(const std::vector<item_spec>& items);
  /// Forwards the active server's changes of face items to the face.
  /// Delivers server `server`'s changes to the face as the mode says; answers those delivered.
  /// Takes the changes over: what is delivered or kept in the hot window is moved, not copied
  /// (at full load hundreds of thousands of values a second pass here).
  std::vector<item_update> forward(int server, std::vector<item_update> updates);
  /// Records what clients were given and the monitors' values (`monitored`) while this node is
  /// Running.
  void record(std::vector<item_update> forwarded, const std::vector<item_update>& monitored);
  /// Keeps the face's view (active server, ServiceLevel) current.
  void update_face();
  int service_level() const;
  /// Whether this node records the active server's values (it is Running).
  bool recording() const { return cfg.role.running(); }
  /// A cold standby that is not Running connects to no server.
  bool dormant() const { return cfg.cold_standby && !cfg.role.running(); }
  /// The highest ServiceLevel this node's role allows (OPC UA Part 4 6.6.2.4.2: 0 maintenance,
  /// 1 no data): a Standby stays below what a healthy Running node reports.
  int role_cap() const;
  pair_status status() const;

  pair_actor::pointer self = nullptr;
  static inline const char* name = "pair";
};

pair_actor::behavior_type pair(pair_actor::stateful_pointer<pair_state> self,
                               pair_actor_config cfg);

} // namespace tandem
