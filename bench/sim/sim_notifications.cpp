// Benchmark: notifications per second that `tandem sim` delivers to one client, against the
// node-opcua test server (tests/interop/server.js) with the same address space, in one run.
//
// Method, for each load "N items changing every R ms" and each server in turn:
//  * start the server as its own process on a loopback port it picks (`tandem sim --port 0
//    --items N --rate-ms R`, `node server.js --port 0 --items N --rate-ms R --min-publish-ms 10
//    --min-sampling-ms 0`: node-opcua's floors lowered so that it is not held back by them);
//  * one client, Tandem's own ua_client and publisher on one I/O thread, the same for both
//    servers: one subscription (publishing interval P), N monitored items ns=1;s=Sim.ItemNNNN
//    (1000 per CreateMonitoredItems, samplingInterval 0 = every change, queue size Q), K Publish
//    requests kept in flight; every notification is decoded and counted, and its value tells
//    which tick of the item it carries (gaps between consecutive ticks are counted);
//  * after a warm-up, for T seconds: notifications received per second; changes generated
//    (N x the advance of Sim.Counter, read at both ends of the window); the fraction of those
//    that arrived; lag = arrival - source timestamp; CPU time (/proc/PID/stat utime+stime) of
//    the server process per notification and of the client process (to show it is not the
//    bottleneck); whole-machine CPU busy (/proc/stat).
//
// Usage: bench_sim_notifications [--loads 10000x200,10000x100,10000x50,10000x20,10000x10]
//          [--seconds T] [--warmup W] [--publish-ms P] [--queue Q] [--outstanding K]
//          [--max-per-publish M] [--sim-threads N]
//          [--servers tandem,node] [--tandem PATH] [--smoke]
// Needs node and tests/interop/node_modules (tools/install-deps.sh) for the node-opcua side.

#include "bench/sim/sim_bench_common.hpp"

using namespace tandem::bench;

namespace {

struct load {
  size_t items = 0;
  int rate_ms = 100;
};

struct run_result {
  std::string server;
  load l;
  bool ok = false;
  std::string failure;
  long created = 0;
  double subscribe_s = 0;
  double window_s = 0;
  double nominal_per_s = 0;
  double generated_per_s = 0;
  double received_per_s = 0;
  double arrived = 0; ///< received / generated
  uint64_t gaps = 0;
  uint64_t repeats = 0;
  double generate_cpu = 0; ///< cores, before subscribing: generating changes only
  double server_cpu = 0;   ///< cores
  double server_us_per_notif = 0;
  double client_cpu = 0;
  double client_us_per_notif = 0;
  double machine_busy = 0;
  double lag_p50 = -1, lag_p99 = -1;
  long server_rss_kb = 0;
  double revised_publish_ms = 0, revised_sampling_ms = 0;
  uint32_t revised_queue = 0;
};

struct config {
  std::vector<load> loads{{10000, 200}, {10000, 100}, {10000, 50}, {10000, 20}, {10000, 10}};
  double seconds = 10;
  double warmup = 3;
  double publish_ms = 50;
  uint32_t queue = 0; ///< 0: 4 x publish / rate, at least 10
  size_t outstanding = 16;
  uint32_t max_per_publish = 0;
  int sim_threads = 2;
  bool tandem = true, node = true;
  bool smoke = false;
  std::string binary = TANDEM_BINARY_PATH;
  std::string interop = std::string(TANDEM_SOURCE_DIR) + "/tests/interop";
  int node_min_publish_ms = 10;
};

uint32_t queue_for(const config& c, const load& l) {
  if (c.queue > 0) return c.queue;
  double per_cycle = std::ceil(c.publish_ms / l.rate_ms);
  return static_cast<uint32_t>(std::max(10.0, 4 * per_cycle));
}

void sleep_s(double s) {
  std::this_thread::sleep_for(std::chrono::duration<double>(s));
}

run_result run_one(const config& c, const load& l, bool tandem) {
  run_result r;
  r.server = tandem ? "tandem sim" : "node-opcua";
  r.l = l;
  r.nominal_per_s = static_cast<double>(l.items) * 1000.0 / l.rate_ms;
  server_process srv;
  auto argv = tandem ? tandem_sim_argv(c.binary, l.items, l.rate_ms, c.sim_threads)
                     : node_server_argv(c.interop, l.items, l.rate_ms, c.node_min_publish_ms);
  std::fprintf(stderr, "-- %s\n", join(argv).c_str());
  if (!srv.start(argv)) {
    r.failure = "server did not start";
    return r;
  }
  subscriber::options so;
  so.url = "opc.tcp://127.0.0.1:" + std::to_string(srv.port()) + "/sim";
  so.items = l.items;
  so.publish_ms = c.publish_ms;
  so.queue_size = queue_for(c, l);
  so.outstanding = c.outstanding;
  so.max_per_publish = c.max_per_publish;
  size_t width = std::max<size_t>(4, std::to_string(l.items == 0 ? 0 : l.items - 1).size());
  double scale = std::pow(10.0, static_cast<double>(width));
  if (tandem)
    so.tick = [](double v) { return static_cast<int64_t>(v); }; // the tick since the epoch
  else
    so.tick = [scale](double v) { return static_cast<int64_t>(std::floor(v / scale)); };
  subscriber sub(so);
  if (!sub.connect()) {
    r.failure = "connect failed";
    return r;
  }
  // The server's CPU while it only generates changes (connected, nothing subscribed yet).
  double gen_s = std::min(2.0, c.seconds);
  sleep_s(std::min(1.0, c.warmup)); // past the start-up work
  double gcpu0 = cpu_seconds(srv.pid());
  sleep_s(gen_s);
  r.generate_cpu = (cpu_seconds(srv.pid()) - gcpu0) / gen_s;
  auto t_sub = steady::now();
  r.created = sub.subscribe();
  r.subscribe_s = seconds_since(t_sub);
  r.revised_publish_ms = sub.revised_publish_ms();
  r.revised_sampling_ms = sub.revised_sampling_ms();
  r.revised_queue = sub.revised_queue();
  if (r.created <= 0) {
    r.failure = "no monitored item created" +
                (sub.first_failure().empty() ? "" : " (" + sub.first_failure() + ")");
    return r;
  }
  sleep_s(c.warmup);

  auto counter0 = sub.read_number("Sim.Counter");
  auto t0 = steady::now();
  double scpu0 = cpu_seconds(srv.pid()), ccpu0 = cpu_seconds(0);
  auto m0 = machine_cpu::now();
  auto s0 = sub.snapshot();
  sleep_s(c.seconds);
  auto s1 = sub.snapshot();
  auto m1 = machine_cpu::now();
  double scpu1 = cpu_seconds(srv.pid()), ccpu1 = cpu_seconds(0);
  r.window_s = seconds_since(t0);
  auto counter1 = sub.read_number("Sim.Counter");
  r.server_rss_kb = status_kb(srv.pid(), "VmRSS");
  if (sub.stopped()) {
    r.failure = "publishing stopped: " + sub.stop_reason();
    return r;
  }
  if (!counter0 || !counter1) {
    r.failure = "cannot read Sim.Counter";
    return r;
  }
  double received = static_cast<double>(s1.notifications - s0.notifications);
  r.generated_per_s =
      subscriber::ticks_per_second(counter0, counter1) * static_cast<double>(r.created);
  r.received_per_s = received / r.window_s;
  r.arrived = r.generated_per_s > 0 ? r.received_per_s / r.generated_per_s : 0;
  r.gaps = s1.gaps - s0.gaps;
  r.repeats = s1.repeats - s0.repeats;
  r.server_cpu = (scpu1 - scpu0) / r.window_s;
  r.client_cpu = (ccpu1 - ccpu0) / r.window_s;
  r.server_us_per_notif = received > 0 ? (scpu1 - scpu0) * 1e6 / received : 0;
  r.client_us_per_notif = received > 0 ? (ccpu1 - ccpu0) * 1e6 / received : 0;
  r.machine_busy = machine_cpu::busy_fraction(m0, m1);
  r.lag_p50 = lag_quantile(s0, s1, 0.50);
  r.lag_p99 = lag_quantile(s0, s1, 0.99);
  r.ok = received > 0;
  if (!r.ok) r.failure = "no notification in the window";
  sub.close();
  return r;
}

bool parse_loads(const std::string& text, std::vector<load>& out) {
  out.clear();
  std::istringstream in(text);
  std::string one;
  while (std::getline(in, one, ',')) {
    auto x = one.find('x');
    if (x == std::string::npos) return false;
    load l;
    l.items = static_cast<size_t>(std::atol(one.substr(0, x).c_str()));
    l.rate_ms = std::atoi(one.c_str() + x + 1);
    if (l.items == 0 || l.rate_ms <= 0) return false;
    out.push_back(l);
  }
  return !out.empty();
}

} // namespace

int main(int argc, char** argv) {
  config c;
  const char* usage = "usage: bench_sim_notifications [--loads NxR,...] [--seconds T] [--warmup W] "
                      "[--publish-ms P] [--queue Q] [--outstanding K] [--max-per-publish M] "
                      "[--sim-threads N] "
                      "[--servers tandem,node] [--tandem PATH] [--smoke]\n";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << usage;
        std::exit(1);
      }
      return argv[++i];
    };
    if (a == "--loads") {
      if (!parse_loads(next(), c.loads)) {
        std::cerr << "--loads needs ITEMSxRATE_MS,... e.g. 10000x100,10000x10\n";
        return 1;
      }
    } else if (a == "--seconds")
      c.seconds = std::atof(next().c_str());
    else if (a == "--warmup")
      c.warmup = std::atof(next().c_str());
    else if (a == "--publish-ms")
      c.publish_ms = std::atof(next().c_str());
    else if (a == "--queue")
      c.queue = static_cast<uint32_t>(std::atoi(next().c_str()));
    else if (a == "--outstanding")
      c.outstanding = static_cast<size_t>(std::atoi(next().c_str()));
    else if (a == "--max-per-publish")
      c.max_per_publish = static_cast<uint32_t>(std::atoi(next().c_str()));
    else if (a == "--sim-threads")
      c.sim_threads = std::atoi(next().c_str());
    else if (a == "--servers") {
      std::string s = next();
      c.tandem = s.find("tandem") != std::string::npos;
      c.node = s.find("node") != std::string::npos;
    } else if (a == "--tandem")
      c.binary = next();
    else if (a == "--smoke") {
      c.loads = {{200, 100}};
      c.seconds = 1.5;
      c.warmup = 0.5;
      c.smoke = true;
    } else {
      std::cerr << usage;
      return 1;
    }
  }
  if (c.seconds <= 0 || c.publish_ms <= 0 || (!c.tandem && !c.node)) {
    std::cerr << usage;
    return 1;
  }

  std::vector<run_result> results;
  for (const auto& l : c.loads) {
    if (c.tandem) results.push_back(run_one(c, l, true));
    if (c.node) results.push_back(run_one(c, l, false));
  }

  std::printf("Notifications delivered to one subscribing client: tandem sim vs node-opcua\n");
  print_machine(c.binary);
  std::printf(
      "Method: each server a process on a loopback port picked at run time, built-in address "
      "space, N Double items Sim.ItemNNNN changing every R ms. One client (Tandem ua_client + "
      "publisher, one I/O thread, %zu Publish requests in flight), one subscription (publishing "
      "interval %.0f ms, maxNotificationsPerPublish %u), N monitored items (1000 per "
      "CreateMonitoredItems, sampling 0, queue "
      "4 x interval/R but >= 10), every notification decoded. Warm-up %.1f s, then a %.1f s "
      "window: received/s; generated/s = N x advance of Sim.Counter per second; arrived = "
      "received / generated (rates; generated from the server's own source timestamps of two "
      "reads of Sim.Counter); gaps = ticks missing between an item's consecutive notifications; "
      "lag = arrival - source timestamp; CPU = utime+stime from /proc/PID/stat (1.00 = one core), "
      "idle = connected but nothing subscribed (generating changes only), measured over 2 s after "
      "1 s; "
      "machine = all cores busy (/proc/stat). tandem sim --threads %d; server.js "
      "--min-publish-ms %d --min-sampling-ms 0 (node-opcua sends at most 1000 notifications per "
      "PublishResponse).\n\n",
      c.outstanding, c.publish_ms, c.max_per_publish, c.warmup, c.seconds, c.sim_threads,
      c.node_min_publish_ms);
  std::printf("| server | items x rate | queue | nominal chg/s | generated chg/s | received "
              "notif/s | arrived | gaps | lag p50/p99 ms | server CPU idle / subscribed | server "
              "us/notif | client "
              "CPU | client us/notif | machine busy | server RSS MiB | subscribe s |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  int failures = 0;
  for (const auto& r : results) {
    if (!r.ok) {
      std::printf("| %s | %zu x %d ms | FAILED: %s |\n", r.server.c_str(), r.l.items, r.l.rate_ms,
                  r.failure.c_str());
      // node-opcua giving up under a heavy load is a result; the smoke run checks both work.
      if (c.smoke || r.server == "tandem sim") ++failures;
      continue;
    }
    std::printf("| %s | %zu x %d ms | %u | %.0f | %.0f | %.0f | %.1f%% | %llu | %.0f / %.0f | "
                "%.2f / %.2f | %.2f | %.2f | %.2f | %.0f%% | %.1f | %.1f |\n",
                r.server.c_str(), r.l.items, r.l.rate_ms, r.revised_queue, r.nominal_per_s,
                r.generated_per_s, r.received_per_s, 100 * r.arrived,
                static_cast<unsigned long long>(r.gaps), r.lag_p50, r.lag_p99, r.generate_cpu,
                r.server_cpu, r.server_us_per_notif, r.client_cpu, r.client_us_per_notif,
                100 * r.machine_busy, static_cast<double>(r.server_rss_kb) / 1024.0, r.subscribe_s);
  }
  if (c.tandem && c.node) {
    std::printf("\nRatio tandem sim / node-opcua (target: at least 5x where node-opcua is "
                "saturated):\n");
    for (size_t i = 0; i + 1 < results.size(); i += 2) {
      const auto& t = results[i];
      const auto& n = results[i + 1];
      if (!t.ok || !n.ok) continue;
      // node-opcua is saturated when it cannot generate the nominal changes, deliver them, or
      // get more CPU.
      bool saturated =
          n.server_cpu >= 0.9 || n.arrived < 0.95 || n.generated_per_s < 0.95 * n.nominal_per_s;
      bool t_keeps_up = t.arrived >= 0.95 && t.generated_per_s >= 0.95 * t.nominal_per_s;
      std::printf("  %zu items x %d ms: received %.2fx; server CPU per notification %.2f vs %.2f "
                  "us (%.1fx less); node-opcua %s, tandem sim %s\n",
                  t.l.items, t.l.rate_ms, t.received_per_s / n.received_per_s,
                  t.server_us_per_notif, n.server_us_per_notif,
                  t.server_us_per_notif > 0 ? n.server_us_per_notif / t.server_us_per_notif : 0,
                  saturated ? "saturated" : "keeps up", t_keeps_up ? "keeps up" : "saturated");
    }
  }
  std::printf("\nFinal load average %s\n", load_average().c_str());
  return failures == 0 ? 0 : 1;
}
