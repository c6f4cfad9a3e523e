#pragma once
/// The NODE supervisor: spawns the node's actors from its config, restarts one that fails (at most
/// `max_restarts` within `restart_window`, then the node is Faulted), routes injected faults, and
/// stops everything in order.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"
#include "config/config.hpp"
#include "storage/alarm_store.hpp"
#include "storage/event_store.hpp"
#include "storage/history_store.hpp"
#include "transports/opcua/client/link.hpp"
#include "transports/opcua/face/pair_space.hpp"
#include "transports/partner/link.hpp"
#include "transports/partner/pki.hpp"
#include "transports/smtp/mail.hpp"

namespace tandem {

/// What the process hosting the node hands the supervisor: storage and the edges to transports.
struct node_runtime {
  std::shared_ptr<storage::event_store> events; ///< opened by the caller; never null
  std::function<int64_t()> wall_now;            ///< Unix ms; tests give a virtual clock
  /// Item history and alarms, opened by the caller; null: no HISTORY / no ALARMS.
  std::shared_ptr<storage::history_store> history;
  std::shared_ptr<storage::alarm_store> alarms;
  /// Lines to record at start (config warnings), each as a `config_warning` event.
  std::vector<std::string> startup_warnings;
  /// Points the console transport at the (new) CONSOLE actor; empty in tests.
  std::function<void(const console_actor&)> attach_console;
  /// Stops accepting console connections; empty in tests.
  std::function<void()> stop_accepting;
  /// Points the HTTP transport at the (new) HTTP actor (spawned when http.listen is set); empty
  /// in tests.
  std::function<void(const http_actor&)> attach_http;
  /// Makes the link to server `index` (0 primary, 1 secondary) of a pair. Empty: the pairs are
  /// only reported as configured (tests of the supervisor alone).
  std::function<std::unique_ptr<opcua::server_link>(const config::pair_section&, int,
                                                    std::shared_ptr<opcua::link_events>)>
      make_link;
  /// The face of each pair (by alias) that clients reach at opc.tcp://host:port/<alias>;
  /// empty: no face (tests of the actors alone).
  std::map<std::string, std::shared_ptr<opcua::pair_space>> faces;
  /// Sends the NOTIFIER's mail. Empty, or notifications.smtp_url empty: no NOTIFIER.
  std::shared_ptr<smtp::mail_sender> mail_sender;
  /// Makes the partner link's transport with this node's HELLO. Empty: a master or backup runs
  /// its ELECTION without a link (tests of the supervisor alone).
  std::function<std::unique_ptr<partner::link_transport>(partner_hello,
                                                         std::shared_ptr<partner::link_events>)>
      make_partner_transport;
  uint16_t face_port = 0; ///< the OPC UA face's port, for the partner's death probe
  /// The certificate store of the partner link's TLS (the CONSOLE's certs, approve, reject,
  /// revoke); null: no partner link, or tests without one.
  std::shared_ptr<partner::pki_store> pki;
  /// OPC UA client sessions on the face now; empty: not counted.
  std::function<size_t()> client_sessions;
  caf::timespan flush_timeout = std::chrono::seconds(5);
  int max_restarts = 5;
  caf::timespan restart_window = std::chrono::seconds(60);
};

struct supervisor_state {
  config::node_config cfg;
  node_runtime rt;
  diagnostics_actor diag;
  console_actor console;
  http_actor http_api;                     ///< null when http.listen is empty
  notifier_actor notifier;                 ///< null when notifications are off
  election_actor election;                 ///< null for an independent node
  node_role role;                          ///< the ELECTION's last word (Running when independent)
  bool election_spawned = false;           ///< a later spawn is a restart
  history_actor history;                   ///< null without a history store
  alarms_actor alarms;                     ///< null without an alarm store
  sync_actor sync;                         ///< SYNC; null for an independent node
  std::map<std::string, pair_actor> pairs; ///< by alias
  caf::actor_clock::time_point started;
  bool shutting_down = false;
  bool faulted = false;
  bool stalled = false;
  std::map<std::string, std::deque<caf::actor_clock::time_point>> restarts;

  void report(severity sev, std::string kind, std::string text);
  void spawn_diagnostics();
  void spawn_console();
  void spawn_http();
  void spawn_notifier();
  void spawn_election();
  void spawn_history();
  void spawn_alarms();
  void spawn_sync(); ///< actors/sync.hpp; spawned with the ELECTION, which feeds it
  void spawn_pair(const config::pair_section& p);
  /// Tells every face the node's redundancy: RedundancySupport (Transparent when independent,
  /// else the standby mode) and ServerUriArray (this face's and the partner's ApplicationUri).
  void publish_redundancy();
  node_status status() const;
  /// Handles the end of a child; returns false when the exit was not from a child.
  bool child_ended(const caf::actor_addr& who, const caf::error& reason);

  node_actor::pointer self = nullptr;
  static inline const char* name = "supervisor";
};

node_actor::behavior_type supervisor(node_actor::stateful_pointer<supervisor_state> self,
                                     config::node_config cfg, node_runtime rt);

} // namespace tandem
