// The words of the NOTIFIER's mail: filters, subject and body (pure functions).

#include <algorithm>
#include <sstream>

#include "actors/json.hpp"
#include "actors/notifier.hpp"

namespace tandem {

namespace {

bool own_event(const diag_event& e) {
  return e.source == notifier_state::name || e.kind.rfind("notify_", 0) == 0;
}

/// The parts of a failover event's text: "line1: failover from primary to secondary
/// (connection_lost: lost: connection refused)".
struct failover_parts {
  std::string alias, from, to, cause, detail;
};

bool parse_failover(const diag_event& e, failover_parts& p) {
  if (e.kind != "failover") return false;
  const std::string& t = e.text;
  auto colon = t.find(": failover from ");
  if (colon == std::string::npos) return false;
  p.alias = t.substr(0, colon);
  size_t pos = colon + 16;
  auto to = t.find(" to ", pos);
  if (to == std::string::npos) return false;
  p.from = t.substr(pos, to - pos);
  pos = to + 4;
  auto open = t.find(" (", pos);
  if (open == std::string::npos || t.back() != ')') return false;
  p.to = t.substr(pos, open - pos);
  std::string inner = t.substr(open + 2, t.size() - open - 3);
  auto c = inner.find(": ");
  p.cause = inner.substr(0, c);
  if (c != std::string::npos) p.detail = inner.substr(c + 2);
  return !p.from.empty() && !p.to.empty() && !p.cause.empty();
}

std::string cause_in_words(const std::string& cause) {
  if (cause == "connection_lost") return "the connection to the active server was lost";
  if (cause == "status_timeout")
    return "the active server did not answer its status poll in time (status_timeout_ms)";
  if (cause == "unhealthy")
    return "the active server reported itself unhealthy (ServerState not Running, or "
           "ServiceLevel below min_service_level)";
  if (cause == "condition") return "a monitor condition of the pair failed on the active server";
  if (cause == "operator") return "an operator switched the pair (console `switch`)";
  if (cause == "return_to_primary")
    return "the primary was healthy again for return_settle_ms, so the pair returned to it";
  if (cause == "first_connection") return "the pair got its first server connection";
  return cause;
}

std::string shorten(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t cut = max - 3;
  // Do not cut a UTF-8 character in two.
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80)
    --cut;
  return s.substr(0, cut) + "...";
}

std::string list_or_all(const std::vector<std::string>& v) {
  if (v.empty()) return "all";
  std::string out;
  for (auto& x : v)
    out += (out.empty() ? "" : ", ") + x;
  return out;
}

} // namespace

std::string pair_of(const diag_event& e) {
  for (const char* prefix : {"pair/", "server/"}) {
    std::string p = prefix;
    if (e.source.rfind(p, 0) == 0) {
      std::string rest = e.source.substr(p.size());
      return rest.substr(0, rest.find('/'));
    }
  }
  return {};
}

bool wants(const config::recipient_entry& rule, const diag_event& e) {
  if (own_event(e)) return false;
  if (e.sev < rule.min_severity) return false;
  if (!rule.kinds.empty() &&
      std::find(rule.kinds.begin(), rule.kinds.end(), e.kind) == rule.kinds.end())
    return false;
  if (!rule.pairs.empty()) {
    auto alias = pair_of(e);
    if (!alias.empty() &&
        std::find(rule.pairs.begin(), rule.pairs.end(), alias) == rule.pairs.end())
      return false;
  }
  return true;
}

std::string headline(const diag_event& e) {
  failover_parts f;
  if (parse_failover(e, f))
    return f.alias + " failed over from " + f.from + " to " + f.to + " (" + f.cause + ")";
  std::string text = e.text.empty() ? e.kind : e.text;
  for (auto& c : text)
    if (c == '\r' || c == '\n') c = ' ';
  return shorten(text, 160);
}

std::string mail_subject(const std::string& node, const std::vector<diag_event>& events) {
  std::string prefix = "[tandem " + node + "] ";
  if (events.empty()) return prefix + "no events";
  if (events.size() == 1) return prefix + headline(events.front());
  std::string list;
  for (auto& e : events) {
    std::string h = headline(e);
    if (!list.empty() && list.size() + h.size() > 160) {
      list += "; ...";
      break;
    }
    list += (list.empty() ? "" : "; ") + h;
  }
  return prefix + std::to_string(events.size()) + " events: " + shorten(list, 200);
}

std::string mail_body(const std::string& node, const std::vector<diag_event>& events,
                      uint64_t dropped, const config::recipient_entry& rule, size_t max_held) {
  std::ostringstream o;
  o << "Tandem node " << node << " reports " << events.size()
    << (events.size() == 1 ? " event" : " events") << ".\n";
  size_t n = 0;
  for (auto& e : events) {
    ++n;
    o << "\n";
    if (events.size() > 1) o << "[" << n << "] ";
    o << headline(e) << "\n";
    o << "    When:      " << rfc3339(e.time_ms) << "\n";
    o << "    Node:      " << (e.node.empty() ? node : e.node) << "\n";
    std::string alias = pair_of(e);
    if (!alias.empty()) o << "    Pair:      " << alias << "\n";
    failover_parts f;
    if (parse_failover(e, f)) {
      o << "    From:      " << f.from << " server\n";
      o << "    To:        " << f.to << " server\n";
      o << "    Cause:     " << f.cause << ": " << cause_in_words(f.cause) << "\n";
      if (!f.detail.empty()) o << "    Why:       " << shorten(f.detail, 800) << "\n";
    }
    o << "    Severity:  " << to_string(e.sev) << "\n";
    o << "    Event:     " << e.kind << " (#" << e.seq << " from " << e.source << ")\n";
    o << "    Text:      " << shorten(e.text, 800) << "\n";
  }
  if (dropped > 0)
    o << "\n"
      << dropped << (dropped == 1 ? " further event was" : " further events were")
      << " not mailed: at most " << max_held
      << " events wait for the next mail while mail is rate limited "
         "(notifications.min_interval_ms). The node's event log has them all.\n";
  o << "\n-- \n"
    << "Sent by Tandem on node " << node << " to " << rule.address
    << ", which asks for events of kinds: " << list_or_all(rule.kinds)
    << "; severity: " << to_string(rule.min_severity)
    << " and above; pairs: " << list_or_all(rule.pairs) << ".\n"
    << "Every event of the node: tandem console -c <node.toml> -e \"events 100\"\n";
  return o.str();
}

} // namespace tandem
