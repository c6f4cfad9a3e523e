// `tandem sim`: an OPC UA simulation server (transports/opcua/sim) until SIGINT/SIGTERM.
//
// stdout: `namespace 1 <uri>`, `endpoint <url>`, `ready <port>` once listening (the same lines
// as the node-opcua test server, so harnesses drive both alike), then one `ok ...` / `error ...`
// line per stdin command:
//   service_level V | state NAME | bad PATH [StatusName] | good PATH | freeze PATH | thaw PATH
//   | stop

#include <atomic>
#include <csignal>
#include <future>
#include <iostream>
#include <sstream>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include "config/sim_config.hpp"
#include "tools/commands.hpp"
#include "transports/opcua/sim/simulation.hpp"

namespace tandem::tools {

namespace {

std::optional<opcua::ServerState> server_state_from_name(const std::string& s) {
  using opcua::ServerState;
  static const std::pair<const char*, ServerState> names[] = {
      {"Running", ServerState::Running},
      {"Failed", ServerState::Failed},
      {"NoConfiguration", ServerState::NoConfiguration},
      {"Suspended", ServerState::Suspended},
      {"Shutdown", ServerState::Shutdown},
      {"Test", ServerState::Test},
      {"CommunicationFault", ServerState::CommunicationFault},
      {"Unknown", ServerState::Unknown}};
  for (auto& [n, st] : names)
    if (s == n) return st;
  return std::nullopt;
}

/// One stdin command; the reply line. `stop` is set by "stop".
std::string control(opcua::simulation& sim, const std::string& line, bool& stop) {
  std::istringstream in(line);
  std::string cmd, arg, extra;
  in >> cmd >> arg;
  std::getline(in >> std::ws, extra);
  if (cmd.empty()) return "";
  if (cmd == "stop") {
    stop = true;
    return "ok stop";
  }
  if (cmd == "service_level") {
    try {
      size_t used = 0;
      int v = std::stoi(arg, &used);
      if (used != arg.size() || v < 0 || v > 255) throw std::out_of_range("range");
      sim.space()->set_service_level(static_cast<uint8_t>(v));
      return "ok service_level " + arg;
    } catch (const std::exception&) {
      return "error service_level needs an integer from 0 to 255, got \"" + arg + "\"";
    }
  }
  if (cmd == "state") {
    auto st = server_state_from_name(arg);
    if (!st)
      return "error state needs Running, Failed, NoConfiguration, Suspended, Shutdown, Test, "
             "CommunicationFault or Unknown, got \"" +
             arg + "\"";
    sim.space()->set_server_state(*st);
    return "ok state " + arg;
  }
  if (cmd == "bad" || cmd == "good" || cmd == "freeze" || cmd == "thaw") {
    if (arg.empty()) return "error " + cmd + " needs a variable path such as Sim.Counter";
    bool found = false;
    if (cmd == "bad") {
      opcua::StatusCode sc = opcua::status::Bad;
      if (!extra.empty() && !opcua::status_from_name(extra, sc))
        return "error unknown status code \"" + extra + "\"";
      if (!sc.is_bad()) return "error \"" + extra + "\" is not a Bad status code";
      found = sim.force_status(arg, sc);
    } else if (cmd == "good") {
      found = sim.force_status(arg, std::nullopt);
    } else {
      found = sim.freeze(arg, cmd == "freeze");
    }
    if (!found) return "error no variable ns=1;s=" + arg;
    return "ok " + cmd + " " + arg;
  }
  return "error unknown command \"" + cmd +
         "\"; known: service_level, state, bad, good, freeze, thaw, stop";
}

} // namespace

int run_sim(const sim_options& opts) {
  config::sim_config cfg;
  if (!opts.config_path.empty()) {
    auto loaded = config::load_sim_file(opts.config_path);
    for (const auto& p : loaded.problems)
      std::cerr << p.text() << "\n";
    if (!loaded.ok()) return exit_bad_config;
    cfg = std::move(*loaded.config);
  } else {
    cfg = config::default_sim_config(opts.items, opts.rate_ms);
  }
  if (!opts.listen.empty()) {
    auto colon = opts.listen.rfind(':');
    if (colon == std::string::npos) {
      std::cerr << "tandem sim: --listen needs HOST:PORT, got " << opts.listen << "\n";
      return exit_usage;
    }
    cfg.listen.host = opts.listen.substr(0, colon);
    if (cfg.listen.host.size() > 2 && cfg.listen.host.front() == '[')
      cfg.listen.host = cfg.listen.host.substr(1, cfg.listen.host.size() - 2);
    try {
      int port = std::stoi(opts.listen.substr(colon + 1));
      if (port < 0 || port > 65535) throw std::out_of_range("port");
      cfg.listen.port = static_cast<uint16_t>(port);
    } catch (const std::exception&) {
      std::cerr << "tandem sim: --listen has no valid port: " << opts.listen << "\n";
      return exit_usage;
    }
  }
  if (opts.port >= 0) cfg.listen.port = static_cast<uint16_t>(opts.port);
  if (opts.path) cfg.path = *opts.path;
  if (!cfg.path.empty() && cfg.path.front() != '/') cfg.path.insert(cfg.path.begin(), '/');

  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  opcua::simulation sim(io, cfg);
  auto port = sim.start();
  if (!port) {
    std::cerr << "tandem sim: cannot start: " << port.error().reason << "\n";
    return exit_startup;
  }
  std::string host = cfg.listen.host.find(':') != std::string::npos ? "[" + cfg.listen.host + "]"
                                                                    : cfg.listen.host;
  std::cout << "namespace 1 " << cfg.application_uri << "\n"
            << "endpoint opc.tcp://" << host << ":" << *port << cfg.path << "\n"
            << "ready " << *port << std::endl;
  std::cerr << "tandem sim: " << sim.variable_count() << " variables at opc.tcp://" << host << ":"
            << *port << cfg.path << " (Ctrl-C stops)\n";

  std::promise<void> stop_requested;
  std::atomic<bool> stopping{false};
  auto request_stop = [&] {
    if (!stopping.exchange(true)) stop_requested.set_value();
  };
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) request_stop();
  });
  unsigned threads = static_cast<unsigned>(std::max(1, opts.threads));
  std::vector<std::thread> pool;
  for (unsigned i = 0; i < threads; ++i)
    pool.emplace_back([&io] { io.run(); });

  // Commands from stdin; end of input only stops the reader.
  std::thread reader([&] {
    std::string line;
    while (!stopping && std::getline(std::cin, line)) {
      bool stop = false;
      std::string reply = control(sim, line, stop);
      if (!reply.empty()) std::cout << reply << std::endl;
      if (stop) request_stop();
    }
  });
  reader.detach(); // std::getline cannot be interrupted; the process exits anyway

  stop_requested.get_future().wait();
  sim.stop();
  signals.cancel();
  work.reset();
  io.stop();
  for (auto& t : pool)
    t.join();
  std::cerr << "tandem sim: stopped after " << sim.updates() << " generated changes\n";
  return exit_ok;
}

} // namespace tandem::tools
