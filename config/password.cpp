#include "config/password.hpp"

#include <cctype>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace tandem::config {

namespace {

constexpr const char* prefix = "$pbkdf2-sha256$";
constexpr size_t salt_bytes = 16;
constexpr size_t key_bytes = 32;
constexpr uint32_t min_iterations = 10'000;
constexpr uint32_t max_iterations = 100'000'000;

std::string base64(const std::vector<uint8_t>& data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(),
                          static_cast<int>(data.size()));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

std::optional<std::vector<uint8_t>> unbase64(const std::string& text) {
  if (text.empty() || text.size() % 4 != 0 || text.size() > 1024) return std::nullopt;
  for (char c : text)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/' && c != '=')
      return std::nullopt;
  std::vector<uint8_t> out(3 * text.size() / 4);
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  size_t len = static_cast<size_t>(n);
  // EVP_DecodeBlock counts padding as zero bytes: take them off.
  if (text.size() >= 1 && text[text.size() - 1] == '=') --len;
  if (text.size() >= 2 && text[text.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

bool derive(const std::string& password, const std::vector<uint8_t>& salt, uint32_t iterations,
            std::vector<uint8_t>& key) {
  key.assign(key_bytes, 0);
  return PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(),
                           static_cast<int>(salt.size()), static_cast<int>(iterations),
                           EVP_sha256(), static_cast<int>(key.size()), key.data()) == 1;
}

} // namespace

std::string hash_password(const std::string& password, uint32_t iterations) {
  std::vector<uint8_t> salt(salt_bytes);
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) return "";
  std::vector<uint8_t> key;
  if (!derive(password, salt, iterations, key)) return "";
  return std::string(prefix) + std::to_string(iterations) + "$" + base64(salt) + "$" + base64(key);
}

std::optional<password_hash> parse_password_hash(const std::string& text, std::string& why) {
  const std::string p = prefix;
  if (text.compare(0, p.size(), p) != 0) {
    why = "not a hash made by `tandem passwd` (it starts with " + p + ")";
    return std::nullopt;
  }
  std::vector<std::string> parts;
  size_t pos = p.size();
  while (true) {
    size_t end = text.find('$', pos);
    parts.push_back(text.substr(pos, end == std::string::npos ? std::string::npos : end - pos));
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  if (parts.size() != 3) {
    why = "a hash has three fields after " + p + ": iterations, salt and key";
    return std::nullopt;
  }
  password_hash h;
  if (parts[0].empty() || parts[0].size() > 9 ||
      parts[0].find_first_not_of("0123456789") != std::string::npos) {
    why = "the iteration count '" + parts[0] + "' is not a number";
    return std::nullopt;
  }
  unsigned long it = std::stoul(parts[0]);
  if (it < min_iterations || it > max_iterations) {
    why = "the iteration count " + parts[0] + " is outside " + std::to_string(min_iterations) +
          ".." + std::to_string(max_iterations);
    return std::nullopt;
  }
  h.iterations = static_cast<uint32_t>(it);
  auto salt = unbase64(parts[1]);
  auto key = unbase64(parts[2]);
  if (!salt || salt->size() < 8) {
    why = "the salt is not base64 of at least 8 bytes";
    return std::nullopt;
  }
  if (!key || key->size() != key_bytes) {
    why = "the key is not base64 of 32 bytes";
    return std::nullopt;
  }
  h.salt = std::move(*salt);
  h.key = std::move(*key);
  return h;
}

bool verify_password(const std::string& password, const std::string& hash_text) {
  std::string why;
  auto h = parse_password_hash(hash_text, why);
  if (!h) return false;
  std::vector<uint8_t> key;
  if (!derive(password, h->salt, h->iterations, key)) return false;
  return CRYPTO_memcmp(key.data(), h->key.data(), key.size()) == 0;
}

} // namespace tandem::config
