// The server face's subscriptions, driven with raw bytes: data changes sampled from the address
// space, parked Publishes answered in order, keep-alives, acknowledgements, Republish, monitoring
// and publishing modes, DeleteSubscriptions answering parked Publishes first.

#include "server_fixture.hpp"

using namespace tandem::opcua;
using namespace tandem::opcua::test;
using namespace std::chrono_literals;

namespace {

class server_subscriptions : public server_fixture {
protected:
  using server_fixture::server_fixture;
  /// A subscription (`interval_ms`, keep-alive every `keep_alive` cycles) with one item on
  /// Sim.Counter.
  void subscribe(uint32_t keep_alive = 3, double interval_ms = 50) {
    c = ready_client();
    CreateSubscriptionRequest cs;
    cs.requested_publishing_interval = interval_ms;
    cs.requested_max_keep_alive_count = keep_alive;
    cs.requested_lifetime_count = 100;
    auto r = c->call(cs);
    ASSERT_TRUE(r.ok());
    auto* csr = std::get_if<CreateSubscriptionResponse>(&*r);
    ASSERT_NE(csr, nullptr);
    sub_id = csr->subscription_id;
    EXPECT_DOUBLE_EQ(csr->revised_publishing_interval, interval_ms);
    EXPECT_EQ(csr->revised_max_keep_alive_count, keep_alive);
    EXPECT_GE(csr->revised_lifetime_count, 3 * keep_alive);

    CreateMonitoredItemsRequest ci;
    ci.subscription_id = sub_id;
    MonitoredItemCreateRequest item;
    item.item_to_monitor.node_id = NodeId(1, String("Sim.Counter"));
    item.requested_parameters.client_handle = 7;
    item.requested_parameters.sampling_interval = 50;
    ci.items_to_create.push_back(item);
    MonitoredItemCreateRequest missing = item;
    missing.item_to_monitor.node_id = NodeId(1, String("Nope"));
    ci.items_to_create.push_back(missing);
    auto cr = c->call(ci);
    ASSERT_TRUE(cr.ok());
    auto* cmr = std::get_if<CreateMonitoredItemsResponse>(&*cr);
    ASSERT_NE(cmr, nullptr);
    ASSERT_EQ(cmr->results.size(), 2u);
    EXPECT_TRUE(cmr->results[0].status_code.is_good());
    EXPECT_EQ(cmr->results[1].status_code.code(), status::BadNodeIdUnknown.code());
    item_id = cmr->results[0].monitored_item_id;
  }

  PublishResponse publish(std::vector<uint32_t> acks = {}) {
    PublishRequest p;
    for (uint32_t seq : acks)
      p.subscription_acknowledgements.push_back({sub_id, seq});
    auto r = c->call(p);
    EXPECT_TRUE(r.ok());
    if (!r.ok()) return {};
    auto* pr = std::get_if<PublishResponse>(&*r);
    EXPECT_NE(pr, nullptr) << to_string(response_header(*r).service_result);
    return pr ? *pr : PublishResponse{};
  }

  static std::vector<MonitoredItemNotification> items_of(const PublishResponse& p) {
    std::vector<MonitoredItemNotification> out;
    for (const auto& eo : p.notification_message.notification_data) {
      auto n = decode_notification(eo);
      if (!n) continue;
      if (auto* dcn = std::get_if<DataChangeNotification>(&*n))
        out.insert(out.end(), dcn->monitored_items.begin(), dcn->monitored_items.end());
    }
    return out;
  }

  static bool overflow_bit(const MonitoredItemNotification& m) {
    return (m.value.status_or_good().value & 0x0480u) == 0x0480u;
  }

  static std::vector<int32_t> values_of(const PublishResponse& p) {
    std::vector<int32_t> out;
    for (const auto& eo : p.notification_message.notification_data) {
      auto n = decode_notification(eo);
      if (!n) continue;
      if (auto* dcn = std::get_if<DataChangeNotification>(&*n))
        for (const auto& m : dcn->monitored_items) {
          EXPECT_EQ(m.client_handle, 7u);
          out.push_back(*m.value.value->get_if<int32_t>());
        }
    }
    return out;
  }

  /// Sets the item's queue size (ModifyMonitoredItems).
  void set_queue_size(uint32_t size) {
    ModifyMonitoredItemsRequest m;
    m.subscription_id = sub_id;
    MonitoredItemModifyRequest mi;
    mi.monitored_item_id = item_id;
    mi.requested_parameters.client_handle = 7;
    mi.requested_parameters.queue_size = size;
    m.items_to_modify.push_back(mi);
    auto r = c->call(m);
    ASSERT_TRUE(r.ok());
    auto* mr = std::get_if<ModifyMonitoredItemsResponse>(&*r);
    ASSERT_NE(mr, nullptr);
    ASSERT_EQ(mr->results.size(), 1u);
    EXPECT_EQ(mr->results[0].revised_queue_size, size);
  }

  std::unique_ptr<raw_client> c;
  uint32_t sub_id = 0;
  uint32_t item_id = 0;
};

TEST_F(server_subscriptions, data_changes_are_published_and_acknowledged) {
  subscribe();
  auto first = publish();
  EXPECT_EQ(first.subscription_id, sub_id);
  EXPECT_EQ(values_of(first), std::vector<int32_t>{42});
  EXPECT_EQ(first.notification_message.sequence_number, 1u);

  space->set_value(NodeId(1, String("Sim.Counter")), DataValue(Variant(int32_t{43})));
  auto second = publish({1});
  EXPECT_EQ(values_of(second), std::vector<int32_t>{43});
  EXPECT_EQ(second.notification_message.sequence_number, 2u);
  ASSERT_EQ(second.results.size(), 1u);
  EXPECT_TRUE(second.results[0].is_good());
  EXPECT_EQ(second.available_sequence_numbers, Array<uint32_t>{2u});

  // Republish: the unacknowledged message is there, the acknowledged one is not.
  RepublishRequest rp;
  rp.subscription_id = sub_id;
  rp.retransmit_sequence_number = 2;
  auto again = c->call(rp);
  ASSERT_TRUE(again.ok());
  auto* rr = std::get_if<RepublishResponse>(&*again);
  ASSERT_NE(rr, nullptr);
  EXPECT_EQ(rr->notification_message.sequence_number, 2u);
  rp.retransmit_sequence_number = 1;
  EXPECT_EQ(fault_status(c->call(rp)).code(), status::BadMessageNotAvailable.code());

  // An unknown acknowledgement is reported per ack; no change: a keep-alive with the next number.
  auto keep_alive = publish({2, 99});
  ASSERT_EQ(keep_alive.results.size(), 2u);
  EXPECT_TRUE(keep_alive.results[0].is_good());
  EXPECT_EQ(keep_alive.results[1].code(), status::BadSequenceNumberUnknown.code());
  EXPECT_TRUE(keep_alive.notification_message.notification_data.empty());
  EXPECT_EQ(keep_alive.notification_message.sequence_number, 3u);
}

TEST_F(server_subscriptions, every_change_between_cycles_is_queued_in_order) {
  subscribe();
  EXPECT_EQ(values_of(publish()), std::vector<int32_t>{42});
  set_queue_size(3);
  // Five changes within one publishing cycle (the address space reports each one): the last
  // three fit the queue, oldest discarded, in the order they happened.
  for (int32_t v = 1; v <= 5; ++v)
    space->set_value(NodeId(1, String("Sim.Counter")), DataValue(Variant(v)));
  auto second = publish({1});
  EXPECT_EQ(values_of(second), (std::vector<int32_t>{3, 4, 5}));
  // The value after the lost ones carries the Overflow bit (Part 4 5.12.1.5); the others not.
  auto items = items_of(second);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_TRUE(overflow_bit(items[0]));
  EXPECT_FALSE(overflow_bit(items[1]));
  EXPECT_FALSE(overflow_bit(items[2]));
  // A repeated value is not a change.
  space->set_value(NodeId(1, String("Sim.Counter")), DataValue(Variant(int32_t{5})));
  space->set_value(NodeId(1, String("Sim.Counter")), DataValue(Variant(int32_t{6})));
  EXPECT_EQ(values_of(publish({2})), (std::vector<int32_t>{6}));
}

/// A proxy's space (like a pair's face): values arrive in bursts.
struct bursty_space : memory_address_space {
  bool spreads_bursts() const override { return true; }
};

class server_subscriptions_bursty : public server_subscriptions {
protected:
  server_subscriptions_bursty()
      : server_subscriptions(test_options(), std::make_shared<bursty_space>()) {}
};

// On a proxy's space, a burst larger than an item's queue (a failover's catch-up) is spread over
// the next publishing cycles while the client keeps publishing: every value, in order, none
// marked as lost. On a plain space the same burst loses the oldest (the test above).
TEST_F(server_subscriptions_bursty, a_burst_larger_than_the_queue_is_spread_over_cycles) {
  subscribe();
  EXPECT_EQ(values_of(publish()), std::vector<int32_t>{42});
  set_queue_size(3);
  for (int32_t v = 1; v <= 8; ++v)
    space->set_value(NodeId(1, String("Sim.Counter")), DataValue(Variant(v)));
  std::vector<int32_t> got;
  std::vector<uint32_t> acks{1};
  for (int i = 0; i < 10 && got.size() < 8; ++i) {
    auto r = publish(acks);
    auto items = items_of(r);
    EXPECT_LE(items.size(), 3u) << "more than the queue in one message";
    for (auto& m : items) {
      EXPECT_FALSE(overflow_bit(m)) << *m.value.value->get_if<int32_t>();
      got.push_back(*m.value.value->get_if<int32_t>());
    }
    acks = {r.notification_message.sequence_number};
  }
  EXPECT_EQ(got, (std::vector<int32_t>{1, 2, 3, 4, 5, 6, 7, 8}));
}

// A client that stops publishing gets what its discard policy says, not values from long ago:
// after a few cycles without a Publish the held values go into the queue, the oldest discarded.
TEST_F(server_subscriptions_bursty, a_client_that_stops_publishing_gets_the_newest) {
  subscribe();
  EXPECT_EQ(values_of(publish()), std::vector<int32_t>{42});
  set_queue_size(3);
  for (int32_t v = 1; v <= 8; ++v)
    space->set_value(NodeId(1, String("Sim.Counter")), DataValue(Variant(v)));
  std::this_thread::sleep_for(1s); // 20 publishing cycles of 50 ms without a Publish
  auto items = items_of(publish({1}));
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(*items[0].value.value->get_if<int32_t>(), 6);
  EXPECT_EQ(*items[2].value.value->get_if<int32_t>(), 8);
  EXPECT_TRUE(overflow_bit(items[0]));
}

// A client that falls behind costs bounded memory: the subscription's change inbox holds at most
// its total queue size (at least 1024) between two cycles; past that it stops taking changes and
// the next cycle reads the current value instead, marked with the Overflow bit.
TEST_F(server_subscriptions, the_change_inbox_is_bounded_and_ends_on_the_current_value) {
  subscribe(3, 500); // a long cycle: all the changes below land between two cycles
  EXPECT_EQ(values_of(publish()), std::vector<int32_t>{42});
  set_queue_size(3);
  for (int32_t v = 1; v <= 5000; ++v)
    space->set_value(NodeId(1, String("Sim.Counter")), DataValue(Variant(v)));
  auto items = items_of(publish({1}));
  ASSERT_EQ(items.size(), 3u);
  // The inbox kept the first 1024 changes; the queue the last three of those, then the value
  // read after the overflow: the current one, marked.
  EXPECT_EQ(*items[0].value.value->get_if<int32_t>(), 1023);
  EXPECT_EQ(*items[1].value.value->get_if<int32_t>(), 1024);
  EXPECT_EQ(*items[2].value.value->get_if<int32_t>(), 5000);
  EXPECT_TRUE(overflow_bit(items[2]));
}

// A publishing cycle larger than the client's maximum response goes out in several
// NotificationMessages that each fit, announced by moreNotifications, and nothing is lost.
TEST_F(server_subscriptions, a_cycle_larger_than_the_clients_limit_is_split_across_publishes) {
  constexpr int items = 600;
  constexpr uint32_t max_response = 16384;
  for (int i = 0; i < items; ++i)
    ASSERT_TRUE(space->add_variable(NodeId(1, String("Sim.Big" + std::to_string(i))),
                                    NodeId(1, String("Sim")), {1, "Big" + std::to_string(i)},
                                    Variant(String(std::string(200, 'a' + i % 26)))));
  c = std::make_unique<raw_client>(port);
  ASSERT_TRUE(c->hello(url()));
  ASSERT_TRUE(c->open().ok());
  c->session(60000, "urn:tandem:test", max_response);
  CreateSubscriptionRequest cs;
  cs.requested_publishing_interval = 50;
  cs.requested_lifetime_count = 100;
  auto r = c->call(cs);
  ASSERT_TRUE(r.ok());
  sub_id = std::get<CreateSubscriptionResponse>(*r).subscription_id;
  CreateMonitoredItemsRequest ci;
  ci.subscription_id = sub_id;
  for (int i = 0; i < items; ++i) {
    MonitoredItemCreateRequest item;
    item.item_to_monitor.node_id = NodeId(1, String("Sim.Big" + std::to_string(i)));
    item.requested_parameters.client_handle = static_cast<uint32_t>(i);
    ci.items_to_create.push_back(item);
  }
  ASSERT_TRUE(c->call(ci).ok());

  std::vector<int> seen(items, 0);
  int messages = 0, total = 0;
  bool more = true;
  while (more && messages < 100) {
    c->send_request(PublishRequest{});
    auto m = c->read_message();
    ASSERT_TRUE(m.ok());
    EXPECT_LE(m->body.size(), max_response);
    auto p = decode_response(byte_span(m->body));
    ASSERT_TRUE(p.ok());
    auto* pr = std::get_if<PublishResponse>(&*p);
    ASSERT_NE(pr, nullptr) << to_string(response_header(*p).service_result);
    ++messages;
    more = pr->more_notifications;
    for (const auto& n : items_of(*pr)) {
      ASSERT_LT(n.client_handle, static_cast<uint32_t>(items));
      ++seen[n.client_handle];
      ++total;
    }
  }
  EXPECT_FALSE(more);
  EXPECT_EQ(total, items);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), items);
  EXPECT_GE(messages, 8); // 600 x about 215 bytes in messages of at most 16 KiB
}

TEST_F(server_subscriptions, parked_publishes_are_answered_in_order) {
  subscribe();
  PublishRequest p;
  c->send_request(p);
  c->send_request(p);
  c->send_request(p);
  std::vector<uint32_t> ids;
  for (int i = 0; i < 3; ++i) {
    auto m = c->read_message();
    ASSERT_TRUE(m.ok());
    ids.push_back(m->request_id);
    space->set_value(NodeId(1, String("Sim.Counter")), DataValue(Variant(int32_t{100 + i})));
  }
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(ids.back() - ids.front(), 2u);
}

TEST_F(server_subscriptions, monitoring_and_publishing_modes_stop_and_resume_data) {
  subscribe(2);
  EXPECT_EQ(values_of(publish()), std::vector<int32_t>{42});

  SetMonitoringModeRequest off;
  off.subscription_id = sub_id;
  off.monitoring_mode = MonitoringMode::Disabled;
  off.monitored_item_ids = {item_id, 999};
  auto r = c->call(off);
  ASSERT_TRUE(r.ok());
  auto* smr = std::get_if<SetMonitoringModeResponse>(&*r);
  ASSERT_NE(smr, nullptr);
  EXPECT_TRUE(smr->results.at(0).is_good());
  EXPECT_EQ(smr->results.at(1).code(), status::BadMonitoredItemIdInvalid.code());
  space->set_value(NodeId(1, String("Sim.Counter")), DataValue(Variant(int32_t{50})));
  EXPECT_TRUE(values_of(publish()).empty()); // keep-alive

  SetMonitoringModeRequest on = off;
  on.monitoring_mode = MonitoringMode::Reporting;
  on.monitored_item_ids = {item_id};
  ASSERT_TRUE(c->call(on).ok());
  EXPECT_EQ(values_of(publish()), std::vector<int32_t>{50});

  SetPublishingModeRequest pause;
  pause.publishing_enabled = false;
  pause.subscription_ids = {sub_id};
  ASSERT_TRUE(c->call(pause).ok());
  space->set_value(NodeId(1, String("Sim.Counter")), DataValue(Variant(int32_t{51})));
  EXPECT_TRUE(values_of(publish()).empty());
  pause.publishing_enabled = true;
  ASSERT_TRUE(c->call(pause).ok());
  EXPECT_EQ(values_of(publish()), std::vector<int32_t>{51});
}

// What a cycle publishes is found from the items that hold values, not by walking every item:
// the notifications still come in item order, an item deleted while it held a value is gone
// from the next message, and a Sampling item's queued value goes out once it reports again.
TEST_F(server_subscriptions, only_items_holding_values_are_published_in_item_order) {
  subscribe(3, 20);
  CreateMonitoredItemsRequest ci;
  ci.subscription_id = sub_id;
  for (auto [node, handle] : {std::pair<const char*, uint32_t>{"Sim.Setpoint", 8},
                              std::pair<const char*, uint32_t>{"Sim.Counter", 9}}) {
    MonitoredItemCreateRequest item;
    item.item_to_monitor.node_id = NodeId(1, String(node));
    item.requested_parameters.client_handle = handle;
    ci.items_to_create.push_back(item);
  }
  auto cr = c->call(ci);
  ASSERT_TRUE(cr.ok());
  auto* cmr = std::get_if<CreateMonitoredItemsResponse>(&*cr);
  ASSERT_NE(cmr, nullptr);
  ASSERT_EQ(cmr->results.size(), 2u);
  const uint32_t setpoint_item = cmr->results[0].monitored_item_id;
  const uint32_t second_counter = cmr->results[1].monitored_item_id;
  auto handles = [](const PublishResponse& p) {
    std::vector<uint32_t> out;
    for (auto& m : items_of(p))
      out.push_back(m.client_handle);
    return out;
  };
  // The first values: the first item's may come alone (created earlier), then the others.
  std::vector<uint32_t> first;
  for (int i = 0; i < 3 && first.size() < 3; ++i) {
    auto h = handles(publish());
    first.insert(first.end(), h.begin(), h.end());
  }
  EXPECT_EQ(first, (std::vector<uint32_t>{7, 8, 9}));

  // Changes on all three items; the one on the second counter is deleted before the cycle.
  space->set_value(NodeId(1, String("Sim.Setpoint")), DataValue(Variant(2.5)));
  space->set_value(NodeId(1, String("Sim.Counter")), DataValue(Variant(int32_t{43})));
  DeleteMonitoredItemsRequest del;
  del.subscription_id = sub_id;
  del.monitored_item_ids = {second_counter};
  ASSERT_TRUE(c->call(del).ok());
  EXPECT_EQ(handles(publish()), (std::vector<uint32_t>{7, 8}));

  // Sampling: the setpoint's change waits in its queue; the counter's goes out alone.
  SetMonitoringModeRequest sampling;
  sampling.subscription_id = sub_id;
  sampling.monitoring_mode = MonitoringMode::Sampling;
  sampling.monitored_item_ids = {setpoint_item};
  ASSERT_TRUE(c->call(sampling).ok());
  space->set_value(NodeId(1, String("Sim.Setpoint")), DataValue(Variant(3.5)));
  space->set_value(NodeId(1, String("Sim.Counter")), DataValue(Variant(int32_t{44})));
  EXPECT_EQ(handles(publish()), (std::vector<uint32_t>{7}));
  auto reporting = sampling;
  reporting.monitoring_mode = MonitoringMode::Reporting;
  ASSERT_TRUE(c->call(reporting).ok());
  auto after = publish();
  ASSERT_EQ(handles(after), (std::vector<uint32_t>{8}));
  EXPECT_EQ(items_of(after)[0].value.value, Variant(3.5));
  // Nothing held any more: a keep-alive.
  EXPECT_TRUE(publish().notification_message.notification_data.empty());
}

TEST_F(server_subscriptions, delete_subscriptions_answers_parked_publishes_first) {
  subscribe(1000);
  EXPECT_EQ(values_of(publish()), std::vector<int32_t>{42});
  PublishRequest p;
  c->send_request(p); // parked: nothing changes and the keep-alive is far away
  std::this_thread::sleep_for(100ms);
  DeleteSubscriptionsRequest del;
  del.subscription_ids = {sub_id, 12345};
  c->send_request(del);
  auto first = c->read_message();
  ASSERT_TRUE(first.ok());
  auto parked = decode_response(byte_span(first->body));
  ASSERT_TRUE(parked.ok());
  EXPECT_EQ(response_header(*parked).service_result.code(), status::BadNoSubscription.code());
  auto second = c->read_message();
  ASSERT_TRUE(second.ok());
  auto dr = decode_response(byte_span(second->body));
  ASSERT_TRUE(dr.ok());
  auto* dsr = std::get_if<DeleteSubscriptionsResponse>(&*dr);
  ASSERT_NE(dsr, nullptr);
  EXPECT_TRUE(dsr->results.at(0).is_good());
  EXPECT_EQ(dsr->results.at(1).code(), status::BadSubscriptionIdInvalid.code());
  EXPECT_EQ(fault_status(c->call(p)).code(), status::BadNoSubscription.code());
}

TEST_F(server_subscriptions, a_timed_out_session_takes_its_subscriptions_with_it) {
  c = std::make_unique<raw_client>(port);
  ASSERT_TRUE(c->hello(url()));
  ASSERT_TRUE(c->open().ok());
  c->session(150);
  CreateSubscriptionRequest cs;
  cs.requested_publishing_interval = 50;
  ASSERT_TRUE(fault_status(c->call(cs)).is_good());
  EXPECT_EQ(server->session_count(), 1u);
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(server->session_count(), 0u);
}

TEST_F(server_subscriptions, transfer_moves_a_subscription_to_another_session) {
  subscribe();
  EXPECT_EQ(values_of(publish()), std::vector<int32_t>{42});
  auto other = ready_client();
  TransferSubscriptionsRequest t;
  t.subscription_ids = {sub_id, 999};
  t.send_initial_values = true;
  auto r = other->call(t);
  ASSERT_TRUE(r.ok());
  auto* tr = std::get_if<TransferSubscriptionsResponse>(&*r);
  ASSERT_NE(tr, nullptr);
  ASSERT_EQ(tr->results.size(), 2u);
  EXPECT_TRUE(tr->results[0].status_code.is_good());
  EXPECT_EQ(tr->results[0].available_sequence_numbers, Array<uint32_t>{1u});
  EXPECT_EQ(tr->results[1].status_code.code(), status::BadSubscriptionIdInvalid.code());

  // The new owner gets the current value again; the old session has nothing left.
  PublishRequest p;
  auto pr = other->call(p);
  ASSERT_TRUE(pr.ok());
  auto* resp = std::get_if<PublishResponse>(&*pr);
  ASSERT_NE(resp, nullptr);
  EXPECT_EQ(resp->subscription_id, sub_id);
  EXPECT_EQ(values_of(*resp), std::vector<int32_t>{42});
  EXPECT_EQ(fault_status(c->call(p)).code(), status::BadNoSubscription.code());
}

// Part 4 5.14.7: an anonymous session may take over only the subscriptions of the same client
// application, so another program on the network cannot steal a client's data by guessing ids.
TEST_F(server_subscriptions, transfer_to_another_client_application_is_refused) {
  subscribe();
  EXPECT_EQ(values_of(publish()), std::vector<int32_t>{42});
  auto thief = ready_client("urn:somebody:else");
  TransferSubscriptionsRequest t;
  t.subscription_ids = {sub_id};
  auto r = thief->call(t);
  ASSERT_TRUE(r.ok());
  auto* tr = std::get_if<TransferSubscriptionsResponse>(&*r);
  ASSERT_NE(tr, nullptr);
  ASSERT_EQ(tr->results.size(), 1u);
  EXPECT_EQ(tr->results[0].status_code.code(), status::BadUserAccessDenied.code());
  // The owner keeps it: a write still reaches the owner's Publish.
  ASSERT_TRUE(space->set_value(NodeId(1, String("Sim.Counter")), DataValue(Variant(int32_t{43}))));
  EXPECT_EQ(values_of(publish()), std::vector<int32_t>{43});
}

TEST_F(server_subscriptions, unknown_subscription_ids_are_refused) {
  auto cl = ready_client();
  CreateMonitoredItemsRequest ci;
  ci.subscription_id = 4242;
  ci.items_to_create.push_back(MonitoredItemCreateRequest{});
  EXPECT_EQ(fault_status(cl->call(ci)).code(), status::BadSubscriptionIdInvalid.code());
  RepublishRequest rp;
  rp.subscription_id = 4242;
  EXPECT_EQ(fault_status(cl->call(rp)).code(), status::BadSubscriptionIdInvalid.code());
}

} // namespace
