#pragma once
// Helpers shared by the codec tests.

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "transports/opcua/binary.hpp"

namespace tandem::opcua::test {

inline std::vector<uint8_t> from_hex(std::string_view hex) {
  std::vector<uint8_t> out;
  int hi = -1;
  for (char c : hex) {
    int v = (c >= '0' && c <= '9')   ? c - '0'
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                     : -1;
    if (v < 0) continue; // spaces and separators
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<uint8_t>(hi * 16 + v));
      hi = -1;
    }
  }
  return out;
}

inline std::string hex(const std::vector<uint8_t>& b) {
  return to_hex(byte_span(b));
}

/// Encodes `v`, checks the bytes (when given), decodes them back to an equal value, and checks
/// that every truncation of the encoding fails cleanly.
template <class T> void expect_round_trip(const T& v, std::string_view expected_hex = {}) {
  auto bytes = encode_to_vector(v);
  ASSERT_TRUE(bytes.ok()) << bytes.error().reason;
  if (!expected_hex.empty()) EXPECT_EQ(hex(*bytes), hex(from_hex(expected_hex)));
  auto back = decode_exact<T>(byte_span(*bytes));
  ASSERT_TRUE(back.ok()) << back.error().reason;
  EXPECT_TRUE(*back == v);
  auto again = encode_to_vector(*back);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(hex(*again), hex(*bytes));
  for (size_t n = 0; n < bytes->size(); ++n) {
    auto t = decode_exact<T>(byte_span(bytes->data(), n));
    EXPECT_FALSE(t.ok()) << "prefix of " << n << " bytes decoded";
    if (!t.ok()) EXPECT_EQ(t.error().code, status::BadDecodingError);
  }
}

} // namespace tandem::opcua::test
