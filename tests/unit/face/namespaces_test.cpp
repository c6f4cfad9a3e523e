// Namespace indexes between a pair's face and servers that order their namespaces differently:
// the translation of requests, responses and values, and the pair's own NamespaceArray.

#include <algorithm>

#include <gtest/gtest.h>

#include "transports/opcua/face/namespaces.hpp"
#include "transports/opcua/face/pair_space.hpp"

using namespace tandem::opcua;

namespace {

const std::string ua = "http://opcfoundation.org/UA/";

TEST(namespace_map, equal_arrays_are_the_identity) {
  namespace_map m({ua, "urn:face", "urn:plc", "urn:di"}, {ua, "urn:server", "urn:plc", "urn:di"});
  EXPECT_TRUE(m.identity());
  EXPECT_EQ(m.to_server(3), 3);
}

TEST(namespace_map, indexes_from_two_on_map_by_uri_and_one_maps_to_one) {
  // The server's own namespace (1) has another URI on each server by design: it still maps 1:1.
  namespace_map m({ua, "urn:face", "urn:plc", "urn:di"}, {ua, "urn:other", "urn:di", "urn:plc"});
  EXPECT_FALSE(m.identity());
  EXPECT_EQ(m.to_server(0), 0);
  EXPECT_EQ(m.to_server(1), 1);
  EXPECT_EQ(m.to_server(2), 3);
  EXPECT_EQ(m.to_server(3), 2);
  EXPECT_EQ(m.to_face(2), 3);
  EXPECT_EQ(m.to_face(3), 2);
}

TEST(namespace_map, a_namespace_the_server_lacks_maps_to_an_index_it_will_refuse) {
  namespace_map m({ua, "urn:face", "urn:plc", "urn:only-primary"}, {ua, "urn:s", "urn:plc"});
  EXPECT_EQ(m.to_server(3), namespace_map::missing);
  EXPECT_EQ(m.to_server(9), namespace_map::missing);
}

TEST(namespace_map, requests_and_responses_are_translated_everywhere_but_headers) {
  namespace_map m({ua, "urn:face", "urn:a", "urn:b"}, {ua, "urn:s", "urn:b", "urn:a"});
  ReadRequest r;
  r.request_header.authentication_token = NodeId(2, 77u); // a session token: left alone
  ReadValueId v;
  v.node_id = NodeId(2, String("Tag1"));
  r.nodes_to_read.push_back(v);
  v.node_id = NodeId(3, String("Tag2"));
  r.nodes_to_read.push_back(v);
  Request req(r);
  m.to_server(req);
  const auto& out = std::get<ReadRequest>(req);
  EXPECT_EQ(out.request_header.authentication_token.namespace_index, 2);
  EXPECT_EQ(out.nodes_to_read[0].node_id.namespace_index, 3);
  EXPECT_EQ(out.nodes_to_read[1].node_id.namespace_index, 2);

  BrowseResponse b;
  BrowseResult br;
  ReferenceDescription d;
  d.reference_type_id = NodeId(35);
  d.node_id = ExpandedNodeId(NodeId(2, String("Folder")));
  d.browse_name = QualifiedName{3, String("Folder")};
  d.type_definition = ExpandedNodeId(NodeId(61));
  br.references.push_back(d);
  b.results.push_back(br);
  Response resp(b);
  m.to_face(resp);
  const auto& got = std::get<BrowseResponse>(resp).results[0].references[0];
  EXPECT_EQ(got.node_id.node_id.namespace_index, 3);
  EXPECT_EQ(got.browse_name.namespace_index, 2);
  EXPECT_EQ(got.reference_type_id.namespace_index, 0);

  // Values: a DataType read (NodeId), an array of QualifiedNames, a Variant array.
  DataValue dv(Variant(NodeId(2, 3001u)));
  m.to_face(dv);
  EXPECT_EQ(dv.value->get_if<NodeId>()->namespace_index, 3);
  DataValue names(Variant(Array<QualifiedName>{{2, "x"}, {3, "y"}}));
  m.to_face(names);
  EXPECT_EQ((*names.value->get_if<Array<QualifiedName>>())[0].namespace_index, 3);
  EXPECT_EQ((*names.value->get_if<Array<QualifiedName>>())[1].namespace_index, 2);
  DataValue nested(Variant(Array<Variant>{Variant(NodeId(3, 1u)), Variant(int32_t{5})}));
  m.to_face(nested);
  EXPECT_EQ((*nested.value->get_if<Array<Variant>>())[0].get_if<NodeId>()->namespace_index, 2);
}

TEST(learn_namespaces, appends_unknown_uris_in_order_and_never_reorders) {
  std::vector<std::string> face{ua, "urn:face"};
  EXPECT_TRUE(learn_namespaces(face, {ua, "urn:p", "urn:a", "urn:b"}));
  EXPECT_FALSE(learn_namespaces(face, {ua, "urn:p", "urn:a", "urn:b"}));
  EXPECT_TRUE(learn_namespaces(face, {ua, "urn:s", "urn:c", "urn:b", "urn:a"}));
  EXPECT_EQ(face, (std::vector<std::string>{ua, "urn:face", "urn:a", "urn:b", "urn:c"}));
}

/// A server seen through its forwarder: its NamespaceArray, and it records what it was asked
/// and answers Reads with the NodeId it was asked for as the value.
class fake_server : public request_forwarder {
public:
  explicit fake_server(std::vector<std::string> ns)
      : ns_(std::make_shared<std::vector<std::string>>(std::move(ns))) {}
  void forward(Request req, std::function<void(Response)> done) override {
    if (auto* b = std::get_if<BrowseRequest>(&req)) {
      BrowseResponse resp; // Objects holds one folder of the server's
      for (const auto& d : b->nodes_to_browse) {
        asked.push_back(d.node_id);
        BrowseResult r;
        ReferenceDescription ref;
        ref.reference_type_id = NodeId(node_ids::Organizes);
        ref.node_id = ExpandedNodeId(NodeId(2, String("Plant")));
        ref.browse_name = QualifiedName{2, "Plant"};
        ref.node_class = NodeClass::Object;
        r.references.push_back(ref);
        resp.results.push_back(r);
      }
      return done(Response(std::move(resp)));
    }
    auto& r = std::get<ReadRequest>(req);
    ReadResponse resp;
    for (const auto& n : r.nodes_to_read) {
      asked.push_back(n.node_id);
      resp.results.push_back(DataValue(Variant(n.node_id)));
    }
    done(Response(std::move(resp)));
  }
  std::shared_ptr<const std::vector<std::string>> namespaces() const override { return ns_; }
  std::vector<NodeId> asked;

private:
  std::shared_ptr<const std::vector<std::string>> ns_;
};

ReadResponse read_through(pair_space& face, std::vector<NodeId> nodes) {
  ReadRequest r;
  for (auto& n : nodes) {
    ReadValueId v;
    v.node_id = n;
    r.nodes_to_read.push_back(v);
  }
  ReadResponse out;
  face.forward(Request(r), [&](Response resp) { out = std::get<ReadResponse>(resp); });
  return out;
}

TEST(pair_space_namespaces, a_failover_to_a_server_with_another_order_keeps_every_index) {
  pair_space_options o;
  o.alias = "line1";
  o.application_uri = "urn:tandem:node:line1";
  pair_space face(o);
  auto primary = std::make_shared<fake_server>(
      std::vector<std::string>{ua, "urn:primary", "urn:plc", "urn:di"});
  auto secondary = std::make_shared<fake_server>(
      std::vector<std::string>{ua, "urn:secondary", "urn:di", "urn:plc", "urn:extra"});
  face.set_forwarder(0, primary);
  face.set_forwarder(1, secondary);
  face.set_active(0);

  // The pair's NamespaceArray: the primary's order, then what only the secondary has.
  auto ns = read_through(face, {NodeId(node_ids::Server_NamespaceArray)});
  ASSERT_EQ(ns.results.size(), 1u);
  auto* uris = ns.results[0].value->get_if<Array<String>>();
  ASSERT_NE(uris, nullptr);
  std::vector<std::string> got;
  for (auto& u : *uris)
    got.push_back(u.str());
  // (then the Tandem folder's namespace, after the servers' so their indexes stay theirs)
  EXPECT_EQ(got, (std::vector<std::string>{ua, "urn:tandem:node:line1", "urn:plc", "urn:di",
                                           "urn:extra", pair_space::tandem_uri}));

  // The same client request before and after the failover reaches the same namespace.
  auto before = read_through(face, {NodeId(2, String("PLC1.Level"))});
  EXPECT_EQ(primary->asked.back().namespace_index, 2);
  EXPECT_EQ(before.results[0].value->get_if<NodeId>()->namespace_index, 2);
  face.set_active(1);
  auto after = read_through(face, {NodeId(2, String("PLC1.Level"))});
  EXPECT_EQ(secondary->asked.back().namespace_index, 3); // "urn:plc" is index 3 there
  EXPECT_EQ(after.results[0].value->get_if<NodeId>()->namespace_index, 2);

  // Items are asked for upstream by URI, so each server resolves its own index.
  std::vector<pair_space::wanted_item> wanted;
  face.set_item_listener([&](std::vector<pair_space::wanted_item> w) {
    wanted.insert(wanted.end(), w.begin(), w.end());
  });
  face.watch(NodeId(3, String("Device.Temp")), attribute_id::Value, [](const DataValue&) {});
  face.watch(NodeId(1, String("Local")), attribute_id::Value, [](const DataValue&) {});
  ASSERT_EQ(wanted.size(), 2u);
  EXPECT_EQ(wanted[0].node_id, "nsu=urn:di;s=Device.Temp");
  EXPECT_EQ(wanted[1].node_id, "ns=1;s=Local");
}

// The pair's Tandem folder: its own namespace after the servers', browsed and read here, next
// to the server's own nodes under Objects, and its values follow the PAIR's.
TEST(pair_space_tandem_folder, objects_has_a_tandem_folder_whose_values_follow_the_pair) {
  pair_space_options o;
  o.alias = "line1";
  o.application_uri = "urn:tandem:node:line1";
  pair_space face(o);
  auto primary = std::make_shared<fake_server>(std::vector<std::string>{ua, "urn:p", "urn:plc"});
  face.set_forwarder(0, primary);
  face.set_active(0);

  auto ns = read_through(face, {NodeId(node_ids::Server_NamespaceArray)});
  auto* uris = ns.results[0].value->get_if<Array<String>>();
  ASSERT_NE(uris, nullptr);
  ASSERT_EQ(uris->size(), 4u); // UA, the face's, the server's urn:plc, then Tandem's
  EXPECT_EQ((*uris)[2].str(), "urn:plc");
  EXPECT_EQ((*uris)[3].str(), pair_space::tandem_uri);
  const uint16_t t = 3;

  auto browse = [&](NodeId node) {
    BrowseRequest b;
    BrowseDescription d;
    d.node_id = std::move(node);
    d.reference_type_id = NodeId(node_ids::HierarchicalReferences);
    d.include_subtypes = true;
    b.nodes_to_browse.push_back(d);
    BrowseResponse out;
    face.forward(Request(b), [&](Response r) { out = std::get<BrowseResponse>(r); });
    return out;
  };
  auto objects = browse(NodeId(node_ids::ObjectsFolder));
  ASSERT_EQ(objects.results.size(), 1u);
  std::vector<std::string> names;
  for (auto& r : objects.results[0].references)
    names.push_back(std::to_string(r.browse_name.namespace_index) + ":" + r.browse_name.name.str());
  EXPECT_EQ(names, (std::vector<std::string>{"2:Plant", "3:Tandem"}));

  auto folder = browse(NodeId(t, String("Tandem")));
  ASSERT_EQ(folder.results.size(), 1u);
  names.clear();
  for (auto& r : folder.results[0].references) {
    EXPECT_EQ(r.node_id.node_id.namespace_index, t);
    names.push_back(r.browse_name.name.str());
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"Mode", "ActiveServer", "PrimaryState", "SecondaryState",
                                      "FailoverCount", "LastFailoverTime", "LastFailoverFrom",
                                      "LastFailoverTo", "LastFailoverCause"}));
  // Only Objects went upstream: the folder's own nodes are answered here.
  EXPECT_EQ(primary->asked.back(), NodeId(node_ids::ObjectsFolder));

  std::vector<uint32_t> counts;
  face.watch(NodeId(t, String("Tandem.FailoverCount")), attribute_id::Value,
             [&](const DataValue& dv) { counts.push_back(*dv.value->get_if<uint32_t>()); });
  pair_info info;
  info.mode = "hot";
  info.active = "secondary";
  info.primary_state = "lost";
  info.secondary_state = "connected";
  info.failovers = 1;
  info.last_failover_ms = 1700000000000;
  info.last_failover_from = "primary";
  info.last_failover_to = "secondary";
  info.last_failover_cause = "connection_lost";
  face.set_pair_info(info);
  EXPECT_EQ(counts, std::vector<uint32_t>{1});
  auto values = read_through(face, {NodeId(t, String("Tandem.ActiveServer")),
                                    NodeId(t, String("Tandem.LastFailoverCause")),
                                    NodeId(t, String("Tandem.LastFailoverTime")),
                                    NodeId(2, String("PLC1.Level"))});
  ASSERT_EQ(values.results.size(), 4u);
  EXPECT_EQ(values.results[0].value->get_if<String>()->str(), "secondary");
  EXPECT_EQ(values.results[1].value->get_if<String>()->str(), "connection_lost");
  EXPECT_EQ(values.results[2].value->get_if<DateTime>()->to_unix_ms(), 1700000000000);
  EXPECT_EQ(values.results[3].value->get_if<NodeId>()->namespace_index, 2); // went upstream
  EXPECT_EQ(primary->asked.back(), NodeId(2, String("PLC1.Level")));
}

} // namespace

// The partner node's clients' items (SYNC's ITEMS): watched here without a client, by URI, so a
// takeover finds them monitored; a client that comes later gets the same item, and its value.
TEST(pair_space_prewatch, the_partners_items_become_items_here_once_their_namespace_is_known) {
  pair_space_options o;
  o.alias = "line1";
  pair_space face(o);
  std::vector<pair_space::wanted_item> wanted;
  face.set_item_listener([&](std::vector<pair_space::wanted_item> w) {
    wanted.insert(wanted.end(), w.begin(), w.end());
  });
  // No server has shown its namespaces yet: the "nsu=" item waits, the others do not.
  EXPECT_EQ(face.prewatch(
                {"nsu=urn:plc;s=PLC1.Level", "i=2258", "ns=1;s=Local", "nonsense=1", "svr=1;i=85"}),
            2u);
  ASSERT_EQ(wanted.size(), 2u);
  EXPECT_EQ(wanted[0].node_id, "i=2258");
  EXPECT_EQ(wanted[1].node_id, "ns=1;s=Local");
  EXPECT_EQ(face.prewatch_pending(), 1u);

  // The primary shows its namespaces (the PAIR calls set_active as servers come and go).
  auto primary = std::make_shared<fake_server>(
      std::vector<std::string>{ua, "urn:primary", "urn:di", "urn:plc"});
  face.set_forwarder(0, primary);
  face.set_active(0);
  EXPECT_EQ(face.prewatch_pending(), 0u);
  ASSERT_EQ(wanted.size(), 3u);
  EXPECT_EQ(wanted[2].node_id, "nsu=urn:plc;s=PLC1.Level");
  uint32_t handle = wanted[2].handle;

  // Told again (a reconnect of the partner link), nothing new is asked for.
  face.prewatch({"nsu=urn:plc;s=PLC1.Level", "i=2258"});
  EXPECT_EQ(wanted.size(), 3u);

  // The value arrives before any client; a client watching the node later (index 3 in the face,
  // as in the primary's array) gets that item: no new one upstream, and the value is there.
  tandem::item_update u;
  u.handle = handle;
  writer w(u.value);
  encode(w, DataValue(Variant(42.5)));
  face.deliver({u});
  face.watch(NodeId(3, String("PLC1.Level")), attribute_id::Value, [](const DataValue&) {});
  EXPECT_EQ(wanted.size(), 3u);
  auto dv = face.read(NodeId(3, String("PLC1.Level")), attribute_id::Value);
  ASSERT_TRUE(dv.value.has_value());
  ASSERT_NE(dv.value->get_if<double>(), nullptr);
  EXPECT_EQ(*dv.value->get_if<double>(), 42.5);
}

namespace {

/// A face that records what it asks the PAIR for and what its clients begin to watch.
struct recording_face {
  recording_face() : face(options()) {
    face.set_item_listener([this](std::vector<pair_space::wanted_item> w) {
      wanted.insert(wanted.end(), w.begin(), w.end());
    });
    face.set_client_listener([this](std::vector<std::string> ids) {
      begun.insert(begun.end(), ids.begin(), ids.end());
    });
  }
  static pair_space_options options() {
    pair_space_options o;
    o.alias = "line1";
    return o;
  }
  uint64_t watch(const std::string& text) {
    auto node = NodeId::parse(text);
    EXPECT_TRUE(node);
    return face.watch(*node, attribute_id::Value, [](const DataValue&) {});
  }
  uint32_t handle_of(const std::string& text) const {
    for (auto& w : wanted)
      if (w.node_id == text) return w.handle;
    return 0;
  }
  /// `n` sweeps of a linger of `sweeps`: the handles forgotten, and the texts no client here
  /// watches any more in `ended`.
  std::vector<uint32_t> sweep(int n, uint32_t sweeps, std::vector<std::string>& ended) {
    std::vector<uint32_t> gone;
    for (int i = 0; i < n; ++i) {
      auto g = face.collect_unwatched(sweeps, &ended);
      gone.insert(gone.end(), g.begin(), g.end());
    }
    return gone;
  }
  pair_space face;
  std::vector<pair_space::wanted_item> wanted;
  std::vector<std::string> begun;
};

} // namespace

// The partner's clients no longer watch an item (SYNC's GONE): the face stops watching it for
// the partner. An item a client here watches stays; one no client here watches is deleted after
// the full linger from that moment, and the partner is not told of it (it was never this node's
// clients').
TEST(pair_space_prewatch,
     an_item_the_partner_gave_up_is_swept_after_the_linger_unless_a_client_here_watches_it) {
  recording_face f;
  f.face.prewatch({"ns=1;s=A", "ns=1;s=B"});
  ASSERT_EQ(f.wanted.size(), 2u);
  EXPECT_TRUE(f.begun.empty()); // the partner's items are not this node's clients'
  uint32_t a = f.handle_of("ns=1;s=A");
  uint64_t client = f.watch("ns=1;s=B");
  EXPECT_EQ(f.begun, (std::vector<std::string>{"ns=1;s=B"}));
  std::vector<std::string> ended;
  EXPECT_TRUE(f.sweep(10, 3, ended).empty()); // watched for the partner: kept
  EXPECT_TRUE(ended.empty());

  EXPECT_EQ(f.face.unprewatch({"ns=1;s=A", "ns=1;s=B", "ns=1;s=Z", "nonsense"}), 2u);
  EXPECT_TRUE(f.face.partner_items().empty());
  EXPECT_TRUE(f.sweep(2, 3, ended).empty()); // the linger runs from the GONE
  EXPECT_EQ(f.sweep(1, 3, ended), (std::vector<uint32_t>{a}));
  EXPECT_TRUE(ended.empty()) << "the partner is not told of what it gave up";
  EXPECT_TRUE(f.sweep(10, 3, ended).empty()); // B: a client here watches it
  EXPECT_EQ(f.face.client_items(), (std::vector<std::string>{"ns=1;s=B"}));

  // The client leaves: B lingers, then goes, and now the partner is told.
  f.face.unwatch(client);
  EXPECT_TRUE(f.sweep(2, 3, ended).empty());
  EXPECT_EQ(f.sweep(1, 3, ended).size(), 1u);
  EXPECT_EQ(ended, (std::vector<std::string>{"ns=1;s=B"}));
  EXPECT_TRUE(f.face.items().empty());
  // Told to stop watching something it no longer has: nothing happens.
  EXPECT_EQ(f.face.unprewatch({"ns=1;s=A"}), 0u);
}

// This node's clients' items: the client listener hears when a client here begins to watch one
// (also one watched for the partner already), and the sweep says when none has for the linger.
// An item the partner still watches then stays monitored, but the partner is told all the same,
// so two nodes whose clients once watched the same item do not keep it for each other.
TEST(pair_space_prewatch, clients_items_begin_and_end_and_the_partners_keep_theirs) {
  recording_face f;
  f.face.prewatch({"ns=1;s=P"});
  uint64_t c1 = f.watch("ns=1;s=P");
  uint64_t c2 = f.watch("ns=1;s=P");
  uint64_t c3 = f.watch("ns=1;s=L");
  EXPECT_EQ(f.begun, (std::vector<std::string>{"ns=1;s=P", "ns=1;s=L"}));
  ASSERT_EQ(f.wanted.size(), 2u); // P once (by the prewatch), L once
  f.face.unwatch(c1);
  f.face.unwatch(c2);
  f.face.unwatch(c3);
  std::vector<std::string> ended;
  auto gone = f.sweep(3, 3, ended);
  std::sort(ended.begin(), ended.end());
  EXPECT_EQ(ended, (std::vector<std::string>{"ns=1;s=L", "ns=1;s=P"}));
  EXPECT_EQ(gone, (std::vector<uint32_t>{f.handle_of("ns=1;s=L")})); // P stays for the partner
  EXPECT_TRUE(f.face.client_items().empty());
  EXPECT_EQ(f.face.partner_items(), (std::vector<std::string>{"ns=1;s=P"}));
  ended.clear();
  EXPECT_TRUE(f.sweep(10, 3, ended).empty());
  EXPECT_TRUE(ended.empty()); // said once

  // A client here again: the same item, and the partner hears of it again.
  f.begun.clear();
  uint64_t c4 = f.watch("ns=1;s=P");
  EXPECT_EQ(f.begun, (std::vector<std::string>{"ns=1;s=P"}));
  EXPECT_EQ(f.wanted.size(), 2u);
  // A new listener (a restarted PAIR) hears at once what clients here watch.
  std::vector<std::string> now;
  f.face.set_client_listener([&](std::vector<std::string> ids) { now = std::move(ids); });
  EXPECT_EQ(now, (std::vector<std::string>{"ns=1;s=P"}));
  // The partner gives P up while a client here watches it: it stays, and goes only after that
  // client has been gone for the linger.
  f.face.unprewatch({"ns=1;s=P"});
  EXPECT_TRUE(f.sweep(10, 3, ended).empty());
  f.face.unwatch(c4);
  EXPECT_EQ(f.sweep(3, 3, ended).size(), 1u);
  EXPECT_EQ(ended, (std::vector<std::string>{"ns=1;s=P"}));
}

// A GONE for an item whose namespace URI no server has shown yet ends its wait; one whose URI is
// known finds the item by URI, whatever index the face gave it.
TEST(pair_space_prewatch, a_gone_item_is_found_by_namespace_uri_or_leaves_the_waiting_list) {
  recording_face f;
  f.face.prewatch({"nsu=urn:plc;s=Waiting", "nsu=urn:di;s=Known"});
  EXPECT_EQ(f.face.prewatch_pending(), 2u);
  EXPECT_EQ(f.face.unprewatch({"nsu=urn:plc;s=Waiting"}), 1u);
  EXPECT_EQ(f.face.prewatch_pending(), 1u);
  auto primary = std::make_shared<fake_server>(
      std::vector<std::string>{ua, "urn:primary", "urn:di", "urn:plc"});
  f.face.set_forwarder(0, primary);
  f.face.set_active(0);
  EXPECT_EQ(f.face.prewatch_pending(), 0u);
  ASSERT_EQ(f.wanted.size(), 1u); // Waiting was given up before its namespace came
  EXPECT_EQ(f.wanted[0].node_id, "nsu=urn:di;s=Known");
  EXPECT_EQ(f.face.unprewatch({"nsu=urn:di;s=Known"}), 1u);
  std::vector<std::string> ended;
  EXPECT_EQ(f.sweep(1, 1, ended), (std::vector<uint32_t>{f.wanted[0].handle}));
}
