#include "transports/opcua/client/identity.hpp"

#include <memory>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

namespace tandem::opcua {

namespace {

constexpr const char* policy_none = "http://opcfoundation.org/UA/SecurityPolicy#None";
constexpr const char* rsa_oaep = "http://www.w3.org/2001/04/xmlenc#rsa-oaep";
constexpr const char* rsa_oaep_sha256 = "http://opcfoundation.org/UA/security/rsa-oaep-sha2-256";
constexpr const char* rsa_15 = "http://www.w3.org/2001/04/xmlenc#rsa-1_5";

bool ends_with(const std::string& s, const char* suffix) {
  std::string x(suffix);
  return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
}

} // namespace

result<UserNameIdentityToken> make_user_token(const UserTokenPolicy& policy,
                                              const String& endpoint_policy,
                                              const std::string& user, const std::string& password,
                                              const ByteString& server_certificate,
                                              const ByteString& server_nonce) {
  UserNameIdentityToken t;
  t.policy_id = policy.policy_id;
  t.user_name = String(user);
  // The token's own policy wins; an empty one means the endpoint's.
  std::string sp =
      policy.security_policy_uri.empty() ? endpoint_policy.str() : policy.security_policy_uri.str();
  if (sp.empty() || sp == policy_none) {
    t.password = ByteString::from_string(password);
    return t;
  }
  const char* algorithm = nullptr;
  int padding = RSA_PKCS1_OAEP_PADDING;
  const EVP_MD* md = EVP_sha1();
  if (ends_with(sp, "#Basic128Rsa15")) {
    algorithm = rsa_15;
    padding = RSA_PKCS1_PADDING;
  } else if (ends_with(sp, "#Aes256_Sha256_RsaPss")) {
    algorithm = rsa_oaep_sha256;
    md = EVP_sha256();
  } else if (ends_with(sp, "#Basic256") || ends_with(sp, "#Basic256Sha256") ||
             ends_with(sp, "#Aes128_Sha256_RsaOaep")) {
    algorithm = rsa_oaep;
  } else {
    return error{status::BadSecurityPolicyRejected,
                 "user-name policy '" + sp + "' is not supported"};
  }
  if (server_certificate.is_null() || server_certificate.empty())
    return error{status::BadIdentityTokenInvalid,
                 "the server wants the password encrypted (" + sp + ") but sent no certificate"};
  const unsigned char* p = server_certificate.span().data;
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      d2i_X509(nullptr, &p, static_cast<long>(server_certificate.span().size)), &X509_free);
  if (!cert)
    return error{status::BadIdentityTokenInvalid, "the server certificate cannot be parsed"};
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(X509_get_pubkey(cert.get()),
                                                          &EVP_PKEY_free);
  if (!key)
    return error{status::BadIdentityTokenInvalid, "the server certificate has no public key"};
  // Plain text: length (U32, LE) of password + nonce, the password, the server nonce.
  std::vector<uint8_t> plain;
  uint32_t len = static_cast<uint32_t>(password.size() + server_nonce.span().size);
  for (int i = 0; i < 4; ++i)
    plain.push_back(static_cast<uint8_t>(len >> (8 * i)));
  plain.insert(plain.end(), password.begin(), password.end());
  plain.insert(plain.end(), server_nonce.span().data,
               server_nonce.span().data + server_nonce.span().size);
  size_t key_bytes = static_cast<size_t>(EVP_PKEY_get_size(key.get()));
  size_t overhead =
      padding == RSA_PKCS1_PADDING ? 11 : 2 * static_cast<size_t>(EVP_MD_get_size(md)) + 2;
  if (key_bytes <= overhead) return error{status::BadIdentityTokenInvalid, "server key too small"};
  size_t block = key_bytes - overhead;
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new(key.get(), nullptr), &EVP_PKEY_CTX_free);
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) <= 0 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), padding) <= 0)
    return error{status::BadIdentityTokenInvalid, "cannot set up RSA encryption"};
  if (padding == RSA_PKCS1_OAEP_PADDING && (EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), md) <= 0 ||
                                            EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md) <= 0))
    return error{status::BadIdentityTokenInvalid, "cannot set up RSA-OAEP"};
  std::vector<uint8_t> out;
  for (size_t off = 0; off < plain.size(); off += block) {
    size_t n = std::min(block, plain.size() - off);
    size_t olen = key_bytes;
    std::vector<uint8_t> chunk(key_bytes);
    if (EVP_PKEY_encrypt(ctx.get(), chunk.data(), &olen, plain.data() + off, n) <= 0)
      return error{status::BadIdentityTokenInvalid, "RSA encryption of the password failed"};
    out.insert(out.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(olen));
  }
  t.password = ByteString(std::move(out));
  t.encryption_algorithm = String(algorithm);
  return t;
}

} // namespace tandem::opcua
