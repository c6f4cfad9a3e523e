#include "transports/opcua/client/values.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "transports/opcua/services.hpp"

namespace tandem::opcua {

namespace {

using json = nlohmann::json;

template <class T> json scalar_json(const T& v) {
  if constexpr (std::is_same_v<T, bool> || std::is_arithmetic_v<T>) {
    if constexpr (std::is_floating_point_v<T>) {
      if (!std::isfinite(v))
        return json(std::isnan(v) ? "NaN" : (v > 0 ? "Infinity" : "-Infinity"));
    }
    return json(v);
  } else if constexpr (std::is_same_v<T, String>) {
    return v.is_null() ? json(nullptr) : json(v.str());
  } else if constexpr (std::is_same_v<T, DateTime>) {
    return json(v.to_rfc3339());
  } else if constexpr (std::is_same_v<T, StatusCode>) {
    return json(to_string(v));
  } else if constexpr (std::is_same_v<T, NodeId> || std::is_same_v<T, ExpandedNodeId> ||
                       std::is_same_v<T, Guid>) {
    return json(v.to_string());
  } else if constexpr (std::is_same_v<T, QualifiedName>) {
    return json(std::to_string(v.namespace_index) + ":" + v.name.str());
  } else if constexpr (std::is_same_v<T, LocalizedText>) {
    return json(v.text.str());
  } else if constexpr (std::is_same_v<T, ByteString>) {
    static const char* hex = "0123456789abcdef";
    std::string s;
    for (auto b : v.span()) {
      s += hex[b >> 4];
      s += hex[b & 15];
    }
    return json(s);
  } else {
    return json(std::string("<") +
                variant_type_name(static_cast<VariantType>(detail::builtin_id<T>::value)) + ">");
  }
}

template <class F> json visit_known(const Variant& v, F&& f) {
  json out = nullptr;
  bool done = false;
  auto try_type = [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (done) return;
    if (v.is_array()) {
      if (auto* a = v.get_if<Array<T>>()) {
        out = json::array();
        for (auto&& e : *a)
          out.push_back(f(static_cast<const T&>(e)));
        done = true;
      }
    } else if (auto* p = v.get_if<T>()) {
      out = f(*p);
      done = true;
    }
  };
  (try_type(detail::type_tag<bool>{}), try_type(detail::type_tag<int8_t>{}),
   try_type(detail::type_tag<uint8_t>{}), try_type(detail::type_tag<int16_t>{}),
   try_type(detail::type_tag<uint16_t>{}), try_type(detail::type_tag<int32_t>{}),
   try_type(detail::type_tag<uint32_t>{}), try_type(detail::type_tag<int64_t>{}),
   try_type(detail::type_tag<uint64_t>{}), try_type(detail::type_tag<float>{}),
   try_type(detail::type_tag<double>{}), try_type(detail::type_tag<String>{}),
   try_type(detail::type_tag<DateTime>{}), try_type(detail::type_tag<Guid>{}),
   try_type(detail::type_tag<ByteString>{}), try_type(detail::type_tag<NodeId>{}),
   try_type(detail::type_tag<ExpandedNodeId>{}), try_type(detail::type_tag<StatusCode>{}),
   try_type(detail::type_tag<QualifiedName>{}), try_type(detail::type_tag<LocalizedText>{}));
  if (!done && !v.is_null()) out = std::string("<") + variant_type_name(v.type()) + ">";
  return out;
}

} // namespace

json to_json(const Variant& v) {
  return visit_known(v, [](const auto& x) { return scalar_json(x); });
}

std::string to_text(const Variant& v) {
  auto j = to_json(v);
  if (j.is_string()) return j.get<std::string>();
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

VariantType variant_type_from_name(const std::string& name) {
  for (int i = 1; i <= 25; ++i) {
    std::string n = variant_type_name(static_cast<VariantType>(i));
    if (n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        }))
      return static_cast<VariantType>(i);
  }
  return VariantType::Null;
}

result<Variant> from_text(const std::string& text, VariantType t) {
  auto bad = [&](const std::string& why) {
    return error{status::BadTypeMismatch,
                 "'" + text + "' is not a " + variant_type_name(t) + ": " + why};
  };
  auto integer = [&](auto min, auto max) -> result<Variant> {
    using T = decltype(min);
    errno = 0;
    char* end = nullptr;
    if (text.empty()) return bad("empty");
    if constexpr (std::is_signed_v<T>) {
      long long v = std::strtoll(text.c_str(), &end, 10);
      if (*end || errno) return bad("not a whole number in range");
      if (v < static_cast<long long>(min) || v > static_cast<long long>(max))
        return bad("out of range");
      return Variant(static_cast<T>(v));
    } else {
      if (text[0] == '-') return bad("negative");
      unsigned long long v = std::strtoull(text.c_str(), &end, 10);
      if (*end || errno) return bad("not a whole number in range");
      if (v > static_cast<unsigned long long>(max)) return bad("out of range");
      return Variant(static_cast<T>(v));
    }
  };
  switch (t) {
  case VariantType::Boolean:
    if (text == "true" || text == "1") return Variant(true);
    if (text == "false" || text == "0") return Variant(false);
    return bad("use true or false");
  case VariantType::SByte:
    return integer(int8_t{-128}, int8_t{127});
  case VariantType::Byte:
    return integer(uint8_t{0}, uint8_t{255});
  case VariantType::Int16:
    return integer(std::numeric_limits<int16_t>::min(), std::numeric_limits<int16_t>::max());
  case VariantType::UInt16:
    return integer(uint16_t{0}, std::numeric_limits<uint16_t>::max());
  case VariantType::Int32:
    return integer(std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max());
  case VariantType::UInt32:
    return integer(uint32_t{0}, std::numeric_limits<uint32_t>::max());
  case VariantType::Int64:
    return integer(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max());
  case VariantType::UInt64:
    return integer(uint64_t{0}, std::numeric_limits<uint64_t>::max());
  case VariantType::Float:
  case VariantType::Double: {
    errno = 0;
    char* end = nullptr;
    double d = std::strtod(text.c_str(), &end);
    if (text.empty() || *end || errno) return bad("not a number");
    if (t == VariantType::Float) return Variant(static_cast<float>(d));
    return Variant(d);
  }
  case VariantType::String:
    return Variant(String(text));
  case VariantType::DateTime: {
    auto dt = DateTime::parse_rfc3339(text);
    if (!dt) return bad("use RFC 3339, e.g. 2026-11-22T16:00:00.000Z");
    return Variant(*dt);
  }
  case VariantType::NodeId: {
    auto n = NodeId::parse(text);
    if (!n) return bad(n.error().reason);
    return Variant(*n);
  }
  case VariantType::ByteString:
    return Variant(ByteString::from_string(text));
  default:
    return error{status::BadTypeMismatch, std::string("writing values of type ") +
                                              variant_type_name(t) + " from text is not supported"};
  }
}

} // namespace tandem::opcua
