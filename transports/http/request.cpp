#include "transports/http/request.hpp"

#include <cctype>

namespace tandem::transports::http {

bool query_param(std::string_view query, std::string_view name, std::string& value) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    auto eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    if (key != name) continue;
    value = eq == std::string_view::npos ? std::string() : std::string(pair.substr(eq + 1));
    return true;
  }
  return false;
}

route_result route(std::string_view method, std::string_view target) {
  route_result r;
  using k = route_result::kind;
  if (target.empty() || target.front() != '/') {
    r.what = k::bad_request;
    r.error = "the request target must be a path starting with '/'";
    return r;
  }
  for (char c : target)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      r.what = k::bad_request;
      r.error = "the request target holds a character that is not printable ASCII";
      return r;
    }
  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  if (auto hash = query.find('#'); hash != std::string_view::npos) query = query.substr(0, hash);

  if (path == "/" || path == "/index.html") {
    r.what = k::page;
  } else if (path == "/api/status") {
    r.what = k::endpoint;
    r.endpoint = http_endpoint::status;
  } else if (path == "/api/events") {
    r.what = k::endpoint;
    r.endpoint = http_endpoint::events;
  } else if (path == "/api/stream") {
    r.what = k::endpoint;
    r.endpoint = http_endpoint::stream;
  } else if (path == "/metrics") {
    r.what = k::endpoint;
    r.endpoint = http_endpoint::metrics;
  } else {
    r.what = k::not_found;
    r.error = "no such page: " + std::string(path) +
              " (there are /, /api/status, /api/events?n=N, /api/stream and /metrics)";
    return r;
  }
  if (method == "HEAD") {
    r.head = true;
  } else if (method != "GET") {
    r.what = k::method_not_allowed;
    r.error = "method " + std::string(method) + " is not allowed here; use GET or HEAD";
    return r;
  }
  if (r.what == k::endpoint && r.endpoint == http_endpoint::events) {
    std::string n;
    if (query_param(query, "n", n)) {
      bool digits = !n.empty() && n.size() <= 9;
      for (char c : n)
        digits = digits && std::isdigit(static_cast<unsigned char>(c));
      uint64_t v = digits ? std::stoull(n) : 0;
      if (!digits || v < 1 || v > max_events) {
        r.what = k::bad_request;
        r.error = "n must be a whole number from 1 to " + std::to_string(max_events) + ", not '" +
                  n + "'";
        return r;
      }
      r.n = v;
    }
  }
  return r;
}

} // namespace tandem::transports::http
