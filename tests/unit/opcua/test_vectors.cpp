// The 50 captured node-opcua vectors: each decodes exactly to its last byte, re-encodes to the
// same bytes, places every annotated field at its annotated offset, and carries the annotated
// values.

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "test_util.hpp"
#include "transports/opcua/framing.hpp"
#include "transports/opcua/services.hpp"
#include "vectors.hpp"

namespace tandem::opcua {
namespace {

using test::captured_vector;
using test::captured_vectors;
using test::hex;
using test::vector_by_id;

/// A decoded vector: connection message or chunk + service message.
struct decoded {
  MessageHeader header;
  std::optional<SecureChunk> chunk;
  std::optional<Request> request;
  std::optional<Response> response;
};

decoded decode_vector(const captured_vector& v) {
  decoded d;
  auto h = decode_message_header(byte_span(v.bytes));
  EXPECT_TRUE(h.ok()) << v.id << ": " << h.error().reason;
  if (!h) return d;
  d.header = *h;
  EXPECT_EQ(h->message_size, v.bytes.size()) << v.id;
  if (!is_secure_message(h->type)) return d;
  auto c = decode_secure_chunk(byte_span(v.bytes));
  EXPECT_TRUE(c.ok()) << v.id << ": " << c.error().reason;
  if (!c) return d;
  d.chunk = *c;
  if (v.client_to_server) {
    auto r = decode_request(c->body, {}, c->body_offset);
    EXPECT_TRUE(r.ok()) << v.id << ": " << r.error().reason;
    if (r) d.request = std::move(*r);
  } else {
    auto r = decode_response(c->body, {}, c->body_offset);
    EXPECT_TRUE(r.ok()) << v.id << ": " << r.error().reason;
    if (r) d.response = std::move(*r);
  }
  return d;
}

template <class T, class V> struct in_variant;
template <class T, class... Ts>
struct in_variant<T, std::variant<Ts...>> : std::disjunction<std::is_same<T, Ts>...> {};

/// A copy of the decoded message (callers keep it alive with `const auto& m = as<T>(...)`).
template <class T> T as(const decoded& d) {
  if constexpr (in_variant<T, Request>::value) {
    if (d.request)
      if (auto* p = std::get_if<T>(&*d.request)) return *p;
  } else {
    if (d.response)
      if (auto* p = std::get_if<T>(&*d.response)) return *p;
  }
  ADD_FAILURE() << "decoded message is not a " << T::type_name;
  return T{};
}

TEST(OpcuaVectors, FileIsCompleteAndMatchesTheSharedOriginal) {
  const auto& all = captured_vectors();
  ASSERT_EQ(all.size(), 50u);
  for (size_t i = 0; i < all.size(); ++i) {
    char id[8];
    std::snprintf(id, sizeof id, "V%02zu", i + 1);
    EXPECT_EQ(all[i].id, id);
    EXPECT_GE(all[i].bytes.size(), 8u) << id;
  }
  std::ifstream shared(TANDEM_OPCUA_SHARED_VECTORS, std::ios::binary);
  if (!shared) GTEST_SKIP() << "shared/opcua/vectors.txt not beside the repository";
  std::ifstream copy(TANDEM_OPCUA_VECTORS, std::ios::binary);
  std::stringstream a, b;
  a << shared.rdbuf();
  b << copy.rdbuf();
  EXPECT_EQ(a.str(), b.str()) << "tests/unit/opcua/data/vectors.txt differs from shared/";
}

TEST(OpcuaVectors, EveryVectorDecodesExactlyAndReencodesIdentically) {
  for (const auto& v : captured_vectors()) {
    SCOPED_TRACE(v.id + " " + v.title);
    auto h = decode_message_header(byte_span(v.bytes));
    ASSERT_TRUE(h.ok()) << h.error().reason;
    std::vector<uint8_t> again;
    switch (h->type) {
    case MessageType::Hello: {
      auto m = decode_hello(byte_span(v.bytes));
      ASSERT_TRUE(m.ok()) << m.error().reason;
      again = *encode_hello(*m);
      break;
    }
    case MessageType::Acknowledge: {
      auto m = decode_acknowledge(byte_span(v.bytes));
      ASSERT_TRUE(m.ok()) << m.error().reason;
      again = *encode_acknowledge(*m);
      break;
    }
    case MessageType::Error: {
      auto m = decode_error(byte_span(v.bytes));
      ASSERT_TRUE(m.ok()) << m.error().reason;
      again = *encode_error(*m);
      break;
    }
    default: {
      decoded d = decode_vector(v);
      ASSERT_TRUE(d.chunk);
      ASSERT_TRUE(d.request || d.response);
      std::vector<uint8_t> body;
      auto enc = d.request ? encode_request(*d.request, body) : encode_response(*d.response, body);
      ASSERT_TRUE(enc.ok()) << enc.error().reason;
      EXPECT_EQ(hex(body), hex(d.chunk->body.to_vector()));
      ChunkContext ctx;
      ctx.type = d.chunk->type;
      ctx.secure_channel_id = d.chunk->secure_channel_id;
      ctx.token_id = d.chunk->token_id;
      ctx.asymmetric = d.chunk->asymmetric;
      ctx.request_id = d.chunk->sequence.request_id;
      EXPECT_EQ(chunk_header_size(ctx), d.chunk->body_offset);
      auto r = encode_secure_chunk(ctx, d.chunk->chunk_type, d.chunk->sequence.sequence_number,
                                   byte_span(body), again);
      ASSERT_TRUE(r.ok());
      // The dispatcher agrees with the single-type decoder.
      if (d.request) {
        EXPECT_EQ(*peek_type_id(d.chunk->body), binary_encoding_id(*d.request));
        auto hdr = peek_request_header(d.chunk->body);
        ASSERT_TRUE(hdr.ok());
        EXPECT_EQ(hdr->request_handle, request_header(*d.request).request_handle);
      }
    }
    }
    EXPECT_EQ(hex(again), hex(v.bytes));
  }
}

// Records where each top-level field of a message starts.
struct offset_recorder {
  reader& r;
  size_t base; // body offset in the chunk
  std::map<std::string, size_t>& at;
  template <class F> void operator()(const char* name, F& field) {
    at.emplace(name, base + r.offset());
    decode(r, field);
  }
};

TEST(OpcuaVectors, AnnotatedFieldOffsetsMatch) {
  const std::regex field_line(R"(^\s+@(\d+) (\w+) : )");
  size_t checked = 0;
  for (const auto& v : captured_vectors()) {
    SCOPED_TRACE(v.id + " " + v.title);
    decoded d = decode_vector(v);
    if (!d.chunk) continue;
    std::map<std::string, size_t> at;
    auto record = [&](auto& msg) {
      reader r(d.chunk->body);
      uint32_t id;
      ASSERT_TRUE(detail::read_message_type_id(r, id));
      using T = std::decay_t<decltype(msg)>;
      T copy;
      T::fields(copy, offset_recorder{r, d.chunk->body_offset, at});
      EXPECT_TRUE(r.ok() && r.at_end());
    };
    if (d.request) std::visit(record, *d.request);
    if (d.response) std::visit(record, *d.response);
    std::istringstream notes(v.notes);
    std::string line;
    while (std::getline(notes, line)) {
      std::smatch m;
      if (!std::regex_search(line, m, field_line)) continue;
      auto it = at.find(m[2].str());
      ASSERT_NE(it, at.end()) << "no field " << m[2];
      EXPECT_EQ(it->second, std::stoul(m[1].str())) << m[2];
      ++checked;
    }
  }
  EXPECT_GT(checked, 100u);
}

TEST(OpcuaVectors, RequestIdEqualsRequestHandle) {
  // node-opcua sets RequestId = requestHandle; responses echo both.
  for (const auto& v : captured_vectors()) {
    decoded d = decode_vector(v);
    if (!d.chunk) continue;
    uint32_t handle = d.request ? request_header(*d.request).request_handle
                                : response_header(*d.response).request_handle;
    EXPECT_EQ(handle, d.chunk->sequence.request_id) << v.id;
  }
}

TEST(OpcuaVectors, HelloAcknowledgeError) {
  auto hel = decode_hello(byte_span(vector_by_id("V01").bytes));
  ASSERT_TRUE(hel.ok());
  EXPECT_EQ(hel->protocol_version, 0u);
  EXPECT_EQ(hel->receive_buffer_size, 655360u);
  EXPECT_EQ(hel->send_buffer_size, 655360u);
  EXPECT_EQ(hel->max_message_size, 0u);
  EXPECT_EQ(hel->max_chunk_count, 0u);
  EXPECT_EQ(hel->endpoint_url.str(), "opc.tcp://127.0.0.1:48400");

  auto ack = decode_acknowledge(byte_span(vector_by_id("V02").bytes));
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->receive_buffer_size, 524288u);
  EXPECT_EQ(ack->send_buffer_size, 524288u);
  EXPECT_EQ(ack->max_message_size, 16777216u);
  EXPECT_EQ(ack->max_chunk_count, 256u);

  // node-opcua's server answer to V01, reproduced by the negotiation rule.
  AcknowledgeMessage server{0, 524288, 524288, 16777216, 256};
  auto neg = negotiate_acknowledge(*hel, server);
  ASSERT_TRUE(neg.ok());
  EXPECT_EQ(hex(*encode_acknowledge(*neg)), hex(vector_by_id("V02").bytes));

  auto small = decode_hello(byte_span(vector_by_id("V49").bytes));
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->receive_buffer_size, 1024u);
  auto rejected = negotiate_acknowledge(*small, server);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().code, status::BadConnectionRejected);

  auto err = decode_error(byte_span(vector_by_id("V50").bytes));
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(err->error, status::BadConnectionRejected);
  EXPECT_EQ(err->reason.size(), 94u);
  EXPECT_EQ(err->reason.str().rfind("BadConnectionRejected (0x80ac0000)", 0), 0u);
}

TEST(OpcuaVectors, OpenSecureChannel) {
  decoded req = decode_vector(vector_by_id("V03"));
  ASSERT_TRUE(req.chunk);
  EXPECT_EQ(req.chunk->secure_channel_id, 0u);
  EXPECT_EQ(req.chunk->asymmetric.security_policy_uri.str(), security_policy_none);
  EXPECT_TRUE(req.chunk->asymmetric.sender_certificate.is_null());
  EXPECT_TRUE(req.chunk->asymmetric.receiver_certificate_thumbprint.is_null());
  EXPECT_EQ(req.chunk->sequence.sequence_number, 1u);
  EXPECT_EQ(req.chunk->body_offset, 79u);
  const auto& o = as<OpenSecureChannelRequest>(req);
  EXPECT_TRUE(o.request_header.authentication_token.is_null());
  EXPECT_EQ(o.request_header.request_handle, 1u);
  EXPECT_EQ(o.request_header.timeout_hint, 15000u);
  EXPECT_TRUE(o.request_header.audit_entry_id.is_null());
  EXPECT_EQ(o.request_header.timestamp.to_rfc3339(), "2026-11-22T14:41:07.069Z");
  EXPECT_EQ(o.request_type, SecurityTokenRequestType::Issue);
  EXPECT_EQ(o.security_mode, MessageSecurityMode::None);
  EXPECT_TRUE(o.client_nonce.is_null());
  EXPECT_EQ(o.requested_lifetime, 600000u);

  decoded resp = decode_vector(vector_by_id("V04"));
  const auto& r = as<OpenSecureChannelResponse>(resp);
  EXPECT_EQ(resp.chunk->secure_channel_id, 1u);
  EXPECT_EQ(r.response_header.request_handle, 1u);
  EXPECT_EQ(r.response_header.service_result, status::Good);
  EXPECT_EQ(r.security_token.channel_id, 1u);
  EXPECT_EQ(r.security_token.token_id, 1u);
  EXPECT_EQ(r.security_token.revised_lifetime, 600000u);
  EXPECT_TRUE(r.server_nonce.is_null());
}

TEST(OpcuaVectors, GetEndpointsAndFindServers) {
  const auto& ge = as<GetEndpointsRequest>(decode_vector(vector_by_id("V05")));
  EXPECT_EQ(ge.endpoint_url.str(), "opc.tcp://127.0.0.1:48400");
  EXPECT_TRUE(ge.locale_ids.empty() && !ge.locale_ids.is_null());

  const auto& resp = as<GetEndpointsResponse>(decode_vector(vector_by_id("V06")));
  ASSERT_EQ(resp.endpoints.size(), 1u);
  const auto& ep = resp.endpoints[0];
  EXPECT_EQ(ep.endpoint_url.str(), "opc.tcp://127.0.0.1:48400");
  EXPECT_EQ(ep.server.application_uri.str(), "urn:vm:NodeOPCUA-Server");
  EXPECT_EQ(ep.server.application_name.locale.str(), "en");
  EXPECT_EQ(ep.server.application_type, ApplicationType::Server);
  EXPECT_EQ(ep.server_certificate.size(), 1073u);
  EXPECT_EQ(ep.security_mode, MessageSecurityMode::None);
  EXPECT_EQ(ep.security_policy_uri.str(), security_policy_none);
  ASSERT_EQ(ep.user_identity_tokens.size(), 1u);
  EXPECT_EQ(ep.user_identity_tokens[0].policy_id.str(), "anonymous_0");
  EXPECT_EQ(ep.user_identity_tokens[0].token_type, UserTokenType::Anonymous);
  EXPECT_EQ(ep.transport_profile_uri.str(), transport_profile_uatcp);
  EXPECT_EQ(ep.security_level, 1);

  const auto& fs = as<FindServersRequest>(decode_vector(vector_by_id("V31")));
  EXPECT_EQ(fs.endpoint_url.str(), "opc.tcp://127.0.0.1:48403");
  const auto& fsr = as<FindServersResponse>(decode_vector(vector_by_id("V32")));
  ASSERT_EQ(fsr.servers.size(), 1u);
  EXPECT_EQ(fsr.servers[0].application_uri.str(), "urn:vm:NodeOPCUA-Server");
  ASSERT_EQ(fsr.servers[0].discovery_urls.size(), 2u);
  EXPECT_EQ(fsr.servers[0].discovery_urls[1].str(), "opc.tcp://127.0.0.1:48400");
}

TEST(OpcuaVectors, Session) {
  const auto& cs = as<CreateSessionRequest>(decode_vector(vector_by_id("V07")));
  EXPECT_EQ(cs.client_description.application_uri.str(), "urn:vm:NodeOPCUA-Client");
  EXPECT_EQ(cs.client_description.application_type, ApplicationType::Client);
  EXPECT_EQ(cs.server_uri.str(), "urn:vm:NodeOPCUA-Server");
  EXPECT_EQ(cs.session_name.str(), "ClientSession1");
  EXPECT_EQ(cs.client_nonce.size(), 32u);
  EXPECT_EQ(cs.client_certificate.size(), 1074u);
  EXPECT_EQ(cs.requested_session_timeout, 60000.0);
  EXPECT_EQ(cs.max_response_message_size, 800000u);

  const auto& r = as<CreateSessionResponse>(decode_vector(vector_by_id("V08")));
  EXPECT_EQ(r.session_id.to_string(), "ns=1;g=DCE2F054-ADE4-83EC-E03E-32EE0A66E4F2");
  ASSERT_EQ(r.authentication_token.type(), IdType::ByteString);
  EXPECT_EQ(to_hex(r.authentication_token.opaque()->span()), "0798ad6e81e91dc8b9bdcf2bbb3a97d3");
  EXPECT_EQ(r.revised_session_timeout, 60000.0);
  EXPECT_EQ(r.server_nonce.size(), 32u);
  EXPECT_EQ(r.server_certificate.size(), 1073u);
  EXPECT_EQ(r.server_endpoints.size(), 1u);
  EXPECT_TRUE(r.server_software_certificates.empty());
  EXPECT_TRUE(r.server_signature.algorithm.is_null());
  EXPECT_TRUE(r.server_signature.signature.is_null());
  EXPECT_EQ(r.max_request_message_size, 67108864u);

  const auto& a = as<ActivateSessionRequest>(decode_vector(vector_by_id("V09")));
  EXPECT_EQ(a.request_header.authentication_token, r.authentication_token);
  auto tok = decode_identity_token(a.user_identity_token);
  ASSERT_TRUE(tok.ok()) << tok.error().reason;
  ASSERT_TRUE(std::holds_alternative<AnonymousIdentityToken>(*tok));
  EXPECT_EQ(std::get<AnonymousIdentityToken>(*tok).policy_id.str(), "anonymous_0");
  const auto& ar = as<ActivateSessionResponse>(decode_vector(vector_by_id("V10")));
  EXPECT_EQ(ar.server_nonce.size(), 32u);
  EXPECT_TRUE(ar.results.empty());

  EXPECT_TRUE(as<CloseSessionRequest>(decode_vector(vector_by_id("V26"))).delete_subscriptions);
  EXPECT_EQ(
      as<CloseSessionResponse>(decode_vector(vector_by_id("V27"))).response_header.request_handle,
      17u);
  decoded clo = decode_vector(vector_by_id("V28"));
  EXPECT_EQ(clo.header.type, MessageType::Close);
  EXPECT_EQ(as<CloseSecureChannelRequest>(clo).request_header.request_handle, 18u);
}

TEST(OpcuaVectors, ReadAndWrite) {
  const auto& rr = as<ReadRequest>(decode_vector(vector_by_id("V11")));
  EXPECT_EQ(rr.max_age, 0.0);
  EXPECT_EQ(rr.timestamps_to_return, TimestampsToReturn::Both);
  ASSERT_EQ(rr.nodes_to_read.size(), 1u);
  EXPECT_EQ(rr.nodes_to_read[0].node_id.to_string(), "ns=1;s=MyVar");
  EXPECT_EQ(rr.nodes_to_read[0].attribute_id, attribute_id::Value);
  EXPECT_TRUE(rr.nodes_to_read[0].index_range.is_null());

  const auto& resp = as<ReadResponse>(decode_vector(vector_by_id("V12")));
  ASSERT_EQ(resp.results.size(), 1u);
  const DataValue& dv = resp.results[0];
  EXPECT_EQ(dv.encoding_mask(), 0x3d);
  ASSERT_TRUE(dv.value && dv.value->get_if<double>());
  EXPECT_EQ(*dv.value->get_if<double>(), 43.5);
  EXPECT_TRUE(dv.source_timestamp && dv.server_timestamp && dv.source_picoseconds &&
              dv.server_picoseconds);
  EXPECT_FALSE(dv.status);

  const auto& w = as<WriteRequest>(decode_vector(vector_by_id("V13")));
  ASSERT_EQ(w.nodes_to_write.size(), 1u);
  EXPECT_EQ(w.nodes_to_write[0].node_id, NodeId(1, "MyVar"));
  EXPECT_EQ(w.nodes_to_write[0].value.encoding_mask(), 0x01);
  EXPECT_EQ(*w.nodes_to_write[0].value.value->get_if<double>(), 42.25);
  const auto& wr = as<WriteResponse>(decode_vector(vector_by_id("V14")));
  ASSERT_EQ(wr.results.size(), 1u);
  EXPECT_EQ(wr.results[0], status::Good);
}

TEST(OpcuaVectors, ServerObjectRead) {
  const auto& rr = as<ReadRequest>(decode_vector(vector_by_id("V29")));
  std::vector<std::string> ids;
  for (const auto& n : rr.nodes_to_read)
    ids.push_back(n.node_id.to_string());
  EXPECT_EQ(ids, (std::vector<std::string>{"i=2256", "i=2259", "i=2255", "i=2267", "i=3709",
                                           "i=2254", "i=11314", "i=11312", "i=999999"}));
  const auto& r = as<ReadResponse>(decode_vector(vector_by_id("V30")));
  ASSERT_EQ(r.results.size(), 9u);
  // ServerStatus: an ExtensionObject i=864 wrapping ServerStatusDataType.
  const auto* eo = r.results[0].value->get_if<ExtensionObject>();
  ASSERT_NE(eo, nullptr);
  EXPECT_EQ(eo->type_id, NodeId(864));
  EXPECT_EQ(eo->body.size(), 149u);
  auto st = decode_extension_object<ServerStatusDataType>(*eo);
  ASSERT_TRUE(st.ok()) << st.error().reason;
  EXPECT_EQ(st->state, ServerState::Running);
  EXPECT_EQ(st->build_info.product_name.str(), "CaptureServer");
  EXPECT_EQ(st->build_info.software_version.str(), "2.186.4");
  EXPECT_EQ(st->build_info.manufacturer_name.str().rfind("NodeOPCUA", 0), 0u);
  EXPECT_LT(st->start_time, st->current_time);
  // Re-wrapping gives the same bytes.
  EXPECT_EQ(*make_extension_object(*st), *eo);
  // State is Int32 0; NamespaceArray a String array; ServiceLevel Byte 255; RedundancySupport 0.
  EXPECT_EQ(*r.results[1].value->get_if<int32_t>(), 0);
  const auto* ns = r.results[2].value->get_if<Array<String>>();
  ASSERT_NE(ns, nullptr);
  ASSERT_EQ(ns->size(), 2u);
  EXPECT_EQ((*ns)[0].str(), "http://opcfoundation.org/UA/");
  EXPECT_EQ((*ns)[1].str(), "urn:vm:NodeOPCUA-Server");
  EXPECT_EQ(*r.results[3].value->get_if<uint8_t>(), 255);
  EXPECT_EQ(*r.results[4].value->get_if<int32_t>(), static_cast<int32_t>(RedundancySupport::None));
  EXPECT_EQ(r.results[5].value->get_if<Array<String>>()->size(), 1u);
  EXPECT_TRUE(r.results[6].value->get_if<Array<String>>()->empty());
  EXPECT_EQ(r.results[7].value->get_if<String>()->str(), "");
  EXPECT_EQ(r.results[8].encoding_mask(), 0x02);
  EXPECT_EQ(*r.results[8].status, status::BadNodeIdUnknown);
}

TEST(OpcuaVectors, Browse) {
  const auto& b = as<BrowseRequest>(decode_vector(vector_by_id("V33")));
  EXPECT_TRUE(b.view.view_id.is_null());
  EXPECT_EQ(b.requested_max_references_per_node, 1u);
  ASSERT_EQ(b.nodes_to_browse.size(), 1u);
  EXPECT_EQ(b.nodes_to_browse[0].node_id, NodeId(85));
  EXPECT_EQ(b.nodes_to_browse[0].reference_type_id, NodeId(33));
  EXPECT_EQ(b.nodes_to_browse[0].result_mask, browse_result_mask::All);

  const auto& br = as<BrowseResponse>(decode_vector(vector_by_id("V34")));
  ASSERT_EQ(br.results.size(), 1u);
  EXPECT_EQ(br.results[0].continuation_point, ByteString{0x31});
  ASSERT_EQ(br.results[0].references.size(), 1u);
  const auto& ref = br.results[0].references[0];
  EXPECT_EQ(ref.reference_type_id, NodeId(35));
  EXPECT_TRUE(ref.is_forward);
  EXPECT_EQ(ref.browse_name.name.str(), "Locations");
  EXPECT_EQ(ref.node_class, NodeClass::Object);
  EXPECT_EQ(ref.type_definition.node_id, NodeId(61));

  const auto& bn = as<BrowseNextRequest>(decode_vector(vector_by_id("V35")));
  EXPECT_FALSE(bn.release_continuation_points);
  ASSERT_EQ(bn.continuation_points.size(), 1u);
  EXPECT_EQ(bn.continuation_points[0], ByteString{0x31});
  const auto& bnr = as<BrowseNextResponse>(decode_vector(vector_by_id("V36")));
  EXPECT_EQ(bnr.results[0].references[0].browse_name.name.str(), "Server");
  EXPECT_EQ(bnr.results[0].references[0].node_id.node_id, NodeId(2253));
}

TEST(OpcuaVectors, Subscriptions) {
  const auto& cs = as<CreateSubscriptionRequest>(decode_vector(vector_by_id("V15")));
  EXPECT_EQ(cs.requested_publishing_interval, 500.0);
  EXPECT_EQ(cs.requested_lifetime_count, 60u);
  EXPECT_EQ(cs.requested_max_keep_alive_count, 10u);
  EXPECT_EQ(cs.max_notifications_per_publish, 100u);
  EXPECT_TRUE(cs.publishing_enabled);
  EXPECT_EQ(cs.priority, 1);
  const auto& csr = as<CreateSubscriptionResponse>(decode_vector(vector_by_id("V16")));
  EXPECT_EQ(csr.subscription_id, 527177u);
  EXPECT_EQ(csr.revised_publishing_interval, 500.0);

  const auto& p = as<PublishRequest>(decode_vector(vector_by_id("V17")));
  EXPECT_TRUE(p.subscription_acknowledgements.empty());
  EXPECT_EQ(p.request_header.timeout_hint, 20000u);

  const auto& mi = as<CreateMonitoredItemsRequest>(decode_vector(vector_by_id("V18")));
  EXPECT_EQ(mi.subscription_id, 527177u);
  ASSERT_EQ(mi.items_to_create.size(), 1u);
  EXPECT_EQ(mi.items_to_create[0].monitoring_mode, MonitoringMode::Reporting);
  EXPECT_TRUE(mi.items_to_create[0].requested_parameters.filter.is_null());
  EXPECT_EQ(mi.items_to_create[0].requested_parameters.client_handle, 1u);
  decoded mir_d = decode_vector(vector_by_id("V19"));
  EXPECT_EQ(mir_d.chunk->sequence.sequence_number, 8u);
  EXPECT_EQ(mir_d.chunk->sequence.request_id, 13u);
  const auto& mir = as<CreateMonitoredItemsResponse>(mir_d);
  EXPECT_EQ(mir.results[0].monitored_item_id, 54392u);
  EXPECT_EQ(mir.results[0].revised_sampling_interval, 1000.0);

  const auto& pr = as<PublishResponse>(decode_vector(vector_by_id("V20")));
  EXPECT_EQ(pr.subscription_id, 527177u);
  EXPECT_EQ(pr.available_sequence_numbers, (Array<uint32_t>{1}));
  EXPECT_FALSE(pr.more_notifications);
  EXPECT_EQ(pr.notification_message.sequence_number, 1u);
  EXPECT_TRUE(pr.notification_message.publish_time.is_null());
  ASSERT_EQ(pr.notification_message.notification_data.size(), 1u);
  auto n = decode_notification(pr.notification_message.notification_data[0]);
  ASSERT_TRUE(n.ok()) << n.error().reason;
  const auto& dcn = std::get<DataChangeNotification>(*n);
  ASSERT_EQ(dcn.monitored_items.size(), 1u);
  EXPECT_EQ(dcn.monitored_items[0].client_handle, 1u);
  EXPECT_EQ(dcn.monitored_items[0].value.encoding_mask(), 0x3d);
  EXPECT_EQ(*dcn.monitored_items[0].value.value->get_if<double>(), 42.25);

  const auto& ack = as<PublishRequest>(decode_vector(vector_by_id("V21")));
  ASSERT_EQ(ack.subscription_acknowledgements.size(), 1u);
  EXPECT_EQ(ack.subscription_acknowledgements[0].subscription_id, 527177u);
  EXPECT_EQ(ack.subscription_acknowledgements[0].sequence_number, 1u);
  const auto& pr2 = as<PublishResponse>(decode_vector(vector_by_id("V22")));
  EXPECT_EQ(pr2.notification_message.sequence_number, 2u);

  EXPECT_EQ(as<DeleteSubscriptionsRequest>(decode_vector(vector_by_id("V23"))).subscription_ids,
            (Array<uint32_t>{527177}));
  const auto& fault = as<ServiceFault>(decode_vector(vector_by_id("V24")));
  EXPECT_EQ(fault.response_header.service_result, status::BadNoSubscription);
  EXPECT_EQ(fault.response_header.request_handle, 10u);
  EXPECT_EQ(as<DeleteSubscriptionsResponse>(decode_vector(vector_by_id("V25"))).results,
            (Array<StatusCode>{status::Good}));

  const auto& f = as<CreateMonitoredItemsRequest>(decode_vector(vector_by_id("V37")));
  EXPECT_EQ(f.timestamps_to_return, TimestampsToReturn::Source);
  const auto& params = f.items_to_create[0].requested_parameters;
  EXPECT_EQ(params.sampling_interval, 100.0);
  auto filter = decode_extension_object<DataChangeFilter>(params.filter);
  ASSERT_TRUE(filter.ok()) << filter.error().reason;
  EXPECT_EQ(filter->trigger, DataChangeTrigger::StatusValue);
  EXPECT_EQ(filter->deadband_type, deadband_type::Absolute);
  EXPECT_EQ(filter->deadband_value, 0.5);
  EXPECT_EQ(*make_extension_object(*filter), params.filter);

  const auto& src = as<PublishResponse>(decode_vector(vector_by_id("V38")));
  auto n2 = decode_notification(src.notification_message.notification_data[0]);
  ASSERT_TRUE(n2.ok());
  EXPECT_EQ(std::get<DataChangeNotification>(*n2).monitored_items[0].value.encoding_mask(), 0x15);

  const auto& ms = as<ModifySubscriptionRequest>(decode_vector(vector_by_id("V39")));
  EXPECT_EQ(ms.subscription_id, 527178u);
  EXPECT_EQ(ms.requested_publishing_interval, 300.0);
  EXPECT_EQ(ms.requested_lifetime_count, 90u);
  EXPECT_EQ(ms.requested_max_keep_alive_count, 6u);
  EXPECT_EQ(ms.max_notifications_per_publish, 10u);
  EXPECT_EQ(ms.priority, 4);
  EXPECT_EQ(as<ModifySubscriptionResponse>(decode_vector(vector_by_id("V40")))
                .revised_max_keep_alive_count,
            6u);
  const auto& spm = as<SetPublishingModeRequest>(decode_vector(vector_by_id("V41")));
  EXPECT_FALSE(spm.publishing_enabled);
  EXPECT_EQ(spm.subscription_ids, (Array<uint32_t>{527178}));
  EXPECT_EQ(as<SetPublishingModeResponse>(decode_vector(vector_by_id("V42"))).results.size(), 1u);
  const auto& rp = as<RepublishRequest>(decode_vector(vector_by_id("V43")));
  EXPECT_EQ(rp.retransmit_sequence_number, 1u);
  EXPECT_EQ(as<ServiceFault>(decode_vector(vector_by_id("V44"))).response_header.service_result,
            status::BadMessageNotAvailable);
  const auto& ts = as<TransferSubscriptionsRequest>(decode_vector(vector_by_id("V45")));
  EXPECT_EQ(ts.subscription_ids, (Array<uint32_t>{527178, 4242}));
  EXPECT_TRUE(ts.send_initial_values);
  const auto& tr = as<TransferSubscriptionsResponse>(decode_vector(vector_by_id("V46")));
  ASSERT_EQ(tr.results.size(), 2u);
  EXPECT_EQ(tr.results[0].status_code, status::BadUserAccessDenied);
  EXPECT_EQ(tr.results[1].status_code, status::BadSubscriptionIdInvalid);
  EXPECT_EQ(as<DeleteMonitoredItemsRequest>(decode_vector(vector_by_id("V47"))).monitored_item_ids,
            (Array<uint32_t>{54393}));
  EXPECT_EQ(as<DeleteMonitoredItemsResponse>(decode_vector(vector_by_id("V48"))).results[0],
            status::Good);
}

TEST(OpcuaVectors, ClientStreamThroughSplitterAndAssembler) {
  // Trace A client->server chunks in order, one TCP stream fed in 7-byte pieces.
  std::vector<uint8_t> stream;
  size_t expected = 0;
  for (const auto& v : captured_vectors())
    if (v.client_to_server && v.title.find("trace-A") != std::string::npos &&
        v.id != "V29") { // V29 is from a second connection
      stream.insert(stream.end(), v.bytes.begin(), v.bytes.end());
      expected += v.bytes[0] != 'H';
    }
  frame_splitter split(655360);
  chunk_assembler asm_;
  size_t messages = 0, hello = 0;
  for (size_t i = 0; i < stream.size(); i += 7) {
    split.feed(byte_span(stream).subspan(i, 7));
    for (;;) {
      auto c = split.next();
      ASSERT_TRUE(c.ok()) << c.error().reason;
      if (!*c) break;
      auto h = decode_message_header(**c);
      ASSERT_TRUE(h.ok());
      if (h->type == MessageType::Hello) {
        ++hello;
        continue;
      }
      // Trace A skips captured chunks #18-#21 (more Publish requests): restart the sequence check
      // where the capture has a gap.
      auto sc = decode_secure_chunk(**c);
      ASSERT_TRUE(sc.ok());
      if (asm_.last_sequence_number() &&
          !sequence_number_follows(*asm_.last_sequence_number(), sc->sequence.sequence_number))
        asm_ = chunk_assembler();
      auto e = asm_.add(*sc);
      ASSERT_TRUE(e.ok()) << e.error().reason;
      auto* m = std::get_if<AssembledMessage>(&*e);
      ASSERT_NE(m, nullptr);
      auto req = decode_request(byte_span(m->body));
      ASSERT_TRUE(req.ok()) << req.error().reason;
      ++messages;
    }
  }
  EXPECT_EQ(hello, 1u);
  EXPECT_EQ(messages, expected);
  EXPECT_EQ(expected, 13u);
  EXPECT_EQ(split.buffered(), 0u);
}

} // namespace
} // namespace tandem::opcua
