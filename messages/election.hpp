#pragma once
/// Messages of the ELECTION: what it tells its owner when this node's state changes, and the
/// snapshot it answers for the console's `node`.

#include <cstdint>
#include <string>
#include <utility>

#include "caf/meta/type_name.hpp"

namespace tandem {

/// This node became Running or Standby (state words of CONSOLE.md), and why.
struct node_role {
  node_role() = default;
  node_role(std::string s, std::string c, uint64_t t)
      : state(std::move(s)), cause(std::move(c)), term(t) {}
  std::string state;                   ///< Running | Standby | Unknown
  std::string cause;                   ///< snake_case, docs/EVENTS.md
  uint64_t term = 0;                   ///< the data epoch's term while Running
  bool maintenance = false;            ///< this node is out of service (ServiceLevel 0)
  std::string partner_application_uri; ///< the partner face's ApplicationUri ("" until known)

  /// The state words, compared in one place.
  static constexpr const char* running_word = "Running";
  static constexpr const char* standby_word = "Standby";
  bool running() const { return state == running_word; }
  bool standby() const { return state == standby_word; }
};

/// The ELECTION's view of this node and its partner.
struct election_status {
  std::string name;                      ///< this node
  std::string role = "independent";      ///< independent | master | backup
  std::string config_digest;             ///< of the shared settings
  std::string partner_config_digest;     ///< the partner's, from its HELLO ("" until known)
  int64_t client_sessions = -1;          ///< OPC UA client sessions on this node's face
  std::string state = "Unknown";         ///< this node
  std::string partner_state = "Unknown"; ///< Running | Standby | Unknown | Faulted | Disconnected
  std::string partner_name;
  std::string link = "down";
  uint64_t running_total_ms = 0;
  uint64_t term = 0;
  bool maintenance = false;
  bool partner_maintenance = false;
  int64_t last_heartbeat_ms_ago = -1; ///< -1: none yet
  double rtt_ms = -1;
  int64_t partner_client_sessions = -1; ///< from the partner's info message; -1: not known
  uint64_t takeovers = 0;     ///< times this node became Running because the partner was lost
  std::string partner_reason; ///< why the partner is Faulted (a refused certificate), or ""
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, node_role& x) {
  return f(caf::meta::type_name("node_role"), x.state, x.cause, x.term, x.maintenance,
           x.partner_application_uri);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, election_status& x) {
  return f(caf::meta::type_name("election_status"), x.name, x.role, x.config_digest,
           x.partner_config_digest, x.client_sessions, x.state, x.partner_state, x.partner_name,
           x.link, x.running_total_ms, x.term, x.maintenance, x.partner_maintenance,
           x.last_heartbeat_ms_ago, x.rtt_ms, x.partner_client_sessions, x.takeovers,
           x.partner_reason);
}

} // namespace tandem
