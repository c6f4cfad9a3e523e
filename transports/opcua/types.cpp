#include "transports/opcua/types.hpp"

#include <cstdio>
#include <cstring>
#include <limits>
#include <tuple>

namespace tandem::opcua {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool parse_hex(std::string_view s, uint64_t& out) {
  out = 0;
  for (char c : s) {
    int v = hex_value(c);
    if (v < 0) return false;
    out = out * 16 + static_cast<uint64_t>(v);
  }
  return true;
}

/// Decimal digits only, no sign, no overflow past `max`.
bool parse_uint(std::string_view s, uint64_t max, uint64_t& out) {
  if (s.empty() || s.size() > 20) return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (out > (max - d) / 10) return false;
    out = out * 10 + d;
  }
  return true;
}

// Howard Hinnant's civil calendar algorithms (public domain), days relative to 1970-01-01.
constexpr int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

constexpr void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

constexpr int64_t days_1601_to_1970 = 134774;
constexpr int64_t ticks_per_day = 86400LL * DateTime::ticks_per_second;
static_assert(days_1601_to_1970 * ticks_per_day == DateTime::unix_epoch_ticks);

unsigned days_in_month(int64_t y, unsigned m) {
  static constexpr unsigned dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : dim[m - 1];
}

error node_id_error(std::string_view text, const char* why) {
  return error{status::BadNodeIdInvalid,
               "invalid NodeId '" + std::string(text.substr(0, 200)) + "': " + why};
}

std::string escape_uri(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == ';')
      out += "%3B";
    else if (c == '%')
      out += "%25";
    else
      out += c;
  }
  return out;
}

bool unescape_uri(std::string_view s, std::string& out) {
  out.clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return false;
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return true;
}

} // namespace

// -- Guid ----------------------------------------------------------------------------------------

std::string Guid::to_string() const {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X",
                static_cast<unsigned>(data1), static_cast<unsigned>(data2),
                static_cast<unsigned>(data3), data4[0], data4[1], data4[2], data4[3], data4[4],
                data4[5], data4[6], data4[7]);
  return buf;
}

std::optional<Guid> Guid::parse(std::string_view t) {
  if (t.size() != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-')
    return std::nullopt;
  Guid g;
  uint64_t v = 0;
  if (!parse_hex(t.substr(0, 8), v)) return std::nullopt;
  g.data1 = static_cast<uint32_t>(v);
  if (!parse_hex(t.substr(9, 4), v)) return std::nullopt;
  g.data2 = static_cast<uint16_t>(v);
  if (!parse_hex(t.substr(14, 4), v)) return std::nullopt;
  g.data3 = static_cast<uint16_t>(v);
  for (size_t i = 0; i < 8; ++i) {
    size_t pos = i < 2 ? 19 + 2 * i : 24 + 2 * (i - 2);
    if (!parse_hex(t.substr(pos, 2), v)) return std::nullopt;
    g.data4[i] = static_cast<uint8_t>(v);
  }
  return g;
}

bool operator<(const Guid& a, const Guid& b) {
  return std::tie(a.data1, a.data2, a.data3, a.data4) <
         std::tie(b.data1, b.data2, b.data3, b.data4);
}

// -- DateTime ------------------------------------------------------------------------------------

DateTime DateTime::now() {
  return from_time_point(std::chrono::system_clock::now());
}

DateTime DateTime::from_time_point(std::chrono::system_clock::time_point tp) {
  using namespace std::chrono;
  // Ticks are 100 ns; the clock's range (±292 years for ns) always fits in ticks.
  int64_t units =
      duration_cast<duration<int64_t, std::ratio<1, 10000000>>>(tp.time_since_epoch()).count();
  return DateTime(unix_epoch_ticks + units);
}

std::chrono::system_clock::time_point DateTime::to_time_point() const {
  using namespace std::chrono;
  using tick = duration<int64_t, std::ratio<1, 10000000>>;
  using clock_dur = system_clock::duration;
  // ticks - epoch cannot overflow for ticks >= INT64_MIN + epoch; below that clamp.
  int64_t units = ticks < std::numeric_limits<int64_t>::min() + unix_epoch_ticks
                      ? std::numeric_limits<int64_t>::min()
                      : ticks - unix_epoch_ticks;
  // Clamp to what the clock's duration can hold.
  constexpr int64_t max_units =
      duration_cast<tick>(clock_dur::max()).count() - 1; // one tick of headroom for rounding
  constexpr int64_t min_units = duration_cast<tick>(clock_dur::min()).count() + 1;
  if (units > max_units) units = max_units;
  if (units < min_units) units = min_units;
  return system_clock::time_point(duration_cast<clock_dur>(tick(units)));
}

std::string DateTime::to_rfc3339() const {
  int64_t t = ticks;
  int64_t days = t / ticks_per_day;
  int64_t rem = t % ticks_per_day;
  if (rem < 0) {
    rem += ticks_per_day;
    --days;
  }
  int64_t y;
  unsigned m, d;
  civil_from_days(days - days_1601_to_1970, y, m, d);
  int64_t secs = rem / ticks_per_second;
  int64_t frac = rem % ticks_per_second;
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02d",
                        static_cast<long long>(y), m, d, static_cast<int>(secs / 3600),
                        static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60));
  std::string out(buf, static_cast<size_t>(n));
  if (frac != 0) {
    char f[16];
    std::snprintf(f, sizeof f, ".%07lld", static_cast<long long>(frac));
    std::string fs(f);
    if (frac % 10000 == 0)
      fs.resize(4); // milliseconds
    else if (frac % 10 == 0)
      fs.resize(7); // microseconds
    out += fs;
  }
  out += 'Z';
  return out;
}

std::optional<DateTime> DateTime::parse_rfc3339(std::string_view s) {
  auto digits = [&](size_t pos, size_t n, unsigned& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (size_t i = 0; i < n; ++i) {
      char c = s[pos + i];
      if (c < '0' || c > '9') return false;
      out = out * 10 + static_cast<unsigned>(c - '0');
    }
    return true;
  };
  unsigned y, mo, d, h, mi, se;
  if (!digits(0, 4, y) || s.size() < 19 || s[4] != '-' || !digits(5, 2, mo) || s[7] != '-' ||
      !digits(8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(11, 2, h) ||
      s[13] != ':' || !digits(14, 2, mi) || s[16] != ':' || !digits(17, 2, se))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 59)
    return std::nullopt;
  size_t pos = 19;
  int64_t frac = 0; // in ticks
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 1000000; // first digit = 1e6 ticks
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (pos - start >= 9) return std::nullopt;
      frac += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int64_t offset_minutes = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    unsigned oh, om;
    if (!digits(pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(pos + 4, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_minutes = (s[pos] == '-' ? -1 : 1) * static_cast<int64_t>(oh * 60 + om);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  int64_t days = days_from_civil(y, mo, d) + days_1601_to_1970;
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - offset_minutes * 60;
  if (secs < 0) return std::nullopt; // before 1601
  return DateTime(secs * ticks_per_second + frac);
}

// -- NodeId --------------------------------------------------------------------------------------

bool NodeId::is_null() const {
  if (namespace_index != 0) return false;
  switch (type()) {
  case IdType::Numeric:
    return *numeric() == 0;
  case IdType::String:
    return string()->empty();
  case IdType::Guid:
    return *guid() == Guid{};
  case IdType::ByteString:
    return opaque()->empty();
  }
  return false;
}

std::string NodeId::to_string() const {
  std::string out;
  if (namespace_index != 0) out = "ns=" + std::to_string(namespace_index) + ";";
  switch (type()) {
  case IdType::Numeric:
    out += "i=" + std::to_string(*numeric());
    break;
  case IdType::String:
    out += "s=" + string()->str();
    break;
  case IdType::Guid:
    out += "g=" + guid()->to_string();
    break;
  case IdType::ByteString:
    out += "b=" + base64_encode(opaque()->data(), opaque()->size());
    break;
  }
  return out;
}

result<NodeId> NodeId::parse(std::string_view text) {
  std::string_view s = text;
  NodeId n;
  if (s.substr(0, 3) == "ns=") {
    size_t semi = s.find(';');
    if (semi == std::string_view::npos) return node_id_error(text, "missing ';' after ns=");
    uint64_t ns;
    if (!parse_uint(s.substr(3, semi - 3), 0xFFFF, ns))
      return node_id_error(text, "namespace index is not a number in 0..65535");
    n.namespace_index = static_cast<uint16_t>(ns);
    s.remove_prefix(semi + 1);
  }
  if (s.size() < 2 || s[1] != '=') return node_id_error(text, "expected i=, s=, g= or b=");
  std::string_view id = s.substr(2);
  switch (s[0]) {
  case 'i': {
    uint64_t v;
    if (!parse_uint(id, 0xFFFFFFFFu, v))
      return node_id_error(text, "numeric identifier is not a number in 0..4294967295");
    n.identifier = static_cast<uint32_t>(v);
    return std::move(n);
  }
  case 's':
    n.identifier = String(id);
    return std::move(n);
  case 'g': {
    auto g = Guid::parse(id);
    if (!g) return node_id_error(text, "GUID must look like 72962B91-FA75-4AE6-8D28-B404DC7DAF63");
    n.identifier = *g;
    return std::move(n);
  }
  case 'b': {
    auto b = base64_decode(id);
    if (!b) return node_id_error(text, "opaque identifier is not valid base64");
    n.identifier = ByteString(std::move(*b));
    return std::move(n);
  }
  default:
    return node_id_error(text, "expected i=, s=, g= or b=");
  }
}

bool operator<(const NodeId& a, const NodeId& b) {
  if (a.namespace_index != b.namespace_index) return a.namespace_index < b.namespace_index;
  return a.identifier < b.identifier;
}

std::string ExpandedNodeId::to_string() const {
  std::string out;
  if (server_index != 0) out += "svr=" + std::to_string(server_index) + ";";
  if (!namespace_uri.is_null()) {
    out += "nsu=" + escape_uri(namespace_uri.str()) + ";";
    NodeId local = node_id;
    local.namespace_index = 0;
    return out + local.to_string();
  }
  return out + node_id.to_string();
}

result<ExpandedNodeId> ExpandedNodeId::parse(std::string_view text) {
  std::string_view s = text;
  ExpandedNodeId x;
  if (s.substr(0, 4) == "svr=") {
    size_t semi = s.find(';');
    uint64_t v;
    if (semi == std::string_view::npos || !parse_uint(s.substr(4, semi - 4), 0xFFFFFFFFu, v))
      return node_id_error(text, "bad svr= part");
    x.server_index = static_cast<uint32_t>(v);
    s.remove_prefix(semi + 1);
  }
  if (s.substr(0, 4) == "nsu=") {
    size_t semi = s.find(';');
    std::string uri;
    if (semi == std::string_view::npos || !unescape_uri(s.substr(4, semi - 4), uri))
      return node_id_error(text, "bad nsu= part");
    x.namespace_uri = String(std::move(uri));
    s.remove_prefix(semi + 1);
    if (s.substr(0, 3) == "ns=") return node_id_error(text, "both nsu= and ns=");
  }
  auto n = NodeId::parse(s);
  if (!n) return n.error();
  x.node_id = std::move(*n);
  return std::move(x);
}

// -- Variant -------------------------------------------------------------------------------------

const char* variant_type_name(VariantType t) {
  static constexpr const char* names[] = {
      "Null",          "Boolean",       "SByte",           "Byte",           "Int16",
      "UInt16",        "Int32",         "UInt32",          "Int64",          "UInt64",
      "Float",         "Double",        "String",          "DateTime",       "Guid",
      "ByteString",    "XmlElement",    "NodeId",          "ExpandedNodeId", "StatusCode",
      "QualifiedName", "LocalizedText", "ExtensionObject", "DataValue",      "Variant",
      "DiagnosticInfo"};
  auto i = static_cast<size_t>(t);
  return i < sizeof names / sizeof names[0] ? names[i] : "Invalid";
}

Variant::Variant(const Variant& o) = default;
Variant::Variant(Variant&& o) noexcept = default;
Variant& Variant::operator=(const Variant& o) = default;
Variant& Variant::operator=(Variant&& o) noexcept = default;
Variant::~Variant() = default;

bool operator==(const Variant& a, const Variant& b) {
  return a.data_ == b.data_ && a.array_dimensions == b.array_dimensions;
}

size_t Variant::array_length() const {
  return std::visit(
      [](const auto& v) -> size_t {
        using T = std::decay_t<decltype(v)>;
        if constexpr (detail::is_array<T>::value)
          return v.size();
        else if constexpr (std::is_same_v<T, Box<Array<bool>>> ||
                           std::is_same_v<T, Box<Array<DataValue>>> ||
                           std::is_same_v<T, Box<Array<Variant>>> ||
                           std::is_same_v<T, Box<Array<DiagnosticInfo>>>)
          return v ? v->size() : 0;
        else
          return 0;
      },
      data_);
}

// -- helpers -------------------------------------------------------------------------------------

std::string base64_encode(const uint8_t* data, size_t size) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (size - i == 1) {
    uint32_t v = uint32_t{data[i]} << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += "==";
  } else if (size - i == 2) {
    uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::optional<std::vector<uint8_t>> base64_decode(std::string_view s) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  size_t n = s.size();
  size_t pad = 0;
  while (n > 0 && s[n - 1] == '=' && pad < 2) {
    --n;
    ++pad;
  }
  if (pad > 0 && (n + pad) % 4 != 0) return std::nullopt;
  if (n % 4 == 1) return std::nullopt;
  std::vector<uint8_t> out;
  out.reserve(n * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    int v = val(s[i]);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>((acc >> bits) & 0xFF));
    }
  }
  // Leftover bits must be zero (canonical encoding).
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string to_hex(byte_span bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size * 2);
  for (uint8_t b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

} // namespace tandem::opcua

size_t std::hash<tandem::opcua::NodeId>::operator()(const tandem::opcua::NodeId& n) const noexcept {
  using namespace tandem::opcua;
  size_t h = std::hash<uint32_t>()(n.namespace_index) * 0x9E3779B97F4A7C15ull;
  switch (n.type()) {
  case IdType::Numeric:
    return h ^ std::hash<uint32_t>()(*n.numeric());
  case IdType::String:
    return h ^ (std::hash<std::string_view>()(n.string()->view()) + 1);
  case IdType::Guid: {
    const Guid& g = *n.guid();
    std::string_view bytes(reinterpret_cast<const char*>(g.data4.data()), g.data4.size());
    return h ^ (std::hash<std::string_view>()(bytes) + g.data1 + (size_t{g.data2} << 32) +
                (size_t{g.data3} << 48));
  }
  case IdType::ByteString: {
    const ByteString& b = *n.opaque();
    std::string_view bytes(reinterpret_cast<const char*>(b.data()), b.size());
    return h ^ (std::hash<std::string_view>()(bytes) + 2);
  }
  }
  return h;
}
