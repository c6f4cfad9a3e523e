// Benchmark: diagnostics event ingest with persistence.
//
// Method: a real actor system (the node's `sharing` scheduler), the DIAGNOSTICS actor with its
// SQLite store (WAL, synchronous=FULL) in a fresh temporary directory, max_events = 100,000.
// A sender reports events in chunks of `chunk` and after each chunk waits for `flush` (every
// event of the chunk committed to disk), so the backlog stays bounded and the figure is the
// sustained rate of events made durable. Memory: resident set size before the actor starts and
// once its ring buffer holds max_events events.
//
// Usage: bench_diag_ingest [--events N] [--chunk N] [--max-events N] [--smoke]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/atom.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/diagnostics.hpp"

using namespace tandem;

namespace {

long rss_kb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field));
  return -1;
}

} // namespace

int main(int argc, char** argv) {
  uint64_t events = 1'000'000, chunk = 10'000, max_events = 100'000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::strtoull(argv[++i], nullptr, 10) : 0ull; };
    if (a == "--events")
      events = next();
    else if (a == "--chunk")
      chunk = next();
    else if (a == "--max-events")
      max_events = next();
    else if (a == "--smoke")
      events = 20'000, max_events = 5'000;
    else {
      std::cerr << "usage: bench_diag_ingest [--events N] [--chunk N] [--max-events N] [--smoke]\n";
      return 1;
    }
  }
  if (chunk == 0 || events == 0 || max_events == 0) {
    std::cerr << "bench_diag_ingest: counts must be positive\n";
    return 1;
  }
  char tmpl[] = "/tmp/tandem-bench-XXXXXX";
  if (!mkdtemp(tmpl)) return 1;
  std::string dir = tmpl;
  int rc = 0;
  {
    std::string err, notice;
    std::shared_ptr<storage::event_store> store =
        storage::event_store::open(dir + "/events.db", err, notice);
    if (!store) {
      std::cerr << err << "\n";
      return 1;
    }
    caf::actor_system_config cfg;
    cfg.set("scheduler.policy", caf::atom("sharing"));
    caf::actor_system sys{cfg};
    long rss_before = rss_kb("VmRSS:");
    diagnostics_config dc;
    dc.node_name = "bench";
    dc.max_events = max_events;
    dc.store = store;
    dc.wall_now = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
    auto diag = sys.spawn(diagnostics, dc);
    caf::scoped_actor self{sys};
    const std::string text =
        "pair line1 failed over from primary to secondary: status timeout after 1000 ms";
    auto t0 = std::chrono::steady_clock::now();
    uint64_t sent = 0, committed = 0;
    while (sent < events) {
      uint64_t n = std::min(chunk, events - sent);
      for (uint64_t i = 0; i < n; ++i)
        self->send(diag, event_report{severity::warning, "pair/line1", "failover", text});
      sent += n;
      self->request(diag, caf::infinite, atom::flush_v)
          .receive([&](uint64_t last) { committed = last; },
                   [&](caf::error& e) {
                     std::cerr << "flush failed: " << caf::to_string(e) << "\n";
                     rc = 1;
                   });
      if (rc) break;
    }
    auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    long rss_full = rss_kb("VmRSS:");
    long hwm = rss_kb("VmHWM:");
    auto db_bytes = std::filesystem::file_size(dir + "/events.db");
    std::printf(
        "diagnostics ingest with persistence (SQLite WAL, synchronous=FULL, batched commits)\n");
    std::printf("  events            %llu in chunks of %llu, flush after each chunk\n",
                static_cast<unsigned long long>(events), static_cast<unsigned long long>(chunk));
    std::printf("  committed         last seq %llu\n", static_cast<unsigned long long>(committed));
    std::printf("  time              %.3f s\n", secs);
    std::printf("  rate              %.0f events/s\n", events / secs);
    std::printf("  max_events        %llu\n", static_cast<unsigned long long>(max_events));
    std::printf("  RSS before        %ld KiB\n", rss_before);
    std::printf("  RSS ring full     %ld KiB (+%ld KiB, %.0f bytes/event)\n", rss_full,
                rss_full - rss_before,
                (rss_full - rss_before) * 1024.0 /
                    static_cast<double>(std::min(events, max_events)));
    std::printf("  peak RSS          %ld KiB\n", hwm);
    std::printf("  database file     %.1f MiB\n", db_bytes / 1048576.0);
    if (committed != events) {
      std::cerr << "bench_diag_ingest: committed " << committed << " of " << events << "\n";
      rc = 1;
    }
    self->send_exit(diag, caf::exit_reason::user_shutdown);
  }
  std::filesystem::remove_all(dir);
  return rc;
}
