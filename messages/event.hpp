#pragma once
/// Diagnostics events: what every actor reports and the DIAGNOSTICS actor keeps, persists and
/// serves.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caf/meta/type_name.hpp"

namespace tandem {

/// How bad an event is; ordered, so `>=` compares severities.
enum class severity : uint8_t { info = 0, warning = 1, error = 2, critical = 3 };

inline const char* to_string(severity s) {
  switch (s) {
  case severity::info:
    return "info";
  case severity::warning:
    return "warning";
  case severity::error:
    return "error";
  case severity::critical:
    return "critical";
  }
  return "info";
}

inline std::optional<severity> parse_severity(std::string_view s) {
  if (s == "info") return severity::info;
  if (s == "warning") return severity::warning;
  if (s == "error") return severity::error;
  if (s == "critical") return severity::critical;
  return std::nullopt;
}

/// A request to record an event; DIAGNOSTICS stamps time, node and sequence number.
struct event_report {
  severity sev = severity::info;
  std::string source; ///< the reporting actor, e.g. "supervisor", "pair/line1"
  std::string kind;   ///< snake_case word listed in docs/EVENTS.md
  std::string text;   ///< one line a person can act on
};

/// A recorded event.
struct diag_event {
  uint64_t seq = 0;    ///< increasing over the life of the data directory, never reused
  int64_t time_ms = 0; ///< Unix time in milliseconds (UTC)
  severity sev = severity::info;
  std::string node;
  std::string source;
  std::string kind;
  std::string text;
};

/// Events for SYNC: what a node holding some marks lacks, ascending per origin node.
struct event_rows {
  std::vector<diag_event> events;
  bool more = false; ///< the limit cut it short: ask again from the last ones received
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, event_report& x) {
  return f(caf::meta::type_name("event_report"), x.sev, x.source, x.kind, x.text);
}

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, diag_event& x) {
  return f(caf::meta::type_name("diag_event"), x.seq, x.time_ms, x.sev, x.node, x.source, x.kind,
           x.text);
}

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, event_rows& x) {
  return f(caf::meta::type_name("event_rows"), x.events, x.more);
}

} // namespace tandem
