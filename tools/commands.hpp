#pragma once
/// The `tandem` executable's subcommands. Exit codes (README "Exit codes"):
/// 0 success / clean stop, 1 usage or command error, 2 invalid configuration,
/// 3 start-up failure (data directory, storage, console socket), 4 forced stop by a second signal,
/// 5 the node stopped because of an internal failure.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tandem::tools {

enum exit_code : int {
  exit_ok = 0,
  exit_usage = 1,
  exit_bad_config = 2,
  exit_startup = 3,
  exit_forced = 4,
  exit_failure = 5,
};

int run_node(const std::string& config_path);
int run_check(const std::string& config_path, bool quiet);

struct console_options {
  std::string config_path;
  std::string socket_path;
  std::string command; ///< empty: interactive
  bool json = false;
  int timeout_ms = 15000;
};
int run_console(const console_options& opts);

struct ua_options {
  std::string action; ///< endpoints | read | write | browse | watch
  std::string url;
  std::vector<std::string> nodes; ///< NodeIds (and, for write, the value last)
  std::string user, password;
  std::string type;      ///< write: the value's type (default: the node's current type)
  int depth = 3;         ///< browse
  int interval_ms = 500; ///< watch: publishing and sampling interval
  int64_t count = 0;     ///< watch: stop after this many values (0 = run until Ctrl-C)
  int seconds = 0;       ///< watch: stop after this long (0 = run until Ctrl-C)
  int timeout_ms = 5000;
  bool json = false;
};
int run_ua(const ua_options& opts);

struct sim_options {
  std::string config_path; ///< empty: the built-in address space
  std::string listen;      ///< HOST:PORT overriding the config's
  int port = -1;           ///< overrides the port only (0: any free port)
  std::optional<std::string> path;
  int64_t items = 100;    ///< built-in address space: number of Sim.ItemNNNN counters
  int64_t rate_ms = 1000; ///< built-in address space: tick of every generator
  int threads = 2;
};
int run_sim(const sim_options& opts);

struct passwd_options {
  std::string user; ///< print a whole [[face.user]] table for this name
  uint32_t iterations = 200'000;
};
int run_passwd(const passwd_options& opts);

struct cert_options {
  std::string config_path;
  std::vector<std::string> trust; ///< certificate files to put in trusted/
  bool json = false;
};
/// This node's partner-link certificate (created when missing), optionally trusting others.
int run_cert(const cert_options& opts);

/// Renders a console reply document as text for people.
std::string render_text(const std::string& command, const std::string& json_line);

} // namespace tandem::tools
