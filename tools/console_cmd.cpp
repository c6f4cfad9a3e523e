// `tandem console`: interactive (line editing, history) or one-shot (`-e CMD`) operator console.

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <unistd.h>

#include <editline/readline.h>
#include <nlohmann/json.hpp>

#include "actors/console.hpp"
#include "config/config.hpp"
#include "tools/commands.hpp"
#include "transports/console/client.hpp"

namespace tandem::tools {

namespace {

std::atomic<bool> interrupted{false};

void on_sigint(int) {
  interrupted = true;
}

bool is_follow(const std::string& line) {
  std::vector<std::string> w;
  std::string err;
  if (!split_command(line, w, err) || w.empty() || w[0] != "events") return false;
  for (auto& x : w)
    if (x == "--follow" || x == "-f") return true;
  return false;
}

/// Prints one reply; returns false when it was an error.
bool print_reply(const std::string& cmd, const std::string& line, bool json) {
  bool is_error = false;
  auto doc = nlohmann::json::parse(line, nullptr, false);
  if (!doc.is_discarded() && doc.is_object() && doc.contains("error") && !doc["error"].is_null())
    is_error = true; // {"ok": true, "error": null} (notify test) is a success
  if (json) {
    (is_error ? std::cerr : std::cout) << line << std::endl;
  } else if (is_error) {
    std::cerr << "error: " << (doc["error"].is_string() ? doc["error"].get<std::string>() : line)
              << std::endl;
  } else {
    std::cout << render_text(cmd, line) << std::flush;
  }
  return !is_error;
}

/// Runs one command on an open connection. Returns 0 on success, 1 on an error reply or a lost
/// connection.
int run_one(transports::console_client& c, const std::string& line, const console_options& o) {
  std::string err;
  if (!c.send_line(line, err)) {
    std::cerr << "tandem console: " << err << "\n";
    return exit_usage;
  }
  std::vector<std::string> words;
  split_command(line, words, err);
  std::string cmd = words.empty() ? "" : words[0];
  if (!is_follow(line)) {
    // `notify test` answers after a whole SMTP exchange (up to 40 s on a slow server).
    int wait_ms = cmd == "notify" ? std::max(o.timeout_ms, 60000) : o.timeout_ms;
    auto reply = c.read_line(wait_ms, err);
    if (!reply) {
      std::cerr << "tandem console: " << err << "\n";
      return exit_usage;
    }
    return print_reply(cmd, *reply, o.json) ? exit_ok : exit_usage;
  }
  // Following: print until the node closes the connection or the operator presses Ctrl-C.
  interrupted = false;
  bool first = true;
  for (;;) {
    auto reply = c.read_line(200, err);
    if (interrupted) return exit_ok;
    if (!reply) {
      if (err.rfind("the node did not answer", 0) == 0) continue; // poll timeout: keep waiting
      std::cerr << "tandem console: " << err << "\n";
      return first ? exit_usage : exit_ok;
    }
    if (!print_reply(cmd, *reply, o.json)) return exit_usage;
    first = false;
  }
}

std::string history_path() {
  const char* home = std::getenv("HOME");
  return home ? std::string(home) + "/.tandem_history" : std::string();
}

} // namespace

int run_console(const console_options& o) {
  std::string socket = o.socket_path;
  if (socket.empty()) {
    auto res = config::load_file(o.config_path);
    if (!res.ok()) {
      for (auto& p : res.problems)
        if (p.lvl == config::problem::level::error) std::cerr << p.text() << "\n";
      std::cerr << "tandem console: cannot find the console socket: " << o.config_path
                << " is not a valid node config\n";
      return exit_bad_config;
    }
    socket = res.config->node.console_socket;
  }
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  transports::console_client client;
  std::string err;
  if (!client.connect(socket, err)) {
    std::cerr << "tandem console: " << err << "\n";
    return exit_usage;
  }
  if (!o.command.empty()) return run_one(client, o.command, o);

  // Interactive.
  // History is kept for people at a terminal, not for scripts piping commands in.
  auto hist = isatty(STDIN_FILENO) ? history_path() : std::string();
  using_history();
  if (!hist.empty()) read_history(hist.c_str());
  std::cout << "Tandem console on " << socket << "; 'help' lists commands, Ctrl-D leaves.\n";
  for (;;) {
    interrupted = false;
    char* raw = readline("tandem> ");
    if (!raw) break;
    std::string line(raw);
    std::free(raw);
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (line == "quit" || line == "exit") break;
    add_history(line.c_str());
    if (!hist.empty()) write_history(hist.c_str());
    run_one(client, line, o);
    if (is_follow(line)) {
      // The node keeps following on that connection: start a fresh one for the next command.
      if (!client.connect(socket, err)) {
        std::cerr << "tandem console: " << err << "\n";
        return exit_usage;
      }
    }
  }
  std::cout << "\n";
  return exit_ok;
}

} // namespace tandem::tools
