// Benchmark: memory of `tandem sim` per variable (address space) and per monitored item
// (subscription), with 100,000 items, compared with the node-opcua test server
// (tests/interop/server.js) serving the same address space.
//
// Method, for each server in turn, every process on a loopback port picked at run time:
//  * baseline: the server with the built-in address space and no Sim.ItemNNNN items
//    (`--items 0`), its RSS (/proc/PID/status VmRSS) after `--settle` seconds; stopped;
//  * the server with `--items N --rate-ms 1000` (every item changes once a second): RSS after
//    `--settle` seconds = address space;
//  * one client (Tandem's ua_client + publisher) creates one subscription (publishing interval
//    P) and N monitored items, 1000 per CreateMonitoredItems request (the server's
//    max_nodes_per_call), queue size Q, and receives the changes for `--flow` seconds; RSS at
//    the end of that time (and the highest RSS sampled each second, and VmHWM) = subscribed;
//  * bytes per variable = (RSS address space - RSS baseline) / N; bytes per monitored item =
//    (RSS subscribed - RSS address space) / N; combined = (RSS subscribed - RSS baseline) / N.
//    The notification rate in the last seconds shows that the changes are flowing.
//
// Usage: bench_sim_memory [--items N] [--rate-ms R] [--publish-ms P] [--queue Q] [--flow S]
//          [--settle S] [--servers tandem,node] [--tandem PATH] [--smoke]

#include "bench/sim/sim_bench_common.hpp"

using namespace tandem::bench;

namespace {

struct config {
  size_t items = 100000;
  int rate_ms = 1000;
  double publish_ms = 100;
  uint32_t queue = 10;
  double flow_s = 20;
  double settle_s = 3;
  int sim_threads = 2;
  bool tandem = true, node = true;
  bool smoke = false;
  std::string binary = TANDEM_BINARY_PATH;
  std::string interop = std::string(TANDEM_SOURCE_DIR) + "/tests/interop";
};

struct mem_result {
  std::string server;
  bool ok = false;
  std::string failure;
  long rss_empty_kb = 0, rss_space_kb = 0, rss_sub_kb = 0, rss_sub_max_kb = 0, hwm_kb = 0;
  long created = 0;
  double subscribe_s = 0;
  double received_per_s = 0;
  double arrived = 0;
  uint64_t gaps = 0;
  double server_cpu = 0;
};

void sleep_s(double s) {
  std::this_thread::sleep_for(std::chrono::duration<double>(s));
}

std::vector<std::string> argv_for(const config& c, bool tandem, size_t items) {
  return tandem ? tandem_sim_argv(c.binary, items, c.rate_ms, c.sim_threads)
                : node_server_argv(c.interop, items, c.rate_ms, 10);
}

mem_result run_one(const config& c, bool tandem) {
  mem_result r;
  r.server = tandem ? "tandem sim" : "node-opcua";
  {
    server_process empty;
    auto argv = argv_for(c, tandem, 0);
    std::fprintf(stderr, "-- %s\n", join(argv).c_str());
    if (!empty.start(argv)) {
      r.failure = "server without items did not start";
      return r;
    }
    sleep_s(c.settle_s);
    r.rss_empty_kb = status_kb(empty.pid(), "VmRSS");
  }
  server_process srv;
  auto argv = argv_for(c, tandem, c.items);
  std::fprintf(stderr, "-- %s\n", join(argv).c_str());
  if (!srv.start(argv, std::chrono::seconds(600))) {
    r.failure = "server with " + std::to_string(c.items) + " items did not start";
    return r;
  }
  sleep_s(c.settle_s);
  r.rss_space_kb = status_kb(srv.pid(), "VmRSS");

  subscriber::options so;
  so.url = "opc.tcp://127.0.0.1:" + std::to_string(srv.port()) + "/sim";
  so.items = c.items;
  so.publish_ms = c.publish_ms;
  so.queue_size = c.queue;
  so.outstanding = 16;
  so.timeout = std::chrono::milliseconds(300000);
  subscriber sub(so);
  if (!sub.connect()) {
    r.failure = "connect failed";
    return r;
  }
  auto t_sub = steady::now();
  r.created = sub.subscribe();
  r.subscribe_s = seconds_since(t_sub);
  if (r.created <= 0 || static_cast<size_t>(r.created) != c.items) {
    r.failure = "created " + std::to_string(r.created) + " of " + std::to_string(c.items) +
                " monitored items" +
                (sub.first_failure().empty() ? "" : " (" + sub.first_failure() + ")");
    if (!srv.alive()) r.failure += "; the server died";
    return r;
  }
  // Changes flow; RSS sampled once a second, the rate measured over the second half.
  auto t0 = steady::now();
  std::optional<subscriber::reading> counter0;
  flow_stats s0;
  double cpu0 = 0, t_half = 0;
  for (int k = 1; seconds_since(t0) < c.flow_s; ++k) {
    sleep_s(std::min(1.0, c.flow_s - seconds_since(t0)));
    r.rss_sub_max_kb = std::max(r.rss_sub_max_kb, status_kb(srv.pid(), "VmRSS"));
    if (!counter0 && seconds_since(t0) >= c.flow_s / 2) {
      counter0 = sub.read_number("Sim.Counter");
      s0 = sub.snapshot();
      cpu0 = cpu_seconds(srv.pid());
      t_half = seconds_since(t0);
    }
  }
  auto counter1 = sub.read_number("Sim.Counter");
  auto s1 = sub.snapshot();
  double window = seconds_since(t0) - t_half;
  r.server_cpu = (cpu_seconds(srv.pid()) - cpu0) / window;
  r.rss_sub_kb = status_kb(srv.pid(), "VmRSS");
  r.rss_sub_max_kb = std::max(r.rss_sub_max_kb, r.rss_sub_kb);
  r.hwm_kb = status_kb(srv.pid(), "VmHWM");
  if (sub.stopped()) {
    r.failure = "publishing stopped: " + sub.stop_reason();
    return r;
  }
  double received = static_cast<double>(s1.notifications - s0.notifications);
  r.received_per_s = received / window;
  r.gaps = s1.gaps - s0.gaps;
  double generated_per_s =
      subscriber::ticks_per_second(counter0, counter1) * static_cast<double>(c.items);
  r.arrived = generated_per_s > 0 ? r.received_per_s / generated_per_s : 0;
  sub.close();
  r.ok = r.rss_empty_kb > 0 && r.rss_space_kb > 0 && r.rss_sub_kb > 0;
  if (!r.ok) r.failure = "no RSS reading";
  return r;
}

double per_item(long kb_a, long kb_b, size_t items) {
  return static_cast<double>(kb_b - kb_a) * 1024.0 / static_cast<double>(items);
}

} // namespace

int main(int argc, char** argv) {
  config c;
  const char* usage = "usage: bench_sim_memory [--items N] [--rate-ms R] [--publish-ms P] "
                      "[--queue Q] [--flow S] [--settle S] [--servers tandem,node] "
                      "[--tandem PATH] [--smoke]\n";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << usage;
        std::exit(1);
      }
      return argv[++i];
    };
    if (a == "--items")
      c.items = static_cast<size_t>(std::atol(next().c_str()));
    else if (a == "--rate-ms")
      c.rate_ms = std::atoi(next().c_str());
    else if (a == "--publish-ms")
      c.publish_ms = std::atof(next().c_str());
    else if (a == "--queue")
      c.queue = static_cast<uint32_t>(std::atoi(next().c_str()));
    else if (a == "--flow")
      c.flow_s = std::atof(next().c_str());
    else if (a == "--settle")
      c.settle_s = std::atof(next().c_str());
    else if (a == "--servers") {
      std::string s = next();
      c.tandem = s.find("tandem") != std::string::npos;
      c.node = s.find("node") != std::string::npos;
    } else if (a == "--tandem")
      c.binary = next();
    else if (a == "--smoke") {
      c.items = 2000;
      c.flow_s = 2;
      c.settle_s = 0.5;
      c.smoke = true;
    } else {
      std::cerr << usage;
      return 1;
    }
  }
  if (c.items == 0 || c.rate_ms <= 0 || c.flow_s <= 0 || (!c.tandem && !c.node)) {
    std::cerr << usage;
    return 1;
  }

  std::vector<mem_result> results;
  if (c.tandem) results.push_back(run_one(c, true));
  if (c.node) results.push_back(run_one(c, false));

  std::printf("Memory per variable and per monitored item: tandem sim vs node-opcua\n");
  print_machine(c.binary);
  std::printf(
      "Method: RSS (/proc/PID/status VmRSS) of the server process: baseline = built-in address "
      "space without items (--items 0), %.1f s after start; space = with %zu Double items "
      "changing every %d ms, %.1f s after start; subscribed = after one client (Tandem "
      "ua_client) subscribed to all %zu (1000 per CreateMonitoredItems, publishing interval "
      "%.0f ms, queue %u, sampling 0) and received changes for %.1f s. bytes/variable = "
      "(space - baseline) / N; bytes/monitored item = (subscribed - space) / N; combined = "
      "(subscribed - baseline) / N. Rate and arrived (received / N x advance of Sim.Counter) "
      "over the second half of the flow (at 1 Hz a window holds whole ticks +- 1); gaps = ticks "
      "missing between an item's consecutive notifications in that window. tandem sim --threads "
      "%d; server.js --min-publish-ms 10 "
      "--min-sampling-ms 0.\n\n",
      c.settle_s, c.items, c.rate_ms, c.settle_s, c.items, c.publish_ms, c.queue, c.flow_s,
      c.sim_threads);
  std::printf("| server | baseline MiB | space MiB | subscribed MiB (max, VmHWM) | bytes/variable "
              "| bytes/monitored item | combined bytes/item | subscribe s | notif/s | arrived | "
              "gaps | server CPU |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  // A node-opcua server that does not cope with the full size is a result, not a failure of
  // the benchmark (the smoke run checks that both work).
  int failures = 0;
  for (const auto& r : results) {
    if (!r.ok) {
      std::printf("| %s | FAILED: %s |\n", r.server.c_str(), r.failure.c_str());
      if (c.smoke || r.server == "tandem sim") ++failures;
      continue;
    }
    auto mib = [](long kb) { return static_cast<double>(kb) / 1024.0; };
    std::printf("| %s | %.1f | %.1f | %.1f (%.1f, %.1f) | %.0f | %.0f | %.0f | %.1f | %.0f | "
                "%.1f%% | %llu | %.2f |\n",
                r.server.c_str(), mib(r.rss_empty_kb), mib(r.rss_space_kb), mib(r.rss_sub_kb),
                mib(r.rss_sub_max_kb), mib(r.hwm_kb),
                per_item(r.rss_empty_kb, r.rss_space_kb, c.items),
                per_item(r.rss_space_kb, r.rss_sub_kb, c.items),
                per_item(r.rss_empty_kb, r.rss_sub_kb, c.items), r.subscribe_s, r.received_per_s,
                100 * r.arrived, static_cast<unsigned long long>(r.gaps), r.server_cpu);
  }
  for (const auto& r : results)
    if (r.ok && r.server == "tandem sim") {
      // The target is per monitored item (what a subscription costs the server); the
      // variable behind it and the two together are printed beside it.
      double item = per_item(r.rss_space_kb, r.rss_sub_kb, c.items);
      double combined = per_item(r.rss_empty_kb, r.rss_sub_kb, c.items);
      std::printf("\nTarget (tandem sim): under 1024 bytes per monitored item: %s (%.0f bytes; "
                  "with its variable %.0f bytes)%s\n",
                  item < 1024 ? "met" : "MISSED", item, combined,
                  c.smoke ? " - smoke size: fixed costs dominate, not a measurement" : "");
    }
  std::printf("Final load average %s\n", load_average().c_str());
  return failures == 0 ? 0 : 1;
}
