#include "transports/opcua/server/server.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>
#include <random>
#include <unordered_set>
#include <utility>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <fcntl.h>

namespace tandem::opcua {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

namespace {

std::vector<uint8_t> random_bytes(size_t n) {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  std::vector<uint8_t> out(n);
  for (auto& b : out)
    b = static_cast<uint8_t>(gen());
  return out;
}

/// The path of an opc.tcp URL ("" for none); trailing '/' removed so "/sim/" = "/sim" and
/// "/" = "".
std::string url_path(const std::string& url) {
  const std::string scheme = "opc.tcp://";
  size_t pos = 0;
  if (url.size() >= scheme.size() &&
      std::equal(scheme.begin(), scheme.end(), url.begin(),
                 [](char a, char b) { return std::tolower(static_cast<unsigned char>(b)) == a; }))
    pos = scheme.size();
  if (pos < url.size() && url[pos] == '[') {
    size_t end = url.find(']', pos);
    pos = end == std::string::npos ? url.size() : end + 1;
  }
  size_t slash = url.find('/', pos);
  std::string path = slash == std::string::npos ? std::string() : url.substr(slash);
  while (!path.empty() && path.back() == '/')
    path.pop_back();
  return path;
}

std::string normalize_path(std::string path) {
  if (!path.empty() && path.front() != '/') path.insert(path.begin(), '/');
  while (!path.empty() && path.back() == '/')
    path.pop_back();
  return path;
}

ResponseHeader response_for(const RequestHeader& h, StatusCode sc = status::Good) {
  ResponseHeader r;
  r.timestamp = DateTime::now();
  r.request_handle = h.request_handle;
  r.service_result = sc;
  return r;
}

ServiceFault fault(const RequestHeader& h, StatusCode sc) {
  return make_service_fault(h, sc);
}

constexpr StatusCode bad_max_age_invalid{0x80700000u};
constexpr StatusCode bad_view_id_unknown{0x806B0000u};

DataValue bad_value(StatusCode sc) {
  DataValue dv;
  dv.status = sc;
  return dv;
}

/// Encodes a continuation point number as its 8 bytes.
ByteString continuation_bytes(uint64_t n) {
  std::vector<uint8_t> b(8);
  for (int i = 0; i < 8; ++i)
    b[static_cast<size_t>(i)] = static_cast<uint8_t>(n >> (8 * i));
  return ByteString(std::move(b));
}

} // namespace

/// A monitored item's queue, oldest first: a ring over one vector, so that a full queue that
/// discards its oldest value (every change of a Sampling item on a warm standby, 100,000 a second
/// on a busy server) costs one move, not a shift of the whole queue.
class value_queue {
public:
  size_t size() const { return buf_.size(); }
  bool empty() const { return buf_.empty(); }
  DataValue& operator[](size_t i) { return buf_[(head_ + i) % buf_.size()]; }
  DataValue& front() { return (*this)[0]; }
  void push_back(DataValue dv) {
    normalize();
    buf_.push_back(std::move(dv));
  }
  /// Appends to a full queue of `size()` values, dropping the oldest.
  void push_replacing_oldest(DataValue dv) {
    buf_[head_] = std::move(dv);
    head_ = (head_ + 1) % static_cast<uint32_t>(buf_.size());
  }
  void pop_back() {
    normalize();
    buf_.pop_back();
  }
  /// Drops the `n` oldest values.
  void erase_front(size_t n) {
    normalize();
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(std::min(n, buf_.size())));
    if (buf_.empty()) buf_.shrink_to_fit();
  }
  DataValue take_back() {
    normalize();
    DataValue dv = std::move(buf_.back());
    buf_.pop_back();
    return dv;
  }
  void clear() {
    buf_.clear();
    buf_.shrink_to_fit();
    head_ = 0;
  }

private:
  void normalize() {
    if (head_ == 0) return;
    std::rotate(buf_.begin(), buf_.begin() + head_, buf_.end());
    head_ = 0;
  }
  std::vector<DataValue> buf_;
  uint32_t head_ = 0;
};

/// One session, shared by the connections that use it; guarded by server_endpoint::mutex_.
struct server_session {
  NodeId session_id;
  NodeId token;
  std::shared_ptr<address_space> space;
  uint32_t channel_id = 0;
  bool activated = false;
  double timeout_ms = 60000;
  steady::time_point last_used;
  uint32_t max_response_size = 0;
  /// Who the client is: its ApplicationUri (CreateSession) and the user it activated with (empty
  /// for anonymous). TransferSubscriptions moves subscriptions only between equal identities.
  std::string client_uri;
  std::string user;
  struct continuation {
    std::vector<ReferenceDescription> rest;
    uint32_t max = 0;
  };
  std::map<ByteString, continuation> continuations;
  uint64_t next_continuation = 1;

  /// Changes reported by the address space for a subscription's watched items, filled from
  /// whichever thread changed a value and drained at each publishing cycle.
  /// Bounded: past `limit` changes (the subscription's total queue size, at least 1024) the
  /// inbox stops taking them and marks itself overflowed, and the next cycle reads every watched
  /// item's current value instead, so a client that cannot keep up costs bounded memory and
  /// still ends with current values.
  struct inbox {
    std::mutex mutex;
    std::vector<std::pair<uint32_t, DataValue>> changes; ///< (item id, value)
    /// The vector the last cycle drained, empty, kept for its capacity: it takes the place of
    /// `changes` at the next cycle, so the inbox does not grow from nothing every cycle.
    std::vector<std::pair<uint32_t, DataValue>> spare;
    size_t limit = 1024;
    bool overflowed = false;

    void add(uint32_t id, const DataValue& dv) {
      std::lock_guard<std::mutex> lock(mutex);
      if (changes.size() >= limit)
        overflowed = true;
      else
        changes.emplace_back(id, dv);
    }
  };
  /// A watch on the address space, removed when the last item holding it goes. It keeps the
  /// inbox alive until the address space has forgotten the watch, so the watch's callback can
  /// hold a plain pointer (small enough for std::function to store without allocating).
  struct watch_guard {
    std::shared_ptr<address_space> space;
    std::shared_ptr<inbox> box;
    uint64_t token = 0;
    ~watch_guard() {
      if (space && token != 0) space->unwatch(token);
    }
  };
  /// A monitored item. Kept small (about 300 bytes with its map node): servers carry 100,000.
  struct item {
    uint32_t id = 0;
    uint32_t client_handle = 0;
    NodeId node;
    uint32_t attribute = attribute_id::Value;
    MonitoringMode mode = MonitoringMode::Reporting;
    TimestampsToReturn timestamps = TimestampsToReturn::Both;
    DataChangeTrigger trigger = DataChangeTrigger::StatusValue;
    uint32_t queue_size = 1;
    bool discard_oldest = true;
    bool needs_current = true; ///< report the current value at the next cycle
    /// With a queue of one, the queue is `last` and this flag (most items: no vector at all).
    bool pending = false;
    bool listed = false; ///< in its subscription's `ready` list
    double sampling_ms = 0;
    double absolute_deadband = 0;
    std::optional<DataValue> last;
    value_queue queue;                  ///< oldest first, when queue_size > 1
    std::shared_ptr<watch_guard> watch; ///< null: sampled every publishing cycle
  };
  struct subscription {
    uint32_t id = 0;
    double interval_ms = 1000;
    uint32_t lifetime_count = 60;
    uint32_t max_keep_alive = 10;
    uint32_t max_notifications = 0;
    bool enabled = true;
    std::map<uint32_t, item> items;
    uint32_t next_sequence = 1;
    std::map<uint32_t, NotificationMessage> retransmit; ///< unacknowledged, for Republish
    uint32_t keep_alive_counter = 0;
    uint32_t lifetime_counter = 0;
    bool first_cycle = true;
    /// Notifications in the last NotificationMessage: the next one reserves room for as many
    /// (it is built of ~200-byte elements; growing it from empty moved each several times).
    size_t last_notifications = 0;
    /// Some item may have to be read at the next cycle (one created, modified, enabled again,
    /// deleted, or one not watched): the cycle then walks every item. False while every item is
    /// watched and reported, so a cycle costs what changed, not the number of items.
    bool sample_all = true;
    std::shared_ptr<server_session::inbox> changes = std::make_shared<server_session::inbox>();
    /// Changes that did not fit their item's queue, for the next cycle (spreads_bursts).
    std::vector<std::pair<uint32_t, DataValue>> held;
    /// The items that may hold values to report, each once (item::listed): whether there is
    /// anything to publish, and what, is found from these instead of walking every item (a
    /// pair's endpoint has 11,000 items, a few hundred of which change per cycle). Pointers into
    /// `items` (a std::map: stable while the item exists); deleting a listed item rebuilds it.
    std::vector<item*> ready;
    uint64_t timer = 0; ///< the generation of its publishing timer (a transfer starts a new one)
  };
  /// A Publish waiting for a notification or keep-alive.
  struct parked_publish {
    std::weak_ptr<server_connection> conn;
    uint32_t request_id = 0;
    RequestHeader header;
    steady::time_point deadline;
    Array<StatusCode> ack_results;
    uint32_t max_body = 0; ///< the largest response the client takes (0: no limit)
  };
  std::map<uint32_t, subscription> subscriptions;
  std::deque<parked_publish> publishes;

  bool expired(steady::time_point now) const {
    return now - last_used > std::chrono::duration<double, std::milli>(timeout_ms);
  }
};

namespace {

/// A response to send on a connection (possibly another strand's).
struct delivery {
  std::weak_ptr<server_connection> conn;
  uint32_t request_id = 0;
  Response response;
  uint32_t max_size = 0;
};

void apply_timestamps(DataValue& dv, TimestampsToReturn t, bool is_value, DateTime now) {
  bool failed = !dv.value && dv.status && dv.status->is_bad();
  if (!is_value || failed) {
    dv.source_timestamp.reset();
    dv.source_picoseconds.reset();
    dv.server_timestamp.reset();
    dv.server_picoseconds.reset();
    return;
  }
  if (t == TimestampsToReturn::Server || t == TimestampsToReturn::Neither) {
    dv.source_timestamp.reset();
    dv.source_picoseconds.reset();
  }
  if (t == TimestampsToReturn::Server || t == TimestampsToReturn::Both) {
    dv.server_timestamp = now;
  } else {
    dv.server_timestamp.reset();
    dv.server_picoseconds.reset();
  }
}

std::optional<double> as_number(const Variant& v) {
  if (auto* d = v.get_if<double>()) return *d;
  if (auto* f = v.get_if<float>()) return *f;
  if (auto* i = v.get_if<int32_t>()) return *i;
  if (auto* u = v.get_if<uint32_t>()) return *u;
  if (auto* i16 = v.get_if<int16_t>()) return *i16;
  if (auto* u16 = v.get_if<uint16_t>()) return *u16;
  if (auto* i64 = v.get_if<int64_t>()) return static_cast<double>(*i64);
  if (auto* u64 = v.get_if<uint64_t>()) return static_cast<double>(*u64);
  if (auto* i8 = v.get_if<int8_t>()) return *i8;
  if (auto* u8 = v.get_if<uint8_t>()) return *u8;
  return std::nullopt;
}

bool is_change(const server_session::item& it, const DataValue& dv) {
  if (!it.last) return true;
  const DataValue& old = *it.last;
  if (old.status_or_good() != dv.status_or_good()) return true;
  if (it.trigger == DataChangeTrigger::Status) return false;
  if (old.value.has_value() != dv.value.has_value()) return true;
  if (old.value && *old.value != *dv.value) {
    auto a = as_number(*old.value), b = as_number(*dv.value);
    if (it.absolute_deadband <= 0 || !a || !b) return true;
    if (std::abs(*a - *b) > it.absolute_deadband) return true;
  }
  if (it.trigger == DataChangeTrigger::StatusValueTimestamp &&
      old.source_timestamp != dv.source_timestamp)
    return true;
  return false;
}

/// Sets the Overflow bit (InfoType DataValue) of a value's status: values were lost before it.
void mark_overflow(DataValue& dv) {
  dv.status = StatusCode(dv.status_or_good().value | 0x0480u);
}

/// Queues `dv` on `it` when it is a change, honouring the queue size and discard policy; a
/// queue longer than 1 that loses a value marks the value after the gap with the Overflow bit
/// (Part 4 5.12.1.5).
void enqueue(server_session::item& it, DataValue dv, DateTime now, bool lost_before = false) {
  apply_timestamps(dv, it.timestamps, it.attribute == attribute_id::Value, now);
  if (!is_change(it, dv)) return;
  if (lost_before) mark_overflow(dv);
  if (it.queue_size <= 1) { // the newest value replaces the unpublished one, either policy
    it.last = std::move(dv);
    it.pending = true;
    return;
  }
  it.last = dv;
  if (it.queue.size() >= std::max<uint32_t>(it.queue_size, 1)) {
    if (it.discard_oldest) {
      it.queue.push_replacing_oldest(std::move(dv));
      mark_overflow(it.queue.front());
      return;
    }
    it.queue.pop_back();
    mark_overflow(dv);
  }
  it.queue.push_back(std::move(dv));
}

bool holds_values(const server_session::item& it) {
  return it.pending || !it.queue.empty();
}

/// Puts an item that holds values on its subscription's ready list (once).
void list_ready(server_session::subscription& sub, server_session::item& it) {
  if (it.listed || !holds_values(it)) return;
  it.listed = true;
  sub.ready.push_back(&it);
}

/// Drops the items that hold nothing any more from the ready list.
void prune_ready(server_session::subscription& sub) {
  auto keep = std::remove_if(sub.ready.begin(), sub.ready.end(), [](server_session::item* it) {
    if (holds_values(*it)) return false;
    it->listed = false;
    return true;
  });
  sub.ready.erase(keep, sub.ready.end());
}

/// The ready list again from the items (after listed items were deleted).
void rebuild_ready(server_session::subscription& sub) {
  sub.ready.clear();
  for (auto& [id, it] : sub.items) {
    it.listed = false;
    list_ready(sub, it);
  }
}

/// Moves the changes reported since the last cycle into the items' queues, in the order they
/// happened, then samples the items the address space does not report (and those that must
/// report their current value: new, or enabled again).
///
/// On a space that spreads bursts, while the client keeps publishing (`keeping_up`), a change of a
/// Reporting item whose queue (longer than one, discarding the oldest) is full waits in `held`
/// for the next cycle, and so do the item's later changes, in order; held changes go first then.
/// Past the inbox's limit, or when the client stops publishing, the held changes are queued at
/// once and the queue's discard policy applies.
void sample(server_session& s, server_session::subscription& sub, bool keeping_up) {
  DateTime now = DateTime::now();
  std::vector<std::pair<uint32_t, DataValue>> changes;
  bool overflowed = false;
  size_t limit = 0;
  {
    std::lock_guard<std::mutex> lock(sub.changes->mutex);
    changes.swap(sub.changes->changes);
    sub.changes->changes.swap(sub.changes->spare);
    std::swap(overflowed, sub.changes->overflowed);
    limit = sub.changes->limit;
  }
  if (!sub.held.empty()) { // older than anything in the inbox
    sub.held.insert(sub.held.end(), std::make_move_iterator(changes.begin()),
                    std::make_move_iterator(changes.end()));
    changes.swap(sub.held);
    sub.held.clear();
  }
  bool spread = keeping_up && s.space->spreads_bursts();
  std::unordered_set<uint32_t> holding; // items with changes in sub.held
  auto queue_change = [&](uint32_t id, DataValue&& dv) {
    auto it = sub.items.find(id);
    if (it == sub.items.end() || it->second.mode == MonitoringMode::Disabled ||
        it->second.needs_current)
      return;
    auto& item = it->second;
    if (spread && item.mode == MonitoringMode::Reporting && item.queue_size > 1 &&
        item.discard_oldest &&
        (item.queue.size() >= item.queue_size || (!holding.empty() && holding.count(id) > 0))) {
      holding.insert(id);
      sub.held.emplace_back(id, std::move(dv));
      return;
    }
    enqueue(item, std::move(dv), now);
    list_ready(sub, item);
  };
  for (auto& [id, dv] : changes) {
    if (spread && sub.held.size() >= limit) { // bounded: the queues' policy decides from here
      spread = false;
      auto held = std::move(sub.held);
      sub.held.clear();
      for (auto& [hid, hdv] : held)
        queue_change(hid, std::move(hdv));
    }
    queue_change(id, std::move(dv));
  }
  // Kept for the cycle after next unless far larger than this cycle needed (after a burst).
  if (changes.capacity() <= 4 * std::max<size_t>(changes.size(), 1024)) {
    changes.clear();
    std::lock_guard<std::mutex> lock(sub.changes->mutex);
    sub.changes->spare.swap(changes);
  }
  if (!sub.sample_all && !overflowed) return;
  size_t queued = 0;
  bool unwatched = false;
  for (auto& [id, it] : sub.items) {
    queued += it.queue_size;
    if (it.mode != MonitoringMode::Disabled && !it.watch) unwatched = true;
    // After an overflow every watched item reads its current value: its later changes are lost.
    if (it.mode == MonitoringMode::Disabled || (it.watch && !it.needs_current && !overflowed))
      continue;
    it.needs_current = false;
    DataValue dv = s.space->read(it.node, it.attribute);
    // A watched item whose source has no value yet reports its first one when it comes.
    if (it.watch && dv.status_or_good().code() == status::BadWaitingForInitialData.code()) continue;
    enqueue(it, std::move(dv), now, overflowed && it.watch); // changes may be lost before it
    list_ready(sub, it);
  }
  sub.sample_all = unwatched; // items not watched are read every cycle
  std::lock_guard<std::mutex> lock(sub.changes->mutex);
  sub.changes->limit = std::max<size_t>(queued, 1024);
}

bool has_data(server_session::subscription& sub) {
  if (!sub.enabled) return false;
  for (const auto* it : sub.ready)
    if (it->mode == MonitoringMode::Reporting && holds_values(*it)) return true;
  prune_ready(sub); // nothing to report: what is listed holds nothing, or does not report
  return false;
}

Array<uint32_t> available(const server_session::subscription& sub) {
  Array<uint32_t> out;
  for (const auto& [seq, msg] : sub.retransmit)
    out.push_back(seq);
  return out;
}

/// Counts what goes into one NotificationMessage against the client's limits: at most
/// `max_notifications` (0: any number) and an encoded response of at most `max_body` bytes
/// (0: any size). The first notification always goes, so a message never comes out empty.
class notification_budget {
public:
  notification_budget(uint32_t max_notifications, uint32_t max_body, size_t retransmit)
      : max_notifications_(max_notifications) {
    // The response around the notifications: headers, acknowledgement results and available
    // sequence numbers (at most 101, 4 bytes each), and the ExtensionObject framing.
    const uint64_t overhead = 1024 + 4 * (retransmit + 1);
    if (max_body != 0) bytes_left_ = max_body > overhead ? max_body - overhead : 0;
  }

  bool take(const DataValue& dv, size_t taken) {
    if (max_notifications_ != 0 && taken >= max_notifications_) return false;
    if (!bytes_left_) return true;
    scratch_.clear();
    writer w(scratch_);
    encode(w, dv);
    uint64_t size = 4 + scratch_.size(); // client handle + value
    if (taken > 0 && size > *bytes_left_) return false;
    *bytes_left_ -= std::min(size, *bytes_left_);
    return true;
  }

private:
  uint32_t max_notifications_;
  std::optional<uint64_t> bytes_left_;
  std::vector<uint8_t> scratch_;
};

/// Answers the oldest parked Publish with `sub`'s queued notifications (or a keep-alive).
void answer_publish(server_session& s, server_session::subscription& sub,
                    std::vector<delivery>& out) {
  auto p = std::move(s.publishes.front());
  s.publishes.pop_front();
  PublishResponse resp;
  resp.response_header = response_for(p.header);
  resp.subscription_id = sub.id;
  resp.results = std::move(p.ack_results);
  NotificationMessage& msg = resp.notification_message;
  msg.publish_time = DateTime::now();
  if (has_data(sub)) {
    DataChangeNotification dcn;
    // What the client can take: its maximum per Publish, and its maximum message size (the
    // rest waits for the next Publish, announced by moreNotifications).
    notification_budget budget(sub.max_notifications, p.max_body, sub.retransmit.size());
    dcn.monitored_items.reserve(sub.last_notifications);
    // In item order, as a walk of every item would give them.
    std::sort(
        sub.ready.begin(), sub.ready.end(),
        [](const server_session::item* a, const server_session::item* b) { return a->id < b->id; });
    for (auto* ready : sub.ready) {
      auto& it = *ready;
      if (it.mode != MonitoringMode::Reporting || resp.more_notifications) continue;
      if (it.pending) {
        if (!budget.take(*it.last, dcn.monitored_items.size())) {
          resp.more_notifications = true;
          continue;
        }
        it.pending = false;
        dcn.monitored_items.push_back(MonitoredItemNotification{it.client_handle, *it.last});
        continue;
      }
      size_t taken = 0;
      for (; taken < it.queue.size(); ++taken) {
        if (!budget.take(it.queue[taken], dcn.monitored_items.size())) {
          resp.more_notifications = true;
          break;
        }
        MonitoredItemNotification n;
        n.client_handle = it.client_handle;
        n.value = std::move(it.queue[taken]);
        dcn.monitored_items.push_back(std::move(n));
      }
      it.queue.erase_front(taken);
    }
    prune_ready(sub);
    sub.last_notifications = dcn.monitored_items.size();
    auto eo = make_extension_object(dcn);
    if (eo) msg.notification_data.push_back(std::move(*eo));
    msg.sequence_number = sub.next_sequence++;
    if (sub.next_sequence == 0) sub.next_sequence = 1;
    sub.retransmit[msg.sequence_number] = msg;
    while (sub.retransmit.size() > 100)
      sub.retransmit.erase(sub.retransmit.begin());
  } else {
    msg.sequence_number = sub.next_sequence; // keep-alive: the next number, not consumed
  }
  resp.available_sequence_numbers = available(sub);
  sub.keep_alive_counter = 0;
  sub.first_cycle = false;
  out.push_back(delivery{p.conn, p.request_id, Response(std::move(resp)), s.max_response_size});
}

/// One publishing cycle; false when the subscription's lifetime ran out.
bool publish_cycle(server_session& s, server_session::subscription& sub,
                   std::vector<delivery>& out) {
  // Publishes parked on a connection that has gone cannot be answered any more.
  s.publishes.erase(std::remove_if(s.publishes.begin(), s.publishes.end(),
                                   [](const auto& p) { return p.conn.expired(); }),
                    s.publishes.end());
  // Keeping up: a Publish waits, or waited one cycle ago (a client between two Publishes).
  sample(s, sub, !s.publishes.empty() || sub.lifetime_counter < 2);
  if (s.publishes.empty()) {
    ++sub.keep_alive_counter;
    return ++sub.lifetime_counter < sub.lifetime_count;
  }
  sub.lifetime_counter = 0;
  if (has_data(sub)) {
    answer_publish(s, sub, out);
  } else if (sub.first_cycle || ++sub.keep_alive_counter >= sub.max_keep_alive) {
    answer_publish(s, sub, out);
  }
  return true;
}

/// Parked Publishes past their timeoutHint get BadTimeout.
void expire_publishes(server_session& s, std::vector<delivery>& out, steady::time_point now) {
  for (auto it = s.publishes.begin(); it != s.publishes.end();) {
    if (it->deadline <= now) {
      out.push_back(
          delivery{it->conn, it->request_id, Response(fault(it->header, status::BadTimeout)), 0});
      it = s.publishes.erase(it);
    } else {
      ++it;
    }
  }
}

/// Every parked Publish answered with `sc` (no subscription left, session closed).
void flush_publishes(server_session& s, StatusCode sc, std::vector<delivery>& out) {
  for (auto& p : s.publishes)
    out.push_back(delivery{p.conn, p.request_id, Response(fault(p.header, sc)), 0});
  s.publishes.clear();
}

} // namespace

// -- connection ----------------------------------------------------------------------------------

/// One TCP connection: HEL/ACK, one secure channel, and the services on it. Lives on its strand.
class server_connection : public std::enable_shared_from_this<server_connection> {
public:
  using strand_type = asio::strand<asio::io_context::executor_type>;

  server_connection(std::shared_ptr<server_endpoint> server, strand_type strand, tcp::socket s)
      : server_(std::move(server)), opts_(server_->opts_), strand_(std::move(strand)),
        socket_(std::move(s)), lifetime_timer_(strand_), splitter_(opts_.receive_buffer_size),
        assembler_(assembler_limits{opts_.max_message_size, opts_.max_chunk_count, 4}) {
    read_buf_.resize(std::max<uint32_t>(opts_.receive_buffer_size, 8192));
  }

  void start() {
    asio::post(strand_, [self = shared_from_this()] {
      boost::system::error_code ignored;
      self->socket_.set_option(tcp::no_delay(true), ignored);
      // A peer that does not get as far as an open channel in time is dropped.
      self->lifetime_timer_.expires_after(std::chrono::milliseconds(self->opts_.hello_timeout_ms));
      self->lifetime_timer_.async_wait([self](boost::system::error_code ec) {
        if (ec || self->state_ == state::open) return;
        self->close();
      });
      self->read();
    });
  }

  /// Sends a response from another strand (a parked Publish answered by the publishing timer).
  void post_response(uint32_t request_id, Response resp, uint32_t max_size) {
    asio::post(strand_,
               [self = shared_from_this(), request_id, resp = std::move(resp), max_size]() mutable {
                 if (self->state_ == state::open)
                   self->send_response(request_id, std::move(resp), max_size);
               });
  }

  /// Closes the socket at once (server stop).
  void stop() {
    asio::post(strand_, [self = shared_from_this()] { self->close(); });
  }

private:
  enum class state { hello, acknowledged, open, closing, closed };

  // -- I/O ---------------------------------------------------------------------------------------

  void read() {
    socket_.async_read_some(asio::buffer(read_buf_),
                            [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                              if (self->state_ == state::closed || self->state_ == state::closing)
                                return;
                              if (ec) return self->close();
                              self->on_bytes(n);
                              self->read_or_pause();
                            });
  }

  /// Reads on, unless the connection is closing or the peer is not reading its responses: then
  /// it is not read either until they are written (no unbounded write queue).
  void read_or_pause() {
    if (state_ == state::closed || state_ == state::closing) return;
    if (write_bytes_ > max_write_backlog)
      read_paused_ = true;
    else
      read();
  }

  void write(std::vector<uint8_t> bytes) {
    if (state_ == state::closed) return;
    write_bytes_ += bytes.size();
    write_queue_.push_back(std::move(bytes));
    if (write_queue_.size() == 1) write_next();
  }

  void write_next() {
    asio::async_write(socket_, asio::buffer(write_queue_.front()),
                      [self = shared_from_this()](boost::system::error_code ec, size_t) {
                        if (self->state_ == state::closed) return;
                        if (ec) return self->close();
                        self->write_bytes_ -= self->write_queue_.front().size();
                        self->write_queue_.pop_front();
                        // The next write first, so that at most one is ever in flight.
                        if (!self->write_queue_.empty())
                          self->write_next();
                        else if (self->state_ == state::closing)
                          return self->close();
                        if (self->read_paused_ && self->write_bytes_ <= max_write_backlog / 2) {
                          self->read_paused_ = false;
                          self->handle_chunks(); // what was received but left waiting
                          self->read_or_pause();
                        }
                      });
  }

  void close() {
    if (state_ == state::closed) return;
    state_ = state::closed;
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    lifetime_timer_.cancel();
    write_queue_.clear();
    write_bytes_ = 0;
    server_->forget(this);
  }

  /// Sends ERR and closes once it is written.
  void fatal(const error& e) {
    if (state_ == state::closed || state_ == state::closing) return;
    ErrorMessage m;
    m.error = e.code;
    m.reason = String(e.reason);
    auto bytes = encode_error(m);
    state_ = state::closing;
    if (!bytes) return close();
    write(std::move(*bytes));
  }

  void on_bytes(size_t n) {
    splitter_.feed(byte_span(read_buf_.data(), n));
    handle_chunks();
  }

  /// Handles the whole chunks received so far, stopping while the write backlog is over its
  /// limit (the rest waits in the splitter until the peer reads).
  void handle_chunks() {
    while (state_ != state::closed && state_ != state::closing) {
      if (write_bytes_ > max_write_backlog) return;
      auto next = splitter_.next();
      if (!next) return fatal(next.error());
      if (!next->has_value()) return;
      on_chunk(**next);
    }
  }

  void on_chunk(byte_span chunk) {
    auto hdr = decode_message_header(chunk);
    if (!hdr) return fatal(hdr.error());
    if (hdr->type == MessageType::Hello) return on_hello(chunk);
    if (!is_secure_message(hdr->type))
      return fatal(error{status::BadTcpMessageTypeInvalid,
                         std::string("unexpected ") + message_type_code(hdr->type)});
    if (state_ == state::hello)
      return fatal(error{status::BadTcpMessageTypeInvalid, "secure message before HEL"});
    auto sc = decode_secure_chunk(chunk, opts_.limits);
    if (!sc) return fatal(sc.error());
    // Every chunk names the channel and token (OPC 10000-6 §6.7.2): check them on each one, so
    // that nothing is buffered for a channel that is not open or not this one.
    if (sc->type != MessageType::Open) {
      auto bad = channel_error(sc->secure_channel_id, sc->token_id);
      if (bad) return fatal(*bad);
    }
    auto ev = assembler_.add(*sc);
    if (!ev) return fatal(ev.error());
    if (auto* m = std::get_if<AssembledMessage>(&*ev)) {
      if (m->type == MessageType::Open) return on_open(*m);
      return on_message(*m);
    }
    // An aborted request (A chunk) is simply dropped; the channel stays.
  }

  // -- HEL / OPN ---------------------------------------------------------------------------------

  void on_hello(byte_span chunk) {
    if (state_ != state::hello)
      return fatal(error{status::BadTcpMessageTypeInvalid, "a second HEL"});
    auto hel = decode_hello(chunk);
    if (!hel) return fatal(hel.error());
    hel_url_ = hel->endpoint_url.str();
    space_ = server_->find_space(url_path(hel_url_));
    if (!space_)
      return fatal(error{status::BadTcpEndpointUrlInvalid,
                         "no endpoint for '" + hel_url_ + "' on this server"});
    AcknowledgeMessage ours;
    ours.receive_buffer_size = opts_.receive_buffer_size;
    ours.send_buffer_size = opts_.send_buffer_size;
    ours.max_message_size = opts_.max_message_size;
    ours.max_chunk_count = opts_.max_chunk_count;
    auto ack = negotiate_acknowledge(*hel, ours);
    if (!ack) return fatal(ack.error());
    chunker_.set_limits(
        chunk_limits{ack->send_buffer_size, hel->max_message_size, hel->max_chunk_count});
    splitter_.set_max_chunk_size(ack->receive_buffer_size);
    auto bytes = encode_acknowledge(*ack);
    if (!bytes) return fatal(bytes.error());
    state_ = state::acknowledged;
    write(std::move(*bytes));
  }

  void on_open(const AssembledMessage& m) {
    auto req = decode_message<OpenSecureChannelRequest>(byte_span(m.body), opts_.limits, 79);
    if (!req) return fatal(req.error());
    if (req->request_type == SecurityTokenRequestType::Issue) {
      if (state_ != state::acknowledged)
        return fatal(error{status::BadTcpMessageTypeInvalid, "a second OPN Issue"});
      if (m.secure_channel_id != 0)
        return fatal(error{status::BadTcpSecureChannelUnknown,
                           "OPN Issue for channel " + std::to_string(m.secure_channel_id)});
      channel_id_ = server_->next_channel_id();
      token_id_ = 1;
    } else if (req->request_type == SecurityTokenRequestType::Renew) {
      if (state_ != state::open)
        return fatal(error{status::BadTcpMessageTypeInvalid, "OPN Renew before Issue"});
      if (m.secure_channel_id != channel_id_)
        return fatal(error{status::BadSecureChannelIdInvalid,
                           "OPN Renew for channel " + std::to_string(m.secure_channel_id)});
      previous_token_id_ = token_id_;
      ++token_id_;
    } else {
      return fatal(error{status::BadDecodingError, "unknown OPN requestType"});
    }
    if (req->security_mode != MessageSecurityMode::None)
      return fatal(error{status::BadSecurityPolicyRejected, "only MessageSecurityMode None"});
    uint32_t lifetime = req->requested_lifetime == 0 ? 600000 : req->requested_lifetime;
    lifetime = std::clamp(lifetime, opts_.min_token_lifetime_ms, opts_.max_token_lifetime_ms);
    OpenSecureChannelResponse resp;
    resp.response_header = response_for(req->request_header);
    resp.security_token.channel_id = channel_id_;
    resp.security_token.token_id = token_id_;
    resp.security_token.created_at = DateTime::now();
    resp.security_token.revised_lifetime = lifetime;
    std::vector<uint8_t> body, out;
    auto enc = encode_message(resp, body);
    if (!enc) return fatal(enc.error());
    ChunkContext ctx;
    ctx.type = MessageType::Open;
    ctx.secure_channel_id = channel_id_;
    ctx.request_id = m.request_id;
    auto n = chunker_.encode(ctx, byte_span(body), out);
    if (!n) return fatal(n.error());
    state_ = state::open;
    write(std::move(out));
    // A channel whose token is neither renewed nor used past 125 % of its lifetime is dropped.
    lifetime_timer_.expires_after(std::chrono::milliseconds(uint64_t{lifetime} * 5 / 4));
    lifetime_timer_.async_wait(
        [self = shared_from_this(), token = token_id_](boost::system::error_code ec) {
          if (ec || self->token_id_ != token) return;
          self->close();
        });
  }

  // -- MSG / CLO ---------------------------------------------------------------------------------

  /// Why a MSG/CLO chunk for (channel, token) is not acceptable now, if it is not.
  std::optional<error> channel_error(uint32_t channel, uint32_t token) const {
    if (state_ != state::open) return error{status::BadTcpMessageTypeInvalid, "MSG before OPN"};
    if (channel != channel_id_)
      return error{status::BadSecureChannelIdInvalid, "message for channel " +
                                                          std::to_string(channel) + ", this is " +
                                                          std::to_string(channel_id_)};
    if (token != token_id_ && (previous_token_id_ == 0 || token != previous_token_id_))
      return error{status::BadSecureChannelTokenUnknown,
                   "unknown token id " + std::to_string(token)};
    return std::nullopt;
  }

  void on_message(const AssembledMessage& m) {
    if (auto bad = channel_error(m.secure_channel_id, m.token_id)) return fatal(*bad);
    if (m.type == MessageType::Close) return close();

    byte_span body(m.body);
    auto req = decode_request(body, opts_.limits, 24);
    if (!req) {
      auto hdr = peek_request_header(body, opts_.limits);
      if (!hdr) return fatal(error{status::BadDecodingError, req.error().reason});
      StatusCode sc = req.code().code() == status::BadServiceUnsupported.code()
                          ? status::BadServiceUnsupported
                          : status::BadDecodingError;
      return send_response(m.request_id, Response(fault(*hdr, sc)), 0);
    }
    if (auto* publish = std::get_if<PublishRequest>(&*req))
      return on_publish(*publish, m.request_id);
    if (space_ && space_->forwards() && forwardable(*req))
      return forward(std::move(*req), m.request_id);
    uint32_t max_response = 0;
    Response resp = std::visit([&](const auto& r) { return on(r, max_response); }, *req);
    send_response(m.request_id, std::move(resp), max_response);
  }

  static bool forwardable(const Request& r) {
    return std::holds_alternative<ReadRequest>(r) || std::holds_alternative<WriteRequest>(r) ||
           std::holds_alternative<BrowseRequest>(r) ||
           std::holds_alternative<BrowseNextRequest>(r) ||
           std::holds_alternative<TranslateBrowsePathsToNodeIdsRequest>(r) ||
           std::holds_alternative<RegisterNodesRequest>(r) ||
           std::holds_alternative<UnregisterNodesRequest>(r) ||
           std::holds_alternative<CallRequest>(r);
  }

  /// Hands a request to a proxy address space after the session checks; its answer comes back
  /// on this connection's strand, with the client's request handle.
  void forward(Request req, uint32_t request_id) {
    RequestHeader header = request_header(req);
    std::shared_ptr<server_session> s;
    uint32_t max_response = 0;
    StatusCode sc = check_call(header, 1, s, max_response);
    if (sc.is_bad()) return send_response(request_id, Response(fault(header, sc)), 0);
    s->space->forward(std::move(req),
                      [self = shared_from_this(), request_id, header, max_response](Response resp) {
                        ResponseHeader& rh = response_header(resp);
                        rh.request_handle = header.request_handle;
                        rh.timestamp = DateTime::now();
                        self->post_response(request_id, std::move(resp), max_response);
                      });
  }

  /// The largest response body this client takes: the session's maxResponseMessageSize and what
  /// its HEL allowed (MaxMessageSize, MaxChunkCount chunks of its ReceiveBufferSize). 0: no limit.
  uint32_t max_response_body(uint32_t session_max) const {
    constexpr uint64_t none = std::numeric_limits<uint64_t>::max();
    uint64_t limit = session_max != 0 ? session_max : none;
    const chunk_limits& l = chunker_.limits();
    if (l.max_message_size != 0) limit = std::min<uint64_t>(limit, l.max_message_size);
    constexpr uint32_t chunk_overhead = 24; // message, security and sequence headers (None)
    if (l.max_chunk_count != 0 && l.max_chunk_size > chunk_overhead)
      limit = std::min<uint64_t>(limit,
                                 uint64_t{l.max_chunk_count} * (l.max_chunk_size - chunk_overhead));
    return limit == none ? 0 : static_cast<uint32_t>(std::min<uint64_t>(limit, UINT32_MAX));
  }

  void send_response(uint32_t request_id, Response resp, uint32_t max_size) {
    std::vector<uint8_t> body, out;
    auto enc = encode_response(resp, body);
    StatusCode failed = status::Good;
    if (!enc)
      failed = status::BadEncodingError;
    else if (max_size != 0 && body.size() > max_size)
      failed = status::BadResponseTooLarge;
    ChunkContext ctx{MessageType::Message, channel_id_, token_id_, {}, request_id};
    if (failed == status::Good) {
      auto n = chunker_.encode(ctx, byte_span(body), out, status::BadResponseTooLarge);
      if (n) return write(std::move(out));
      failed = n.code();
    }
    ServiceFault f;
    f.response_header = response_header(resp);
    f.response_header.service_result = failed;
    f.response_header.string_table = Array<String>();
    f.response_header.service_diagnostics = DiagnosticInfo();
    body.clear();
    out.clear();
    if (!encode_message(f, body)) return fatal(error{failed, "cannot encode a ServiceFault"});
    auto n = chunker_.encode(ctx, byte_span(body), out, status::BadResponseTooLarge);
    if (!n) return fatal(n.error());
    write(std::move(out));
  }

  // -- sessions ----------------------------------------------------------------------------------

  /// The session of a request, or the status to refuse it with. Locks the server's mutex.
  std::shared_ptr<server_session> session_for(const RequestHeader& h, StatusCode& sc,
                                              bool need_activated = true) {
    std::lock_guard<std::mutex> lock(server_->mutex_);
    return session_locked(h, sc, need_activated);
  }

  std::shared_ptr<server_session> session_locked(const RequestHeader& h, StatusCode& sc,
                                                 bool need_activated) {
    sc = status::BadSessionIdInvalid;
    const ByteString* tok = h.authentication_token.opaque();
    if (!tok || h.authentication_token.namespace_index != 0) return nullptr;
    auto it = server_->sessions_.find(tok->bytes());
    if (it == server_->sessions_.end()) return nullptr;
    auto s = it->second;
    auto now = steady::now();
    if (s->expired(now)) {
      server_->sessions_.erase(it);
      return nullptr;
    }
    if (s->space != space_) return nullptr;
    if (need_activated) {
      if (!s->activated) {
        sc = status::BadSessionNotActivated;
        return nullptr;
      }
      if (s->channel_id != channel_id_) {
        sc = status::BadSecureChannelIdInvalid;
        return nullptr;
      }
    }
    s->last_used = now;
    sc = status::Good;
    return s;
  }

  String dialled(const String& requested) const {
    return requested.is_null() || requested.empty() ? String(hel_url_) : requested;
  }

  ApplicationDescription application(const String& url) const {
    ApplicationDescription a;
    a.application_uri = String(opts_.application_uri);
    a.product_uri = String(opts_.product_uri);
    a.application_name = LocalizedText(String(opts_.application_name));
    a.application_type = ApplicationType::Server;
    a.discovery_urls = Array<String>{url};
    return a;
  }

  Array<EndpointDescription> endpoints(const String& url) const {
    EndpointDescription e;
    e.endpoint_url = url;
    e.server = application(url);
    e.security_mode = MessageSecurityMode::None;
    e.security_policy_uri = String(security_policy_none);
    if (space_->allows_anonymous()) {
      UserTokenPolicy anonymous;
      anonymous.policy_id = String("anonymous");
      anonymous.token_type = UserTokenType::Anonymous;
      e.user_identity_tokens.push_back(anonymous);
    }
    if (space_->allows_user_names()) {
      UserTokenPolicy user;
      user.policy_id = String("username");
      user.token_type = UserTokenType::UserName;
      user.security_policy_uri = String(security_policy_none);
      e.user_identity_tokens.push_back(user);
    }
    e.transport_profile_uri = String(transport_profile_uatcp);
    e.security_level = 0;
    return Array<EndpointDescription>{e};
  }

  // -- services ----------------------------------------------------------------------------------

  /// Any service not implemented below.
  template <class T> Response on(const T& r, uint32_t&) {
    return fault(r.request_header, status::BadServiceUnsupported);
  }

  Response on(const GetEndpointsRequest& r, uint32_t&) {
    GetEndpointsResponse resp;
    resp.response_header = response_for(r.request_header);
    bool wanted = r.profile_uris.empty() ||
                  std::find(r.profile_uris.begin(), r.profile_uris.end(),
                            String(transport_profile_uatcp)) != r.profile_uris.end();
    if (wanted) resp.endpoints = endpoints(dialled(r.endpoint_url));
    return resp;
  }

  Response on(const FindServersRequest& r, uint32_t&) {
    FindServersResponse resp;
    resp.response_header = response_for(r.request_header);
    bool wanted =
        r.server_uris.empty() || std::find(r.server_uris.begin(), r.server_uris.end(),
                                           String(opts_.application_uri)) != r.server_uris.end();
    if (wanted) resp.servers.push_back(application(dialled(r.endpoint_url)));
    return resp;
  }

  Response on(const CreateSessionRequest& r, uint32_t& max_response) {
    auto s = std::make_shared<server_session>();
    s->client_uri = r.client_description.application_uri.str();
    {
      std::lock_guard<std::mutex> lock(server_->mutex_);
      auto now = steady::now();
      for (auto it = server_->sessions_.begin(); it != server_->sessions_.end();)
        it = it->second->expired(now) ? server_->sessions_.erase(it) : std::next(it);
      if (server_->sessions_.size() >= opts_.max_sessions)
        return fault(r.request_header, status::BadTooManySessions);
      s->session_id = NodeId(1, server_->next_session_number_++);
      auto token = random_bytes(32);
      s->token = NodeId(0, ByteString(token));
      s->space = space_;
      s->channel_id = channel_id_;
      double t = r.requested_session_timeout > 0 ? r.requested_session_timeout : 60000;
      s->timeout_ms = std::clamp(t, opts_.min_session_timeout_ms, opts_.max_session_timeout_ms);
      s->last_used = now;
      s->max_response_size = r.max_response_message_size;
      server_->sessions_[token] = s;
    }
    max_response = r.max_response_message_size;
    CreateSessionResponse resp;
    resp.response_header = response_for(r.request_header);
    resp.session_id = s->session_id;
    resp.authentication_token = s->token;
    resp.revised_session_timeout = s->timeout_ms;
    resp.server_nonce = ByteString(random_bytes(32));
    resp.server_endpoints = endpoints(dialled(r.endpoint_url));
    resp.max_request_message_size = opts_.max_message_size;
    return resp;
  }

  Response on(const ActivateSessionRequest& r, uint32_t& max_response) {
    StatusCode sc;
    auto s = session_for(r.request_header, sc, /*need_activated=*/false);
    if (!s) return fault(r.request_header, sc);
    auto token = decode_identity_token(r.user_identity_token, opts_.limits);
    if (!token) return fault(r.request_header, status::BadIdentityTokenInvalid);
    StatusCode ok = status::Good;
    if (auto* anon = std::get_if<AnonymousIdentityToken>(&*token)) {
      const String& p = anon->policy_id;
      if (!p.is_null() && !p.empty() && p.str() != "anonymous")
        ok = status::BadIdentityTokenInvalid;
      else if (!space_->allows_anonymous())
        ok = status::BadIdentityTokenRejected;
    } else if (auto* user = std::get_if<UserNameIdentityToken>(&*token)) {
      const String& p = user->policy_id;
      if (!space_->allows_user_names())
        ok = status::BadIdentityTokenRejected;
      else if (!p.is_null() && !p.empty() && p.str() != "username")
        ok = status::BadIdentityTokenInvalid;
      else if (!user->encryption_algorithm.is_null() && !user->encryption_algorithm.empty())
        ok = status::BadIdentityTokenInvalid;
      else
        ok = space_->check_user(user->user_name.str(), std::string(user->password.bytes().begin(),
                                                                   user->password.bytes().end()));
    } else if (!std::holds_alternative<std::monostate>(*token) || !space_->allows_anonymous()) {
      ok = status::BadIdentityTokenRejected; // other token types; no token when anonymous is off
    }
    if (ok.is_bad()) return fault(r.request_header, ok);
    {
      std::lock_guard<std::mutex> lock(server_->mutex_);
      s->activated = true;
      s->channel_id = channel_id_; // a session may move to a new channel (reconnect)
      auto* user = std::get_if<UserNameIdentityToken>(&*token);
      s->user = user ? "user:" + user->user_name.str() : std::string();
      s->last_used = steady::now();
      max_response = s->max_response_size;
    }
    ActivateSessionResponse resp;
    resp.response_header = response_for(r.request_header);
    resp.server_nonce = ByteString(random_bytes(32));
    return resp;
  }

  Response on(const CloseSessionRequest& r, uint32_t&) {
    std::lock_guard<std::mutex> lock(server_->mutex_);
    StatusCode sc;
    auto s = session_locked(r.request_header, sc, /*need_activated=*/false);
    if (!s) return fault(r.request_header, sc);
    if (s->activated && s->channel_id != channel_id_)
      return fault(r.request_header, status::BadSecureChannelIdInvalid);
    server_->sessions_.erase(s->token.opaque()->bytes());
    std::vector<delivery> out;
    flush_publishes(*s, status::BadSessionClosed, out);
    s->subscriptions.clear();
    CloseSessionResponse resp;
    resp.response_header = response_for(r.request_header);
    deliver(out);
    return resp;
  }

  /// Checks the session and the operation count; Good or the fault status.
  StatusCode check_call(const RequestHeader& h, size_t count, std::shared_ptr<server_session>& s,
                        uint32_t& max_response) {
    StatusCode sc;
    s = session_for(h, sc);
    if (!s) return sc;
    {
      std::lock_guard<std::mutex> lock(server_->mutex_);
      max_response = s->max_response_size;
    }
    if (count == 0) return status::BadNothingToDo;
    if (count > opts_.max_nodes_per_call) return status::BadTooManyOperations;
    return status::Good;
  }

  Response on(const ReadRequest& r, uint32_t& max_response) {
    std::shared_ptr<server_session> s;
    StatusCode sc = check_call(r.request_header, r.nodes_to_read.size(), s, max_response);
    if (sc.is_bad()) return fault(r.request_header, sc);
    auto ttr = static_cast<int32_t>(r.timestamps_to_return);
    if (ttr < 0 || ttr > 3) return fault(r.request_header, status::BadTimestampsToReturnInvalid);
    if (r.max_age < 0) return fault(r.request_header, bad_max_age_invalid);
    ReadResponse resp;
    resp.response_header = response_for(r.request_header);
    DateTime now = DateTime::now();
    for (const auto& item : r.nodes_to_read) {
      DataValue dv;
      if (!item.index_range.is_null() && !item.index_range.empty())
        dv = bad_value(status::BadIndexRangeInvalid);
      else if (!item.data_encoding.name.is_null() && !item.data_encoding.name.empty() &&
               item.data_encoding.name.str() != "Default Binary")
        dv = bad_value(status::BadDataEncodingUnsupported);
      else
        dv = s->space->read(item.node_id, item.attribute_id);
      bool failed = !dv.value && dv.status && dv.status->is_bad();
      if (item.attribute_id != attribute_id::Value || failed) {
        dv.source_timestamp.reset();
        dv.source_picoseconds.reset();
        dv.server_timestamp.reset();
        dv.server_picoseconds.reset();
      } else {
        auto t = r.timestamps_to_return;
        if (t == TimestampsToReturn::Server || t == TimestampsToReturn::Neither) {
          dv.source_timestamp.reset();
          dv.source_picoseconds.reset();
        }
        if (t == TimestampsToReturn::Server || t == TimestampsToReturn::Both) {
          dv.server_timestamp = now;
        } else {
          dv.server_timestamp.reset();
          dv.server_picoseconds.reset();
        }
      }
      resp.results.push_back(std::move(dv));
    }
    return resp;
  }

  Response on(const WriteRequest& r, uint32_t& max_response) {
    std::shared_ptr<server_session> s;
    StatusCode sc = check_call(r.request_header, r.nodes_to_write.size(), s, max_response);
    if (sc.is_bad()) return fault(r.request_header, sc);
    WriteResponse resp;
    resp.response_header = response_for(r.request_header);
    for (const auto& w : r.nodes_to_write) {
      if (!w.index_range.is_null() && !w.index_range.empty())
        resp.results.push_back(status::BadIndexRangeInvalid);
      else
        resp.results.push_back(s->space->write(w.node_id, w.attribute_id, w.value));
    }
    return resp;
  }

  /// Takes up to `max` references from `refs` into `br`; the rest go to a continuation point.
  void page(server_session& s, std::vector<ReferenceDescription> refs, uint32_t max,
            BrowseResult& br, const ByteString* reuse) {
    if (max == 0 || refs.size() <= max) {
      br.references = Array<ReferenceDescription>(std::move(refs));
      if (reuse) s.continuations.erase(*reuse);
      return;
    }
    ByteString cp;
    if (reuse) {
      cp = *reuse;
    } else {
      if (s.continuations.size() >= opts_.max_continuation_points) {
        br.status_code = status::BadNoContinuationPoints;
        return;
      }
      cp = continuation_bytes(s.next_continuation++);
    }
    std::vector<ReferenceDescription> rest(refs.begin() + max, refs.end());
    refs.resize(max);
    br.references = Array<ReferenceDescription>(std::move(refs));
    br.continuation_point = cp;
    s.continuations[cp] = server_session::continuation{std::move(rest), max};
  }

  Response on(const BrowseRequest& r, uint32_t& max_response) {
    std::shared_ptr<server_session> s;
    StatusCode sc = check_call(r.request_header, r.nodes_to_browse.size(), s, max_response);
    if (sc.is_bad()) return fault(r.request_header, sc);
    if (!r.view.view_id.is_null()) return fault(r.request_header, bad_view_id_unknown);
    BrowseResponse resp;
    resp.response_header = response_for(r.request_header);
    for (const auto& d : r.nodes_to_browse) {
      BrowseResult br;
      auto dir = static_cast<int32_t>(d.browse_direction);
      if (dir < 0 || dir > 2) {
        br.status_code = status::BadBrowseDirectionInvalid;
      } else if (!d.reference_type_id.is_null() &&
                 !is_reference_subtype(d.reference_type_id, NodeId(node_ids::References))) {
        br.status_code = status::BadReferenceTypeIdInvalid;
      } else {
        auto refs = s->space->browse(d.node_id, d.browse_direction, d.reference_type_id,
                                     d.include_subtypes);
        if (!refs) {
          br.status_code = refs.code();
        } else {
          std::vector<ReferenceDescription> kept;
          for (auto& ref : *refs) {
            if (d.node_class_mask != 0 &&
                (d.node_class_mask & static_cast<uint32_t>(ref.node_class)) == 0)
              continue;
            if (!(d.result_mask & browse_result_mask::ReferenceType))
              ref.reference_type_id = NodeId();
            if (!(d.result_mask & browse_result_mask::NodeClass))
              ref.node_class = NodeClass::Unspecified;
            if (!(d.result_mask & browse_result_mask::BrowseName)) ref.browse_name = {};
            if (!(d.result_mask & browse_result_mask::DisplayName)) ref.display_name = {};
            if (!(d.result_mask & browse_result_mask::TypeDefinition))
              ref.type_definition = ExpandedNodeId();
            kept.push_back(std::move(ref));
          }
          std::lock_guard<std::mutex> lock(server_->mutex_);
          page(*s, std::move(kept), r.requested_max_references_per_node, br, nullptr);
        }
      }
      resp.results.push_back(std::move(br));
    }
    return resp;
  }

  Response on(const BrowseNextRequest& r, uint32_t& max_response) {
    std::shared_ptr<server_session> s;
    StatusCode sc = check_call(r.request_header, r.continuation_points.size(), s, max_response);
    if (sc.is_bad()) return fault(r.request_header, sc);
    BrowseNextResponse resp;
    resp.response_header = response_for(r.request_header);
    std::lock_guard<std::mutex> lock(server_->mutex_);
    for (const auto& cp : r.continuation_points) {
      BrowseResult br;
      auto it = s->continuations.find(cp);
      if (it == s->continuations.end()) {
        br.status_code = status::BadContinuationPointInvalid;
      } else if (r.release_continuation_points) {
        s->continuations.erase(it);
      } else {
        auto rest = std::move(it->second.rest);
        page(*s, std::move(rest), it->second.max, br, &cp);
      }
      resp.results.push_back(std::move(br));
    }
    return resp;
  }

  Response on(const TranslateBrowsePathsToNodeIdsRequest& r, uint32_t& max_response) {
    std::shared_ptr<server_session> s;
    StatusCode sc = check_call(r.request_header, r.browse_paths.size(), s, max_response);
    if (sc.is_bad()) return fault(r.request_header, sc);
    TranslateBrowsePathsToNodeIdsResponse resp;
    resp.response_header = response_for(r.request_header);
    for (const auto& path : r.browse_paths) {
      BrowsePathResult res;
      if (path.relative_path.elements.empty()) {
        res.status_code = status::BadNothingToDo;
        resp.results.push_back(std::move(res));
        continue;
      }
      auto start = s->space->browse(path.starting_node, BrowseDirection::Forward, NodeId(), false);
      if (!start) {
        res.status_code = status::BadNodeIdUnknown;
        resp.results.push_back(std::move(res));
        continue;
      }
      std::vector<NodeId> current{path.starting_node};
      for (const auto& el : path.relative_path.elements) {
        std::vector<NodeId> next;
        NodeId type =
            el.reference_type_id.is_null() ? NodeId(node_ids::References) : el.reference_type_id;
        for (const auto& n : current) {
          auto refs = s->space->browse(
              n, el.is_inverse ? BrowseDirection::Inverse : BrowseDirection::Forward, type,
              el.include_subtypes);
          if (!refs) continue;
          for (const auto& ref : *refs)
            if (ref.browse_name == el.target_name && ref.node_id.is_local() &&
                std::find(next.begin(), next.end(), ref.node_id.node_id) == next.end())
              next.push_back(ref.node_id.node_id);
        }
        current = std::move(next);
        if (current.empty()) break;
      }
      if (current.empty()) {
        res.status_code = status_bad_no_match;
      } else {
        for (auto& n : current) {
          BrowsePathTarget t;
          t.target_id = ExpandedNodeId(std::move(n));
          res.targets.push_back(std::move(t));
        }
      }
      resp.results.push_back(std::move(res));
    }
    return resp;
  }

  Response on(const RegisterNodesRequest& r, uint32_t& max_response) {
    std::shared_ptr<server_session> s;
    StatusCode sc = check_call(r.request_header, r.nodes_to_register.size(), s, max_response);
    if (sc.is_bad()) return fault(r.request_header, sc);
    RegisterNodesResponse resp;
    resp.response_header = response_for(r.request_header);
    resp.registered_node_ids = r.nodes_to_register;
    return resp;
  }

  Response on(const UnregisterNodesRequest& r, uint32_t& max_response) {
    std::shared_ptr<server_session> s;
    StatusCode sc = check_call(r.request_header, r.nodes_to_unregister.size(), s, max_response);
    if (sc.is_bad()) return fault(r.request_header, sc);
    UnregisterNodesResponse resp;
    resp.response_header = response_for(r.request_header);
    return resp;
  }

  // -- subscriptions -----------------------------------------------------------------------------

  /// Sends deliveries: directly when they are for this connection (keeps their order with the
  /// response being built), else through the other connection's strand.
  void deliver(std::vector<delivery>& out) {
    for (auto& d : out) {
      auto c = d.conn.lock();
      if (!c) continue;
      if (c.get() == this)
        send_response(d.request_id, std::move(d.response), d.max_size);
      else
        c->post_response(d.request_id, std::move(d.response), d.max_size);
    }
    out.clear();
  }

  void on_publish(const PublishRequest& r, uint32_t request_id) {
    StatusCode sc;
    auto s = session_for(r.request_header, sc);
    if (!s) return send_response(request_id, Response(fault(r.request_header, sc)), 0);
    std::vector<delivery> out;
    {
      std::lock_guard<std::mutex> lock(server_->mutex_);
      server_session::parked_publish p;
      p.conn = weak_from_this();
      p.request_id = request_id;
      p.header = r.request_header;
      auto now = steady::now();
      p.max_body = max_response_body(s->max_response_size);
      p.deadline = r.request_header.timeout_hint == 0
                       ? steady::time_point::max()
                       : now + std::chrono::milliseconds(r.request_header.timeout_hint);
      for (const auto& ack : r.subscription_acknowledgements) {
        auto sub = s->subscriptions.find(ack.subscription_id);
        if (sub == s->subscriptions.end())
          p.ack_results.push_back(status::BadSubscriptionIdInvalid);
        else if (sub->second.retransmit.erase(ack.sequence_number) == 0)
          p.ack_results.push_back(status::BadSequenceNumberUnknown);
        else
          p.ack_results.push_back(status::Good);
      }
      if (s->subscriptions.empty()) {
        out.push_back(delivery{weak_from_this(), request_id,
                               Response(fault(r.request_header, status::BadNoSubscription)), 0});
      } else {
        if (s->publishes.size() >= opts_.max_publish_requests) {
          auto oldest = std::move(s->publishes.front());
          s->publishes.pop_front();
          out.push_back(delivery{oldest.conn, oldest.request_id,
                                 Response(fault(oldest.header, status::BadTooManyPublishRequests)),
                                 0});
        }
        s->publishes.push_back(std::move(p));
        // Notifications that waited for a Publish go out at once.
        for (auto& [id, sub] : s->subscriptions) {
          if (s->publishes.empty()) break;
          if (has_data(sub)) answer_publish(*s, sub, out);
        }
      }
    }
    deliver(out);
  }

  static double revise_interval(double requested, double min_ms) {
    if (!(requested > 0) || std::isnan(requested)) return std::max(min_ms, 1000.0);
    return std::clamp(requested, min_ms, 3600000.0);
  }

  static void revise(server_session::subscription& sub, double interval, uint32_t lifetime,
                     uint32_t keep_alive, uint32_t max_notifications, double min_interval) {
    sub.interval_ms = revise_interval(interval, min_interval);
    sub.max_keep_alive = std::clamp<uint32_t>(keep_alive == 0 ? 10 : keep_alive, 1, 10000);
    sub.lifetime_count = std::max<uint32_t>(lifetime, 3 * sub.max_keep_alive);
    sub.max_notifications = max_notifications;
  }

  Response on(const CreateSubscriptionRequest& r, uint32_t& max_response) {
    std::shared_ptr<server_session> s;
    StatusCode sc = check_call(r.request_header, 1, s, max_response);
    if (sc.is_bad()) return fault(r.request_header, sc);
    server_session::subscription sub;
    {
      std::lock_guard<std::mutex> lock(server_->mutex_);
      if (s->subscriptions.size() >= opts_.max_subscriptions_per_session)
        return fault(r.request_header, status::BadTooManySubscriptions);
      sub.id = server_->next_subscription_id_++;
      revise(sub, r.requested_publishing_interval, r.requested_lifetime_count,
             r.requested_max_keep_alive_count, r.max_notifications_per_publish,
             opts_.min_publishing_interval_ms);
      sub.enabled = r.publishing_enabled;
      s->subscriptions[sub.id] = sub;
    }
    server_->schedule_publish(s, sub.id, sub.interval_ms, sub.timer);
    CreateSubscriptionResponse resp;
    resp.response_header = response_for(r.request_header);
    resp.subscription_id = sub.id;
    resp.revised_publishing_interval = sub.interval_ms;
    resp.revised_lifetime_count = sub.lifetime_count;
    resp.revised_max_keep_alive_count = sub.max_keep_alive;
    return resp;
  }

  Response on(const ModifySubscriptionRequest& r, uint32_t& max_response) {
    std::shared_ptr<server_session> s;
    StatusCode sc = check_call(r.request_header, 1, s, max_response);
    if (sc.is_bad()) return fault(r.request_header, sc);
    std::lock_guard<std::mutex> lock(server_->mutex_);
    auto it = s->subscriptions.find(r.subscription_id);
    if (it == s->subscriptions.end())
      return fault(r.request_header, status::BadSubscriptionIdInvalid);
    revise(it->second, r.requested_publishing_interval, r.requested_lifetime_count,
           r.requested_max_keep_alive_count, r.max_notifications_per_publish,
           opts_.min_publishing_interval_ms);
    ModifySubscriptionResponse resp;
    resp.response_header = response_for(r.request_header);
    resp.revised_publishing_interval = it->second.interval_ms;
    resp.revised_lifetime_count = it->second.lifetime_count;
    resp.revised_max_keep_alive_count = it->second.max_keep_alive;
    return resp;
  }

  Response on(const SetPublishingModeRequest& r, uint32_t& max_response) {
    std::shared_ptr<server_session> s;
    StatusCode sc = check_call(r.request_header, r.subscription_ids.size(), s, max_response);
    if (sc.is_bad()) return fault(r.request_header, sc);
    std::lock_guard<std::mutex> lock(server_->mutex_);
    SetPublishingModeResponse resp;
    resp.response_header = response_for(r.request_header);
    for (uint32_t id : r.subscription_ids) {
      auto it = s->subscriptions.find(id);
      if (it == s->subscriptions.end()) {
        resp.results.push_back(status::BadSubscriptionIdInvalid);
      } else {
        it->second.enabled = r.publishing_enabled;
        resp.results.push_back(status::Good);
      }
    }
    return resp;
  }

  Response on(const DeleteSubscriptionsRequest& r, uint32_t& max_response) {
    std::shared_ptr<server_session> s;
    StatusCode sc = check_call(r.request_header, r.subscription_ids.size(), s, max_response);
    if (sc.is_bad()) return fault(r.request_header, sc);
    DeleteSubscriptionsResponse resp;
    resp.response_header = response_for(r.request_header);
    std::vector<delivery> out;
    {
      std::lock_guard<std::mutex> lock(server_->mutex_);
      for (uint32_t id : r.subscription_ids)
        resp.results.push_back(s->subscriptions.erase(id) ? status::Good
                                                          : status::BadSubscriptionIdInvalid);
      // Parked Publishes learn first that nothing is left to publish (as node-opcua does).
      if (s->subscriptions.empty()) flush_publishes(*s, status::BadNoSubscription, out);
    }
    deliver(out);
    return resp;
  }

  /// The subscription of a monitored-item call, or the fault status. Locks nothing.
  server_session::subscription* subscription_of(server_session& s, uint32_t id) {
    auto it = s.subscriptions.find(id);
    return it == s.subscriptions.end() ? nullptr : &it->second;
  }

  /// Asks the address space to report the item's changes into its subscription's inbox (its
  /// current value is read at the next cycle). Without a watch the item is sampled.
  static void watch(server_session& s, server_session::subscription& sub,
                    server_session::item& it) {
    server_session::inbox* box = sub.changes.get();
    uint32_t id = it.id;
    auto guard = std::make_shared<server_session::watch_guard>();
    guard->space = s.space;
    guard->box = sub.changes;
    guard->token =
        s.space->watch(it.node, it.attribute, [box, id](const DataValue& dv) { box->add(id, dv); });
    if (guard->token != 0) it.watch = std::move(guard);
  }

  /// Applies MonitoringParameters to an item; Good or the filter's error.
  static StatusCode set_parameters(server_session::item& it, const MonitoringParameters& p,
                                   double interval) {
    if (!p.filter.is_null()) {
      auto f = decode_extension_object<DataChangeFilter>(p.filter);
      if (!f) return status::BadMonitoredItemFilterUnsupported;
      if (f->deadband_type == deadband_type::Percent)
        return status::BadMonitoredItemFilterUnsupported;
      if (f->deadband_type != deadband_type::None && f->deadband_type != deadband_type::Absolute)
        return status::BadMonitoredItemFilterInvalid;
      it.trigger = f->trigger;
      it.absolute_deadband = f->deadband_type == deadband_type::Absolute ? f->deadband_value : 0;
    }
    it.client_handle = p.client_handle;
    // Items the address space reports are exception-based (every change is queued); the others
    // are sampled once per publishing cycle.
    it.sampling_ms = interval;
    it.queue_size = std::clamp<uint32_t>(p.queue_size, 1, 1000);
    it.discard_oldest = p.discard_oldest;
    // Between a queue of one (`last` + `pending`) and a longer one, the unpublished values move.
    if (it.queue_size > 1 && it.pending) {
      it.queue.push_back(*it.last);
      it.pending = false;
    }
    if (it.queue.size() > it.queue_size) it.queue.erase_front(it.queue.size() - it.queue_size);
    if (it.queue_size <= 1 && !it.queue.empty()) {
      it.last = it.queue.take_back();
      it.pending = true;
      it.queue.clear();
    }
    return status::Good;
  }

  Response on(const CreateMonitoredItemsRequest& r, uint32_t& max_response) {
    std::shared_ptr<server_session> s;
    StatusCode sc = check_call(r.request_header, r.items_to_create.size(), s, max_response);
    if (sc.is_bad()) return fault(r.request_header, sc);
    auto ttr = static_cast<int32_t>(r.timestamps_to_return);
    if (ttr < 0 || ttr > 3) return fault(r.request_header, status::BadTimestampsToReturnInvalid);
    // Check the nodes before taking the lock (the address space may be slow).
    std::vector<StatusCode> node_status;
    for (const auto& c : r.items_to_create) {
      DataValue dv = s->space->read(c.item_to_monitor.node_id, c.item_to_monitor.attribute_id);
      bool failed = !dv.value && dv.status && dv.status->is_bad();
      auto code = failed ? dv.status->code() : 0u;
      node_status.push_back(code == status::BadNodeIdUnknown.code() ||
                                    code == status::BadAttributeIdInvalid.code()
                                ? *dv.status
                                : status::Good);
    }
    std::lock_guard<std::mutex> lock(server_->mutex_);
    auto* sub = subscription_of(*s, r.subscription_id);
    if (!sub) return fault(r.request_header, status::BadSubscriptionIdInvalid);
    CreateMonitoredItemsResponse resp;
    resp.response_header = response_for(r.request_header);
    for (size_t i = 0; i < r.items_to_create.size(); ++i) {
      const auto& c = r.items_to_create[i];
      MonitoredItemCreateResult res;
      server_session::item it;
      it.node = c.item_to_monitor.node_id;
      it.attribute = c.item_to_monitor.attribute_id;
      it.mode = c.monitoring_mode;
      it.timestamps = r.timestamps_to_return;
      res.status_code = node_status[i];
      if (res.status_code.is_good() &&
          sub->items.size() >= opts_.max_monitored_items_per_subscription)
        res.status_code = status::BadTooManyMonitoredItems;
      auto mode = static_cast<int32_t>(c.monitoring_mode);
      if (res.status_code.is_good() && (mode < 0 || mode > 2))
        res.status_code = status::BadMonitoringModeInvalid;
      if (res.status_code.is_good())
        res.status_code = set_parameters(it, c.requested_parameters, sub->interval_ms);
      if (res.status_code.is_good()) {
        it.id = server_->next_item_id_++;
        watch(*s, *sub, it);
        res.monitored_item_id = it.id;
        res.revised_sampling_interval = it.sampling_ms;
        res.revised_queue_size = it.queue_size;
        sub->items[it.id] = std::move(it);
        sub->sample_all = true;
      }
      resp.results.push_back(std::move(res));
    }
    return resp;
  }

  Response on(const ModifyMonitoredItemsRequest& r, uint32_t& max_response) {
    std::shared_ptr<server_session> s;
    StatusCode sc = check_call(r.request_header, r.items_to_modify.size(), s, max_response);
    if (sc.is_bad()) return fault(r.request_header, sc);
    std::lock_guard<std::mutex> lock(server_->mutex_);
    auto* sub = subscription_of(*s, r.subscription_id);
    if (!sub) return fault(r.request_header, status::BadSubscriptionIdInvalid);
    ModifyMonitoredItemsResponse resp;
    resp.response_header = response_for(r.request_header);
    for (const auto& m : r.items_to_modify) {
      MonitoredItemModifyResult res;
      auto it = sub->items.find(m.monitored_item_id);
      if (it == sub->items.end()) {
        res.status_code = status::BadMonitoredItemIdInvalid;
      } else {
        res.status_code = set_parameters(it->second, m.requested_parameters, sub->interval_ms);
        sub->sample_all = true; // its queue size counts towards the inbox's limit
        res.revised_sampling_interval = it->second.sampling_ms;
        res.revised_queue_size = it->second.queue_size;
      }
      resp.results.push_back(std::move(res));
    }
    return resp;
  }

  Response on(const SetMonitoringModeRequest& r, uint32_t& max_response) {
    std::shared_ptr<server_session> s;
    StatusCode sc = check_call(r.request_header, r.monitored_item_ids.size(), s, max_response);
    if (sc.is_bad()) return fault(r.request_header, sc);
    auto mode = static_cast<int32_t>(r.monitoring_mode);
    if (mode < 0 || mode > 2) return fault(r.request_header, status::BadMonitoringModeInvalid);
    std::lock_guard<std::mutex> lock(server_->mutex_);
    auto* sub = subscription_of(*s, r.subscription_id);
    if (!sub) return fault(r.request_header, status::BadSubscriptionIdInvalid);
    SetMonitoringModeResponse resp;
    resp.response_header = response_for(r.request_header);
    for (uint32_t id : r.monitored_item_ids) {
      auto it = sub->items.find(id);
      if (it == sub->items.end()) {
        resp.results.push_back(status::BadMonitoredItemIdInvalid);
        continue;
      }
      if (r.monitoring_mode == MonitoringMode::Disabled) {
        it->second.queue.clear();
        it->second.pending = false;
        it->second.last.reset();
      } else if (it->second.mode == MonitoringMode::Disabled) {
        it->second.needs_current = true; // enabled again: report the current value
        sub->sample_all = true;
      }
      it->second.mode = r.monitoring_mode;
      resp.results.push_back(status::Good);
    }
    return resp;
  }

  Response on(const DeleteMonitoredItemsRequest& r, uint32_t& max_response) {
    std::shared_ptr<server_session> s;
    StatusCode sc = check_call(r.request_header, r.monitored_item_ids.size(), s, max_response);
    if (sc.is_bad()) return fault(r.request_header, sc);
    std::lock_guard<std::mutex> lock(server_->mutex_);
    auto* sub = subscription_of(*s, r.subscription_id);
    if (!sub) return fault(r.request_header, status::BadSubscriptionIdInvalid);
    DeleteMonitoredItemsResponse resp;
    resp.response_header = response_for(r.request_header);
    bool listed_gone = false;
    for (uint32_t id : r.monitored_item_ids) {
      auto it = sub->items.find(id);
      if (it == sub->items.end()) {
        resp.results.push_back(status::BadMonitoredItemIdInvalid);
        continue;
      }
      listed_gone |= it->second.listed;
      sub->items.erase(it);
      resp.results.push_back(status::Good);
    }
    if (listed_gone) rebuild_ready(*sub); // no pointer to a deleted item stays
    sub->sample_all = true;               // the inbox's limit is recounted
    return resp;
  }

  /// Moves subscriptions of another session of this server (and address space) to the caller's
  /// session: node-opcua's path after it had to create a new session.
  Response on(const TransferSubscriptionsRequest& r, uint32_t& max_response) {
    std::shared_ptr<server_session> s;
    StatusCode sc = check_call(r.request_header, r.subscription_ids.size(), s, max_response);
    if (sc.is_bad()) return fault(r.request_header, sc);
    TransferSubscriptionsResponse resp;
    resp.response_header = response_for(r.request_header);
    std::vector<std::pair<uint32_t, std::pair<double, uint64_t>>> moved;
    std::vector<delivery> out;
    {
      std::lock_guard<std::mutex> lock(server_->mutex_);
      for (uint32_t id : r.subscription_ids) {
        TransferResult res;
        res.status_code = status::BadSubscriptionIdInvalid;
        for (auto& [token, other] : server_->sessions_) {
          auto it = other->subscriptions.find(id);
          if (it == other->subscriptions.end() || other->space != s->space) continue;
          // Part 4 5.14.7: the same user; for anonymous sessions the same client application.
          if (other->user != s->user || (s->user.empty() && other->client_uri != s->client_uri)) {
            res.status_code = status::BadUserAccessDenied;
            break;
          }
          if (other != s) {
            auto sub = std::move(it->second);
            other->subscriptions.erase(it);
            if (other->subscriptions.empty())
              flush_publishes(*other, status::BadNoSubscription, out);
            ++sub.timer; // the old session's timer stops at its next cycle
            moved.emplace_back(id, std::make_pair(sub.interval_ms, sub.timer));
            it = s->subscriptions.emplace(id, std::move(sub)).first;
          }
          if (r.send_initial_values) {
            for (auto& [item_id, item] : it->second.items) {
              item.last.reset();
              item.pending = false;
              item.needs_current = true;
            }
            it->second.sample_all = true;
          }
          res.status_code = status::Good;
          res.available_sequence_numbers = available(it->second);
          break;
        }
        resp.results.push_back(std::move(res));
      }
    }
    deliver(out);
    for (auto& [id, timer] : moved)
      server_->schedule_publish(s, id, timer.first, timer.second);
    return resp;
  }

  Response on(const RepublishRequest& r, uint32_t& max_response) {
    std::shared_ptr<server_session> s;
    StatusCode sc = check_call(r.request_header, 1, s, max_response);
    if (sc.is_bad()) return fault(r.request_header, sc);
    std::lock_guard<std::mutex> lock(server_->mutex_);
    auto* sub = subscription_of(*s, r.subscription_id);
    if (!sub) return fault(r.request_header, status::BadSubscriptionIdInvalid);
    auto it = sub->retransmit.find(r.retransmit_sequence_number);
    if (it == sub->retransmit.end()) return fault(r.request_header, status::BadMessageNotAvailable);
    RepublishResponse resp;
    resp.response_header = response_for(r.request_header);
    resp.notification_message = it->second;
    return resp;
  }

  std::shared_ptr<server_endpoint> server_;
  const server_options& opts_;
  strand_type strand_;
  tcp::socket socket_;
  asio::steady_timer lifetime_timer_;
  state state_ = state::hello;
  frame_splitter splitter_;
  chunk_assembler assembler_;
  chunker chunker_;
  std::string hel_url_;
  std::shared_ptr<address_space> space_;
  uint32_t channel_id_ = 0;
  uint32_t token_id_ = 0;
  uint32_t previous_token_id_ = 0;
  std::deque<std::vector<uint8_t>> write_queue_;
  size_t write_bytes_ = 0;   ///< bytes in write_queue_
  bool read_paused_ = false; ///< the peer is not reading: neither are we
  static constexpr size_t max_write_backlog = 4u << 20;
  std::vector<uint8_t> read_buf_;
};

// -- endpoint ------------------------------------------------------------------------------------

std::shared_ptr<server_endpoint> server_endpoint::create(asio::io_context& io,
                                                         server_options opts) {
  return std::shared_ptr<server_endpoint>(new server_endpoint(io, std::move(opts)));
}

server_endpoint::server_endpoint(asio::io_context& io, server_options opts)
    : io_(io), opts_(std::move(opts)), strand_(asio::make_strand(io)), acceptor_(strand_) {}

server_endpoint::~server_endpoint() = default;

void server_endpoint::add_endpoint(const std::string& path, std::shared_ptr<address_space> space) {
  spaces_[normalize_path(path)] = std::move(space);
}

std::shared_ptr<address_space> server_endpoint::find_space(const std::string& path) const {
  auto it = spaces_.find(path);
  return it == spaces_.end() ? nullptr : it->second;
}

result<uint16_t> server_endpoint::start() {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(opts_.host, ec);
  if (ec) return error{status::BadTcpEndpointUrlInvalid, "bad listen address " + opts_.host};
  tcp::endpoint ep(addr, opts_.port);
  acceptor_.open(ep.protocol(), ec);
  // Child processes the host starts must not inherit the listening socket (it would keep the
  // port bound and queue connections nobody accepts after stop()).
  if (!ec) ::fcntl(acceptor_.native_handle(), F_SETFD, FD_CLOEXEC);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    return error{status::BadCommunicationError, "cannot listen on " + opts_.host + ":" +
                                                    std::to_string(opts_.port) + ": " +
                                                    ec.message()};
  }
  port_ = acceptor_.local_endpoint().port();
  asio::post(strand_, [self = shared_from_this()] { self->accept(); });
  return port_;
}

void server_endpoint::accept() {
  auto strand = asio::make_strand(io_);
  acceptor_.async_accept(strand, [self = shared_from_this(), strand](boost::system::error_code ec,
                                                                     tcp::socket s) mutable {
    if (self->stopped_ || !self->acceptor_.is_open()) return;
    if (!ec) {
      ::fcntl(s.native_handle(), F_SETFD, FD_CLOEXEC);
      size_t open = 0;
      {
        std::lock_guard<std::mutex> lock(self->mutex_);
        open = self->connections_.size();
      }
      if (open >= self->opts_.max_connections) {
        // Over the limit: say so (ERR needs no HEL) and close; the others are not affected.
        ErrorMessage m;
        m.error = status::BadMaxConnectionsReached;
        m.reason = String("this server already has " + std::to_string(open) + " connections");
        if (auto bytes = encode_error(m)) {
          boost::system::error_code ignored;
          s.non_blocking(true, ignored);
          s.write_some(asio::buffer(*bytes), ignored);
        }
        boost::system::error_code ignored;
        s.close(ignored);
      } else {
        auto c = std::make_shared<server_connection>(self, std::move(strand), std::move(s));
        {
          std::lock_guard<std::mutex> lock(self->mutex_);
          self->connections_[c.get()] = c;
        }
        c->start();
      }
    }
    self->accept();
  });
}

void server_endpoint::schedule_publish(std::weak_ptr<server_session> session,
                                       uint32_t subscription_id, double interval_ms,
                                       uint64_t generation) {
  auto timer = std::make_shared<asio::steady_timer>(strand_);
  timer->expires_after(std::chrono::microseconds(static_cast<int64_t>(interval_ms * 1000)));
  timer->async_wait([self = shared_from_this(), timer, session = std::move(session),
                     subscription_id, generation](boost::system::error_code ec) mutable {
    if (ec || self->stopped_) return;
    auto s = session.lock();
    if (!s) return;
    std::vector<delivery> out;
    double next_interval = 0;
    {
      std::lock_guard<std::mutex> lock(self->mutex_);
      auto it = s->subscriptions.find(subscription_id);
      if (it == s->subscriptions.end() || it->second.timer != generation) return;
      auto now = steady::now();
      if (s->expired(now)) {
        // The session timed out: it goes, and its subscriptions with it.
        auto found = self->sessions_.find(s->token.opaque()->bytes());
        if (found != self->sessions_.end() && found->second == s) self->sessions_.erase(found);
        flush_publishes(*s, status::BadSessionIdInvalid, out);
        s->subscriptions.clear();
      } else {
        expire_publishes(*s, out, now);
        if (publish_cycle(*s, it->second, out))
          next_interval = it->second.interval_ms;
        else
          s->subscriptions.erase(it); // lifetime over: nobody asked for its data
        if (s->subscriptions.empty()) flush_publishes(*s, status::BadNoSubscription, out);
      }
    }
    for (auto& d : out)
      if (auto c = d.conn.lock()) c->post_response(d.request_id, std::move(d.response), d.max_size);
    if (next_interval > 0)
      self->schedule_publish(std::move(session), subscription_id, next_interval, generation);
  });
}

void server_endpoint::stop() {
  stopped_ = true;
  asio::post(strand_, [self = shared_from_this()] {
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
  });
  std::vector<std::shared_ptr<server_connection>> live;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [p, w] : connections_)
      if (auto c = w.lock()) live.push_back(c);
    sessions_.clear();
  }
  for (auto& c : live)
    c->stop();
}

void server_endpoint::forget(server_connection* c) {
  std::lock_guard<std::mutex> lock(mutex_);
  connections_.erase(c);
}

size_t server_endpoint::connection_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return connections_.size();
}

size_t server_endpoint::session_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sessions_.size();
}

} // namespace tandem::opcua
