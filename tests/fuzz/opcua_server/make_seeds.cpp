// Writes the seed corpus of fuzz_opcua_server (tests/fuzz/opcua_server/corpus) into the folder
// given as the only argument: valid request encodings (authentication token left null, the
// harness puts the session's in) wrapped as records of fuzz_entry.hpp, plus raw framing cases.
// Built with -DTANDEM_FUZZ=ON as fuzz_opcua_server_seeds.

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "tests/fuzz/opcua_server/fuzz_entry.hpp"
#include "transports/opcua/framing.hpp"
#include "transports/opcua/services.hpp"

using namespace tandem::opcua;
namespace fz = tandem::opcua::fuzz_server;

namespace {

using bytes = std::vector<uint8_t>;

bytes body(const Request& r) {
  bytes out;
  if (!encode_request(r, out)) std::abort();
  return out;
}

template <class T> bytes message(const T& m) {
  bytes out;
  if (!encode_message(m, out)) std::abort();
  return out;
}

/// One record: flags, u16 length, body.
void add(bytes& out, uint8_t a, uint8_t b, const bytes& body) {
  out.push_back(a);
  out.push_back(b);
  out.push_back(static_cast<uint8_t>(body.size()));
  out.push_back(static_cast<uint8_t>(body.size() >> 8));
  out.insert(out.end(), body.begin(), body.end());
}

struct seed {
  std::string name;
  bytes data;
};

bytes hello(const std::string& path = "/plant", uint32_t buffers = 65536) {
  HelloMessage h;
  h.receive_buffer_size = buffers;
  h.send_buffer_size = buffers;
  h.endpoint_url = String("opc.tcp://127.0.0.1:4840" + path);
  return *encode_hello(h);
}

bytes open_chunk(uint32_t channel, uint32_t seq, uint32_t request_id,
                 SecurityTokenRequestType type = SecurityTokenRequestType::Issue) {
  OpenSecureChannelRequest req;
  req.request_type = type;
  req.request_header.request_handle = request_id;
  ChunkContext ctx;
  ctx.type = MessageType::Open;
  ctx.secure_channel_id = channel;
  ctx.request_id = request_id;
  bytes out;
  (void)encode_secure_chunk(ctx, ChunkType::Final, seq, byte_span(message(req)), out);
  return out;
}

bytes msg_chunk(uint32_t channel, uint32_t token, uint32_t seq, uint32_t request_id,
                const bytes& b) {
  ChunkContext ctx{MessageType::Message, channel, token, {}, request_id};
  bytes out;
  (void)encode_secure_chunk(ctx, ChunkType::Final, seq, byte_span(b), out);
  return out;
}

ReadValueId rv(NodeId id, uint32_t attribute = attribute_id::Value) {
  ReadValueId v;
  v.node_id = std::move(id);
  v.attribute_id = attribute;
  return v;
}

const NodeId temp(1, String("Plant.Temp"));
const NodeId name(1, String("Plant.Line1.Name"));
const NodeId flag(1, String("Plant.Line1.Flag"));
const NodeId count(1, 7);
const NodeId note(1, 8); // String, writable
const NodeId plant(1, String("Plant"));

ReadRequest read_of(std::vector<ReadValueId> items,
                    TimestampsToReturn t = TimestampsToReturn::Both) {
  ReadRequest r;
  r.timestamps_to_return = t;
  for (auto& i : items)
    r.nodes_to_read.push_back(i);
  return r;
}

ReadRequest simple_read() {
  return read_of({rv(NodeId(2267)), rv(temp), rv(count)});
}

WriteValue wv(NodeId id, Variant v) {
  WriteValue w;
  w.node_id = std::move(id);
  w.value = DataValue(std::move(v));
  return w;
}

CreateSessionRequest create_session() {
  CreateSessionRequest cs;
  cs.endpoint_url = String("opc.tcp://127.0.0.1:4840/plant");
  cs.client_nonce = ByteString(bytes(32, 1));
  cs.requested_session_timeout = 300;
  return cs;
}

ActivateSessionRequest activate_user(const std::string& user, const std::string& pw) {
  ActivateSessionRequest as;
  UserNameIdentityToken t;
  t.policy_id = String("username");
  t.user_name = String(user);
  t.password = ByteString(bytes(pw.begin(), pw.end()));
  as.user_identity_token = *make_extension_object(t);
  return as;
}

ActivateSessionRequest activate_anonymous() {
  ActivateSessionRequest as;
  AnonymousIdentityToken t;
  t.policy_id = String("anonymous");
  as.user_identity_token = *make_extension_object(t);
  return as;
}

CreateSubscriptionRequest create_subscription() {
  CreateSubscriptionRequest cs;
  cs.requested_publishing_interval = 10;
  cs.requested_lifetime_count = 30;
  cs.requested_max_keep_alive_count = 2;
  cs.publishing_enabled = true;
  return cs;
}

MonitoredItemCreateRequest item_on(NodeId id, uint32_t handle) {
  MonitoredItemCreateRequest m;
  m.item_to_monitor = rv(std::move(id));
  m.requested_parameters.client_handle = handle;
  m.requested_parameters.queue_size = 2;
  return m;
}

PublishRequest publish(bool ack) {
  PublishRequest p;
  p.request_header.timeout_hint = 5000;
  if (ack)
    p.subscription_acknowledgements.push_back({fz::subscription_marker, fz::sequence_marker});
  return p;
}

BrowseDescription bd(NodeId id, BrowseDirection dir = BrowseDirection::Forward) {
  BrowseDescription d;
  d.node_id = std::move(id);
  d.browse_direction = dir;
  d.reference_type_id = NodeId(33); // HierarchicalReferences
  d.include_subtypes = true;
  return d;
}

constexpr uint8_t S = fz::f2::sync;
const uint8_t R = fz::mode::records;
const uint8_t session_records = fz::mode::prelude_session | fz::mode::records;

std::vector<seed> seeds() {
  std::vector<seed> out;
  auto raw = [&](std::string n, uint8_t mode, bytes b) {
    b.insert(b.begin(), mode);
    out.push_back({std::move(n), std::move(b)});
  };
  auto recs = [&](std::string n, uint8_t mode, bytes b) {
    b.insert(b.begin(), mode);
    out.push_back({std::move(n), std::move(b)});
  };

  // -- framing, raw bytes
  // ---------------------------------------------------------------------------
  {
    bytes b = hello();
    bytes o = open_chunk(0, 1, 1);
    b.insert(b.end(), o.begin(), o.end());
    bytes m = msg_chunk(1, 1, 2, 2, body(simple_read()));
    b.insert(b.end(), m.begin(), m.end());
    raw("raw_hello_open_msg", fz::mode::prelude_none, b);
  }
  raw("raw_hello_tiny_buffers", fz::mode::prelude_none, hello("/plant", 1024));
  raw("raw_hello_unknown_path", fz::mode::prelude_none, hello("/nope"));
  raw("raw_open_before_hello", fz::mode::prelude_none, open_chunk(0, 1, 1));
  raw("raw_open_after_ack", fz::mode::prelude_hello, open_chunk(0, 7, 3));
  raw("raw_open_issue_for_channel", fz::mode::prelude_hello, open_chunk(5, 1, 1));
  raw("raw_second_hello", fz::mode::prelude_hello, hello());
  raw("raw_bad_type", fz::mode::prelude_hello, {'X', 'Y', 'Z', 'F', 8, 0, 0, 0});
  raw("raw_msg_before_open", fz::mode::prelude_hello, msg_chunk(1, 1, 1, 1, body(simple_read())));
  {
    bytes b{'M', 'S', 'G', 'F', 0x28, 0x23, 0, 0}; // 9000 > the 8192 we acknowledged
    b.resize(64, 0);
    raw("raw_chunk_over_buffer", fz::mode::prelude_hello | fz::mode::small_buffers, b);
  }
  raw("raw_renew_on_open_channel", fz::mode::prelude_open,
      open_chunk(1, 2, 2, SecurityTokenRequestType::Renew));
  raw("raw_after_session", fz::mode::prelude_session, msg_chunk(1, 1, 4, 4, body(simple_read())));

  // -- sessions and discovery on an open channel
  // ----------------------------------------------------
  {
    bytes b;
    GetEndpointsRequest ge;
    ge.endpoint_url = String("opc.tcp://127.0.0.1:4840/plant");
    add(b, 0, S, body(ge));
    FindServersRequest fs;
    add(b, 0, S, body(fs));
    add(b, 0, S, body(create_session()));
    add(b, 0, S, body(activate_anonymous()));
    add(b, 0, S, body(simple_read()));
    add(b, 0, S, body(CloseSessionRequest{}));
    add(b, 0, 0, body(simple_read()));
    recs("open_discovery_session_close", fz::mode::prelude_open | R, b);
  }
  {
    bytes b;
    add(b, 0, S, body(create_session()));
    add(b, 0, S, body(simple_read())); // not activated
    add(b, 0, S, body(activate_user("op1", "wrong")));
    add(b, 0, S, body(activate_user("op1", "secret1")));
    add(b, 0, S, body(simple_read()));
    recs("open_user_login", fz::mode::prelude_open | R, b);
  }

  // -- services ---------------------------------------------------------------------------------
  {
    bytes b;
    add(b, 0, S, body(simple_read()));
    ReadValueId ranged = rv(temp);
    ranged.index_range = String("1:2");
    ReadValueId encoded = rv(temp);
    encoded.data_encoding = QualifiedName{0, String("Default XML")};
    add(b, 0, S,
        body(read_of({rv(plant, attribute_id::BrowseName), rv(temp, 99), rv(NodeId(1, 404)), ranged,
                      encoded, rv(NodeId(2256)), rv(NodeId(2255)), rv(NodeId(2259))},
                     TimestampsToReturn::Source)));
    add(b, 0, S, body(read_of({rv(temp), rv(name)}, TimestampsToReturn::Neither)));
    ReadRequest bad_age = simple_read();
    bad_age.max_age = -1;
    add(b, 0, S, body(bad_age));
    add(b, 0, S, body(ReadRequest{})); // nothing to do
    recs("session_read", session_records, b);
  }
  {
    bytes b;
    add(b, 0, S, body(simple_read()));
    recs("session_read_user", session_records | fz::mode::user_login, b);
  }
  {
    bytes b;
    WriteRequest w;
    w.nodes_to_write.push_back(wv(temp, Variant(22.5)));
    w.nodes_to_write.push_back(wv(name, Variant(String("renamed"))));
    w.nodes_to_write.push_back(wv(flag, Variant(int32_t{3})));  // wrong type
    w.nodes_to_write.push_back(wv(count, Variant(int32_t{1}))); // not writable
    WriteValue ranged = wv(temp, Variant(1.0));
    ranged.index_range = String("0");
    w.nodes_to_write.push_back(ranged);
    add(b, 0, S, body(w));
    add(b, 0, S, body(read_of({rv(temp), rv(name), rv(flag)})));
    recs("session_write_read", session_records, b);
  }
  {
    bytes b;
    BrowseRequest br;
    br.requested_max_references_per_node = 1;
    br.nodes_to_browse.push_back(bd(NodeId(85)));
    br.nodes_to_browse.push_back(bd(plant, BrowseDirection::Both));
    add(b, 0, S, body(br));
    BrowseNextRequest next;
    next.continuation_points.push_back(ByteString(bytes{1, 0, 0, 0, 0, 0, 0, 0}));
    next.continuation_points.push_back(ByteString(bytes{9}));
    add(b, 0, S, body(next));
    BrowseNextRequest release;
    release.release_continuation_points = true;
    release.continuation_points.push_back(ByteString(bytes{2, 0, 0, 0, 0, 0, 0, 0}));
    add(b, 0, S, body(release));
    recs("session_browse_next", session_records, b);
  }
  {
    bytes b;
    BrowseRequest br;
    BrowseDescription d = bd(NodeId(84), BrowseDirection::Forward);
    d.node_class_mask = 1;
    d.result_mask = 8;
    br.nodes_to_browse.push_back(d);
    BrowseDescription inv = bd(name, BrowseDirection::Inverse);
    inv.reference_type_id = NodeId(35); // Organizes
    inv.include_subtypes = false;
    br.nodes_to_browse.push_back(inv);
    BrowseDescription bad = bd(temp);
    bad.reference_type_id = NodeId(2267); // not a reference type
    br.nodes_to_browse.push_back(bad);
    add(b, 0, S, body(br));
    BrowseRequest view = br;
    view.view.view_id = NodeId(1, 99);
    add(b, 0, S, body(view));
    recs("session_browse_filters", session_records, b);
  }
  {
    bytes b;
    TranslateBrowsePathsToNodeIdsRequest t;
    BrowsePath p;
    p.starting_node = NodeId(85);
    for (auto* n : {"Plant", "Line1", "Name"}) {
      RelativePathElement e;
      e.reference_type_id = NodeId(33);
      e.target_name = QualifiedName{1, String(n)};
      p.relative_path.elements.push_back(e);
    }
    t.browse_paths.push_back(p);
    BrowsePath empty;
    empty.starting_node = NodeId(85);
    t.browse_paths.push_back(empty);
    BrowsePath unknown = p;
    unknown.starting_node = NodeId(1, 404);
    t.browse_paths.push_back(unknown);
    add(b, 0, S, body(t));
    recs("session_translate", session_records, b);
  }
  {
    bytes b;
    RegisterNodesRequest reg;
    reg.nodes_to_register.push_back(temp);
    add(b, 0, S, body(reg));
    UnregisterNodesRequest un;
    un.nodes_to_unregister.push_back(temp);
    add(b, 0, S, body(un));
    add(b, 0, S, body(CallRequest{}));
    CancelRequest cancel;
    cancel.request_handle = 1;
    add(b, 0, S, body(cancel));
    recs("session_register_call_cancel", session_records, b);
  }

  // -- subscriptions ----------------------------------------------------------------------------
  {
    bytes b;
    add(b, 0, S, body(create_subscription()));
    CreateMonitoredItemsRequest ci;
    ci.subscription_id = fz::subscription_marker;
    ci.items_to_create.push_back(item_on(temp, 1));
    MonitoredItemCreateRequest filtered = item_on(count, 2);
    DataChangeFilter f;
    f.trigger = DataChangeTrigger::StatusValueTimestamp;
    f.deadband_type = deadband_type::Absolute;
    f.deadband_value = 0.5;
    filtered.requested_parameters.filter = *make_extension_object(f);
    ci.items_to_create.push_back(filtered);
    ci.items_to_create.push_back(item_on(NodeId(1, 404), 3));
    add(b, 0, S, body(ci));
    WriteRequest w;
    w.nodes_to_write.push_back(wv(temp, Variant(30.0)));
    add(b, 0, S, body(w));
    add(b, 0, S, body(publish(false)));
    RepublishRequest rp;
    rp.subscription_id = fz::subscription_marker;
    rp.retransmit_sequence_number = fz::sequence_marker;
    add(b, 0, S, body(rp));
    add(b, 0, S, body(publish(true)));
    add(b, 0, S, body(rp)); // acknowledged: BadMessageNotAvailable
    ModifySubscriptionRequest ms;
    ms.subscription_id = fz::subscription_marker;
    ms.requested_publishing_interval = 20;
    ms.requested_max_keep_alive_count = 3;
    add(b, 0, S, body(ms));
    SetPublishingModeRequest pm;
    pm.publishing_enabled = false;
    pm.subscription_ids.push_back(fz::subscription_marker);
    add(b, 0, S, body(pm));
    ModifyMonitoredItemsRequest mm;
    mm.subscription_id = fz::subscription_marker;
    MonitoredItemModifyRequest mr;
    mr.monitored_item_id = fz::item_marker;
    mr.requested_parameters.queue_size = 5;
    mr.requested_parameters.discard_oldest = false;
    mm.items_to_modify.push_back(mr);
    add(b, 0, S, body(mm));
    SetMonitoringModeRequest sm;
    sm.subscription_id = fz::subscription_marker;
    sm.monitoring_mode = MonitoringMode::Disabled;
    sm.monitored_item_ids.push_back(fz::item_marker);
    add(b, 0, S, body(sm));
    DeleteMonitoredItemsRequest dm;
    dm.subscription_id = fz::subscription_marker;
    dm.monitored_item_ids.push_back(fz::item_marker);
    add(b, 0, S, body(dm));
    DeleteSubscriptionsRequest ds;
    ds.subscription_ids.push_back(fz::subscription_marker);
    add(b, 0, S, body(ds));
    recs("session_subscription_lifecycle", session_records, b);
  }
  {
    bytes b;
    add(b, 0, S, body(create_subscription()));
    CreateMonitoredItemsRequest ci;
    ci.subscription_id = fz::subscription_marker;
    ci.items_to_create.push_back(item_on(NodeId(2258), 9)); // CurrentTime changes every cycle
    add(b, 0, S, body(ci));
    for (int i = 0; i < 7; ++i)
      add(b, 0, 0, body(publish(false)));
    add(b, 0, S, body(publish(true)));
    DeleteSubscriptionsRequest ds;
    ds.subscription_ids.push_back(fz::subscription_marker);
    add(b, 0, S, body(ds));
    recs("session_many_publishes", session_records, b);
  }
  {
    bytes b;
    add(b, 0, S, body(create_subscription()));
    TransferSubscriptionsRequest t;
    t.subscription_ids.push_back(fz::subscription_marker);
    t.subscription_ids.push_back(12345);
    t.send_initial_values = true;
    add(b, 0, S, body(t));
    add(b, 0, S, body(create_session()));
    add(b, 0, S, body(activate_anonymous()));
    add(b, 0, S, body(t));
    CloseSessionRequest close;
    close.delete_subscriptions = true;
    add(b, 0, S, body(close));
    recs("session_transfer_second_session", session_records, b);
  }

  // -- malformed bodies and chunks on a good session
  // ---------------------------------------------------
  {
    bytes b;
    bytes unknown;
    {
      writer w(unknown);
      encode(w, NodeId(9999));
      encode(w, RequestHeader{});
    }
    add(b, 0, S, unknown);
    bytes truncated = body(simple_read());
    truncated.resize(truncated.size() - 3);
    add(b, 0, S, truncated);
    add(b, 0, S, body(simple_read()));
    recs("session_unknown_and_truncated", session_records, b);
  }
  {
    bytes b;
    add(b, 0, S, bytes{0x01, 0x00, 0x77, 0x02, 0x05}); // Read TypeId, broken header
    recs("session_unreadable_header", session_records, b);
  }
  {
    bytes b;
    add(b, fz::f1::split, S | fz::f2::chunk_size(0), body(simple_read()));
    add(b, fz::f1::split_abort, fz::f2::chunk_size(1), body(simple_read()));
    add(b, 0, S, body(simple_read()));
    add(b, fz::f1::split_open, fz::f2::chunk_size(0), body(simple_read()));
    recs("session_chunks_abort_partial", session_records, b);
  }
  {
    bytes b;
    ReadRequest many;
    for (int i = 0; i < 50; ++i)
      many.nodes_to_read.push_back(rv(count));
    add(b, fz::f1::split, fz::f2::chunk_size(0), body(many)); // > 64 chunks
    recs("session_too_many_chunks", session_records, b);
  }
  {
    bytes b;
    OpenSecureChannelRequest renew;
    renew.request_type = SecurityTokenRequestType::Renew;
    add(b, fz::f1::type_opn, S, message(renew));
    add(b, 0, S, body(simple_read()));
    add(b, fz::f1::type_clo, 0, message(CloseSecureChannelRequest{}));
    recs("session_renew_then_close", session_records, b);
  }
  recs("session_wrong_token", session_records, [] {
    bytes b;
    add(b, fz::f1::wrong_token, S, body(simple_read()));
    return b;
  }());
  recs("session_wrong_channel", session_records, [] {
    bytes b;
    add(b, fz::f1::wrong_channel, S, body(simple_read()));
    return b;
  }());
  recs("session_sequence_gap", session_records, [] {
    bytes b;
    add(b, fz::f1::skip_sequence, S, body(simple_read()));
    return b;
  }());
  recs("session_null_token", session_records, [] {
    bytes b;
    add(b, fz::f1::keep_token, S, body(simple_read()));
    return b;
  }());

  // -- limits -------------------------------------------------------------------------------------
  {
    bytes b;
    WriteRequest w;
    w.nodes_to_write.push_back(wv(note, Variant(String(std::string(400, 'n')))));
    add(b, 0, S, body(w));
    ReadRequest big;
    for (int i = 0; i < 25; ++i)
      big.nodes_to_read.push_back(rv(note));
    add(b, 0, S, body(big)); // a response of several 8 KiB chunks
    recs("small_buffers_chunked_response", session_records | fz::mode::small_buffers, b);
    recs("small_hel_limits_response_too_large",
         session_records | fz::mode::small_buffers | fz::mode::small_hel_limits, b);
    recs("small_max_response_message_size", session_records | fz::mode::small_max_response, b);
  }
  recs("abortive_close", session_records | fz::mode::abortive_close, [] {
    bytes b;
    add(b, 0, 0, body(publish(false)));
    return b;
  }());
  return out;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus folder>\n", argv[0]);
    return 2;
  }
  for (const auto& s : seeds()) {
    std::ofstream f(std::string(argv[1]) + "/" + s.name + ".bin", std::ios::binary);
    f.write(reinterpret_cast<const char*>(s.data.data()),
            static_cast<std::streamsize>(s.data.size()));
  }
  return 0;
}
