// Face user passwords: the hashes `tandem passwd` makes, their check, and the refusal of anything
// that is not such a hash (a password pasted into the config by mistake, a damaged line).

#include <gtest/gtest.h>

#include "config/password.hpp"

using namespace tandem::config;

namespace {

// Made by Python's hashlib.pbkdf2_hmac("sha256", b"secret-one", salt, 10000, 32) in the same
// format: the check agrees with an independent implementation.
const std::string python_made =
    "$pbkdf2-sha256$10000$G3bZjUxXGP4M6agC4bII1A==$PMTkQvdnmAubMYGgeljV38s8DfFKOxD04uBgCA8GYXU=";

TEST(Password, AHashChecksItsPasswordAndNoOther) {
  std::string h = hash_password("correct horse", 10'000);
  ASSERT_EQ(h.rfind("$pbkdf2-sha256$10000$", 0), 0u) << h;
  EXPECT_TRUE(verify_password("correct horse", h));
  EXPECT_FALSE(verify_password("correct hors", h));
  EXPECT_FALSE(verify_password("", h));
  EXPECT_NE(h, hash_password("correct horse", 10'000)) << "every hash has its own salt";
}

TEST(Password, AgreesWithAnIndependentPbkdf2) {
  EXPECT_TRUE(verify_password("secret-one", python_made));
  EXPECT_FALSE(verify_password("secret-two", python_made));
}

TEST(Password, WhatIsNotAHashIsRefusedWithTheReason) {
  struct bad {
    std::string text, why;
  } cases[] = {
      {"hunter2", "not a hash made by `tandem passwd`"},
      {"$pbkdf2-sha256$10000$abc", "three fields"},
      {"$pbkdf2-sha256$ten$G3bZjUxXGP4M6agC4bII1A==$PMTk", "is not a number"},
      {"$pbkdf2-sha256$5$G3bZjUxXGP4M6agC4bII1A==$PMTkQvdnmAubMYGgeljV38s8DfFKOxD04uBgCA8GYXU=",
       "outside"},
      {"$pbkdf2-sha256$10000$!!!!$PMTkQvdnmAubMYGgeljV38s8DfFKOxD04uBgCA8GYXU=", "salt"},
      {"$pbkdf2-sha256$10000$G3bZjUxXGP4M6agC4bII1A==$AAAA", "key"},
  };
  for (const auto& c : cases) {
    std::string why;
    EXPECT_FALSE(parse_password_hash(c.text, why)) << c.text;
    EXPECT_NE(why.find(c.why), std::string::npos) << c.text << ": " << why;
    EXPECT_FALSE(verify_password("hunter2", c.text));
  }
}

} // namespace
