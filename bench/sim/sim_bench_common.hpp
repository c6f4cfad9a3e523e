#pragma once
/// Shared by the `tandem sim` benchmarks: server processes on loopback (`tandem sim` and the
/// node-opcua test server tests/interop/server.js), /proc readings (CPU time, RSS), the machine
/// description printed with the figures, and one subscribing client built on the project's own
/// ua_client + publisher.

#include "bench/common/process.hpp"

namespace tandem::bench {

/// Counters kept by the subscribing client, on its strand.
struct flow_stats {
  uint64_t notifications = 0;
  uint64_t messages = 0;
  uint64_t items_seen = 0;
  uint64_t gaps = 0;     ///< ticks an item skipped between two consecutive notifications
  uint64_t repeats = 0;  ///< notifications whose tick was not after the item's previous one
  uint64_t bad_time = 0; ///< without a source timestamp
  std::vector<uint64_t> lag_ms_hist = std::vector<uint64_t>(60001, 0); ///< arrival - source
};

inline double lag_quantile(const flow_stats& a, const flow_stats& b, double q) {
  uint64_t total = 0;
  for (size_t i = 0; i < b.lag_ms_hist.size(); ++i)
    total += b.lag_ms_hist[i] - a.lag_ms_hist[i];
  if (total == 0) return -1;
  auto want = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total)));
  uint64_t seen = 0;
  for (size_t i = 0; i < b.lag_ms_hist.size(); ++i) {
    seen += b.lag_ms_hist[i] - a.lag_ms_hist[i];
    if (seen >= want) return static_cast<double>(i);
  }
  return static_cast<double>(b.lag_ms_hist.size() - 1);
}

/// Which tick an item's value stands for: tandem sim's Double counters hold the tick number
/// since the epoch; server.js's items hold tick * 10^W + index.
using tick_of_value = std::function<int64_t(double)>;

/// One client session (Tandem's ua_client) with one subscription on `items` Sim.ItemNNNN
/// variables, a publisher keeping `outstanding` Publish requests in flight, and per-item
/// bookkeeping of the ticks that arrive. Runs on one I/O thread of its own.
class subscriber {
public:
  struct options {
    std::string url;
    size_t items = 0;
    double publish_ms = 50;
    uint32_t queue_size = 10;
    size_t outstanding = 16;
    size_t batch = 1000;          ///< monitored items per CreateMonitoredItems request
    uint32_t max_per_publish = 0; ///< CreateSubscription maxNotificationsPerPublish (0: no limit)
    std::chrono::milliseconds timeout{60000};
    tick_of_value tick;
  };

  explicit subscriber(options o) : opts_(std::move(o)), work_(boost::asio::make_work_guard(io_)) {
    last_tick_.assign(opts_.items, -1);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~subscriber() { close(); }

  /// Connects and creates the session; false with a message on stderr on failure.
  bool connect() {
    client_options co;
    co.url = opts_.url;
    co.request_timeout = opts_.timeout;
    co.session_timeout_ms = 600000;
    client_ = ua_client::create(io_, co);
    std::promise<bool> p;
    client_->connect([&](const error* e) {
      if (e) std::cerr << "connect " << opts_.url << ": " << e->reason << "\n";
      p.set_value(e == nullptr);
    });
    return p.get_future().get();
  }

  template <class Resp, class Req> result<Resp> call(Req req) {
    std::promise<result<Resp>> p;
    client_->call<Resp>(
        std::move(req), [&](result<Resp> r) { p.set_value(std::move(r)); }, opts_.timeout);
    return p.get_future().get();
  }

  /// Creates the subscription and its monitored items (in batches), then starts publishing.
  /// Returns the number of items created; -1 on failure.
  long subscribe() {
    CreateSubscriptionRequest cs;
    cs.requested_publishing_interval = opts_.publish_ms;
    cs.requested_max_keep_alive_count = 20;
    cs.requested_lifetime_count = 6000;
    cs.max_notifications_per_publish = opts_.max_per_publish;
    auto sub = call<CreateSubscriptionResponse>(cs);
    if (!sub) {
      std::cerr << "CreateSubscription: " << sub.error().reason << "\n";
      return -1;
    }
    revised_publish_ms_ = sub->revised_publishing_interval;
    // Publishing starts first so that notifications of the first batches are collected while
    // the later ones are created (a server would otherwise queue them).
    pub_ = publisher::create(
        client_, opts_.outstanding, std::chrono::milliseconds(120000),
        [this](uint32_t, NotificationMessage& m) { on_message(m); },
        [this](const error& e) {
          if (!stopped_.exchange(true)) stop_reason_ = e.reason;
        });
    pub_->start();
    long created = 0;
    for (size_t first = 0; first < opts_.items; first += opts_.batch) {
      CreateMonitoredItemsRequest mi;
      mi.subscription_id = sub->subscription_id;
      mi.timestamps_to_return = TimestampsToReturn::Both;
      for (size_t i = first; i < std::min(opts_.items, first + opts_.batch); ++i) {
        MonitoredItemCreateRequest r;
        r.item_to_monitor.node_id = NodeId(1, String(item_node(i, opts_.items)));
        r.item_to_monitor.attribute_id = attribute_id::Value;
        r.monitoring_mode = MonitoringMode::Reporting;
        r.requested_parameters.client_handle = static_cast<uint32_t>(i);
        r.requested_parameters.sampling_interval = 0; // every change (exception-based)
        r.requested_parameters.queue_size = opts_.queue_size;
        r.requested_parameters.discard_oldest = true;
        mi.items_to_create.push_back(std::move(r));
      }
      auto res = call<CreateMonitoredItemsResponse>(mi);
      if (!res) {
        std::cerr << "CreateMonitoredItems: " << res.error().reason << "\n";
        return -1;
      }
      for (auto& r : res->results) {
        if (r.status_code.is_good())
          ++created;
        else if (first_failure_.empty())
          first_failure_ = to_string(r.status_code);
        revised_sampling_ms_ = r.revised_sampling_interval;
        revised_queue_ = r.revised_queue_size;
      }
    }
    return created;
  }

  /// A number read from one Int32/Double variable (e.g. Sim.Counter) with its source timestamp
  /// (Unix ms); nullopt on failure.
  struct reading {
    double value = 0;
    int64_t source_ms = 0;
  };
  std::optional<reading> read_number(const std::string& path) {
    ReadRequest r;
    r.timestamps_to_return = TimestampsToReturn::Both;
    ReadValueId v;
    v.node_id = NodeId(1, String(path));
    r.nodes_to_read.push_back(v);
    auto res = call<ReadResponse>(r);
    if (!res || res->results.empty() || !res->results[0].value) return std::nullopt;
    const DataValue& dv = res->results[0];
    reading out;
    if (auto* d = dv.value->get_if<double>())
      out.value = *d;
    else if (auto* i = dv.value->get_if<int32_t>())
      out.value = *i;
    else
      return std::nullopt;
    out.source_ms = dv.source_timestamp ? dv.source_timestamp->to_unix_ms() : 0;
    return out;
  }

  /// Changes per second per item between two readings of a tick counter (Sim.Counter), from
  /// the server's own source timestamps; 0 when unknown.
  static double ticks_per_second(const std::optional<reading>& a, const std::optional<reading>& b) {
    if (!a || !b || b->source_ms <= a->source_ms) return 0;
    double ticks = b->value - a->value;
    if (ticks < 0) ticks += 2147483648.0; // Int32 counter wrapped
    return ticks * 1000.0 / static_cast<double>(b->source_ms - a->source_ms);
  }

  /// A copy of the counters, taken on the client's strand.
  flow_stats snapshot() {
    std::promise<flow_stats> p;
    boost::asio::post(client_->channel()->strand(), [&] { p.set_value(stats_); });
    return p.get_future().get();
  }

  bool stopped() const { return stopped_; }
  const std::string& stop_reason() const { return stop_reason_; }
  const std::string& first_failure() const { return first_failure_; }
  double revised_publish_ms() const { return revised_publish_ms_; }
  double revised_sampling_ms() const { return revised_sampling_ms_; }
  uint32_t revised_queue() const { return revised_queue_; }

  void close() {
    if (!thread_.joinable()) return;
    if (pub_) pub_->stop();
    if (client_) {
      std::promise<void> closed;
      client_->disconnect([&] { closed.set_value(); });
      closed.get_future().wait_for(3s);
    }
    work_.reset();
    io_.stop();
    thread_.join();
  }

private:
  void on_message(NotificationMessage& m) {
    int64_t now_ms = DateTime::now().to_unix_ms();
    ++stats_.messages;
    for (auto& eo : m.notification_data) {
      auto n = decode_notification(eo);
      if (!n) continue;
      auto* dc = std::get_if<DataChangeNotification>(&*n);
      if (!dc) continue;
      for (auto& item : dc->monitored_items) {
        ++stats_.notifications;
        const DataValue& dv = item.value;
        if (dv.source_timestamp) {
          int64_t lag = std::clamp<int64_t>(now_ms - dv.source_timestamp->to_unix_ms(), 0,
                                            static_cast<int64_t>(stats_.lag_ms_hist.size() - 1));
          ++stats_.lag_ms_hist[static_cast<size_t>(lag)];
        } else {
          ++stats_.bad_time;
        }
        if (item.client_handle >= last_tick_.size() || !dv.value) continue;
        const double* d = dv.value->get_if<double>();
        if (!d || !opts_.tick) continue;
        int64_t tick = opts_.tick(*d);
        int64_t& last = last_tick_[item.client_handle];
        if (last < 0)
          ++stats_.items_seen;
        else if (tick <= last)
          ++stats_.repeats;
        else
          stats_.gaps += static_cast<uint64_t>(tick - last - 1);
        last = std::max(last, tick);
      }
    }
  }

  options opts_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
  std::shared_ptr<ua_client> client_;
  std::shared_ptr<publisher> pub_;
  flow_stats stats_;
  std::vector<int64_t> last_tick_;
  std::atomic<bool> stopped_{false};
  std::string stop_reason_;
  std::string first_failure_;
  double revised_publish_ms_ = 0;
  double revised_sampling_ms_ = 0;
  uint32_t revised_queue_ = 0;
};

/// The command lines of the two servers with the built-in address space.
inline std::vector<std::string> tandem_sim_argv(const std::string& binary, size_t items,
                                                int rate_ms, int threads) {
  return {binary,      "sim",
          "--port",    "0",
          "--path",    "/sim",
          "--items",   std::to_string(items),
          "--rate-ms", std::to_string(rate_ms),
          "--threads", std::to_string(threads)};
}

inline std::vector<std::string> node_server_argv(const std::string& interop_dir, size_t items,
                                                 int rate_ms, int min_publish_ms) {
  return {"node",
          interop_dir + "/server.js",
          "--port",
          "0",
          "--path",
          "/sim",
          "--items",
          std::to_string(items),
          "--rate-ms",
          std::to_string(rate_ms),
          "--min-publish-ms",
          std::to_string(min_publish_ms),
          "--min-sampling-ms",
          "0"};
}

inline std::string join(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv)
    s += (s.empty() ? "" : " ") + a;
  return s;
}

} // namespace tandem::bench
