#pragma once
/// Shared helpers of the face integration tests: a node whose face serves redundant pairs, its
/// console read as the pair's view, a stock node-opcua client (tests/interop/client.js)
/// subscribed through the face as the client's view, figures over the values it printed, and
/// direct writes to one server of a pair (the project's own OPC UA client, no node start-up).

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/node.hpp"
#include "tests/support/opcua_peer.hpp"
#include "tests/support/process.hpp"

namespace tandem::test::face {

using nlohmann::json;

// -- client.js output --------------------------------------------------------------------------

/// The JSON lines a client.js process printed so far.
std::vector<json> lines_of(const child_process& p);
/// Its {"event":"value",...} lines.
std::vector<json> values_of(const child_process& p);
/// The first client event meaning the client lost or re-made its connection or session
/// (connection_lost, reconnecting, session_closed, session_restored...); "" when none.
std::string reconnection_event(const std::vector<json>& lines);

/// Unix milliseconds of "2026-11-22T20:03:24.500Z".
int64_t unix_ms(const std::string& rfc3339);
/// The wall clock, Unix milliseconds.
int64_t now_ms();
/// A steady clock in milliseconds, for durations.
int64_t steady_ms();

/// Figures over client values (sourceTimestamp within [from_ms, to_ms)).
struct value_figures {
  size_t count = 0;
  size_t good = 0;
  size_t bad = 0;
  int64_t max_source_gap_ms = 0;  ///< between consecutive values' source timestamps
  int64_t max_arrival_gap_ms = 0; ///< between consecutive arrivals at the client (t_ms)
  int64_t missing = 0;            ///< integer counter values skipped
  int64_t repeated = 0;           ///< integer counter values not above the previous one
  std::string first_bad;          ///< the first Bad value, as JSON
};
value_figures figures_of(const std::vector<json>& values, int64_t from_ms = 0,
                         int64_t to_ms = std::numeric_limits<int64_t>::max());
/// Good values whose source timestamp is at or after `from_ms`.
size_t good_values_since(const std::vector<json>& values, int64_t from_ms);

/// Starts `client.js subscribe URL NODEID --publish-ms P --queue-size 50 --seconds S
/// --print-values` with output under `dir` as `name`.
std::unique_ptr<child_process> subscribe(const temp_dir& dir, const std::string& url,
                                         const std::string& node_id, const std::string& name,
                                         int publish_ms = 50, int seconds = 60);

// -- node ------------------------------------------------------------------------------------

/// One [[pair]] of a node's configuration.
struct pair_options {
  std::string alias = "line1";
  std::string primary, secondary; ///< URLs
  std::string mode = "hot";
  bool return_to_primary = false;
  int return_settle_ms = 10000;
  int status_interval_ms = 300;
  int status_timeout_ms = 300;
  std::string extra;    ///< more keys of the [[pair]] table ("key = value" lines)
  std::string monitors; ///< [[pair.monitor]] tables, appended as they are
};
std::string pair_toml(const pair_options& p);

/// A `tandem node` with its face on a free loopback port and the given pairs.
class face_node {
public:
  face_node(const temp_dir& dir, const std::vector<pair_options>& pairs);
  /// Waits for the console; false with the reason in `why`.
  bool wait_ready(std::string& why) { return node_.wait_ready(why); }
  /// The face endpoint of a pair: opc.tcp://127.0.0.1:PORT/<alias>.
  std::string url(const std::string& alias) const;
  /// The pair's entry of the console's `pairs` (null when missing).
  json pair(const std::string& alias);
  /// Waits (30 s at most) until the pair runs on a connected primary with its secondary in
  /// `standby_state` ("connected", or "idle" for a cold standby).
  bool wait_started(const std::string& alias, const std::string& standby_state = "connected");
  /// The last 100 events (`events 100`), oldest first as the console lists them.
  std::vector<json> events();
  /// Events of `kind` whose source is pair/<alias> (or server/<alias>/...).
  std::vector<json> events_of(const std::string& alias, const std::string& kind);
  json console(const std::string& line) { return node_.console(line); }
  /// SIGTERM; the exit code (or -1 after 20 s).
  int stop();
  node_process& proc() { return node_; }

private:
  uint16_t face_port_;
  node_process node_;
};

/// Two simulators (`tandem sim --items 5 --rate-ms R`) named `<prefix>primary` and
/// `<prefix>secondary`.
struct sim_pair {
  sim_pair(const temp_dir& dir, int rate_ms = 50, const std::string& prefix = "",
           peer_kind kind = peer_kind::tandem_sim);
  opcua_test_server a, b;
  bool ok() const { return a.ok() && b.ok(); }
  std::string why() const { return a.ok() ? b.why() : a.why(); }
  /// A pair over the two (a primary, b secondary) in `mode`, the other options as default.
  pair_options options(const std::string& mode) const;
};

// -- servers ---------------------------------------------------------------------------------

/// Writes a Double to `node_id` on the server at `url` with the project's own OPC UA client;
/// "" on Good, else why not.
std::string write_double(const std::string& url, const std::string& node_id, double value);

/// Observes `pred` for `duration`, polling it; false as soon as it does not hold (for "nothing
/// happens" checks, which can only be made over a bounded window).
bool holds_for(const std::function<bool()>& pred, std::chrono::milliseconds duration);

} // namespace tandem::test::face
