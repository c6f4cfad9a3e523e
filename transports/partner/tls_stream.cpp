#include "transports/partner/tls_stream.hpp"

#include <chrono>

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace tandem::partner {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using error_code = boost::system::error_code;

struct tls_stream::verdict {
  pki_store* pki = nullptr;
  bool checked = false;
  bool trusted = false;
  std::string text; ///< why the peer's certificate was refused
  std::string thumbprint, name;
};

namespace {

int verdict_index() {
  static int idx = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return idx;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Replaces OpenSSL's chain verification: the peer's own certificate must be in trusted/ and
/// valid now. Self-signed certificates have no chain to build.
int verify_peer(X509_STORE_CTX* store, void*) {
  auto* ssl_handle =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* v = ssl_handle
                ? static_cast<tls_stream::verdict*>(SSL_get_ex_data(ssl_handle, verdict_index()))
                : nullptr;
  X509* leaf = X509_STORE_CTX_get0_cert(store);
  if (!v || !leaf) {
    X509_STORE_CTX_set_error(store, X509_V_ERR_UNSPECIFIED);
    return 0;
  }
  v->checked = true;
  // The dialing side goes on with a certificate it does not trust, but only to the end of the
  // handshake, and sends nothing over it: that way the listening side gets to see (and keep in
  // rejected/) the dialer's certificate too, so operators on both nodes can approve each other.
  // Without it, TLS 1.3 ends before the client's certificate is sent.
  const bool defer = SSL_is_server(ssl_handle) == 0;
  int n = i2d_X509(leaf, nullptr);
  std::vector<uint8_t> der(n > 0 ? static_cast<size_t>(n) : 0);
  unsigned char* p = der.data();
  if (n > 0) i2d_X509(leaf, &p);
  cert_info info;
  auto verdict = v->pki->check(der, info, now_ms());
  std::string who = "thumbprint " + info.thumbprint + ", subject " + info.subject;
  switch (verdict) {
  case pki_store::verdict::trusted:
    v->trusted = true;
    v->thumbprint = info.thumbprint;
    v->name = info.common_name;
    return 1;
  case pki_store::verdict::untrusted:
    v->text = "certificate not trusted: " + who +
              " (kept in rejected/; an operator approves it with 'approve " + info.thumbprint +
              "')";
    if (defer) return 1;
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
  case pki_store::verdict::expired:
    v->text = "certificate expired on " + rfc3339_ms(info.not_after_ms) + ": " + who;
    if (defer) return 1;
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_HAS_EXPIRED);
    return 0;
  case pki_store::verdict::not_yet_valid:
    v->text = "certificate not valid before " + rfc3339_ms(info.not_before_ms) + ": " + who;
    if (defer) return 1;
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_NOT_YET_VALID);
    return 0;
  case pki_store::verdict::invalid:
    v->text = "the peer's certificate cannot be read";
    X509_STORE_CTX_set_error(store, X509_V_ERR_UNSPECIFIED);
    return 0;
  }
  return 0;
}

bool is_ssl(const error_code& ec) {
  return ec.category() == asio::error::get_ssl_category();
}

} // namespace

tls_context::tls_context(std::shared_ptr<pki_store> pki)
    : ctx_(ssl::context::tls), pki_(std::move(pki)) {}

std::shared_ptr<tls_context> tls_context::make(std::shared_ptr<pki_store> pki, std::string& error) {
  std::shared_ptr<tls_context> c(new tls_context(std::move(pki)));
  SSL_CTX* h = c->ctx_.native_handle();
  SSL_CTX_set_min_proto_version(h, TLS1_2_VERSION);
  // No session resumption: every connection presents and checks certificates afresh, so a
  // revoked certificate cannot come back on a resumed session.
  SSL_CTX_set_options(h, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_session_cache_mode(h, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(h, 0);
  error_code ec;
  c->ctx_.use_certificate(asio::buffer(c->pki_->own().der), ssl::context::asn1, ec);
  if (!ec) c->ctx_.use_private_key_file(c->pki_->key_path(), ssl::context::pem, ec);
  if (!ec && SSL_CTX_check_private_key(h) != 1)
    ec = error_code(static_cast<int>(ERR_get_error()), asio::error::get_ssl_category());
  if (ec) {
    error = "cannot use this node's certificate " + c->pki_->cert_path() + " with key " +
            c->pki_->key_path() + ": " + ec.message();
    return nullptr;
  }
  SSL_CTX_set_verify(h, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_cert_verify_callback(h, verify_peer, nullptr);
  return c;
}

tls_stream::tls_stream(asio::ip::tcp::socket s, std::shared_ptr<tls_context> ctx)
    : ctx_(std::move(ctx)), stream_(std::move(s), ctx_->ssl()),
      verdict_(std::make_unique<verdict>()) {
  verdict_->pki = &ctx_->pki();
  SSL_set_ex_data(stream_.native_handle(), verdict_index(), verdict_.get());
  error_code ec;
  auto ep = stream_.next_layer().remote_endpoint(ec);
  if (!ec) {
    host_ = ep.address().to_string();
    port_ = ep.port();
  }
  stream_.next_layer().set_option(asio::ip::tcp::no_delay(true), ec);
}

tls_stream::~tls_stream() {
  SSL_set_ex_data(stream_.native_handle(), verdict_index(), nullptr);
}

void tls_stream::handshake(bool server, std::chrono::milliseconds timeout,
                           std::function<void(tls_failure)> done) {
  auto timer = std::make_shared<asio::steady_timer>(stream_.get_executor(), timeout);
  auto timed_out = std::make_shared<bool>(false);
  timer->async_wait([this, timed_out](error_code ec) {
    if (ec) return;
    *timed_out = true;
    error_code ignored;
    stream_.next_layer().close(ignored);
  });
  stream_.async_handshake(
      server ? ssl::stream_base::server : ssl::stream_base::client,
      [this, timer, timed_out, timeout, done = std::move(done)](const error_code& ec) {
        timer->cancel();
        tls_failure f;
        if (!ec && verdict_->trusted) return done(f);
        f.cause = partner_down_cause::protocol_error;
        if (*timed_out) {
          f.text = "no TLS handshake within " + std::to_string(timeout.count()) +
                   " ms (a plain-text client, or a peer that does not speak TLS?)";
        } else if (verdict_->checked && !verdict_->trusted) {
          f.cause = partner_down_cause::untrusted;
          f.text = verdict_->text;
        } else if (auto why = refusal(ec); !why.empty()) {
          f.cause = partner_down_cause::untrusted;
          f.text = why;
        } else if (is_ssl(ec)) {
          int reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
          if (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_HTTP_REQUEST ||
              reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
              reason == SSL_R_RECORD_LENGTH_MISMATCH)
            f.text = "not a TLS connection: the peer sent plain bytes (" + ec.message() +
                     "); partner links need TLS on both nodes";
          else if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
            f.text = "the peer presented no certificate; partner links need one on both sides";
          else
            f.text = "TLS handshake failed: " + ec.message();
        } else if (ec == asio::error::eof || ec == ssl::error::stream_truncated) {
          f.cause = partner_down_cause::closed;
          f.text = "the peer closed the connection during the TLS handshake";
        } else if (ec) {
          f.cause = partner_down_cause::closed;
          f.text = "TLS handshake failed: " + ec.message();
        } else {
          f.text = "TLS handshake ended without a checked certificate";
        }
        done(std::move(f));
      });
}

void tls_stream::async_read_some(asio::mutable_buffer buf, handler h) {
  stream_.async_read_some(buf, [h = std::move(h)](const error_code& ec, size_t n) {
    // A peer that closes the socket without TLS close_notify: the same as EOF to the framing.
    if (ec == ssl::error::stream_truncated) return h(asio::error::eof, n);
    h(ec, n);
  });
}

void tls_stream::async_write(asio::const_buffer buf, handler h) {
  asio::async_write(stream_, buf, std::move(h));
}

void tls_stream::close() {
  error_code ignored;
  stream_.next_layer().close(ignored);
}

std::string tls_stream::peer_thumbprint() const {
  return verdict_->trusted ? verdict_->thumbprint : std::string{};
}

std::string tls_stream::peer_name() const {
  return verdict_->trusted ? verdict_->name : std::string{};
}

std::string tls_stream::refusal(const error_code& ec) const {
  if (!is_ssl(ec)) return {};
  int reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
  const auto& own = ctx_->pki().own();
  std::string mine =
      "this node's certificate (thumbprint " + own.thumbprint + ", subject " + own.subject + ")";
  switch (reason) {
  case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
  case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
  case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    return "certificate not trusted by the partner: it refused " + mine +
           "; an operator approves it there with 'approve " + own.thumbprint + "'";
  case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    return "the partner refused " + mine + " as expired (valid until " +
           rfc3339_ms(own.not_after_ms) + ")";
  case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
    return "the partner wanted a certificate and got none";
  default:
    return {};
  }
}

} // namespace tandem::partner
