#pragma once
/// What the HTTP transport hands the HTTP actor: one request to an endpoint of the status page
/// and API (docs/HTTP.md), with the handle to answer it through.

#include <cstdint>
#include <memory>
#include <string>

namespace tandem {

/// The endpoints the HTTP actor answers; the transport answers everything else itself (404,
/// 405, 400, 413, 431) and serves the page.
enum class http_endpoint : uint8_t { status, events, metrics, stream };

/// One HTTP request being answered. Thread-safe: the HTTP actor calls it from any scheduler
/// thread; calls after the connection closed are ignored.
class http_exchange {
public:
  virtual ~http_exchange() = default;
  /// Unique per process; also sent with `closed` when a stream's connection ends.
  virtual uint64_t id() const = 0;
  /// Answers the request (once): status code, Content-Type and body.
  virtual void respond(int status, std::string content_type, std::string body) = 0;
  /// Answers with a server-sent event stream: the headers now, then every `push`.
  virtual void start_stream() = 0;
  /// Sends raw text on a started stream ("event: status\ndata: {...}\n\n").
  virtual void push(std::string text) = 0;
};

/// A request to one of the actor's endpoints.
struct http_request {
  std::shared_ptr<http_exchange> exchange;
  http_endpoint endpoint = http_endpoint::status;
  uint64_t n = 0; ///< /api/events?n=N (the default filled in by the transport)
};

} // namespace tandem
