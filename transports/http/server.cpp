#include "transports/http/server.hpp"

#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <optional>

#include <fcntl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

#include "transports/http/page.hpp"

namespace tandem::transports::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

std::atomic<uint64_t> next_exchange_id{1};

std::string json_error(const std::string& text) {
  std::string out = "{\"error\": \"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "\"}\n";
}

} // namespace

std::string make_response(int status, std::string_view content_type, std::string_view body,
                          bool keep_alive, bool head, std::string_view extra_headers) {
  std::string r = "HTTP/1.1 " + std::to_string(status) + " ";
  r += std::string(bhttp::obsolete_reason(bhttp::int_to_status(static_cast<unsigned>(status))));
  r += "\r\nContent-Type: ";
  r += content_type;
  r += "\r\nContent-Length: " + std::to_string(body.size());
  r += "\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: ";
  r += keep_alive ? "keep-alive" : "close";
  r += "\r\n";
  r += extra_headers;
  r += "\r\n";
  if (!head) r += body;
  return r;
}

class session;

struct http_server::impl : std::enable_shared_from_this<impl> {
  impl(asio::io_context& io, std::string host, uint16_t port, http_handler& handler,
       http_limits limits)
      : io(io), host(std::move(host)), port(port), handler(handler), limits(limits), acceptor(io),
        retry_timer(io) {}
  asio::io_context& io;
  std::string host;
  uint16_t port;
  http_handler& handler;
  http_limits limits;
  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;
  std::atomic<uint16_t> bound{0};
  std::atomic<size_t> count{0};
  bool stopped = false; // on the io thread only
  std::mutex mtx;
  std::map<uint64_t, std::weak_ptr<session>> sessions;

  void accept();
  void forget(uint64_t id) {
    std::lock_guard<std::mutex> g(mtx);
    sessions.erase(id);
  }
};

/// One connection: reads a request, answers it (the page here, the API through the handler),
/// then reads the next (keep-alive), until either side closes, a limit is hit, or it becomes a
/// server-sent event stream. Everything runs on the connection's strand.
class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket s, std::shared_ptr<http_server::impl> srv, uint64_t id)
      : stream_(std::move(s)), srv_(std::move(srv)), id_(id),
        buffer_(srv_->limits.max_header + srv_->limits.max_body + 1024) {
    ++srv_->count;
  }
  ~session() { --srv_->count; }

  void start() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }
  void close_from_outside() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->close(); });
  }

  // -- what the exchange asks for, posted onto the strand ----------------------------------
  void respond(int status, std::string content_type, std::string body, bool head) {
    asio::post(stream_.get_executor(),
               [self = shared_from_this(), status, ct = std::move(content_type),
                body = std::move(body), head]() mutable {
                 if (self->closed_ || !self->awaiting_) return;
                 self->awaiting_ = false;
                 self->finish(make_response(status, ct, body, self->keep_alive_, head));
               });
  }
  void start_stream(uint64_t exchange_id) {
    asio::post(stream_.get_executor(), [self = shared_from_this(), exchange_id] {
      if (self->closed_ || !self->awaiting_) return;
      self->awaiting_ = false;
      self->streaming_ = true;
      self->stream_exchange_ = exchange_id;
      self->send("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
                 "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
                 "Connection: close\r\n\r\nretry: 1000\n\n");
      self->probe();
    });
  }
  void push(std::string text) {
    asio::post(stream_.get_executor(),
               [self = shared_from_this(), text = std::move(text)]() mutable {
                 if (self->closed_ || !self->streaming_) return;
                 self->send(std::move(text));
               });
  }

private:
  void read() {
    if (closed_) return;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(srv_->limits.max_header));
    parser_->body_limit(srv_->limits.max_body);
    stream_.expires_after(srv_->limits.idle_timeout);
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (closed_) return;
    if (ec) {
      // The peer went away (between or within requests), or was idle too long: nothing to say.
      if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
          ec == beast::error::timeout || ec == asio::error::operation_aborted ||
          ec == asio::error::connection_reset || ec == asio::error::eof)
        return close();
      int status = 400;
      std::string why;
      if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
        status = 431;
        why = "the request line and headers exceed " + std::to_string(srv_->limits.max_header) +
              " bytes";
      } else if (ec == bhttp::error::body_limit) {
        status = 413;
        why = "the request body exceeds " + std::to_string(srv_->limits.max_body) + " bytes";
      } else {
        why = "malformed HTTP request: " + ec.message();
      }
      keep_alive_ = false;
      return finish(make_response(status, "application/json", json_error(why), false));
    }
    auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    auto r = route(std::string_view(req.method_string().data(), req.method_string().size()),
                   std::string_view(req.target().data(), req.target().size()));
    using k = route_result::kind;
    switch (r.what) {
    case k::page:
      // The page may only talk to this node: nothing from the internet, even if edited.
      return finish(make_response(200, "text/html; charset=utf-8", status_page(), keep_alive_,
                                  r.head,
                                  "Content-Security-Policy: default-src 'none'; "
                                  "style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
                                  "connect-src 'self'; img-src 'self' data:\r\n"));
    case k::not_found:
      return finish(
          make_response(404, "application/json", json_error(r.error), keep_alive_, r.head));
    case k::method_not_allowed:
      return finish(make_response(405, "application/json", json_error(r.error), keep_alive_, false,
                                  "Allow: GET, HEAD\r\n"));
    case k::bad_request:
      return finish(
          make_response(400, "application/json", json_error(r.error), keep_alive_, r.head));
    case k::endpoint:
      break;
    }
    if (r.endpoint == http_endpoint::stream && r.head)
      return finish(make_response(200, "text/event-stream; charset=utf-8", "", keep_alive_, true));
    awaiting_ = true;
    stream_.expires_never(); // the handler's answer has its own deadlines
    auto ex = std::make_shared<exchange>(shared_from_this(), next_exchange_id++, r.head);
    srv_->handler.on_request(http_request{std::move(ex), r.endpoint, r.n});
  }

  /// Sends a whole response, then reads the next request or closes.
  void finish(std::string bytes) {
    after_write_ = keep_alive_ ? then::read : then::close;
    send(std::move(bytes));
  }

  void send(std::string bytes) {
    queued_ += bytes.size();
    queue_.push_back(std::move(bytes));
    if (streaming_ && queued_ > srv_->limits.max_stream_queue) return close(); // not reading
    if (!writing_) write();
  }

  void write() {
    writing_ = true;
    stream_.expires_after(srv_->limits.write_timeout);
    asio::async_write(
        stream_, asio::buffer(queue_.front()),
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    writing_ = false;
    if (closed_) return;
    if (ec) return close();
    queued_ -= queue_.front().size();
    queue_.pop_front();
    if (!queue_.empty()) return write();
    if (streaming_) return;
    auto next = after_write_;
    after_write_ = then::wait;
    if (next == then::close) return close();
    if (next == then::read) return read();
  }

  /// A stream's client says nothing; a read that ends means it went away.
  void probe() {
    stream_.socket().async_read_some(asio::buffer(probe_buf_),
                                     [self = shared_from_this()](beast::error_code ec, size_t) {
                                       if (self->closed_) return;
                                       if (ec) return self->close();
                                       self->probe();
                                     });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
    queue_.clear();
    if (streaming_) srv_->handler.on_close(stream_exchange_);
    srv_->forget(id_);
  }

  /// The handle the HTTP actor answers through. It keeps the connection alive while the actor
  /// holds it (no socket operation is pending while the answer is being made); a closed
  /// connection ignores what it is asked.
  class exchange : public http_exchange {
  public:
    exchange(std::shared_ptr<session> s, uint64_t id, bool head)
        : s_(std::move(s)), id_(id), head_(head) {}
    uint64_t id() const override { return id_; }
    void respond(int status, std::string content_type, std::string body) override {
      s_->respond(status, std::move(content_type), std::move(body), head_);
    }
    void start_stream() override { s_->start_stream(id_); }
    void push(std::string text) override { s_->push(std::move(text)); }

  private:
    std::shared_ptr<session> s_;
    uint64_t id_;
    bool head_;
  };

  enum class then { wait, read, close };

  beast::tcp_stream stream_;
  std::shared_ptr<http_server::impl> srv_;
  uint64_t id_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::deque<std::string> queue_;
  size_t queued_ = 0;
  bool writing_ = false;
  bool closed_ = false;
  bool keep_alive_ = true;
  bool awaiting_ = false; ///< the handler has the request
  bool streaming_ = false;
  then after_write_ = then::wait;
  uint64_t stream_exchange_ = 0;
  char probe_buf_[256];
};

void http_server::impl::accept() {
  acceptor.async_accept(
      asio::make_strand(io), [self = shared_from_this()](beast::error_code ec, tcp::socket sock) {
        if (self->stopped) return;
        if (ec) {
          if (ec == asio::error::operation_aborted) return;
          // e.g. EMFILE: try again shortly, keep serving the open connections
          self->retry_timer.expires_after(std::chrono::milliseconds(100));
          self->retry_timer.async_wait([self](beast::error_code e) {
            if (!e && !self->stopped) self->accept();
          });
          return;
        }
        if (self->count >= self->limits.max_connections) {
          auto msg = std::make_shared<std::string>(make_response(
              503, "application/json",
              json_error("too many connections (at most " +
                         std::to_string(self->limits.max_connections) + "); try again later"),
              false));
          auto s = std::make_shared<tcp::socket>(std::move(sock));
          asio::async_write(*s, asio::buffer(*msg), [s, msg](beast::error_code, size_t) {
            beast::error_code ignored;
            s->shutdown(tcp::socket::shutdown_both, ignored);
            s->close(ignored);
          });
        } else {
          static std::atomic<uint64_t> next_session{1};
          uint64_t id = next_session++;
          auto sess = std::make_shared<session>(std::move(sock), self, id);
          {
            std::lock_guard<std::mutex> g(self->mtx);
            self->sessions[id] = sess;
          }
          sess->start();
        }
        self->accept();
      });
}

http_server::http_server(asio::io_context& io, std::string host, uint16_t port,
                         http_handler& handler, http_limits limits)
    : impl_(std::make_shared<impl>(io, std::move(host), port, handler, limits)) {}

http_server::~http_server() {
  stop();
}

bool http_server::start(std::string& error) {
  beast::error_code ec;
  auto addr = asio::ip::make_address(impl_->host, ec);
  if (ec) {
    error = "cannot serve HTTP on " + impl_->host + ":" + std::to_string(impl_->port) + ": '" +
            impl_->host + "' is not a numeric IP address";
    return false;
  }
  tcp::endpoint ep(addr, impl_->port);
  auto fail = [&](const char* what) {
    error = "cannot serve HTTP on " + impl_->host + ":" + std::to_string(impl_->port) + ": " +
            what + ": " + ec.message();
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
    return false;
  };
  impl_->acceptor.open(ep.protocol(), ec);
  if (ec) return fail("open");
  // Child processes of the host must not inherit the listening socket (it would keep the port
  // bound after stop()).
  ::fcntl(impl_->acceptor.native_handle(), F_SETFD, FD_CLOEXEC);
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  impl_->acceptor.bind(ep, ec);
  if (ec) return fail("bind");
  impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  impl_->bound = impl_->acceptor.local_endpoint(ec).port();
  impl_->accept();
  return true;
}

uint16_t http_server::port() const {
  return impl_->bound;
}

size_t http_server::connections() const {
  return impl_->count;
}

void http_server::stop() {
  auto im = impl_;
  asio::post(im->io, [im] {
    if (im->stopped) return;
    im->stopped = true;
    beast::error_code ignored;
    im->acceptor.close(ignored);
    im->retry_timer.cancel();
    std::map<uint64_t, std::weak_ptr<session>> all;
    {
      std::lock_guard<std::mutex> g(im->mtx);
      all.swap(im->sessions);
    }
    for (auto& [id, w] : all)
      if (auto s = w.lock()) s->close_from_outside();
  });
}

} // namespace tandem::transports::http
