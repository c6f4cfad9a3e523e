/// Parsing and validation of a node's TOML configuration (schema: config.hpp, docs/CONFIG.md).
///
/// The validator never stops at the first problem: every section is read with the same small
/// reader (`section`), which reports unknown keys, wrong types and out-of-range values and keeps
/// the default for anything it rejects, so later checks still run. Cross-key checks (timeouts,
/// duplicate aliases, port clashes, path lengths) run after all sections have been read.

#include "config/config.hpp"

#include "config/password.hpp"
#include "config/toml_reader.hpp"

#include <openssl/evp.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tandem::config {

namespace {

using namespace detail;

/// An IPv4 or IPv6 address literal (no host names: the link binds to one interface's address).
bool is_ip_address(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// -- the sections -------------------------------------------------------------------------------

struct reader {
  checker& c;
  fs::path base; ///< directory relative paths are resolved against
  node_config cfg;

  void read(const toml::table& root) {
    section top(
        c, &root, "",
        {"node", "face", "redundancy", "pair", "diagnostics", "notifications", "http", "debug"});
    read_node(top.table("node"));
    read_face(top.table("face"));
    read_redundancy(top.table("redundancy"));
    read_pairs(top);
    read_diagnostics(top.table("diagnostics"));
    read_notifications(top.table("notifications"));
    read_http(top.table("http"));
    read_debug(top.table("debug"));
    check_ports();
    resolve();
  }

  void read_node(const toml::table* t) {
    section s(c, t, "node", {"name", "data_dir", "console_socket", "console_group", "comment"});
    auto& n = cfg.node;
    if (!s.has("name")) {
      c.error(s.position(), "node.name",
              "is required: give the node a name of " + std::string(name_rule));
    } else if (s.str("name", n.name)) {
      check_name(c, s, "name", n.name);
    }
    if (s.str("data_dir", n.data_dir) && n.data_dir.empty())
      c.error(s.where("data_dir"), "node.data_dir", "must not be empty");
    s.str("console_socket", n.console_socket);
    if (s.str("console_group", n.console_group) && n.console_group.empty())
      c.error(s.where("console_group"), "node.console_group",
              "must not be empty: leave it out for an owner-only console socket");
    s.str("comment", n.comment);
  }

  void read_face(const toml::table* t) {
    section s(c, t, "face", {"listen", "application_uri", "anonymous", "user"});
    auto& f = cfg.face;
    s.host_port("listen", f.listen, false);
    s.str("application_uri", f.application_uri);
    s.boolean("anonymous", f.anonymous);
    std::map<std::string, std::string> seen;
    for (auto& [ut, upath] : s.tables("user")) {
      section u(c, ut, upath, {"name", "password_hash"});
      user_entry e;
      require(c, u, "name", ": the user name clients log in with");
      require(c, u, "password_hash", ": make one with `tandem passwd`");
      if (u.str("name", e.name)) {
        if (e.name.empty() || e.name.size() > 256) {
          c.error(u.where("name"), u.path("name"), "must be 1 to 256 characters");
        } else if (auto [it, fresh] = seen.emplace(e.name, upath); !fresh) {
          c.error(u.where("name"), u.path("name"),
                  "duplicate user " + quote(e.name) + ": " + it->second + " already defines it");
        }
      }
      if (u.str("password_hash", e.password_hash)) {
        std::string why;
        if (e.password_hash.empty())
          c.error(u.where("password_hash"), u.path("password_hash"),
                  "must not be empty: make one with `tandem passwd`");
        else if (!parse_password_hash(e.password_hash, why))
          c.error(u.where("password_hash"), u.path("password_hash"),
                  why + "; make one with `tandem passwd` (never put the password itself here)");
      }
      f.users.push_back(std::move(e));
    }
    if (!f.anonymous && f.users.empty())
      c.warning(s.where("anonymous"), "face.anonymous",
                "anonymous logins are off and there is no [[face.user]]: no client can log in");
  }

  void read_redundancy(const toml::table* t) {
    section s(c, t, "redundancy",
              {"role", "listen", "partner", "link_bind", "ping_interval_ms", "ping_timeout_ms",
               "missed_pings", "connection_wait_ms", "recovery", "standby", "split_brain",
               "history_retention_ms"});
    auto& r = cfg.redundancy;
    s.choice<role>(
        "role", r.node_role,
        {{"independent", role::independent}, {"master", role::master}, {"backup", role::backup}});
    s.host_port("listen", r.listen, false);
    s.optional_host_port("partner", r.partner);
    if (s.str("link_bind", r.link_bind) && !r.link_bind.empty() && !is_ip_address(r.link_bind)) {
      c.error(s.where("link_bind"), "redundancy.link_bind",
              quote(r.link_bind) +
                  " is not an IP address: give the address of this machine's interface the "
                  "link should use (e.g. 10.1.0.5 or fe80::1), without a port, or \"\" for any");
      r.link_bind.clear();
    }
    // "ok" below: not rejected (absent keys keep their valid defaults).
    bool interval_ok = s.integer("ping_interval_ms", r.ping_interval_ms, 1, max_duration_ms) ||
                       !s.has("ping_interval_ms");
    bool timeout_ok = s.integer("ping_timeout_ms", r.ping_timeout_ms, 1, max_duration_ms) ||
                      !s.has("ping_timeout_ms");
    s.integer("missed_pings", r.missed_pings, 1, max_missed_pings);
    s.integer("connection_wait_ms", r.connection_wait_ms, 0, max_duration_ms);
    s.choice<recovery_mode>(
        "recovery", r.recovery,
        {{"automatic", recovery_mode::automatic}, {"manual", recovery_mode::manual}});
    s.choice<standby_mode>("standby", r.standby,
                           {{"cold", standby_mode::cold}, {"warm", standby_mode::warm}});
    s.choice<split_brain_policy>("split_brain", r.split_brain,
                                 {{"longest_running", split_brain_policy::longest_running},
                                  {"master_wins", split_brain_policy::master_wins}});
    s.integer("history_retention_ms", r.history_retention_ms, 1, max_retention_ms);

    if (interval_ok && timeout_ok && r.ping_timeout_ms <= r.ping_interval_ms) {
      c.error(s.where(s.has("ping_timeout_ms") ? "ping_timeout_ms" : "ping_interval_ms"),
              s.has("ping_timeout_ms") ? "redundancy.ping_timeout_ms"
                                       : "redundancy.ping_interval_ms",
              "ping_timeout_ms (" + std::to_string(r.ping_timeout_ms) +
                  ") must exceed ping_interval_ms (" + std::to_string(r.ping_interval_ms) +
                  "): a partner would be declared lost between two heartbeats");
    }

    bool paired = r.node_role != role::independent;
    const char* role_word = to_string(r.node_role);
    if (paired && !s.has("partner")) {
      c.error(s.where("role"), "redundancy.partner",
              std::string("is required when role is '") + role_word +
                  "': the host:port of the partner node's redundancy.listen");
    } else if (auto* pn = s.find("partner");
               paired && pn && pn->is_string() && pn->as_string()->get().empty()) {
      c.error(s.where("partner"), "redundancy.partner",
              std::string("must not be empty when role is '") + role_word +
                  "': the host:port of the partner node's redundancy.listen");
    }
    if (paired && r.partner && is_loopback_host(r.partner->host)) {
      c.warning(s.where("partner"), "redundancy.partner",
                quote(r.partner->host) +
                    " is this machine: a partner on the same host gives no protection "
                    "against a machine failure, and when two nodes share this file each "
                    "node would dial itself; use the partner machine's address");
    }
    if (!paired && r.partner && s.has("partner")) {
      c.warning(s.where("partner"), "redundancy.partner",
                "is ignored because role is 'independent'");
    }
    if (paired && is_loopback_host(r.listen.host)) {
      c.warning(s.where("listen"), "redundancy.listen",
                quote(r.listen.host) +
                    " is a loopback address: a partner on another machine cannot connect");
    }
  }

  void read_pairs(section& top) {
    std::map<std::string, std::string> aliases; // lower-case alias -> key path that defined it
    bool paired = cfg.redundancy.node_role != role::independent;
    for (auto& [pt, ppath] : top.tables("pair")) {
      section s(c, pt, ppath,
                {"alias", "primary", "secondary", "user", "password_file", "mode",
                 "return_to_primary", "return_settle_ms", "status_interval_ms", "status_timeout_ms",
                 "min_service_level", "publishing_ms", "primary_wait_ms", "unused_item_linger_ms",
                 "history", "comment", "monitor"});
      pair_section p;
      require(c, s, "alias", ": a name of " + std::string(name_rule));
      if (s.str("alias", p.alias)) {
        check_name(c, s, "alias", p.alias);
        if (auto [it, fresh] = aliases.emplace(lower(p.alias), s.path("alias")); !fresh)
          c.error(s.where("alias"), s.path("alias"),
                  "duplicate alias " + quote(p.alias) + ": " + it->second +
                      " already uses it (aliases are compared ignoring case)");
      }
      url_parts primary_url, secondary_url;
      bool primary_ok = url(s, "primary", p.primary, primary_url);
      bool secondary_ok = url(s, "secondary", p.secondary, secondary_url);
      if (primary_ok && secondary_ok && primary_url.host == secondary_url.host &&
          primary_url.port == secondary_url.port && primary_url.path == secondary_url.path) {
        c.error(s.where("secondary"), s.path("secondary"),
                "is the same server as primary (" + p.primary +
                    "): a pair needs two different servers");
      }
      if (paired) {
        for (auto* key : {"primary", "secondary"}) {
          auto& u = std::string_view(key) == "primary" ? primary_url : secondary_url;
          bool ok = std::string_view(key) == "primary" ? primary_ok : secondary_ok;
          if (ok && is_loopback_host(u.host))
            c.warning(s.where(key), s.path(key),
                      quote(u.host) +
                          " means a different machine on each node: both nodes read this "
                          "pair, so the master and the backup would each talk to a server on "
                          "their own host; use an address both nodes reach");
        }
      }
      s.str("user", p.user);
      if (s.str("password_file", p.password_file) && !p.password_file.empty())
        p.password_file = resolve_path(base, p.password_file);
      s.choice<pair_mode>(
          "mode", p.mode,
          {{"cold", pair_mode::cold}, {"warm", pair_mode::warm}, {"hot", pair_mode::hot}});
      s.boolean("return_to_primary", p.return_to_primary);
      s.integer("return_settle_ms", p.return_settle_ms, 0, max_duration_ms);
      bool interval_ok =
          s.integer("status_interval_ms", p.status_interval_ms, 1, max_duration_ms) ||
          !s.has("status_interval_ms");
      bool timeout_ok = s.integer("status_timeout_ms", p.status_timeout_ms, 1, max_duration_ms) ||
                        !s.has("status_timeout_ms");
      if (interval_ok && timeout_ok && p.status_timeout_ms > p.status_interval_ms) {
        bool t_given = s.has("status_timeout_ms");
        c.error(s.where(t_given ? "status_timeout_ms" : "status_interval_ms"),
                s.path(t_given ? "status_timeout_ms" : "status_interval_ms"),
                "status_timeout_ms (" + std::to_string(p.status_timeout_ms) +
                    ") must not exceed status_interval_ms (" +
                    std::to_string(p.status_interval_ms) + ")");
      }
      s.integer("min_service_level", p.min_service_level, 0, 255);
      s.integer("publishing_ms", p.publishing_ms, 10, 60000);
      s.integer("primary_wait_ms", p.primary_wait_ms, 0, 600000);
      s.integer("unused_item_linger_ms", p.unused_item_linger_ms, 0, 86400000);
      s.boolean("history", p.history);
      s.str("comment", p.comment);
      for (auto& [mt, mpath] : s.tables("monitor"))
        p.monitors.push_back(read_monitor(mt, mpath));
      cfg.pairs.push_back(std::move(p));
    }
  }

  bool url(section& s, std::string_view key, std::string& out, url_parts& parts) {
    require(c, s, key, ": an opc.tcp://host:port[/path] URL");
    if (!s.str(key, out)) return false;
    std::string why = parse_opc_url(out, parts);
    if (why.empty()) return true;
    c.error(s.where(key), s.path(key),
            quote(out) + " is not an opc.tcp://host:port[/path] URL: " + why);
    return false;
  }

  monitor_entry read_monitor(const toml::table* t, const std::string& mpath) {
    section s(c, t, mpath, {"item", "condition", "stale_ms", "value"});
    monitor_entry m;
    require(c, s, "item", ": the NodeId to watch, e.g. ns=2;s=PLC1.Heartbeat");
    if (s.str("item", m.item)) {
      std::string why = check_node_id(m.item);
      if (!why.empty())
        c.error(s.where("item"), s.path("item"), quote(m.item) + " is not a NodeId: " + why);
    }
    bool cond_ok = s.choice<monitor_condition>("condition", m.condition,
                                               {{"stale", monitor_condition::stale},
                                                {"equals", monitor_condition::equals},
                                                {"above", monitor_condition::above},
                                                {"below", monitor_condition::below},
                                                {"bad_quality", monitor_condition::bad_quality}});
    s.integer("stale_ms", m.stale_ms, 1, max_duration_ms);
    s.number("value", m.value);
    bool needs_value = m.condition == monitor_condition::equals ||
                       m.condition == monitor_condition::above ||
                       m.condition == monitor_condition::below;
    if (cond_ok && needs_value && !s.has("value")) {
      c.error(s.where("condition"), s.path("value"),
              std::string("is required when condition is '") + to_string(m.condition) +
                  "': the value that means unhealthy");
    } else if (!needs_value && s.has("value")) {
      c.warning(s.where("value"), s.path("value"),
                std::string("is ignored when condition is '") + to_string(m.condition) + "'");
    }
    return m;
  }

  void read_diagnostics(const toml::table* t) {
    section s(c, t, "diagnostics", {"max_events"});
    s.integer("max_events", cfg.diagnostics.max_events, 1, max_events_limit);
  }

  static bool valid_env_name(const std::string& v) {
    if (v.empty() || (v[0] >= '0' && v[0] <= '9')) return false;
    return std::all_of(v.begin(), v.end(), [](char ch) {
      return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
             ch == '_';
    });
  }

  void read_notifications(const toml::table* t) {
    section s(c, t, "notifications",
              {"smtp_url", "from", "username", "password_file", "password_env", "batch_ms",
               "min_interval_ms", "ca_file", "recipient"});
    auto& n = cfg.notifications;
    if (s.str("smtp_url", n.smtp_url) && !n.smtp_url.empty()) {
      std::string why = check_smtp_url(n.smtp_url);
      if (!why.empty())
        c.error(s.where("smtp_url"), "notifications.smtp_url",
                quote(n.smtp_url) + " is not an smtp:// or smtps:// URL: " + why);
    }
    if (s.str("from", n.from) && !valid_mailbox(n.from))
      c.error(s.where("from"), "notifications.from",
              quote(n.from) + " is not a mail address (name@domain)");
    s.str("username", n.username);
    if (s.str("password_file", n.password_file) && !n.password_file.empty())
      n.password_file = resolve_path(base, n.password_file);
    if (s.str("ca_file", n.ca_file) && !n.ca_file.empty())
      n.ca_file = resolve_path(base, n.ca_file);
    s.str("password_env", n.password_env);
    if (!n.password_env.empty() && !valid_env_name(n.password_env))
      c.error(s.where("password_env"), "notifications.password_env",
              quote(n.password_env) +
                  " is not an environment variable name (letters, digits and _, not starting "
                  "with a digit): name the variable that holds the password, not the password");
    if (!n.password_file.empty() && !n.password_env.empty())
      c.error(s.where("password_env"), "notifications.password_env",
              "password_file and password_env are both set: use one of them");
    else if (!n.username.empty() && n.password_file.empty() && n.password_env.empty())
      c.warning(s.where("username"), "notifications.username",
                "is set but neither password_file nor password_env is: the SMTP login is tried "
                "with an empty password");
    else if (n.username.empty() && (!n.password_file.empty() || !n.password_env.empty()))
      c.warning(s.where(n.password_file.empty() ? "password_env" : "password_file"),
                n.password_file.empty() ? "notifications.password_env"
                                        : "notifications.password_file",
                "is set but notifications.username is empty, so no login is made and the "
                "password is not used");
    s.integer("batch_ms", n.batch_ms, 0, max_duration_ms);
    s.integer("min_interval_ms", n.min_interval_ms, 0, max_duration_ms);

    std::set<std::string> aliases;
    for (auto& p : cfg.pairs)
      aliases.insert(p.alias);
    std::vector<std::string_view> alias_words(aliases.begin(), aliases.end());
    for (auto& [rt, rpath] : s.tables("recipient")) {
      section r(c, rt, rpath, {"address", "kinds", "min_severity", "pairs"});
      recipient_entry e;
      require(c, r, "address", ": the mail address to send to");
      if (r.str("address", e.address) && !valid_email(e.address))
        c.error(r.where("address"), r.path("address"),
                quote(e.address) + " is not a mail address (name@domain)");
      r.strings("kinds", e.kinds);
      r.choice<severity>("min_severity", e.min_severity,
                         {{"info", severity::info},
                          {"warning", severity::warning},
                          {"error", severity::error},
                          {"critical", severity::critical}});
      if (r.strings("pairs", e.pairs)) {
        auto* arr = r.find("pairs")->as_array();
        for (size_t i = 0; i < e.pairs.size(); ++i) {
          if (aliases.count(e.pairs[i])) continue;
          c.error(at(arr->get(i)->source()), r.path("pairs") + "[" + std::to_string(i) + "]",
                  "no pair has the alias " + quote(e.pairs[i]) +
                      did_you_mean(e.pairs[i], alias_words));
        }
      }
      n.recipients.push_back(std::move(e));
    }
    if (n.smtp_url.empty() && !n.recipients.empty())
      c.warning(c.where("notifications.recipient"), "notifications.smtp_url",
                "is empty, so notifications are off and the recipients get no mail");
  }

  void read_http(const toml::table* t) {
    section s(c, t, "http", {"listen"});
    s.optional_host_port("listen", cfg.http.listen);
  }

  void read_debug(const toml::table* t) {
    section s(c, t, "debug", {"fault_injection"});
    s.boolean("fault_injection", cfg.debug.fault_injection);
  }

  /// face.listen, redundancy.listen (unless independent) and http.listen must not collide.
  void check_ports() {
    std::vector<std::pair<std::string, endpoint>> eps;
    eps.emplace_back("face.listen", cfg.face.listen);
    if (cfg.redundancy.node_role != role::independent)
      eps.emplace_back("redundancy.listen", cfg.redundancy.listen);
    if (cfg.http.listen) eps.emplace_back("http.listen", *cfg.http.listen);
    for (size_t i = 0; i < eps.size(); ++i) {
      for (size_t j = i + 1; j < eps.size(); ++j) {
        auto& [ka, a] = eps[i];
        auto& [kb, b] = eps[j];
        if (a.port != b.port || !hosts_overlap(a.host, b.host)) continue;
        // Report at whichever of the two was written later in the file.
        pos pa = c.where(ka), pb = c.where(kb);
        bool b_later = std::make_pair(pb.line, pb.column) >= std::make_pair(pa.line, pa.column);
        auto& [kr, er] = b_later ? eps[j] : eps[i];
        auto& [ko, eo] = b_later ? eps[i] : eps[j];
        c.error(b_later ? pb : pa, kr,
                "port " + std::to_string(er.port) + " clashes with " + ko + " (" + eo.text() +
                    "): both would listen on the same port of the same address");
      }
    }
  }

  void resolve() {
    auto& n = cfg.node;
    if (n.data_dir.empty()) n.data_dir = "tandem-data";
    n.data_dir = resolve_path(base, n.data_dir);
    bool explicit_socket = !n.console_socket.empty();
    n.console_socket = explicit_socket ? resolve_path(base, n.console_socket)
                                       : (fs::path(n.data_dir) / "console.sock").string();
    if (n.console_socket.size() > max_unix_socket_path) {
      c.error(c.where(explicit_socket ? "node.console_socket" : "node.data_dir"),
              "node.console_socket",
              "the console socket path " + quote(n.console_socket) + " is " +
                  std::to_string(n.console_socket.size()) +
                  " bytes; a Unix socket path holds at most 107: set node.console_socket to a "
                  "shorter path" +
                  (explicit_socket ? "" : " (it defaults to <data_dir>/console.sock)"));
    }
    if (cfg.face.application_uri.empty()) cfg.face.application_uri = "urn:tandem:" + n.name;
  }
};

load_result parse_checked(const std::string& text, const std::string& file) {
  load_result result;
  checker c(file);
  toml::table root;
  if (!parse_toml(c, text, file, root)) {
    result.problems = c.take();
    return result;
  }

  reader r{c, {}, {}};
  r.base = base_directory(file, &r.cfg.source_path);
  r.read(root);

  if (c.errors() == 0) result.config = std::move(r.cfg);
  result.problems = c.take();
  return result;
}

// -- canonical shared text ----------------------------------------------------------------------

std::string canon(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    unsigned char u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string canon(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i)
    out += (i ? "," : "") + canon(v[i]);
  return out + "]";
}

std::string canon(double d) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  return buf;
}

} // namespace

// -- public API ---------------------------------------------------------------------------------

std::string problem::text() const {
  std::string out = file.empty() ? "<config>" : file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  out += lvl == level::error ? ": error: " : ": warning: ";
  if (!key_path.empty()) out += key_path + ": ";
  return out + message;
}

size_t load_result::error_count() const {
  return static_cast<size_t>(std::count_if(problems.begin(), problems.end(),
                                           [](auto& p) { return p.lvl == problem::level::error; }));
}

size_t load_result::warning_count() const {
  return static_cast<size_t>(std::count_if(
      problems.begin(), problems.end(), [](auto& p) { return p.lvl == problem::level::warning; }));
}

load_result parse(const std::string& text, const std::string& file) {
  auto internal = [&](const std::string& what) {
    load_result r;
    problem p;
    p.file = file;
    p.message = "internal error while reading the configuration: " + what;
    r.problems.push_back(std::move(p));
    return r;
  };
  try {
    return parse_checked(text, file);
  } catch (const std::exception& e) {
    return internal(e.what());
  } catch (...) {
    return internal("unknown exception");
  }
}

load_result load_file(const std::string& path) {
  std::string text;
  std::string why = read_config_file(path, text);
  if (why.empty()) return parse(text, path);
  load_result r;
  problem p;
  p.file = path;
  p.message = "cannot read the configuration file: " + why;
  r.problems.push_back(std::move(p));
  return r;
}

bool valid_mail_address(const std::string& s) {
  return detail::valid_email(s);
}

const char* to_string(role r) {
  switch (r) {
  case role::independent:
    return "independent";
  case role::master:
    return "master";
  case role::backup:
    return "backup";
  }
  return "?";
}

const char* to_string(pair_mode m) {
  switch (m) {
  case pair_mode::cold:
    return "cold";
  case pair_mode::warm:
    return "warm";
  case pair_mode::hot:
    return "hot";
  }
  return "?";
}

const char* to_string(monitor_condition c) {
  switch (c) {
  case monitor_condition::stale:
    return "stale";
  case monitor_condition::equals:
    return "equals";
  case monitor_condition::above:
    return "above";
  case monitor_condition::below:
    return "below";
  case monitor_condition::bad_quality:
    return "bad_quality";
  }
  return "?";
}

const char* to_string(recovery_mode r) {
  switch (r) {
  case recovery_mode::automatic:
    return "automatic";
  case recovery_mode::manual:
    return "manual";
  }
  return "?";
}

const char* to_string(standby_mode s) {
  switch (s) {
  case standby_mode::cold:
    return "cold";
  case standby_mode::warm:
    return "warm";
  }
  return "?";
}

const char* to_string(split_brain_policy s) {
  switch (s) {
  case split_brain_policy::longest_running:
    return "longest_running";
  case split_brain_policy::master_wins:
    return "master_wins";
  }
  return "?";
}

std::string shared_canonical_text(const node_config& cfg) {
  std::ostringstream out;
  out << "tandem-shared-config 1\n";
  auto& r = cfg.redundancy;
  out << "redundancy.ping_interval_ms=" << r.ping_interval_ms << "\n"
      << "redundancy.ping_timeout_ms=" << r.ping_timeout_ms << "\n"
      << "redundancy.missed_pings=" << r.missed_pings << "\n"
      << "redundancy.connection_wait_ms=" << r.connection_wait_ms << "\n"
      << "redundancy.recovery=" << to_string(r.recovery) << "\n"
      << "redundancy.standby=" << to_string(r.standby) << "\n"
      << "redundancy.split_brain=" << to_string(r.split_brain) << "\n"
      << "redundancy.history_retention_ms=" << r.history_retention_ms << "\n";
  // Pairs by alias: the order they are written in does not change what the nodes serve.
  std::vector<const pair_section*> pairs;
  for (auto& p : cfg.pairs)
    pairs.push_back(&p);
  std::stable_sort(pairs.begin(), pairs.end(),
                   [](auto* a, auto* b) { return a->alias < b->alias; });
  for (auto* p : pairs) {
    std::string k = "pair[" + canon(p->alias) + "].";
    out << k << "primary=" << canon(p->primary) << "\n"
        << k << "secondary=" << canon(p->secondary) << "\n"
        << k << "user=" << canon(p->user) << "\n"
        << k << "mode=" << to_string(p->mode) << "\n"
        << k << "return_to_primary=" << (p->return_to_primary ? "true" : "false") << "\n"
        << k << "return_settle_ms=" << p->return_settle_ms << "\n"
        << k << "status_interval_ms=" << p->status_interval_ms << "\n"
        << k << "status_timeout_ms=" << p->status_timeout_ms << "\n"
        << k << "min_service_level=" << p->min_service_level << "\n"
        << k << "publishing_ms=" << p->publishing_ms << "\n"
        << k << "primary_wait_ms=" << p->primary_wait_ms << "\n"
        << k << "unused_item_linger_ms=" << p->unused_item_linger_ms << "\n";
    // Only when off: configurations that record (all of them before the key existed) keep
    // their fingerprint, so a partner on the previous release still matches.
    if (!p->history) out << k << "history=false\n";
    for (size_t i = 0; i < p->monitors.size(); ++i) {
      auto& m = p->monitors[i];
      std::string mk = k + "monitor[" + std::to_string(i) + "].";
      out << mk << "item=" << canon(m.item) << "\n"
          << mk << "condition=" << to_string(m.condition) << "\n"
          << mk << "stale_ms=" << m.stale_ms << "\n"
          << mk << "value=" << (m.value ? canon(*m.value) : std::string("none")) << "\n";
    }
  }
  out << "diagnostics.max_events=" << cfg.diagnostics.max_events << "\n";
  auto& n = cfg.notifications;
  out << "notifications.smtp_url=" << canon(n.smtp_url) << "\n"
      << "notifications.from=" << canon(n.from) << "\n"
      << "notifications.username=" << canon(n.username) << "\n"
      << "notifications.batch_ms=" << n.batch_ms << "\n"
      << "notifications.min_interval_ms=" << n.min_interval_ms << "\n";
  for (size_t i = 0; i < n.recipients.size(); ++i) {
    auto& e = n.recipients[i];
    std::string k = "notifications.recipient[" + std::to_string(i) + "].";
    out << k << "address=" << canon(e.address) << "\n"
        << k << "kinds=" << canon(e.kinds) << "\n"
        << k << "min_severity=" << to_string(e.min_severity) << "\n"
        << k << "pairs=" << canon(e.pairs) << "\n";
  }
  return out.str();
}

std::string shared_digest(const node_config& cfg) {
  std::string text = shared_canonical_text(cfg);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr) != 1) return {};
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 0xf];
  }
  return out;
}

std::vector<std::string> canonical_differences(const std::string& a, const std::string& b) {
  // One `key=value` per line; values never hold a newline (canon() escapes them).
  auto entries = [](const std::string& text) {
    std::vector<std::pair<std::string, std::string>> out;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string::npos) end = text.size();
      std::string line = text.substr(pos, end - pos);
      pos = end + 1;
      if (line.empty()) continue;
      size_t eq = line.find('=');
      if (eq == std::string::npos)
        out.emplace_back("format", line); // the header line
      else
        out.emplace_back(line.substr(0, eq), line.substr(eq + 1));
    }
    return out;
  };
  auto ea = entries(a), eb = entries(b);
  std::map<std::string, std::string> mb(eb.begin(), eb.end());
  std::map<std::string, std::string> ma(ea.begin(), ea.end());
  std::vector<std::string> out;
  for (const auto& [k, v] : ea) {
    auto it = mb.find(k);
    if (it == mb.end() || it->second != v) out.push_back(k);
  }
  for (const auto& [k, v] : eb)
    if (ma.count(k) == 0) out.push_back(k);
  return out;
}

} // namespace tandem::config
