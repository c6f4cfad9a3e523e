#pragma once
/// Helpers shared by the config tests: texts and problem lookups.

#include "config/config.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tandem::config::test {

/// The smallest valid configuration.
inline const std::string minimal = "[node]\nname = \"n1\"\n";

/// A configuration that sets every key (line numbers are referred to by tests: keep them).
inline const std::string full = R"([node]
name = "plant-a"
data_dir = "/var/lib/tandem"
console_socket = "/run/tandem/console.sock"
comment = "rack 3"

[face]
listen = "10.0.0.20:4841"
application_uri = "urn:example:face"
anonymous = false

  [[face.user]]
  name = "op1"
  password_hash = "$pbkdf2-sha256$10000$G3bZjUxXGP4M6agC4bII1A==$PMTkQvdnmAubMYGgeljV38s8DfFKOxD04uBgCA8GYXU="

  [[face.user]]
  name = "op2"
  password_hash = "$pbkdf2-sha256$10000$kXoRYFsJUa18yG20c9ZW6A==$Ql2gRQ7haNoR6zqt9KFZkt29q4BeUpmldJ44JAVnpPg="

[redundancy]
role = "master"
listen = "10.0.0.20:8100"
partner = "10.0.0.21:8100"
ping_interval_ms = 250
ping_timeout_ms = 1000
missed_pings = 5
connection_wait_ms = 20000
recovery = "manual"
standby = "cold"
split_brain = "master_wins"
history_retention_ms = 86400000

[[pair]]
alias = "line1"
primary = "opc.tcp://10.0.0.10:4840/server"
secondary = "opc.tcp://10.0.0.11:4840/server"
user = "tandem"
password_file = "/etc/tandem/line1.pw"
mode = "hot"
return_to_primary = false
return_settle_ms = 2000
status_interval_ms = 500
status_timeout_ms = 400
min_service_level = 200
comment = "gateway pair"

  [[pair.monitor]]
  item = "ns=2;s=PLC1.Heartbeat"
  condition = "stale"
  stale_ms = 3000

  [[pair.monitor]]
  item = "ns=2;i=42"
  condition = "equals"
  value = true

  [[pair.monitor]]
  item = "i=2258"
  condition = "below"
  value = -1.5

[[pair]]
alias = "line2"
primary = "opc.tcp://[fe80::1]:4840"
secondary = "opc.tcp://scada-b.example:4840"

  [[pair.monitor]]
  item = "ns=1;g=72962B91-FA75-4AE6-8D28-B404DC7DAF63"
  condition = "bad_quality"

[diagnostics]
max_events = 123456

[notifications]
smtp_url = "smtps://mail.example:465"
from = "Tandem <tandem@example.com>"
username = "mailer"
password_file = "/etc/tandem/smtp.pw"
batch_ms = 1000
min_interval_ms = 30000

  [[notifications.recipient]]
  address = "ops@example.com"
  kinds = ["failover", "partner_lost"]
  min_severity = "error"
  pairs = ["line1"]

  [[notifications.recipient]]
  address = "all@example.com"

[http]
listen = "10.0.0.20:8080"

[debug]
fault_injection = true
)";

/// The first problem whose key path is `key`, or null.
inline const problem* find(const load_result& r, const std::string& key) {
  for (auto& p : r.problems)
    if (p.key_path == key) return &p;
  return nullptr;
}

/// Every problem's text, one per line, for failure messages.
inline std::string dump(const load_result& r) {
  std::string out;
  for (auto& p : r.problems)
    out += p.text() + "\n";
  return out;
}

/// The config with `extra` appended.
inline load_result with(const std::string& extra, const std::string& base = minimal) {
  return parse(base + extra, "t.toml");
}

} // namespace tandem::config::test
