#pragma once
/// Messages of the ALARMS actor: alarms (communication failures, monitor conditions, the partner
/// link, and whatever other actors raise), queries, acknowledgement and the export/merge
/// vocabulary of SYNC.

#include <cstdint>
#include <string>
#include <vector>

#include "caf/meta/type_name.hpp"

#include "messages/history.hpp" // origin_mark
#include "messages/partner.hpp"

namespace tandem {

/// One alarm: one occurrence of a condition, from its raise to its clear, acknowledged or not.
/// Merge rule (docs/EVENTS.md, Alarms): `cleared` and `acked` only ever go from false to true, so
/// two copies merge by OR-ing them (clear wins, ack wins; the earliest non-zero time of each is
/// kept); `text` and `source` are those of the copy with the higher (term, seq, origin) stamp.
struct alarm {
  std::string id;     ///< stable and unique across nodes: "<raising node>:<n>"
  std::string key;    ///< the condition: "comm:line1/primary", "condition:line1/primary/0", …
  std::string source; ///< who reported it: "server/line1/primary", "pair/line1", "partner"
  std::string text;   ///< the latest description, for people
  bool active = true; ///< raised and not cleared
  bool acked = false;
  int64_t raised_ms = 0;  ///< Unix ms
  int64_t cleared_ms = 0; ///< 0 while active
  int64_t acked_ms = 0;   ///< 0 while not acknowledged
  std::string origin;     ///< the node that made the last change
  data_epoch stamp;       ///< (term, seq) of the last change; seq increases per origin
};

/// Raises (active) or clears (!active) the alarm of `key` directly, for actors whose conditions
/// are not diagnostics events (the ELECTION's configuration mismatch, for one).
struct alarm_report {
  std::string key;
  std::string source;
  std::string text;
  bool active = true;
};

struct alarm_list {
  std::vector<alarm> alarms;
  std::string error; ///< e.g. `ack` of an unknown id
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, alarm& x) {
  return f(caf::meta::type_name("alarm"), x.id, x.key, x.source, x.text, x.active, x.acked,
           x.raised_ms, x.cleared_ms, x.acked_ms, x.origin, x.stamp);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, alarm_report& x) {
  return f(caf::meta::type_name("alarm_report"), x.key, x.source, x.text, x.active);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, alarm_list& x) {
  return f(caf::meta::type_name("alarm_list"), x.alarms, x.error);
}

} // namespace tandem
