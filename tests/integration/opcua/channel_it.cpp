// The client channel and session against node-opcua: token renewal before the lifetime ends,
// requests on the renewed token, services beyond read/write, per-request timeouts.

#include <future>
#include <map>
#include <set>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include "tests/support/opcua_peer.hpp"
#include "tests/support/process.hpp"
#include "transports/opcua/client/client.hpp"

using namespace tandem;
using namespace tandem::opcua;
using namespace std::chrono_literals;

namespace {

class channel_it : public ::testing::Test {
protected:
  channel_it() : work(boost::asio::make_work_guard(io)) {
    thread = std::thread([this] { io.run(); });
  }
  ~channel_it() override {
    if (client) {
      std::promise<void> done;
      client->disconnect([&] { done.set_value(); });
      done.get_future().wait_for(5s);
    }
    work.reset();
    io.stop();
    thread.join();
  }
  void connect(const std::string& url, uint32_t lifetime_ms = 600000) {
    client_options o;
    o.url = url;
    o.channel.requested_lifetime_ms = lifetime_ms;
    client = ua_client::create(io, o);
    std::promise<std::optional<error>> p;
    client->connect(
        [&](const error* e) { p.set_value(e ? std::optional<error>(*e) : std::nullopt); });
    auto e = p.get_future().get();
    ASSERT_FALSE(e) << e->reason;
  }
  template <class Resp, class Req>
  result<Resp> call(Req req, std::chrono::milliseconds timeout = 0ms) {
    std::promise<result<Resp>> p;
    client->call<Resp>(
        std::move(req), [&](result<Resp> r) { p.set_value(std::move(r)); }, timeout);
    return p.get_future().get();
  }
  template <class F> auto on_strand(F f) {
    std::promise<decltype(f())> p;
    boost::asio::post(client->channel()->strand(), [&] { p.set_value(f()); });
    return p.get_future().get();
  }
  result<ReadResponse> read(uint32_t id) {
    ReadRequest r;
    ReadValueId v;
    v.node_id = NodeId(id);
    r.nodes_to_read.push_back(v);
    return call<ReadResponse>(r);
  }

  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work;
  std::thread thread;
  std::shared_ptr<ua_client> client;
  test::temp_dir dir;
};

TEST_F(channel_it, renews_its_token_before_the_lifetime_ends_and_keeps_working) {
  test::node_opcua_server server(dir, 0, {"--items", "1"});
  ASSERT_TRUE(server.ok()) << server.why();
  connect(server.url(), 1000);
  auto lifetime = on_strand([&] { return client->channel()->revised_lifetime_ms(); });
  ASSERT_GT(lifetime, 0u);
  ASSERT_LE(lifetime, 10000u) << "the server did not accept a short lifetime";
  auto first_token = on_strand([&] { return client->channel()->token_id(); });
  // Keep the session busy across several lifetimes.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(lifetime * 3);
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = read(2258);
    ASSERT_TRUE(r) << r.error().reason;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_GE(on_strand([&] { return client->channel()->renewals(); }), 2u);
  EXPECT_NE(on_strand([&] { return client->channel()->token_id(); }), first_token);
  EXPECT_TRUE(on_strand([&] { return client->channel()->is_open(); }));
}

TEST_F(channel_it, translates_browse_paths_and_manages_subscriptions) {
  test::node_opcua_server server(dir, 0, {"--items", "5"});
  ASSERT_TRUE(server.ok()) << server.why();
  connect(server.url());
  TranslateBrowsePathsToNodeIdsRequest tr;
  BrowsePath path;
  path.starting_node = NodeId(85); // Objects
  RelativePathElement e1, e2;
  e1.reference_type_id = NodeId(33);
  e1.include_subtypes = true;
  e1.target_name = QualifiedName{1, String("Sim")};
  e2 = e1;
  e2.target_name = QualifiedName{1, String("Counter")};
  path.relative_path.elements.push_back(e1);
  path.relative_path.elements.push_back(e2);
  tr.browse_paths.push_back(path);
  auto t = call<TranslateBrowsePathsToNodeIdsResponse>(tr);
  ASSERT_TRUE(t) << t.error().reason;
  ASSERT_EQ(t->results.size(), 1u);
  ASSERT_FALSE(t->results[0].targets.empty()) << to_string(t->results[0].status_code);
  EXPECT_EQ(t->results[0].targets[0].target_id.node_id.to_string(), "ns=1;s=Sim.Counter");

  CreateSubscriptionRequest cs;
  cs.requested_publishing_interval = 100;
  auto sub = call<CreateSubscriptionResponse>(cs);
  ASSERT_TRUE(sub) << sub.error().reason;
  ModifySubscriptionRequest ms;
  ms.subscription_id = sub->subscription_id;
  ms.requested_publishing_interval = 200;
  ms.requested_lifetime_count = 60;
  ms.requested_max_keep_alive_count = 10;
  auto mod = call<ModifySubscriptionResponse>(ms);
  ASSERT_TRUE(mod) << mod.error().reason;
  EXPECT_EQ(mod->revised_publishing_interval, 200);
  SetPublishingModeRequest pm;
  pm.publishing_enabled = false;
  pm.subscription_ids.push_back(sub->subscription_id);
  auto pmr = call<SetPublishingModeResponse>(pm);
  ASSERT_TRUE(pmr) << pmr.error().reason;
  EXPECT_TRUE(pmr->results.at(0).is_good());
  CreateMonitoredItemsRequest ci;
  ci.subscription_id = sub->subscription_id;
  MonitoredItemCreateRequest item;
  item.item_to_monitor.node_id = *NodeId::parse("ns=1;s=Sim.Counter");
  item.monitoring_mode = MonitoringMode::Reporting;
  item.requested_parameters.sampling_interval = 100;
  ci.items_to_create.push_back(item);
  auto cr = call<CreateMonitoredItemsResponse>(ci);
  ASSERT_TRUE(cr) << cr.error().reason;
  ASSERT_TRUE(cr->results.at(0).status_code.is_good());
  auto id = cr->results[0].monitored_item_id;
  ModifyMonitoredItemsRequest mm;
  mm.subscription_id = sub->subscription_id;
  MonitoredItemModifyRequest mr;
  mr.monitored_item_id = id;
  mr.requested_parameters.sampling_interval = 500;
  mr.requested_parameters.queue_size = 5;
  mm.items_to_modify.push_back(mr);
  auto mmr = call<ModifyMonitoredItemsResponse>(mm);
  ASSERT_TRUE(mmr) << mmr.error().reason;
  EXPECT_TRUE(mmr->results.at(0).status_code.is_good());
  SetMonitoringModeRequest smm;
  smm.subscription_id = sub->subscription_id;
  smm.monitoring_mode = MonitoringMode::Sampling;
  smm.monitored_item_ids.push_back(id);
  auto smr = call<SetMonitoringModeResponse>(smm);
  ASSERT_TRUE(smr) << smr.error().reason;
  EXPECT_TRUE(smr->results.at(0).is_good());
  DeleteMonitoredItemsRequest dm;
  dm.subscription_id = sub->subscription_id;
  dm.monitored_item_ids.push_back(id);
  auto dmr = call<DeleteMonitoredItemsResponse>(dm);
  ASSERT_TRUE(dmr) << dmr.error().reason;
  EXPECT_TRUE(dmr->results.at(0).is_good());
  RepublishRequest rp;
  rp.subscription_id = sub->subscription_id;
  rp.retransmit_sequence_number = 12345;
  auto rpr = call<RepublishResponse>(rp);
  ASSERT_FALSE(rpr);
  EXPECT_EQ(rpr.error().code.code(), status::BadMessageNotAvailable.code()) << rpr.error().reason;
  DeleteSubscriptionsRequest ds;
  ds.subscription_ids.push_back(sub->subscription_id);
  auto dsr = call<DeleteSubscriptionsResponse>(ds);
  ASSERT_TRUE(dsr) << dsr.error().reason;
  EXPECT_TRUE(dsr->results.at(0).is_good());
  FindServersRequest fs;
  fs.endpoint_url = String(server.url());
  auto fsr = call<FindServersResponse>(fs);
  ASSERT_TRUE(fsr) << fsr.error().reason;
  ASSERT_FALSE(fsr->servers.empty());
  EXPECT_EQ(fsr->servers[0].application_uri.str(), "urn:tandem:interop:sim");
}

TEST_F(channel_it, browse_next_follows_continuation_points_to_the_end) {
  test::node_opcua_server server(dir, 0, {"--items", "25"});
  ASSERT_TRUE(server.ok()) << server.why();
  connect(server.url());
  BrowseRequest br;
  br.requested_max_references_per_node = 4;
  BrowseDescription d;
  d.node_id = *NodeId::parse("ns=1;s=Sim");
  d.reference_type_id = NodeId(33);
  d.include_subtypes = true;
  br.nodes_to_browse.push_back(d);
  auto r = call<BrowseResponse>(br);
  ASSERT_TRUE(r) << r.error().reason;
  std::set<std::string> names;
  for (auto& ref : r->results.at(0).references)
    names.insert(ref.browse_name.name.str());
  EXPECT_EQ(names.size(), 4u);
  auto cp = r->results[0].continuation_point;
  int rounds = 0;
  while (!cp.empty() && rounds++ < 100) {
    BrowseNextRequest next;
    next.continuation_points.push_back(cp);
    auto n = call<BrowseNextResponse>(next);
    ASSERT_TRUE(n) << n.error().reason;
    for (auto& ref : n->results.at(0).references)
      names.insert(ref.browse_name.name.str());
    cp = n->results[0].continuation_point;
  }
  EXPECT_GT(rounds, 5);
  EXPECT_TRUE(names.count("Counter"));
  EXPECT_TRUE(names.count("Item0000"));
  EXPECT_TRUE(names.count("Item0024"));
  EXPECT_GE(names.size(), 34u); // 9 Sim variables + 25 items
}

TEST_F(channel_it, a_data_change_filter_with_a_deadband_is_accepted_and_applied) {
  test::node_opcua_server server(dir, 0, {"--items", "1", "--rate-ms", "50"});
  ASSERT_TRUE(server.ok()) << server.why();
  connect(server.url());
  CreateSubscriptionRequest cs;
  cs.requested_publishing_interval = 100;
  auto sub = call<CreateSubscriptionResponse>(cs);
  ASSERT_TRUE(sub) << sub.error().reason;
  CreateMonitoredItemsRequest ci;
  ci.subscription_id = sub->subscription_id;
  MonitoredItemCreateRequest item;
  item.item_to_monitor.node_id = *NodeId::parse("ns=1;s=Sim.Counter");
  item.monitoring_mode = MonitoringMode::Reporting;
  item.requested_parameters.sampling_interval = 50;
  DataChangeFilter f;
  f.trigger = DataChangeTrigger::StatusValue;
  f.deadband_type = 1;    // absolute
  f.deadband_value = 1e9; // nothing the counter does in this test passes it
  item.requested_parameters.filter = *make_extension_object(f);
  ci.items_to_create.push_back(item);
  item.item_to_monitor.node_id = *NodeId::parse("ns=1;s=Sim.Ramp");
  item.requested_parameters.filter = ExtensionObject{};
  item.requested_parameters.client_handle = 1;
  ci.items_to_create.push_back(item);
  auto cr = call<CreateMonitoredItemsResponse>(ci);
  ASSERT_TRUE(cr) << cr.error().reason;
  ASSERT_TRUE(cr->results.at(0).status_code.is_good()) << to_string(cr->results[0].status_code);
  // Collect a second of notifications: the filtered counter reports its first value only.
  std::map<uint32_t, int> per_handle;
  auto until = std::chrono::steady_clock::now() + 1500ms;
  std::vector<SubscriptionAcknowledgement> acks;
  while (std::chrono::steady_clock::now() < until) {
    PublishRequest pr;
    pr.subscription_acknowledgements = acks;
    acks.clear();
    auto p = call<PublishResponse>(pr, 5000ms);
    ASSERT_TRUE(p) << p.error().reason;
    if (p->notification_message.notification_data.empty()) continue;
    acks.push_back({p->subscription_id, p->notification_message.sequence_number});
    for (auto& eo : p->notification_message.notification_data) {
      auto n = decode_notification(eo);
      ASSERT_TRUE(n);
      if (auto* dc = std::get_if<DataChangeNotification>(&*n))
        for (auto& mi : dc->monitored_items)
          ++per_handle[mi.client_handle];
    }
  }
  EXPECT_EQ(per_handle[0], 1) << "deadband not applied";
  EXPECT_GT(per_handle[1], 5) << "the unfiltered item kept reporting";
}

TEST_F(channel_it, a_request_the_server_does_not_answer_in_time_times_out_alone) {
  test::node_opcua_server server(dir, 0, {"--items", "1"});
  ASSERT_TRUE(server.ok()) << server.why();
  connect(server.url());
  server.proc().signal(SIGSTOP);
  auto t0 = std::chrono::steady_clock::now();
  ReadRequest r;
  ReadValueId v;
  v.node_id = NodeId(2258);
  r.nodes_to_read.push_back(v);
  auto res = call<ReadResponse>(r, 300ms);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code.code(), status::BadTimeout.code());
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 1500ms);
  server.proc().signal(SIGCONT);
  // The channel survived: the next request works (the late answer is dropped).
  auto again = read(2258);
  EXPECT_TRUE(again) << again.error().reason;
}

} // namespace
