#include "transports/partner/pki.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace tandem::partner {

namespace fs = std::filesystem;

namespace {

std::string ssl_error() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

struct x509_free {
  void operator()(X509* x) const { X509_free(x); }
};
using x509_ptr = std::unique_ptr<X509, x509_free>;

x509_ptr der_to_x509(const std::vector<uint8_t>& der) {
  const unsigned char* p = der.data();
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (x && p != der.data() + der.size()) {
    X509_free(x);
    return nullptr;
  }
  return x509_ptr(x);
}

std::vector<uint8_t> x509_to_der(X509* x) {
  int n = i2d_X509(x, nullptr);
  if (n <= 0) return {};
  std::vector<uint8_t> out(static_cast<size_t>(n));
  unsigned char* p = out.data();
  i2d_X509(x, &p);
  return out;
}

int64_t asn1_time_ms(const ASN1_TIME* t) {
  struct tm tm {};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

std::string name_text(X509_NAME* n) {
  std::string out;
  // Most significant last in the DER; shown as OPC UA tools do: CN first.
  for (int i = X509_NAME_entry_count(n) - 1; i >= 0; --i) {
    X509_NAME_ENTRY* e = X509_NAME_get_entry(n, i);
    int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
    const char* sn = OBJ_nid2sn(nid);
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
    if (len < 0) continue;
    if (!out.empty()) out += ", ";
    out += std::string(sn ? sn : "?") + "=" + std::string(reinterpret_cast<char*>(utf8), len);
    OPENSSL_free(utf8);
  }
  return out;
}

std::string common_name(X509_NAME* n) {
  int i = X509_NAME_get_index_by_NID(n, NID_commonName, -1);
  if (i < 0) return {};
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i)));
  if (len < 0) return {};
  std::string s(reinterpret_cast<char*>(utf8), len);
  OPENSSL_free(utf8);
  return s;
}

bool read_file(const std::string& path, std::vector<uint8_t>& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

/// Writes through a temporary file and a rename, so a crash leaves the old file or the new one.
bool write_file(const std::string& path, const void* data, size_t n, mode_t mode,
                std::string& error) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    error = "cannot write " + tmp + ": " + std::strerror(errno);
    return false;
  }
  const char* p = static_cast<const char*>(data);
  size_t left = n;
  while (left > 0) {
    ssize_t w = ::write(fd, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      error = "cannot write " + tmp + ": " + std::strerror(errno);
      ::close(fd);
      return false;
    }
    p += w;
    left -= static_cast<size_t>(w);
  }
  ::fchmod(fd, mode);
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    error = "cannot rename " + tmp + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

bool make_dir(const std::string& d, std::string& error) {
  std::error_code ec;
  fs::create_directories(d, ec);
  if (ec) {
    error = "cannot create " + d + ": " + ec.message();
    return false;
  }
  fs::permissions(d, fs::perms::owner_all, fs::perm_options::replace, ec);
  return true;
}

size_t count(const std::string& folder) {
  size_t n = 0;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(folder, ec)) {
    (void)e;
    ++n;
  }
  return n;
}

} // namespace

std::string thumbprint_of(const std::vector<uint8_t>& der) {
  unsigned char md[SHA_DIGEST_LENGTH];
  SHA1(der.data(), der.size(), md);
  static const char* hex = "0123456789ABCDEF";
  std::string s;
  for (unsigned char c : md) {
    s += hex[c >> 4];
    s += hex[c & 15];
  }
  return s;
}

std::string normalize_thumbprint(const std::string& typed) {
  std::string s;
  for (char c : typed) {
    if (c == ':' || c == ' ') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return {};
    s += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return s.size() == 40 ? s : std::string{};
}

std::string rfc3339_ms(int64_t unix_ms) {
  time_t t = static_cast<time_t>(unix_ms / 1000);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return buf;
}

bool parse_cert(const std::vector<uint8_t>& bytes, cert_info& out, std::string& error) {
  x509_ptr x = der_to_x509(bytes);
  if (!x) {
    ERR_clear_error();
    BIO* bio = BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size()));
    x.reset(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
    BIO_free(bio);
  }
  if (!x) {
    ERR_clear_error();
    error = "not an X.509 certificate (neither DER nor PEM)";
    return false;
  }
  out.der = x509_to_der(x.get());
  out.thumbprint = thumbprint_of(out.der);
  out.subject = name_text(X509_get_subject_name(x.get()));
  out.common_name = common_name(X509_get_subject_name(x.get()));
  out.not_before_ms = asn1_time_ms(X509_get0_notBefore(x.get()));
  out.not_after_ms = asn1_time_ms(X509_get0_notAfter(x.get()));
  return true;
}

bool make_identity(const std::string& name, int64_t valid_from_s, int64_t valid_for_s,
                   identity& out, std::string& error) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (!key) {
    error = "cannot make an EC P-256 key: " + ssl_error();
    return false;
  }
  X509* x = X509_new();
  bool ok = x != nullptr;
  ok = ok && X509_set_version(x, 2) == 1;
  // A random positive 159-bit serial.
  if (ok) {
    BIGNUM* bn = BN_new();
    ok = bn && BN_rand(bn, 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
         BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != nullptr;
    BN_free(bn);
  }
  ok = ok && X509_gmtime_adj(X509_getm_notBefore(x), static_cast<long>(valid_from_s)) != nullptr;
  ok = ok && X509_gmtime_adj(X509_getm_notAfter(x),
                             static_cast<long>(valid_from_s + valid_for_s)) != nullptr;
  ok = ok && X509_set_pubkey(x, key) == 1;
  if (ok) {
    X509_NAME* n = X509_get_subject_name(x);
    ok = X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
                                    reinterpret_cast<const unsigned char*>("Tandem"), -1, -1,
                                    0) == 1 &&
         X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
                                    reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1,
                                    0) == 1 &&
         X509_set_issuer_name(x, n) == 1;
  }
  if (ok) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    std::string san = "DNS:" + name;
    const std::pair<int, std::string> exts[] = {
        {NID_basic_constraints, "critical,CA:FALSE"},
        {NID_key_usage, "critical,digitalSignature,keyAgreement"},
        {NID_ext_key_usage, "serverAuth,clientAuth"},
        {NID_subject_alt_name, san},
        {NID_subject_key_identifier, "hash"},
    };
    for (auto& [nid, value] : exts) {
      X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
      if (!e || X509_add_ext(x, e, -1) != 1) ok = false;
      X509_EXTENSION_free(e);
      if (!ok) break;
    }
  }
  ok = ok && X509_sign(x, key, EVP_sha256()) > 0;
  if (ok) {
    out.cert_der = x509_to_der(x);
    BIO* bio = BIO_new(BIO_s_mem());
    ok = PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    if (ok) out.key_pem.assign(data, static_cast<size_t>(len));
    BIO_free(bio);
  }
  if (!ok) error = "cannot make a certificate for " + name + ": " + ssl_error();
  X509_free(x);
  EVP_PKEY_free(key);
  return ok;
}

std::shared_ptr<pki_store> pki_store::open(const std::string& dir, const std::string& name,
                                           std::string& error, bool* created) {
  std::shared_ptr<pki_store> s(new pki_store());
  s->dir_ = dir;
  s->trusted_ = dir + "/trusted/certs";
  s->rejected_ = dir + "/rejected/certs";
  std::string own_certs = dir + "/own/certs", own_private = dir + "/own/private";
  s->key_path_ = own_private + "/key.pem";
  for (const std::string* d : {&dir, static_cast<const std::string*>(&own_certs),
                               static_cast<const std::string*>(&own_private),
                               static_cast<const std::string*>(&s->trusted_),
                               static_cast<const std::string*>(&s->rejected_)})
    if (!make_dir(*d, error)) return nullptr;
  for (auto* d : {"/own", "/trusted", "/rejected"})
    if (!make_dir(dir + d, error)) return nullptr;
  if (created) *created = false;

  // The own certificate: the one .der in own/certs (the newest if an operator left several).
  std::string cert_file;
  fs::file_time_type newest{};
  std::error_code ec;
  for (auto& e : fs::directory_iterator(own_certs, ec)) {
    if (e.path().extension() != ".der") continue;
    auto t = e.last_write_time(ec);
    if (cert_file.empty() || t > newest) {
      cert_file = e.path().string();
      newest = t;
    }
  }
  bool have_key = fs::exists(s->key_path_, ec);
  if (cert_file.empty() != !have_key) {
    error = "the PKI folder " + dir + " has " +
            (have_key ? "a private key but no certificate in own/certs"
                      : "a certificate in own/certs but no private key own/private/key.pem") +
            "; restore the missing file, or remove both to make a new identity (the partner must "
            "then approve the new certificate)";
    return nullptr;
  }
  if (cert_file.empty()) {
    identity id;
    if (!make_identity(name, 0, int64_t{10} * 365 * 86400 + 2 * 86400, id, error)) return nullptr;
    if (!write_file(s->key_path_, id.key_pem.data(), id.key_pem.size(), 0600, error))
      return nullptr;
    cert_file = own_certs + "/" + thumbprint_of(id.cert_der) + ".der";
    if (!write_file(cert_file, id.cert_der.data(), id.cert_der.size(), 0644, error)) return nullptr;
    if (created) *created = true;
  } else {
    struct stat st {};
    if (::stat(s->key_path_.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
      ::chmod(s->key_path_.c_str(), 0600); // a key readable by others is narrowed at once
  }
  std::vector<uint8_t> bytes;
  if (!read_file(cert_file, bytes) || !parse_cert(bytes, s->own_, error)) {
    error = "cannot read this node's certificate " + cert_file + ": " +
            (error.empty() ? std::string(std::strerror(errno)) : error);
    return nullptr;
  }
  s->own_.status = "own";
  s->own_.path = cert_file;
  return s;
}

std::vector<cert_info> pki_store::scan(const std::string& folder, const char* status) const {
  std::vector<cert_info> out;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(folder, ec)) {
    auto ext = e.path().extension();
    if (ext != ".der" && ext != ".pem" && ext != ".crt" && ext != ".cer") continue;
    std::vector<uint8_t> bytes;
    cert_info ci;
    std::string err;
    if (!read_file(e.path().string(), bytes) || !parse_cert(bytes, ci, err)) continue;
    ci.status = status;
    ci.path = e.path().string();
    out.push_back(std::move(ci));
  }
  return out;
}

bool pki_store::find(const std::string& folder, const std::string& tp, cert_info& out) const {
  for (auto& c : scan(folder, ""))
    if (c.thumbprint == tp) {
      out = std::move(c);
      return true;
    }
  return false;
}

std::vector<cert_info> pki_store::list() const {
  std::lock_guard<std::mutex> g(mtx_);
  std::vector<cert_info> out{own_};
  auto t = scan(trusted_, "trusted");
  auto r = scan(rejected_, "rejected");
  auto by_subject = [](const cert_info& a, const cert_info& b) {
    return a.subject != b.subject ? a.subject < b.subject : a.thumbprint < b.thumbprint;
  };
  std::sort(t.begin(), t.end(), by_subject);
  std::sort(r.begin(), r.end(), by_subject);
  out.insert(out.end(), t.begin(), t.end());
  out.insert(out.end(), r.begin(), r.end());
  return out;
}

bool pki_store::is_trusted(const std::string& tp) const {
  std::lock_guard<std::mutex> g(mtx_);
  cert_info ci;
  return find(trusted_, tp, ci);
}

pki_store::verdict pki_store::check(const std::vector<uint8_t>& der, cert_info& info,
                                    int64_t now_ms) {
  std::string err;
  if (!parse_cert(der, info, err)) return verdict::invalid;
  std::lock_guard<std::mutex> g(mtx_);
  cert_info found;
  if (!find(trusted_, info.thumbprint, found)) {
    info.status = "rejected";
    cert_info seen;
    // Kept for the operator, but not without bound: a stranger making new certificates in a loop
    // must not fill the disk.
    if (!find(rejected_, info.thumbprint, seen) && count(rejected_) < max_rejected)
      write_file(rejected_ + "/" + info.thumbprint + ".der", info.der.data(), info.der.size(), 0644,
                 err);
    return verdict::untrusted;
  }
  info.status = "trusted";
  if (now_ms < info.not_before_ms) return verdict::not_yet_valid;
  if (now_ms > info.not_after_ms) return verdict::expired;
  return verdict::trusted;
}

std::string pki_store::approve(const std::string& typed) {
  auto tp = normalize_thumbprint(typed);
  if (tp.empty())
    return "'" + typed + "' is not a thumbprint (40 hex digits, as 'certs' lists them)";
  {
    std::lock_guard<std::mutex> g(mtx_);
    cert_info ci;
    if (find(trusted_, tp, ci)) return "";
    if (tp == own_.thumbprint) return "that is this node's own certificate";
    if (!find(rejected_, tp, ci))
      return "no certificate " + tp + " in rejected/; 'certs' lists the ones presented so far";
    std::string err;
    if (!write_file(trusted_ + "/" + tp + ".der", ci.der.data(), ci.der.size(), 0644, err))
      return err;
    std::error_code ec;
    fs::remove(ci.path, ec);
  }
  changed();
  return "";
}

std::string pki_store::reject(const std::string& typed) {
  auto tp = normalize_thumbprint(typed);
  if (tp.empty())
    return "'" + typed + "' is not a thumbprint (40 hex digits, as 'certs' lists them)";
  {
    std::lock_guard<std::mutex> g(mtx_);
    if (tp == own_.thumbprint) return "that is this node's own certificate";
    cert_info ci;
    bool trusted = find(trusted_, tp, ci);
    if (!trusted) {
      if (find(rejected_, tp, ci)) return ""; // already refused
      return "no certificate " + tp + "; 'certs' lists them";
    }
    std::string err;
    cert_info seen;
    if (!find(rejected_, tp, seen) &&
        !write_file(rejected_ + "/" + tp + ".der", ci.der.data(), ci.der.size(), 0644, err))
      return err;
    std::error_code ec;
    fs::remove(ci.path, ec);
    if (ec) return "cannot remove " + ci.path + ": " + ec.message();
  }
  changed();
  return "";
}

std::string pki_store::revoke(const std::string& typed) {
  auto tp = normalize_thumbprint(typed);
  if (tp.empty())
    return "'" + typed + "' is not a thumbprint (40 hex digits, as 'certs' lists them)";
  if (!is_trusted(tp)) return "certificate " + tp + " is not trusted; 'certs' lists them";
  return reject(tp);
}

std::string pki_store::trust_file(const std::string& path, cert_info* out) {
  std::vector<uint8_t> bytes;
  if (!read_file(path, bytes)) return "cannot read " + path + ": " + std::strerror(errno);
  cert_info ci;
  std::string err;
  if (!parse_cert(bytes, ci, err)) return path + ": " + err;
  {
    std::lock_guard<std::mutex> g(mtx_);
    if (ci.thumbprint == own_.thumbprint)
      return path + " is this node's own certificate; trust the partner's instead";
    cert_info seen;
    if (!find(trusted_, ci.thumbprint, seen) &&
        !write_file(trusted_ + "/" + ci.thumbprint + ".der", ci.der.data(), ci.der.size(), 0644,
                    err))
      return err;
    if (find(rejected_, ci.thumbprint, seen)) {
      std::error_code ec;
      fs::remove(seen.path, ec);
    }
  }
  ci.status = "trusted";
  if (out) *out = ci;
  changed();
  return "";
}

void pki_store::on_change(std::function<bool()> f) {
  std::lock_guard<std::mutex> g(listeners_mtx_);
  listeners_.push_back(std::move(f));
}

void pki_store::changed() {
  std::lock_guard<std::mutex> g(listeners_mtx_);
  listeners_.erase(std::remove_if(listeners_.begin(), listeners_.end(),
                                  [](const std::function<bool()>& f) { return !f(); }),
                   listeners_.end());
}

} // namespace tandem::partner
