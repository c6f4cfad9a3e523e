#pragma once
/// ELECTION: the actor around election_logic (the rules, actors/election_logic.hpp). It owns the
/// timers (connection wait, role record), the clock-based accounting of Running time, and the
/// traffic with the partner's ELECTION (SYNC channel 1, one JSON message per payload); other SYNC
/// channels go on to the sync sink. Every change of state is told to the owner (`node_role`),
/// written to the diagnostics log and put into this node's HELLO for the next handshake.

#include <cstdint>
#include <functional>
#include <string>

#include "actors/election_logic.hpp"
#include "actors/interfaces.hpp"
#include "storage/role_record.hpp"

namespace tandem {

struct election_config {
  std::string node_name;
  election_settings settings;
  caf::timespan connection_wait = std::chrono::seconds(10);
  /// How often the role record is written while Running (and at every change).
  caf::timespan persist_every = std::chrono::seconds(5);
  std::string record_path; ///< <data_dir>/role.json; empty: not kept (tests)
  /// Creates the PARTNER LINK with this ELECTION as its listener; empty: no link (independent).
  std::function<partner_link_actor(partner_listener_actor)> make_link;
  /// This node's HELLO as the link starts with it; the ELECTION keeps state, running time and
  /// maintenance current.
  partner_hello hello;
  role_listener_actor owner; ///< told of every change
  diagnostics_actor diagnostics;
  sync_sink_actor sync_sink; ///< SYNC channels other than the ELECTION's; may be empty
  caf::actor_addr parent;    ///< the SUPERVISOR; the ELECTION ends with it
};

struct election_state {
  election_config cfg;
  std::optional<election_logic> logic;
  partner_link_actor link;
  storage::role_record record;
  caf::actor_clock::time_point running_since{};
  bool running_clock = false;
  std::string partner_name;
  /// Why the partner cannot be reached (a refused certificate), "" when no such fault; shown as
  /// partner state Faulted until the link is up again.
  std::string partner_fault;
  std::string partner_digest;
  caf::actor_clock::time_point last_heartbeat{};
  bool has_heartbeat = false;
  caf::timespan rtt{0};

  /// Accumulated Running time now.
  uint64_t running_total() const;
  /// Carries out what the rules decided; `why` prefixes diagnostics.
  void apply(const election_actions& a);
  void send_to_partner(const election_message& m);
  void persist();
  void report(severity sev, const std::string& kind, const std::string& text);
  election_status status() const;

  election_actor::pointer self = nullptr;
  static inline const char* name = "election";
  static constexpr uint16_t channel = 1; ///< the SYNC channel of ELECTION messages
};

election_actor::behavior_type election(election_actor::stateful_pointer<election_state> self,
                                       election_config cfg);

} // namespace tandem
