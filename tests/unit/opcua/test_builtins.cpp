// Built-in types: wire forms, round trips, text forms, limits.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "test_util.hpp"
#include "transports/opcua/binary.hpp"

namespace tandem::opcua {
namespace {

using test::expect_round_trip;
using test::from_hex;
using test::hex;

TEST(OpcuaBuiltins, Integers) {
  expect_round_trip(true, "01");
  expect_round_trip(false, "00");
  expect_round_trip(int8_t{-2}, "fe");
  expect_round_trip(uint8_t{200}, "c8");
  expect_round_trip(int16_t{-2}, "feff");
  expect_round_trip(uint16_t{0x1234}, "3412");
  expect_round_trip(int32_t{-1}, "ffffffff");
  expect_round_trip(uint32_t{600000}, "c0270900");
  expect_round_trip(int64_t{-2}, "feffffffffffffff");
  expect_round_trip(uint64_t{0x0102030405060708}, "0807060504030201");
  expect_round_trip(1.5f, "0000c03f");
  expect_round_trip(60000.0, "00000000004ced40");
}

TEST(OpcuaBuiltins, BooleanReadsNonZeroAsTrue) {
  auto b = decode_exact<bool>(from_hex("7f"));
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(*b);
}

TEST(OpcuaBuiltins, StringNullEmptyAndText) {
  expect_round_trip(String(), "ffffffff");
  expect_round_trip(String(""), "00000000");
  expect_round_trip(String("MyVar"), "050000004d79566172");
  EXPECT_TRUE(String().is_null());
  EXPECT_FALSE(String("").is_null());
  EXPECT_NE(String(), String(""));
}

TEST(OpcuaBuiltins, ByteStringAndXml) {
  expect_round_trip(ByteString(), "ffffffff");
  expect_round_trip(ByteString(std::vector<uint8_t>{}), "00000000");
  expect_round_trip(ByteString{0x31}, "0100000031");
  expect_round_trip(XmlElement("<a/>"), "040000003c612f3e");
  expect_round_trip(XmlElement(), "ffffffff");
}

TEST(OpcuaBuiltins, NegativeLengthsOtherThanMinusOneFail) {
  for (const char* h : {"feffffff", "00000080"}) {
    auto s = decode_exact<String>(from_hex(h));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, status::BadDecodingError);
    EXPECT_NE(s.error().reason.find("negative length"), std::string::npos) << s.error().reason;
    EXPECT_FALSE(decode_exact<ByteString>(from_hex(h)).ok());
    EXPECT_FALSE(decode_exact<Array<uint32_t>>(from_hex(h)).ok());
  }
}

TEST(OpcuaBuiltins, StringLengthBeyondInputOrLimitFails) {
  auto s = decode_exact<String>(from_hex("ffffff7f41"));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().reason.find("exceeds"), std::string::npos);
  decode_limits lim;
  lim.max_string_length = 3;
  auto t = decode_exact<String>(from_hex("0400000041424344"), lim);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().reason.find("max_string_length"), std::string::npos) << t.error().reason;
}

TEST(OpcuaBuiltins, GuidWireAndText) {
  // ns=1;g=DCE2F054-ADE4-83EC-E03E-32EE0A66E4F2 from V08: Data1..3 little-endian.
  auto g = Guid::parse("DCE2F054-ADE4-83EC-E03E-32EE0A66E4F2");
  ASSERT_TRUE(g);
  expect_round_trip(*g, "54f0e2dce4adec83e03e32ee0a66e4f2");
  EXPECT_EQ(g->to_string(), "DCE2F054-ADE4-83EC-E03E-32EE0A66E4F2");
  EXPECT_EQ(Guid::parse("dce2f054-ade4-83ec-e03e-32ee0a66e4f2"), g);
  EXPECT_FALSE(Guid::parse("DCE2F054-ADE4-83EC-E03E-32EE0A66E4F"));
  EXPECT_FALSE(Guid::parse("DCE2F054+ADE4-83EC-E03E-32EE0A66E4F2"));
  EXPECT_FALSE(Guid::parse("XCE2F054-ADE4-83EC-E03E-32EE0A66E4F2"));
}

TEST(OpcuaBuiltins, DateTimeWireAndConversions) {
  expect_round_trip(DateTime(), "0000000000000000");
  expect_round_trip(DateTime(std::numeric_limits<int64_t>::max()), "ffffffffffffff7f");
  EXPECT_EQ(DateTime::from_unix_ms(0).ticks, 116444736000000000LL);
  // V03 timestamp bytes d04afc818f7add01.
  auto d = decode_exact<DateTime>(from_hex("d04afc818f7add01"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->to_rfc3339(), "2026-11-22T14:41:07.069Z");
  auto p = DateTime::parse_rfc3339("2026-11-22T14:41:07.069Z");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, *d);
  auto tp = d->to_time_point();
  EXPECT_EQ(DateTime::from_time_point(tp), *d);
  EXPECT_EQ(DateTime::from_unix_ms(d->to_unix_ms()), *d);
  auto now = DateTime::now();
  EXPECT_GT(now.ticks, d->ticks - 10 * DateTime::ticks_per_second * 86400 * 365);
}

TEST(OpcuaBuiltins, DateTimeRfc3339) {
  struct {
    const char* in;
    const char* out;
  } cases[] = {
      {"1601-01-01T00:00:00Z", "1601-01-01T00:00:00Z"},
      {"1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"},
      {"2000-02-29T23:59:59.9999999Z", "2000-02-29T23:59:59.9999999Z"},
      {"2024-06-01T12:00:00.000123Z", "2024-06-01T12:00:00.000123Z"},
      {"2024-06-01T14:30:00+02:30", "2024-06-01T12:00:00Z"},
      {"2024-06-01t12:00:00.5z", "2024-06-01T12:00:00.500Z"},
      {"2024-06-01T12:00:00.123456789Z", "2024-06-01T12:00:00.1234567Z"},
  };
  for (auto& c : cases) {
    auto d = DateTime::parse_rfc3339(c.in);
    ASSERT_TRUE(d) << c.in;
    EXPECT_EQ(d->to_rfc3339(), c.out) << c.in;
  }
  EXPECT_EQ(DateTime::parse_rfc3339("1970-01-01T00:00:00Z")->ticks, DateTime::unix_epoch_ticks);
  for (const char* bad :
       {"", "2024-13-01T00:00:00Z", "2023-02-29T00:00:00Z", "2024-06-01T24:00:00Z",
        "2024-06-01T12:00:00", "2024-06-01T12:00:00.Z", "1600-12-31T23:59:59Z",
        "2024-06-01T12:00:00Zjunk", "2024-06-01T12:00:00.1234567890Z"})
    EXPECT_FALSE(DateTime::parse_rfc3339(bad)) << bad;
}

TEST(OpcuaBuiltins, NodeIdCompactForms) {
  expect_round_trip(NodeId(), "0000");
  expect_round_trip(NodeId(85), "0055");
  expect_round_trip(NodeId(446), "0100be01");     // message TypeIds: FourByte
  expect_round_trip(NodeId(1, 1001), "0101e903"); // ns=1;i=1001
  expect_round_trip(NodeId(0, 999999), "0200003f420f00");
  expect_round_trip(NodeId(300, 5), "022c0105000000"); // ns > 255: Numeric
  expect_round_trip(NodeId(1, String("MyVar")), "030100050000004d79566172");
  expect_round_trip(NodeId(1, *Guid::parse("DCE2F054-ADE4-83EC-E03E-32EE0A66E4F2")),
                    "04010054f0e2dce4adec83e03e32ee0a66e4f2");
  expect_round_trip(NodeId(0, ByteString{0x07, 0x98}), "0500000200000007 98");
}

TEST(OpcuaBuiltins, NodeIdDecodesNonCompactForms) {
  // A peer may send i=5 in the Numeric form; it decodes to the same NodeId.
  auto n = decode_exact<NodeId>(from_hex("02000005000000"));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, NodeId(5));
}

TEST(OpcuaBuiltins, NodeIdBadEncodingByte) {
  for (const char* h : {"06000000", "ff00", "8055", "4055"}) {
    auto n = decode_exact<NodeId>(from_hex(h));
    ASSERT_FALSE(n.ok()) << h;
    EXPECT_EQ(n.error().code, status::BadDecodingError);
    EXPECT_NE(n.error().reason.find("at byte 0"), std::string::npos) << n.error().reason;
  }
}

TEST(OpcuaBuiltins, NodeIdText) {
  struct {
    const char* text;
    NodeId id;
  } cases[] = {
      {"i=2258", NodeId(2258)},
      {"ns=2;s=PLC1.Heartbeat", NodeId(2, "PLC1.Heartbeat")},
      {"ns=2;s=a;b=c", NodeId(2, "a;b=c")},
      {"ns=1;g=DCE2F054-ADE4-83EC-E03E-32EE0A66E4F2",
       NodeId(1, *Guid::parse("DCE2F054-ADE4-83EC-E03E-32EE0A66E4F2"))},
      {"ns=1;b=B5itboHpHci5vc8ruzqX0w==",
       NodeId(1, ByteString(from_hex("0798ad6e81e91dc8b9bdcf2bbb3a97d3")))},
      {"ns=65535;i=4294967295", NodeId(65535, 4294967295u)},
      {"s=", NodeId(0, String(""))},
  };
  for (auto& c : cases) {
    auto n = NodeId::parse(c.text);
    ASSERT_TRUE(n.ok()) << c.text << ": " << n.error().reason;
    EXPECT_EQ(*n, c.id) << c.text;
    EXPECT_EQ(c.id.to_string(), c.text);
  }
  for (const char* bad : {"", "i=", "i=-1", "i=4294967296", "ns=65536;i=1", "ns=1", "ns=x;i=1",
                          "x=1", "g=1234", "b=!!", "b=A", "ns=1;;i=1", "I=5"}) {
    auto n = NodeId::parse(bad);
    ASSERT_FALSE(n.ok()) << bad;
    EXPECT_EQ(n.error().code, status::BadNodeIdInvalid);
  }
}

TEST(OpcuaBuiltins, NodeIdOrderingAndHash) {
  std::hash<NodeId> h;
  EXPECT_EQ(h(NodeId(1, "x")), h(NodeId(1, "x")));
  EXPECT_NE(h(NodeId(1, 5)), h(NodeId(2, 5)));
  EXPECT_TRUE(NodeId(5) < NodeId(6));
  EXPECT_TRUE(NodeId(0, 7) < NodeId(1, 1));
  EXPECT_TRUE(NodeId(2258).is(2258));
  EXPECT_FALSE(NodeId(1, 2258).is(2258));
  EXPECT_TRUE(NodeId(0, String("")).is_null());
  EXPECT_FALSE(NodeId(1, 0).is_null());
}

TEST(OpcuaBuiltins, ExpandedNodeId) {
  expect_round_trip(ExpandedNodeId(NodeId(85)), "0055");
  expect_round_trip(ExpandedNodeId(NodeId(5), String("urn:x"), 0), "8005050000 0075726e3a78");
  expect_round_trip(ExpandedNodeId(NodeId(5), String(), 3), "400503000000");
  expect_round_trip(ExpandedNodeId(NodeId(1, "a"), String("u"), 2),
                    "c301000100000061010000007502000000");
  auto x = ExpandedNodeId::parse("svr=2;nsu=http://a%3Bb;s=Name");
  ASSERT_TRUE(x.ok()) << x.error().reason;
  EXPECT_EQ(x->server_index, 2u);
  EXPECT_EQ(x->namespace_uri.str(), "http://a;b");
  EXPECT_EQ(x->node_id, NodeId(0, "Name"));
  EXPECT_EQ(x->to_string(), "svr=2;nsu=http://a%3Bb;s=Name");
  EXPECT_EQ(ExpandedNodeId::parse("ns=1;i=5")->node_id, NodeId(1, 5));
  EXPECT_FALSE(ExpandedNodeId::parse("nsu=x;ns=1;i=5").ok());
  EXPECT_FALSE(ExpandedNodeId::parse("svr=;i=5").ok());
}

TEST(OpcuaBuiltins, StatusCode) {
  expect_round_trip(status::BadNodeIdUnknown, "00003480");
  EXPECT_TRUE(status::Good.is_good());
  EXPECT_TRUE(status::UncertainLastUsableValue.is_uncertain());
  EXPECT_TRUE(status::BadTimeout.is_bad());
  StatusCode with_info{0x80340000u | 0x400u};
  EXPECT_TRUE(with_info.same_code(status::BadNodeIdUnknown));
  EXPECT_STREQ(status_name(with_info), "BadNodeIdUnknown");
  EXPECT_EQ(to_string(status::BadConnectionRejected), "BadConnectionRejected (0x80AC0000)");
  EXPECT_EQ(to_string(StatusCode{0x80990000u}), "0x80990000");
  StatusCode sc;
  ASSERT_TRUE(status_from_name("GoodSubscriptionTransferred", sc));
  EXPECT_EQ(sc, status::GoodSubscriptionTransferred);
  EXPECT_FALSE(status_from_name("NoSuchCode", sc));
  // Every code FACTS.md §5 lists has a name.
  for (uint32_t v :
       {0x00000000u, 0x002D0000u, 0x408F0000u, 0x40900000u, 0x80010000u, 0x80020000u, 0x80050000u,
        0x80060000u, 0x80070000u, 0x800A0000u, 0x800B0000u, 0x800C0000u, 0x800D0000u, 0x800E0000u,
        0x80130000u, 0x801F0000u, 0x80200000u, 0x80220000u, 0x80230000u, 0x80240000u, 0x80250000u,
        0x80260000u, 0x80270000u, 0x80280000u, 0x80310000u, 0x80320000u, 0x80330000u, 0x80340000u,
        0x80350000u, 0x803A0000u, 0x803B0000u, 0x803D0000u, 0x80420000u, 0x804A0000u, 0x804B0000u,
        0x80550000u, 0x80560000u, 0x80770000u, 0x80780000u, 0x80790000u, 0x807A0000u, 0x807B0000u,
        0x807E0000u, 0x807F0000u, 0x80800000u, 0x80820000u, 0x80830000u, 0x80850000u, 0x80870000u,
        0x80880000u, 0x808A0000u, 0x80AC0000u, 0x80AE0000u, 0x80B80000u, 0x80B90000u, 0x80BE0000u})
    EXPECT_NE(status_name(StatusCode{v}), nullptr) << std::hex << v;
}

TEST(OpcuaBuiltins, QualifiedNameAndLocalizedText) {
  expect_round_trip(QualifiedName{}, "0000ffffffff");
  expect_round_trip(QualifiedName{0, "Locations"}, "0000090000004c6f636174696f6e73");
  expect_round_trip(LocalizedText(), "00");
  expect_round_trip(LocalizedText("Server"), "0206000000536572766572");
  expect_round_trip(LocalizedText("en", "NodeOPCUA"), "0302000000656e090000004e6f64654f50435541");
  expect_round_trip(LocalizedText(String("en"), String()), "0102000000656e");
  auto bad = decode_exact<LocalizedText>(from_hex("04"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().reason.find("reserved"), std::string::npos);
}

TEST(OpcuaBuiltins, ExtensionObject) {
  expect_round_trip(ExtensionObject{}, "000000");
  ExtensionObject eo;
  eo.type_id = NodeId(321);
  eo.encoding = ExtensionObjectEncoding::Binary;
  eo.body = ByteString(from_hex("0b000000616e6f6e796d6f75735f30"));
  expect_round_trip(eo, "01004101 01 0f000000 0b000000616e6f6e796d6f75735f30");
  ExtensionObject xml;
  xml.type_id = NodeId(2, 9);
  xml.encoding = ExtensionObjectEncoding::Xml;
  xml.body = ByteString::from_string("<x/>");
  expect_round_trip(xml, "0102090002040000003c782f3e");
  auto bad = decode_exact<ExtensionObject>(from_hex("000003"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().reason.find("ExtensionObject encoding 0x03"), std::string::npos);
}

TEST(OpcuaBuiltins, VariantEveryScalarType) {
  Guid g = *Guid::parse("72962B91-FA75-4AE6-8D28-B404DC7DAF63");
  DataValue inner(Variant(1.0));
  DiagnosticInfo di;
  di.symbolic_id = 3;
  std::vector<Variant> scalars = {
      Variant(true),
      Variant(int8_t{-1}),
      Variant(uint8_t{255}),
      Variant(int16_t{-300}),
      Variant(uint16_t{65535}),
      Variant(int32_t{-5}),
      Variant(uint32_t{7}),
      Variant(int64_t{-9}),
      Variant(uint64_t{10}),
      Variant(2.5f),
      Variant(43.5),
      Variant("text"),
      Variant(DateTime(123456789)),
      Variant(g),
      Variant(ByteString{1, 2, 3}),
      Variant(XmlElement("<a/>")),
      Variant(NodeId(2, "x")),
      Variant(ExpandedNodeId(NodeId(1), String("urn"), 1)),
      Variant(status::BadTimeout),
      Variant(QualifiedName{1, "q"}),
      Variant(LocalizedText("en", "t")),
      Variant(ExtensionObject{}),
      Variant(inner),
      Variant(di),
  };
  int expected_type = 1;
  for (const auto& v : scalars) {
    if (expected_type == 24) ++expected_type; // Variant is array-only
    EXPECT_EQ(static_cast<int>(v.type()), expected_type);
    EXPECT_TRUE(v.is_scalar());
    expect_round_trip(v);
    ++expected_type;
  }
  expect_round_trip(Variant(), "00");
  expect_round_trip(Variant(43.5), "0b 0000000000c04540");
  expect_round_trip(Variant(uint8_t{255}), "03ff");
  expect_round_trip(Variant(int32_t{0}), "0600000000");
  ASSERT_NE(Variant(inner).get_if<DataValue>(), nullptr);
  EXPECT_EQ(*Variant(inner).get_if<DataValue>(), inner);
  EXPECT_EQ(Variant(43.5).get_if<float>(), nullptr);
  EXPECT_EQ(*Variant("x").get_if<String>(), String("x"));
}

TEST(OpcuaBuiltins, VariantArrays) {
  expect_round_trip(Variant(Array<String>{"http://opcfoundation.org/UA/", "urn:x"}));
  expect_round_trip(Variant(Array<String>{}), "8c00000000");
  expect_round_trip(Variant(Array<String>::null_array()), "8cffffffff");
  expect_round_trip(Variant(Array<bool>{true, false, true}), "8103000000010001");
  expect_round_trip(Variant(Array<double>{1.0, 2.0}));
  expect_round_trip(Variant(Array<DataValue>{DataValue(Variant(1)), DataValue()}));
  expect_round_trip(Variant(Array<DiagnosticInfo>{DiagnosticInfo{}}));
  expect_round_trip(
      Variant(Array<Variant>{Variant(1), Variant("a"), Variant(Array<int32_t>{1, 2}), Variant()}));
  expect_round_trip(Variant(Array<ExtensionObject>{ExtensionObject{}}));
  Variant m(Array<int32_t>{1, 2, 3, 4, 5, 6});
  m.array_dimensions = {2, 3};
  expect_round_trip(m, "c606000000 010000000200000003000000040000000500000006000000 02000000"
                       "0200000003000000");
  ASSERT_NE(m.get_if<Array<int32_t>>(), nullptr);
  EXPECT_EQ(m.array_length(), 6u);
  EXPECT_EQ(m.type(), VariantType::Int32);
  EXPECT_TRUE(m.is_array());
}

TEST(OpcuaBuiltins, VariantRejectsBadInput) {
  struct {
    const char* hex;
    const char* why;
  } cases[] = {
      {"1a", "invalid Variant type id 26"},
      {"3f", "invalid Variant type id 63"},
      {"18", "scalar Variant cannot hold a Variant"},
      {"80", "null Variant with flags"},
      {"4b0000000000000000", "ArrayDimensions flag"},
      {"c60100000001000000 01000000 02000000", "multiply to 2, not 1"},
      {"c60100000001000000 01000000 ffffffff", "negative array dimension"},
      {"86feffffff", "negative array length"},
      {"86ffffff7f", "array length"},
  };
  for (auto& c : cases) {
    auto v = decode_exact<Variant>(from_hex(c.hex));
    ASSERT_FALSE(v.ok()) << c.hex;
    EXPECT_EQ(v.error().code, status::BadDecodingError);
    EXPECT_NE(v.error().reason.find(c.why), std::string::npos) << c.hex << ": " << v.error().reason;
  }
}

TEST(OpcuaBuiltins, VariantEncoderRejectsInconsistentDimensions) {
  Variant s(1);
  s.array_dimensions = {1};
  EXPECT_FALSE(encode_to_vector(s).ok());
  Variant a(Array<int32_t>{1, 2, 3});
  a.array_dimensions = {2, 2};
  auto r = encode_to_vector(a);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, status::BadEncodingError);
}

TEST(OpcuaBuiltins, DeepNestingIsRefused) {
  // Variant arrays of Variant arrays, 40 deep (max_depth 32).
  std::vector<uint8_t> b;
  for (int i = 0; i < 40; ++i) {
    b.push_back(0x98);
    b.insert(b.end(), {1, 0, 0, 0});
  }
  b.push_back(0);
  auto v = decode_exact<Variant>(byte_span(b));
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().reason.find("max_depth"), std::string::npos) << v.error().reason;
  decode_limits deep;
  deep.max_depth = 64;
  EXPECT_TRUE(decode_exact<Variant>(byte_span(b), deep).ok());

  // DiagnosticInfo chains.
  std::vector<uint8_t> d(100, 0x40);
  d.push_back(0);
  auto di = decode_exact<DiagnosticInfo>(byte_span(d));
  ASSERT_FALSE(di.ok());
  EXPECT_NE(di.error().reason.find("max_depth"), std::string::npos);
  std::vector<uint8_t> ok(10, 0x40);
  ok.push_back(0);
  auto di2 = decode_exact<DiagnosticInfo>(byte_span(ok));
  ASSERT_TRUE(di2.ok());
  expect_round_trip(*di2);
}

TEST(OpcuaBuiltins, DataValueMasks) {
  DataValue v;
  expect_round_trip(v, "00");
  DataValue bad;
  bad.status = status::BadNodeIdUnknown;
  expect_round_trip(bad, "0200003480");
  DataValue full(Variant(42.25));
  full.status = StatusCode{0x00000400u};
  full.source_timestamp = DateTime(1);
  full.source_picoseconds = 7;
  full.server_timestamp = DateTime(2);
  full.server_picoseconds = 9;
  EXPECT_EQ(full.encoding_mask(), 0x3f);
  expect_round_trip(full, "3f 0b0000000000204540 00040000 0100000000000000 0700 0200000000000000"
                          " 0900");
  DataValue null_value{Variant()};
  expect_round_trip(null_value, "0100");
  EXPECT_EQ(DataValue().status_or_good(), status::Good);
  EXPECT_FALSE(decode_exact<DataValue>(from_hex("40")).ok());
}

TEST(OpcuaBuiltins, DiagnosticInfoFieldOrder) {
  DiagnosticInfo d;
  d.symbolic_id = 1;
  d.namespace_uri = 2;
  d.localized_text = 3;
  d.locale = 4;
  d.additional_info = String("x");
  d.inner_status_code = status::BadTimeout;
  d.inner_diagnostic_info = DiagnosticInfo{};
  d.inner_diagnostic_info->symbolic_id = 9;
  // Wire order: symbolicId, namespaceUri, locale, localizedText, additionalInfo, inner SC, inner
  // DI.
  expect_round_trip(d, "7f 01000000 02000000 04000000 03000000 0100000078 00000a80 01 09000000");
  expect_round_trip(DiagnosticInfo{}, "00");
  EXPECT_FALSE(decode_exact<DiagnosticInfo>(from_hex("80")).ok());
}

TEST(OpcuaBuiltins, ArraysNullEmptyAndLimits) {
  expect_round_trip(Array<uint32_t>::null_array(), "ffffffff");
  expect_round_trip(Array<uint32_t>{}, "00000000");
  expect_round_trip(Array<uint32_t>{527178, 4242}, "020000004a0b080092100000");
  expect_round_trip(Array<String>{String(), String("")}, "02000000ffffffff00000000");
  EXPECT_NE(Array<int>::null_array(), Array<int>{});

  // A count larger than the bytes left is refused before allocating.
  auto huge = decode_exact<Array<NodeId>>(from_hex("000001000000"));
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.error().reason.find("left"), std::string::npos) << huge.error().reason;
  decode_limits lim;
  lim.max_array_length = 2;
  auto over = decode_exact<Array<uint8_t>>(from_hex("03000000010203"), lim);
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.error().reason.find("max_array_length"), std::string::npos);
  decode_limits budget;
  budget.max_alloc_bytes = 1000;
  std::vector<uint8_t> many = from_hex("10270000"); // 10000 DataValues of 1 byte each
  many.resize(many.size() + 10000, 0);
  auto alloc = decode_exact<Array<DataValue>>(byte_span(many), budget);
  ASSERT_FALSE(alloc.ok());
  EXPECT_NE(alloc.error().reason.find("max_alloc_bytes"), std::string::npos);
  EXPECT_TRUE(decode_exact<Array<DataValue>>(byte_span(many)).ok());
}

TEST(OpcuaBuiltins, ErrorsNameThePath) {
  // Array<Variant> element 1 holds a bad type id.
  auto v = decode_exact<Array<Variant>>(from_hex("02000000 0601000000 3a"), {}, "args");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().reason, "args[1]: invalid Variant type id 58 at byte 9");
}

TEST(OpcuaBuiltins, Base64) {
  const char* cases[][2] = {{"", ""},
                            {"f", "Zg=="},
                            {"fo", "Zm8="},
                            {"foo", "Zm9v"},
                            {"foob", "Zm9vYg=="},
                            {"fooba", "Zm9vYmE="},
                            {"foobar", "Zm9vYmFy"}};
  for (auto& c : cases) {
    std::string in = c[0];
    EXPECT_EQ(base64_encode(reinterpret_cast<const uint8_t*>(in.data()), in.size()), c[1]);
    auto back = base64_decode(c[1]);
    ASSERT_TRUE(back);
    EXPECT_EQ(std::string(back->begin(), back->end()), in);
  }
  EXPECT_TRUE(base64_decode("Zm9v"));
  EXPECT_TRUE(base64_decode("Zg")); // padding optional
  EXPECT_FALSE(base64_decode("Zh=="));
  EXPECT_FALSE(base64_decode("Z"));
  EXPECT_FALSE(base64_decode("Zm9v\n"));
}

} // namespace
} // namespace tandem::opcua
