// Every service structure: filled with non-default values through its own field list, encoded,
// decoded back field by field, truncated at every byte; every message through the dispatchers.

#include <gtest/gtest.h>

#include "test_util.hpp"
#include "transports/opcua/services.hpp"

namespace tandem::opcua {
namespace {

using test::hex;

/// Gives every field a distinct non-default value, recursing through structures and arrays.
struct filler {
  uint32_t n = 1;

  template <class T> void operator()(const char*, T& v) { fill(v); }

  void fill(bool& b) { b = (n++ % 2) == 0; }
  template <class T>
  std::enable_if_t<std::is_arithmetic_v<T> && !std::is_same_v<T, bool>> fill(T& v) {
    v = static_cast<T>(n++ % 97 + 1);
  }
  template <class E> std::enable_if_t<std::is_enum_v<E>> fill(E& e) {
    e = static_cast<E>(n++ % 3 + 1);
  }
  void fill(String& s) { s = String("s" + std::to_string(n++)); }
  void fill(ByteString& b) {
    b = ByteString{static_cast<uint8_t>(n), static_cast<uint8_t>(n + 1)};
    ++n;
  }
  void fill(StatusCode& s) { s = StatusCode(0x80340000u + (n++ % 2) * 0x10000u); }
  void fill(DateTime& d) { d = DateTime(static_cast<int64_t>(n++) * 10000000); }
  void fill(NodeId& id) {
    switch (n++ % 4) {
    case 0:
      id = NodeId(2, n * 1000);
      break;
    case 1:
      id = NodeId(3, String("node" + std::to_string(n)));
      break;
    case 2:
      id = NodeId(1, Guid{n, 2, 3, {4, 5, 6, 7, 8, 9, 10, 11}});
      break;
    default:
      id = NodeId(4, ByteString{1, 2, static_cast<uint8_t>(n)});
    }
  }
  void fill(ExpandedNodeId& x) {
    fill(x.node_id);
    x.namespace_uri = "urn:x";
    x.server_index = n++;
  }
  void fill(QualifiedName& q) {
    q.namespace_index = 1;
    fill(q.name);
  }
  void fill(LocalizedText& t) { t = LocalizedText("en", "t" + std::to_string(n++)); }
  void fill(ExtensionObject& e) {
    e.type_id = NodeId(1, n++);
    e.encoding = ExtensionObjectEncoding::Binary;
    e.body = ByteString{1, 2, 3};
  }
  void fill(Variant& v) { v = Variant(Array<int32_t>{static_cast<int32_t>(n++), 2}); }
  void fill(DataValue& d) {
    d = DataValue(Variant(static_cast<double>(n++)));
    d.status = StatusCode(0x40900000u);
    d.source_timestamp = DateTime(n++);
    d.server_picoseconds = 5;
  }
  void fill(DiagnosticInfo& d) {
    d.symbolic_id = static_cast<int32_t>(n++);
    d.additional_info = String("info");
  }
  template <class T> void fill(Array<T>& a) {
    a.clear();
    a.resize(2);
    for (auto& e : a)
      fill(e);
  }
  template <class T> std::enable_if_t<is_structure<T>::value> fill(T& s) { T::fields(s, *this); }
};

/// Each top-level field's own encoding, by name.
struct field_encodings {
  std::vector<std::pair<std::string, std::string>> out;
  template <class T> void operator()(const char* name, const T& v) {
    auto b = encode_to_vector(v);
    out.emplace_back(name, b.ok() ? hex(*b) : "<" + b.error().reason + ">");
  }
};

template <class T> void check_structure() {
  SCOPED_TRACE(T::type_name);
  T v;
  filler f;
  f.fill(v);
  auto bytes = encode_to_vector(v);
  ASSERT_TRUE(bytes.ok()) << bytes.error().reason;
  auto empty = encode_to_vector(T{});
  ASSERT_TRUE(empty.ok());
  EXPECT_NE(hex(*bytes), hex(*empty)) << "filler left the structure at its defaults";

  auto back = decode_exact<T>(byte_span(*bytes), {}, T::type_name);
  ASSERT_TRUE(back.ok()) << back.error().reason;
  field_encodings a, b;
  T::fields(v, a);
  T::fields(*back, b);
  ASSERT_EQ(a.out.size(), b.out.size());
  for (size_t i = 0; i < a.out.size(); ++i) {
    EXPECT_EQ(a.out[i].first, b.out[i].first);
    EXPECT_EQ(a.out[i].second, b.out[i].second) << a.out[i].first;
    EXPECT_NE(a.out[i].second.rfind('<', 0), 0u) << a.out[i].second;
  }
  EXPECT_TRUE(*back == v);
  for (size_t n = 0; n < bytes->size(); ++n) {
    auto t = decode_exact<T>(byte_span(bytes->data(), n), {}, T::type_name);
    ASSERT_FALSE(t.ok()) << n;
    EXPECT_EQ(t.error().code, status::BadDecodingError);
    EXPECT_EQ(t.error().reason.rfind(T::type_name, 0), 0u) << t.error().reason;
  }
}

#define TANDEM_OPCUA_ROUND_TRIP_TEST(T)                                                            \
  TEST(OpcuaServices, RoundTrip##T) {                                                              \
    check_structure<T>();                                                                          \
  }
TANDEM_OPCUA_STRUCTURES(TANDEM_OPCUA_ROUND_TRIP_TEST)
#undef TANDEM_OPCUA_ROUND_TRIP_TEST

template <class T> void check_request() {
  SCOPED_TRACE(T::type_name);
  T v;
  filler{}.fill(v);
  std::vector<uint8_t> body;
  ASSERT_TRUE(encode_message(v, body).ok());
  EXPECT_EQ(*peek_type_id(byte_span(body)), T::binary_encoding_id);
  auto r = decode_request(byte_span(body));
  ASSERT_TRUE(r.ok()) << r.error().reason;
  ASSERT_TRUE(std::holds_alternative<T>(*r));
  EXPECT_EQ(binary_encoding_id(*r), T::binary_encoding_id);
  EXPECT_STREQ(message_type_name(T::binary_encoding_id), T::type_name);
  std::vector<uint8_t> again;
  ASSERT_TRUE(encode_request(*r, again).ok());
  EXPECT_EQ(hex(again), hex(body));
  EXPECT_EQ(request_header(*r).request_handle, v.request_header.request_handle);
  auto h = peek_request_header(byte_span(body));
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(*h == v.request_header);
  EXPECT_EQ(decode_message<T>(byte_span(body)).code(), status::Good);
  EXPECT_EQ(decode_response(byte_span(body)).code(), status::BadUnknownResponse);
  const uint32_t resp = response_type_for(T::binary_encoding_id);
  ASSERT_NE(message_type_name(resp), nullptr);
  EXPECT_NE(std::string(message_type_name(resp)).find("Response"), std::string::npos);
}

template <class T> void check_response() {
  SCOPED_TRACE(T::type_name);
  T v;
  filler{}.fill(v);
  std::vector<uint8_t> body;
  ASSERT_TRUE(encode_message(v, body).ok());
  auto r = decode_response(byte_span(body));
  ASSERT_TRUE(r.ok()) << r.error().reason;
  ASSERT_TRUE(std::holds_alternative<T>(*r));
  std::vector<uint8_t> again;
  ASSERT_TRUE(encode_response(*r, again).ok());
  EXPECT_EQ(hex(again), hex(body));
  EXPECT_EQ(response_header(*r).request_handle, v.response_header.request_handle);
  EXPECT_EQ(decode_request(byte_span(body)).code(), status::BadServiceUnsupported);
}

TEST(OpcuaServices, EveryRequestThroughTheDispatcher) {
#define TANDEM_OPCUA_CHECK(T) check_request<T>();
  TANDEM_OPCUA_REQUESTS(TANDEM_OPCUA_CHECK)
#undef TANDEM_OPCUA_CHECK
  EXPECT_EQ(std::variant_size_v<Request>, 27u);
}

TEST(OpcuaServices, EveryResponseThroughTheDispatcher) {
#define TANDEM_OPCUA_CHECK(T) check_response<T>();
  TANDEM_OPCUA_RESPONSES(TANDEM_OPCUA_CHECK)
#undef TANDEM_OPCUA_CHECK
  EXPECT_EQ(std::variant_size_v<Response>, 28u);
}

template <class T> void check_extension_object() {
  SCOPED_TRACE(T::type_name);
  T v;
  filler{}.fill(v);
  auto eo = make_extension_object(v);
  ASSERT_TRUE(eo.ok());
  EXPECT_EQ(eo->type_id, NodeId(T::binary_encoding_id));
  auto back = decode_extension_object<T>(*eo);
  ASSERT_TRUE(back.ok()) << back.error().reason;
  EXPECT_TRUE(*back == v);
  ExtensionObject wrong = *eo;
  wrong.type_id = NodeId(1);
  EXPECT_FALSE(decode_extension_object<T>(wrong).ok());
  ExtensionObject trailing = *eo;
  trailing.body.mutable_bytes().push_back(0);
  EXPECT_FALSE(decode_extension_object<T>(trailing).ok());
}

TEST(OpcuaServices, ExtensionObjectBodies) {
  check_extension_object<AnonymousIdentityToken>();
  check_extension_object<UserNameIdentityToken>();
  check_extension_object<X509IdentityToken>();
  check_extension_object<IssuedIdentityToken>();
  check_extension_object<DataChangeFilter>();
  check_extension_object<DataChangeNotification>();
  check_extension_object<StatusChangeNotification>();
  check_extension_object<EventNotificationList>();
  check_extension_object<BuildInfo>();
  check_extension_object<ServerStatusDataType>();
  check_extension_object<RedundantServerDataType>();
}

TEST(OpcuaServices, IdentityTokens) {
  auto none = decode_identity_token(ExtensionObject{});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(std::holds_alternative<std::monostate>(*none));
  UserNameIdentityToken u;
  u.policy_id = "username";
  u.user_name = "operator";
  u.password = ByteString::from_string("secret");
  auto t = decode_identity_token(*make_extension_object(u));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(std::get<UserNameIdentityToken>(*t).user_name.str(), "operator");
  ExtensionObject unknown;
  unknown.type_id = NodeId(999);
  unknown.encoding = ExtensionObjectEncoding::Binary;
  unknown.body = ByteString{};
  EXPECT_EQ(decode_identity_token(unknown).code(), status::BadIdentityTokenInvalid);
}

TEST(OpcuaServices, Notifications) {
  StatusChangeNotification s;
  s.status = status::BadTimeout;
  auto n = decode_notification(*make_extension_object(s));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::get<StatusChangeNotification>(*n).status, status::BadTimeout);
  ExtensionObject other = *make_extension_object(BuildInfo{});
  auto bad = decode_notification(other);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().reason.find("i=340"), std::string::npos);
}

TEST(OpcuaServices, ServiceFaultHelper) {
  RequestHeader rh;
  rh.request_handle = 99;
  ServiceFault f = make_service_fault(rh, status::BadServiceUnsupported, DateTime(5));
  EXPECT_EQ(f.response_header.request_handle, 99u);
  EXPECT_EQ(f.response_header.service_result, status::BadServiceUnsupported);
  std::vector<uint8_t> body;
  ASSERT_TRUE(encode_message(f, body).ok());
  EXPECT_EQ(hex(body), "01008d01"
                       "0500000000000000"
                       "63000000"
                       "00000b80"
                       "00"
                       "00000000"
                       "000000");
}

TEST(OpcuaServices, UnsupportedRequestStillYieldsItsHeader) {
  // A request the dispatcher does not know (e.g. HistoryRead 664): answer it with a ServiceFault.
  std::vector<uint8_t> body;
  writer w(body);
  encode(w, NodeId(664));
  RequestHeader rh;
  rh.request_handle = 1234;
  encode(w, rh);
  w.write(uint32_t{0xdeadbeef});
  auto r = decode_request(byte_span(body));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, status::BadServiceUnsupported);
  auto h = peek_request_header(byte_span(body));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->request_handle, 1234u);
}

TEST(OpcuaServices, DecodeMessageChecksTheTypeId) {
  std::vector<uint8_t> body;
  ASSERT_TRUE(encode_message(ReadRequest{}, body).ok());
  EXPECT_TRUE(decode_message<ReadRequest>(byte_span(body)).ok());
  auto wrong = decode_message<WriteRequest>(byte_span(body));
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().reason.find("expected WriteRequest (i=673), got TypeId i=631"),
            std::string::npos);
}

TEST(OpcuaServices, ResponseTypes) {
  EXPECT_EQ(response_type_for(631), 634u);
  EXPECT_EQ(response_type_for(446), 449u);
  EXPECT_EQ(response_type_for(634), 0u);
  EXPECT_STREQ(message_type_name(397), "ServiceFault");
  EXPECT_STREQ(message_type_name(864), "ServerStatusDataType");
  EXPECT_EQ(message_type_name(12345), nullptr);
}

} // namespace
} // namespace tandem::opcua
