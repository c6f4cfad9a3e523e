#pragma once
/// The SYNC actor's messages on SYNC channel 2 of the partner link, as pure functions over bytes.
/// Not CAF serialization and not JSON: the two nodes of a pair may run different Tandem versions,
/// and history carries binary values. Every message is one sync_payload on channel 2.
///
/// Layout (version 1). Every message starts with two bytes that are frozen for every version:
///   u8 version   the layout of what follows (this build writes `sync_version`)
///   u8 type      sync_type
/// then the body of that type. Integers are LEB128 varints (`v`: unsigned, at most 10 bytes;
/// `s`: signed, zigzag); a string or blob is a varint length and that many bytes; `u8` a byte.
///
///   HELLO     v min_version, v max_version, str node        (later versions may append fields)
///   REFUSE    str reason                                     (frozen: readable by every version)
///   PULL      v request, u8 kind, v limit, v n, n × mark
///             mark = str origin, v term, v seq
///   PAGE      v request (0: pushed live), u8 kind, u8 flags (bit 0: more), body of the kind
///   ERROR     v request, str reason                          (the pull could not be served)
///   ITEMS     str pair, v n, n × str node_id                 (version 2; see below)
///   GONE      str pair, v n, n × str node_id                 (version 3; see below)
///   ITEMS_END v count                                        (version 3; see below)
///
/// The version byte names the layout that defines the message: PULL, PAGE and ERROR are
/// unchanged since version 1 and still say 1, so a version-1 partner reads them; ITEMS came with
/// version 2 and is sent only to a partner whose HELLO offers version 2. ITEMS names items OPC
/// UA clients subscribe to through a pair here (NodeId text as the servers know it, "nsu=" from
/// namespace index 2 on): the partner, when warm standby, keeps them monitored too. A repeated
/// ITEMS message changes nothing.
///
/// Version 3 lets sets shrink, and is sent only to a partner whose HELLO offers version 3 (a
/// version-2 partner keeps every item it was told for its life):
///   GONE      items of the pair this node's clients no longer watch: none watched them for
///             the pair's unused_item_linger_ms. The partner stops watching them for this node
///             (its own clients' watches, and its own linger, still hold them there).
///   ITEMS_END sent after the ITEMS that answer the partner's HELLO: those carried this node's
///             whole set, `count` NodeIds in all. The partner stops watching, for this node,
///             every item it was told before and that was not among them (the link was down
///             when they went, or this node restarted); it does so only when it received
///             exactly `count`, else it keeps them.
///
/// Page bodies:
///   history   v n_strings, n × str (pairs, items and origins named once per page),
///             v n_rows, n × row
///             row = v pair, v item, v origin (indices into the strings), u8 flags (bit 0: a
///             source time), s time_ms, [s source_ms - time_ms], s recorded_ms - time_ms,
///             v status, v term, v seq, blob value
///   alarms    v n, n × (str id, str key, str source, str text, u8 flags (bit 0 active, bit 1
///             acked), s raised_ms, s cleared_ms, s acked_ms, str origin, v term, v seq)
///   events    v n, n × (v seq, s time_ms, u8 severity, str node, str source, str kind, str text)
///
/// Decoding checks every length against what is left, never allocates more than the input could
/// hold, refuses trailing bytes (except after a HELLO), unknown kinds, types and versions, and says
/// what is wrong in words.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "messages/alarms.hpp"
#include "messages/event.hpp"
#include "messages/history.hpp"

namespace tandem::partner::sync {

/// The SYNC channel of the partner link (the ELECTION has 1).
inline constexpr uint16_t channel = 2;
/// The newest layout this build reads and writes.
inline constexpr uint8_t sync_version = 3;
/// The version that added ITEMS.
inline constexpr uint8_t items_version = 2;
/// The version that added GONE and ITEMS_END.
inline constexpr uint8_t gone_version = 3;
/// The oldest layout this build can still speak.
inline constexpr uint8_t min_sync_version = 1;
/// Limits inside messages (a longer string is an error).
inline constexpr size_t max_string_bytes = 64 * 1024;
inline constexpr size_t max_value_bytes = 16u * 1024 * 1024;

enum class sync_type : uint8_t {
  hello = 1,
  refuse = 2,
  pull = 3,
  page = 4,
  error = 5,
  items = 6,
  gone = 7,
  items_end = 8
};
enum class data_kind : uint8_t { history = 1, alarms = 2, events = 3 };

const char* to_string(sync_type t);
const char* to_string(data_kind k);

/// One decoded message: `type` says which fields mean something.
struct sync_message {
  sync_type type = sync_type::hello;
  // HELLO
  uint8_t min_version = min_sync_version;
  uint8_t max_version = sync_version;
  std::string node;
  // REFUSE, ERROR
  std::string reason;
  // PULL, PAGE, ERROR
  uint64_t request = 0;
  data_kind kind = data_kind::history;
  // PULL
  uint64_t limit = 0;
  std::vector<origin_mark> marks;
  // PAGE
  bool more = false;
  std::vector<history_row> rows;
  std::vector<alarm> alarms;
  std::vector<diag_event> events;
  // ITEMS, GONE
  std::string pair;
  std::vector<std::string> items;
  // ITEMS_END
  uint64_t count = 0;
};

// -- encoding --------------------------------------------------------------------------------

std::vector<uint8_t> encode_hello(const std::string& node, uint8_t min_version = min_sync_version,
                                  uint8_t max_version = sync_version);
std::vector<uint8_t> encode_refuse(const std::string& reason);
std::vector<uint8_t> encode_pull(uint64_t request, data_kind kind, uint64_t limit,
                                 const std::vector<origin_mark>& marks);
std::vector<uint8_t> encode_error(uint64_t request, const std::string& reason);

/// Encodes a page of history rows, as many of `rows[first..]` as fit in `max_bytes` (at least
/// one). `taken` says how many; `more` is written as given, or true when rows were left out. A
/// value that alone would not fit is sent empty with status BadEncodingLimitsExceeded (its stamp
/// stays, so the row is still accounted for).
std::vector<uint8_t> encode_history_page(uint64_t request, const std::vector<history_row>& rows,
                                         size_t first, bool more, size_t max_bytes, size_t& taken);
std::vector<uint8_t> encode_alarm_page(uint64_t request, const std::vector<alarm>& alarms,
                                       size_t first, bool more, size_t max_bytes, size_t& taken);
std::vector<uint8_t> encode_event_page(uint64_t request, const std::vector<diag_event>& events,
                                       size_t first, bool more, size_t max_bytes, size_t& taken);

/// Encodes as many of `items[first..]` of pair `pair` as fit in `max_bytes` (at least one);
/// `taken` says how many.
std::vector<uint8_t> encode_items(const std::string& pair, const std::vector<std::string>& items,
                                  size_t first, size_t max_bytes, size_t& taken);
/// The same for GONE.
std::vector<uint8_t> encode_gone(const std::string& pair, const std::vector<std::string>& items,
                                 size_t first, size_t max_bytes, size_t& taken);
/// ITEMS_END: the ITEMS just sent carried `count` NodeIds, this node's whole set.
std::vector<uint8_t> encode_items_end(uint64_t count);

/// Status written for a value that exceeded the page limit (OPC UA BadEncodingLimitsExceeded).
inline constexpr uint32_t status_too_large = 0x80080000;

// -- decoding --------------------------------------------------------------------------------

/// Decodes one message: "" and `out` set, or what is wrong. A message of a version this build
/// does not speak is refused with a reason naming both versions (`version_refused` set).
std::string decode(const uint8_t* data, size_t size, sync_message& out,
                   bool* version_refused = nullptr);
inline std::string decode(const std::vector<uint8_t>& b, sync_message& out,
                          bool* version_refused = nullptr) {
  return decode(b.data(), b.size(), out, version_refused);
}

} // namespace tandem::partner::sync
