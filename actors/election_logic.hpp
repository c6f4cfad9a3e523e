#pragma once
/// The ELECTION's rules, as a pure state machine (no actor, no clock, no sockets): it takes what
/// happened and answers what to do. The ELECTION actor (actors/election.hpp) feeds it link
/// events, the partner's control messages, operator commands and timer expiries, and carries out
/// the actions. Keeping the rules here lets tests walk every transition in microseconds.
///
/// Own state (what this node does) and the partner's (as last heard):
///
///                 start: independent ─────────────────────────────► Running
///   Unknown ──┬── partner Standby, or partner Unknown and we are master ► Running
///             ├── partner Running: backup, or manual recovery ─────► Standby
///             ├── partner Running: master with automatic recovery ─► Standby, asks `release`
///             ├── partner Unknown and we are backup ───────────────► Standby
///             └── connection wait over, or partner lost ───────────► Running
///   Standby ──┬── partner lost (not in maintenance) ───────────────► Running   (takeover)
///             ├── `take_over` from the partner (not in maintenance) ► Running   (handover)
///             ├── both Standby: the master (or the one not in maintenance) ► Running
///             └── operator switch: asks the partner to `release` (it answers take_over)
///   Running ──┬── operator switch / maintenance on / `release`: sends take_over, and on
///             │   seeing the partner Running ──────────────────────► Standby   (no gap)
///             └── partner Running too (split brain healed): the split-brain rule decides;
///                 the loser ───────────────────────────────────────► Standby
///
/// Recovery applies when a node starts (state Unknown); after a split brain only the split-brain
/// rule decides. Messages between the two ELECTIONs: `state` (own state, accumulated Running
/// time, maintenance) on every change and when the link comes up, `take_over` (become Running:
/// I hand over to you) and `release` (hand over to me).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace tandem {

enum class node_state : uint8_t { unknown, running, standby };
const char* to_string(node_state s); ///< Unknown | Running | Standby

/// What one ELECTION tells the other.
struct election_message {
  enum class kind : uint8_t { state, take_over, release, info } type = kind::state;
  node_state state = node_state::unknown; ///< kind::state
  uint64_t running_total_ms = 0;          ///< kind::state
  bool maintenance = false;               ///< kind::state
  /// kind::info: facts about the node that are not the election's (every field optional on the
  /// wire, so later versions may add more): its OPC UA face's ApplicationUri, its client
  /// sessions (-1: not counted), and its shared configuration's canonical text
  /// (config::shared_canonical_text) for `verify`.
  std::string application_uri;
  int64_t client_sessions = -1;
  std::string config_text;

  /// One line of JSON; parse() refuses anything else with a reason.
  std::string encode() const;
  static std::optional<election_message> parse(const std::string& text, std::string& why);
};

struct election_settings {
  config::role role = config::role::independent;
  config::recovery_mode recovery = config::recovery_mode::automatic;
  config::split_brain_policy split_brain = config::split_brain_policy::longest_running;
  /// longest_running: Running times closer than this are a tie (the master wins), because each
  /// side knows the other's only as of its last report.
  uint64_t tie_tolerance_ms = 2000;
};

/// What the ELECTION must do after an input, in order.
struct election_actions {
  std::optional<node_state> become;         ///< a new own state
  std::vector<election_message> to_partner; ///< messages for the partner's ELECTION
  std::string cause;                        ///< why (snake_case), with `become`
  std::string error;                        ///< an operator command refused: why
};

class election_logic {
public:
  explicit election_logic(election_settings s) : s_(s) {}

  // -- inputs ------------------------------------------------------------------------------------
  /// The node starts; `running_total_ms` is what it accumulated before.
  election_actions start();
  /// connection_wait_ms passed without hearing the partner.
  election_actions connection_wait_over();
  /// The link came up (the partner's HELLO says its state, running time and maintenance).
  election_actions partner_up(node_state state, uint64_t running_total_ms, bool maintenance,
                              config::role partner_role);
  /// A message from the partner's ELECTION.
  election_actions received(const election_message& m);
  /// The ELECTION restarted inside a running node (not a node start): recovery does not apply,
  /// so a master that the operator switched to Standby is not handed the role back.
  void restarted() { asked_release_ = true; }
  /// The partner is lost for certain (death probe or heartbeat rule).
  election_actions partner_lost();
  /// The link closed without certainty that the partner is gone: nothing changes yet.
  election_actions link_down();
  /// Operator `switch`: hand the Running role to the partner, or take it.
  election_actions operator_switch();
  /// Operator `maintenance on|off`.
  election_actions set_maintenance(bool on);
  /// This node's accumulated Running time (kept by the actor, which owns the clock).
  void set_running_total(uint64_t ms) { running_total_ = ms; }

  // -- state -------------------------------------------------------------------------------------
  node_state state() const { return state_; }
  bool linked() const { return linked_; }
  node_state partner_state() const { return partner_state_; }
  bool partner_maintenance() const { return partner_maintenance_; }
  bool maintenance() const { return maintenance_; }
  bool handing_over() const { return handing_over_; }
  /// A message that says this node's state now.
  election_message state_message() const;

private:
  bool master() const { return s_.role == config::role::master; }
  /// Decides from the partner's state (after the link came up or the partner spoke).
  election_actions decide();
  /// Sets the own state; adds it to `a` with the state message when it changed.
  void become(election_actions& a, node_state s, const std::string& cause);
  /// Starts a controlled handover: the partner becomes Running first, then this node Standby.
  void hand_over(election_actions& a);
  /// Whether this node wins a split brain.
  bool wins_split_brain() const;
  /// state_message(), remembering the Running time it tells the partner: a split brain is
  /// judged on the two times the nodes told each other, so both reach the same verdict however
  /// late either message arrives.
  election_message sent_state();

  election_settings s_;
  node_state state_ = node_state::unknown;
  bool linked_ = false;
  node_state partner_state_ = node_state::unknown;
  uint64_t partner_running_total_ = 0;
  bool partner_maintenance_ = false;
  bool maintenance_ = false;
  bool handing_over_ = false;  ///< take_over sent; Standby once the partner says Running
  bool asked_release_ = false; ///< release sent at start (automatic recovery)
  uint64_t running_total_ = 0;
  uint64_t sent_running_total_ = 0; ///< in the last state message sent
};

} // namespace tandem
