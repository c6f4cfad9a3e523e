#pragma once
/// Messages of the HISTORY actor: value changes the PAIRs hand it, rows it records (each stamped
/// with its origin node and data epoch), queries, and the export/merge vocabulary of SYNC.

#include <cstdint>
#include <string>
#include <vector>

#include "caf/meta/type_name.hpp"

#include "messages/partner.hpp"

namespace tandem {

/// One value change of one item, as the PAIR forwards it from its active server.
struct recorded_value {
  std::string item;           ///< the item's NodeId text, as clients and monitors name it
  int64_t source_ms = 0;      ///< source timestamp, Unix ms; 0 when the server sent none
  uint32_t status = 0;        ///< StatusCode
  std::vector<uint8_t> value; ///< the UA Binary-encoded DataValue as the server sent it
};

/// A PAIR's value changes, to be recorded by HISTORY.
struct history_batch {
  std::string pair; ///< the pair's alias
  std::vector<recorded_value> values;
};

/// One recorded value. Rows are keyed by (pair, item), never by node name; the stamp (origin,
/// epoch) names who recorded it and is unique, so merging the same row twice is a no-op.
struct history_row {
  std::string pair;
  std::string item;
  int64_t time_ms = 0;     ///< source time, or recorded_ms when the server sent none
  int64_t source_ms = 0;   ///< 0: none
  int64_t recorded_ms = 0; ///< the recording node's wall clock when it received the value
  uint32_t status = 0;
  std::vector<uint8_t> value; ///< UA Binary DataValue
  std::string origin;         ///< the recording node's name
  data_epoch stamp;           ///< (term, seq); seq increases per origin, never reused
};

/// `history ALIAS ITEM [--since T]`: with a since time, the first `limit` values from it on;
/// without one, the newest `limit` values. Oldest first either way.
struct history_query {
  std::string pair;
  std::string item;
  bool has_since = false;
  bool since_relative = false; ///< since_ms is relative to now (negative: in the past)
  int64_t since_ms = 0;
  uint64_t limit = 1000;
};

struct history_values {
  std::vector<history_row> rows;
  bool truncated = false; ///< more values matched than `limit`
  std::string error;      ///< the query could not be answered
  std::string note;       ///< said beside the values (e.g. the pair no longer records)
};

/// How far a node has recorded data of one origin: the highest stamp it holds.
struct origin_mark {
  std::string origin;
  data_epoch stamp;
};

/// Rows for SYNC: everything the asking node lacks, in ascending stamp order per origin.
struct history_rows {
  std::vector<history_row> rows;
  bool more = false; ///< the limit was reached: ask again with the new marks
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, recorded_value& x) {
  return f(caf::meta::type_name("recorded_value"), x.item, x.source_ms, x.status, x.value);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, history_batch& x) {
  return f(caf::meta::type_name("history_batch"), x.pair, x.values);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, history_row& x) {
  return f(caf::meta::type_name("history_row"), x.pair, x.item, x.time_ms, x.source_ms,
           x.recorded_ms, x.status, x.value, x.origin, x.stamp);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, history_query& x) {
  return f(caf::meta::type_name("history_query"), x.pair, x.item, x.has_since, x.since_relative,
           x.since_ms, x.limit);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, history_values& x) {
  return f(caf::meta::type_name("history_values"), x.rows, x.truncated, x.error, x.note);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, origin_mark& x) {
  return f(caf::meta::type_name("origin_mark"), x.origin, x.stamp);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, history_rows& x) {
  return f(caf::meta::type_name("history_rows"), x.rows, x.more);
}

} // namespace tandem
