#pragma once
/// HTTP: answers the status page's API (docs/HTTP.md) for the requests the HTTP transport hands
/// it: /api/status (the console's `status`), /api/events (`events`), /metrics (Prometheus text,
/// figures gathered from the SUPERVISOR and DIAGNOSTICS) and /api/stream (server-sent events:
/// a snapshot, then the status every second and every new diagnostics event as it happens).

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"
#include "transports/http/metrics_text.hpp"

namespace tandem {

struct http_actor_config {
  node_actor node;
  diagnostics_actor diagnostics;
  /// How often streams get the status when nothing happens.
  caf::timespan push_interval = std::chrono::seconds(1);
  caf::timespan request_timeout = std::chrono::seconds(5);
  /// The supervisor; HTTP ends with it. Empty in tests that spawn it alone.
  caf::actor_addr parent;
};

/// Keeps counters monotonic over the node's life when their source restarts (an actor the
/// supervisor restarted counts from 0 again): a value below the last one seen starts a new
/// run that is added to the runs before it.
class monotonic_counters {
public:
  uint64_t operator()(const std::string& key, uint64_t raw);

private:
  struct run {
    uint64_t last = 0;
    uint64_t base = 0;
  };
  std::map<std::string, run> runs_;
};

/// What /metrics is made of: whatever answered in time (`has_*` false: it did not).
struct metrics_input {
  bool has_status = false;
  node_status status;
  bool has_election = false;
  election_status election;
  bool has_counts = false;
  event_counts counts;
  bool has_sync = false; ///< SYNC's figures (master and backup only)
  sync_status sync;
};

/// The metric families of docs/HTTP.md from these figures; counters pass through `keep`.
std::vector<transports::http::metric_family> node_metrics(const metrics_input& in,
                                                          monotonic_counters& keep);

struct http_state {
  struct stream {
    std::shared_ptr<http_exchange> exchange;
    bool ready = false;               ///< the snapshot has been sent
    std::vector<diag_event> buffered; ///< events that arrived before the snapshot
  };
  http_actor_config cfg;
  std::map<uint64_t, stream> streams; ///< started, by exchange id
  bool subscribed = false;
  monotonic_counters counters;
  bool ticking = false;
  bool refreshing = false; ///< a status refresh for the streams is under way
  bool refresh_again = false;

  http_actor::pointer self = nullptr;
  static inline const char* name = "http";
};

http_actor::behavior_type http(http_actor::stateful_pointer<http_state> self,
                               http_actor_config cfg);

} // namespace tandem
