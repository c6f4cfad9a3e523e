#pragma once
/// ELECTION: the actor around election_logic (the rules, actors/election_logic.hpp). It owns the
/// timers (connection wait, role record), the clock-based accounting of Running time, and the
/// traffic with the partner's ELECTION (SYNC channel 1, one JSON message per payload); other SYNC
/// channels go on to the sync sink. Every change of state is told to the owner (`node_role`),
/// written to the diagnostics log and put into this node's HELLO for the next handshake.

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "caf/typed_response_promise.hpp"

#include "actors/election_logic.hpp"
#include "actors/interfaces.hpp"
#include "storage/role_record.hpp"

namespace tandem {

struct election_config {
  std::string node_name;
  election_settings settings;
  caf::timespan connection_wait = std::chrono::seconds(10);
  /// How often the role record is written while Running (and at every change): a kill -9 loses
  /// at most this much of the accumulated Running time. Also how often the client-session count
  /// is looked at (the partner hears it when it changed).
  caf::timespan persist_every = std::chrono::seconds(1);
  /// A periodic tick that comes this much later than due means this process did not run
  /// (SIGSTOP, a VM paused, starved): that time is not Running time, so a hung node that resumes
  /// does not win a split brain by `longest_running` with time it spent frozen.
  caf::timespan stall_tolerance = std::chrono::seconds(1);
  /// How long `switch`, `maintenance on` and `connect` wait for their effect before answering.
  caf::timespan reply_timeout = std::chrono::seconds(5);
  /// Told to the partner (info message): this face's ApplicationUri, the shared configuration's
  /// canonical text (for `verify`), and the OPC UA client sessions now (empty: not counted).
  std::string application_uri;
  std::string config_text;
  std::function<int64_t()> client_sessions;
  /// Spawned again after a failure inside a running node: recovery does not apply.
  bool restarted = false;
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
  /// The partner's shared configuration was last seen to differ from this node's (alarm
  /// `config` raised; a takeover meanwhile raises `config_takeover`).
  bool config_mismatch = false;
  /// Whether the partner's shared configuration differs now: config_mismatch (with `how`, after
  /// "the partner NAME") when it does (every time when `repeat`, else only when it did not
  /// before), config_matched when it stops (alarms `config` and `config_takeover` follow).
  void config_verdict(bool mismatch, bool repeat, const std::string& how);
  caf::actor_clock::time_point last_heartbeat{};
  bool has_heartbeat = false;
  caf::timespan rtt{0};
  /// The partner's info message (application URI, sessions, configuration).
  election_message partner_info;
  bool has_partner_info = false;
  int64_t sessions_told = -2; ///< the client sessions last told to the partner
  /// Operator commands waiting for their effect.
  struct pending_reply {
    enum class until : uint8_t { running, standby, link_up } what;
    caf::typed_response_promise<std::string> rp;
    std::string timeout_text; ///< the answer when it does not happen in time ("" = fine)
  };
  std::map<uint64_t, pending_reply> pending;
  uint64_t next_pending = 1;
  uint64_t takeovers = 0; ///< for /metrics: Running because the partner was lost

  /// Accumulated Running time now.
  uint64_t running_total() const;
  /// When the last periodic tick ran (stall detection).
  caf::actor_clock::time_point last_tick{};
  /// Looks whether the process was frozen since the last tick; if it was, that time is taken
  /// out of the Running time and reported (node_stalled). Called by the tick and before the
  /// inputs that judge Running time.
  void check_stall();
  /// Carries out what the rules decided; `why` prefixes diagnostics.
  void apply(const election_actions& a);
  void send_to_partner(const election_message& m);
  /// Sends the info message (on link up, and when the client sessions changed).
  void send_info();
  /// Tells the owner this node's role (state, maintenance, partner URI).
  void tell_owner(const std::string& cause);
  /// Answers pending commands whose effect happened; `link_down`: those waiting for a handover
  /// fail (the link is gone).
  void settle_pending(bool link_down = false);
  /// Waits for `what` before answering; returns the promise.
  caf::typed_response_promise<std::string> wait_for(pending_reply::until what,
                                                    std::string timeout_text);
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
