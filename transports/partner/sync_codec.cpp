#include "transports/partner/sync_codec.hpp"

#include <limits>
#include <unordered_map>

namespace tandem::partner::sync {

namespace {

// -- writing ---------------------------------------------------------------------------------

void put_v(std::vector<uint8_t>& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}

uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}

int64_t unzigzag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

void put_s(std::vector<uint8_t>& out, int64_t v) {
  put_v(out, zigzag(v));
}

// Differences of two times; wraps instead of overflowing (decoding adds back the same way).
int64_t diff(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
int64_t add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

void put_str(std::vector<uint8_t>& out, const std::string& s) {
  // Longer strings are cut (the decoder refuses them); no field of Tandem's comes near.
  size_t n = std::min(s.size(), max_string_bytes);
  put_v(out, n);
  out.insert(out.end(), s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n));
}

void put_blob(std::vector<uint8_t>& out, const std::vector<uint8_t>& b) {
  put_v(out, b.size());
  out.insert(out.end(), b.begin(), b.end());
}

size_t v_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

/// The layout version that defines a message of type t (see the header).
uint8_t layout_of(sync_type t) {
  switch (t) {
  case sync_type::items:
    return items_version;
  case sync_type::gone:
  case sync_type::items_end:
    return gone_version;
  default:
    return 1;
  }
}

std::vector<uint8_t> start(sync_type t) {
  return {layout_of(t), static_cast<uint8_t>(t)};
}

std::vector<uint8_t> page_header(uint64_t request, data_kind kind, bool more) {
  auto out = start(sync_type::page);
  put_v(out, request);
  out.push_back(static_cast<uint8_t>(kind));
  out.push_back(more ? 1 : 0);
  return out;
}

// -- reading ---------------------------------------------------------------------------------

class reader {
public:
  reader(const uint8_t* d, size_t n) : d_(d), n_(n) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  size_t left() const { return n_ - pos_; }
  size_t pos() const { return pos_; }

  void fail(const std::string& what) {
    if (error_.empty()) error_ = what + " (at byte " + std::to_string(pos_) + ")";
  }

  uint8_t u8(const char* what) {
    if (!ok()) return 0;
    if (pos_ >= n_) {
      fail(std::string("truncated: ") + what + " is missing");
      return 0;
    }
    return d_[pos_++];
  }

  uint64_t v(const char* what) {
    if (!ok()) return 0;
    uint64_t r = 0;
    for (int i = 0; i < 10; ++i) {
      if (pos_ >= n_) {
        fail(std::string("truncated: ") + what + " ends inside its number");
        return 0;
      }
      uint8_t b = d_[pos_++];
      if (i == 9 && b > 1) {
        fail(std::string(what) + " is larger than 64 bits");
        return 0;
      }
      r |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) return r;
    }
    fail(std::string(what) + " is larger than 64 bits");
    return 0;
  }

  int64_t s(const char* what) { return unzigzag(v(what)); }

  /// A count of elements each taking at least `min_bytes`: never more than the input can hold.
  uint64_t count(const char* what, size_t min_bytes) {
    uint64_t n = v(what);
    if (ok() && n > left() / std::max<size_t>(min_bytes, 1)) {
      fail(std::string(what) + " says " + std::to_string(n) + " but only " +
           std::to_string(left()) + " bytes are left");
      return 0;
    }
    return ok() ? n : 0;
  }

  std::string str(const char* what, size_t max = max_string_bytes) {
    uint64_t n = v(what);
    if (!ok()) return {};
    if (n > max) {
      fail(std::string(what) + " is " + std::to_string(n) + " bytes long, more than the limit of " +
           std::to_string(max));
      return {};
    }
    if (n > left()) {
      fail(std::string("truncated: ") + what + " needs " + std::to_string(n) + " bytes, " +
           std::to_string(left()) + " are left");
      return {};
    }
    std::string out(reinterpret_cast<const char*>(d_ + pos_), static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return out;
  }

  std::vector<uint8_t> blob(const char* what, size_t max) {
    uint64_t n = v(what);
    if (!ok()) return {};
    if (n > max) {
      fail(std::string(what) + " is " + std::to_string(n) + " bytes long, more than the limit of " +
           std::to_string(max));
      return {};
    }
    if (n > left()) {
      fail(std::string("truncated: ") + what + " needs " + std::to_string(n) + " bytes, " +
           std::to_string(left()) + " are left");
      return {};
    }
    std::vector<uint8_t> out(d_ + pos_, d_ + pos_ + n);
    pos_ += static_cast<size_t>(n);
    return out;
  }

private:
  const uint8_t* d_;
  size_t n_;
  size_t pos_ = 0;
  std::string error_;
};

bool valid_kind(uint8_t k) {
  return k >= 1 && k <= 3;
}

void read_marks(reader& r, std::vector<origin_mark>& out) {
  uint64_t n = r.count("mark count", 3);
  out.reserve(static_cast<size_t>(n));
  for (uint64_t i = 0; i < n && r.ok(); ++i) {
    origin_mark m;
    m.origin = r.str("mark origin");
    m.stamp.term = r.v("mark term");
    m.stamp.seq = r.v("mark seq");
    out.push_back(std::move(m));
  }
}

void read_history(reader& r, std::vector<history_row>& out) {
  uint64_t ns = r.count("string count", 1);
  std::vector<std::string> strings;
  strings.reserve(static_cast<size_t>(ns));
  for (uint64_t i = 0; i < ns && r.ok(); ++i)
    strings.push_back(r.str("page string"));
  // A row takes at least 12 bytes (three indices, flags, time, recorded, status, term, seq,
  // value length).
  uint64_t n = r.count("row count", 10);
  out.reserve(static_cast<size_t>(n));
  auto pick = [&](const char* what) -> std::string {
    uint64_t i = r.v(what);
    if (!r.ok()) return {};
    if (i >= strings.size()) {
      r.fail(std::string(what) + " " + std::to_string(i) + " names no string of the page (" +
             std::to_string(strings.size()) + " strings)");
      return {};
    }
    return strings[static_cast<size_t>(i)];
  };
  for (uint64_t i = 0; i < n && r.ok(); ++i) {
    history_row row;
    row.pair = pick("row pair");
    row.item = pick("row item");
    row.origin = pick("row origin");
    uint8_t flags = r.u8("row flags");
    if (r.ok() && (flags & ~1u) != 0) r.fail("row flags " + std::to_string(flags) + " unknown");
    row.time_ms = r.s("row time");
    row.source_ms = (flags & 1) ? add(row.time_ms, r.s("row source time")) : 0;
    row.recorded_ms = add(row.time_ms, r.s("row recorded time"));
    uint64_t status = r.v("row status");
    if (r.ok() && status > std::numeric_limits<uint32_t>::max())
      r.fail("row status " + std::to_string(status) + " is not a 32-bit StatusCode");
    row.status = static_cast<uint32_t>(status);
    row.stamp.term = r.v("row term");
    row.stamp.seq = r.v("row seq");
    row.value = r.blob("row value", max_value_bytes);
    if (r.ok() && row.origin.empty()) r.fail("a row without origin");
    out.push_back(std::move(row));
  }
}

void put_alarm(std::vector<uint8_t>& out, const alarm& a) {
  put_str(out, a.id);
  put_str(out, a.key);
  put_str(out, a.source);
  put_str(out, a.text);
  out.push_back(static_cast<uint8_t>((a.active ? 1 : 0) | (a.acked ? 2 : 0)));
  put_s(out, a.raised_ms);
  put_s(out, a.cleared_ms);
  put_s(out, a.acked_ms);
  put_str(out, a.origin);
  put_v(out, a.stamp.term);
  put_v(out, a.stamp.seq);
}

void read_alarms(reader& r, std::vector<alarm>& out) {
  uint64_t n = r.count("alarm count", 11);
  out.reserve(static_cast<size_t>(n));
  for (uint64_t i = 0; i < n && r.ok(); ++i) {
    alarm a;
    a.id = r.str("alarm id");
    a.key = r.str("alarm key");
    a.source = r.str("alarm source");
    a.text = r.str("alarm text");
    uint8_t flags = r.u8("alarm flags");
    if (r.ok() && (flags & ~3u) != 0) r.fail("alarm flags " + std::to_string(flags) + " unknown");
    a.active = flags & 1;
    a.acked = flags & 2;
    a.raised_ms = r.s("alarm raise time");
    a.cleared_ms = r.s("alarm clear time");
    a.acked_ms = r.s("alarm ack time");
    a.origin = r.str("alarm origin");
    a.stamp.term = r.v("alarm term");
    a.stamp.seq = r.v("alarm seq");
    if (r.ok() && (a.id.empty() || a.origin.empty())) r.fail("an alarm without id or origin");
    out.push_back(std::move(a));
  }
}

void put_event(std::vector<uint8_t>& out, const diag_event& e) {
  put_v(out, e.seq);
  put_s(out, e.time_ms);
  out.push_back(static_cast<uint8_t>(e.sev));
  put_str(out, e.node);
  put_str(out, e.source);
  put_str(out, e.kind);
  put_str(out, e.text);
}

void read_events(reader& r, std::vector<diag_event>& out) {
  uint64_t n = r.count("event count", 7);
  out.reserve(static_cast<size_t>(n));
  for (uint64_t i = 0; i < n && r.ok(); ++i) {
    diag_event e;
    e.seq = r.v("event seq");
    e.time_ms = r.s("event time");
    uint8_t sev = r.u8("event severity");
    if (r.ok() && sev > 3) r.fail("event severity " + std::to_string(sev) + " unknown");
    e.sev = static_cast<severity>(sev);
    e.node = r.str("event node");
    e.source = r.str("event source");
    e.kind = r.str("event kind");
    e.text = r.str("event text");
    if (r.ok() && (e.node.empty() || e.seq == 0)) r.fail("an event without node or seq");
    out.push_back(std::move(e));
  }
}

// The count and as many of `xs[first..]` as fit, after a head of `head` bytes, in `max_bytes`
// (at least one); `enc` appends one item to a buffer. `taken` says how many.
template <class T, class Enc>
std::vector<uint8_t> fitting(size_t head, const std::vector<T>& xs, size_t first, size_t max_bytes,
                             size_t& taken, Enc enc) {
  std::vector<uint8_t> body;
  std::vector<uint8_t> one;
  taken = 0;
  for (size_t i = first; i < xs.size(); ++i) {
    one.clear();
    enc(one, xs[i]);
    size_t total = head + v_size(taken + 1) + body.size() + one.size();
    if (taken > 0 && total > max_bytes) break;
    body.insert(body.end(), one.begin(), one.end());
    ++taken;
  }
  std::vector<uint8_t> out;
  put_v(out, taken);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

// A page of items encoded one by one while they fit.
template <class T, class Enc>
std::vector<uint8_t> encode_simple_page(uint64_t request, data_kind kind, const std::vector<T>& xs,
                                        size_t first, bool more, size_t max_bytes, size_t& taken,
                                        Enc enc) {
  size_t head = page_header(request, kind, more).size();
  auto body = fitting(head, xs, first, max_bytes, taken, enc);
  bool left_out = first + taken < xs.size();
  auto out = page_header(request, kind, more || left_out);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

} // namespace

const char* to_string(sync_type t) {
  switch (t) {
  case sync_type::hello:
    return "HELLO";
  case sync_type::refuse:
    return "REFUSE";
  case sync_type::pull:
    return "PULL";
  case sync_type::page:
    return "PAGE";
  case sync_type::error:
    return "ERROR";
  case sync_type::items:
    return "ITEMS";
  case sync_type::gone:
    return "GONE";
  case sync_type::items_end:
    return "ITEMS_END";
  }
  return "?";
}

const char* to_string(data_kind k) {
  switch (k) {
  case data_kind::history:
    return "history";
  case data_kind::alarms:
    return "alarms";
  case data_kind::events:
    return "events";
  }
  return "?";
}

std::vector<uint8_t> encode_hello(const std::string& node, uint8_t min_version,
                                  uint8_t max_version) {
  // A HELLO is always written in layout 1, so that any version can read the range it offers.
  std::vector<uint8_t> out{1, static_cast<uint8_t>(sync_type::hello)};
  put_v(out, min_version);
  put_v(out, max_version);
  put_str(out, node);
  return out;
}

std::vector<uint8_t> encode_refuse(const std::string& reason) {
  std::vector<uint8_t> out{1, static_cast<uint8_t>(sync_type::refuse)};
  put_str(out, reason);
  return out;
}

std::vector<uint8_t> encode_pull(uint64_t request, data_kind kind, uint64_t limit,
                                 const std::vector<origin_mark>& marks) {
  auto out = start(sync_type::pull);
  put_v(out, request);
  out.push_back(static_cast<uint8_t>(kind));
  put_v(out, limit);
  put_v(out, marks.size());
  for (auto& m : marks) {
    put_str(out, m.origin);
    put_v(out, m.stamp.term);
    put_v(out, m.stamp.seq);
  }
  return out;
}

std::vector<uint8_t> encode_error(uint64_t request, const std::string& reason) {
  auto out = start(sync_type::error);
  put_v(out, request);
  put_str(out, reason);
  return out;
}

std::vector<uint8_t> encode_history_page(uint64_t request, const std::vector<history_row>& rows,
                                         size_t first, bool more, size_t max_bytes, size_t& taken) {
  std::vector<std::string> strings;
  std::unordered_map<std::string, uint64_t> index;
  size_t strings_bytes = 0;
  std::vector<uint8_t> body;
  std::vector<uint8_t> one;
  taken = 0;
  size_t head = page_header(request, data_kind::history, more).size();
  auto encode_row = [&](const history_row& r, bool empty_value, std::vector<std::string>& added,
                        size_t& added_bytes) {
    one.clear();
    auto idx = [&](const std::string& s) {
      std::string cut = s.substr(0, max_string_bytes);
      if (auto it = index.find(cut); it != index.end()) return it->second;
      for (size_t i = 0; i < added.size(); ++i)
        if (added[i] == cut) return static_cast<uint64_t>(strings.size() + i);
      added.push_back(cut);
      added_bytes += v_size(cut.size()) + cut.size();
      return static_cast<uint64_t>(strings.size() + added.size() - 1);
    };
    put_v(one, idx(r.pair));
    put_v(one, idx(r.item));
    put_v(one, idx(r.origin));
    one.push_back(r.source_ms != 0 ? 1 : 0);
    put_s(one, r.time_ms);
    if (r.source_ms != 0) put_s(one, diff(r.source_ms, r.time_ms));
    put_s(one, diff(r.recorded_ms, r.time_ms));
    put_v(one, empty_value ? status_too_large : r.status);
    put_v(one, r.stamp.term);
    put_v(one, r.stamp.seq);
    if (empty_value || r.value.size() > max_value_bytes)
      put_v(one, 0);
    else
      put_blob(one, r.value);
  };
  for (size_t i = first; i < rows.size(); ++i) {
    std::vector<std::string> added;
    size_t added_bytes = 0;
    encode_row(rows[i], false, added, added_bytes);
    auto total = [&] {
      return head + v_size(strings.size() + added.size()) + strings_bytes + added_bytes +
             v_size(taken + 1) + body.size() + one.size();
    };
    if (total() > max_bytes) {
      if (taken > 0) break;
      // Alone and still too large: the value cannot travel; the stamp does.
      added.clear();
      added_bytes = 0;
      encode_row(rows[i], true, added, added_bytes);
    }
    for (auto& s : added) {
      index.emplace(s, strings.size());
      strings.push_back(s);
    }
    strings_bytes += added_bytes;
    body.insert(body.end(), one.begin(), one.end());
    ++taken;
  }
  bool left_out = first + taken < rows.size();
  auto out = page_header(request, data_kind::history, more || left_out);
  out.reserve(out.size() + 10 + strings_bytes + body.size());
  put_v(out, strings.size());
  for (auto& s : strings)
    put_str(out, s);
  put_v(out, taken);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

std::vector<uint8_t> encode_alarm_page(uint64_t request, const std::vector<alarm>& alarms,
                                       size_t first, bool more, size_t max_bytes, size_t& taken) {
  return encode_simple_page(request, data_kind::alarms, alarms, first, more, max_bytes, taken,
                            put_alarm);
}

std::vector<uint8_t> encode_event_page(uint64_t request, const std::vector<diag_event>& events,
                                       size_t first, bool more, size_t max_bytes, size_t& taken) {
  return encode_simple_page(request, data_kind::events, events, first, more, max_bytes, taken,
                            put_event);
}

namespace {

std::vector<uint8_t> encode_node_ids(sync_type t, const std::string& pair,
                                     const std::vector<std::string>& items, size_t first,
                                     size_t max_bytes, size_t& taken) {
  auto out = start(t);
  put_str(out, pair);
  auto body = fitting(out.size(), items, first, max_bytes, taken, put_str);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

} // namespace

std::vector<uint8_t> encode_items(const std::string& pair, const std::vector<std::string>& items,
                                  size_t first, size_t max_bytes, size_t& taken) {
  return encode_node_ids(sync_type::items, pair, items, first, max_bytes, taken);
}

std::vector<uint8_t> encode_gone(const std::string& pair, const std::vector<std::string>& items,
                                 size_t first, size_t max_bytes, size_t& taken) {
  return encode_node_ids(sync_type::gone, pair, items, first, max_bytes, taken);
}

std::vector<uint8_t> encode_items_end(uint64_t count) {
  auto out = start(sync_type::items_end);
  put_v(out, count);
  return out;
}

std::string decode(const uint8_t* data, size_t size, sync_message& out, bool* version_refused) {
  if (version_refused) *version_refused = false;
  out = sync_message{};
  reader r(data, size);
  uint8_t version = r.u8("the version byte");
  uint8_t type = r.u8("the message type");
  if (!r.ok()) return "sync message too short: " + r.error();
  // HELLO and REFUSE keep layout 1 in every version: any two versions can tell each other why.
  bool frozen = type == static_cast<uint8_t>(sync_type::hello) ||
                type == static_cast<uint8_t>(sync_type::refuse);
  if (!frozen && (version < min_sync_version || version > sync_version)) {
    if (version_refused) *version_refused = true;
    return "sync message of version " + std::to_string(version) + "; this node speaks version " +
           std::to_string(min_sync_version) +
           (min_sync_version == sync_version ? "" : " to " + std::to_string(sync_version));
  }
  if (type < 1 || type > 8) return "unknown sync message type " + std::to_string(type);
  out.type = static_cast<sync_type>(type);
  if (!frozen && version < layout_of(out.type))
    return std::string("sync ") + to_string(out.type) + " in version " + std::to_string(version) +
           ", which has no such message (it came with version " +
           std::to_string(layout_of(out.type)) + ")";
  switch (out.type) {
  case sync_type::hello: {
    uint64_t lo = r.v("HELLO min version");
    uint64_t hi = r.v("HELLO max version");
    out.node = r.str("HELLO node name");
    if (r.ok() && (lo == 0 || lo > 255 || hi > 255 || lo > hi))
      r.fail("HELLO offers the impossible version range " + std::to_string(lo) + " to " +
             std::to_string(hi));
    out.min_version = static_cast<uint8_t>(lo);
    out.max_version = static_cast<uint8_t>(hi);
    if (!r.ok()) return "bad sync HELLO: " + r.error();
    return {}; // later versions may append fields
  }
  case sync_type::refuse:
    out.reason = r.str("REFUSE reason");
    break;
  case sync_type::error:
    out.request = r.v("ERROR request");
    out.reason = r.str("ERROR reason");
    break;
  case sync_type::pull: {
    out.request = r.v("PULL request");
    uint8_t k = r.u8("PULL kind");
    if (r.ok() && !valid_kind(k)) r.fail("PULL of unknown kind " + std::to_string(k));
    out.kind = static_cast<data_kind>(k);
    out.limit = r.v("PULL limit");
    read_marks(r, out.marks);
    break;
  }
  case sync_type::items:
  case sync_type::gone: {
    std::string name = to_string(out.type);
    out.pair = r.str((name + " pair").c_str());
    uint64_t n = r.count("item count", 2);
    for (uint64_t i = 0; i < n && r.ok(); ++i) {
      auto item = r.str((name + " node id").c_str());
      if (r.ok() && item.empty()) r.fail(name + " node id " + std::to_string(i) + " is empty");
      out.items.push_back(std::move(item));
    }
    break;
  }
  case sync_type::items_end:
    out.count = r.v("ITEMS_END count");
    break;
  case sync_type::page: {
    out.request = r.v("PAGE request");
    uint8_t k = r.u8("PAGE kind");
    if (r.ok() && !valid_kind(k)) r.fail("PAGE of unknown kind " + std::to_string(k));
    out.kind = static_cast<data_kind>(k);
    uint8_t flags = r.u8("PAGE flags");
    if (r.ok() && (flags & ~1u) != 0) r.fail("PAGE flags " + std::to_string(flags) + " unknown");
    out.more = flags & 1;
    if (!r.ok()) break;
    if (out.kind == data_kind::history)
      read_history(r, out.rows);
    else if (out.kind == data_kind::alarms)
      read_alarms(r, out.alarms);
    else
      read_events(r, out.events);
    break;
  }
  }
  if (r.ok() && r.left() != 0)
    r.fail(std::to_string(r.left()) + " unexpected bytes after the " +
           std::string(to_string(out.type)));
  if (!r.ok()) return std::string("bad sync ") + to_string(out.type) + ": " + r.error();
  return {};
}

} // namespace tandem::partner::sync
