#pragma once
/// Messages of the SYNC actor (actors/sync.hpp): its status for the console's `node`. The wire
/// format of what it sends the partner is transports/partner/sync_codec.hpp.

#include <cstdint>
#include <string>
#include <vector>

#include "caf/meta/type_name.hpp"

namespace tandem {

/// What SYNC says about itself (console `node`: the partner's `sync` word and this node's `sync`
/// details).
struct sync_status {
  /// not_synced (no link, never synced, or the last pull failed) | syncing (a pull is in
  /// progress) | synced (caught up; incremental replication flowing).
  std::string state = "not_synced";
  std::string partner;         ///< the partner's node name while the link is up
  uint64_t syncs = 0;          ///< pulls completed since this node started
  uint64_t history = 0;        ///< history rows pulled by the current or last pull
  uint64_t alarms = 0;         ///< alarms changed by it
  uint64_t events = 0;         ///< events pulled by it
  int64_t last_sync_ms = -1;   ///< duration of the last completed pull; -1: none yet
  uint64_t live_history = 0;   ///< rows received incrementally since start
  uint64_t live_alarms = 0;    ///< alarm changes received incrementally since start
  uint64_t live_events = 0;    ///< events received incrementally since start
  double lag_ms = -1;          ///< last incremental row: merged here minus stamped there
  std::string last_error;      ///< why the last pull failed or was refused ("" if none)
  uint64_t items_sent = 0;     ///< client items of this node's pairs told to the partner
  uint64_t items_received = 0; ///< the partner's client items told to this node's pairs
  /// Client items this node's clients stopped watching, told to the partner (GONE).
  uint64_t items_removed_sent = 0;
  /// Items the partner's clients stopped watching, told to this node's pairs (GONE, or left out
  /// of the whole set the partner sends at link-up).
  uint64_t items_removed_received = 0;
};

/// Items OPC UA clients subscribe to through a pair, as NodeId text for the servers ("nsu=" from
/// namespace index 2 on). From a PAIR (partner = false): new items of this node's clients, on
/// their way to SYNC and the partner. From SYNC (partner = true): the partner's clients' items,
/// on their way to the PAIR of that alias, which keeps them monitored as well (a warm standby
/// takes over without creating a single monitored item). Removals travel as `item_drop`.
struct item_set {
  std::string pair;
  std::vector<std::string> node_ids;
  bool partner = false;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, item_set& x) {
  return f(caf::meta::type_name("item_set"), x.pair, x.node_ids, x.partner);
}

/// Items of a pair that are no longer watched, as NodeId text like `item_set`'s. From a PAIR
/// (partner = false): items no client of this node has watched for unused_item_linger_ms, on
/// their way to SYNC and the partner (GONE). From SYNC (partner = true): items the partner's
/// clients no longer watch, on their way to the PAIR of that alias, whose face stops watching
/// them for the partner (its own clients' watches still hold them, and its own linger).
struct item_drop {
  std::string pair;
  std::vector<std::string> node_ids;
  bool partner = false;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, item_drop& x) {
  return f(caf::meta::type_name("item_drop"), x.pair, x.node_ids, x.partner);
}

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, sync_status& x) {
  return f(caf::meta::type_name("sync_status"), x.state, x.partner, x.syncs, x.history, x.alarms,
           x.events, x.last_sync_ms, x.live_history, x.live_alarms, x.live_events, x.lag_ms,
           x.last_error, x.items_sent, x.items_received, x.items_removed_sent,
           x.items_removed_received);
}

} // namespace tandem
