#include "transports/opcua/binary.hpp"

#include <cstdio>
#include <limits>

namespace tandem::opcua {
namespace {

std::string hex_byte(uint8_t b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", b);
  return buf;
}

/// RAII nesting guard.
template <class Codec> struct depth_guard {
  Codec& c;
  bool ok;
  explicit depth_guard(Codec& codec) : c(codec), ok(codec.enter()) {}
  ~depth_guard() { c.leave(); }
};

} // namespace

// -- codec_state / reader ------------------------------------------------------------------------

bool codec_state::fail(StatusCode code, std::string message, size_t offset) {
  if (!failed_) {
    failed_ = true;
    code_ = code;
    message_ = std::move(message);
    offset_ = offset;
  }
  return false;
}

error codec_state::error(std::string_view root) const {
  if (!failed_) return opcua::error{status::Good, {}};
  std::string where(root);
  for (auto it = path_.rbegin(); it != path_.rend(); ++it) {
    if (!it->empty() && (*it)[0] == '[') {
      where += *it;
    } else {
      if (!where.empty()) where += '.';
      where += *it;
    }
  }
  std::string reason;
  if (!where.empty()) reason = where + ": ";
  reason += message_ + " at byte " + std::to_string(offset_);
  return opcua::error{code_, std::move(reason)};
}

void reader::short_read(size_t n) {
  fail("needs " + std::to_string(n) + " bytes, " + std::to_string(size_ - pos_) + " left");
}

bool reader::read_length_prefix(uint32_t& n, bool& is_null, const char* what) {
  size_t start = pos_;
  int32_t v = 0;
  if (!read(v)) return false;
  is_null = v == -1;
  n = 0;
  if (is_null) return true;
  if (v < 0) return fail_at(start, std::string("negative ") + what + " " + std::to_string(v));
  n = static_cast<uint32_t>(v);
  return true;
}

bool reader::read_array_length(uint32_t& count, bool& is_null, size_t min_element_size,
                               size_t element_sizeof) {
  size_t start = pos_;
  if (!read_length_prefix(count, is_null, "array length")) return false;
  if (is_null) return true;
  if (count > limits_.max_array_length)
    return fail_at(start, "array length " + std::to_string(count) + " exceeds max_array_length " +
                              std::to_string(limits_.max_array_length));
  if (size_t{count} > remaining() / min_element_size)
    return fail_at(start, "array length " + std::to_string(count) + " needs at least " +
                              std::to_string(size_t{count} * min_element_size) + " bytes, " +
                              std::to_string(remaining()) + " left");
  return charge(size_t{count} * element_sizeof);
}

bool reader::read_string_length(uint32_t& length, bool& is_null) {
  size_t start = pos_;
  if (!read_length_prefix(length, is_null, "length")) return false;
  if (is_null) return true;
  if (length > limits_.max_string_length)
    return fail_at(start, "length " + std::to_string(length) + " exceeds max_string_length " +
                              std::to_string(limits_.max_string_length));
  if (length > remaining())
    return fail_at(start, "length " + std::to_string(length) + " exceeds the " +
                              std::to_string(remaining()) + " bytes left");
  // Short strings live inside the object (SSO); only charge real allocations.
  return length <= 15 || charge(length);
}

// -- String, ByteString, XmlElement, Guid --------------------------------------------------------

void decode(reader& r, String& v) {
  uint32_t n = 0;
  bool null = false;
  if (!r.read_string_length(n, null)) return;
  if (null) {
    v.set_null();
    return;
  }
  const uint8_t* p = r.take(n);
  if (p) v.assign(p, n);
}

namespace {
void encode_length_prefixed(writer& w, bool null, const void* data, size_t size) {
  if (null) {
    w.write(int32_t{-1});
    return;
  }
  if (size > 0x7FFFFFFFu) {
    w.fail("length " + std::to_string(size) + " exceeds Int32");
    return;
  }
  w.write(static_cast<int32_t>(size));
  w.write_bytes(data, size);
}
} // namespace

void encode(writer& w, const String& v) {
  encode_length_prefixed(w, v.is_null(), v.str().data(), v.size());
}

void decode(reader& r, ByteString& v) {
  uint32_t n = 0;
  bool null = false;
  if (!r.read_string_length(n, null)) return;
  if (null) {
    v.set_null();
    return;
  }
  const uint8_t* p = r.take(n);
  if (p) v.assign(p, n);
}

void encode(writer& w, const ByteString& v) {
  encode_length_prefixed(w, v.is_null(), v.data(), v.size());
}

void decode(reader& r, XmlElement& v) {
  decode(r, static_cast<String&>(v));
}
void encode(writer& w, const XmlElement& v) {
  encode(w, static_cast<const String&>(v));
}

void decode(reader& r, Guid& v) {
  const uint8_t* p = r.take(16);
  if (!p) return;
  std::memcpy(&v.data1, p, 4);
  std::memcpy(&v.data2, p + 4, 2);
  std::memcpy(&v.data3, p + 6, 2);
  std::memcpy(v.data4.data(), p + 8, 8);
}

void encode(writer& w, const Guid& v) {
  w.write(v.data1);
  w.write(v.data2);
  w.write(v.data3);
  w.write_bytes(v.data4.data(), 8);
}

// -- NodeId, ExpandedNodeId ----------------------------------------------------------------------

namespace {

void decode_node_id_body(reader& r, uint8_t form, size_t start, NodeId& v) {
  switch (form) {
  case 0x00: {
    uint8_t id = 0;
    if (!r.read(id)) return;
    v.namespace_index = 0;
    v.identifier = uint32_t{id};
    return;
  }
  case 0x01: {
    uint8_t ns = 0;
    uint16_t id = 0;
    if (!r.read(ns) || !r.read(id)) return;
    v.namespace_index = ns;
    v.identifier = uint32_t{id};
    return;
  }
  case 0x02: {
    uint32_t id = 0;
    if (!r.read(v.namespace_index) || !r.read(id)) return;
    v.identifier = id;
    return;
  }
  case 0x03: {
    if (!r.read(v.namespace_index)) return;
    String s;
    decode(r, s);
    v.identifier = std::move(s);
    return;
  }
  case 0x04: {
    if (!r.read(v.namespace_index)) return;
    Guid g;
    decode(r, g);
    v.identifier = g;
    return;
  }
  case 0x05: {
    if (!r.read(v.namespace_index)) return;
    ByteString b;
    decode(r, b);
    v.identifier = std::move(b);
    return;
  }
  default:
    r.fail_at(start, "unknown NodeId encoding byte " + hex_byte(form));
  }
}

uint8_t encode_node_id_form(const NodeId& v) {
  switch (v.type()) {
  case IdType::Numeric: {
    uint32_t id = *v.numeric();
    if (v.namespace_index == 0 && id <= 0xFF) return 0x00;
    if (v.namespace_index <= 0xFF && id <= 0xFFFF) return 0x01;
    return 0x02;
  }
  case IdType::String:
    return 0x03;
  case IdType::Guid:
    return 0x04;
  case IdType::ByteString:
    return 0x05;
  }
  return 0x02;
}

void encode_node_id_body(writer& w, uint8_t form, const NodeId& v) {
  switch (form) {
  case 0x00:
    w.write(static_cast<uint8_t>(*v.numeric()));
    return;
  case 0x01:
    w.write(static_cast<uint8_t>(v.namespace_index));
    w.write(static_cast<uint16_t>(*v.numeric()));
    return;
  case 0x02:
    w.write(v.namespace_index);
    w.write(*v.numeric());
    return;
  case 0x03:
    w.write(v.namespace_index);
    encode(w, *v.string());
    return;
  case 0x04:
    w.write(v.namespace_index);
    encode(w, *v.guid());
    return;
  case 0x05:
    w.write(v.namespace_index);
    encode(w, *v.opaque());
    return;
  }
}

} // namespace

void decode(reader& r, NodeId& v) {
  size_t start = r.offset();
  uint8_t form = 0;
  if (!r.read(form)) return;
  if (form & 0xC0)
    r.fail_at(start, "NodeId encoding byte " + hex_byte(form) + " has ExpandedNodeId flags");
  else
    decode_node_id_body(r, form, start, v);
}

void encode(writer& w, const NodeId& v) {
  uint8_t form = encode_node_id_form(v);
  w.write(form);
  encode_node_id_body(w, form, v);
}

void decode(reader& r, ExpandedNodeId& v) {
  size_t start = r.offset();
  uint8_t form = 0;
  if (!r.read(form)) return;
  decode_node_id_body(r, form & 0x3F, start, v.node_id);
  if (!r.ok()) return;
  if (form & 0x80)
    decode(r, v.namespace_uri);
  else
    v.namespace_uri.set_null();
  v.server_index = 0;
  if (form & 0x40) r.read(v.server_index);
}

void encode(writer& w, const ExpandedNodeId& v) {
  uint8_t form = encode_node_id_form(v.node_id);
  uint8_t flags = static_cast<uint8_t>((v.namespace_uri.is_null() ? 0 : 0x80) |
                                       (v.server_index != 0 ? 0x40 : 0));
  w.write(static_cast<uint8_t>(form | flags));
  encode_node_id_body(w, form, v.node_id);
  if (flags & 0x80) encode(w, v.namespace_uri);
  if (flags & 0x40) w.write(v.server_index);
}

// -- QualifiedName, LocalizedText, ExtensionObject -----------------------------------------------

void decode(reader& r, QualifiedName& v) {
  if (r.read(v.namespace_index)) decode(r, v.name);
}
void encode(writer& w, const QualifiedName& v) {
  w.write(v.namespace_index);
  encode(w, v.name);
}

void decode(reader& r, LocalizedText& v) {
  size_t start = r.offset();
  uint8_t mask = 0;
  if (!r.read(mask)) return;
  if (mask & ~0x03u) {
    r.fail_at(start, "LocalizedText encoding mask " + hex_byte(mask) + " has reserved bits");
    return;
  }
  if (mask & 0x01)
    decode(r, v.locale);
  else
    v.locale.set_null();
  if (!r.ok()) return;
  if (mask & 0x02)
    decode(r, v.text);
  else
    v.text.set_null();
}

void encode(writer& w, const LocalizedText& v) {
  w.write(v.encoding_mask());
  if (!v.locale.is_null()) encode(w, v.locale);
  if (!v.text.is_null()) encode(w, v.text);
}

void decode(reader& r, ExtensionObject& v) {
  decode(r, v.type_id);
  if (!r.ok()) {
    r.note_field("typeId");
    return;
  }
  size_t start = r.offset();
  uint8_t enc = 0;
  if (!r.read(enc)) return;
  switch (enc) {
  case 0:
    v.encoding = ExtensionObjectEncoding::None;
    v.body.set_null();
    return;
  case 1:
  case 2:
    v.encoding = static_cast<ExtensionObjectEncoding>(enc);
    decode(r, v.body);
    if (!r.ok()) r.note_field("body");
    return;
  default:
    r.fail_at(start, "unknown ExtensionObject encoding " + hex_byte(enc));
  }
}

void encode(writer& w, const ExtensionObject& v) {
  encode(w, v.type_id);
  w.write(static_cast<uint8_t>(v.encoding));
  switch (v.encoding) {
  case ExtensionObjectEncoding::None:
    return;
  case ExtensionObjectEncoding::Binary:
  case ExtensionObjectEncoding::Xml:
    encode(w, v.body);
    return;
  }
  w.fail("unknown ExtensionObject encoding " + std::to_string(static_cast<int>(v.encoding)));
}

// -- Variant -------------------------------------------------------------------------------------

namespace {

using storage = Variant::storage;
constexpr size_t array_offset = Variant::array_offset;

template <int Id> void decode_scalar(reader& r, storage& s) {
  if constexpr (Id == 24) {
    r.fail("a scalar Variant cannot hold a Variant");
  } else if constexpr (detail::is_boxed_scalar_id(Id)) {
    using T = typename detail::builtin_type<Id>::type;
    auto& box = s.template emplace<Id>();
    if (!r.charge(sizeof(T))) return;
    decode(r, box.emplace());
  } else {
    decode(r, s.template emplace<Id>());
  }
}

template <int Id> void decode_array(reader& r, storage& s) {
  if constexpr (detail::is_boxed_array_id(Id)) {
    using T = typename detail::builtin_type<Id>::type;
    auto& box = s.template emplace<Id + array_offset>();
    if (!r.charge(sizeof(Array<T>))) return;
    decode(r, box.emplace());
  } else {
    decode(r, s.template emplace<Id + array_offset>());
  }
}

template <int Id> void encode_scalar(writer& w, const storage& s) {
  if constexpr (Id == 24) {
    w.fail("a scalar Variant cannot hold a Variant");
  } else if constexpr (detail::is_boxed_scalar_id(Id)) {
    const auto& box = std::get<Id>(s);
    if (!box) {
      w.fail("empty boxed value");
      return;
    }
    encode(w, *box);
  } else {
    encode(w, std::get<Id>(s));
  }
}

template <int Id> void encode_array(writer& w, const storage& s) {
  if constexpr (detail::is_boxed_array_id(Id)) {
    const auto& box = std::get<Id + array_offset>(s);
    if (!box) {
      w.fail("empty boxed array");
      return;
    }
    encode(w, *box);
  } else {
    encode(w, std::get<Id + array_offset>(s));
  }
}

using decode_fn = void (*)(reader&, storage&);
using encode_fn = void (*)(writer&, const storage&);

template <int... I>
constexpr std::array<decode_fn, 26> make_scalar_decoders(std::integer_sequence<int, I...>) {
  return {nullptr, &decode_scalar<I + 1>...};
}
template <int... I>
constexpr std::array<decode_fn, 26> make_array_decoders(std::integer_sequence<int, I...>) {
  return {nullptr, &decode_array<I + 1>...};
}
template <int... I>
constexpr std::array<encode_fn, 26> make_scalar_encoders(std::integer_sequence<int, I...>) {
  return {nullptr, &encode_scalar<I + 1>...};
}
template <int... I>
constexpr std::array<encode_fn, 26> make_array_encoders(std::integer_sequence<int, I...>) {
  return {nullptr, &encode_array<I + 1>...};
}

constexpr auto scalar_decoders = make_scalar_decoders(std::make_integer_sequence<int, 25>{});
constexpr auto array_decoders = make_array_decoders(std::make_integer_sequence<int, 25>{});
constexpr auto scalar_encoders = make_scalar_encoders(std::make_integer_sequence<int, 25>{});
constexpr auto array_encoders = make_array_encoders(std::make_integer_sequence<int, 25>{});

} // namespace

void decode(reader& r, Variant& v) {
  size_t start = r.offset();
  uint8_t b = 0;
  if (!r.read(b)) return;
  const uint8_t type = b & 0x3F;
  const bool is_array = (b & 0x80) != 0;
  const bool has_dims = (b & 0x40) != 0;
  v.array_dimensions.clear();
  if (type == 0) {
    if (b != 0) {
      r.fail_at(start, "null Variant with flags " + hex_byte(b));
      return;
    }
    v.raw().emplace<0>();
    return;
  }
  if (type > 25) {
    r.fail_at(start, "invalid Variant type id " + std::to_string(type));
    return;
  }
  depth_guard<reader> guard(r);
  if (!guard.ok) return;
  if (!is_array) {
    if (has_dims) {
      r.fail_at(start, "scalar Variant with the ArrayDimensions flag");
      return;
    }
    if (type == 24) {
      r.fail_at(start, "a scalar Variant cannot hold a Variant");
      return;
    }
    scalar_decoders[type](r, v.raw());
    if (!r.ok()) r.note_field(variant_type_name(static_cast<VariantType>(type)));
    return;
  }
  array_decoders[type](r, v.raw());
  if (!r.ok()) {
    r.note_field(variant_type_name(static_cast<VariantType>(type)));
    return;
  }
  if (has_dims) {
    size_t dims_at = r.offset();
    Array<int32_t> dims;
    decode(r, dims);
    if (!r.ok()) {
      r.note_field("arrayDimensions");
      return;
    }
    // The dimensions must describe exactly the elements sent.
    uint64_t product = 1;
    for (int32_t d : dims) {
      if (d < 0) {
        r.fail_at(dims_at, "negative array dimension " + std::to_string(d));
        return;
      }
      product *= static_cast<uint64_t>(d);
      if (product > 0xFFFFFFFFu) product = 0xFFFFFFFFu + uint64_t{1};
    }
    if (!dims.empty() && product != v.array_length()) {
      r.fail_at(dims_at, "array dimensions multiply to " + std::to_string(product) + ", not " +
                             std::to_string(v.array_length()));
      return;
    }
    v.array_dimensions.assign(dims.begin(), dims.end());
  }
}

void encode(writer& w, const Variant& v) {
  if (v.is_null()) {
    w.write(uint8_t{0});
    return;
  }
  const uint8_t type = static_cast<uint8_t>(v.type());
  const bool arr = v.is_array();
  if (!arr && !v.array_dimensions.empty()) {
    w.fail("ArrayDimensions on a scalar Variant");
    return;
  }
  depth_guard<writer> guard(w);
  if (!guard.ok) return;
  const bool dims = arr && !v.array_dimensions.empty();
  w.write(static_cast<uint8_t>(type | (arr ? 0x80 : 0) | (dims ? 0x40 : 0)));
  if (!arr) {
    scalar_encoders[type](w, v.raw());
    return;
  }
  array_encoders[type](w, v.raw());
  if (dims && w.ok()) {
    uint64_t product = 1;
    for (int32_t d : v.array_dimensions) {
      if (d < 0) {
        w.fail("negative array dimension");
        return;
      }
      product *= static_cast<uint64_t>(d);
      if (product > 0xFFFFFFFFu) product = 0xFFFFFFFFu + uint64_t{1};
    }
    if (product != v.array_length()) {
      w.fail("ArrayDimensions do not multiply to the array length");
      return;
    }
    encode(w, Array<int32_t>(
                  std::vector<int32_t>(v.array_dimensions.begin(), v.array_dimensions.end())));
  }
}

// -- DataValue, DiagnosticInfo -------------------------------------------------------------------

void decode(reader& r, DataValue& v) {
  size_t start = r.offset();
  uint8_t mask = 0;
  if (!r.read(mask)) return;
  if (mask & 0xC0) {
    r.fail_at(start, "DataValue encoding mask " + hex_byte(mask) + " has reserved bits");
    return;
  }
  if (mask & 0x01) {
    decode(r, v.value.emplace());
    if (!r.ok()) return r.note_field("value");
  } else {
    v.value.reset();
  }
  if (mask & 0x02) {
    if (!r.read(v.status.emplace().value)) return r.note_field("status");
  } else {
    v.status.reset();
  }
  if (mask & 0x04) {
    if (!r.read(v.source_timestamp.emplace().ticks)) return r.note_field("sourceTimestamp");
  } else {
    v.source_timestamp.reset();
  }
  if (mask & 0x10) {
    if (!r.read(v.source_picoseconds.emplace())) return r.note_field("sourcePicoseconds");
  } else {
    v.source_picoseconds.reset();
  }
  if (mask & 0x08) {
    if (!r.read(v.server_timestamp.emplace().ticks)) return r.note_field("serverTimestamp");
  } else {
    v.server_timestamp.reset();
  }
  if (mask & 0x20) {
    if (!r.read(v.server_picoseconds.emplace())) return r.note_field("serverPicoseconds");
  } else {
    v.server_picoseconds.reset();
  }
}

void encode(writer& w, const DataValue& v) {
  w.write(v.encoding_mask());
  if (v.value) {
    encode(w, *v.value);
    if (!w.ok()) return w.note_field("value");
  }
  if (v.status) w.write(v.status->value);
  if (v.source_timestamp) w.write(v.source_timestamp->ticks);
  if (v.source_picoseconds) w.write(*v.source_picoseconds);
  if (v.server_timestamp) w.write(v.server_timestamp->ticks);
  if (v.server_picoseconds) w.write(*v.server_picoseconds);
}

void decode(reader& r, DiagnosticInfo& v) {
  size_t start = r.offset();
  uint8_t mask = 0;
  if (!r.read(mask)) return;
  if (mask & 0x80) {
    r.fail_at(start, "DiagnosticInfo encoding mask " + hex_byte(mask) + " has reserved bits");
    return;
  }
  auto opt_i32 = [&](uint8_t bit, std::optional<int32_t>& f) {
    if (mask & bit) {
      r.read(f.emplace());
    } else {
      f.reset();
    }
  };
  opt_i32(0x01, v.symbolic_id);
  opt_i32(0x02, v.namespace_uri);
  opt_i32(0x08, v.locale);
  opt_i32(0x04, v.localized_text);
  if (!r.ok()) return;
  if (mask & 0x10) {
    decode(r, v.additional_info.emplace());
    if (!r.ok()) return r.note_field("additionalInfo");
  } else {
    v.additional_info.reset();
  }
  if (mask & 0x20) {
    if (!r.read(v.inner_status_code.emplace().value)) return;
  } else {
    v.inner_status_code.reset();
  }
  if (mask & 0x40) {
    depth_guard<reader> guard(r);
    if (!guard.ok) return;
    if (!r.charge(sizeof(DiagnosticInfo))) return;
    decode(r, v.inner_diagnostic_info.emplace());
    if (!r.ok()) r.note_field("innerDiagnosticInfo");
  } else {
    v.inner_diagnostic_info.reset();
  }
}

void encode(writer& w, const DiagnosticInfo& v) {
  w.write(v.encoding_mask());
  if (v.symbolic_id) w.write(*v.symbolic_id);
  if (v.namespace_uri) w.write(*v.namespace_uri);
  if (v.locale) w.write(*v.locale);
  if (v.localized_text) w.write(*v.localized_text);
  if (v.additional_info) encode(w, *v.additional_info);
  if (v.inner_status_code) w.write(v.inner_status_code->value);
  if (v.inner_diagnostic_info) {
    depth_guard<writer> guard(w);
    if (!guard.ok) return;
    encode(w, *v.inner_diagnostic_info);
    if (!w.ok()) w.note_field("innerDiagnosticInfo");
  }
}

} // namespace tandem::opcua
