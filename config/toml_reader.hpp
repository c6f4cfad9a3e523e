#pragma once
/// The TOML reader shared by the configuration files Tandem reads (node configs, `tandem sim`
/// address spaces): a problem collector (`checker`) and a table reader (`section`) that reports
/// unknown keys with "did you mean", wrong types and out-of-range values with file:line:column,
/// and leaves defaults in place so that every problem is reported at once. Internal to config/.

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"

namespace tandem::config::detail {

namespace fs = std::filesystem;

// -- limits -------------------------------------------------------------------------------------

/// Durations are capped so that any of them converted to nanoseconds (CAF's timespan) fits.
constexpr int64_t max_duration_ms = int64_t{7} * 24 * 3600 * 1000;     // 7 days
constexpr int64_t max_retention_ms = int64_t{3650} * 24 * 3600 * 1000; // 10 years
constexpr int64_t max_missed_pings = 1000000;
constexpr int64_t max_events_limit = 10000000;
constexpr size_t max_unix_socket_path = 107; // sun_path is 108 bytes with the terminating NUL
constexpr size_t max_name_length = 64;

// -- small text helpers -------------------------------------------------------------------------

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& ch : out)
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  return out;
}

inline bool is_digit(char ch) {
  return ch >= '0' && ch <= '9';
}
inline bool is_alpha(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}
inline bool is_alnum(char ch) {
  return is_digit(ch) || is_alpha(ch);
}
inline bool is_hex(char ch) {
  return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/// A value quoted for a message: control characters shown as '?', long text cut.
inline std::string quote(std::string_view s) {
  std::string out = "'";
  size_t n = 0;
  for (char ch : s) {
    if (++n > 80) {
      out += "...";
      break;
    }
    out += (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ? '?' : ch;
  }
  return out + "'";
}

inline size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

/// The closest of `words` to `s` when it is close enough to be a likely typo, else empty.
inline std::string closest(std::string_view s, const std::vector<std::string_view>& words) {
  if (s.size() > 200) return {};
  std::string best;
  size_t best_d = std::numeric_limits<size_t>::max();
  const std::string ls = lower(s);
  for (auto w : words) {
    size_t d = edit_distance(ls, lower(w));
    if (d < best_d) {
      best_d = d;
      best = std::string(w);
    }
  }
  if (best.empty()) return {};
  // Close enough: at most two edits, or at most a third of the word; never a whole rewrite.
  bool close = best_d <= 2 || best_d * 3 <= best.size();
  if (!close && ls.size() >= 3) {
    // A truncated or extended key ("stale" for "stale_ms", "pairs" for "pair") is close too.
    for (auto w : words) {
      std::string lw = lower(w);
      if (lw.rfind(ls, 0) == 0 || ls.rfind(lw, 0) == 0) return std::string(w);
    }
  }
  if (!close || best_d >= std::max(s.size(), best.size())) return {};
  return best;
}

inline std::string did_you_mean(std::string_view s, const std::vector<std::string_view>& words) {
  auto best = closest(s, words);
  return best.empty() ? std::string{} : " (did you mean '" + best + "'?)";
}

inline std::string type_name(const toml::node& n) {
  switch (n.type()) {
  case toml::node_type::string:
    return "a string";
  case toml::node_type::integer:
    return "an integer";
  case toml::node_type::floating_point:
    return "a floating-point number";
  case toml::node_type::boolean:
    return "a boolean";
  case toml::node_type::table:
    return "a table";
  case toml::node_type::array:
    return "an array";
  case toml::node_type::date:
    return "a date";
  case toml::node_type::time:
    return "a time";
  case toml::node_type::date_time:
    return "a date-time";
  default:
    return "nothing";
  }
}

inline std::string join(const std::vector<std::string_view>& words, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i) out += sep;
    out += words[i];
  }
  return out;
}

// -- syntax checks (return an empty string when fine, else the reason) ----------------------------

inline bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > max_name_length) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char ch) { return is_alnum(ch) || ch == '_' || ch == '.' || ch == '-'; });
}

inline bool valid_hostname(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char ch) { return is_alnum(ch) || ch == '-' || ch == '.' || ch == '_'; });
}

inline bool valid_ipv6_literal(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  // Hex groups, colons, an embedded IPv4 tail, and an optional %zone.
  auto zone = s.find('%');
  std::string_view addr = s.substr(0, zone);
  if (addr.find(':') == std::string_view::npos) return false;
  if (!std::all_of(addr.begin(), addr.end(),
                   [](char ch) { return is_hex(ch) || ch == ':' || ch == '.'; }))
    return false;
  if (zone != std::string_view::npos) {
    auto z = s.substr(zone + 1);
    if (z.empty() || !std::all_of(z.begin(), z.end(), [](char ch) {
          return is_alnum(ch) || ch == '_' || ch == '-' || ch == '.';
        }))
      return false;
  }
  return true;
}

/// Parses "host:port" or "[v6]:port" (port optional when `port_required` is false). Returns the
/// reason it is not valid, or an empty string.
inline std::string parse_host_port(std::string_view s, std::string& host, int& port,
                                   bool port_required) {
  host.clear();
  port = 0;
  if (s.empty()) return "it is empty";
  std::string_view rest;
  if (s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos) return "'[' without a closing ']'";
    auto h = s.substr(1, close - 1);
    if (!valid_ipv6_literal(h)) return quote(h) + " is not an IPv6 address";
    host = std::string(h);
    rest = s.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return "expected ':' and a port after ']'";
  } else {
    auto colons = std::count(s.begin(), s.end(), ':');
    if (colons > 1) return "an IPv6 address must be written in brackets, e.g. [::1]:4840";
    auto colon = s.find(':');
    auto h = s.substr(0, colon);
    if (h.empty()) return "the host is missing";
    if (!valid_hostname(h))
      return quote(h) + " is not a host name or address (letters, digits, '.', '-', '_')";
    host = std::string(h);
    rest = colon == std::string_view::npos ? std::string_view{} : s.substr(colon);
  }
  if (rest.empty()) return port_required ? "the port is missing (host:port)" : "";
  auto digits = rest.substr(1);
  if (digits.empty()) return "the port is missing after ':'";
  if (digits.size() > 5 || !std::all_of(digits.begin(), digits.end(), is_digit))
    return "the port " + quote(digits) + " is not a number from 1 to 65535";
  port = std::stoi(std::string(digits));
  if (port < 1 || port > 65535)
    return "the port " + std::to_string(port) + " is not from 1 to 65535";
  return "";
}

struct url_parts {
  std::string scheme; ///< lower case
  std::string host;   ///< lower case, without brackets
  int port = 0;
  std::string path; ///< without a trailing '/'
};

/// opc.tcp://host:port[/path]
inline std::string parse_opc_url(std::string_view s, url_parts& out) {
  static constexpr std::string_view scheme = "opc.tcp://";
  if (s.size() < scheme.size() || lower(s.substr(0, scheme.size())) != scheme)
    return "it must start with opc.tcp://";
  for (char ch : s)
    if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f)
      return "it contains a space or control character";
  auto rest = s.substr(scheme.size());
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  if (authority.find('@') != std::string_view::npos)
    return "user information in the URL is not supported (use pair.user)";
  std::string why = parse_host_port(authority, out.host, out.port, true);
  if (!why.empty()) return why;
  out.scheme = "opc.tcp";
  out.host = lower(out.host);
  out.path = slash == std::string_view::npos ? std::string{} : std::string(rest.substr(slash));
  while (!out.path.empty() && out.path.back() == '/')
    out.path.pop_back();
  return "";
}

/// smtp://host[:port][/...] or smtps://...
inline std::string check_smtp_url(std::string_view s) {
  auto sep = s.find("://");
  if (sep == std::string_view::npos) return "it must start with smtp:// or smtps://";
  auto scheme = lower(s.substr(0, sep));
  if (scheme != "smtp" && scheme != "smtps")
    return "the scheme " + quote(scheme) + " is not smtp or smtps";
  for (char ch : s)
    if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f)
      return "it contains a space or control character";
  auto rest = s.substr(sep + 3);
  auto authority = rest.substr(0, rest.find('/'));
  if (authority.find('@') != std::string_view::npos)
    return "put the user in notifications.username, not in the URL";
  std::string host;
  int port = 0;
  return parse_host_port(authority, host, port, false);
}

inline bool valid_email(std::string_view s) {
  if (s.empty() || s.size() > 254) return false;
  auto at_sign = s.find('@');
  if (at_sign == std::string_view::npos || at_sign == 0 || s.find('@', at_sign + 1) != s.npos)
    return false;
  auto local = s.substr(0, at_sign);
  auto domain = s.substr(at_sign + 1);
  for (char ch : local)
    if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f || ch == '<' || ch == '>' ||
        ch == ',' || ch == ';' || ch == '"' || ch == '(' || ch == ')' || ch == '\\')
      return false;
  if (domain.empty() || domain.front() == '.' || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos)
    return false;
  return valid_hostname(domain);
}

/// "addr@host" or "Display Name <addr@host>".
inline bool valid_mailbox(std::string_view s) {
  if (valid_email(s)) return true;
  auto open = s.rfind('<');
  if (open == std::string_view::npos || s.empty() || s.back() != '>') return false;
  return valid_email(s.substr(open + 1, s.size() - open - 2));
}

inline bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

/// ns=<n>;i=<n> | s=<text> | g=<guid> | b=<base64>, the ns= part optional.
inline std::string check_node_id(std::string_view s) {
  static const std::string form =
      "expected ns=<index>;i=<number>, ns=<index>;s=<text>, ns=<index>;g=<guid> or "
      "ns=<index>;b=<base64> (ns=<index>; may be left out for namespace 0)";
  if (s.empty()) return "it is empty; " + form;
  std::string_view id = s;
  if (s.substr(0, 3) == "ns=") {
    auto semi = s.find(';');
    if (semi == std::string_view::npos) return "';' missing after the namespace; " + form;
    auto ns = s.substr(3, semi - 3);
    if (!all_digits(ns) || ns.size() > 5 || std::stol(std::string(ns)) > 65535)
      return "the namespace index " + quote(ns) + " is not a number from 0 to 65535";
    id = s.substr(semi + 1);
  }
  if (id.size() < 2 || id[1] != '=') return form;
  auto body = id.substr(2);
  switch (id[0]) {
  case 'i':
    if (!all_digits(body) || body.size() > 10 || std::stoull(std::string(body)) > 0xffffffffULL)
      return "the numeric identifier " + quote(body) + " is not a number from 0 to 4294967295";
    return "";
  case 's':
    if (body.empty()) return "the string identifier is empty";
    return "";
  case 'g': {
    static constexpr size_t groups[] = {8, 4, 4, 4, 12};
    std::string_view g = body;
    if (g.size() == 38 && g.front() == '{' && g.back() == '}') g = g.substr(1, 36);
    bool ok = g.size() == 36;
    size_t p = 0;
    for (size_t i = 0; ok && i < 5; ++i) {
      for (size_t k = 0; k < groups[i]; ++k, ++p)
        ok = ok && is_hex(g[p]);
      if (i < 4) ok = ok && g[p++] == '-';
    }
    if (!ok)
      return "the GUID " + quote(body) +
             " is not of the form XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX (hex digits)";
    return "";
  }
  case 'b': {
    bool ok = !body.empty() && body.size() % 4 == 0;
    size_t pad = 0;
    for (size_t i = 0; ok && i < body.size(); ++i) {
      char ch = body[i];
      if (ch == '=') {
        ++pad;
      } else {
        ok = pad == 0 && (is_alnum(ch) || ch == '+' || ch == '/');
      }
    }
    if (!ok || pad > 2) return "the opaque identifier " + quote(body) + " is not base64";
    return "";
  }
  default:
    return form;
  }
}

inline bool is_loopback_host(std::string_view host) {
  std::string h = lower(host);
  if (h == "localhost" || h == "ip6-localhost" || h == "::1" || h == "0:0:0:0:0:0:0:1") return true;
  if (h.size() > 10 && h.compare(h.size() - 10, 10, ".localhost") == 0) return true;
  return h.rfind("127.", 0) == 0 &&
         std::all_of(h.begin(), h.end(), [](char ch) { return is_digit(ch) || ch == '.'; });
}

inline bool is_wildcard_host(std::string_view host) {
  return host == "0.0.0.0" || host == "::" || host == "0:0:0:0:0:0:0:0";
}

/// Could two listening sockets on these hosts collide on the same port?
inline bool hosts_overlap(std::string_view a, std::string_view b) {
  if (is_wildcard_host(a) || is_wildcard_host(b)) return true;
  std::string la = lower(a), lb = lower(b);
  if (la == lb) return true;
  // "localhost" may resolve to either loopback address.
  if ((la == "localhost" && is_loopback_host(lb)) || (lb == "localhost" && is_loopback_host(la)))
    return true;
  return false;
}

inline std::string resolve_path(const fs::path& base, const std::string& p) {
  fs::path q(p);
  if (q.is_relative()) q = base / q;
  q = q.lexically_normal();
  if (!q.has_filename() && q.has_parent_path() && q != q.root_path()) q = q.parent_path();
  return q.string();
}

// -- the problem collector ----------------------------------------------------------------------

struct pos {
  int line = 0;
  int column = 0;
};

inline pos at(const toml::source_region& r) {
  return {static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
}

class checker {
public:
  explicit checker(std::string file) : file_(std::move(file)) {}

  void error(pos p, std::string key, std::string message) {
    add(problem::level::error, p, std::move(key), std::move(message));
  }
  void warning(pos p, std::string key, std::string message) {
    add(problem::level::warning, p, std::move(key), std::move(message));
  }

  /// Remembers where a key (or table) was written, for checks that span keys.
  void note(const std::string& key, pos p) { where_.emplace(key, p); }

  /// Where `key` was written; else where its nearest enclosing table was; else unknown.
  pos where(std::string key) const {
    for (;;) {
      if (auto it = where_.find(key); it != where_.end()) return it->second;
      auto cut = key.find_last_of(".[");
      if (cut == std::string::npos || cut == 0) return {};
      key.resize(cut);
    }
  }

  bool has(const std::string& key) const { return where_.count(key) != 0; }

  size_t errors() const {
    return static_cast<size_t>(std::count_if(problems_.begin(), problems_.end(), [](auto& p) {
      return p.lvl == problem::level::error;
    }));
  }

  std::vector<problem> take() {
    // Compiler order: by position; problems without one (a missing section) first.
    std::stable_sort(problems_.begin(), problems_.end(), [](const problem& a, const problem& b) {
      return std::make_pair(a.line, a.column) < std::make_pair(b.line, b.column);
    });
    return std::move(problems_);
  }

private:
  void add(problem::level lvl, pos p, std::string key, std::string message) {
    problem pr;
    pr.lvl = lvl;
    pr.file = file_;
    pr.line = p.line;
    pr.column = p.column;
    pr.key_path = std::move(key);
    pr.message = std::move(message);
    problems_.push_back(std::move(pr));
  }

  std::string file_;
  std::vector<problem> problems_;
  std::map<std::string, pos> where_;
};

// -- a table reader -----------------------------------------------------------------------------

template <class E> using words_t = std::initializer_list<std::pair<std::string_view, E>>;

/// Reads one TOML table: reports unknown keys on construction, and each typed getter reports a
/// wrong type or an out-of-range value and leaves the output at its default. A getter returns
/// true when it stored a value.
class section {
public:
  section(checker& c, const toml::table* t, std::string prefix, std::vector<std::string_view> known)
      : c_(c), t_(t), prefix_(std::move(prefix)), known_(std::move(known)) {
    if (!t_) return;
    c_.note(prefix_, at(t_->source()));
    for (auto&& [k, v] : *t_) {
      auto name = k.str();
      if (std::find(known_.begin(), known_.end(), name) != known_.end()) continue;
      bool top = prefix_.empty();
      std::string hint = did_you_mean(name, known_);
      if (hint.empty())
        hint = top ? "; known sections: " + join(known_, ", ")
                   : "; known keys in [" + prefix_ + "]: " + join(known_, ", ");
      c_.error(at(k.source()), path(name),
               std::string(top ? "unknown section " : "unknown key ") + quote(name) + hint);
    }
  }

  std::string path(std::string_view key) const {
    return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
  }

  const std::string& prefix() const { return prefix_; }
  pos position() const { return t_ ? at(t_->source()) : pos{}; }
  bool present() const { return t_ != nullptr; }
  bool has(std::string_view key) const { return find(key) != nullptr; }

  const toml::node* find(std::string_view key) const { return t_ ? t_->get(key) : nullptr; }

  /// Position of a key's value, else of this table.
  pos where(std::string_view key) const {
    auto* n = find(key);
    return n ? at(n->source()) : position();
  }

  bool str(std::string_view key, std::string& out) {
    if (auto* v = typed<std::string>(key, "a string")) {
      out = v->get();
      return true;
    }
    return false;
  }

  bool boolean(std::string_view key, bool& out) {
    if (auto* v = typed<bool>(key, "a boolean (true or false)")) {
      out = v->get();
      return true;
    }
    return false;
  }

  bool integer(std::string_view key, int64_t& out, int64_t lo, int64_t hi) {
    auto* v = typed<int64_t>(key, key.size() > 3 && key.substr(key.size() - 3) == "_ms"
                                      ? "an integer (milliseconds)"
                                      : "an integer");
    if (!v) return false;
    int64_t x = v->get();
    if (x < lo || x > hi) {
      std::string unit = key.size() > 3 && key.substr(key.size() - 3) == "_ms" ? " ms" : "";
      std::string range = hi == std::numeric_limits<int64_t>::max()
                              ? "at least " + std::to_string(lo) + unit
                              : "from " + std::to_string(lo) + " to " + std::to_string(hi) + unit;
      if (hi == max_duration_ms) range += " (7 days)";
      if (hi == max_retention_ms) range += " (10 years)";
      c_.error(at(v->source()), path(key), "must be " + range + ", got " + std::to_string(x));
      return false;
    }
    out = x;
    return true;
  }

  /// A number; booleans read as 0 and 1.
  bool number(std::string_view key, std::optional<double>& out) {
    auto* n = find(key);
    if (!n) return false;
    c_.note(path(key), at(n->source()));
    if (auto* i = n->as_integer()) {
      out = static_cast<double>(i->get());
    } else if (auto* f = n->as_floating_point()) {
      if (!std::isfinite(f->get())) {
        c_.error(at(n->source()), path(key), "must be a finite number");
        return false;
      }
      out = f->get();
    } else if (auto* b = n->as_boolean()) {
      out = b->get() ? 1.0 : 0.0;
    } else {
      c_.error(at(n->source()), path(key), "expected a number or a boolean, got " + type_name(*n));
      return false;
    }
    return true;
  }

  template <class E> bool choice(std::string_view key, E& out, words_t<E> words) {
    std::string s;
    if (!str(key, s)) return false;
    std::vector<std::string_view> names;
    for (auto& [w, e] : words) {
      if (s == w) {
        out = e;
        return true;
      }
      names.push_back(w);
    }
    c_.error(where(key), path(key),
             "must be one of " + join(names, ", ") + "; got " + quote(s) + did_you_mean(s, names));
    return false;
  }

  bool strings(std::string_view key, std::vector<std::string>& out) {
    auto* n = find(key);
    if (!n) return false;
    c_.note(path(key), at(n->source()));
    auto* arr = n->as_array();
    if (!arr) {
      c_.error(at(n->source()), path(key), "expected an array of strings, got " + type_name(*n));
      return false;
    }
    std::vector<std::string> result;
    bool ok = true;
    for (size_t i = 0; i < arr->size(); ++i) {
      const toml::node& e = *arr->get(i);
      if (auto* s = e.as_string()) {
        result.push_back(s->get());
      } else {
        ok = false;
        c_.error(at(e.source()), path(key) + "[" + std::to_string(i) + "]",
                 "expected a string, got " + type_name(e));
      }
    }
    if (ok) out = std::move(result);
    return ok;
  }

  /// host:port; `empty` is set when the value is the empty string and that is allowed.
  bool host_port(std::string_view key, endpoint& out, bool allow_empty, bool* empty = nullptr) {
    std::string s;
    if (!str(key, s)) return false;
    if (s.empty() && allow_empty) {
      if (empty) *empty = true;
      return true;
    }
    endpoint ep;
    int port = 0;
    std::string why = parse_host_port(s, ep.host, port, true);
    if (!why.empty()) {
      c_.error(where(key), path(key), quote(s) + " is not host:port: " + why);
      return false;
    }
    ep.port = static_cast<uint16_t>(port);
    out = ep;
    return true;
  }

  bool optional_host_port(std::string_view key, std::optional<endpoint>& out) {
    endpoint ep;
    bool empty = false;
    if (!host_port(key, ep, true, &empty)) return false;
    if (empty)
      out.reset();
    else
      out = ep;
    return true;
  }

  /// An array of tables ([[key]]); each element comes with its key path, e.g. pair[1].
  std::vector<std::pair<const toml::table*, std::string>> tables(std::string_view key) {
    std::vector<std::pair<const toml::table*, std::string>> out;
    auto* n = find(key);
    if (!n) return out;
    c_.note(path(key), at(n->source()));
    auto* arr = n->as_array();
    if (!arr) {
      std::string full = path(key);
      std::string hint = n->is_table() ? ": write [[" + full + "]], not [" + full + "]" : "";
      c_.error(at(n->source()), full, "expected an array of tables, got " + type_name(*n) + hint);
      return out;
    }
    for (size_t i = 0; i < arr->size(); ++i) {
      const toml::node& e = *arr->get(i);
      std::string p = path(key) + "[" + std::to_string(i) + "]";
      if (auto* t = e.as_table()) {
        out.emplace_back(t, p);
      } else {
        c_.error(at(e.source()), p, "expected a table, got " + type_name(e));
      }
    }
    return out;
  }

  /// A sub-table such as [face] under the root; reports a non-table value.
  const toml::table* table(std::string_view key) {
    auto* n = find(key);
    if (!n) return nullptr;
    if (auto* t = n->as_table()) return t;
    c_.error(at(n->source()), path(key), "expected a table, got " + type_name(*n));
    return nullptr;
  }

private:
  template <class T> const toml::value<T>* typed(std::string_view key, const char* expected) {
    auto* n = find(key);
    if (!n) return nullptr;
    c_.note(path(key), at(n->source()));
    if (auto* v = n->as<T>()) return v;
    c_.error(at(n->source()), path(key),
             std::string("expected ") + expected + ", got " + type_name(*n));
    return nullptr;
  }

  checker& c_;
  const toml::table* t_;
  std::string prefix_;
  std::vector<std::string_view> known_;
};

constexpr std::string_view name_rule = "1 to 64 characters of A-Z a-z 0-9 _ . -";

inline void check_name(checker& c, section& s, std::string_view key, const std::string& value) {
  if (!valid_name(value))
    c.error(s.where(key), s.path(key),
            quote(value) + " is not a valid " + std::string(key) + ": use " +
                std::string(name_rule));
}

inline void require(checker& c, section& s, std::string_view key, const std::string& why) {
  if (!s.has(key)) c.error(s.position(), s.path(key), "is required" + why);
}

/// Reads a whole configuration file (at most 16 MiB) into `text`; "" when fine, else why not.
std::string read_config_file(const std::string& path, std::string& text);

/// Parses `text` as TOML into `root`; false (with the syntax error reported) when it is not TOML.
bool parse_toml(checker& c, const std::string& text, const std::string& file, toml::table& root);

/// The directory relative paths of a config file are resolved against (its absolute source
/// path in `abs` when there is a file).
fs::path base_directory(const std::string& file, std::string* abs = nullptr);

} // namespace tandem::config::detail
