#pragma once
/// Shared by the redundant-pair benchmarks: a `tandem node` process with one [[pair]] in front
/// of two `tandem sim` processes, its console read for the pair's state, and a subscribing
/// client (Tandem's own ua_client + publisher) that follows every item's counter and notes,
/// per notification, the arrival gap, the source-time gap and the ticks missing since the
/// item's previous value, split at a mark (the instant the primary is killed or stopped).

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "transports/console/client.hpp"
#include "transports/opcua/client/client.hpp"
#include "transports/opcua/client/subscription.hpp"

#include "bench/common/port.hpp"
#include "bench/common/process.hpp"

namespace tandem::bench {

inline int64_t steady_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(steady::now().time_since_epoch())
      .count();
}

inline int64_t wall_ms() {
  return DateTime::now().to_unix_ms();
}

/// Quantile of a sample (sorted copy); -1 when empty.
inline double quantile(std::vector<double> v, double q) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  auto i = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size()))) - 1;
  return v[std::min(v.size() - 1, i)];
}

/// One console command to a node's socket; its JSON reply, or {"error": …}.
inline nlohmann::json console_json(const std::string& socket, const std::string& line,
                                   int timeout_ms = 5000) {
  transports::console_client c;
  std::string err;
  if (!c.connect(socket, err) || !c.send_line(line, err)) return {{"error", err}};
  auto reply = c.read_line(timeout_ms, err);
  if (!reply) return {{"error", err}};
  auto j = nlohmann::json::parse(*reply, nullptr, false);
  if (j.is_discarded()) return {{"error", "not JSON: " + *reply}};
  return j;
}

/// A fresh directory under /tmp, removed (with what the benchmark put there) at the end.
class scratch_dir {
public:
  scratch_dir() {
    char tmpl[] = "/tmp/tandem-bench-fo-XXXXXX";
    if (::mkdtemp(tmpl)) path_ = tmpl;
  }
  ~scratch_dir() {
    if (!path_.empty() && std::getenv("TANDEM_KEEP_BENCH_DIRS") == nullptr)
      capture("rm -rf '" + path_ + "'");
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  const std::string& path() const { return path_; }
  std::string write(const std::string& name, const std::string& text) const {
    std::string p = path_ + "/" + name;
    std::ofstream(p) << text;
    return p;
  }

private:
  std::string path_;
};

/// `tandem node -c FILE` with one pair; stdout/stderr in the scratch directory; stopped by PID
/// (SIGTERM, then SIGKILL after 20 s).
class node_process {
public:
  struct pair_config {
    std::string primary, secondary; ///< URLs
    std::string mode = "hot";
    int status_interval_ms = 1000;
    int status_timeout_ms = 1000;
    int publishing_ms = 0; ///< [[pair]] publishing_ms (upstream subscriptions); 0: the default
    bool history = true;   ///< [[pair]] history (item values recorded by the node)
  };

  node_process(const scratch_dir& dir, std::string binary)
      : dir_(dir), binary_(std::move(binary)) {}
  ~node_process() { stop(); }
  node_process(const node_process&) = delete;
  node_process& operator=(const node_process&) = delete;

  bool start(const pair_config& p) {
    face_port_ = pick_port();
    socket_ = dir_.path() + "/console.sock";
    std::string cfg = "[node]\nname = \"bench-node\"\ndata_dir = \"" + dir_.path() +
                      "/data\"\nconsole_socket = \"" + socket_ +
                      "\"\n[face]\nlisten = \"127.0.0.1:" + std::to_string(face_port_) +
                      "\"\n[[pair]]\nalias = \"line1\"\nprimary = \"" + p.primary +
                      "\"\nsecondary = \"" + p.secondary + "\"\nmode = \"" + p.mode +
                      "\"\nreturn_to_primary = false\nstatus_interval_ms = " +
                      std::to_string(p.status_interval_ms) +
                      "\nstatus_timeout_ms = " + std::to_string(p.status_timeout_ms) + "\n";
    if (p.publishing_ms > 0) cfg += "publishing_ms = " + std::to_string(p.publishing_ms) + "\n";
    if (!p.history) cfg += "history = false\n";
    std::string path = dir_.write("node.toml", cfg);
    std::string out = dir_.path() + "/node.out", err = dir_.path() + "/node.err";
    err_ = err;
    pid_ = spawn_process({binary_, "node", "-c", path}, out, err);
    return pid_ != 0;
  }

  /// Waits until the pair is active on the primary and the secondary is in the standby state of
  /// the mode (connected; idle for cold). false (with the node's stderr) on timeout or exit.
  bool wait_pair_ready(const std::string& mode, std::chrono::seconds timeout = 60s) {
    const std::string standby = mode == "cold" ? "idle" : "connected";
    auto t0 = steady::now();
    while (steady::now() - t0 < timeout) {
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = 0;
        break;
      }
      auto p = pair();
      if (p.is_object() && p.value("active", "") == "primary" && p.contains("secondary") &&
          p["secondary"].value("state", "") == standby)
        return true;
      std::this_thread::sleep_for(50ms);
    }
    std::cerr << "node: pair not ready: " << pair().dump() << "\nstderr:\n"
              << read_text(err_) << "\n";
    return false;
  }

  nlohmann::json console(const std::string& line, int timeout_ms = 5000) {
    return console_json(socket_, line, timeout_ms);
  }

  nlohmann::json pair() {
    auto j = console("pairs");
    return j.contains("pairs") && j["pairs"].is_array() && !j["pairs"].empty() ? j["pairs"][0]
                                                                               : nlohmann::json();
  }

  void stop() {
    stop_process(pid_, 20s);
    pid_ = 0;
  }

  pid_t pid() const { return pid_; }
  std::string face_url() const {
    return "opc.tcp://127.0.0.1:" + std::to_string(face_port_) + "/line1";
  }

private:
  const scratch_dir& dir_;
  std::string binary_;
  pid_t pid_ = 0;
  uint16_t face_port_ = 0;
  std::string socket_, err_;
};

/// One monitored item: its NodeId text (ns=1;s=...) and its sim tick (the counter's rate).
struct item_ref {
  std::string path; ///< "Fast.F0042"
  int rate_ms = 100;
  bool fast = false; ///< counted in the "fast" figures
};

/// Figures over the notifications that arrived in one phase (before / after the mark).
struct phase_figures {
  uint64_t notifications = 0;
  uint64_t bad = 0;     ///< no Double value (a Bad status)
  uint64_t lost = 0;    ///< ticks missing between an item's consecutive values
  uint64_t repeats = 0; ///< values whose tick was not after the item's previous one
  int64_t fast_arrival_gap_us = 0, slow_arrival_gap_us = 0; ///< longest, per item
  int64_t fast_source_gap_ms = 0, slow_source_gap_ms = 0;
  uint64_t lost_fast = 0, lost_slow = 0;
  /// Arrival (wall clock) minus source time of Good values, 1 ms buckets (last: 10 s and more).
  std::vector<uint32_t> lag_ms = std::vector<uint32_t>(10001, 0);
  double lag_quantile(double q) const {
    uint64_t total = 0;
    for (auto n : lag_ms)
      total += n;
    if (total == 0) return -1;
    auto want = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total)));
    uint64_t seen = 0;
    for (size_t i = 0; i < lag_ms.size(); ++i)
      if ((seen += lag_ms[i]) >= want) return static_cast<double>(i);
    return static_cast<double>(lag_ms.size() - 1);
  }
};

struct stream_figures {
  phase_figures before, after;
  size_t seen = 0;              ///< items with at least one value
  size_t recovered = 0;         ///< items with a value whose source time is after the mark
  int64_t last_recovery_us = 0; ///< steady time of the last such first value
  int64_t first_recovery_us = 0;
};

/// A session with one subscription on the given items; follows every item's counter. One I/O
/// thread of its own; the figures live on its strand.
class stream_client {
public:
  struct options {
    std::string url;
    std::vector<item_ref> items;
    double publish_ms = 20;
    uint32_t queue_size = 20;
    size_t outstanding = 8;
    size_t batch = 1000;
    std::chrono::milliseconds timeout{60000};
  };

  explicit stream_client(options o)
      : opts_(std::move(o)), work_(boost::asio::make_work_guard(io_)) {
    track_.assign(opts_.items.size(), track{});
    thread_ = std::thread([this] { io_.run(); });
  }
  ~stream_client() { close(); }
  stream_client(const stream_client&) = delete;
  stream_client& operator=(const stream_client&) = delete;

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

  /// One Read of one Value attribute; the round trip in µs, or -1 on failure.
  double timed_read(const NodeId& id) {
    ReadRequest r;
    ReadValueId v;
    v.node_id = id;
    r.nodes_to_read.push_back(v);
    auto t0 = steady::now();
    auto res = call<ReadResponse>(std::move(r));
    auto t1 = steady::now();
    if (!res || res->results.empty() ||
        (res->results[0].status && !res->results[0].status->is_good()))
      return -1;
    return std::chrono::duration<double, std::micro>(t1 - t0).count();
  }

  /// Subscription + monitored items (batches), publishing started first. Items created, or -1.
  long subscribe() {
    CreateSubscriptionRequest cs;
    cs.requested_publishing_interval = opts_.publish_ms;
    cs.requested_max_keep_alive_count = 20;
    cs.requested_lifetime_count = 6000;
    cs.max_notifications_per_publish = 0;
    auto sub = call<CreateSubscriptionResponse>(cs);
    if (!sub) {
      std::cerr << "CreateSubscription: " << sub.error().reason << "\n";
      return -1;
    }
    revised_publish_ms_ = sub->revised_publishing_interval;
    pub_ = publisher::create(
        client_, opts_.outstanding, std::chrono::milliseconds(120000),
        [this](uint32_t, NotificationMessage& m) { on_message(m); },
        [this](const error& e) {
          std::lock_guard<std::mutex> l(m_);
          if (!stopped_.exchange(true)) stop_reason_ = e.reason;
        });
    pub_->start();
    long created = 0;
    for (size_t first = 0; first < opts_.items.size(); first += opts_.batch) {
      CreateMonitoredItemsRequest mi;
      mi.subscription_id = sub->subscription_id;
      mi.timestamps_to_return = TimestampsToReturn::Both;
      for (size_t i = first; i < std::min(opts_.items.size(), first + opts_.batch); ++i) {
        MonitoredItemCreateRequest r;
        r.item_to_monitor.node_id = NodeId(1, String(opts_.items[i].path));
        r.item_to_monitor.attribute_id = attribute_id::Value;
        r.monitoring_mode = MonitoringMode::Reporting;
        r.requested_parameters.client_handle = static_cast<uint32_t>(i);
        r.requested_parameters.sampling_interval = 0;
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
        revised_queue_ = r.revised_queue_size;
      }
    }
    return created;
  }

  /// Items with at least one value so far (any thread).
  size_t seen() const { return seen_.load(); }
  size_t recovered() const { return recovered_.load(); }

  /// Clears the figures (keeps each item's last value): the start of the measured window.
  void reset_figures() {
    on_strand([this] {
      figures_.before = {};
      figures_.after = {};
    });
  }

  /// From now on notifications count as "after"; values whose source time is after `wall_ms`
  /// make their item recovered.
  void mark(int64_t at_steady_us, int64_t at_wall_ms) {
    mark_wall_ms_.store(at_wall_ms);
    mark_us_.store(at_steady_us);
  }

  stream_figures figures() {
    stream_figures f;
    on_strand([&] { f = figures_; });
    f.seen = seen_.load();
    f.recovered = recovered_.load();
    return f;
  }

  bool stopped() const { return stopped_.load(); }
  std::string stop_reason() {
    std::lock_guard<std::mutex> l(m_);
    return stop_reason_;
  }
  const std::string& first_failure() const { return first_failure_; }
  double revised_publish_ms() const { return revised_publish_ms_; }
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
  struct track {
    int64_t tick = -1;
    int64_t arrival_us = 0;
    int64_t source_ms = 0;
    bool recovered = false;
  };

  void on_strand(std::function<void()> f) {
    std::promise<void> p;
    boost::asio::post(client_->channel()->strand(), [&] {
      f();
      p.set_value();
    });
    p.get_future().wait();
  }

  void on_message(NotificationMessage& m) {
    int64_t now = steady_us();
    int64_t now_wall = wall_ms();
    int64_t mark = mark_us_.load();
    bool after = mark != 0 && now >= mark;
    int64_t mark_wall = mark_wall_ms_.load();
    phase_figures& ph = after ? figures_.after : figures_.before;
    for (auto& eo : m.notification_data) {
      auto n = decode_notification(eo);
      if (!n) continue;
      auto* dc = std::get_if<DataChangeNotification>(&*n);
      if (!dc) continue;
      for (auto& item : dc->monitored_items) {
        ++ph.notifications;
        if (item.client_handle >= track_.size()) continue;
        const DataValue& dv = item.value;
        const double* d = dv.value ? dv.value->get_if<double>() : nullptr;
        if (!d || (dv.status && !dv.status->is_good())) {
          ++ph.bad;
          continue;
        }
        const item_ref& ref = opts_.items[item.client_handle];
        track& t = track_[item.client_handle];
        auto tick = static_cast<int64_t>(*d);
        int64_t src = dv.source_timestamp ? dv.source_timestamp->to_unix_ms() : 0;
        if (src > 0)
          ++ph.lag_ms[static_cast<size_t>(std::clamp<int64_t>(now_wall - src, 0, 10000))];
        if (t.tick < 0) {
          seen_.fetch_add(1);
        } else {
          int64_t agap = now - t.arrival_us, sgap = src - t.source_ms;
          if (ref.fast) {
            ph.fast_arrival_gap_us = std::max(ph.fast_arrival_gap_us, agap);
            ph.fast_source_gap_ms = std::max(ph.fast_source_gap_ms, sgap);
          } else {
            ph.slow_arrival_gap_us = std::max(ph.slow_arrival_gap_us, agap);
            ph.slow_source_gap_ms = std::max(ph.slow_source_gap_ms, sgap);
          }
          if (tick <= t.tick) {
            ++ph.repeats;
          } else if (tick > t.tick + 1) {
            auto lost = static_cast<uint64_t>(tick - t.tick - 1);
            ph.lost += lost;
            (ref.fast ? ph.lost_fast : ph.lost_slow) += lost;
          }
        }
        if (after && !t.recovered && src > mark_wall) {
          t.recovered = true;
          if (recovered_.fetch_add(1) == 0) figures_.first_recovery_us = now;
          figures_.last_recovery_us = now;
        }
        if (tick > t.tick) {
          t.tick = tick;
          t.source_ms = src;
        }
        t.arrival_us = now;
      }
    }
  }

  options opts_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
  std::shared_ptr<ua_client> client_;
  std::shared_ptr<publisher> pub_;
  std::vector<track> track_;
  stream_figures figures_;
  std::atomic<size_t> seen_{0}, recovered_{0};
  std::atomic<int64_t> mark_us_{0}, mark_wall_ms_{0};
  std::atomic<bool> stopped_{false};
  std::mutex m_;
  std::string stop_reason_;
  std::string first_failure_;
  double revised_publish_ms_ = 0;
  uint32_t revised_queue_ = 0;
};

} // namespace tandem::bench
