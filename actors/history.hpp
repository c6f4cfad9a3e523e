#pragma once
/// HISTORY: the node's item history. The PAIRs send it the value changes of their active server
/// for the items clients and monitors subscribe to; it stamps each one with the node's name and
/// (term, seq) — seq increasing per node, never reused — and commits them in batches (every
/// `commit_interval`, or at once when `max_batch` are waiting). Every `retention_interval` it
/// deletes values older than redundancy.history_retention_ms, in chunks. Queries, SYNC's marks
/// and exports commit what is pending first, so they see everything recorded so far.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/interfaces.hpp"
#include "config/config.hpp"
#include "storage/history_store.hpp"

namespace tandem {

struct history_config {
  std::string node_name;
  std::shared_ptr<storage::history_store> store; ///< opened by the caller; never null
  std::function<int64_t()> wall_now;             ///< Unix ms; tests give a virtual clock
  int64_t retention_ms = 604800000;
  caf::timespan commit_interval = std::chrono::milliseconds(200);
  /// Commit at once when this many are waiting. Each commit writes every index page it touched
  /// (one per series): at 200,000 values a second a smaller batch commits more often than the
  /// interval and costs more per value (BENCHMARKS.md, node CPU per forwarded value).
  size_t max_batch = 50000;
  /// While storage fails, at most this many values wait; beyond, the oldest are dropped.
  size_t max_pending = 1000000;
  caf::timespan retention_interval = std::chrono::seconds(60);
  uint64_t retention_chunk = 10000;
  diagnostics_actor diagnostics; ///< storage failures are reported here (may be null)
  caf::actor_addr parent;        ///< the supervisor; HISTORY ends with it
};

struct history_state {
  history_config cfg;
  uint64_t term = 0;
  uint64_t seq = 0; ///< the last seq given to a value of this node
  std::vector<history_row> pending;
  bool commit_armed = false;
  bool failing = false;
  uint64_t dropped = 0;
  uint64_t recorded = 0; ///< values stamped since start
  std::vector<history_listener_actor> listeners;

  history_state() = default;
  ~history_state();
  history_state(const history_state&) = delete;
  history_state& operator=(const history_state&) = delete;

  void record(history_batch&& b);
  /// Commits pending values; false when storage refused (they stay pending).
  bool commit();
  /// Values of one item; `history_values::error` says why not.
  history_values query(const history_query& q);
  uint64_t merge(std::vector<history_row>&& rows, std::string& error);

  history_actor::pointer self = nullptr;
  static inline const char* name = "history";
};

history_actor::behavior_type history(history_actor::stateful_pointer<history_state> self,
                                     history_config cfg);

/// What of a PAIR's server data is recorded: the changes of clients' items (`face_items`) and of
/// monitor items (handles from monitor_handle_base, named by `monitors`), as one batch. The
/// values' bytes are moved into the batch, not copied.
history_batch history_batch_of(const std::string& alias, std::vector<item_update> updates,
                               const std::unordered_map<uint32_t, item_spec>& face_items,
                               const std::vector<config::monitor_entry>& monitors);

/// Unix ms of a UA DateTime (100 ns ticks since 1601); 0 for 0.
int64_t ua_ticks_to_unix_ms(int64_t ticks);

} // namespace tandem
