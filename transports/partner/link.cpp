#include "transports/partner/link.hpp"

#include <array>
#include <atomic>
#include <deque>
#include <functional>
#include <map>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "transports/partner/session.hpp"
#include "transports/partner/stream.hpp"
#include "transports/partner/tls_stream.hpp"

namespace tandem::partner {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using strand_type = asio::strand<asio::io_context::executor_type>;

namespace {

struct core;

/// One connection: its stream, its protocol session, a two-level write queue (control frames
/// before SYNC data) and the handshake deadline. Lives on the core's strand.
class connection : public std::enable_shared_from_this<connection> {
public:
  connection(std::shared_ptr<core> c, uint64_t id, bool inbound,
             std::unique_ptr<byte_stream> stream);
  void start();
  void accept();
  void refuse(const std::string& reason);
  void heartbeat(uint64_t seq, uint64_t ns) {
    if (sess_.send_heartbeat(seq, ns)) pump();
  }
  void heartbeat_ack(uint64_t seq, uint64_t ns) {
    if (sess_.send_heartbeat_ack(seq, ns)) pump();
  }
  void sync(const sync_payload& p) {
    if (sess_.send_sync(p)) pump();
  }
  /// Local close: CLOSE sent, then the socket closed; `report` says whether down is reported.
  void close(const std::string& reason, bool report, partner_down_cause cause, std::string text);
  /// Abrupt close (fault drop_link): reported as a network failure would be.
  void drop();
  /// Closes without a report (transport stop).
  void kill();
  bool handshaking() const { return !sess_.up() && !finished_; }
  /// Closes the link when the peer's certificate is no longer trusted (operator revoke/reject).
  void recheck_trust();

private:
  void read();
  void handle(std::vector<session_event>& events);
  void pump();
  void write_next();
  void finish(partner_down_cause cause, std::string text, bool abrupt, bool report);
  void shut();

  std::shared_ptr<core> core_;
  uint64_t id_;
  bool inbound_;
  std::unique_ptr<byte_stream> stream_;
  session sess_;
  std::deque<std::vector<uint8_t>> control_, data_;
  std::vector<uint8_t> current_;
  size_t queued_ = 0;
  bool writing_ = false;
  bool finished_ = false; ///< down reported (or not to be reported); only flushing remains
  bool closed_ = false;   ///< socket closed
  asio::steady_timer deadline_;
  std::array<uint8_t, 65536> buf_{};
};

/// The transport's state; every member is touched only on `strand`.
struct core : std::enable_shared_from_this<core> {
  core(asio::io_context& io, tcp_link_options o, partner_hello h, std::shared_ptr<link_events> e)
      : strand(asio::make_strand(io)), opts(std::move(o)), own(std::move(h)), events(std::move(e)),
        acceptor(strand) {}

  strand_type strand;
  tcp_link_options opts;
  partner_hello own;
  std::shared_ptr<link_events> events;
  tcp::acceptor acceptor;
  std::atomic<uint64_t> next_id{1};
  std::atomic<uint16_t> port{0};
  /// Weak: a connection lives through its pending handlers (a read is always pending while it is
  /// open), so nothing here keeps a connection, and with it this core, alive in a cycle.
  std::map<uint64_t, std::weak_ptr<connection>> conns;
  bool stopped = false;
  std::chrono::milliseconds delay{0}; ///< fault delay_link
  size_t tls_pending = 0;             ///< accepted connections in their TLS handshake

  /// Wraps a connected socket: plain TCP, or TLS whose handshake runs first; then the
  /// connection (HELLO…) starts. A failed TLS handshake reports down with its cause.
  void connected(uint64_t id, bool inbound, tcp::socket s) {
    if (!opts.tls) {
      auto c = std::make_shared<connection>(shared_from_this(), id, inbound,
                                            std::make_unique<tcp_stream>(std::move(s)));
      conns[id] = c;
      return c->start();
    }
    auto holder = std::make_shared<std::unique_ptr<tls_stream>>(
        std::make_unique<tls_stream>(std::move(s), opts.tls));
    if (inbound) ++tls_pending;
    auto* raw = holder->get();
    raw->handshake(inbound, opts.handshake_timeout,
                   [self = shared_from_this(), id, inbound, holder](tls_failure f) {
                     if (inbound) --self->tls_pending;
                     if (self->stopped) return (*holder)->close();
                     if (!f.text.empty()) {
                       (*holder)->close();
                       // No address in the text: the actor tells each distinct failure once, and a
                       // retry comes from a new port every time.
                       return self->events->down(pl_down{id, f.cause, std::move(f.text), false});
                     }
                     auto c = std::make_shared<connection>(self, id, inbound, std::move(*holder));
                     self->conns[id] = c;
                     c->start();
                   });
  }

  void recheck_trust() {
    for (auto& [id, weak] : conns)
      if (auto c = weak.lock()) c->recheck_trust();
  }

  void forget(uint64_t id) { conns.erase(id); }

  /// Runs `f` now, or after the injected delay.
  void later(std::function<void()> f) {
    if (delay.count() <= 0) return f();
    auto t = std::make_shared<asio::steady_timer>(strand, delay);
    t->async_wait([t, f = std::move(f)](error_code ec) {
      if (!ec) f();
    });
  }

  template <class F> void with(uint64_t id, F f) {
    asio::post(strand, [self = shared_from_this(), id, f = std::move(f)]() mutable {
      auto it = self->conns.find(id);
      if (it == self->conns.end()) return;
      if (auto keep = it->second.lock()) f(*keep); // keep: the call may remove it from the map
    });
  }

  void start_accept() {
    acceptor.async_accept(strand, [self = shared_from_this()](error_code ec, tcp::socket s) {
      if (self->stopped || !self->acceptor.is_open()) return;
      if (!ec) {
        size_t pending = 0;
        for (auto& [id, weak] : self->conns)
          if (auto c = weak.lock(); c && c->handshaking()) ++pending;
        pending += self->tls_pending;
        if (pending >= self->opts.max_pending) {
          error_code ignored;
          s.close(ignored); // a flood of connections: the real partner retries
        } else {
          self->connected(self->next_id++, true, std::move(s));
        }
      }
      self->start_accept();
    });
  }

  void dial(uint64_t id) {
    auto self = shared_from_this();
    auto where = opts.partner_host + ":" + std::to_string(opts.partner_port);
    if (opts.partner_host.empty() || opts.partner_port == 0)
      return events->down(pl_down{id, partner_down_cause::closed, "no partner address", false});
    auto resolver = std::make_shared<tcp::resolver>(strand);
    resolver->async_resolve(
        opts.partner_host, std::to_string(opts.partner_port),
        [self, id, resolver, where](error_code ec, tcp::resolver::results_type results) {
          if (self->stopped) return;
          if (ec || results.empty())
            return self->events->down(pl_down{id, partner_down_cause::closed,
                                              "cannot resolve " + where + ": " + ec.message(),
                                              false});
          tcp::endpoint ep = results.begin()->endpoint();
          auto sock = std::make_shared<tcp::socket>(self->strand);
          error_code oec;
          sock->open(ep.protocol(), oec);
          if (!oec && !self->opts.bind_host.empty()) {
            auto addr = asio::ip::make_address(self->opts.bind_host, oec);
            if (!oec) sock->bind(tcp::endpoint(addr, 0), oec);
            if (oec)
              return self->events->down(pl_down{
                  id, partner_down_cause::closed,
                  "cannot bind the link to " + self->opts.bind_host + ": " + oec.message(), false});
          }
          if (oec)
            return self->events->down(pl_down{id, partner_down_cause::closed,
                                              "cannot open a socket: " + oec.message(), false});
          auto timer = std::make_shared<asio::steady_timer>(self->strand);
          timer->expires_after(self->opts.connect_timeout);
          timer->async_wait([sock](error_code tec) {
            if (!tec) {
              error_code ignored;
              sock->close(ignored);
            }
          });
          sock->async_connect(ep, [self, id, sock, timer, where](error_code cec) {
            bool timed_out = !sock->is_open();
            timer->cancel();
            if (self->stopped) return;
            if (cec) {
              std::string why = timed_out
                                    ? "no answer within " +
                                          std::to_string(self->opts.connect_timeout.count()) + " ms"
                                    : cec.message();
              return self->events->down(pl_down{id, partner_down_cause::closed,
                                                "cannot connect to " + where + ": " + why, false});
            }
            self->connected(id, false, std::move(*sock));
          });
        });
  }

  /// A process being killed closes its sockets one after the other: the link's connection may
  /// close a moment before its listening sockets do (it can hold the lower file descriptor). So a
  /// probe that finds a port still accepting looks again a few times over ~35 ms before it says
  /// "may be alive"; a live partner keeps accepting and only the heartbeat rule decides then.
  static constexpr int probe_attempts = 4;

  /// What a probe connect found at one port.
  enum class port_answer { accepts, refused, reset, no_answer, other };
  static const char* words(port_answer a) {
    switch (a) {
    case port_answer::accepts:
      return "accepts connections";
    case port_answer::refused:
      return "refused";
    case port_answer::reset:
      return "reset";
    case port_answer::no_answer:
      return "no answer";
    case port_answer::other:
      break;
    }
    return "";
  }

  void probe(uint64_t id, const std::string& host, uint16_t link_port, const std::string& face_host,
             uint16_t face_port, int attempt = 1) {
    struct state {
      int left = 2;
      bool refused[2] = {false, false};
      bool accepting[2] = {false, false};
      std::string what[2];
    };
    auto st = std::make_shared<state>();
    auto self = shared_from_this();
    error_code aec[2];
    asio::ip::address addrs[2] = {asio::ip::make_address(host, aec[0]),
                                  asio::ip::make_address(face_host, aec[1])};
    uint16_t ports[2] = {link_port, face_port};
    const char* names[2] = {"link port", "face port"};
    std::string where = host == face_host ? host : host + " and " + face_host;
    auto done = [self, id, st, names, ports, host, face_host, where,
                 attempt](int i, port_answer answer, const std::string& other) {
      st->what[i] = std::string(names[i]) + " " + std::to_string(ports[i]) + ": " +
                    (answer == port_answer::other ? other : words(answer));
      st->refused[i] = answer == port_answer::refused;
      // Accepting, or reset while connecting (a listener closed with the SYN in its queue).
      st->accepting[i] = answer == port_answer::accepts || answer == port_answer::reset;
      if (--st->left > 0 || self->stopped) return;
      bool gone = st->refused[0] && st->refused[1];
      bool dying = (st->refused[0] || st->accepting[0]) && (st->refused[1] || st->accepting[1]);
      if (!gone && dying && attempt < probe_attempts) {
        auto t = std::make_shared<asio::steady_timer>(self->strand);
        t->expires_after(std::chrono::milliseconds(5 << (attempt - 1)));
        t->async_wait([self, t, id, host, face_host, ports, attempt](error_code ec) {
          if (!ec && !self->stopped)
            self->probe(id, host, ports[0], face_host, ports[1], attempt + 1);
        });
        return;
      }
      self->events->probe(
          pl_probe{id, gone,
                   "probe of " + where + ": " + st->what[0] + ", " + st->what[1] +
                       (gone ? ": the partner process is gone" : ": the partner may be alive")});
    };
    for (int i = 0; i < 2; ++i) {
      if (aec[i] || ports[i] == 0) {
        done(i, port_answer::other, aec[i] ? "bad address" : "unknown");
        continue;
      }
      auto sock = std::make_shared<tcp::socket>(strand);
      auto timer = std::make_shared<asio::steady_timer>(strand);
      timer->expires_after(opts.probe_timeout);
      timer->async_wait([sock](error_code tec) {
        if (!tec) {
          error_code ignored;
          sock->close(ignored);
        }
      });
      sock->async_connect(tcp::endpoint(addrs[i], ports[i]), [sock, timer, done, i](error_code ec) {
        bool timed_out = !sock->is_open();
        timer->cancel();
        error_code ignored;
        sock->close(ignored);
        if (!ec)
          done(i, port_answer::accepts, "");
        else if (ec == asio::error::connection_refused)
          done(i, port_answer::refused, "");
        else if (ec == asio::error::connection_reset || ec == asio::error::connection_aborted)
          done(i, port_answer::reset, "");
        else if (timed_out)
          done(i, port_answer::no_answer, "");
        else
          done(i, port_answer::other, ec.message());
      });
    }
  }
};

connection::connection(std::shared_ptr<core> c, uint64_t id, bool inbound,
                       std::unique_ptr<byte_stream> stream)
    : core_(std::move(c)), id_(id), inbound_(inbound), stream_(std::move(stream)),
      sess_(core_->own, core_->opts.max_frame), deadline_(core_->strand) {}

void connection::start() {
  sess_.start();
  pump();
  // A peer that sends nothing, or not a whole handshake, is dropped after the deadline.
  deadline_.expires_after(core_->opts.handshake_timeout);
  deadline_.async_wait([self = shared_from_this()](error_code ec) {
    if (ec || self->finished_ || self->sess_.up()) return;
    std::vector<session_event> events;
    self->sess_.close("protocol error: no handshake within " +
                          std::to_string(self->core_->opts.handshake_timeout.count()) + " ms",
                      partner_down_cause::protocol_error,
                      "protocol error: no complete handshake within " +
                          std::to_string(self->core_->opts.handshake_timeout.count()) + " ms",
                      events);
    self->handle(events);
  });
  read();
}

void connection::read() {
  if (closed_) return;
  stream_->async_read_some(
      asio::buffer(buf_), [self = shared_from_this()](const error_code& ec, size_t n) {
        if (self->closed_ || self->finished_) return;
        if (ec) {
          if (auto why = self->stream_->refusal(ec); !why.empty())
            return self->finish(partner_down_cause::untrusted, why, false, true);
          std::string text;
          if (ec == asio::error::eof)
            text = self->sess_.up() ? "the partner closed the connection"
                                    : "the peer closed the connection during the handshake";
          else
            text = "connection error: " + ec.message();
          return self->finish(partner_down_cause::closed, text, true, true);
        }
        std::vector<session_event> events;
        self->sess_.receive(bytes_view(self->buf_.data(), n), events);
        self->handle(events);
        self->read();
      });
}

void connection::handle(std::vector<session_event>& events) {
  pump();
  for (auto& e : events) {
    if (finished_) return;
    switch (e.what) {
    case session_event::kind::hello: {
      auto cert_name = stream_->peer_name();
      if (!stream_->peer_thumbprint().empty() && cert_name != e.hello.node_name) {
        // A trusted certificate proves who holds the key; a HELLO naming someone else is a lie.
        auto text = "the peer's HELLO names it " + e.hello.node_name +
                    " but its certificate is issued to " + cert_name + " (thumbprint " +
                    stream_->peer_thumbprint() + ")";
        std::vector<session_event> more;
        sess_.close("certificate does not match the node name", partner_down_cause::untrusted, text,
                    more);
        pump();
        return finish(partner_down_cause::untrusted, text, false, true);
      }
      core_->events->hello(pl_hello{id_, inbound_, std::move(e.hello)});
      break;
    }
    case session_event::kind::up:
      deadline_.cancel();
      core_->events->up(pl_up{id_, stream_->remote_host(), stream_->remote_port()});
      break;
    case session_event::kind::heartbeat:
    case session_event::kind::heartbeat_ack:
      core_->later([c = core_, m = pl_heartbeat{id_, e.what == session_event::kind::heartbeat_ack,
                                                e.seq, e.time_ns}] { c->events->heartbeat(m); });
      break;
    case session_event::kind::sync:
      core_->later([c = core_, m = pl_sync{id_, std::move(e.sync)}] { c->events->sync(m); });
      break;
    case session_event::kind::failed:
      finish(e.cause, e.text, false, true);
      break;
    }
  }
}

void connection::pump() {
  for (auto& f : sess_.take_output()) {
    if (closed_) return;
    queued_ += f.bytes.size();
    (f.control ? control_ : data_).push_back(std::move(f.bytes));
  }
  if (queued_ > core_->opts.max_queued_bytes && !finished_) {
    auto text = "the partner does not read: " + std::to_string(queued_) +
                " bytes wait to be sent (limit " + std::to_string(core_->opts.max_queued_bytes) +
                ")";
    finish(partner_down_cause::closed, text, false, true);
    return shut();
  }
  write_next();
}

void connection::write_next() {
  if (writing_ || closed_) return;
  auto& q = !control_.empty() ? control_ : data_;
  if (q.empty()) {
    if (finished_) shut(); // everything queued before the end (REFUSE, CLOSE) is out
    return;
  }
  current_ = std::move(q.front());
  q.pop_front();
  writing_ = true;
  stream_->async_write(asio::buffer(current_), [self = shared_from_this()](const error_code& ec,
                                                                           size_t) {
    self->writing_ = false;
    self->queued_ -= self->current_.size();
    self->current_.clear();
    if (self->closed_) return;
    if (ec) {
      if (!self->finished_)
        self->finish(partner_down_cause::closed, "connection error: " + ec.message(), true, true);
      return self->shut();
    }
    self->write_next();
  });
}

void connection::finish(partner_down_cause cause, std::string text, bool abrupt, bool report) {
  if (finished_) return;
  finished_ = true;
  deadline_.cancel();
  if (report && !core_->stopped) core_->events->down(pl_down{id_, cause, std::move(text), abrupt});
  if (abrupt) return shut();
  // Flush what the session queued last (REFUSE, CLOSE) for at most a second, then close.
  deadline_.expires_after(std::chrono::seconds(1));
  deadline_.async_wait([self = shared_from_this()](error_code ec) {
    if (!ec) self->shut();
  });
  write_next();
}

void connection::shut() {
  if (closed_) return;
  closed_ = true;
  deadline_.cancel();
  stream_->close();
  control_.clear();
  data_.clear();
  core_->forget(id_);
}

void connection::accept() {
  std::vector<session_event> events;
  sess_.accept(events);
  handle(events);
}

void connection::refuse(const std::string& reason) {
  std::vector<session_event> events;
  sess_.refuse(reason, events);
  handle(events);
}

void connection::close(const std::string& reason, bool report, partner_down_cause cause,
                       std::string text) {
  if (finished_) return;
  std::vector<session_event> events;
  sess_.close(reason, cause, text, events);
  pump();
  finish(cause, std::move(text), false, report);
}

void connection::recheck_trust() {
  auto tp = stream_->peer_thumbprint();
  if (finished_ || tp.empty() || core_->opts.tls->pki().is_trusted(tp)) return;
  close("this node no longer trusts your certificate", true, partner_down_cause::untrusted,
        "certificate no longer trusted (revoked or rejected by an operator): thumbprint " + tp +
            ", " + stream_->peer_name());
}

void connection::drop() {
  if (finished_) return;
  finish(partner_down_cause::closed, "the link was dropped (fault drop_link)", true, true);
}

void connection::kill() {
  finished_ = true;
  shut();
}

class tcp_transport : public link_transport {
public:
  tcp_transport(asio::io_context& io, tcp_link_options opts, partner_hello own,
                std::shared_ptr<link_events> events)
      : core_(std::make_shared<core>(io, std::move(opts), std::move(own), std::move(events))) {
    if (core_->opts.tls) {
      std::weak_ptr<core> weak = core_;
      core_->opts.tls->pki().on_change([weak] {
        auto c = weak.lock();
        if (!c) return false;
        asio::post(c->strand, [c] {
          if (!c->stopped) c->recheck_trust();
        });
        return true;
      });
    }
  }
  ~tcp_transport() override { stop(); }

  std::string listen() override {
    auto& o = core_->opts;
    if (o.listen_host.empty()) return "";
    error_code ec;
    auto addr = asio::ip::make_address(o.listen_host, ec);
    if (ec) return "cannot listen on " + o.listen_host + ": not an IP address";
    tcp::endpoint ep(addr, o.listen_port);
    std::string where = o.listen_host + ":" + std::to_string(o.listen_port);
    // The acceptor is set up here (before any handler can run), then only used on the strand.
    core_->acceptor.open(ep.protocol(), ec);
    if (!ec) core_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) core_->acceptor.bind(ep, ec);
    if (!ec) core_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      error_code ignored;
      core_->acceptor.close(ignored);
      return "cannot listen on " + where + ": " + ec.message();
    }
    core_->port = core_->acceptor.local_endpoint(ec).port();
    asio::post(core_->strand, [c = core_] { c->start_accept(); });
    return "";
  }

  uint16_t listen_port() const override { return core_->port; }

  uint64_t dial() override {
    auto id = core_->next_id++;
    asio::post(core_->strand, [c = core_, id] {
      if (!c->stopped) c->dial(id);
    });
    return id;
  }

  void set_hello(const partner_hello& h) override {
    asio::post(core_->strand, [c = core_, h] { c->own = h; });
  }
  void accept(uint64_t conn) override {
    core_->with(conn, [](connection& c) { c.accept(); });
  }
  void refuse(uint64_t conn, const std::string& reason) override {
    core_->with(conn, [reason](connection& c) { c.refuse(reason); });
  }
  void heartbeat(uint64_t conn, uint64_t seq, uint64_t ns) override {
    delayed(conn, [seq, ns](connection& c) { c.heartbeat(seq, ns); });
  }
  void heartbeat_ack(uint64_t conn, uint64_t seq, uint64_t ns) override {
    delayed(conn, [seq, ns](connection& c) { c.heartbeat_ack(seq, ns); });
  }
  void sync(uint64_t conn, sync_payload p) override {
    delayed(conn, [p = std::move(p)](connection& c) { c.sync(p); });
  }
  void set_delay(std::chrono::milliseconds d) override {
    asio::post(core_->strand, [c = core_, d] { c->delay = d; });
  }
  void close(uint64_t conn, const std::string& reason) override {
    core_->with(conn, [reason](connection& c) {
      c.close(reason, false, partner_down_cause::closed, "closed by this node: " + reason);
    });
  }
  void drop(uint64_t conn) override {
    core_->with(conn, [](connection& c) { c.drop(); });
  }
  void probe(uint64_t conn, const std::string& host, uint16_t link_port,
             const std::string& face_host, uint16_t face_port) override {
    asio::post(core_->strand, [c = core_, conn, host, link_port, face_host, face_port] {
      if (!c->stopped)
        c->probe(conn, host, link_port, face_host.empty() ? host : face_host, face_port);
    });
  }
  void stop() override {
    asio::post(core_->strand, [c = core_] {
      if (c->stopped) return;
      c->stopped = true;
      error_code ignored;
      c->acceptor.close(ignored);
      auto conns = std::move(c->conns);
      c->conns.clear();
      for (auto& [id, weak] : conns)
        if (auto conn = weak.lock()) conn->kill();
    });
  }

private:
  /// A command to a connection, held for the injected delay first (if any).
  template <class F> void delayed(uint64_t conn, F f) {
    asio::post(core_->strand, [c = core_, conn, f = std::move(f)]() mutable {
      c->later([c, conn, f = std::move(f)]() mutable { c->with(conn, std::move(f)); });
    });
  }

  std::shared_ptr<core> core_;
};

} // namespace

std::unique_ptr<link_transport> make_tcp_transport(asio::io_context& io, tcp_link_options opts,
                                                   partner_hello own,
                                                   std::shared_ptr<link_events> events) {
  return std::make_unique<tcp_transport>(io, std::move(opts), std::move(own), std::move(events));
}

} // namespace tandem::partner
