// The partner link's certificate store: identity made once and kept (key mode 0600), the OPC UA
// folder layout, thumbprints (SHA-1 of the DER), trust checks that keep refused certificates in
// rejected/, and the operator's moves between the folders.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <sys/stat.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tests/support/process.hpp"
#include "transports/partner/pki.hpp"

using namespace tandem;
using namespace tandem::partner;
namespace fs = std::filesystem;

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::shared_ptr<pki_store> open_ok(const std::string& dir, const std::string& name,
                                   bool* created = nullptr) {
  std::string err;
  auto s = pki_store::open(dir, name, err, created);
  EXPECT_TRUE(s) << err;
  return s;
}

std::string to_pem(const std::vector<uint8_t>& der) {
  const unsigned char* p = der.data();
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, x);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  X509_free(x);
  return out;
}

size_t files_in(const std::string& d) {
  size_t n = 0;
  for (auto& e : fs::directory_iterator(d))
    n += e.is_regular_file() ? 1 : 0;
  return n;
}

TEST(pki, first_open_makes_an_identity_in_the_opc_ua_layout_and_later_opens_keep_it) {
  test::temp_dir dir;
  bool created = false;
  auto s = open_ok(dir.file("pki"), "node-a", &created);
  ASSERT_TRUE(s);
  EXPECT_TRUE(created);
  const auto& own = s->own();
  EXPECT_EQ(own.status, "own");
  EXPECT_EQ(own.common_name, "node-a");
  EXPECT_EQ(own.subject, "CN=node-a, O=Tandem");
  EXPECT_EQ(own.thumbprint.size(), 40u);
  EXPECT_EQ(own.path, dir.file("pki/own/certs/" + own.thumbprint + ".der"));
  EXPECT_EQ(s->key_path(), dir.file("pki/own/private/key.pem"));
  struct stat st {};
  ASSERT_EQ(::stat(s->key_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  for (auto* d : {"pki/trusted/certs", "pki/rejected/certs"})
    EXPECT_TRUE(fs::is_directory(dir.file(d))) << d;
  // About ten years, starting now.
  EXPECT_LE(std::llabs(own.not_before_ms - now_ms()), 120'000);
  EXPECT_GT(own.not_after_ms - own.not_before_ms, int64_t{3650} * 86'400'000);

  auto again = open_ok(dir.file("pki"), "node-a", &created);
  EXPECT_FALSE(created);
  EXPECT_EQ(again->own().thumbprint, own.thumbprint);
}

TEST(pki, a_key_without_its_certificate_is_an_error_not_a_silent_new_identity) {
  test::temp_dir dir;
  auto s = open_ok(dir.file("pki"), "node-a");
  fs::remove(s->own().path);
  std::string err;
  EXPECT_FALSE(pki_store::open(dir.file("pki"), "node-a", err));
  EXPECT_NE(err.find("no certificate in own/certs"), std::string::npos) << err;
}

TEST(pki, the_thumbprint_is_the_sha1_of_the_der_bytes) {
  // A fixed input with a known SHA-1 (FIPS 180 "abc").
  std::vector<uint8_t> abc = {'a', 'b', 'c'};
  EXPECT_EQ(thumbprint_of(abc), "A9993E364706816ABA3E25717850C26C9CD0D89D");
  EXPECT_EQ(normalize_thumbprint("a9:99:3e:36:47:06:81:6a:ba:3e:25:71:78:50:c2:6c:9c:d0:d8:9d"),
            "A9993E364706816ABA3E25717850C26C9CD0D89D");
  EXPECT_EQ(normalize_thumbprint("A9993E"), "");
  EXPECT_EQ(normalize_thumbprint("Z9993E364706816ABA3E25717850C26C9CD0D89D"), "");
}

TEST(pki, a_certificate_not_trusted_is_kept_in_rejected_and_approve_revoke_reject_move_it) {
  test::temp_dir dir;
  auto a = open_ok(dir.file("a"), "node-a");
  auto b = open_ok(dir.file("b"), "node-b");
  int changes = 0;
  a->on_change([&] {
    ++changes;
    return true;
  });
  cert_info info;
  EXPECT_EQ(a->check(b->own().der, info, now_ms()), pki_store::verdict::untrusted);
  EXPECT_EQ(info.thumbprint, b->own().thumbprint);
  EXPECT_EQ(info.subject, "CN=node-b, O=Tandem");
  EXPECT_TRUE(fs::exists(dir.file("a/rejected/certs/" + info.thumbprint + ".der")));
  // Seen again: still one file.
  EXPECT_EQ(a->check(b->own().der, info, now_ms()), pki_store::verdict::untrusted);
  EXPECT_EQ(files_in(dir.file("a/rejected/certs")), 1u);

  auto list = a->list();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].status, "own");
  EXPECT_EQ(list[1].status, "rejected");

  EXPECT_EQ(a->approve(info.thumbprint), "");
  EXPECT_EQ(changes, 1);
  EXPECT_TRUE(a->is_trusted(info.thumbprint));
  EXPECT_EQ(files_in(dir.file("a/rejected/certs")), 0u);
  EXPECT_EQ(a->check(b->own().der, info, now_ms()), pki_store::verdict::trusted);

  EXPECT_EQ(a->revoke(info.thumbprint), "");
  EXPECT_FALSE(a->is_trusted(info.thumbprint));
  EXPECT_EQ(files_in(dir.file("a/rejected/certs")), 1u);
  EXPECT_NE(a->revoke(info.thumbprint).find("is not trusted"), std::string::npos);

  EXPECT_EQ(a->approve(info.thumbprint), "");
  EXPECT_EQ(a->reject(info.thumbprint), "");
  EXPECT_FALSE(a->is_trusted(info.thumbprint));
  EXPECT_EQ(changes, 4);

  // Persisted: a new store over the same folder sees the same decision.
  auto reopened = open_ok(dir.file("a"), "node-a");
  EXPECT_FALSE(reopened->is_trusted(info.thumbprint));
  EXPECT_EQ(reopened->list().back().status, "rejected");
}

TEST(pki, operator_mistakes_get_clear_answers) {
  test::temp_dir dir;
  auto a = open_ok(dir.file("a"), "node-a");
  EXPECT_NE(a->approve("xyz").find("not a thumbprint"), std::string::npos);
  EXPECT_NE(a->approve(std::string(40, 'A')).find("no certificate"), std::string::npos);
  EXPECT_NE(a->approve(a->own().thumbprint).find("own certificate"), std::string::npos);
  EXPECT_NE(a->trust_file(dir.file("missing.der")).find("cannot read"), std::string::npos);
  auto junk = dir.write("junk.der", "not a certificate");
  EXPECT_NE(a->trust_file(junk).find("not an X.509 certificate"), std::string::npos);
}

TEST(pki, trust_file_takes_der_or_pem_and_an_expired_trusted_certificate_is_refused) {
  test::temp_dir dir;
  auto a = open_ok(dir.file("a"), "node-a");
  auto b = open_ok(dir.file("b"), "node-b");
  cert_info ci;
  EXPECT_EQ(a->trust_file(b->own().path, &ci), "");
  EXPECT_EQ(ci.thumbprint, b->own().thumbprint);
  EXPECT_TRUE(a->is_trusted(ci.thumbprint));

  identity old;
  std::string err;
  ASSERT_TRUE(make_identity("node-c", -3 * 86400, 86400, old, err)) << err;
  // As PEM, the way other tools export certificates.
  auto pem_path = dir.write("c.pem", to_pem(old.cert_der));
  EXPECT_EQ(a->trust_file(pem_path, &ci), "");
  EXPECT_EQ(ci.thumbprint, thumbprint_of(old.cert_der));
  cert_info info;
  EXPECT_EQ(a->check(old.cert_der, info, now_ms()), pki_store::verdict::expired);
}

} // namespace
