#pragma once
/// Salted password hashes for the OPC UA face's user-name logins (`[[face.user]]`): what
/// `tandem passwd` makes and what the face checks a login against. The config never holds a
/// password, only this hash.
///
/// Format (PBKDF2-HMAC-SHA256, as passlib and others write it, with standard base64):
///   $pbkdf2-sha256$<iterations>$<salt, base64>$<derived key, base64>
/// 16 random bytes of salt, a 32-byte key, 200,000 iterations by default (about 0.1 s here:
/// guessing is slow, a login is not). The check compares in constant time.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tandem::config {

struct password_hash {
  uint32_t iterations = 0;
  std::vector<uint8_t> salt;
  std::vector<uint8_t> key;
};

inline constexpr uint32_t default_password_iterations = 200'000;

/// A new hash of `password` with a fresh random salt; "" if the system's random source fails.
std::string hash_password(const std::string& password,
                          uint32_t iterations = default_password_iterations);

/// Parses a hash; nullopt with `why` (for the config checker) when it is not one.
std::optional<password_hash> parse_password_hash(const std::string& text, std::string& why);

/// Whether `password` matches the hash (false also when the hash does not parse).
bool verify_password(const std::string& password, const std::string& hash_text);

} // namespace tandem::config
