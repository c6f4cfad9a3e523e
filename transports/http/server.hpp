#pragma once
/// The HTTP/1.1 server of the status page, JSON API and /metrics (Boost.Beast): keep-alive,
/// limits on headers and bodies, a bounded number of connections, clean 4xx answers, and
/// server-sent event streams. Knows nothing of actors: it serves the page itself and hands
/// requests to the API endpoints to an `http_handler`, which the node wires to the HTTP actor.

#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "messages/http.hpp"
#include "transports/http/request.hpp"

namespace tandem::transports::http {

/// Receives API requests. Called on the transport's thread; must not block.
class http_handler {
public:
  virtual ~http_handler() = default;
  virtual void on_request(http_request req) = 0;
  /// A started stream's connection closed.
  virtual void on_close(uint64_t exchange_id) = 0;
};

/// A complete HTTP/1.1 response as bytes: status line, Content-Type, Content-Length,
/// Connection, Cache-Control: no-store, then the body (left out for HEAD: `head`).
std::string make_response(int status, std::string_view content_type, std::string_view body,
                          bool keep_alive, bool head = false, std::string_view extra_headers = {});

class http_server {
public:
  /// `host`: a numeric address (127.0.0.1, ::1, 0.0.0.0); port 0 picks a free one.
  http_server(boost::asio::io_context& io, std::string host, uint16_t port, http_handler& handler,
              http_limits limits = {});
  ~http_server();

  /// Binds and starts accepting; false with a reason (address in use, bad address).
  bool start(std::string& error);
  /// The port bound (after start).
  uint16_t port() const;
  /// Stops accepting and closes every connection. Thread-safe.
  void stop();
  /// Connections open now.
  size_t connections() const;

  struct impl; ///< opaque: the acceptor and the connections

private:
  std::shared_ptr<impl> impl_;
};

} // namespace tandem::transports::http
