// Takeover time of a redundant node pair (issue: redundant nodes), as the Standby records it.
//
// Two `tandem node` processes (master and backup, heartbeats every 100 ms, lost after 320 ms of
// silence or 3 missed pings) each serve one warm pair over the same two `tandem sim` servers, so
// each has an OPC UA face port for the death probe. Every run:
//   kill -9:  the Running master is killed; the figure is the time from just before kill(2) to
//             the backup's `takeover` diagnostics event (its wall clock, ms). The master is then
//             restarted and automatic recovery hands the role back before the next run.
//   SIGSTOP:  the Running master is stopped (a hung node); same figure. It is then continued;
//             the split brain is resolved (master_wins here: with longest_running the backup
//             would win once the kill cycles left it more Running time, as they do) and the next
//             run waits for master Running / backup Standby again.
// Both nodes run on this machine, so wall clocks agree. Figures: p50, p99, max over the runs.
//
//   bench_takeover [--runs N] [--mode kill|stop|both] [--smoke]
//   bench_takeover --false-takeovers --minutes M [--hogs H]
// The second form saturates the machine with H busy processes (default: one per core, plus one)
// for M minutes and counts takeovers and node state changes, which must stay zero.

#include <cstdlib>
#include <sys/resource.h>

#include "bench/failover/failover_common.hpp"

using namespace tandem::bench;

namespace {

/// Unix ms of "2026-11-23T02:30:01.123Z"; -1 when it is not that shape.
int64_t unix_ms(const std::string& t) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(t.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
    return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(::timegm(&tm)) * 1000 + ms;
}

/// One `tandem node` of the redundant pair, restartable on the same config.
class redundant_node {
public:
  redundant_node(const scratch_dir& dir, std::string binary, std::string name, std::string config)
      : dir_(dir), binary_(std::move(binary)), name_(std::move(name)) {
    socket_ = dir_.path() + "/" + name_ + ".sock";
    config_ =
        dir_.write(name_ + ".toml", "[node]\nname = \"" + name_ + "\"\ndata_dir = \"" +
                                        dir_.path() + "/data-" + name_ + "\"\nconsole_socket = \"" +
                                        socket_ + "\"\n" + config);
  }
  ~redundant_node() { stop(); }

  bool start() {
    err_ = dir_.path() + "/" + name_ + ".err";
    pid_ = spawn_process({binary_, "node", "-c", config_}, dir_.path() + "/" + name_ + ".out", err_,
                         /*append=*/true);
    return pid_ != 0;
  }
  void signal(int sig) {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  /// kill -9 and reap.
  void kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = 0;
  }
  void stop() {
    stop_process(pid_, 20s);
    pid_ = 0;
  }
  nlohmann::json console(const std::string& line, int timeout_ms = 5000) {
    return console_json(socket_, line, timeout_ms);
  }
  std::string state() {
    auto j = console("node", 2000);
    return j.contains("self") ? j["self"].value("state", "") : "";
  }
  /// Wall-clock ms of the newest event of `kind` at or after `since_ms`; -1 when none.
  int64_t event_time(const std::string& kind, int64_t since_ms) {
    auto j = console("events 200");
    int64_t found = -1;
    if (j.contains("events"))
      for (auto& e : j["events"])
        if (e.value("kind", "") == kind) {
          int64_t t = unix_ms(e.value("time", ""));
          if (t >= since_ms) found = t;
        }
    return found;
  }
  /// Every event of these kinds at or after `since_ms`.
  size_t count_events(const std::vector<std::string>& kinds, int64_t since_ms) {
    auto j = console("events 10000", 20000);
    size_t n = 0;
    if (j.contains("events"))
      for (auto& e : j["events"])
        if (std::find(kinds.begin(), kinds.end(), e.value("kind", "")) != kinds.end() &&
            unix_ms(e.value("time", "")) >= since_ms)
          ++n;
    return n;
  }
  std::string stderr_text() const { return read_text(err_); }

private:
  const scratch_dir& dir_;
  std::string binary_, name_, config_, socket_, err_;
  pid_t pid_ = 0;
};

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto t0 = steady::now();
  while (steady::now() - t0 < timeout) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

struct options {
  int runs = 20;
  std::string mode = "both";
  bool smoke = false;
  bool false_takeovers = false;
  double minutes = 10;
  int hogs = 0;
  bool verbose = false; ///< print the backup's events of each kill -9 run
};

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--runs")
      o.runs = std::atoi(next().c_str());
    else if (a == "--mode")
      o.mode = next();
    else if (a == "--smoke")
      o.smoke = true;
    else if (a == "--false-takeovers")
      o.false_takeovers = true;
    else if (a == "--minutes")
      o.minutes = std::atof(next().c_str());
    else if (a == "--verbose")
      o.verbose = true;
    else if (a == "--hogs")
      o.hogs = std::atoi(next().c_str());
    else {
      std::cerr << "usage: bench_takeover [--runs N] [--mode kill|stop|both] [--smoke] | "
                   "--false-takeovers --minutes M [--hogs H]\n";
      std::exit(2);
    }
  }
  if (o.smoke) o.runs = 2;
  return o;
}

void print_figures(const char* what, const std::vector<double>& ms, double target) {
  if (ms.empty()) return;
  std::printf("%-8s runs %zu: p50 %.0f ms, p99 %.0f ms, max %.0f ms (min %.0f) — target %s\n", what,
              ms.size(), quantile(ms, 0.5), quantile(ms, 0.99),
              *std::max_element(ms.begin(), ms.end()), *std::min_element(ms.begin(), ms.end()),
              target > 0 ? ("p99 under " + std::to_string(static_cast<int>(target)) + " ms").c_str()
                         : "-");
}

} // namespace

int main(int argc, char** argv) {
  options o = parse(argc, argv);
  std::string binary = TANDEM_BINARY_PATH;
  print_machine(binary);
  server_process sims[2];
  for (auto& s : sims)
    if (!s.start({binary, "sim", "--port", "0", "--rate-ms", "100"})) return 1;
  scratch_dir dir;
  uint16_t link_m = pick_port(), link_b = pick_port();
  auto config = [&](const std::string& role, uint16_t listen, uint16_t partner) {
    return "[face]\nlisten = \"127.0.0.1:" + std::to_string(pick_port()) +
           "\"\n[redundancy]\nrole = \"" + role +
           "\"\nlisten = \"127.0.0.1:" + std::to_string(listen) +
           "\"\npartner = \"127.0.0.1:" + std::to_string(partner) +
           "\"\nping_interval_ms = 100\nping_timeout_ms = 320\nmissed_pings = 3\n"
           "connection_wait_ms = 1500\nsplit_brain = \"master_wins\"\n[[pair]]\nalias = "
           "\"line1\"\nmode = \"warm\"\n"
           "primary = \"opc.tcp://127.0.0.1:" +
           std::to_string(sims[0].port()) +
           "/sim\"\nsecondary = \"opc.tcp://127.0.0.1:" + std::to_string(sims[1].port()) +
           "/sim\"\n";
  };
  redundant_node master(dir, binary, "bench-master", config("master", link_m, link_b));
  redundant_node backup(dir, binary, "bench-backup", config("backup", link_b, link_m));
  // Partner links are TLS: each node trusts the other's certificate before the first start
  // (tandem cert, docs/PKI.md).
  std::string pre_trust =
      "set -e; B=" + binary + "; D=" + dir.path() +
      "; $B cert -c $D/bench-master.toml >/dev/null; $B cert -c "
      "$D/bench-backup.toml >/dev/null; $B cert -c $D/bench-master.toml "
      "--trust $D/data-bench-backup/pki/own/certs/*.der >/dev/null; $B cert "
      "-c $D/bench-backup.toml --trust $D/data-bench-master/pki/own/certs/*.der "
      ">/dev/null";
  if (std::system(pre_trust.c_str()) != 0) {
    std::cerr << "cannot pre-trust the nodes' certificates with tandem cert\n";
    return 1;
  }
  if (!master.start() || !backup.start()) return 1;
  auto settled = [&] {
    return wait_until([&] { return master.state() == "Running" && backup.state() == "Standby"; },
                      30s);
  };
  if (!settled()) {
    std::cerr << "the nodes did not settle: master " << master.state() << ", backup "
              << backup.state() << "\n"
              << master.stderr_text() << backup.stderr_text();
    return 1;
  }
  std::printf("Method: master and backup on loopback, heartbeats 100 ms, ping_timeout 320 ms, "
              "3 missed pings, split_brain master_wins; each node serves a warm pair over two "
              "tandem sim servers (its "
              "face port answers the death probe). Figure: backup's `takeover` event time minus "
              "the wall clock just before the signal.\n");

  if (o.false_takeovers) {
    int hogs = o.hogs > 0 ? o.hogs : static_cast<int>(std::thread::hardware_concurrency()) + 1;
    std::vector<pid_t> pids;
    for (int i = 0; i < hogs; ++i) {
      pid_t p = ::fork();
      if (p == 0) {
        ::setpriority(PRIO_PROCESS, 0, 0); // the same priority as the nodes
        volatile uint64_t x = 0;
        for (;;)
          x = x + 1;
      }
      pids.push_back(p);
    }
    int64_t since = wall_ms();
    std::printf("False takeovers: %d busy processes for %.1f minutes (load %s)\n", hogs, o.minutes,
                load_average().c_str());
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::duration<double>(o.minutes * 60));
    std::string load = load_average();
    for (pid_t p : pids)
      ::kill(p, SIGKILL);
    for (pid_t p : pids)
      ::waitpid(p, nullptr, 0);
    size_t takeovers =
        backup.count_events({"takeover"}, since) + master.count_events({"takeover"}, since);
    size_t changes = backup.count_events({"node_running", "node_standby", "takeover"}, since) +
                     master.count_events({"node_running", "node_standby", "takeover"}, since);
    size_t lost =
        backup.count_events({"partner_lost"}, since) + master.count_events({"partner_lost"}, since);
    std::printf("false takeovers: %zu, state changes: %zu, partner_lost: %zu (load at the end "
                "%s) — target 0\n",
                takeovers, changes, lost, load.c_str());
    return takeovers == 0 ? 0 : 1;
  }

  std::vector<double> kill_ms, stop_ms;
  for (int run = 0; run < o.runs; ++run) {
    if (o.mode == "kill" || o.mode == "both") {
      int64_t t0 = wall_ms();
      master.kill9();
      int64_t at = -1;
      wait_until([&] { return (at = backup.event_time("takeover", t0)) >= 0; }, 10s);
      if (at < 0) {
        std::cerr << "run " << run << ": no takeover after kill -9\n";
        return 1;
      }
      kill_ms.push_back(static_cast<double>(at - t0));
      nlohmann::json recent = o.verbose ? backup.console("events 12") : nlohmann::json();
      if (o.verbose)
        for (auto& e : recent["events"])
          std::printf("  %s %s %s\n", e.value("time", "").c_str(), e.value("kind", "").c_str(),
                      e.value("text", "").c_str());
      master.start();
      if (!settled()) {
        std::cerr << "run " << run << ": the master did not take its role back\n"
                  << master.stderr_text();
        return 1;
      }
      nlohmann::json mine = o.verbose ? master.console("events 30") : nlohmann::json();
      if (o.verbose)
        for (auto& e : mine["events"])
          std::printf("  master %s %s %s\n", e.value("time", "").c_str(),
                      e.value("kind", "").c_str(), e.value("text", "").c_str());
    }
    if (o.mode == "stop" || o.mode == "both") {
      int64_t t0 = wall_ms();
      master.signal(SIGSTOP);
      int64_t at = -1;
      wait_until([&] { return (at = backup.event_time("takeover", t0)) >= 0; }, 10s);
      master.signal(SIGCONT);
      if (at < 0) {
        std::cerr << "run " << run << ": no takeover after SIGSTOP\n";
        return 1;
      }
      stop_ms.push_back(static_cast<double>(at - t0));
      // The split brain resolves to the master (it ran longer); the backup stands by again.
      if (!settled()) {
        std::cerr << "run " << run << ": the split brain did not resolve\n"
                  << "master: " << master.console("node").dump() << "\n"
                  << master.console("events 25").dump(1)
                  << "\nbackup: " << backup.console("node").dump() << "\n"
                  << backup.console("events 25").dump(1) << "\n";
        return 1;
      }
    }
  }
  print_figures("kill -9", kill_ms, 50);
  print_figures("SIGSTOP", stop_ms, 340);
  return 0;
}
