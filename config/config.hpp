#pragma once
/// Typed node configuration: the schema of ../shared/design/CONFIG.md (documented in
/// docs/CONFIG.md), parsed from TOML and validated. Every key has a default but node.name.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "messages/event.hpp"

namespace tandem::config {

/// host:port as written in the config.
struct endpoint {
  std::string host;
  uint16_t port = 0;
  std::string text() const { return host + ":" + std::to_string(port); }
};

struct user_entry {
  std::string name;
  std::string password_hash; ///< salted hash from `tandem passwd`
};

struct node_section {
  std::string name;
  std::string data_dir = "tandem-data"; ///< resolved: absolute, relative to the config file
  std::string console_socket;           ///< resolved: default <data_dir>/console.sock
  std::string console_group; ///< "" = owner only (0600); else this group may use it too (0660)
  std::string comment;
};

struct face_section {
  endpoint listen{"127.0.0.1", 4840};
  std::string application_uri; ///< resolved: default urn:tandem:<node.name>
  bool anonymous = true;
  std::vector<user_entry> users;
};

enum class role { independent, master, backup };
enum class recovery_mode { automatic, manual };
enum class standby_mode { cold, warm };
enum class split_brain_policy { longest_running, master_wins };

struct redundancy_section {
  role node_role = role::independent;
  endpoint listen{"0.0.0.0", 8099};
  std::optional<endpoint> partner;
  std::string link_bind; ///< local address the link dials from; "" = any (node-local)
  int64_t ping_interval_ms = 1000;
  int64_t ping_timeout_ms = 3000;
  int64_t missed_pings = 3;
  int64_t connection_wait_ms = 10000;
  recovery_mode recovery = recovery_mode::automatic;
  standby_mode standby = standby_mode::warm;
  split_brain_policy split_brain = split_brain_policy::longest_running;
  int64_t history_retention_ms = 604800000;
};

enum class pair_mode { cold, warm, hot };
enum class monitor_condition { stale, equals, above, below, bad_quality };

struct monitor_entry {
  std::string item; ///< NodeId text, e.g. ns=2;s=PLC1.Heartbeat
  monitor_condition condition = monitor_condition::stale;
  int64_t stale_ms = 5000;
  std::optional<double> value; ///< equals / above / below (booleans read as 0/1)
};

struct pair_section {
  std::string alias;
  std::string primary;   ///< opc.tcp:// URL
  std::string secondary; ///< opc.tcp:// URL
  std::string user;
  std::string password_file; ///< resolved relative to the config file
  pair_mode mode = pair_mode::warm;
  bool return_to_primary = true;
  int64_t return_settle_ms = 10000;
  int64_t status_interval_ms = 1000;
  int64_t status_timeout_ms = 1000;
  int64_t min_service_level = 1;
  int64_t publishing_ms = 20; ///< publishing interval of Tandem's subscriptions on the servers
  /// At start, how long the secondary waits for the primary's first connection attempt (a
  /// failed attempt ends the wait at once); never shorter than status_timeout_ms.
  int64_t primary_wait_ms = 3000;
  /// An item no client watches any more is removed from the servers after this long (a client
  /// that comes back meanwhile finds it still subscribed); 0: items are never removed.
  int64_t unused_item_linger_ms = 60000;
  /// Record the values of this pair's client and monitor items in the node's item history.
  bool history = true;
  std::string comment;
  std::vector<monitor_entry> monitors;
};

struct diagnostics_section {
  int64_t max_events = 10000;
};

/// Event severities are the diagnostics log's own (messages/event.hpp).
using severity = ::tandem::severity;

struct recipient_entry {
  std::string address;
  std::vector<std::string> kinds;
  severity min_severity = severity::warning;
  std::vector<std::string> pairs;
};

struct notifications_section {
  std::string smtp_url;
  std::string from = "tandem@localhost";
  std::string username;
  std::string password_file;
  std::string password_env;
  int64_t batch_ms = 5000;
  int64_t min_interval_ms = 60000;
  std::string ca_file; ///< PEM CAs for the SMTP server's certificate ("" = system store)
  std::vector<recipient_entry> recipients;
};

struct http_section {
  std::optional<endpoint> listen; ///< empty = off
};

struct debug_section {
  bool fault_injection = false;
};

/// A whole node configuration.
struct node_config {
  std::string source_path; ///< the file it came from (absolute), empty for embedded text
  node_section node;
  face_section face;
  redundancy_section redundancy;
  std::vector<pair_section> pairs;
  diagnostics_section diagnostics;
  notifications_section notifications;
  http_section http;
  debug_section debug;
};

/// One problem found in a config: where, which key, what.
struct problem {
  enum class level { error, warning };
  level lvl = level::error;
  std::string file;
  int line = 0;         ///< 1-based; 0 when unknown
  int column = 0;       ///< 1-based; 0 when unknown
  std::string key_path; ///< e.g. pair[1].monitor[0].stale_ms
  std::string message;
  /// "file:line:column: error: key: message"
  std::string text() const;
};

/// The outcome of loading: a config when there are no errors, and every problem found.
struct load_result {
  std::optional<node_config> config;
  std::vector<problem> problems;
  bool ok() const { return config.has_value(); }
  size_t error_count() const;
  size_t warning_count() const;
};

/// Parses and validates TOML text. `file` names the source in messages and is the base for
/// relative paths (its directory); pass an empty name for text that has no file.
load_result parse(const std::string& text, const std::string& file);

/// Reads and parses a file; a missing or unreadable file is one error.
load_result load_file(const std::string& path);

/// Whether `s` is a mail address as [[notifications.recipient]] address accepts it (name@domain).
bool valid_mail_address(const std::string& s);

/// Names used in output (console, status): "independent", "warm", "stale"...
const char* to_string(role r);
const char* to_string(pair_mode m);
const char* to_string(monitor_condition c);
const char* to_string(recovery_mode r);
const char* to_string(standby_mode s);
const char* to_string(split_brain_policy s);
inline std::optional<severity> severity_from_string(const std::string& s) {
  return parse_severity(s);
}

/// A stable digest (hex SHA-256) of the settings two partner nodes must share; used by the
/// configuration-match check. Node-local keys (name, data_dir, listen addresses) are left out.
std::string shared_digest(const node_config& cfg);

/// The canonical text shared_digest hashes, one `key=value` per line (passwords and node-local
/// keys left out); show a line diff of two nodes' texts when their digests differ.
std::string shared_canonical_text(const node_config& cfg);

/// The key paths (`pair[line1].mode`, `redundancy.recovery`, …) whose values differ between two
/// canonical texts, or that only one of them has, in the order of `a` then those only in `b`.
/// The header line counts as the key path `format` (a partner of another Tandem version).
std::vector<std::string> canonical_differences(const std::string& a, const std::string& b);

} // namespace tandem::config
