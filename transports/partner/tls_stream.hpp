#pragma once
/// The partner link's byte stream over TLS (1.2 at least, 1.3 preferred) with mutual
/// authentication: both nodes present their own certificate (pki.hpp) and each accepts the other's
/// only when it is in its trusted/ folder (exact match by thumbprint) and within its validity. A
/// certificate that is not trusted is saved in rejected/ for the operator to approve. The framing
/// above (session.hpp) is the same as over plain TCP.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include "messages/partner.hpp"
#include "transports/partner/pki.hpp"
#include "transports/partner/stream.hpp"

namespace tandem::partner {

/// This node's TLS settings: its own key and certificate and the store that judges the peer's.
class tls_context {
public:
  /// From the store's own key and certificate. Null with `error` when OpenSSL refuses them.
  static std::shared_ptr<tls_context> make(std::shared_ptr<pki_store> pki, std::string& error);
  boost::asio::ssl::context& ssl() { return ctx_; }
  pki_store& pki() { return *pki_; }
  const std::shared_ptr<pki_store>& pki_ptr() const { return pki_; }

private:
  explicit tls_context(std::shared_ptr<pki_store> pki);
  boost::asio::ssl::context ctx_;
  std::shared_ptr<pki_store> pki_;
};

/// Why a TLS handshake failed.
struct tls_failure {
  partner_down_cause cause = partner_down_cause::closed; ///< untrusted, protocol_error or closed
  std::string text;
};

class tls_stream : public byte_stream {
public:
  tls_stream(boost::asio::ip::tcp::socket s, std::shared_ptr<tls_context> ctx);
  ~tls_stream() override;

  /// Runs the handshake (server side when `server`), closing the socket when it takes longer
  /// than `timeout`. `done` gets an empty text on success. The stream must live until `done`.
  void handshake(bool server, std::chrono::milliseconds timeout,
                 std::function<void(tls_failure)> done);

  void async_read_some(boost::asio::mutable_buffer buf, handler h) override;
  void async_write(boost::asio::const_buffer buf, handler h) override;
  void close() override;
  std::string remote_host() const override { return host_; }
  uint16_t remote_port() const override { return port_; }
  std::string peer_thumbprint() const override;
  std::string peer_name() const override;
  std::string refusal(const boost::system::error_code& ec) const override;

  /// The TCP socket under the TLS layer (tests write raw bytes into it).
  boost::asio::ip::tcp::socket& socket() { return stream_.next_layer(); }

  struct verdict; ///< what the certificate check found (OpenSSL calls it during the handshake)

private:
  std::shared_ptr<tls_context> ctx_;
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
  std::unique_ptr<verdict> verdict_;
  std::string host_;
  uint16_t port_ = 0;
};

} // namespace tandem::partner
