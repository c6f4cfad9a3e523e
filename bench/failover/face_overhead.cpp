// Benchmark: what the node's face costs a client, against the server directly, in one run.
//
// Method: two `tandem sim --port 0 --items N --rate-ms R` (built-in address space, N Double
// counters Sim.ItemNNNN changing every R ms) and one `tandem node` with one [[pair]] in front of
// them (mode --mode, default warm), on loopback ports picked at run time. Then, with Tandem's own
// client (ua_client, one I/O thread per session):
//  * Read latency: one session to the primary sim directly and one to the face
//    (opc.tcp://node/line1); single-node Reads of ns=1;s=Sim.Counter, each waiting for its
//    response, in alternating blocks of 100 (direct, face, direct...) so that both see the same
//    machine load; `--warmup` reads of each first, then `--count` of each timed (steady_clock).
//    p50/p99/mean per path and the difference face - direct.
//  * Notification throughput: one subscription (publishing interval --publish-ms, sampling 0,
//    queue 10) on all N items, first directly on the primary sim, then through the face; after
//    `--warmup-s`, notifications received per second over `--seconds`, and ticks missing between
//    an item's consecutive values (lost). Ratio face / direct.
//  * If node and tests/interop/node_modules are there: node-opcua's client against both paths,
//    one after the other: Read latency (tests/interop/client.js latency) and notification
//    throughput (client.js subscribe, same subscription parameters; the mean of its per-second
//    counts after the warm-up).
//
// Usage: bench_face_overhead [--items N] [--rate-ms R] [--count N] [--warmup N] [--seconds T]
//          [--warmup-s W] [--publish-ms P] [--mode cold|warm|hot] [--no-node-opcua]
//          [--tandem PATH] [--smoke]

#include "bench/failover/failover_common.hpp"

using namespace tandem::bench;

namespace {

struct config {
  size_t items = 10000;
  int rate_ms = 100;
  int count = 2000, warmup = 200;
  double seconds = 10, warmup_s = 3;
  double publish_ms = 100;
  std::string mode = "warm";
  bool node_opcua = true;
  bool smoke = false;
  std::string binary = TANDEM_BINARY_PATH;
  std::string interop = std::string(TANDEM_SOURCE_DIR) + "/tests/interop";
};

struct lat {
  double p50 = -1, p99 = -1, mean = -1;
};

lat summarize(const std::vector<double>& us) {
  lat l;
  if (us.empty()) return l;
  l.p50 = quantile(us, 0.5);
  l.p99 = quantile(us, 0.99);
  double s = 0;
  for (double x : us)
    s += x;
  l.mean = s / static_cast<double>(us.size());
  return l;
}

struct flow {
  bool ok = false;
  std::string failure;
  double per_s = 0;
  uint64_t lost = 0, repeats = 0, bad = 0;
  double window_s = 0;
  double subscribe_s = 0;
  std::string load;
};

void sleep_s(double s) {
  std::this_thread::sleep_for(std::chrono::duration<double>(s));
}

flow measure_flow(const config& c, const std::string& url) {
  flow f;
  stream_client::options so;
  so.url = url;
  so.publish_ms = c.publish_ms;
  so.queue_size = 10;
  for (size_t i = 0; i < c.items; ++i)
    so.items.push_back({item_node(i, c.items), c.rate_ms, false});
  stream_client cl(so);
  if (!cl.connect()) {
    f.failure = "connect failed";
    return f;
  }
  auto t_sub = steady::now();
  long created = cl.subscribe();
  f.subscribe_s = seconds_since(t_sub);
  if (created != static_cast<long>(c.items)) {
    f.failure = "created " + std::to_string(created) + " items";
    return f;
  }
  sleep_s(c.warmup_s);
  auto a = cl.figures();
  auto t0 = steady::now();
  sleep_s(c.seconds);
  auto b = cl.figures();
  f.window_s = seconds_since(t0);
  f.load = load_average();
  f.per_s = static_cast<double>(b.before.notifications - a.before.notifications) / f.window_s;
  f.lost = b.before.lost - a.before.lost;
  f.repeats = b.before.repeats - a.before.repeats;
  f.bad = b.before.bad - a.before.bad;
  if (cl.stopped())
    f.failure = "publishing stopped: " + cl.stop_reason();
  else if (f.per_s <= 0)
    f.failure = "no notification";
  else
    f.ok = true;
  cl.close();
  return f;
}

lat node_opcua_latency(const config& c, const std::string& url, std::string& why) {
  auto out = capture("node '" + c.interop + "/client.js' latency '" + url +
                     "' 'ns=1;s=Sim.Counter' --count " + std::to_string(c.count) + " --warmup " +
                     std::to_string(c.warmup) + " --timeout-ms 300000 2>&1");
  // node may print warnings before the JSON line.
  nlohmann::json j;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] != '{') continue;
    auto one = nlohmann::json::parse(line, nullptr, false);
    if (!one.is_discarded() && one.contains("p50_us")) j = one;
  }
  lat l;
  if (!j.is_object()) {
    why = trim(out).substr(0, 300);
    return l;
  }
  l.p50 = j["p50_us"];
  l.p99 = j["p99_us"];
  l.mean = j["mean_us"];
  return l;
}

/// node-opcua's notifications per second on all the items at `url` (mean of client.js's
/// per-second counts after the warm-up), -1 when it failed (`why`).
double node_opcua_flow(const config& c, const std::string& url, std::string& why) {
  int warm = static_cast<int>(std::ceil(c.warmup_s));
  int total = warm + static_cast<int>(std::ceil(c.seconds));
  char publish[32];
  std::snprintf(publish, sizeof publish, "%.0f", c.publish_ms);
  auto out = capture("node '" + c.interop + "/client.js' subscribe '" + url + "' --items " +
                     std::to_string(c.items) + " --publish-ms " + publish +
                     " --sampling-ms 0 --queue-size 10 --seconds " + std::to_string(total) +
                     " --timeout-ms 300000 2>&1");
  std::vector<double> per_s;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] != '{') continue;
    auto one = nlohmann::json::parse(line, nullptr, false);
    if (!one.is_discarded() && one.value("event", "") == "stats")
      per_s.push_back(one.value("per_s", 0.0));
  }
  if (per_s.size() <= static_cast<size_t>(warm)) {
    why = trim(out).substr(0, 300);
    return -1;
  }
  double sum = 0;
  for (size_t i = static_cast<size_t>(warm); i < per_s.size(); ++i)
    sum += per_s[i];
  return sum / static_cast<double>(per_s.size() - static_cast<size_t>(warm));
}

} // namespace

int main(int argc, char** argv) {
  config c;
  const char* usage = "usage: bench_face_overhead [--items N] [--rate-ms R] [--count N] [--warmup "
                      "N] [--seconds T] [--warmup-s W] [--publish-ms P] [--mode cold|warm|hot] "
                      "[--no-node-opcua] [--tandem PATH] [--smoke]\n";
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
    else if (a == "--count")
      c.count = std::atoi(next().c_str());
    else if (a == "--warmup")
      c.warmup = std::atoi(next().c_str());
    else if (a == "--seconds")
      c.seconds = std::atof(next().c_str());
    else if (a == "--warmup-s")
      c.warmup_s = std::atof(next().c_str());
    else if (a == "--publish-ms")
      c.publish_ms = std::atof(next().c_str());
    else if (a == "--mode")
      c.mode = next();
    else if (a == "--no-node-opcua")
      c.node_opcua = false;
    else if (a == "--tandem")
      c.binary = next();
    else if (a == "--smoke") {
      c.smoke = true;
      c.items = 200;
      c.count = 100;
      c.warmup = 20;
      c.seconds = 1.5;
      c.warmup_s = 0.5;
    } else {
      std::cerr << usage;
      return 1;
    }
  }
  if (c.items == 0 || c.rate_ms <= 0 || c.count <= 0 || c.warmup < 0 || c.seconds <= 0 ||
      (c.mode != "cold" && c.mode != "warm" && c.mode != "hot")) {
    std::cerr << usage;
    return 1;
  }
  std::string load0 = load_average();
  scratch_dir dir;
  server_process a, b;
  std::vector<std::string> argv_sim{c.binary,    "sim",
                                    "--port",    "0",
                                    "--items",   std::to_string(c.items),
                                    "--rate-ms", std::to_string(c.rate_ms)};
  if (!a.start(argv_sim) || !b.start(argv_sim)) {
    std::cerr << "sims did not start\n";
    return 1;
  }
  auto url = [](const server_process& s) {
    return "opc.tcp://127.0.0.1:" + std::to_string(s.port()) + "/sim";
  };
  std::string direct_url = url(a);
  node_process node(dir, c.binary);
  node_process::pair_config pc;
  pc.primary = direct_url;
  pc.secondary = url(b);
  pc.mode = c.mode;
  if (!node.start(pc) || !node.wait_pair_ready(c.mode)) return 1;
  std::string face_url = node.face_url();

  // Read latency, alternating blocks.
  stream_client::options ro;
  ro.url = direct_url;
  stream_client direct(ro);
  ro.url = face_url;
  stream_client face(ro);
  if (!direct.connect() || !face.connect()) return 1;
  NodeId counter(1, String("Sim.Counter"));
  std::vector<double> d_us, f_us;
  int failed = 0;
  const int block = 100;
  for (int done = 0; done < c.warmup + c.count;) {
    int n = std::min(block, c.warmup + c.count - done);
    for (auto* cl : {&direct, &face})
      for (int k = 0; k < n; ++k) {
        double us = cl->timed_read(counter);
        if (us < 0) {
          ++failed;
          continue;
        }
        if (done + k >= c.warmup) (cl == &direct ? d_us : f_us).push_back(us);
      }
    done += n;
  }
  std::string read_load = load_average();
  direct.close();
  face.close();
  auto dl = summarize(d_us), fl = summarize(f_us);

  // Notification throughput, one path after the other.
  auto fd = measure_flow(c, direct_url);
  auto ff = measure_flow(c, face_url);

  // node-opcua's client, if present.
  lat nd, nf;
  std::string nwhy, nflow_why;
  double nflow_direct = -1, nflow_face = -1;
  bool have_node = c.node_opcua && ::access((c.interop + "/node_modules").c_str(), F_OK) == 0;
  if (have_node) {
    nd = node_opcua_latency(c, direct_url, nwhy);
    if (nd.p50 >= 0) nf = node_opcua_latency(c, face_url, nwhy);
    nflow_direct = node_opcua_flow(c, direct_url, nflow_why);
    if (nflow_direct >= 0) nflow_face = node_opcua_flow(c, face_url, nflow_why);
  }
  auto pair = node.pair();
  node.stop();
  a.stop();
  b.stop();

  std::printf("Overhead of the node's face: Tandem node (pair, mode %s) vs the server directly\n",
              c.mode.c_str());
  print_machine(c.binary);
  std::printf(
      "Method: two `tandem sim --items %zu --rate-ms %d` and one `tandem node` with one pair in "
      "front of them, loopback ports picked at run time. Read: Tandem's ua_client, one session to "
      "the primary sim and one to the face, single-node Reads of ns=1;s=Sim.Counter one after "
      "another, alternating blocks of %d (direct, face), %d warm-up then %d timed per path "
      "(steady_clock). Throughput: one subscription (publishing interval %.0f ms, sampling 0, "
      "queue 10) on all %zu items, direct then through the face, %.1f s warm-up then a %.1f s "
      "window; lost = ticks missing between an item's consecutive values. Load average at the "
      "start %s, after the reads %s.\n\n",
      c.items, c.rate_ms, block, c.warmup, c.count, c.publish_ms, c.items, c.warmup_s, c.seconds,
      load0.c_str(), read_load.c_str());
  int rc = 0;
  if (d_us.empty() || f_us.empty()) {
    std::printf("Read: FAILED (%d failed reads)\n", failed);
    rc = 1;
  } else {
    std::printf("| Read, Tandem client | p50 us | p99 us | mean us |\n|---|---|---|---|\n");
    std::printf("| direct to the sim | %.1f | %.1f | %.1f |\n", dl.p50, dl.p99, dl.mean);
    std::printf("| through the face | %.1f | %.1f | %.1f |\n", fl.p50, fl.p99, fl.mean);
    std::printf("| added by the face | %.1f | %.1f | %.1f |\n", fl.p50 - dl.p50, fl.p99 - dl.p99,
                fl.mean - dl.mean);
    if (failed) std::printf("(%d reads failed and were left out)\n", failed);
  }
  if (have_node) {
    if (nd.p50 >= 0 && nf.p50 >= 0) {
      std::printf("\n| Read, node-opcua client (sequential runs) | p50 us | p99 us | mean us "
                  "|\n|---|---|---|---|\n");
      std::printf("| direct to the sim | %.1f | %.1f | %.1f |\n", nd.p50, nd.p99, nd.mean);
      std::printf("| through the face | %.1f | %.1f | %.1f |\n", nf.p50, nf.p99, nf.mean);
      std::printf("| added by the face | %.1f | %.1f | %.1f |\n", nf.p50 - nd.p50, nf.p99 - nd.p99,
                  nf.mean - nd.mean);
    } else {
      std::printf("\nnode-opcua client: failed: %s\n", nwhy.c_str());
    }
    if (nflow_direct >= 0 && nflow_face >= 0) {
      std::printf("\n| Notifications, node-opcua client (sequential runs) | received/s "
                  "|\n|---|---|\n| direct to the sim | %.0f |\n| through the face | %.0f |\n"
                  "| face / direct | %.3f |\n",
                  nflow_direct, nflow_face, nflow_face / nflow_direct);
    } else {
      std::printf("\nnode-opcua client notifications: failed: %s\n", nflow_why.c_str());
    }
  } else {
    std::printf(
        "\nnode-opcua client: not run (no tests/interop/node_modules or --no-node-opcua)\n");
  }
  std::printf("\n| Notifications, Tandem client | received/s | lost ticks | repeats | Bad | "
              "subscribe s | load |\n|---|---|---|---|---|---|---|\n");
  for (auto* f : {&fd, &ff}) {
    const char* name = f == &fd ? "direct to the sim" : "through the face";
    if (!f->ok) {
      std::printf("| %s | FAILED: %s |\n", name, f->failure.c_str());
      rc = 1;
      continue;
    }
    std::printf("| %s | %.0f | %llu | %llu | %llu | %.1f | %s |\n", name, f->per_s,
                static_cast<unsigned long long>(f->lost),
                static_cast<unsigned long long>(f->repeats),
                static_cast<unsigned long long>(f->bad), f->subscribe_s, f->load.c_str());
  }
  std::printf("(nominal: %zu items x 1000/%d ms = %.0f changes/s)\n", c.items, c.rate_ms,
              static_cast<double>(c.items) * 1000.0 / c.rate_ms);
  if (rc == 0) {
    double ratio = ff.per_s / fd.per_s;
    std::printf("\nTargets (issue):\n");
    std::printf("  added Read latency p50 < 100 us: %s (%.1f us)\n",
                fl.p50 - dl.p50 < 100 ? "MET" : "NOT MET", fl.p50 - dl.p50);
    std::printf("  added Read latency p99 < 1 ms: %s (%.1f us)\n",
                fl.p99 - dl.p99 < 1000 ? "MET" : "NOT MET", fl.p99 - dl.p99);
    std::printf("  throughput face / direct >= 0.9: %s (%.3f)\n", ratio >= 0.9 ? "MET" : "NOT MET",
                ratio);
  }
  if (nflow_direct > 0 && nflow_face >= 0)
    std::printf("  throughput face / direct >= 0.9, node-opcua client: %s (%.3f)\n",
                nflow_face / nflow_direct >= 0.9 ? "MET" : "NOT MET", nflow_face / nflow_direct);
  std::string last_failover = pair.is_object() && pair.contains("last_failover")
                                  ? pair["last_failover"].dump()
                                  : std::string("none");
  std::printf("Pair at the end: active %s; last failover %s (a failover during the run spoils the "
              "throughput through the face)\n",
              pair.is_object() ? pair.value("active", "?").c_str() : "?", last_failover.c_str());
  std::printf("Final load average %s\n", load_average().c_str());
  return rc;
}
