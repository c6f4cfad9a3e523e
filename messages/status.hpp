#pragma once
/// Status snapshots the SUPERVISOR assembles for the console, the status page and tests.
/// Words in string fields are those of ../shared/design/CONSOLE.md.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "messages/notify.hpp"

namespace tandem {

struct server_status {
  std::string url;
  std::string state = "idle"; ///< connected | connecting | idle | lost | status_timeout | unhealthy
  std::string detail;         ///< why, for people ("" when connected)
};

struct failover_record {
  int64_t time_ms = 0;
  std::string from; ///< primary | secondary | none
  std::string to;
  std::string cause; ///< snake_case cause word, docs/EVENTS.md
};

struct pair_status {
  std::string alias;
  std::string mode;            ///< cold | warm | hot
  std::string active = "none"; ///< primary | secondary | none
  int service_level = 1;       ///< OPC UA ServiceLevel the face reports: 1 = no data
  server_status primary;
  server_status secondary;
  bool has_last_failover = false;
  failover_record last_failover;
  // Counters for /metrics (not part of the console's `status` document).
  uint64_t failovers = 0;                             ///< switches of the active server
  std::map<std::string, uint64_t> failovers_by_cause; ///< the same, by cause word
  uint64_t items = 0;                                 ///< items clients subscribe to via the face
  uint64_t values_forwarded = 0; ///< data change notifications forwarded to the face
};

struct partner_status {
  std::string address;           ///< host:port from the config
  std::string name;              ///< the partner's node name once known
  std::string state = "Unknown"; ///< Running | Standby | Faulted | Unknown | Disconnected
  std::string link = "down";     ///< up | down
};

/// The outcome of an operator's switch of a pair.
struct switch_result {
  bool ok = false;
  std::string active; ///< primary | secondary | none, after the switch
  std::string error;  ///< why not, when !ok
};

/// `verify ALIAS`: whether a pair's two servers have the same address space.
struct verify_result {
  bool identical = false;
  std::vector<std::string> differences; ///< for people, one per line
  std::string error;                    ///< the pair could not be compared at all
};

struct node_status {
  std::string name;
  std::string role;  ///< independent | master | backup
  std::string state; ///< Running | Standby | Faulted | Unknown | Disconnected
  std::string comment;
  int64_t uptime_ms = 0;
  bool maintenance = false;
  bool has_partner = false;
  partner_status partner;
  std::vector<pair_status> pairs;
  notifier_status notifier; ///< enabled = false when notifications are off
};

} // namespace tandem
