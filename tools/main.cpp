// The `tandem` executable: one binary, one subcommand per job.

#include <iostream>

#include <malloc.h>

#include <CLI/CLI.hpp>

#include "tools/commands.hpp"

int main(int argc, char** argv) {
  // Memory is returned to the system after bursts: buffers of 256 KiB and more (a publishing
  // cycle's notifications, a tick's batch of values) are mapped and unmapped, where glibc would
  // otherwise raise its threshold after the first free and keep them in the heap for good; and
  // two arenas instead of one per thread keep freed memory reusable by every thread.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  mallopt(M_ARENA_MAX, 2);
  using namespace tandem::tools;
  CLI::App app{"Tandem: redundancy runtime for OPC UA servers and nodes"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("tandem ") + TANDEM_VERSION);

  std::string node_config;
  auto* node = app.add_subcommand("node", "Run a node from its TOML configuration");
  node->add_option("-c,--config", node_config, "the node's configuration file")->required();

  std::string check_config;
  bool quiet = false;
  auto* check = app.add_subcommand("check", "Validate a configuration file and list every problem");
  check->add_option("file", check_config, "configuration file")->required();
  check->add_flag("-q,--quiet", quiet, "print only problems");

  console_options copts;
  auto* con = app.add_subcommand("console", "Operator console of a running node");
  auto* c_opt =
      con->add_option("-c,--config", copts.config_path, "find the socket from this node config");
  auto* s_opt = con->add_option("--socket", copts.socket_path, "the node's console socket");
  c_opt->excludes(s_opt);
  con->add_option("-e,--execute", copts.command, "run one command and exit (for scripts)");
  con->add_flag("--json", copts.json, "print one JSON document per reply");
  con->add_option("--timeout-ms", copts.timeout_ms, "how long to wait for a reply")
      ->check(CLI::Range(1, 3'600'000));

  ua_options uopts;
  auto* ua = app.add_subcommand("ua", "Inspect any OPC UA server with Tandem's client");
  ua->add_option("action", uopts.action, "endpoints | read | write | browse | watch")
      ->required()
      ->check(CLI::IsMember({"endpoints", "read", "write", "browse", "watch"}));
  ua->add_option("url", uopts.url, "opc.tcp://host:port/path")->required();
  ua->add_option("nodes", uopts.nodes, "NodeIds (write: NODE VALUE)");
  ua->add_option("--user", uopts.user, "log in with this user name (default anonymous)");
  ua->add_option("--password", uopts.password, "password for --user");
  ua->add_option("--type", uopts.type, "write: the value's built-in type (default: the node's)");
  ua->add_option("--depth", uopts.depth, "browse: levels below the start node")
      ->check(CLI::Range(1, 64));
  ua->add_option("--interval-ms", uopts.interval_ms, "watch: sampling and publishing interval")
      ->check(CLI::Range(1, 3'600'000));
  ua->add_option("--count", uopts.count, "watch: stop after this many values");
  ua->add_option("--seconds", uopts.seconds, "watch: stop after this many seconds");
  ua->add_option("--timeout-ms", uopts.timeout_ms, "connect and request timeout")
      ->check(CLI::Range(1, 3'600'000));
  ua->add_flag("--json", uopts.json, "one JSON document per line");

  sim_options sopts;
  std::string sim_path;
  auto* sim =
      app.add_subcommand("sim", "Run an OPC UA simulation server (address space from TOML)");
  sim->add_option("-c,--config", sopts.config_path,
                  "address space file (docs/SIM.md); default: built-in");
  auto* sim_listen =
      sim->add_option("--listen", sopts.listen, "HOST:PORT to listen on (overrides the file)");
  sim->add_option("--port", sopts.port,
                  "port to listen on (0: any free port; printed as `ready PORT`)")
      ->check(CLI::Range(0, 65535))
      ->excludes(sim_listen);
  auto* sim_path_opt = sim->add_option("--path", sim_path, "endpoint URL path (default /sim)");
  sim->add_option("--items", sopts.items, "built-in address space: number of Sim.ItemNNNN counters")
      ->check(CLI::Range(0, 2000000));
  sim->add_option("--rate-ms", sopts.rate_ms, "built-in address space: generator tick")
      ->check(CLI::Range(1, 86400000));
  sim->add_option("--threads", sopts.threads, "I/O threads (default 2)")->check(CLI::Range(1, 64));

  passwd_options popts;
  auto* passwd = app.add_subcommand(
      "passwd", "Make the salted hash of a face user's password (for [[face.user]] password_hash)");
  passwd->add_option("--user", popts.user, "print a whole [[face.user]] table for this name");
  passwd->add_option("--iterations", popts.iterations, "PBKDF2 iterations (default 200000)")
      ->check(CLI::Range(10'000, 100'000'000));

  cert_options certopts;
  auto* cert = app.add_subcommand(
      "cert", "Show this node's partner-link certificate (made when missing); --trust a partner's");
  cert->add_option("-c,--config", certopts.config_path, "the node's configuration file")
      ->required();
  cert->add_option("--trust", certopts.trust,
                   "a partner's certificate file (DER or PEM) to trust; may repeat");
  cert->add_flag("--json", certopts.json, "print one JSON document");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? exit_ok : exit_usage;
  }
  if (node->parsed()) return run_node(node_config);
  if (check->parsed()) return run_check(check_config, quiet);
  if (cert->parsed()) return run_cert(certopts);
  if (ua->parsed()) return run_ua(uopts);
  if (passwd->parsed()) return run_passwd(popts);
  if (sim->parsed()) {
    if (*sim_path_opt) sopts.path = sim_path;
    return run_sim(sopts);
  }
  if (con->parsed()) {
    if (copts.config_path.empty() && copts.socket_path.empty()) {
      std::cerr << "tandem console: name the node with -c CONFIG or --socket PATH\n";
      return exit_usage;
    }
    return run_console(copts);
  }
  return exit_usage;
}
