#pragma once
/// Shared by the `tandem sim` benchmarks: server processes on loopback (`tandem sim` and the
/// node-opcua test server tests/interop/server.js), /proc readings (CPU time, RSS), the machine
/// description printed with the figures, and one subscribing client built on the project's own
/// ua_client + publisher.

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
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "transports/opcua/client/client.hpp"
#include "transports/opcua/client/subscription.hpp"

extern char** environ;

namespace tandem::bench {

using namespace std::chrono_literals;
using namespace tandem::opcua;
using steady = std::chrono::steady_clock;

inline double seconds_since(steady::time_point t0) {
  return std::chrono::duration<double>(steady::now() - t0).count();
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Runs a command and returns its stdout (blocking).
inline std::string capture(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
    out.append(buf, n);
  ::pclose(p);
  return out;
}

inline std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r'))
    s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
    ++i;
  return s.substr(i);
}

/// user + system CPU time of a process in seconds (/proc/PID/stat fields 14 and 15); -1 if gone.
inline double cpu_seconds(pid_t pid) {
  std::string stat =
      read_text("/proc/" + (pid == 0 ? std::string("self") : std::to_string(pid)) + "/stat");
  auto close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream in(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  // After "(comm) ": state is field 3; utime and stime are fields 14 and 15.
  for (int f = 3; f <= 15 && in >> field; ++f) {
    if (f == 14) utime = std::stoull(field);
    if (f == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

/// A field of /proc/PID/status in kB (VmRSS, VmHWM, ...); -1 if absent.
inline long status_kb(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + (pid == 0 ? std::string("self") : std::to_string(pid)) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.compare(0, key.size() + 1, key + ":") == 0)
      return std::atol(line.c_str() + key.size() + 1);
  return -1;
}

/// Busy and total jiffies of the whole machine (/proc/stat "cpu" line).
struct machine_cpu {
  unsigned long long busy = 0, total = 0;
  static machine_cpu now() {
    std::ifstream in("/proc/stat");
    std::string cpu;
    in >> cpu;
    machine_cpu m;
    unsigned long long v[10] = {};
    for (auto& x : v)
      in >> x;
    for (int i = 0; i < 8; ++i) // user nice system idle iowait irq softirq steal
      m.total += v[i];
    m.busy = m.total - v[3] - v[4];
    return m;
  }
  /// Fraction of all cores busy between `a` and `b`.
  static double busy_fraction(const machine_cpu& a, const machine_cpu& b) {
    return b.total > a.total
               ? static_cast<double>(b.busy - a.busy) / static_cast<double>(b.total - a.total)
               : 0;
  }
};

inline std::string load_average() {
  std::istringstream in(read_text("/proc/loadavg"));
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

/// nproc, CPU model, date and load: printed before the figures.
inline void print_machine(const std::string& tandem_binary) {
  std::string model = "unknown";
  std::istringstream cpuinfo(read_text("/proc/cpuinfo"));
  std::string line;
  while (std::getline(cpuinfo, line))
    if (line.rfind("model name", 0) == 0) {
      model = trim(line.substr(line.find(':') + 1));
      break;
    }
  char date[64];
  std::time_t t = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S %Z", std::localtime(&t));
  std::printf("Machine: nproc %ld, CPU \"%s\", %.1f GiB RAM; date %s; load average %s\n",
              ::sysconf(_SC_NPROCESSORS_ONLN), model.c_str(),
              static_cast<double>(::sysconf(_SC_PHYS_PAGES)) *
                  static_cast<double>(::sysconf(_SC_PAGESIZE)) / (1024.0 * 1024 * 1024),
              date, load_average().c_str());
  std::printf("Software: %s; node %s; node-opcua 2.186.4 (tests/interop)\n", tandem_binary.c_str(),
              trim(capture("node --version 2>/dev/null")).c_str());
}

/// A server process on loopback whose stdout announces `ready PORT` (tandem sim, server.js).
class server_process {
public:
  server_process() = default;
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;
  ~server_process() { stop(); }

  /// Starts argv[0] with stdin /dev/null and stdout/stderr in files of a fresh directory, then
  /// waits up to `timeout` for `ready PORT`. false (and the output on stderr) if it fails.
  bool start(const std::vector<std::string>& argv, std::chrono::seconds timeout = 120s) {
    char tmpl[] = "/tmp/tandem-bench-sim-XXXXXX";
    if (!::mkdtemp(tmpl)) return false;
    dir_ = tmpl;
    out_ = dir_ + "/stdout";
    err_ = dir_ + "/stderr";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> args;
    for (const auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    int rc = posix_spawnp(&pid_, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      std::cerr << "cannot start " << argv[0] << "\n";
      pid_ = 0;
      return false;
    }
    auto t0 = steady::now();
    while (steady::now() - t0 < timeout) {
      std::string out = read_text(out_);
      auto at = out.find("ready ");
      if (at != std::string::npos && out.find('\n', at) != std::string::npos) {
        port_ = static_cast<uint16_t>(std::atoi(out.c_str() + at + 6));
        return true;
      }
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = 0;
        break;
      }
      std::this_thread::sleep_for(50ms);
    }
    std::cerr << argv[0] << " did not become ready; stderr:\n" << read_text(err_) << "\n";
    return false;
  }

  /// SIGTERM, then SIGKILL after 10 s. Removes the output files.
  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int st = 0;
      auto t0 = steady::now();
      while (::waitpid(pid_, &st, WNOHANG) == 0) {
        if (steady::now() - t0 > 10s) {
          ::kill(pid_, SIGKILL);
          ::waitpid(pid_, &st, 0);
          break;
        }
        std::this_thread::sleep_for(20ms);
      }
      pid_ = 0;
    }
    if (!dir_.empty()) {
      std::remove(out_.c_str());
      std::remove(err_.c_str());
      ::rmdir(dir_.c_str());
      dir_.clear();
    }
  }

  pid_t pid() const { return pid_; }
  uint16_t port() const { return port_; }
  bool alive() const { return pid_ > 0 && ::kill(pid_, 0) == 0; }
  std::string stderr_text() const { return read_text(err_); }

private:
  pid_t pid_ = 0;
  uint16_t port_ = 0;
  std::string dir_, out_, err_;
};

/// Item names as both servers make them: Item + index zero-padded to max(4, digits of N-1).
inline std::string item_node(size_t index, size_t items) {
  size_t width = std::max<size_t>(4, std::to_string(items == 0 ? 0 : items - 1).size());
  std::string digits = std::to_string(index);
  if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
  return "Sim.Item" + digits;
}

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
