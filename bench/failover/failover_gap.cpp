// Benchmark: the failover gap of a redundant pair as a client sees it through the node's face,
// and the samples it loses, in cold, warm and hot mode; then a primary that hangs (SIGSTOP)
// instead of dying.
//
// Method, for each run (every run starts fresh processes on loopback ports picked at run time):
//  * two `tandem sim -c bench/failover/failover.toml --port 0` (1,000 Double counters Fast.FNNNN
//    changing every 10 ms, 10,000 Slow.SNNNN every 100 ms). Both publish value = tick number at
//    source time tick x rate, so a client can tell exactly which ticks it received;
//  * a `tandem node` with one [[pair]] (primary = first sim, secondary = second, the mode under
//    test, return_to_primary = false) and its face on a free port; the run waits on the console
//    until the pair is active on the primary with the standby in its mode's state;
//  * Tandem's own client (ua_client + publisher, one I/O thread) subscribes through the face to
//    all items: one subscription, publishing interval 20 ms, sampling 0, queue size 20, 1,000
//    items per CreateMonitoredItems; the run waits until every item has a value, lets the stream
//    settle, then measures a baseline window (no failure) of `--baseline-s`;
//  * the primary sim is killed (SIGKILL; or SIGSTOP) and the instant noted (steady and wall
//    clock); the run ends when every item has received a value whose source time is after that
//    instant (or after `--recover-timeout-s`), plus 0.5 s.
// Figures, per run: gap = the longest time between two consecutive notifications of one fast item
// arriving at the client, over the notifications that arrived after the kill (it spans the
// failover); the same in source time; all-items recovery = from the kill to the arrival of the
// last item's first post-kill value; lost = ticks missing between an item's consecutive values
// (every item, after the kill), exact because the two sims publish the same ticks; repeats =
// values not newer than the item's previous one. The baseline figures are the same measures over
// the window before the kill. Across runs: p50/p99 (nearest rank) of the gaps, total and p99 of
// the lost samples.
//
// Usage: bench_failover_gap [--runs N] [--stop-runs N] [--modes cold,warm,hot]
//          [--fast N --fast-ms R --slow N --slow-ms R] [--publish-ms P] [--queue Q]
//          [--status-ms S] [--stop-status-ms S] [--upstream-publish-ms U] [--baseline-s B]
//          [--recover-timeout-s T]
//          [--tandem PATH] [--verbose] [--no-history] [--smoke]

#include "bench/failover/failover_common.hpp"

using namespace tandem::bench;

namespace {

struct config {
  int runs = 20;
  int stop_runs = -1; ///< -1: as many as --runs
  std::vector<std::string> modes{"cold", "warm", "hot"};
  size_t fast = 1000, slow = 10000;
  int fast_ms = 10, slow_ms = 100;
  bool custom_space = false;
  double publish_ms = 20;
  uint32_t queue = 20;
  int status_ms = 1000;     ///< status_interval_ms = status_timeout_ms for the kill runs
  int stop_status_ms = 300; ///< ... for the SIGSTOP runs
  int upstream_ms = 0;      ///< [[pair]] publishing_ms; 0: the node's default
  bool history = true;      ///< [[pair]] history: the node records the items' values
  double baseline_s = 1.5;
  double recover_timeout_s = 30;
  bool verbose = false;
  bool smoke = false;
  std::string binary = TANDEM_BINARY_PATH;
  std::string space = std::string(TANDEM_SOURCE_DIR) + "/bench/failover/failover.toml";
};

struct run_result {
  std::string mode;
  int sig = SIGKILL;
  bool ok = false;
  std::string failure;
  double fast_gap_ms = 0, fast_source_gap_ms = 0, slow_gap_ms = 0;
  double base_fast_gap_ms = 0, base_fast_source_gap_ms = 0;
  double base_lag_p50 = -1, base_lag_p99 = -1;
  double recover_all_ms = -1, recover_first_ms = -1;
  double detect_ms = -1; ///< the node's failover time (console `pairs`) minus the kill, wall clock
  uint64_t lost = 0, lost_fast = 0, lost_slow = 0, repeats = 0, bad = 0;
  uint64_t base_lost = 0;
  size_t recovered = 0, items = 0;
  double setup_s = 0;
  std::string cause, load;
};

std::string width4(size_t i, size_t count) {
  size_t width = std::max<size_t>(4, std::to_string(count == 0 ? 0 : count - 1).size());
  std::string d = std::to_string(i);
  if (d.size() < width) d.insert(0, width - d.size(), '0');
  return d;
}

std::string space_toml(const config& c) {
  return "[server]\npath = \"/sim\"\napplication_uri = \"urn:tandem:bench:failover\"\n"
         "rate_ms = 100\n\n[[folder]]\nname = \"Fast\"\n  [[folder.variable]]\n  name = \"F\"\n"
         "  type = \"Double\"\n  generator = \"counter\"\n  rate_ms = " +
         std::to_string(c.fast_ms) + "\n  count = " + std::to_string(c.fast) +
         "\n\n[[folder]]\nname = \"Slow\"\n  [[folder.variable]]\n  name = \"S\"\n"
         "  type = \"Double\"\n  generator = \"counter\"\n  rate_ms = " +
         std::to_string(c.slow_ms) + "\n  count = " + std::to_string(c.slow) + "\n";
}

std::vector<item_ref> items_of(const config& c) {
  std::vector<item_ref> v;
  for (size_t i = 0; i < c.fast; ++i)
    v.push_back({"Fast.F" + width4(i, c.fast), c.fast_ms, true});
  for (size_t i = 0; i < c.slow; ++i)
    v.push_back({"Slow.S" + width4(i, c.slow), c.slow_ms, false});
  return v;
}

/// Unix milliseconds of "2026-11-22T20:41:15.377Z"; 0 when it does not parse.
int64_t rfc3339_ms(const std::string& t) {
  std::tm tm{};
  const char* rest = ::strptime(t.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!rest) return 0;
  int64_t ms = static_cast<int64_t>(::timegm(&tm)) * 1000;
  if (*rest == '.') ms += std::atoi(std::string(rest + 1, 3).c_str());
  return ms;
}

void sleep_s(double s) {
  std::this_thread::sleep_for(std::chrono::duration<double>(s));
}

run_result run_one(const config& c, const std::string& space, const std::string& mode, int sig,
                   int status_ms) {
  run_result r;
  r.mode = mode;
  r.sig = sig;
  r.items = c.fast + c.slow;
  auto t_setup = steady::now();
  scratch_dir dir;
  server_process a, b;
  std::vector<std::string> argv{c.binary, "sim", "-c", space, "--port", "0"};
  if (!a.start(argv) || !b.start(argv)) {
    r.failure = "sims did not start";
    return r;
  }
  auto url = [](const server_process& s) {
    return "opc.tcp://127.0.0.1:" + std::to_string(s.port()) + "/sim";
  };
  node_process node(dir, c.binary);
  node_process::pair_config pc;
  pc.primary = url(a);
  pc.secondary = url(b);
  pc.mode = mode;
  pc.status_interval_ms = status_ms;
  pc.status_timeout_ms = status_ms;
  pc.publishing_ms = c.upstream_ms;
  pc.history = c.history;
  if (!node.start(pc) || !node.wait_pair_ready(mode)) {
    r.failure = "node not ready";
    return r;
  }
  stream_client::options so;
  so.url = node.face_url();
  so.items = items_of(c);
  so.publish_ms = c.publish_ms;
  so.queue_size = c.queue;
  stream_client cl(so);
  if (!cl.connect()) {
    r.failure = "cannot connect to the face";
    return r;
  }
  long created = cl.subscribe();
  if (created != static_cast<long>(r.items)) {
    r.failure = "created " + std::to_string(created) + " of " + std::to_string(r.items) + " items" +
                (cl.first_failure().empty() ? "" : " (" + cl.first_failure() + ")");
    return r;
  }
  auto t0 = steady::now();
  while (cl.seen() < r.items && steady::now() - t0 < 60s && !cl.stopped())
    std::this_thread::sleep_for(20ms);
  if (cl.seen() < r.items) {
    r.failure = "only " + std::to_string(cl.seen()) + " items got a value";
    return r;
  }
  sleep_s(0.5); // past the initial burst
  r.setup_s = seconds_since(t_setup);
  cl.reset_figures();
  sleep_s(c.baseline_s);
  r.load = load_average();

  int64_t kill_us = steady_us(), kill_wall = wall_ms();
  cl.mark(kill_us, kill_wall);
  ::kill(a.pid(), sig);
  auto tk = steady::now();
  while (cl.recovered() < r.items &&
         steady::now() - tk < std::chrono::duration<double>(c.recover_timeout_s) && !cl.stopped())
    std::this_thread::sleep_for(10ms);
  sleep_s(0.5);
  auto f = cl.figures();
  auto p = node.pair();
  if (p.is_object() && p.contains("last_failover") && p["last_failover"].is_object()) {
    r.cause = p["last_failover"].value("cause", "");
    int64_t at = rfc3339_ms(p["last_failover"].value("time", ""));
    if (at > 0) r.detect_ms = static_cast<double>(at - kill_wall);
  }
  if (c.verbose) {
    std::fprintf(stderr, "pair after: %s\nkill at %lld (Unix ms)\n", p.dump().c_str(),
                 static_cast<long long>(kill_wall));
    auto ev = node.console("events 6");
    if (ev.contains("events"))
      for (auto& e : ev["events"])
        std::fprintf(stderr, "  %s %s\n", e.value("time", "").c_str(), e.value("text", "").c_str());
  }
  cl.close();
  node.stop();
  if (sig != SIGKILL) ::kill(a.pid(), SIGKILL); // a stopped process takes SIGKILL at once
  a.stop();
  b.stop();

  r.recovered = f.recovered;
  r.fast_gap_ms = static_cast<double>(f.after.fast_arrival_gap_us) / 1000.0;
  r.fast_source_gap_ms = static_cast<double>(f.after.fast_source_gap_ms);
  r.slow_gap_ms = static_cast<double>(f.after.slow_arrival_gap_us) / 1000.0;
  r.base_fast_gap_ms = static_cast<double>(f.before.fast_arrival_gap_us) / 1000.0;
  r.base_fast_source_gap_ms = static_cast<double>(f.before.fast_source_gap_ms);
  r.base_lag_p50 = f.before.lag_quantile(0.5);
  r.base_lag_p99 = f.before.lag_quantile(0.99);
  r.lost = f.after.lost;
  r.lost_fast = f.after.lost_fast;
  r.lost_slow = f.after.lost_slow;
  r.repeats = f.after.repeats;
  r.bad = f.after.bad + f.before.bad;
  r.base_lost = f.before.lost;
  if (f.first_recovery_us > 0)
    r.recover_first_ms = static_cast<double>(f.first_recovery_us - kill_us) / 1000.0;
  if (f.last_recovery_us > 0)
    r.recover_all_ms = static_cast<double>(f.last_recovery_us - kill_us) / 1000.0;
  if (cl.stopped()) {
    r.failure = "publishing stopped: " + cl.stop_reason();
  } else if (f.recovered < r.items) {
    r.failure = "only " + std::to_string(f.recovered) + " of " + std::to_string(r.items) +
                " items recovered in " + std::to_string(c.recover_timeout_s) + " s";
  } else {
    r.ok = true;
  }
  return r;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string one;
  while (std::getline(in, one, ','))
    if (!one.empty()) out.push_back(one);
  return out;
}

struct summary {
  int runs = 0, ok = 0;
  std::vector<double> gap, src_gap, slow_gap, base_gap, base_src_gap, recover_all, lost, detect;
  std::vector<double> lag50, lag99;
  uint64_t lost_total = 0, lost_fast = 0, lost_slow = 0, base_lost = 0, repeats = 0, bad = 0;
  std::string failures;
};

summary summarize(const std::vector<run_result>& rs) {
  summary s;
  for (const auto& r : rs) {
    ++s.runs;
    if (!r.ok) {
      s.failures += (s.failures.empty() ? "" : "; ") + r.failure;
      continue;
    }
    ++s.ok;
    s.gap.push_back(r.fast_gap_ms);
    s.src_gap.push_back(r.fast_source_gap_ms);
    s.slow_gap.push_back(r.slow_gap_ms);
    s.base_gap.push_back(r.base_fast_gap_ms);
    s.base_src_gap.push_back(r.base_fast_source_gap_ms);
    s.recover_all.push_back(r.recover_all_ms);
    if (r.detect_ms >= 0) s.detect.push_back(r.detect_ms);
    s.lag50.push_back(r.base_lag_p50);
    s.lag99.push_back(r.base_lag_p99);
    s.lost.push_back(static_cast<double>(r.lost));
    s.lost_total += r.lost;
    s.lost_fast += r.lost_fast;
    s.lost_slow += r.lost_slow;
    s.base_lost += r.base_lost;
    s.repeats += r.repeats;
    s.bad += r.bad;
  }
  return s;
}

const char* yes_no(bool b) {
  return b ? "MET" : "NOT MET";
}

} // namespace

int main(int argc, char** argv) {
  config c;
  const char* usage =
      "usage: bench_failover_gap [--runs N] [--stop-runs N] [--modes cold,warm,hot] [--fast N] "
      "[--fast-ms R] [--slow N] [--slow-ms R] [--publish-ms P] [--queue Q] [--status-ms S] "
      "[--stop-status-ms S] [--upstream-publish-ms U] [--baseline-s B] [--recover-timeout-s T] "
      "[--tandem PATH] [--verbose] [--no-history] "
      "[--smoke]\n";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << usage;
        std::exit(1);
      }
      return argv[++i];
    };
    if (a == "--runs")
      c.runs = std::atoi(next().c_str());
    else if (a == "--stop-runs")
      c.stop_runs = std::atoi(next().c_str());
    else if (a == "--modes")
      c.modes = split(next());
    else if (a == "--fast")
      c.fast = static_cast<size_t>(std::atol(next().c_str())), c.custom_space = true;
    else if (a == "--fast-ms")
      c.fast_ms = std::atoi(next().c_str()), c.custom_space = true;
    else if (a == "--slow")
      c.slow = static_cast<size_t>(std::atol(next().c_str())), c.custom_space = true;
    else if (a == "--slow-ms")
      c.slow_ms = std::atoi(next().c_str()), c.custom_space = true;
    else if (a == "--publish-ms")
      c.publish_ms = std::atof(next().c_str());
    else if (a == "--queue")
      c.queue = static_cast<uint32_t>(std::atoi(next().c_str()));
    else if (a == "--status-ms")
      c.status_ms = std::atoi(next().c_str());
    else if (a == "--stop-status-ms")
      c.stop_status_ms = std::atoi(next().c_str());
    else if (a == "--upstream-publish-ms")
      c.upstream_ms = std::atoi(next().c_str());
    else if (a == "--baseline-s")
      c.baseline_s = std::atof(next().c_str());
    else if (a == "--recover-timeout-s")
      c.recover_timeout_s = std::atof(next().c_str());
    else if (a == "--tandem")
      c.binary = next();
    else if (a == "--verbose")
      c.verbose = true;
    else if (a == "--no-history")
      c.history = false;
    else if (a == "--smoke") {
      c.smoke = true;
      c.runs = 1;
      c.stop_runs = 1;
      c.fast = 10;
      c.slow = 50;
      c.custom_space = true;
      c.baseline_s = 0.5;
      c.stop_status_ms = 200;
      c.recover_timeout_s = 20;
    } else {
      std::cerr << usage;
      return 1;
    }
  }
  if (c.stop_runs < 0) c.stop_runs = c.runs;
  for (const auto& m : c.modes)
    if (m != "cold" && m != "warm" && m != "hot") {
      std::cerr << "unknown mode " << m << "\n" << usage;
      return 1;
    }
  if (c.runs < 0 || c.fast + c.slow == 0 || c.fast_ms <= 0 || c.slow_ms <= 0) {
    std::cerr << usage;
    return 1;
  }
  scratch_dir space_dir;
  std::string space = c.custom_space ? space_dir.write("space.toml", space_toml(c)) : c.space;
  std::string load0 = load_average();

  std::map<std::string, std::vector<run_result>> by_mode;
  std::vector<run_result> stops;
  for (int i = 0; i < c.runs; ++i)
    for (const auto& m : c.modes) {
      auto r = run_one(c, space, m, SIGKILL, c.status_ms);
      std::fprintf(stderr,
                   "run %d %s kill: %s gap %.1f ms (source %.0f ms, baseline %.1f), all items "
                   "%.0f ms, detected %.0f ms, lost %llu, repeats %llu, setup %.1f s, load "
                   "%s%s%s\n",
                   i + 1, m.c_str(), r.ok ? "ok" : "FAILED", r.fast_gap_ms, r.fast_source_gap_ms,
                   r.base_fast_gap_ms, r.recover_all_ms, r.detect_ms,
                   static_cast<unsigned long long>(r.lost),
                   static_cast<unsigned long long>(r.repeats), r.setup_s, r.load.c_str(),
                   r.ok ? "" : ": ", r.failure.c_str());
      by_mode[m].push_back(std::move(r));
    }
  for (int i = 0; i < c.stop_runs; ++i) {
    auto r = run_one(c, space, "hot", SIGSTOP, c.stop_status_ms);
    std::fprintf(stderr,
                 "run %d hot SIGSTOP: %s gap %.1f ms (source %.0f ms), detected after %.0f ms, "
                 "lost %llu, cause %s, load %s%s%s\n",
                 i + 1, r.ok ? "ok" : "FAILED", r.fast_gap_ms, r.fast_source_gap_ms, r.detect_ms,
                 static_cast<unsigned long long>(r.lost), r.cause.c_str(), r.load.c_str(),
                 r.ok ? "" : ": ", r.failure.c_str());
    stops.push_back(std::move(r));
  }

  std::printf("Failover of a redundant pair as a client sees it through the node's face\n");
  print_machine(c.binary);
  std::printf(
      "Method: per run, fresh processes on loopback ports picked at run time: two `tandem sim -c "
      "%s` (%zu Double counters every %d ms, %zu every %d ms: value = tick, source time = tick x "
      "rate), one `tandem node` with one pair in front of them (return_to_primary = false, "
      "status_interval_ms = status_timeout_ms = %d for kill runs, %d for SIGSTOP runs, "
      "publishing_ms %s, history %s), Tandem's "
      "own client (ua_client + publisher) subscribed through the face to all %zu items (one "
      "subscription, publishing interval %.0f ms, sampling 0, queue %u). After every item has a "
      "value and 0.5 s more, a %.1f s baseline window, then the primary sim gets SIGKILL (or "
      "SIGSTOP); the run ends 0.5 s after every item got a value with a source time after the "
      "kill. gap = longest arrival interval between consecutive notifications of one fast item "
      "(over those arriving after the kill); source gap = the same in source time; all items = "
      "from the kill to the last item's first post-kill value; lost = ticks missing between an "
      "item's consecutive values, every item, exact (both sims publish the same ticks); baseline "
      "= the same measures before the kill; lag = arrival (wall clock) - source time of each value "
      "in the baseline (p50 of the runs' medians, p99 of their p99s); failover declared = the "
      "node's last_failover.time (console) - the kill. p50/p99 over runs (nearest rank). Load "
      "average at the "
      "start %s.\n\n",
      c.custom_space ? "<generated, same layout>" : "bench/failover/failover.toml", c.fast,
      c.fast_ms, c.slow, c.slow_ms, c.status_ms, c.stop_status_ms,
      c.upstream_ms > 0 ? std::to_string(c.upstream_ms).c_str() : "default (20)",
      c.history ? "true" : "false", c.fast + c.slow, c.publish_ms, c.queue, c.baseline_s,
      load0.c_str());
  std::printf(
      "| mode | runs ok | gap p50 / p99 ms | source gap p50 / p99 ms | all items "
      "recovered p50 / p99 ms | lost total (fast / slow) | lost p99 per run | repeats | "
      "baseline gap p50 / p99 ms | baseline source gap p99 ms | baseline lost | baseline lag "
      "p50 / p99 ms | failover declared p50 / p99 ms |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  int failures = 0;
  std::map<std::string, summary> sums;
  auto row = [&](const std::string& name, const std::vector<run_result>& rs) {
    auto s = summarize(rs);
    failures += s.runs - s.ok;
    std::printf("| %s | %d/%d | %.1f / %.1f | %.0f / %.0f | %.0f / %.0f | %llu (%llu / %llu) | "
                "%.0f | %llu | %.1f / %.1f | %.0f | %llu | %.0f / %.0f | %.0f / %.0f |\n",
                name.c_str(), s.ok, s.runs, quantile(s.gap, 0.5), quantile(s.gap, 0.99),
                quantile(s.src_gap, 0.5), quantile(s.src_gap, 0.99), quantile(s.recover_all, 0.5),
                quantile(s.recover_all, 0.99), static_cast<unsigned long long>(s.lost_total),
                static_cast<unsigned long long>(s.lost_fast),
                static_cast<unsigned long long>(s.lost_slow), quantile(s.lost, 0.99),
                static_cast<unsigned long long>(s.repeats), quantile(s.base_gap, 0.5),
                quantile(s.base_gap, 0.99), quantile(s.base_src_gap, 0.99),
                static_cast<unsigned long long>(s.base_lost), quantile(s.lag50, 0.5),
                quantile(s.lag99, 0.99), quantile(s.detect, 0.5), quantile(s.detect, 0.99));
    if (!s.failures.empty())
      std::printf("  failed runs (%s): %s\n", name.c_str(), s.failures.c_str());
    sums[name] = std::move(s);
  };
  for (const auto& m : c.modes)
    row(m + " (kill -9)", by_mode[m]);
  if (!stops.empty()) row("hot (SIGSTOP)", stops);

  std::printf("\nTargets (issue): judged on p99 over runs (p50 in brackets)\n");
  for (const auto& m : c.modes) {
    const auto& s = sums[m + " (kill -9)"];
    if (s.ok == 0) continue;
    double p99 = quantile(s.gap, 0.99), p50 = quantile(s.gap, 0.5);
    if (m == "hot")
      std::printf("  hot: gap < 50 ms: %s (%.1f [%.1f] ms); zero lost samples: %s (%llu)\n",
                  yes_no(p99 < 50), p99, p50, yes_no(s.lost_total == 0),
                  static_cast<unsigned long long>(s.lost_total));
    else if (m == "warm")
      std::printf("  warm: gap < 100 ms: %s (%.1f [%.1f] ms)\n", yes_no(p99 < 100), p99, p50);
    else {
      double all99 = quantile(s.recover_all, 0.99), all50 = quantile(s.recover_all, 0.5);
      std::printf("  cold with %zu items: every item back < 1 s: %s (%.0f [%.0f] ms; fast-item "
                  "gap %.1f [%.1f] ms)\n",
                  c.fast + c.slow, yes_no(all99 < 1000), all99, all50, p99, p50);
    }
  }
  if (!stops.empty() && sums["hot (SIGSTOP)"].ok > 0) {
    const auto& s = sums["hot (SIGSTOP)"];
    std::vector<double> over;
    for (double g : s.gap)
      over.push_back(g - c.stop_status_ms);
    std::vector<double> after_detect;
    for (const auto& r : stops)
      if (r.ok && r.detect_ms >= 0) after_detect.push_back(r.fast_gap_ms - r.detect_ms);
    std::printf("  hot SIGSTOP: gap - status timeout (%d ms) < 100 ms: %s (%.1f [%.1f] ms; the "
                "silence rule declares status_timeout after the server's last word, whatever "
                "the poll's phase); lost %llu (zero expected as for kill -9)\n",
                c.stop_status_ms, yes_no(quantile(over, 0.99) < 100), quantile(over, 0.99),
                quantile(over, 0.5), static_cast<unsigned long long>(s.lost_total));
    std::printf("    the node declared the failover %.0f [%.0f] ms after the stop (console "
                "last_failover.time); gap minus that: %.1f [%.1f] ms\n",
                quantile(s.detect, 0.99), quantile(s.detect, 0.5), quantile(after_detect, 0.99),
                quantile(after_detect, 0.5));
  }
  std::printf("\nFinal load average %s\n", load_average().c_str());
  return failures == 0 ? 0 : 1;
}
