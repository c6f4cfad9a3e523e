#include "transports/opcua/services.hpp"

#include <array>
#include <utility>

namespace tandem::opcua {

// One field-by-field codec per structure; the templates are instantiated here only.
#define TANDEM_OPCUA_DEFINE_CODEC(T)                                                               \
  void decode(reader& r, T& v) {                                                                   \
    decode_structure(r, v);                                                                        \
  }                                                                                                \
  void encode(writer& w, const T& v) {                                                             \
    encode_structure(w, v);                                                                        \
  }
TANDEM_OPCUA_STRUCTURES(TANDEM_OPCUA_DEFINE_CODEC)
#undef TANDEM_OPCUA_DEFINE_CODEC

namespace {

template <class V> struct dispatch_entry {
  uint32_t id;
  const char* name;
  void (*decode)(reader&, V&);
};

template <class V, size_t I> void decode_alternative(reader& r, V& out) {
  decode(r, out.template emplace<I>());
}

template <class V, size_t... I>
constexpr std::array<dispatch_entry<V>, sizeof...(I)> make_table(std::index_sequence<I...>) {
  return {{{std::variant_alternative_t<I, V>::binary_encoding_id,
            std::variant_alternative_t<I, V>::type_name, &decode_alternative<V, I>}...}};
}

constexpr auto request_table =
    make_table<Request>(std::make_index_sequence<std::variant_size_v<Request>>{});
constexpr auto response_table =
    make_table<Response>(std::make_index_sequence<std::variant_size_v<Response>>{});

struct named_id {
  uint32_t id;
  const char* name;
};

#define TANDEM_OPCUA_NAMED_ID(T) named_id{T::binary_encoding_id, T::type_name},
constexpr named_id body_types[] = {
    TANDEM_OPCUA_REQUESTS(TANDEM_OPCUA_NAMED_ID) TANDEM_OPCUA_RESPONSES(TANDEM_OPCUA_NAMED_ID)
        TANDEM_OPCUA_NAMED_ID(AnonymousIdentityToken) TANDEM_OPCUA_NAMED_ID(UserNameIdentityToken)
            TANDEM_OPCUA_NAMED_ID(X509IdentityToken) TANDEM_OPCUA_NAMED_ID(IssuedIdentityToken)
                TANDEM_OPCUA_NAMED_ID(DataChangeFilter) TANDEM_OPCUA_NAMED_ID(
                    DataChangeNotification) TANDEM_OPCUA_NAMED_ID(StatusChangeNotification)
                    TANDEM_OPCUA_NAMED_ID(EventNotificationList) TANDEM_OPCUA_NAMED_ID(BuildInfo)
                        TANDEM_OPCUA_NAMED_ID(ServerStatusDataType)
                            TANDEM_OPCUA_NAMED_ID(RedundantServerDataType)};
#undef TANDEM_OPCUA_NAMED_ID

std::string describe_type_id(uint32_t id) {
  std::string s = "i=" + std::to_string(id);
  if (const char* n = message_type_name(id)) s += std::string(" (") + n + ")";
  return s;
}

template <class V, size_t N>
result<V> dispatch(const std::array<dispatch_entry<V>, N>& table, byte_span body,
                   const decode_limits& limits, size_t base_offset, StatusCode unknown_code,
                   const char* what) {
  reader r(body, limits, base_offset);
  uint32_t id = 0;
  if (!detail::read_message_type_id(r, id)) return r.error("TypeId");
  for (const auto& e : table) {
    if (e.id != id) continue;
    V out;
    e.decode(r, out);
    if (r.ok() && !r.at_end())
      r.fail(std::to_string(r.remaining()) + " trailing bytes after the message");
    if (!r.ok()) return r.error(e.name);
    return std::move(out);
  }
  return error{unknown_code, std::string("unsupported ") + what + " type " + describe_type_id(id)};
}

} // namespace

bool detail::read_message_type_id(reader& r, uint32_t& id) {
  size_t start = r.offset();
  ExpandedNodeId x;
  decode(r, x);
  if (!r.ok()) return false;
  const uint32_t* n = x.node_id.numeric();
  if (!x.is_local() || x.node_id.namespace_index != 0 || !n)
    return r.fail_at(start, "TypeId " + x.to_string() + " is not a ns=0 numeric id");
  id = *n;
  return true;
}

result<uint32_t> peek_type_id(byte_span body) {
  reader r(body);
  uint32_t id = 0;
  if (!detail::read_message_type_id(r, id)) return r.error("TypeId");
  return id;
}

result<RequestHeader> peek_request_header(byte_span body, const decode_limits& limits) {
  reader r(body, limits);
  uint32_t id = 0;
  if (!detail::read_message_type_id(r, id)) return r.error("TypeId");
  RequestHeader h;
  decode(r, h);
  if (!r.ok()) return r.error("RequestHeader");
  return std::move(h);
}

result<Request> decode_request(byte_span body, const decode_limits& limits, size_t base_offset) {
  return dispatch(request_table, body, limits, base_offset, status::BadServiceUnsupported,
                  "request");
}

result<Response> decode_response(byte_span body, const decode_limits& limits, size_t base_offset) {
  return dispatch(response_table, body, limits, base_offset, status::BadUnknownResponse,
                  "response");
}

result<void> encode_request(const Request& msg, std::vector<uint8_t>& out) {
  return std::visit([&](const auto& m) { return encode_message(m, out); }, msg);
}

result<void> encode_response(const Response& msg, std::vector<uint8_t>& out) {
  return std::visit([&](const auto& m) { return encode_message(m, out); }, msg);
}

const RequestHeader& request_header(const Request& r) {
  return std::visit([](const auto& m) -> const RequestHeader& { return m.request_header; }, r);
}
RequestHeader& request_header(Request& r) {
  return std::visit([](auto& m) -> RequestHeader& { return m.request_header; }, r);
}
const ResponseHeader& response_header(const Response& r) {
  return std::visit([](const auto& m) -> const ResponseHeader& { return m.response_header; }, r);
}
ResponseHeader& response_header(Response& r) {
  return std::visit([](auto& m) -> ResponseHeader& { return m.response_header; }, r);
}

uint32_t binary_encoding_id(const Request& r) {
  return std::visit([](const auto& m) { return std::decay_t<decltype(m)>::binary_encoding_id; }, r);
}
uint32_t binary_encoding_id(const Response& r) {
  return std::visit([](const auto& m) { return std::decay_t<decltype(m)>::binary_encoding_id; }, r);
}

const char* node_class_name(NodeClass c) {
  switch (c) {
  case NodeClass::Object:
    return "Object";
  case NodeClass::Variable:
    return "Variable";
  case NodeClass::Method:
    return "Method";
  case NodeClass::ObjectType:
    return "ObjectType";
  case NodeClass::VariableType:
    return "VariableType";
  case NodeClass::ReferenceType:
    return "ReferenceType";
  case NodeClass::DataType:
    return "DataType";
  case NodeClass::View:
    return "View";
  default:
    return "Unspecified";
  }
}

const char* message_type_name(uint32_t id) {
  for (const auto& e : body_types)
    if (e.id == id) return e.name;
  return nullptr;
}

uint32_t response_type_for(uint32_t request_type_id) {
  // Every service's response encoding id is its request's + 3 (OPC 10000-6 NodeIds.csv).
  for (const auto& e : request_table)
    if (e.id == request_type_id) return request_type_id + 3;
  return 0;
}

ServiceFault make_service_fault(const RequestHeader& request, StatusCode result, DateTime now) {
  ServiceFault f;
  f.response_header.timestamp = now;
  f.response_header.request_handle = request.request_handle;
  f.response_header.service_result = result;
  return f;
}

result<IdentityToken> decode_identity_token(const ExtensionObject& eo,
                                            const decode_limits& limits) {
  if (eo.is_null()) return IdentityToken{};
  auto t = decode_extension_object_as<AnonymousIdentityToken, UserNameIdentityToken,
                                      X509IdentityToken, IssuedIdentityToken>(eo, limits);
  if (!t) return error{status::BadIdentityTokenInvalid, t.error().reason};
  return std::visit([](auto& v) { return IdentityToken(std::move(v)); }, *t);
}

} // namespace tandem::opcua
