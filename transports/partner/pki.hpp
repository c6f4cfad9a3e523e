#pragma once
/// The node's certificate store (docs/PKI.md), laid out as OPC UA applications keep theirs:
///
///     <data_dir>/pki/own/certs/<THUMBPRINT>.der   this node's self-signed certificate
///     <data_dir>/pki/own/private/key.pem          its private key (mode 0600)
///     <data_dir>/pki/trusted/certs/*.der|*.pem    partner certificates an operator trusts
///     <data_dir>/pki/rejected/certs/<TP>.der      certificates that were presented and refused
///
/// A thumbprint is the SHA-1 of the certificate's DER bytes in upper-case hex (40 characters), as
/// UaExpert and the OPC UA SDKs show it. Trust is an exact match of the whole certificate by
/// thumbprint (self-signed certificates: no chains, no CAs); files in trusted/ are recognised by
/// their contents, whatever their names. Thread-safe: the partner transport checks certificates
/// on its thread while the CONSOLE moves them on another.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tandem::partner {

/// What the console and `tandem cert` show of a certificate.
struct cert_info {
  std::string thumbprint; ///< SHA-1 of the DER, upper-case hex
  std::string subject;    ///< "CN=node-a, O=Tandem"
  std::string common_name;
  int64_t not_before_ms = 0; ///< Unix ms
  int64_t not_after_ms = 0;
  std::string status; ///< own | trusted | rejected
  std::string path;   ///< the file it was read from
  std::vector<uint8_t> der;
};

/// A new key and self-signed certificate (EC P-256, SHA-256, CN = name, O = Tandem, SAN DNS:name,
/// random serial) valid from now + `valid_from_s` for `valid_for_s` seconds. Tests make expired
/// ones with a negative start.
struct identity {
  std::string key_pem;
  std::vector<uint8_t> cert_der;
};
bool make_identity(const std::string& name, int64_t valid_from_s, int64_t valid_for_s,
                   identity& out, std::string& error);

/// Parses DER or PEM certificate bytes; false with `error` when they are not a certificate.
bool parse_cert(const std::vector<uint8_t>& bytes, cert_info& out, std::string& error);

/// SHA-1 of `der` in upper-case hex.
std::string thumbprint_of(const std::vector<uint8_t>& der);

/// Upper-cases a thumbprint an operator typed and removes ':' and spaces; "" when it is not
/// 40 hex digits.
std::string normalize_thumbprint(const std::string& typed);

/// "2036-11-23T02:00:00.000Z"
std::string rfc3339_ms(int64_t unix_ms);

class pki_store {
public:
  /// rejected/ keeps at most this many certificates that peers presented (an operator's own
  /// reject and revoke always go there).
  static constexpr size_t max_rejected = 256;

  /// Opens (creating folders, key and certificate when missing) the store under `dir` for node
  /// `name`. `created` says whether a new identity was made. Null with `error` when it cannot.
  static std::shared_ptr<pki_store> open(const std::string& dir, const std::string& name,
                                         std::string& error, bool* created = nullptr);

  const std::string& dir() const { return dir_; }
  const cert_info& own() const { return own_; }
  const std::string& key_path() const { return key_path_; }
  const std::string& cert_path() const { return own_.path; }

  /// Own, trusted and rejected certificates (own first, then by status and subject).
  std::vector<cert_info> list() const;

  enum class verdict { trusted, untrusted, expired, not_yet_valid, invalid };
  /// Whether a presented certificate is trusted now (in trusted/ by thumbprint, and within its
  /// validity). An untrusted one is saved in rejected/ unless already there (or rejected/ holds
  /// max_rejected files). `info` is filled
  /// when the bytes parse.
  verdict check(const std::vector<uint8_t>& der, cert_info& info, int64_t now_ms);
  /// Whether a thumbprint is in trusted/ (for dropping a revoked partner at once).
  bool is_trusted(const std::string& thumbprint) const;

  /// Operator decisions; each answers "" or why not. approve: rejected/ (or a file) → trusted/;
  /// reject: a certificate in rejected/ stays refused and is removed from trusted/ if there;
  /// revoke: trusted/ → rejected/.
  std::string approve(const std::string& thumbprint);
  std::string reject(const std::string& thumbprint);
  std::string revoke(const std::string& thumbprint);
  /// Copies a certificate file (DER or PEM) into trusted/ as <TP>.der; its info in `out`.
  std::string trust_file(const std::string& path, cert_info* out = nullptr);

  /// Called (on the deciding thread) after every change to trusted/. Returning false removes the
  /// listener (its owner is gone).
  void on_change(std::function<bool()> f);

private:
  pki_store() = default;
  std::vector<cert_info> scan(const std::string& folder, const char* status) const;
  bool find(const std::string& folder, const std::string& tp, cert_info& out) const;
  void changed();

  std::string dir_, trusted_, rejected_, key_path_;
  cert_info own_;
  mutable std::mutex mtx_;
  std::mutex listeners_mtx_;
  std::vector<std::function<bool()>> listeners_;
};

} // namespace tandem::partner
