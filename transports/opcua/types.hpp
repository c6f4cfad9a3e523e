#pragma once
/// OPC UA built-in types (OPC 10000-6 §5.1, FACTS.md §2) as C++ value types.
///
/// Naming: OPC UA types keep their specification names (NodeId, DataValue, ReadRequest) so code
/// reads like the spec; codec machinery (reader, writer, chunk_assembler) follows the project's
/// snake_case. Every type here is a regular value type: copyable, comparable with ==, no hidden
/// sharing.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "transports/opcua/byte_span.hpp"
#include "transports/opcua/result.hpp"
#include "transports/opcua/status_code.hpp"

namespace tandem::opcua {

// -- containers -------------------------------------------------------------------------------

/// An OPC UA array: a std::vector that also remembers whether it was null (count -1) rather than
/// empty (count 0). The null flag only matters while the array is empty.
template <class T> class Array : public std::vector<T> {
public:
  using std::vector<T>::vector;
  Array() = default;
  Array(std::vector<T> v) : std::vector<T>(std::move(v)) {} // NOLINT: implicit

  /// An array encoded as count -1.
  static Array null_array() {
    Array a;
    a.null_ = true;
    return a;
  }
  bool is_null() const { return null_ && this->empty(); }
  void set_null() {
    this->clear();
    null_ = true;
  }

  friend bool operator==(const Array& a, const Array& b) {
    return a.is_null() == b.is_null() &&
           static_cast<const std::vector<T>&>(a) == static_cast<const std::vector<T>&>(b);
  }
  friend bool operator!=(const Array& a, const Array& b) { return !(a == b); }

private:
  bool null_ = false;
};

/// A nullable, deep-copying owner of one T; lets recursive types (DiagnosticInfo, Variant holding
/// a DataValue) be value types.
template <class T> class Box {
public:
  Box() = default;
  Box(T v) : p_(std::make_unique<T>(std::move(v))) {} // NOLINT: implicit
  Box(const Box& o) : p_(o.p_ ? std::make_unique<T>(*o.p_) : nullptr) {}
  Box(Box&&) noexcept = default;
  Box& operator=(const Box& o) {
    if (this != &o) p_ = o.p_ ? std::make_unique<T>(*o.p_) : nullptr;
    return *this;
  }
  Box& operator=(Box&&) noexcept = default;
  ~Box() = default;

  bool has_value() const { return p_ != nullptr; }
  explicit operator bool() const { return p_ != nullptr; }
  T& operator*() { return *p_; }
  const T& operator*() const { return *p_; }
  T* operator->() { return p_.get(); }
  const T* operator->() const { return p_.get(); }
  T* get() { return p_.get(); }
  const T* get() const { return p_.get(); }
  T& emplace() {
    p_ = std::make_unique<T>();
    return *p_;
  }
  void reset() { p_.reset(); }

  friend bool operator==(const Box& a, const Box& b) {
    if (!a.p_ || !b.p_) return !a.p_ && !b.p_;
    return *a.p_ == *b.p_;
  }
  friend bool operator!=(const Box& a, const Box& b) { return !(a == b); }

private:
  std::unique_ptr<T> p_;
};

// -- String, ByteString, XmlElement --------------------------------------------------------------

/// UTF-8 text that distinguishes null (length -1) from empty. Default-constructed = null.
class String {
public:
  String() = default;
  String(const char* s) : s_(s ? s : ""), null_(s == nullptr) {} // NOLINT: implicit
  String(std::string s) : s_(std::move(s)), null_(false) {}      // NOLINT: implicit
  String(std::string_view s) : s_(s), null_(false) {}            // NOLINT: implicit
  String(const uint8_t* p, size_t n) : s_(reinterpret_cast<const char*>(p), n), null_(false) {}

  static String null() { return {}; }
  bool is_null() const { return null_; }
  /// True for null and for "".
  bool empty() const { return s_.empty(); }
  size_t size() const { return s_.size(); }
  const std::string& str() const { return s_; }
  std::string_view view() const { return s_; }
  /// Mutable access; makes the string non-null.
  std::string& mutable_str() {
    null_ = false;
    return s_;
  }
  void assign(const uint8_t* p, size_t n) {
    s_.assign(reinterpret_cast<const char*>(p), n);
    null_ = false;
  }
  void set_null() {
    s_.clear();
    null_ = true;
  }

  friend bool operator==(const String& a, const String& b) {
    return a.null_ == b.null_ && a.s_ == b.s_;
  }
  friend bool operator!=(const String& a, const String& b) { return !(a == b); }
  friend bool operator<(const String& a, const String& b) {
    return a.null_ != b.null_ ? a.null_ : a.s_ < b.s_;
  }

private:
  std::string s_;
  bool null_ = true;
};

/// Opaque bytes that distinguish null (length -1) from empty. Default-constructed = null.
class ByteString {
public:
  ByteString() = default;
  ByteString(std::vector<uint8_t> b) : b_(std::move(b)), null_(false) {} // NOLINT: implicit
  ByteString(std::initializer_list<uint8_t> b) : b_(b), null_(false) {}
  ByteString(const uint8_t* p, size_t n) : b_(p, p + n), null_(false) {}
  explicit ByteString(byte_span s) : b_(s.begin(), s.end()), null_(false) {}

  static ByteString null() { return {}; }
  static ByteString from_string(std::string_view s) {
    return ByteString(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  bool is_null() const { return null_; }
  bool empty() const { return b_.empty(); }
  size_t size() const { return b_.size(); }
  const uint8_t* data() const { return b_.data(); }
  const std::vector<uint8_t>& bytes() const { return b_; }
  byte_span span() const { return {b_.data(), b_.size()}; }
  /// Mutable access; makes the value non-null.
  std::vector<uint8_t>& mutable_bytes() {
    null_ = false;
    return b_;
  }
  void assign(const uint8_t* p, size_t n) {
    b_.assign(p, p + n);
    null_ = false;
  }
  void set_null() {
    b_.clear();
    null_ = true;
  }

  friend bool operator==(const ByteString& a, const ByteString& b) {
    return a.null_ == b.null_ && a.b_ == b.b_;
  }
  friend bool operator!=(const ByteString& a, const ByteString& b) { return !(a == b); }
  friend bool operator<(const ByteString& a, const ByteString& b) {
    return a.null_ != b.null_ ? a.null_ : a.b_ < b.b_;
  }

private:
  std::vector<uint8_t> b_;
  bool null_ = true;
};

/// XML text, encoded like a ByteString (built-in 16). A distinct type so Variant keeps the type id.
class XmlElement : public String {
public:
  using String::String;
  XmlElement() = default;
  explicit XmlElement(String s) : String(std::move(s)) {}
};

// -- Guid, DateTime ------------------------------------------------------------------------------

/// A 16-byte GUID: Data1..3 little-endian on the wire, Data4 as-is.
struct Guid {
  uint32_t data1 = 0;
  uint16_t data2 = 0;
  uint16_t data3 = 0;
  std::array<uint8_t, 8> data4{};

  /// "72962B91-FA75-4AE6-8D28-B404DC7DAF63" (upper case).
  std::string to_string() const;
  /// Parses the 36-character hyphenated form (either case).
  static std::optional<Guid> parse(std::string_view text);

  friend bool operator==(const Guid& a, const Guid& b) {
    return a.data1 == b.data1 && a.data2 == b.data2 && a.data3 == b.data3 && a.data4 == b.data4;
  }
  friend bool operator!=(const Guid& a, const Guid& b) { return !(a == b); }
  friend bool operator<(const Guid& a, const Guid& b);
};

/// 100-ns ticks since 1601-01-01 UTC. 0 means null/min; INT64_MAX means max.
struct DateTime {
  int64_t ticks = 0;

  static constexpr int64_t unix_epoch_ticks = 116444736000000000LL;
  static constexpr int64_t ticks_per_second = 10000000LL;

  constexpr DateTime() = default;
  constexpr explicit DateTime(int64_t t) : ticks(t) {}

  static DateTime now();
  /// Converts; out-of-range values clamp to the limits of the other side.
  static DateTime from_time_point(std::chrono::system_clock::time_point tp);
  std::chrono::system_clock::time_point to_time_point() const;
  static constexpr DateTime from_unix_ms(int64_t ms) {
    return DateTime(unix_epoch_ticks + ms * 10000);
  }
  constexpr int64_t to_unix_ms() const { return (ticks - unix_epoch_ticks) / 10000; }
  constexpr bool is_null() const { return ticks == 0; }

  /// RFC 3339 UTC text, e.g. "2026-11-22T14:41:07.069Z" (fraction: 0, 3, 6 or 7 digits).
  std::string to_rfc3339() const;
  /// Parses "YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)"; nullopt on a syntax or range error.
  static std::optional<DateTime> parse_rfc3339(std::string_view text);

  friend constexpr bool operator==(DateTime a, DateTime b) { return a.ticks == b.ticks; }
  friend constexpr bool operator!=(DateTime a, DateTime b) { return a.ticks != b.ticks; }
  friend constexpr bool operator<(DateTime a, DateTime b) { return a.ticks < b.ticks; }
};

// -- NodeId, ExpandedNodeId ----------------------------------------------------------------------

enum class IdType : uint8_t { Numeric = 0, String = 1, Guid = 2, ByteString = 3 };

/// A node identifier: namespace index + numeric, string, GUID or opaque identifier.
/// The encoder picks the most compact numeric form (TwoByte, FourByte, Numeric).
struct NodeId {
  uint16_t namespace_index = 0;
  std::variant<uint32_t, String, Guid, ByteString> identifier{uint32_t{0}};

  NodeId() = default;
  NodeId(uint32_t id) : identifier(id) {} // NOLINT: implicit, `NodeId(2258)` is i=2258
  NodeId(uint16_t ns, uint32_t id) : namespace_index(ns), identifier(id) {}
  NodeId(uint16_t ns, String id) : namespace_index(ns), identifier(std::move(id)) {}
  NodeId(uint16_t ns, Guid id) : namespace_index(ns), identifier(id) {}
  NodeId(uint16_t ns, ByteString id) : namespace_index(ns), identifier(std::move(id)) {}

  IdType type() const { return static_cast<IdType>(identifier.index()); }
  /// ns=0;i=0 (the wire's `00 00`).
  bool is_null() const;
  const uint32_t* numeric() const { return std::get_if<uint32_t>(&identifier); }
  const String* string() const { return std::get_if<String>(&identifier); }
  const Guid* guid() const { return std::get_if<Guid>(&identifier); }
  const ByteString* opaque() const { return std::get_if<ByteString>(&identifier); }
  /// True for ns=0 numeric `id`.
  bool is(uint32_t id) const {
    const uint32_t* n = numeric();
    return namespace_index == 0 && n && *n == id;
  }

  /// Standard text form: "i=2258", "ns=2;s=PLC1.Heartbeat", "ns=1;g=<guid>", "ns=1;b=<base64>".
  std::string to_string() const;
  /// Parses the text form; BadNodeIdInvalid with a reason on error.
  static result<NodeId> parse(std::string_view text);

  friend bool operator==(const NodeId& a, const NodeId& b) {
    return a.namespace_index == b.namespace_index && a.identifier == b.identifier;
  }
  friend bool operator!=(const NodeId& a, const NodeId& b) { return !(a == b); }
  friend bool operator<(const NodeId& a, const NodeId& b);
};

/// A NodeId that may name its namespace by URI and live on another server.
struct ExpandedNodeId {
  NodeId node_id;
  String namespace_uri;      ///< non-null sets flag 0x80
  uint32_t server_index = 0; ///< non-zero sets flag 0x40

  ExpandedNodeId() = default;
  ExpandedNodeId(NodeId n) : node_id(std::move(n)) {} // NOLINT: implicit
  ExpandedNodeId(NodeId n, String uri, uint32_t server)
      : node_id(std::move(n)), namespace_uri(std::move(uri)), server_index(server) {}

  bool is_local() const { return namespace_uri.is_null() && server_index == 0; }
  /// "svr=1;nsu=http://x;s=Name" (parts only when set); a plain NodeId's text otherwise.
  std::string to_string() const;
  static result<ExpandedNodeId> parse(std::string_view text);

  friend bool operator==(const ExpandedNodeId& a, const ExpandedNodeId& b) {
    return a.node_id == b.node_id && a.namespace_uri == b.namespace_uri &&
           a.server_index == b.server_index;
  }
  friend bool operator!=(const ExpandedNodeId& a, const ExpandedNodeId& b) { return !(a == b); }
};

// -- QualifiedName, LocalizedText, ExtensionObject ----------------------------------------------

struct QualifiedName {
  uint16_t namespace_index = 0;
  String name;

  friend bool operator==(const QualifiedName& a, const QualifiedName& b) {
    return a.namespace_index == b.namespace_index && a.name == b.name;
  }
  friend bool operator!=(const QualifiedName& a, const QualifiedName& b) { return !(a == b); }
};

/// Text with an optional locale; a null member is absent from the encoding mask.
struct LocalizedText {
  String locale;
  String text;

  LocalizedText() = default;
  LocalizedText(String t) : text(std::move(t)) {} // NOLINT: implicit
  LocalizedText(const char* t) : text(t) {}       // NOLINT: implicit
  LocalizedText(String loc, String t) : locale(std::move(loc)), text(std::move(t)) {}

  uint8_t encoding_mask() const {
    return static_cast<uint8_t>((locale.is_null() ? 0 : 0x01) | (text.is_null() ? 0 : 0x02));
  }
  friend bool operator==(const LocalizedText& a, const LocalizedText& b) {
    return a.locale == b.locale && a.text == b.text;
  }
  friend bool operator!=(const LocalizedText& a, const LocalizedText& b) { return !(a == b); }
};

enum class ExtensionObjectEncoding : uint8_t { None = 0, Binary = 1, Xml = 2 };

/// A structure wrapped with its binary-encoding TypeId; the body stays raw bytes here. Use
/// `make_extension_object` / `decode_extension_object` (services.hpp) for the known structures.
struct ExtensionObject {
  NodeId type_id;
  ExtensionObjectEncoding encoding = ExtensionObjectEncoding::None;
  ByteString body; ///< the body bytes (Binary) or the XML text (Xml)

  /// `00 00 00`: null TypeId and no body.
  bool is_null() const { return type_id.is_null() && encoding == ExtensionObjectEncoding::None; }
  friend bool operator==(const ExtensionObject& a, const ExtensionObject& b) {
    return a.type_id == b.type_id && a.encoding == b.encoding && a.body == b.body;
  }
  friend bool operator!=(const ExtensionObject& a, const ExtensionObject& b) { return !(a == b); }
};

// -- Variant -------------------------------------------------------------------------------------

/// Built-in type ids (OPC 10000-6 Table 1); the Variant encoding byte's low 6 bits.
enum class VariantType : uint8_t {
  Null = 0,
  Boolean = 1,
  SByte = 2,
  Byte = 3,
  Int16 = 4,
  UInt16 = 5,
  Int32 = 6,
  UInt32 = 7,
  Int64 = 8,
  UInt64 = 9,
  Float = 10,
  Double = 11,
  String = 12,
  DateTime = 13,
  Guid = 14,
  ByteString = 15,
  XmlElement = 16,
  NodeId = 17,
  ExpandedNodeId = 18,
  StatusCode = 19,
  QualifiedName = 20,
  LocalizedText = 21,
  ExtensionObject = 22,
  DataValue = 23,
  Variant = 24,
  DiagnosticInfo = 25,
};

/// "Double", "String", ... ("Null" for 0, "Invalid" outside 0..25).
const char* variant_type_name(VariantType t);

struct DataValue;
struct DiagnosticInfo;
class Variant;

namespace detail {

/// C++ type -> built-in type id (0 = not a built-in).
template <class T> struct builtin_id : std::integral_constant<int, 0> {};
#define TANDEM_OPCUA_BUILTIN(id, T)                                                                \
  template <> struct builtin_id<T> : std::integral_constant<int, id> {};                           \
  template <> struct builtin_type<id> { using type = T; };
template <int Id> struct builtin_type;
TANDEM_OPCUA_BUILTIN(1, bool)
TANDEM_OPCUA_BUILTIN(2, int8_t)
TANDEM_OPCUA_BUILTIN(3, uint8_t)
TANDEM_OPCUA_BUILTIN(4, int16_t)
TANDEM_OPCUA_BUILTIN(5, uint16_t)
TANDEM_OPCUA_BUILTIN(6, int32_t)
TANDEM_OPCUA_BUILTIN(7, uint32_t)
TANDEM_OPCUA_BUILTIN(8, int64_t)
TANDEM_OPCUA_BUILTIN(9, uint64_t)
TANDEM_OPCUA_BUILTIN(10, float)
TANDEM_OPCUA_BUILTIN(11, double)
TANDEM_OPCUA_BUILTIN(12, String)
TANDEM_OPCUA_BUILTIN(13, DateTime)
TANDEM_OPCUA_BUILTIN(14, Guid)
TANDEM_OPCUA_BUILTIN(15, ByteString)
TANDEM_OPCUA_BUILTIN(16, XmlElement)
TANDEM_OPCUA_BUILTIN(17, NodeId)
TANDEM_OPCUA_BUILTIN(18, ExpandedNodeId)
TANDEM_OPCUA_BUILTIN(19, StatusCode)
TANDEM_OPCUA_BUILTIN(20, QualifiedName)
TANDEM_OPCUA_BUILTIN(21, LocalizedText)
TANDEM_OPCUA_BUILTIN(22, ExtensionObject)
TANDEM_OPCUA_BUILTIN(23, DataValue)
TANDEM_OPCUA_BUILTIN(24, Variant)
TANDEM_OPCUA_BUILTIN(25, DiagnosticInfo)
#undef TANDEM_OPCUA_BUILTIN

/// Placeholder at the storage slot of a scalar Variant-in-Variant, which the encoding forbids.
struct no_scalar_variant {
  friend bool operator==(no_scalar_variant, no_scalar_variant) { return true; }
};

constexpr bool is_recursive_id(int id) {
  return id == 23 || id == 24 || id == 25;
}
/// Scalars stored behind a pointer: the recursive types, and those larger than a String
/// (NodeId, ExpandedNodeId, QualifiedName, LocalizedText, ExtensionObject), so that a Variant
/// holding a number, a String or a DateTime (what plants mostly send) stays small.
constexpr bool is_boxed_scalar_id(int id) {
  return is_recursive_id(id) || id == 17 || id == 18 || id == 20 || id == 21 || id == 22;
}
/// Arrays stored behind a pointer: the recursive types, and Boolean (a std::vector<bool> is
/// larger than the other arrays).
constexpr bool is_boxed_array_id(int id) {
  return is_recursive_id(id) || id == 1;
}

template <int Id>
using scalar_storage_t = std::conditional_t<
    Id == 24, no_scalar_variant,
    std::conditional_t<is_boxed_scalar_id(Id), Box<typename builtin_type<Id>::type>,
                       typename builtin_type<Id>::type>>;
template <int Id>
using array_storage_t =
    std::conditional_t<is_boxed_array_id(Id), Box<Array<typename builtin_type<Id>::type>>,
                       Array<typename builtin_type<Id>::type>>;

template <class Seq> struct make_variant_storage;
template <int... I> struct make_variant_storage<std::integer_sequence<int, I...>> {
  using type = std::variant<std::monostate, scalar_storage_t<I + 1>..., array_storage_t<I + 1>...>;
};

template <class T> struct is_array : std::false_type {};
template <class T> struct is_array<Array<T>> : std::true_type {};

} // namespace detail

/// A Variant's ArrayDimensions: almost always absent, so it costs one pointer until set.
class ArrayDimensions {
public:
  ArrayDimensions() = default;
  ArrayDimensions(std::initializer_list<int32_t> d) { assign(d.begin(), d.end()); }
  ArrayDimensions(const ArrayDimensions& o)
      : d_(o.d_ ? std::make_unique<std::vector<int32_t>>(*o.d_) : nullptr) {}
  ArrayDimensions(ArrayDimensions&&) noexcept = default;
  ArrayDimensions& operator=(const ArrayDimensions& o) {
    if (this != &o) d_ = o.d_ ? std::make_unique<std::vector<int32_t>>(*o.d_) : nullptr;
    return *this;
  }
  ArrayDimensions& operator=(ArrayDimensions&&) noexcept = default;
  ~ArrayDimensions() = default;

  bool empty() const { return !d_ || d_->empty(); }
  size_t size() const { return d_ ? d_->size() : 0; }
  const int32_t* begin() const { return d_ ? d_->data() : nullptr; }
  const int32_t* end() const { return d_ ? d_->data() + d_->size() : nullptr; }
  void clear() { d_.reset(); }
  template <class It> void assign(It first, It last) {
    if (first == last)
      d_.reset();
    else
      d_ = std::make_unique<std::vector<int32_t>>(first, last);
  }
  friend bool operator==(const ArrayDimensions& a, const ArrayDimensions& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }
  friend bool operator!=(const ArrayDimensions& a, const ArrayDimensions& b) { return !(a == b); }

private:
  std::unique_ptr<std::vector<int32_t>> d_;
};

/// A value of any built-in type, scalar or array (storage index: 0 null, 1..25 scalar of that type
/// id, 26..50 array of type id index-25). Scalar Variant-in-Variant is not representable (the
/// encoding only allows Variant as an array element).
class Variant {
public:
  using storage = detail::make_variant_storage<std::make_integer_sequence<int, 25>>::type;
  static constexpr size_t array_offset = 25;

  Variant() = default;
  // Copy, move, destruction and comparison visit all 51 storage alternatives: defined once in
  // types.cpp instead of in every file that copies a Variant (or a DataValue, or a structure
  // holding one), which cut build times.
  Variant(const Variant& o);
  Variant(Variant&& o) noexcept;
  Variant& operator=(const Variant& o);
  Variant& operator=(Variant&& o) noexcept;
  ~Variant();

  /// A scalar of a built-in type, e.g. `Variant(42.5)`, `Variant(uint8_t{255})`,
  /// `Variant(NodeId(85))`.
  template <
      class T, class D = std::decay_t<T>,
      std::enable_if_t<(detail::builtin_id<D>::value > 0 && detail::builtin_id<D>::value != 24),
                       int> = 0>
  Variant(T&& v) { // NOLINT: implicit
    constexpr int id = detail::builtin_id<D>::value;
    if constexpr (detail::is_boxed_scalar_id(id))
      data_.template emplace<id>(Box<D>(std::forward<T>(v)));
    else
      data_.template emplace<id>(std::forward<T>(v));
  }
  /// An array of a built-in type (Variant elements allowed).
  template <class T, std::enable_if_t<(detail::builtin_id<T>::value > 0), int> = 0>
  Variant(Array<T> a) { // NOLINT: implicit
    constexpr int id = detail::builtin_id<T>::value;
    if constexpr (detail::is_boxed_array_id(id))
      data_.template emplace<id + array_offset>(Box<Array<T>>(std::move(a)));
    else
      data_.template emplace<id + array_offset>(std::move(a));
  }
  Variant(const char* s) : Variant(String(s)) {}            // NOLINT: implicit
  Variant(std::string s) : Variant(String(std::move(s))) {} // NOLINT: implicit
  Variant(std::string_view s) : Variant(String(s)) {}       // NOLINT: implicit

  /// The element type (Null for an empty Variant).
  VariantType type() const {
    size_t i = data_.index();
    return static_cast<VariantType>(i > array_offset ? i - array_offset : i);
  }
  bool is_null() const { return data_.index() == 0; }
  bool is_array() const { return data_.index() > array_offset; }
  bool is_scalar() const { return !is_null() && !is_array(); }

  /// The value if it is a `T` scalar (or, for `Array<E>`, an array of E); nullptr otherwise.
  template <class T> const T* get_if() const { return const_cast<Variant*>(this)->get_if<T>(); }
  template <class T> T* get_if() {
    if constexpr (detail::is_array<T>::value) {
      using E = typename T::value_type;
      constexpr int id = detail::builtin_id<E>::value;
      static_assert(id > 0, "not an array of a built-in type");
      auto* p = std::get_if<id + array_offset>(&data_);
      if constexpr (detail::is_boxed_array_id(id))
        return p ? p->get() : nullptr;
      else
        return p;
    } else {
      constexpr int id = detail::builtin_id<T>::value;
      static_assert(id > 0 && id != 24, "not a scalar built-in type");
      auto* p = std::get_if<id>(&data_);
      if constexpr (detail::is_boxed_scalar_id(id))
        return p ? p->get() : nullptr;
      else
        return p;
    }
  }
  template <class T> bool holds() const { return get_if<T>() != nullptr; }

  /// Number of array elements (0 for scalars and null).
  size_t array_length() const;

  /// Raw storage (codec use).
  storage& raw() { return data_; }
  const storage& raw() const { return data_; }

  /// ArrayDimensions (flag 0x40); only meaningful for arrays. Empty = not encoded.
  ArrayDimensions array_dimensions;

  friend bool operator==(const Variant& a, const Variant& b);
  friend bool operator!=(const Variant& a, const Variant& b) { return !(a == b); }

private:
  storage data_;
};

// -- DataValue, DiagnosticInfo -------------------------------------------------------------------

/// A value with quality and timestamps; each field is present iff set (its mask bit).
struct DataValue {
  std::optional<Variant> value;               ///< 0x01
  std::optional<StatusCode> status;           ///< 0x02 (absent = Good)
  std::optional<DateTime> source_timestamp;   ///< 0x04
  std::optional<DateTime> server_timestamp;   ///< 0x08
  std::optional<uint16_t> source_picoseconds; ///< 0x10 (10-ps units)
  std::optional<uint16_t> server_picoseconds; ///< 0x20

  DataValue() = default;
  DataValue(Variant v) : value(std::move(v)) {} // NOLINT: implicit

  uint8_t encoding_mask() const {
    return static_cast<uint8_t>((value ? 0x01 : 0) | (status ? 0x02 : 0) |
                                (source_timestamp ? 0x04 : 0) | (server_timestamp ? 0x08 : 0) |
                                (source_picoseconds ? 0x10 : 0) | (server_picoseconds ? 0x20 : 0));
  }
  StatusCode status_or_good() const { return status ? *status : status::Good; }

  friend bool operator==(const DataValue& a, const DataValue& b) {
    return a.value == b.value && a.status == b.status && a.source_timestamp == b.source_timestamp &&
           a.source_picoseconds == b.source_picoseconds &&
           a.server_timestamp == b.server_timestamp && a.server_picoseconds == b.server_picoseconds;
  }
  friend bool operator!=(const DataValue& a, const DataValue& b) { return !(a == b); }
};

/// Diagnostics for an operation; the int fields index ResponseHeader.stringTable.
struct DiagnosticInfo {
  std::optional<int32_t> symbolic_id;          ///< 0x01
  std::optional<int32_t> namespace_uri;        ///< 0x02
  std::optional<int32_t> localized_text;       ///< 0x04
  std::optional<int32_t> locale;               ///< 0x08
  std::optional<String> additional_info;       ///< 0x10
  std::optional<StatusCode> inner_status_code; ///< 0x20
  Box<DiagnosticInfo> inner_diagnostic_info;   ///< 0x40 (nested; decoding limits the depth)

  uint8_t encoding_mask() const {
    return static_cast<uint8_t>((symbolic_id ? 0x01 : 0) | (namespace_uri ? 0x02 : 0) |
                                (localized_text ? 0x04 : 0) | (locale ? 0x08 : 0) |
                                (additional_info ? 0x10 : 0) | (inner_status_code ? 0x20 : 0) |
                                (inner_diagnostic_info ? 0x40 : 0));
  }
  bool empty() const { return encoding_mask() == 0; }

  friend bool operator==(const DiagnosticInfo& a, const DiagnosticInfo& b) {
    return a.symbolic_id == b.symbolic_id && a.namespace_uri == b.namespace_uri &&
           a.localized_text == b.localized_text && a.locale == b.locale &&
           a.additional_info == b.additional_info && a.inner_status_code == b.inner_status_code &&
           a.inner_diagnostic_info == b.inner_diagnostic_info;
  }
  friend bool operator!=(const DiagnosticInfo& a, const DiagnosticInfo& b) { return !(a == b); }
};

// -- helpers -------------------------------------------------------------------------------------

/// RFC 4648 base64 with padding.
std::string base64_encode(const uint8_t* data, size_t size);
/// Strict base64 decode (padding optional, no whitespace); nullopt on a bad character or length.
std::optional<std::vector<uint8_t>> base64_decode(std::string_view text);

/// Lower-case hex of bytes, no separators (logging aid).
std::string to_hex(byte_span bytes);

} // namespace tandem::opcua

template <> struct std::hash<tandem::opcua::NodeId> {
  size_t operator()(const tandem::opcua::NodeId& n) const noexcept;
};
