#pragma once
/// Routing of HTTP requests to the status page and the API (docs/HTTP.md): pure functions over
/// the method and request target, tested without sockets.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "messages/http.hpp"

namespace tandem::transports::http {

/// Limits that keep a misbehaving client from hurting the node.
struct http_limits {
  size_t max_header = 8 * 1024; ///< request line and headers together; more: 431
  size_t max_body = 4 * 1024;   ///< a request body (every endpoint ignores it); more: 413
  size_t max_connections = 32;  ///< more at once: 503 and close
  /// A connection that sends no complete request for this long is closed.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(30);
  /// A response or stream write that does not finish in this long closes the connection.
  std::chrono::milliseconds write_timeout = std::chrono::seconds(10);
  /// A stream client this far behind is disconnected.
  size_t max_stream_queue = 1u << 20;
};

/// /api/events: N when none is given, and the most that may be asked for.
constexpr uint64_t default_events = 20;
constexpr uint64_t max_events = 10000;

/// Where a request goes.
struct route_result {
  enum class kind { page, endpoint, not_found, method_not_allowed, bad_request } what = kind::page;
  http_endpoint endpoint = http_endpoint::status;
  uint64_t n = default_events; ///< /api/events?n=N
  bool head = false;           ///< HEAD: the headers of GET without the body
  std::string error;           ///< for people, when not page or endpoint
};

/// Routes METHOD TARGET: "/" (and "/index.html") the page, "/api/status", "/api/events?n=N",
/// "/api/stream", "/metrics"; GET or HEAD only (405 names them); other paths 404; a target that
/// is not origin-form or a bad n is 400.
route_result route(std::string_view method, std::string_view target);

/// The value of query parameter `name` in "a=1&b=2" (percent-decoding not needed: values are
/// numbers); false when absent.
bool query_param(std::string_view query, std::string_view name, std::string& value);

} // namespace tandem::transports::http
