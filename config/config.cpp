/// Parsing and validation of a node's TOML configuration (schema: config.hpp, docs/CONFIG.md).
///
/// The validator never stops at the first problem: every section is read with the same small
/// reader (`section`), which reports unknown keys, wrong types and out-of-range values and keeps
/// the default for anything it rejects, so later checks still run. Cross-key checks (timeouts,
/// duplicate aliases, port clashes, path lengths) run after all sections have been read.

#include "config/config.hpp"

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

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tandem::config {

namespace {

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

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& ch : out)
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  return out;
}

bool is_digit(char ch) {
  return ch >= '0' && ch <= '9';
}
bool is_alpha(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}
bool is_alnum(char ch) {
  return is_digit(ch) || is_alpha(ch);
}
bool is_hex(char ch) {
  return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/// A value quoted for a message: control characters shown as '?', long text cut.
std::string quote(std::string_view s) {
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

size_t edit_distance(std::string_view a, std::string_view b) {
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
std::string closest(std::string_view s, const std::vector<std::string_view>& words) {
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

std::string did_you_mean(std::string_view s, const std::vector<std::string_view>& words) {
  auto best = closest(s, words);
  return best.empty() ? std::string{} : " (did you mean '" + best + "'?)";
}

std::string type_name(const toml::node& n) {
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

std::string join(const std::vector<std::string_view>& words, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i) out += sep;
    out += words[i];
  }
  return out;
}

// -- syntax checks (return an empty string when fine, else the reason) ----------------------------

bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > max_name_length) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char ch) { return is_alnum(ch) || ch == '_' || ch == '.' || ch == '-'; });
}

bool valid_hostname(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char ch) { return is_alnum(ch) || ch == '-' || ch == '.' || ch == '_'; });
}

bool valid_ipv6_literal(std::string_view s) {
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
std::string parse_host_port(std::string_view s, std::string& host, int& port, bool port_required) {
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
std::string parse_opc_url(std::string_view s, url_parts& out) {
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
std::string check_smtp_url(std::string_view s) {
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

bool valid_email(std::string_view s) {
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
bool valid_mailbox(std::string_view s) {
  if (valid_email(s)) return true;
  auto open = s.rfind('<');
  if (open == std::string_view::npos || s.empty() || s.back() != '>') return false;
  return valid_email(s.substr(open + 1, s.size() - open - 2));
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

/// ns=<n>;i=<n> | s=<text> | g=<guid> | b=<base64>, the ns= part optional.
std::string check_node_id(std::string_view s) {
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

bool is_loopback_host(std::string_view host) {
  std::string h = lower(host);
  if (h == "localhost" || h == "ip6-localhost" || h == "::1" || h == "0:0:0:0:0:0:0:1") return true;
  if (h.size() > 10 && h.compare(h.size() - 10, 10, ".localhost") == 0) return true;
  return h.rfind("127.", 0) == 0 &&
         std::all_of(h.begin(), h.end(), [](char ch) { return is_digit(ch) || ch == '.'; });
}

bool is_wildcard_host(std::string_view host) {
  return host == "0.0.0.0" || host == "::" || host == "0:0:0:0:0:0:0:0";
}

/// Could two listening sockets on these hosts collide on the same port?
bool hosts_overlap(std::string_view a, std::string_view b) {
  if (is_wildcard_host(a) || is_wildcard_host(b)) return true;
  std::string la = lower(a), lb = lower(b);
  if (la == lb) return true;
  // "localhost" may resolve to either loopback address.
  if ((la == "localhost" && is_loopback_host(lb)) || (lb == "localhost" && is_loopback_host(la)))
    return true;
  return false;
}

std::string resolve_path(const fs::path& base, const std::string& p) {
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

pos at(const toml::source_region& r) {
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

// -- the sections -------------------------------------------------------------------------------

constexpr std::string_view name_rule = "1 to 64 characters of A-Z a-z 0-9 _ . -";

void check_name(checker& c, section& s, std::string_view key, const std::string& value) {
  if (!valid_name(value))
    c.error(s.where(key), s.path(key),
            quote(value) + " is not a valid " + std::string(key) + ": use " +
                std::string(name_rule));
}

void require(checker& c, section& s, std::string_view key, const std::string& why) {
  if (!s.has(key)) c.error(s.position(), s.path(key), "is required" + why);
}

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
    section s(c, t, "node", {"name", "data_dir", "console_socket", "comment"});
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
      if (u.str("password_hash", e.password_hash) && e.password_hash.empty())
        c.error(u.where("password_hash"), u.path("password_hash"),
                "must not be empty: make one with `tandem passwd`");
      f.users.push_back(std::move(e));
    }
    if (!f.anonymous && f.users.empty())
      c.warning(s.where("anonymous"), "face.anonymous",
                "anonymous logins are off and there is no [[face.user]]: no client can log in");
  }

  void read_redundancy(const toml::table* t) {
    section s(c, t, "redundancy",
              {"role", "listen", "partner", "ping_interval_ms", "ping_timeout_ms", "missed_pings",
               "connection_wait_ms", "recovery", "standby", "split_brain", "history_retention_ms"});
    auto& r = cfg.redundancy;
    s.choice<role>(
        "role", r.node_role,
        {{"independent", role::independent}, {"master", role::master}, {"backup", role::backup}});
    s.host_port("listen", r.listen, false);
    s.optional_host_port("partner", r.partner);
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
                 "min_service_level", "comment", "monitor"});
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

  void read_notifications(const toml::table* t) {
    section s(c, t, "notifications",
              {"smtp_url", "from", "username", "password_file", "password_env", "batch_ms",
               "min_interval_ms", "recipient"});
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
    s.str("password_env", n.password_env);
    if (!n.password_file.empty() && !n.password_env.empty())
      c.error(s.where("password_env"), "notifications.password_env",
              "password_file and password_env are both set: use one of them");
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
  try {
    root = toml::parse(std::string_view(text), std::string_view(file));
  } catch (const toml::parse_error& e) {
    c.error(at(e.source()), "", "TOML syntax: " + std::string(e.description()));
    result.problems = c.take();
    return result;
  }

  std::error_code ec;
  reader r{c, {}, {}};
  if (file.empty()) {
    r.base = fs::current_path(ec);
  } else {
    fs::path abs = fs::absolute(fs::path(file), ec).lexically_normal();
    r.cfg.source_path = abs.string();
    r.base = abs.parent_path();
  }
  if (ec || r.base.empty()) r.base = "/";
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
  auto fail = [&](const std::string& why) {
    load_result r;
    problem p;
    p.file = path;
    p.message = "cannot read the configuration file: " + why;
    r.problems.push_back(std::move(p));
    return r;
  };
  if (path.empty()) return fail("no file name given");
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return fail(std::strerror(EISDIR));
  }
  constexpr size_t max_size = 16 * 1024 * 1024;
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return fail(std::strerror(err));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > max_size) {
      ::close(fd);
      return fail("larger than 16 MiB; this is not a configuration file");
    }
  }
  ::close(fd);
  return parse(text, path);
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
        << k << "min_service_level=" << p->min_service_level << "\n";
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

} // namespace tandem::config
