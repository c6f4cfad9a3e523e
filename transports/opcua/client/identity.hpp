#pragma once
/// User-name identity tokens: the password in clear when the policy allows it (SecurityPolicy
/// None), or encrypted with the server certificate's public key as the policy demands
/// (OPC 10000-4 §7.36.3: RSA-OAEP for Basic256/Basic256Sha256/Aes128, OAEP-SHA256 for
/// Aes256_Sha256_RsaPss, PKCS#1 v1.5 for Basic128Rsa15).

#include <string>

#include "transports/opcua/services.hpp"

namespace tandem::opcua {

/// Builds the token for `policy` (as the server announced it). `server_certificate` (DER) and
/// `server_nonce` come from CreateSession. BadIdentityTokenInvalid with a reason when the
/// password cannot be protected as the policy requires.
result<UserNameIdentityToken> make_user_token(const UserTokenPolicy& policy,
                                              const String& endpoint_policy,
                                              const std::string& user, const std::string& password,
                                              const ByteString& server_certificate,
                                              const ByteString& server_nonce);

} // namespace tandem::opcua
