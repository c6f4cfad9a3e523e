// The server face's session and attribute/view services: GetEndpoints/FindServers echoing the
// dialled URL, session errors and timeout, Read/Write/Browse/BrowseNext/TranslateBrowsePaths
// against memory_address_space, and the lead's ua_client (anonymous and user name) as a peer.

#include <future>

#include <boost/asio/post.hpp>

#include "server_fixture.hpp"
#include "transports/opcua/client/client.hpp"

using namespace tandem::opcua;
using namespace tandem::opcua::test;
using namespace std::chrono_literals;

namespace {

using server_services = server_fixture;

ReadRequest read_of(std::vector<NodeId> ids, uint32_t attribute = attribute_id::Value) {
  ReadRequest r;
  for (auto& id : ids) {
    ReadValueId v;
    v.node_id = id;
    v.attribute_id = attribute;
    r.nodes_to_read.push_back(v);
  }
  return r;
}

template <class T> const T& as(const result<Response>& r) {
  static const T empty{};
  if (!r.ok()) {
    ADD_FAILURE() << r.error().reason;
    return empty;
  }
  auto* p = std::get_if<T>(&*r);
  if (!p) {
    ADD_FAILURE() << "got " << message_type_name(binary_encoding_id(*r)) << " "
                  << to_string(response_header(*r).service_result);
    return empty;
  }
  return *p;
}

TEST_F(server_services, get_endpoints_and_find_servers_echo_the_dialled_url) {
  raw_client c(port);
  ASSERT_TRUE(c.hello(url()));
  ASSERT_TRUE(c.open().ok());
  GetEndpointsRequest ge;
  ge.endpoint_url = String("opc.tcp://LOCALHOST:" + std::to_string(port) + "/sim");
  auto r = c.call(ge);
  const auto& eps = as<GetEndpointsResponse>(r).endpoints;
  ASSERT_EQ(eps.size(), 1u);
  EXPECT_EQ(eps[0].endpoint_url, ge.endpoint_url);
  EXPECT_EQ(eps[0].security_mode, MessageSecurityMode::None);
  EXPECT_EQ(eps[0].security_policy_uri.str(), security_policy_none);
  EXPECT_EQ(eps[0].transport_profile_uri.str(), transport_profile_uatcp);
  ASSERT_EQ(eps[0].user_identity_tokens.size(), 1u); // no user check configured
  EXPECT_EQ(eps[0].user_identity_tokens[0].policy_id.str(), "anonymous");
  EXPECT_EQ(eps[0].user_identity_tokens[0].token_type, UserTokenType::Anonymous);

  GetEndpointsRequest no_url;
  auto r2 = c.call(no_url);
  EXPECT_EQ(as<GetEndpointsResponse>(r2).endpoints.at(0).endpoint_url.str(), url());

  FindServersRequest fs;
  fs.endpoint_url = String(url());
  auto r3 = c.call(fs);
  const auto& servers = as<FindServersResponse>(r3).servers;
  ASSERT_EQ(servers.size(), 1u);
  EXPECT_EQ(servers[0].application_uri.str(), "urn:tandem:server");
  EXPECT_EQ(servers[0].discovery_urls.at(0).str(), url());
}

TEST_F(server_services, services_need_an_activated_session_on_this_channel) {
  raw_client c(port);
  ASSERT_TRUE(c.hello(url()));
  ASSERT_TRUE(c.open().ok());
  EXPECT_EQ(fault_status(c.call(read_of({NodeId(2267)}))).code(),
            status::BadSessionIdInvalid.code());

  CreateSessionRequest cs;
  cs.requested_session_timeout = 30000;
  auto r = c.call(cs);
  const auto& csr = as<CreateSessionResponse>(r);
  EXPECT_EQ(csr.server_nonce.size(), 32u);
  EXPECT_DOUBLE_EQ(csr.revised_session_timeout, 30000);
  EXPECT_FALSE(csr.session_id.is_null());
  c.auth = csr.authentication_token;
  EXPECT_EQ(fault_status(c.call(read_of({NodeId(2267)}))).code(),
            status::BadSessionNotActivated.code());
  c.activate();
  EXPECT_TRUE(fault_status(c.call(read_of({NodeId(2267)}))).is_good());

  // A wrong policyId for the anonymous token is refused.
  ActivateSessionRequest as_bad;
  AnonymousIdentityToken anon;
  anon.policy_id = String("nope");
  as_bad.user_identity_token = *make_extension_object(anon);
  EXPECT_EQ(fault_status(c.call(as_bad)).code(), status::BadIdentityTokenInvalid.code());

  NodeId real = c.auth;
  c.auth = NodeId(0, ByteString(std::vector<uint8_t>(32, 7)));
  EXPECT_EQ(fault_status(c.call(read_of({NodeId(2267)}))).code(),
            status::BadSessionIdInvalid.code());
  c.auth = real;

  CloseSessionRequest close;
  EXPECT_TRUE(fault_status(c.call(close)).is_good());
  EXPECT_EQ(fault_status(c.call(read_of({NodeId(2267)}))).code(),
            status::BadSessionIdInvalid.code());
  EXPECT_EQ(server->session_count(), 0u);
}

TEST_F(server_services, a_session_that_is_not_used_times_out) {
  auto c = std::make_unique<raw_client>(port);
  ASSERT_TRUE(c->hello(url()));
  ASSERT_TRUE(c->open().ok());
  c->session(150);
  EXPECT_TRUE(fault_status(c->call(read_of({NodeId(2267)}))).is_good());
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(fault_status(c->call(read_of({NodeId(2267)}))).code(),
            status::BadSessionIdInvalid.code());
}

TEST_F(server_services, a_session_moves_to_a_new_channel_when_activated_there) {
  auto a = ready_client();
  raw_client b(port);
  ASSERT_TRUE(b.hello(url()));
  ASSERT_TRUE(b.open().ok());
  b.auth = a->auth; // node-opcua's reconnect: ActivateSession with the old token
  b.activate();
  EXPECT_TRUE(fault_status(b.call(read_of({NodeId(2267)}))).is_good());
  EXPECT_EQ(fault_status(a->call(read_of({NodeId(2267)}))).code(),
            status::BadSecureChannelIdInvalid.code());
  EXPECT_EQ(server->session_count(), 1u);
}

TEST_F(server_services, one_sessions_errors_do_not_affect_another) {
  auto a = ready_client();
  auto b = ready_client();
  CloseSessionRequest close;
  EXPECT_TRUE(fault_status(a->call(close)).is_good());
  EXPECT_EQ(fault_status(a->call(read_of({NodeId(2267)}))).code(),
            status::BadSessionIdInvalid.code());
  EXPECT_TRUE(fault_status(b->call(read_of({NodeId(2267)}))).is_good());
  // b's token used on a's channel: the session belongs to another channel.
  a->auth = b->auth;
  EXPECT_EQ(fault_status(a->call(read_of({NodeId(2267)}))).code(),
            status::BadSecureChannelIdInvalid.code());
  EXPECT_TRUE(fault_status(b->call(read_of({NodeId(2267)}))).is_good());
}

TEST_F(server_services, read_returns_server_object_values_and_per_node_errors) {
  auto c = ready_client();
  space->set_service_level(200);
  auto r = c->call(read_of({NodeId(2267), NodeId(2255), NodeId(2259), NodeId(3709), NodeId(2256),
                            NodeId(11705), NodeId(1, String("Sim.Counter")),
                            NodeId(1, String("Nope")), NodeId(2258), NodeId(2254)}));
  const auto& res = as<ReadResponse>(r).results;
  ASSERT_EQ(res.size(), 10u);
  EXPECT_EQ(*res[0].value->get_if<uint8_t>(), 200);
  auto ns = res[1].value->get_if<Array<String>>();
  ASSERT_NE(ns, nullptr);
  ASSERT_EQ(ns->size(), 2u);
  EXPECT_EQ((*ns)[0].str(), "http://opcfoundation.org/UA/");
  EXPECT_EQ((*ns)[1].str(), "urn:tandem:server");
  EXPECT_EQ(*res[2].value->get_if<int32_t>(), 0);
  EXPECT_EQ(*res[3].value->get_if<int32_t>(), 4); // Transparent
  auto eo = res[4].value->get_if<ExtensionObject>();
  ASSERT_NE(eo, nullptr);
  auto st = decode_extension_object<ServerStatusDataType>(*eo);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state, ServerState::Running);
  EXPECT_EQ(*res[5].value->get_if<uint32_t>(), 1000u);
  EXPECT_EQ(*res[6].value->get_if<int32_t>(), 42);
  EXPECT_TRUE(res[6].source_timestamp && res[6].server_timestamp);
  EXPECT_FALSE(res[7].value);
  EXPECT_EQ(res[7].status_or_good().code(), status::BadNodeIdUnknown.code());
  EXPECT_TRUE(res[8].value->get_if<DateTime>());
  EXPECT_EQ(res[9].value->get_if<Array<String>>()->at(0).str(), "urn:tandem:server");

  space->set_redundancy_support(RedundancySupport::Hot);
  auto r2 = c->call(read_of({NodeId(3709)}));
  EXPECT_EQ(*as<ReadResponse>(r2).results.at(0).value->get_if<int32_t>(), 3);

  auto attrs = c->call(read_of({NodeId(1, String("Sim.Counter"))}, attribute_id::BrowseName));
  const auto& bn = as<ReadResponse>(attrs).results.at(0);
  EXPECT_EQ(bn.value->get_if<QualifiedName>()->name.str(), "Counter");
  EXPECT_FALSE(bn.source_timestamp);
  auto bad_attr = c->call(read_of({NodeId(85)}, attribute_id::Value));
  EXPECT_EQ(as<ReadResponse>(bad_attr).results.at(0).status_or_good().code(),
            status::BadAttributeIdInvalid.code());
  EXPECT_EQ(fault_status(c->call(ReadRequest{})).code(), status::BadNothingToDo.code());
}

TEST_F(server_services, write_checks_writability_and_type) {
  auto c = ready_client();
  WriteRequest w;
  auto add = [&](NodeId id, Variant v) {
    WriteValue wv;
    wv.node_id = std::move(id);
    wv.value = DataValue(std::move(v));
    w.nodes_to_write.push_back(wv);
  };
  add(NodeId(1, String("Sim.Setpoint")), Variant(7.25));
  add(NodeId(1, String("Sim.Counter")), Variant(int32_t{1}));
  add(NodeId(1, String("Sim.Setpoint")), Variant(String("x")));
  add(NodeId(1, String("Nope")), Variant(1.0));
  auto r = c->call(w);
  const auto& res = as<WriteResponse>(r).results;
  ASSERT_EQ(res.size(), 4u);
  EXPECT_TRUE(res[0].is_good());
  EXPECT_EQ(res[1].code(), status::BadNotWritable.code());
  EXPECT_EQ(res[2].code(), status::BadTypeMismatch.code());
  EXPECT_EQ(res[3].code(), status::BadNodeIdUnknown.code());
  auto rr = c->call(read_of({NodeId(1, String("Sim.Setpoint"))}));
  EXPECT_DOUBLE_EQ(*as<ReadResponse>(rr).results.at(0).value->get_if<double>(), 7.25);
}

TEST_F(server_services, browse_and_browse_next_walk_the_references) {
  auto c = ready_client();
  BrowseRequest b;
  BrowseDescription d;
  d.node_id = NodeId(1, String("Sim"));
  d.reference_type_id = NodeId(node_ids::HierarchicalReferences);
  d.include_subtypes = true;
  b.nodes_to_browse.push_back(d);
  auto r = c->call(b);
  const auto& res = as<BrowseResponse>(r).results;
  ASSERT_EQ(res.size(), 1u);
  ASSERT_EQ(res[0].references.size(), 3u);
  EXPECT_EQ(res[0].references[0].browse_name.name.str(), "Counter");
  EXPECT_EQ(res[0].references[0].node_class, NodeClass::Variable);
  EXPECT_TRUE(res[0].references[0].reference_type_id.is(node_ids::Organizes));
  EXPECT_TRUE(res[0].continuation_point.is_null());

  b.requested_max_references_per_node = 2;
  auto paged = c->call(b);
  const auto& first = as<BrowseResponse>(paged).results.at(0);
  ASSERT_EQ(first.references.size(), 2u);
  ASSERT_FALSE(first.continuation_point.is_null());
  BrowseNextRequest next;
  next.continuation_points.push_back(first.continuation_point);
  auto n = c->call(next);
  const auto& second = as<BrowseNextResponse>(n).results.at(0);
  ASSERT_EQ(second.references.size(), 1u);
  EXPECT_EQ(second.references[0].browse_name.name.str(), "Text");
  EXPECT_TRUE(second.continuation_point.is_null());
  auto again = c->call(next);
  EXPECT_EQ(as<BrowseNextResponse>(again).results.at(0).status_code.code(),
            status::BadContinuationPointInvalid.code());

  BrowseRequest inv;
  BrowseDescription up;
  up.node_id = NodeId(2267);
  up.browse_direction = BrowseDirection::Inverse;
  up.reference_type_id = NodeId(node_ids::HasProperty);
  inv.nodes_to_browse.push_back(up);
  BrowseDescription unknown;
  unknown.node_id = NodeId(1, String("Nope"));
  inv.nodes_to_browse.push_back(unknown);
  auto ir = c->call(inv);
  const auto& ires = as<BrowseResponse>(ir).results;
  ASSERT_EQ(ires.size(), 2u);
  ASSERT_EQ(ires[0].references.size(), 1u);
  EXPECT_EQ(ires[0].references[0].node_id.node_id, NodeId(node_ids::Server));
  EXPECT_FALSE(ires[0].references[0].is_forward);
  EXPECT_EQ(ires[1].status_code.code(), status::BadNodeIdUnknown.code());
}

TEST_F(server_services, translate_browse_paths_follows_browse_names) {
  auto c = ready_client();
  TranslateBrowsePathsToNodeIdsRequest t;
  BrowsePath p;
  p.starting_node = NodeId(node_ids::ObjectsFolder);
  RelativePathElement e1;
  e1.reference_type_id = NodeId(node_ids::HierarchicalReferences);
  e1.target_name = {1, "Sim"};
  RelativePathElement e2 = e1;
  e2.target_name = {1, "Counter"};
  p.relative_path.elements = {e1, e2};
  t.browse_paths.push_back(p);
  BrowsePath status = p;
  status.relative_path.elements = {e1, e2};
  status.relative_path.elements[0].target_name = {0, "Server"};
  status.relative_path.elements[1].target_name = {0, "ServerStatus"};
  t.browse_paths.push_back(status);
  BrowsePath missing = p;
  missing.relative_path.elements[1].target_name = {1, "Nope"};
  t.browse_paths.push_back(missing);
  auto r = c->call(t);
  const auto& res = as<TranslateBrowsePathsToNodeIdsResponse>(r).results;
  ASSERT_EQ(res.size(), 3u);
  ASSERT_EQ(res[0].targets.size(), 1u);
  EXPECT_EQ(res[0].targets[0].target_id.node_id, NodeId(1, String("Sim.Counter")));
  ASSERT_EQ(res[1].targets.size(), 1u);
  EXPECT_EQ(res[1].targets[0].target_id.node_id, NodeId(2256));
  EXPECT_EQ(res[2].status_code.code(), status_bad_no_match.code());
}

// -- the lead's client as a peer -----------------------------------------------------------------

class server_with_ua_client : public server_fixture {
protected:
  std::optional<error> connect(client_options o) {
    client = ua_client::create(io, std::move(o));
    std::promise<std::optional<error>> p;
    client->connect(
        [&](const error* e) { p.set_value(e ? std::optional<error>(*e) : std::nullopt); });
    auto f = p.get_future();
    if (f.wait_for(10s) != std::future_status::ready)
      return error{status::BadTimeout, "connect hung"};
    return f.get();
  }
  template <class Resp, class Req> result<Resp> call(Req req) {
    std::promise<result<Resp>> p;
    client->call<Resp>(std::move(req), [&](result<Resp> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }
  void TearDown() override {
    if (!client) return;
    std::promise<void> done;
    client->disconnect([&] { done.set_value(); });
    done.get_future().wait_for(5s);
    // Drop the channel's closed handler (it holds the client) and let the strand drain, so the
    // pair is freed before the io_context stops (LeakSanitizer).
    client->channel()->set_closed_handler(nullptr);
    std::promise<void> drained;
    boost::asio::post(client->channel()->strand(), [&] { drained.set_value(); });
    drained.get_future().wait_for(5s);
  }
  std::shared_ptr<ua_client> client;
};

TEST_F(server_with_ua_client, connects_anonymously_reads_writes_and_browses) {
  client_options o;
  o.url = url();
  auto e = connect(o);
  ASSERT_FALSE(e) << e->reason;
  auto r = call<ReadResponse>(read_of({NodeId(2267), NodeId(1, String("Sim.Counter"))}));
  ASSERT_TRUE(r.ok()) << r.error().reason;
  ASSERT_EQ(r->results.size(), 2u);
  EXPECT_EQ(*r->results[0].value->get_if<uint8_t>(), 255);
  EXPECT_EQ(*r->results[1].value->get_if<int32_t>(), 42);

  WriteRequest w;
  WriteValue wv;
  wv.node_id = NodeId(1, String("Sim.Text"));
  wv.value = DataValue(Variant(String("bye")));
  w.nodes_to_write.push_back(wv);
  auto wr = call<WriteResponse>(w);
  ASSERT_TRUE(wr.ok());
  EXPECT_TRUE(wr->results.at(0).is_good());

  BrowseRequest b;
  BrowseDescription d;
  d.node_id = NodeId(node_ids::ObjectsFolder);
  d.reference_type_id = NodeId(node_ids::HierarchicalReferences);
  d.include_subtypes = true;
  b.nodes_to_browse.push_back(d);
  auto br = call<BrowseResponse>(b);
  ASSERT_TRUE(br.ok());
  ASSERT_EQ(br->results.at(0).references.size(), 2u); // Server, Sim
  EXPECT_EQ(server->session_count(), 1u);
}

TEST_F(server_with_ua_client, logs_in_with_a_user_name_when_the_provider_allows_it) {
  space->set_user_check(
      [](const std::string& u, const std::string& p) { return u == "op1" && p == "secret1"; });
  client_options o;
  o.url = url();
  o.user = "op1";
  o.password = "secret1";
  auto e = connect(o);
  ASSERT_FALSE(e) << e->reason;
  bool has_user_policy = false;
  for (const auto& t : client->endpoints().at(0).user_identity_tokens)
    has_user_policy |= t.policy_id.str() == "username" && t.token_type == UserTokenType::UserName;
  EXPECT_TRUE(has_user_policy);
  EXPECT_TRUE(call<ReadResponse>(read_of({NodeId(2267)})).ok());
}

TEST_F(server_with_ua_client, a_wrong_password_is_refused) {
  space->set_user_check(
      [](const std::string& u, const std::string& p) { return u == "op1" && p == "secret1"; });
  client_options o;
  o.url = url();
  o.user = "op1";
  o.password = "wrong";
  auto e = connect(o);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code.code(), status::BadUserAccessDenied.code()) << e->reason;
}

TEST_F(server_with_ua_client, an_unknown_path_is_refused) {
  client_options o;
  o.url = "opc.tcp://127.0.0.1:" + std::to_string(port) + "/other";
  auto e = connect(o);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code.code(), status::BadTcpEndpointUrlInvalid.code()) << e->reason;
}

} // namespace

namespace {

/// A server with small connection and monitored-item limits.
class limited_server : public server_fixture {
protected:
  static server_options limits() {
    auto o = test_options();
    o.max_connections = 2;
    o.max_monitored_items_per_subscription = 2;
    return o;
  }
  limited_server() : server_fixture(limits()) {}
};

TEST_F(limited_server, a_connection_over_the_limit_gets_err_and_the_others_keep_working) {
  auto a = ready_client();
  raw_client b(port);
  // Both are accepted (asynchronously) before the third one comes.
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (server->connection_count() < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  ASSERT_EQ(server->connection_count(), 2u);
  raw_client c(port);
  auto err = c.expect_error();
  ASSERT_TRUE(err);
  EXPECT_EQ(err->error.code(), status::BadMaxConnectionsReached.code());
  ReadRequest r;
  ReadValueId v;
  v.node_id = NodeId(1, String("Sim.Counter"));
  r.nodes_to_read.push_back(v);
  auto resp = a->call(r);
  ASSERT_TRUE(resp.ok());
  EXPECT_NE(std::get_if<ReadResponse>(&*resp), nullptr);
}

TEST_F(limited_server, monitored_items_over_the_limit_are_refused_one_by_one) {
  auto c = ready_client();
  CreateSubscriptionRequest cs;
  cs.requested_publishing_interval = 100;
  auto r = c->call(cs);
  ASSERT_TRUE(r.ok());
  auto* csr = std::get_if<CreateSubscriptionResponse>(&*r);
  ASSERT_NE(csr, nullptr);
  CreateMonitoredItemsRequest ci;
  ci.subscription_id = csr->subscription_id;
  for (const char* n : {"Sim.Counter", "Sim.Setpoint", "Sim.Text"}) {
    MonitoredItemCreateRequest item;
    item.item_to_monitor.node_id = NodeId(1, String(n));
    ci.items_to_create.push_back(item);
  }
  auto cr = c->call(ci);
  ASSERT_TRUE(cr.ok());
  auto* cmr = std::get_if<CreateMonitoredItemsResponse>(&*cr);
  ASSERT_NE(cmr, nullptr);
  ASSERT_EQ(cmr->results.size(), 3u);
  EXPECT_TRUE(cmr->results[0].status_code.is_good());
  EXPECT_TRUE(cmr->results[1].status_code.is_good());
  EXPECT_EQ(cmr->results[2].status_code.code(), status::BadTooManyMonitoredItems.code());
}

} // namespace
