#pragma once
/// DIAGNOSTICS: the node's event log. A ring buffer of at most `max_events` events, each one
/// persisted in SQLite as part of a batch committed before any reader sees it, so an event an
/// operator has seen survives SIGKILL. At start the previous events are loaded and new ones
/// continue their sequence numbers. SYNC merges the partner's events in (keyed by node and seq;
/// they show among this node's by time) and exports what the partner lacks.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"
#include "storage/event_store.hpp"

namespace tandem {

struct diagnostics_config {
  std::string node_name;
  uint64_t max_events = 10000;
  std::shared_ptr<storage::event_store> store; ///< opened by the caller; never null
  std::function<int64_t()> wall_now;           ///< Unix ms; tests give a virtual clock
  /// Delay before a failed commit is retried.
  caf::timespan retry_delay = std::chrono::seconds(1);
  /// The supervisor; DIAGNOSTICS ends with it. Empty in tests that spawn it alone.
  caf::actor_addr parent;
};

struct diagnostics_state {
  diagnostics_config cfg;
  std::deque<diag_event> ring;     ///< newest at the back; includes pending events
  std::vector<diag_event> pending; ///< recorded but not yet committed
  uint64_t next_seq = 0;
  bool commit_queued = false;
  bool retry_queued = false;
  bool failing = false; ///< the last commit failed
  uint64_t dropped = 0; ///< pending events dropped while storage was failing
  bool stalled = false;
  std::vector<event_listener_actor> listeners;

  diagnostics_state() = default;
  ~diagnostics_state();
  diagnostics_state(const diagnostics_state&) = delete;
  diagnostics_state& operator=(const diagnostics_state&) = delete;

  void record(event_report&& r);
  /// Commits pending events; false when storage refused (they stay pending).
  bool commit();
  std::vector<diag_event> newest(uint64_t n) const;
  /// Puts events merged from the partner into the ring, by time.
  void insert_merged(const std::vector<diag_event>& events);

  diagnostics_actor::pointer self = nullptr;
  static inline const char* name = "diagnostics";
};

diagnostics_actor::behavior_type
diagnostics(diagnostics_actor::stateful_pointer<diagnostics_state> self, diagnostics_config cfg);

} // namespace tandem
