#pragma once
/// The byte stream a partner link runs over. The framing (session.hpp) only ever sees bytes, so a
/// TLS stream (issue #7) is another implementation of this interface: it does its handshake
/// before the link's HELLO, and nothing above it changes.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

namespace tandem::partner {

/// An ordered, reliable byte stream. Completion handlers run on the executor the stream was made
/// with (the link's strand); one read and one write may be outstanding at a time.
class byte_stream {
public:
  using handler = std::function<void(const boost::system::error_code&, size_t)>;
  virtual ~byte_stream() = default;
  /// Reads at least one byte into `buf` (or fails: eof, reset, aborted by close()).
  virtual void async_read_some(boost::asio::mutable_buffer buf, handler h) = 0;
  /// Writes all of `buf` (the caller keeps it alive until `h`).
  virtual void async_write(boost::asio::const_buffer buf, handler h) = 0;
  /// Closes at once; outstanding operations complete with operation_aborted.
  virtual void close() = 0;
  /// Remote address ("" when not connected) and port, for diagnostics and the death probe.
  virtual std::string remote_host() const = 0;
  virtual uint16_t remote_port() const = 0;
  /// The authenticated peer (TLS): its certificate's thumbprint and common name; "" for plain TCP.
  virtual std::string peer_thumbprint() const { return {}; }
  virtual std::string peer_name() const { return {}; }
  /// When a read or write error means the peer refused this node's certificate, says so for
  /// people ("" otherwise): the link then reports it as untrusted, not as a network failure.
  virtual std::string refusal(const boost::system::error_code&) const { return {}; }
};

/// Plain TCP.
class tcp_stream : public byte_stream {
public:
  explicit tcp_stream(boost::asio::ip::tcp::socket s);
  void async_read_some(boost::asio::mutable_buffer buf, handler h) override;
  void async_write(boost::asio::const_buffer buf, handler h) override;
  void close() override;
  std::string remote_host() const override { return host_; }
  uint16_t remote_port() const override { return port_; }
  boost::asio::ip::tcp::socket& socket() { return socket_; }

private:
  boost::asio::ip::tcp::socket socket_;
  std::string host_;
  uint16_t port_ = 0;
};

} // namespace tandem::partner
