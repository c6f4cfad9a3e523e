#pragma once
/// UA Binary encoding (OPC 10000-6 §5.2, FACTS.md §2): a bounds-checked `reader`, an appending
/// `writer`, and `decode`/`encode` overloads for every built-in type, arrays, enums and structures.
///
/// Decoding never trusts the input: every read is bounds-checked, array counts are checked against
/// the bytes left and against `decode_limits` before anything is allocated, and the first failure
/// is kept (sticky) with the byte offset; callers unwinding through structures add field names, so
/// the final reason reads "ReadRequest.nodesToRead[2].nodeId: unknown NodeId encoding byte 0x07 at
/// byte 113". Failed decodes leave the target partially filled; use it only when ok().

#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "transports/opcua/types.hpp"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the UA Binary codec assumes a little-endian host"
#endif

namespace tandem::opcua {

/// Limits applied while decoding untrusted bytes. The defaults fit a 16 MiB message.
struct decode_limits {
  uint32_t max_array_length = 1u << 20;   ///< elements in one array
  uint32_t max_string_length = 16u << 20; ///< bytes in one String / ByteString / XmlElement
  uint32_t max_depth = 32;                ///< nesting of Variant / DataValue / DiagnosticInfo
  size_t max_alloc_bytes = 256u << 20; ///< memory one decode may allocate (arrays, strings, boxes)
};

/// First-failure-wins error state shared by reader and writer.
class codec_state {
public:
  bool ok() const { return !failed_; }
  /// Records a failure (only the first one counts); returns false for `return r.fail(...)`.
  bool fail(StatusCode code, std::string message, size_t offset);
  /// Adds a field name to the error path while unwinding (no-op when ok()).
  void note_field(const char* name) {
    if (failed_) path_.emplace_back(name);
  }
  void note_index(size_t index) {
    if (failed_) path_.push_back("[" + std::to_string(index) + "]");
  }
  /// The error, reason "<root>.<path>: <message> at byte <offset>".
  opcua::error error(std::string_view root = {}) const;
  StatusCode code() const { return failed_ ? code_ : status::Good; }

protected:
  bool failed_ = false;
  StatusCode code_;
  size_t offset_ = 0;
  std::string message_;
  std::vector<std::string> path_; // innermost first
};

/// Reads UA Binary from a byte view. `base_offset` is added to reported offsets (e.g. 24 when the
/// view is a MSG body inside its chunk).
class reader : public codec_state {
public:
  explicit reader(byte_span data, const decode_limits& limits = {}, size_t base_offset = 0)
      : data_(data.data), size_(data.size), base_(base_offset), limits_(limits) {}

  size_t offset() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  bool at_end() const { return pos_ == size_; }
  byte_span rest() const { return {data_ + pos_, size_ - pos_}; }
  const decode_limits& limits() const { return limits_; }

  /// BadDecodingError at the current offset / at `pos`.
  bool fail(std::string message) { return fail_at(pos_, std::move(message)); }
  bool fail_at(size_t pos, std::string message) {
    return codec_state::fail(status::BadDecodingError, std::move(message), base_ + pos);
  }
  using codec_state::fail;

  /// Consumes n bytes; nullptr (and a failure) if fewer are left.
  const uint8_t* take(size_t n) {
    if (failed_) return nullptr;
    if (n > size_ - pos_) {
      short_read(n);
      return nullptr;
    }
    const uint8_t* p = data_ + pos_;
    pos_ += n;
    return p;
  }
  /// Reads a little-endian arithmetic value.
  template <class T> bool read(T& v) {
    static_assert(std::is_arithmetic_v<T>);
    const uint8_t* p = take(sizeof(T));
    if (!p) return false;
    std::memcpy(&v, p, sizeof(T));
    return true;
  }

  /// Nesting guard for recursive types; fails past limits().max_depth.
  bool enter() {
    if (++depth_ > limits_.max_depth)
      return fail("nesting deeper than max_depth " + std::to_string(limits_.max_depth));
    return !failed_;
  }
  void leave() { --depth_; }

  /// Charges `bytes` against limits().max_alloc_bytes before allocating them.
  bool charge(size_t bytes) {
    if (bytes > limits_.max_alloc_bytes - allocated_)
      return fail("decoding would allocate more than max_alloc_bytes " +
                  std::to_string(limits_.max_alloc_bytes));
    allocated_ += bytes;
    return true;
  }

  /// Reads an array's I32 count (-1 = null -> `is_null`), checks it against the bytes left
  /// (each element takes >= `min_element_size` bytes) and the limits, and charges
  /// count * element_sizeof. False on failure.
  bool read_array_length(uint32_t& count, bool& is_null, size_t min_element_size,
                         size_t element_sizeof);
  /// Reads a String/ByteString I32 length (-1 = null); checks it against the bytes left and
  /// max_string_length.
  bool read_string_length(uint32_t& length, bool& is_null);
  /// The Int32 length prefix shared by arrays and strings: -1 is null, other negatives fail
  /// ("negative <what> N").
  bool read_length_prefix(uint32_t& n, bool& is_null, const char* what);

private:
  void short_read(size_t n);

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  size_t base_;
  decode_limits limits_;
  uint32_t depth_ = 0;
  size_t allocated_ = 0;
};

/// Appends UA Binary to a byte vector.
class writer : public codec_state {
public:
  explicit writer(std::vector<uint8_t>& out, uint32_t max_depth = 64)
      : out_(out), max_depth_(max_depth) {}

  std::vector<uint8_t>& buffer() { return out_; }
  size_t size() const { return out_.size(); }

  /// BadEncodingError at the current output offset.
  bool fail(std::string message) {
    return codec_state::fail(status::BadEncodingError, std::move(message), out_.size());
  }
  using codec_state::fail;

  void write_bytes(const void* p, size_t n) {
    if (n == 0) return;
    size_t at = out_.size();
    out_.resize(at + n);
    std::memcpy(out_.data() + at, p, n);
  }
  template <class T> void write(T v) {
    static_assert(std::is_arithmetic_v<T>);
    write_bytes(&v, sizeof v);
  }
  /// Overwrites 4 bytes at `pos` (length back-patching).
  void patch_u32(size_t pos, uint32_t v) { std::memcpy(out_.data() + pos, &v, sizeof v); }

  bool enter() {
    if (++depth_ > max_depth_) return fail("nesting deeper than " + std::to_string(max_depth_));
    return !failed_;
  }
  void leave() { --depth_; }

private:
  std::vector<uint8_t>& out_;
  uint32_t max_depth_;
  uint32_t depth_ = 0;
};

// -- built-in codecs -----------------------------------------------------------------------------

inline void decode(reader& r, bool& v) {
  uint8_t b = 0;
  if (r.read(b)) v = b != 0;
}
inline void encode(writer& w, bool v) {
  w.write(static_cast<uint8_t>(v ? 1 : 0));
}

template <class T>
std::enable_if_t<std::is_arithmetic_v<T> && !std::is_same_v<T, bool>> decode(reader& r, T& v) {
  r.read(v);
}
template <class T>
std::enable_if_t<std::is_arithmetic_v<T> && !std::is_same_v<T, bool>> encode(writer& w, T v) {
  w.write(v);
}

/// Enumerations travel as Int32.
template <class E> std::enable_if_t<std::is_enum_v<E>> decode(reader& r, E& v) {
  int32_t i = 0;
  if (r.read(i)) v = static_cast<E>(i);
}
template <class E> std::enable_if_t<std::is_enum_v<E>> encode(writer& w, E v) {
  w.write(static_cast<int32_t>(v));
}

inline void decode(reader& r, StatusCode& v) {
  r.read(v.value);
}
inline void encode(writer& w, StatusCode v) {
  w.write(v.value);
}
inline void decode(reader& r, DateTime& v) {
  r.read(v.ticks);
}
inline void encode(writer& w, DateTime v) {
  w.write(v.ticks);
}

void decode(reader& r, String& v);
void encode(writer& w, const String& v);
void decode(reader& r, ByteString& v);
void encode(writer& w, const ByteString& v);
void decode(reader& r, XmlElement& v);
void encode(writer& w, const XmlElement& v);
void decode(reader& r, Guid& v);
void encode(writer& w, const Guid& v);
void decode(reader& r, NodeId& v);
void encode(writer& w, const NodeId& v);
void decode(reader& r, ExpandedNodeId& v);
void encode(writer& w, const ExpandedNodeId& v);
void decode(reader& r, QualifiedName& v);
void encode(writer& w, const QualifiedName& v);
void decode(reader& r, LocalizedText& v);
void encode(writer& w, const LocalizedText& v);
void decode(reader& r, ExtensionObject& v);
void encode(writer& w, const ExtensionObject& v);
void decode(reader& r, Variant& v);
void encode(writer& w, const Variant& v);
void decode(reader& r, DataValue& v);
void encode(writer& w, const DataValue& v);
void decode(reader& r, DiagnosticInfo& v);
void encode(writer& w, const DiagnosticInfo& v);

// -- structures ----------------------------------------------------------------------------------

/// A structure is a type with `static constexpr const char* type_name` and a static
/// `template <class Self, class V> static void fields(Self& self, V&& v)` that calls
/// `v("fieldName", self.member)` for each field in wire order. One field list drives both the
/// encoder and the decoder.
template <class T, class = void> struct is_structure : std::false_type {};
template <class T> struct is_structure<T, std::void_t<decltype(T::type_name)>> : std::true_type {};

namespace detail {
struct decode_visitor {
  reader& r;
  template <class F> void operator()(const char* name, F& field) {
    if (!r.ok()) return;
    decode(r, field);
    if (!r.ok()) r.note_field(name);
  }
};
struct encode_visitor {
  writer& w;
  template <class F> void operator()(const char* name, const F& field) {
    if (!w.ok()) return;
    encode(w, field);
    if (!w.ok()) w.note_field(name);
  }
};
} // namespace detail

/// Decodes a structure field by field (instantiated once per type in services.cpp).
template <class T> void decode_structure(reader& r, T& v) {
  T::fields(v, detail::decode_visitor{r});
}
template <class T> void encode_structure(writer& w, const T& v) {
  T::fields(v, detail::encode_visitor{w});
}

// -- arrays --------------------------------------------------------------------------------------

/// The fewest bytes one encoded T can take; bounds array counts before allocation.
template <class T> constexpr size_t min_wire_size() {
  if constexpr (std::is_arithmetic_v<T> || std::is_enum_v<T>)
    return std::is_enum_v<T> ? 4 : sizeof(T);
  else if constexpr (std::is_same_v<T, String> || std::is_same_v<T, ByteString> ||
                     std::is_same_v<T, XmlElement> || std::is_same_v<T, StatusCode>)
    return 4;
  else if constexpr (std::is_same_v<T, Guid>)
    return 16;
  else if constexpr (std::is_same_v<T, DateTime>)
    return 8;
  else if constexpr (std::is_same_v<T, NodeId> || std::is_same_v<T, ExpandedNodeId>)
    return 2;
  else if constexpr (std::is_same_v<T, QualifiedName>)
    return 6;
  else if constexpr (std::is_same_v<T, ExtensionObject>)
    return 3;
  else
    return 1;
}

template <class T> void decode(reader& r, Array<T>& a) {
  uint32_t n = 0;
  bool null = false;
  if (!r.read_array_length(n, null, min_wire_size<T>(), sizeof(T))) return;
  if (null) {
    a.set_null();
    return;
  }
  a.clear();
  if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
    // Fixed-size little-endian elements: one bounds check and a copy.
    const uint8_t* p = r.take(size_t{n} * sizeof(T));
    if (!p) return;
    a.resize(n);
    if (n) std::memcpy(a.data(), p, size_t{n} * sizeof(T));
  } else {
    a.reserve(n);
    for (uint32_t i = 0; i < n; ++i) {
      if constexpr (std::is_same_v<T, bool>) {
        bool b = false;
        decode(r, b);
        a.push_back(b);
      } else {
        decode(r, a.emplace_back());
      }
      if (!r.ok()) {
        r.note_index(i);
        return;
      }
    }
  }
}

template <class T> void encode(writer& w, const Array<T>& a) {
  if (a.is_null()) {
    w.write(int32_t{-1});
    return;
  }
  if (a.size() > 0x7FFFFFFFu) {
    w.fail("array of " + std::to_string(a.size()) + " elements exceeds Int32");
    return;
  }
  w.write(static_cast<int32_t>(a.size()));
  if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
    w.write_bytes(a.data(), a.size() * sizeof(T));
  } else {
    size_t i = 0;
    for (const auto& e : a) {
      if constexpr (std::is_same_v<T, bool>)
        encode(w, static_cast<bool>(e));
      else
        encode(w, e);
      if (!w.ok()) {
        w.note_index(i);
        return;
      }
      ++i;
    }
  }
}

// -- whole-buffer helpers ------------------------------------------------------------------------

/// Decodes one T that must span all of `bytes`; `root` names it in error reasons.
template <class T>
result<T> decode_exact(byte_span bytes, const decode_limits& limits = {}, const char* root = "") {
  reader r(bytes, limits);
  T v{};
  decode(r, v);
  if (r.ok() && !r.at_end())
    r.fail(std::to_string(r.remaining()) + " trailing bytes after the value");
  if (!r.ok()) return r.error(root);
  return std::move(v);
}

/// Encodes one T into a fresh vector.
template <class T> result<std::vector<uint8_t>> encode_to_vector(const T& v) {
  std::vector<uint8_t> out;
  writer w(out);
  encode(w, v);
  if (!w.ok()) return w.error();
  return std::move(out);
}

} // namespace tandem::opcua
