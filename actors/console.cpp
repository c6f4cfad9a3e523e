#include "actors/console.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <optional>
#include <utility>

#include "caf/skip.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/json.hpp"
#include "actors/supervision.hpp"

namespace tandem {

namespace {

// Commands of CONSOLE.md that later capabilities implement; until then they answer so.
const std::vector<std::string> coming_commands = {};

constexpr uint64_t default_events = 20;
constexpr uint64_t max_events_request = 1'000'000;
constexpr uint64_t default_history = 1000;
constexpr uint64_t max_history_request = 100'000;

} // namespace

const std::vector<command_info>& console_commands() {
  static const std::vector<command_info> cmds = {
      {"help", "help [CMD]", "lists the commands, or explains one"},
      {"status", "status", "one screen: this node, its partner and its pairs"},
      {"pairs", "pairs", "every redundant server pair with its servers' states"},
      {"events", "events [N] [--follow]",
       "the last N diagnostics events (default 20), oldest first; --follow keeps printing new "
       "ones"},
      {"switch", "switch ALIAS [primary|secondary] | switch",
       "manual failover of a pair (to the other server when none is named); the secondary stays "
       "pinned until you switch back or it fails. Without a pair: hands the Running role to the "
       "partner node (or asks for it) in a controlled handover"},
      {"node", "node",
       "this node and its partner: role, state, link, last heartbeat and its round-trip time, "
       "configuration match, accumulated Running time"},
      {"connect", "connect", "tries the partner link now"},
      {"maintenance", "maintenance on|off",
       "takes this node out of service (it hands over first if it is Running and never takes "
       "over) or back in"},
      {"verify", "verify [ALIAS]",
       "with a pair's alias: compares the address spaces of its two servers (namespaces, nodes, "
       "classes, names) and lists the differences; without: compares this node's shared "
       "configuration with the partner's and lists the key paths that differ"},
      {"history", "history ALIAS ITEM [--since T] [--limit N]",
       "recorded values of an item of pair ALIAS (its NodeId, e.g. ns=1;s=Sim.Counter), oldest "
       "first: from T on (RFC 3339 like 2026-11-22T16:00:00Z, or relative like -10m, -30s, "
       "-2h, -1d), else the newest N (default 1000)"},
      {"alarms", "alarms [--all]",
       "alarms that are active or not yet acknowledged (--all: also the acknowledged, cleared "
       "ones still kept)"},
      {"ack", "ack ID", "acknowledges alarm ID (as 'alarms' lists it)"},
      {"certs", "certs",
       "certificates of the partner link: this node's own, the trusted ones and the rejected ones "
       "(presented by a peer and refused), each with its SHA-1 thumbprint"},
      {"approve", "approve THUMBPRINT",
       "trusts a rejected certificate (moves it to trusted/) and tries the partner link now"},
      {"reject", "reject THUMBPRINT",
       "refuses a certificate for good (moves it to rejected/); drops the link at once if it is "
       "the connected partner's"},
      {"revoke", "revoke THUMBPRINT",
       "withdraws trust in a trusted certificate (moves it to rejected/) and drops the link at "
       "once if it is the connected partner's"},
      {"notify", "notify test [ADDRESS]",
       "sends a test mail now, to ADDRESS or to every [[notifications.recipient]], and says "
       "whether the SMTP server took it"},
      {"inject", "inject FAULT ...",
       "injects a fault (needs [debug] fault_injection = true); faults: drop_server ALIAS "
       "primary|secondary, stall_server ALIAS primary|secondary MS, drop_link, delay_link MS, "
       "stall_actor NAME MS, fail_storage_write [COUNT], fire_condition ALIAS INDEX"},
  };
  return cmds;
}

bool split_command(const std::string& line, std::vector<std::string>& words, std::string& error) {
  words.clear();
  std::string cur;
  bool in_word = false, quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '\\' && i + 1 < line.size()) {
        cur += line[++i];
      } else if (c == '"') {
        quoted = false;
      } else {
        cur += c;
      }
    } else if (c == '"') {
      quoted = true;
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      if (in_word) words.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (quoted) {
    error = "unterminated quote in command";
    return false;
  }
  if (in_word) words.push_back(std::move(cur));
  return true;
}

namespace {

using console_ptr = console_actor::stateful_pointer<console_state>;

void reply(const std::shared_ptr<console_peer>& peer, const nlohmann::json& j) {
  // Invalid UTF-8 from an operator's line must not throw: replace it.
  peer->send(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void reply_error(const std::shared_ptr<console_peer>& peer, const std::string& text) {
  reply(peer, error_json(text));
}

std::string caf_error_text(const caf::error& e) {
  if (e == caf::sec::request_timeout) return "the node did not answer in time";
  return "the node could not answer: " + caf::to_string(e);
}

void cmd_help(console_ptr self, const std::shared_ptr<console_peer>& peer,
              const std::vector<std::string>& w) {
  auto& cmds = console_commands();
  nlohmann::json list = nlohmann::json::array();
  if (w.size() > 2) return reply_error(peer, "usage: help [CMD]");
  for (auto& c : cmds)
    if (w.size() == 1 || w[1] == c.name)
      list.push_back({{"name", c.name}, {"usage", c.usage}, {"help", c.help}});
  if (list.empty()) return reply_error(peer, "no command '" + w[1] + "'; 'help' lists them");
  reply(peer, {{"commands", list}});
}

void cmd_status(console_ptr self, const std::shared_ptr<console_peer>& peer, bool pairs_only) {
  self->request(self->state.cfg.node, self->state.cfg.request_timeout, atom::status_v)
      .then(
          [peer, pairs_only](node_status& s) {
            auto j = to_json(s);
            if (pairs_only) j = {{"pairs", j["pairs"]}};
            reply(peer, j);
          },
          [peer](caf::error& e) { reply_error(peer, caf_error_text(e)); });
}

void send_event(console_state::follower& f, const diag_event& e) {
  if (e.seq <= f.last_seq) return;
  f.last_seq = e.seq;
  reply(f.peer, {{"event", to_json(e)}});
}

void cmd_events(console_ptr self, const std::shared_ptr<console_peer>& peer,
                const std::vector<std::string>& w) {
  uint64_t n = default_events;
  bool follow = false;
  bool have_n = false;
  for (size_t i = 1; i < w.size(); ++i) {
    if (w[i] == "--follow" || w[i] == "-f") {
      follow = true;
    } else if (!have_n && !w[i].empty() && w[i][0] != '-') {
      char* end = nullptr;
      errno = 0;
      unsigned long long v = std::strtoull(w[i].c_str(), &end, 10);
      if (*end != '\0' || errno != 0 || v == 0 || v > max_events_request || w[i][0] == '+')
        return reply_error(peer, "N must be a whole number from 1 to " +
                                     std::to_string(max_events_request) + ", not '" + w[i] +
                                     "'; usage: events [N] [--follow]");
      n = v;
      have_n = true;
    } else {
      return reply_error(peer, "unexpected '" + w[i] + "'; usage: events [N] [--follow]");
    }
  }
  auto& st = self->state;
  if (follow) {
    st.followers[peer->id()] = console_state::follower{peer, false, 0, {}};
    if (!st.subscribed) {
      st.subscribed = true;
      self->send(st.cfg.diagnostics, atom::subscribe_v,
                 caf::actor_cast<event_listener_actor>(self));
    }
  }
  auto id = peer->id();
  self->request(st.cfg.diagnostics, st.cfg.request_timeout, atom::events_v, n)
      .then(
          [self, peer, follow, id](std::vector<diag_event>& evs) {
            nlohmann::json list = nlohmann::json::array();
            for (auto& e : evs)
              list.push_back(to_json(e));
            reply(peer, {{"events", std::move(list)}});
            if (!follow) return;
            auto i = self->state.followers.find(id);
            if (i == self->state.followers.end()) return; // closed meanwhile
            auto& f = i->second;
            f.last_seq = evs.empty() ? 0 : evs.back().seq;
            f.ready = true;
            for (auto& e : f.buffered)
              send_event(f, e);
            f.buffered.clear();
          },
          [self, peer, id](caf::error& e) {
            self->state.followers.erase(id);
            reply_error(peer, caf_error_text(e));
          });
}

void cmd_inject(console_ptr self, const std::shared_ptr<console_peer>& peer,
                const std::vector<std::string>& w) {
  if (!self->state.cfg.fault_injection)
    return reply_error(peer, "fault injection is off on this node; set [debug] fault_injection = "
                             "true in its config to allow 'inject'");
  fault f;
  std::string err;
  if (!parse_fault(std::vector<std::string>(w.begin() + 1, w.end()), f, err))
    return reply_error(peer, err);
  self->request(self->state.cfg.node, self->state.cfg.request_timeout, f)
      .then(
          [peer](std::string& result) {
            if (result.empty())
              reply(peer, {{"ok", true}});
            else
              reply_error(peer, result);
          },
          [peer](caf::error& e) { reply_error(peer, caf_error_text(e)); });
}

/// A node command that answers "" or why not; when it went through, the reply is made from the
/// node's state after it (`node_info`).
template <class Atom, class Make>
void node_command(console_ptr self, const std::shared_ptr<console_peer>& peer, Atom what,
                  Make make) {
  auto node = self->state.cfg.node;
  auto timeout = self->state.cfg.request_timeout;
  self->request(node, timeout, what)
      .then(
          [self, peer, node, timeout, make](std::string& error) {
            if (!error.empty()) return reply_error(peer, error);
            self->request(node, timeout, atom::node_info_v)
                .then([peer, make](election_status& es) { reply(peer, make(es)); },
                      [peer](caf::error& e) { reply_error(peer, caf_error_text(e)); });
          },
          [peer](caf::error& e) { reply_error(peer, caf_error_text(e)); });
}

void cmd_switch(console_ptr self, const std::shared_ptr<console_peer>& peer,
                const std::vector<std::string>& w) {
  if (w.size() == 1) // the Running role between the two nodes
    return node_command(self, peer, atom::switch_to_v, [](const election_status& es) {
      return nlohmann::json{{"ok", true}, {"state", es.state}};
    });
  if (w.size() > 3) return reply_error(peer, "usage: switch ALIAS [primary|secondary]");
  std::string to = w.size() == 3 ? w[2] : "";
  if (!to.empty() && to != "primary" && to != "secondary")
    return reply_error(peer, "switch to 'primary' or 'secondary', not '" + to +
                                 "'; usage: switch ALIAS [primary|secondary]");
  std::string alias = w[1];
  self->request(self->state.cfg.node, self->state.cfg.request_timeout, atom::switch_to_v,
                std::move(alias), std::move(to))
      .then(
          [peer](switch_result& r) {
            if (r.ok)
              reply(peer, {{"ok", true}, {"active", r.active}});
            else
              reply_error(peer, r.error);
          },
          [peer](caf::error& e) { reply_error(peer, caf_error_text(e)); });
}

void cmd_node(console_ptr self, const std::shared_ptr<console_peer>& peer,
              const std::vector<std::string>& w) {
  if (w.size() != 1) return reply_error(peer, "usage: node (it takes no arguments)");
  auto timeout = self->state.cfg.request_timeout;
  auto node = self->state.cfg.node;
  self->request(node, timeout, atom::node_info_v)
      .then(
          [self, peer, node, timeout](election_status& es) {
            auto doc = std::make_shared<nlohmann::json>(to_json(es));
            if (es.role == "independent") return reply(peer, *doc);
            // SYNC answers for itself: `sync` of the partner (whether this node holds what the
            // partner recorded) and this node's sync details.
            self->request(node, timeout, atom::sync_v)
                .then(
                    [peer, doc](sync_status& s) {
                      add_sync(*doc, s);
                      reply(peer, *doc);
                    },
                    [peer, doc](caf::error&) { reply(peer, *doc); });
          },
          [peer](caf::error& e) { reply_error(peer, caf_error_text(e)); });
}

void cmd_maintenance(console_ptr self, const std::shared_ptr<console_peer>& peer,
                     const std::vector<std::string>& w) {
  if (w.size() != 2 || (w[1] != "on" && w[1] != "off"))
    return reply_error(peer, "usage: maintenance on|off");
  bool on = w[1] == "on";
  self->request(self->state.cfg.node, self->state.cfg.request_timeout, atom::maintenance_v, on)
      .then(
          [peer, on](std::string& error) {
            if (!error.empty()) return reply_error(peer, error);
            reply(peer, {{"ok", true}, {"maintenance", on}});
          },
          [peer](caf::error& e) { reply_error(peer, caf_error_text(e)); });
}

void cmd_connect(console_ptr self, const std::shared_ptr<console_peer>& peer,
                 const std::vector<std::string>& w) {
  if (w.size() != 1) return reply_error(peer, "usage: connect (it takes no arguments)");
  node_command(self, peer, atom::connect_v, [](const election_status& es) {
    return nlohmann::json{{"ok", es.link == "up"}, {"link", es.link}};
  });
}

void cmd_verify(console_ptr self, const std::shared_ptr<console_peer>& peer,
                const std::vector<std::string>& w) {
  if (w.size() == 1) { // this node's shared configuration against the partner's
    self->request(self->state.cfg.node, self->state.cfg.request_timeout, atom::verify_v)
        .then(
            [peer](verify_result& r) {
              if (!r.error.empty())
                return reply(peer, {{"config_match", "unknown"},
                                    {"differences", nlohmann::json::array()},
                                    {"note", r.error}});
              reply(peer, {{"config_match", r.identical ? "match" : "mismatch"},
                           {"differences", r.differences}});
            },
            [peer](caf::error& e) { reply_error(peer, caf_error_text(e)); });
    return;
  }
  if (w.size() != 2) return reply_error(peer, "usage: verify [ALIAS]");
  // Walking two large address spaces takes a while: a generous deadline.
  self->request(self->state.cfg.node, std::chrono::seconds(120), atom::verify_v, w[1])
      .then(
          [peer](verify_result& r) {
            if (!r.error.empty()) return reply_error(peer, r.error);
            reply(peer, {{"identical", r.identical}, {"differences", r.differences}});
          },
          [peer](caf::error& e) { reply_error(peer, caf_error_text(e)); });
}

void cmd_notify(console_ptr self, const std::shared_ptr<console_peer>& peer,
                const std::vector<std::string>& w) {
  if (w.size() < 2 || w.size() > 3 || w[1] != "test")
    return reply_error(peer, "usage: notify test [ADDRESS]");
  std::string address = w.size() == 3 ? w[2] : "";
  // One SMTP exchange: connecting, TLS and the server's replies take their time.
  self->request(self->state.cfg.node, std::chrono::seconds(90), atom::notify_test_v,
                std::move(address))
      .then(
          [peer](notify_test_result& r) {
            reply(peer, {{"ok", r.ok},
                         {"error", r.ok ? nlohmann::json(nullptr) : nlohmann::json(r.error)}});
          },
          [peer](caf::error& e) { reply_error(peer, caf_error_text(e)); });
}

// "-10m" -> -600000 (units ms, s, m, h, d); nullopt when it is not a relative time.
std::optional<int64_t> parse_relative(const std::string& t) {
  if (t.size() < 3 || t[0] != '-' || !std::isdigit(static_cast<unsigned char>(t[1])))
    return std::nullopt;
  size_t pos = 1;
  int64_t n = 0;
  while (pos < t.size() && std::isdigit(static_cast<unsigned char>(t[pos]))) {
    if (n > 1'000'000'000'000) return std::nullopt;
    n = n * 10 + (t[pos++] - '0');
  }
  std::string unit = t.substr(pos);
  int64_t scale = unit == "ms"  ? 1
                  : unit == "s" ? 1000
                  : unit == "m" ? 60'000
                  : unit == "h" ? 3'600'000
                  : unit == "d" ? 86'400'000
                                : 0;
  if (scale == 0 || n > int64_t{3650} * 86'400'000 / scale) return std::nullopt;
  return -n * scale;
}

void cmd_history(console_ptr self, const std::shared_ptr<console_peer>& peer,
                 const std::vector<std::string>& w) {
  const std::string usage = "usage: history ALIAS ITEM [--since T] [--limit N]";
  if (w.size() < 3) return reply_error(peer, usage);
  history_query q;
  q.pair = w[1];
  q.item = w[2];
  q.limit = default_history;
  for (size_t i = 3; i < w.size(); ++i) {
    if ((w[i] == "--since" || w[i] == "--limit") && i + 1 >= w.size())
      return reply_error(peer, w[i] + " needs a value; " + usage);
    if (w[i] == "--since") {
      const std::string& t = w[++i];
      if (auto rel = parse_relative(t)) {
        q.has_since = true;
        q.since_relative = true;
        q.since_ms = *rel;
      } else if (auto abs = parse_rfc3339(t)) {
        q.has_since = true;
        q.since_ms = *abs;
      } else {
        return reply_error(peer, "'" + t +
                                     "' is not a time: give RFC 3339 (2026-11-22T16:00:00Z, "
                                     "2026-11-22T17:00:00.5+01:00) or a relative time like "
                                     "-10m (units ms, s, m, h, d); " +
                                     usage);
      }
    } else if (w[i] == "--limit") {
      const std::string& v = w[++i];
      char* end = nullptr;
      errno = 0;
      unsigned long long n = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || errno != 0 || n == 0 || n > max_history_request ||
          v[0] == '+' || v[0] == '-')
        return reply_error(peer, "N must be a whole number from 1 to " +
                                     std::to_string(max_history_request) + ", not '" + v + "'; " +
                                     usage);
      q.limit = n;
    } else {
      return reply_error(peer, "unexpected '" + w[i] + "'; " + usage);
    }
  }
  self->request(self->state.cfg.node, self->state.cfg.request_timeout, std::move(q))
      .then(
          [peer](history_values& r) {
            if (!r.error.empty()) return reply_error(peer, r.error);
            nlohmann::json list = nlohmann::json::array();
            for (auto& row : r.rows)
              list.push_back(to_json(row));
            nlohmann::json j = {{"values", std::move(list)}, {"truncated", r.truncated}};
            if (!r.note.empty()) j["note"] = r.note;
            reply(peer, j);
          },
          [peer](caf::error& e) { reply_error(peer, caf_error_text(e)); });
}

void reply_alarms(const std::shared_ptr<console_peer>& peer, alarm_list& r, bool ack) {
  if (!r.error.empty()) return reply_error(peer, r.error);
  nlohmann::json list = nlohmann::json::array();
  for (auto& a : r.alarms)
    list.push_back(to_json(a));
  nlohmann::json j = {{"alarms", std::move(list)}};
  if (ack) j["ok"] = true;
  reply(peer, j);
}

void cmd_alarms(console_ptr self, const std::shared_ptr<console_peer>& peer,
                const std::vector<std::string>& w) {
  if (w.size() > 2 || (w.size() == 2 && w[1] != "--all"))
    return reply_error(peer, "usage: alarms [--all]");
  self->request(self->state.cfg.node, self->state.cfg.request_timeout, atom::alarms_v,
                w.size() == 2)
      .then([peer](alarm_list& r) { reply_alarms(peer, r, false); },
            [peer](caf::error& e) { reply_error(peer, caf_error_text(e)); });
}

void cmd_ack(console_ptr self, const std::shared_ptr<console_peer>& peer,
             const std::vector<std::string>& w) {
  if (w.size() != 2) return reply_error(peer, "usage: ack ID (the id 'alarms' lists)");
  self->request(self->state.cfg.node, self->state.cfg.request_timeout, atom::ack_v, w[1])
      .then([peer](alarm_list& r) { reply_alarms(peer, r, true); },
            [peer](caf::error& e) { reply_error(peer, caf_error_text(e)); });
}

nlohmann::json certs_json(const partner::pki_store& pki) {
  nlohmann::json list = nlohmann::json::array();
  for (auto& c : pki.list())
    list.push_back({{"thumbprint", c.thumbprint},
                    {"subject", c.subject},
                    {"not_before", partner::rfc3339_ms(c.not_before_ms)},
                    {"not_after", partner::rfc3339_ms(c.not_after_ms)},
                    {"status", c.status},
                    {"own", c.status == "own"},
                    {"file", c.path}});
  return list;
}

void cmd_certs(console_ptr self, const std::shared_ptr<console_peer>& peer,
               const std::vector<std::string>& w) {
  auto& pki = self->state.cfg.pki;
  if (!pki)
    return reply_error(peer, "this node has no partner link (node.role independent), so no "
                             "partner certificates");
  if (w[0] == "certs") {
    if (w.size() != 1) return reply_error(peer, "usage: certs (it takes no arguments)");
    return reply(peer, {{"certs", certs_json(*pki)}});
  }
  if (w.size() != 2)
    return reply_error(peer, "usage: " + w[0] + " THUMBPRINT ('certs' lists them)");
  const std::string& cmd = w[0];
  std::string tp = partner::normalize_thumbprint(w[1]);
  std::string err = cmd == "approve"  ? pki->approve(w[1])
                    : cmd == "reject" ? pki->reject(w[1])
                                      : pki->revoke(w[1]);
  if (!err.empty()) return reply_error(peer, err);
  std::string subject;
  for (auto& c : pki->list())
    if (c.thumbprint == tp) subject = c.subject;
  auto who = peer->who().empty() ? std::string("an operator") : peer->who();
  const char* kind = cmd == "approve"  ? "certificate_approved"
                     : cmd == "reject" ? "certificate_rejected"
                                       : "certificate_revoked";
  if (self->state.cfg.diagnostics)
    self->send(self->state.cfg.diagnostics,
               event_report{cmd == "approve" ? severity::info : severity::warning, "console", kind,
                            who + " " +
                                (cmd == "approve"  ? "approved"
                                 : cmd == "reject" ? "rejected"
                                                   : "revoked") +
                                " certificate " + tp + " (" + subject + ")"});
  auto answer = nlohmann::json{{"ok", true}, {"certs", certs_json(*pki)}};
  // An approved partner may dial again at once (the link's back-off would wait up to 5 s); a
  // revoked or rejected one was dropped by the link's transport already.
  if (cmd == "approve" && self->state.cfg.node)
    self->request(self->state.cfg.node, self->state.cfg.request_timeout, atom::connect_v)
        .then([](std::string&) {}, [](caf::error&) {});
  reply(peer, answer);
}

/// Commands that change something, written to the diagnostics log with who sent them.
bool changes_state(const std::vector<std::string>& w) {
  static const std::vector<std::string> always = {"maintenance", "connect", "ack",    "approve",
                                                  "reject",      "revoke",  "inject", "notify"};
  const std::string& cmd = w[0];
  if (cmd == "switch") return true;
  return std::find(always.begin(), always.end(), cmd) != always.end();
}

void audit(console_ptr self, const console_request& req, const std::vector<std::string>& w) {
  if (!self->state.cfg.diagnostics || !changes_state(w)) return;
  std::string line;
  for (auto& word : w)
    line += (line.empty() ? "" : " ") + word;
  if (line.size() > 200) line = line.substr(0, 200) + "...";
  auto who = req.peer->who().empty() ? std::string("an operator") : req.peer->who();
  self->send(self->state.cfg.diagnostics, event_report{severity::info, "console", "console_command",
                                                       who + " ran '" + line + "'"});
}

void execute(console_ptr self, const console_request& req) {
  auto& peer = req.peer;
  std::vector<std::string> w;
  std::string err;
  if (!split_command(req.line, w, err)) return reply_error(peer, err);
  if (w.empty()) return reply_error(peer, "empty command; 'help' lists the commands");
  const std::string& cmd = w[0];
  audit(self, req, w);
  if (cmd == "help") return cmd_help(self, peer, w);
  if (cmd == "status" || cmd == "pairs") {
    if (w.size() > 1) return reply_error(peer, "usage: " + cmd + " (it takes no arguments)");
    return cmd_status(self, peer, cmd == "pairs");
  }
  if (cmd == "events") return cmd_events(self, peer, w);
  if (cmd == "inject") return cmd_inject(self, peer, w);
  if (cmd == "switch") return cmd_switch(self, peer, w);
  if (cmd == "verify") return cmd_verify(self, peer, w);
  if (cmd == "notify") return cmd_notify(self, peer, w);
  if (cmd == "node") return cmd_node(self, peer, w);
  if (cmd == "maintenance") return cmd_maintenance(self, peer, w);
  if (cmd == "connect") return cmd_connect(self, peer, w);
  if (cmd == "history") return cmd_history(self, peer, w);
  if (cmd == "alarms") return cmd_alarms(self, peer, w);
  if (cmd == "ack") return cmd_ack(self, peer, w);
  if (cmd == "certs" || cmd == "approve" || cmd == "reject" || cmd == "revoke")
    return cmd_certs(self, peer, w);
  if (std::find(coming_commands.begin(), coming_commands.end(), cmd) != coming_commands.end())
    return reply_error(peer, "'" + cmd +
                                 "' is not available in this version of Tandem yet; "
                                 "'help' lists what is");
  reply_error(peer, "unknown command '" + cmd + "'; 'help' lists the commands");
}

console_actor::behavior_type make_behavior(console_ptr self) {
  return {
      [self](console_request& req) -> caf::result<void> {
        if (self->state.stalled) return caf::skip;
        execute(self, req);
        return caf::unit;
      },
      [self](atom::closed, uint64_t id) -> caf::result<void> {
        if (self->state.stalled) return caf::skip;
        auto& st = self->state;
        st.followers.erase(id);
        if (st.followers.empty() && st.subscribed) {
          st.subscribed = false;
          self->send(st.cfg.diagnostics, atom::unsubscribe_v,
                     caf::actor_cast<event_listener_actor>(self));
        }
        return caf::unit;
      },
      [self](diag_event& e) -> caf::result<void> {
        if (self->state.stalled) return caf::skip;
        for (auto& [id, f] : self->state.followers) {
          if (f.ready)
            send_event(f, e);
          else
            f.buffered.push_back(e);
        }
        return caf::unit;
      },
      [self](diagnostics_actor& d) {
        auto& st = self->state;
        st.cfg.diagnostics = d;
        if (st.subscribed)
          self->send(d, atom::subscribe_v, caf::actor_cast<event_listener_actor>(self));
      },
      [self](fault& f) -> caf::result<std::string> {
        if (self->state.stalled) return caf::skip;
        if (f.kind != fault_kind::stall_actor)
          return std::string("the console cannot apply fault ") + to_string(f.kind);
        self->state.stalled = true;
        self->delayed_send(self, std::chrono::milliseconds(f.ms), atom::stall_end_v);
        return std::string{};
      },
      [self](atom::stall_end) {
        self->state.stalled = false;
        self->become(make_behavior(self));
      },
  };
}

} // namespace

console_actor::behavior_type console(console_actor::stateful_pointer<console_state> self,
                                     console_config cfg) {
  self->state.cfg = std::move(cfg);
  quit_with_parent(self, self->state.cfg.parent);
  return make_behavior(self);
}

} // namespace tandem
