#pragma once
/// ALARMS: the node's alarms. Derived from DIAGNOSTICS events (ALARMS listens to them; see
/// docs/EVENTS.md, Alarms): a server's server_lost / server_status_timeout / server_unhealthy
/// raise its communication alarm and server_connected / server_idle clear it; a pair's
/// condition_failing / condition_cleared raise and clear the alarm of that monitor condition on
/// that server; partner_lost / partner_connected the partner alarm. Other actors raise and clear
/// alarms of their own keys with alarm_report.
///
///   raise(key):  an active alarm of the key exists (from any node) -> its text is updated
///                else                                              -> a new alarm "<node>:<n>"
///   clear(key):  every active alarm of the key is cleared (cleared_ms)
///   ack(id):     acked (acked_ms); idempotent
///
/// Every change is stamped with this node's name and (term, seq) and written through to the
/// alarm database before anyone can read it. At start the stored alarms are loaded; active
/// monitor-condition alarms are cleared then (conditions are evaluated afresh and raised again if
/// they still fail), communication and partner alarms stay until their clearing event comes.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"
#include "storage/alarm_store.hpp"

namespace tandem {

struct alarms_config {
  std::string node_name;
  std::shared_ptr<storage::alarm_store> store; ///< opened by the caller; never null
  std::function<int64_t()> wall_now;           ///< Unix ms; tests give a virtual clock
  /// Cleared and acknowledged alarms are deleted this long after both happened.
  int64_t retention_ms = 604800000;
  caf::timespan retention_interval = std::chrono::seconds(60);
  diagnostics_actor diagnostics; ///< subscribed to at start (may be null in tests)
  caf::actor_addr parent;
};

struct alarms_state {
  alarms_config cfg;
  uint64_t term = 0;
  uint64_t seq = 0;
  uint64_t next_number = 1;
  std::map<std::string, alarm> alarms; ///< by id
  std::set<std::string> dirty;         ///< changed but not yet persisted
  std::vector<alarm_listener_actor> listeners;

  void raise(const std::string& key, const std::string& source, const std::string& text);
  /// Clears the active alarms whose key is `key`, or starts with it when `prefix`.
  void clear(const std::string& key, bool prefix = false);
  void on_event(const diag_event& e);
  alarm_list ack(const std::string& id);
  alarm_list list(bool all) const;
  std::vector<alarm> export_after(const std::vector<origin_mark>& have) const;
  uint64_t merge(std::vector<alarm>&& incoming);
  data_epoch next_stamp() { return data_epoch{term, ++seq}; }
  /// Writes the dirty alarms; false (they stay dirty) when storage refused.
  bool persist(std::string* error = nullptr);

  alarms_actor::pointer self = nullptr;
  static inline const char* name = "alarms";
};

alarms_actor::behavior_type alarms(alarms_actor::stateful_pointer<alarms_state> self,
                                   alarms_config cfg);

} // namespace tandem
