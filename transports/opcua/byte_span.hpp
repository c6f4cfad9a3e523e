#pragma once
/// A non-owning view of bytes (C++17 stand-in for std::span<const uint8_t>).

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace tandem::opcua {

/// Pointer + size over bytes owned elsewhere; valid as long as the owner is.
struct byte_span {
  const uint8_t* data = nullptr;
  size_t size = 0;

  constexpr byte_span() = default;
  constexpr byte_span(const uint8_t* d, size_t n) : data(d), size(n) {}
  byte_span(const std::vector<uint8_t>& v) : data(v.data()), size(v.size()) {} // NOLINT: implicit

  /// Views the bytes of a string (test and tool convenience).
  static byte_span of(std::string_view s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
  }

  constexpr bool empty() const { return size == 0; }
  constexpr const uint8_t* begin() const { return data; }
  constexpr const uint8_t* end() const { return data + size; }
  constexpr uint8_t operator[](size_t i) const { return data[i]; }
  /// Bytes [offset, offset + count), clamped to the view.
  constexpr byte_span subspan(size_t offset, size_t count = static_cast<size_t>(-1)) const {
    if (offset > size) offset = size;
    if (count > size - offset) count = size - offset;
    return {data + offset, count};
  }
  std::vector<uint8_t> to_vector() const { return std::vector<uint8_t>(begin(), end()); }
};

} // namespace tandem::opcua
