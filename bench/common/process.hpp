#pragma once
/// Shared by the benchmarks that start real processes: spawning and stopping a server process
/// on loopback (`tandem sim` or the node-opcua test server), /proc readings (CPU time, RSS,
/// machine busy time), the machine description printed with every figure, and small text and
/// time helpers.

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

/// Starts argv (argv[0] looked up in PATH) with stdin /dev/null and stdout/stderr in these files
/// (appended to, or truncated first); 0 when it cannot be started.
inline pid_t spawn_process(const std::vector<std::string>& argv, const std::string& out,
                           const std::string& err, bool append = false) {
  int mode = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), mode, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), mode, 0644);
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    std::cerr << "cannot start " << argv[0] << "\n";
    return 0;
  }
  return pid;
}

/// Stops a child: SIGCONT (it may be stopped) and SIGTERM, then SIGKILL after `grace`; reaps it.
inline void stop_process(pid_t pid, std::chrono::seconds grace) {
  if (pid <= 0) return;
  ::kill(pid, SIGCONT);
  ::kill(pid, SIGTERM);
  int st = 0;
  auto t0 = steady::now();
  while (::waitpid(pid, &st, WNOHANG) == 0) {
    if (steady::now() - t0 > grace) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &st, 0);
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
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
    pid_ = spawn_process(argv, out_, err_);
    if (pid_ == 0) return false;
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
    stop_process(pid_, 10s);
    pid_ = 0;
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

} // namespace tandem::bench
