#pragma once
/// CONSOLE: executes operator commands (../shared/design/CONSOLE.md) that console connections
/// deliver as lines, and answers each with one JSON document. `events --follow` keeps sending
/// `{"event": …}` documents until the connection closes.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"
#include "transports/partner/pki.hpp"

namespace tandem {

struct console_config {
  bool fault_injection = false;
  node_actor node;
  diagnostics_actor diagnostics;
  caf::timespan request_timeout = std::chrono::seconds(10);
  /// The supervisor; the CONSOLE ends with it. Empty in tests that spawn it alone.
  caf::actor_addr parent;
  /// The partner link's certificates (certs, approve, reject, revoke); null: no partner link.
  std::shared_ptr<partner::pki_store> pki;
};

struct console_state {
  struct follower {
    std::shared_ptr<console_peer> peer;
    bool ready = false;               ///< the initial list has been sent
    uint64_t last_seq = 0;            ///< last event sent
    std::vector<diag_event> buffered; ///< events that arrived before the initial list
  };
  console_config cfg;
  std::map<uint64_t, follower> followers;
  bool subscribed = false;
  bool stalled = false;
  static inline const char* name = "console";
};

console_actor::behavior_type console(console_actor::stateful_pointer<console_state> self,
                                     console_config cfg);

/// Splits a command line into words; double quotes group words, backslash escapes inside them.
/// Returns false with `error` set for an unterminated quote.
bool split_command(const std::string& line, std::vector<std::string>& words, std::string& error);

/// Every command the console knows: name, usage, one-line help.
struct command_info {
  const char* name;
  const char* usage;
  const char* help;
};
const std::vector<command_info>& console_commands();

} // namespace tandem
