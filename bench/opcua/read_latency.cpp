// Benchmark: Read round-trip latency against one node-opcua server, Tandem's client versus
// node-opcua's own client, side by side in one run.
//
// Method: start tests/interop/server.js on a free loopback port; Tandem's ua_client connects,
// reads ns=1;s=Sim.Counter `--warmup` times, then `--count` times one after another (each Read
// waits for its response), timing each with steady_clock. Then `node client.js latency` does
// the same with a stock node-opcua client (process.hrtime). Both report p50/p99/mean in µs.
//
// Usage: bench_opcua_read_latency [--count N] [--warmup N] [--smoke]
// Needs node and tests/interop/node_modules (tools/install-deps.sh).

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "transports/opcua/client/client.hpp"

#include "bench/common/port.hpp"

extern char** environ;

using namespace tandem::opcua;

namespace {

/// Runs a command, returns its stdout (blocking).
std::string capture(const std::string& cmd) {
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

struct stats {
  double p50 = 0, p99 = 0, mean = 0;
};

stats summarize(std::vector<double> us) {
  std::sort(us.begin(), us.end());
  stats s;
  s.p50 = us[us.size() / 2];
  s.p99 = us[std::min(us.size() - 1, us.size() * 99 / 100)];
  double sum = 0;
  for (double x : us)
    sum += x;
  s.mean = sum / static_cast<double>(us.size());
  return s;
}

} // namespace

int main(int argc, char** argv) {
  int count = 2000, warmup = 200;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--count" && i + 1 < argc)
      count = std::atoi(argv[++i]);
    else if (a == "--warmup" && i + 1 < argc)
      warmup = std::atoi(argv[++i]);
    else if (a == "--smoke")
      count = 50, warmup = 10;
    else {
      std::cerr << "usage: bench_opcua_read_latency [--count N] [--warmup N] [--smoke]\n";
      return 1;
    }
  }
  if (count <= 0 || warmup < 0) return 1;
  std::string interop = std::string(TANDEM_SOURCE_DIR) + "/tests/interop";
  auto port = tandem::bench::pick_port();
  std::string url = "opc.tcp://127.0.0.1:" + std::to_string(port) + "/sim";
  std::string port_s = std::to_string(port), script = interop + "/server.js";
  std::string log = "/tmp/tandem-bench-server-" + port_s + ".log";
  // The server's output goes to a log; it is ready when the log says so.
  std::string sh = "exec node '" + script + "' --port " + port_s + " --path /sim --items 10 > '" +
                   log + "' 2>&1";
  const char* args[] = {"/bin/sh", "-c", sh.c_str(), nullptr};
  pid_t server = 0;
  if (posix_spawn(&server, "/bin/sh", nullptr, nullptr, const_cast<char* const*>(args), environ) !=
      0) {
    std::cerr << "cannot start node\n";
    return 1;
  }
  bool ready = false;
  for (int i = 0; i < 600 && !ready; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ready = capture("cat '" + log + "'").find("ready ") != std::string::npos;
  }
  int rc = 0;
  if (!ready) {
    std::cerr << "node-opcua server did not start: " << capture("cat '" + log + "'") << "\n";
    rc = 1;
  }
  stats ours, theirs;
  if (rc == 0) {
    boost::asio::io_context io;
    auto work = boost::asio::make_work_guard(io);
    std::thread t([&] { io.run(); });
    client_options o;
    o.url = url;
    auto c = ua_client::create(io, o);
    std::promise<bool> connected;
    c->connect([&](const error* e) {
      if (e) std::cerr << "connect: " << e->reason << "\n";
      connected.set_value(e == nullptr);
    });
    if (!connected.get_future().get()) rc = 1;
    std::vector<double> us;
    for (int i = 0; rc == 0 && i < warmup + count; ++i) {
      ReadRequest r;
      ReadValueId v;
      v.node_id = *NodeId::parse("ns=1;s=Sim.Counter");
      r.nodes_to_read.push_back(v);
      std::promise<bool> done;
      auto t0 = std::chrono::steady_clock::now();
      c->call<ReadResponse>(std::move(r),
                            [&](result<ReadResponse> res) { done.set_value(res.ok()); });
      if (!done.get_future().get()) {
        std::cerr << "read failed\n";
        rc = 1;
      }
      auto t1 = std::chrono::steady_clock::now();
      if (i >= warmup) us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    std::promise<void> closed;
    c->disconnect([&] { closed.set_value(); });
    closed.get_future().wait_for(std::chrono::seconds(3));
    work.reset();
    io.stop();
    t.join();
    if (rc == 0) ours = summarize(us);
  }
  if (rc == 0) {
    auto out = capture("node '" + interop + "/client.js' latency '" + url +
                       "' 'ns=1;s=Sim.Counter' --count " + std::to_string(count) + " --warmup " +
                       std::to_string(warmup) + " 2>/dev/null");
    auto j = nlohmann::json::parse(out.substr(0, out.find('\n')), nullptr, false);
    if (j.is_discarded() || !j.contains("p50_us")) {
      std::cerr << "node-opcua client failed: " << out << "\n";
      rc = 1;
    } else {
      theirs.p50 = j["p50_us"];
      theirs.p99 = j["p99_us"];
      theirs.mean = j["mean_us"];
    }
  }
  ::kill(server, SIGTERM);
  int st = 0;
  ::waitpid(server, &st, 0);
  std::remove(log.c_str());
  if (rc != 0) return rc;
  std::printf("Read round trip against node-opcua 2.186.4 (%s), %d reads after %d warm-up\n",
              url.c_str(), count, warmup);
  std::printf("  %-22s p50 %8.1f us   p99 %8.1f us   mean %8.1f us\n", "Tandem client", ours.p50,
              ours.p99, ours.mean);
  std::printf("  %-22s p50 %8.1f us   p99 %8.1f us   mean %8.1f us\n", "node-opcua client",
              theirs.p50, theirs.p99, theirs.mean);
  std::printf("  ratio (node-opcua / Tandem) p50 %.2f, p99 %.2f\n", theirs.p50 / ours.p50,
              theirs.p99 / ours.p99);
  return 0;
}
