#include "tests/fuzz/opcua/fuzz_entry.hpp"

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "transports/opcua/framing.hpp"
#include "transports/opcua/services.hpp"

namespace tandem::opcua::fuzz {
namespace {

/// Invariant violations abort so libFuzzer records them as crashes.
void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
    std::abort();
  }
}

decode_limits fuzz_limits() {
  decode_limits l;
  l.max_alloc_bytes = 64u << 20; // stay well inside libFuzzer's -rss_limit_mb
  return l;
}

/// decode(encode(x)) must succeed and re-encode to the same bytes.
template <class Msg, class Decode, class Encode>
void check_round_trip(const Msg& decoded, Decode&& dec, Encode&& enc, const char* what) {
  std::vector<uint8_t> first;
  require(enc(decoded, first).ok(), what);
  auto again = dec(byte_span(first));
  require(again.ok(), what);
  std::vector<uint8_t> second;
  require(enc(*again, second).ok(), what);
  require(first == second, what);
}

template <class T> void check_value_round_trip(byte_span in) {
  auto v = decode_exact<T>(in, fuzz_limits());
  if (!v) return;
  auto first = encode_to_vector(*v);
  require(first.ok(), "built-in encode");
  auto again = decode_exact<T>(byte_span(*first), fuzz_limits());
  require(again.ok(), "built-in re-decode");
  auto second = encode_to_vector(*again);
  require(second.ok() && *first == *second, "built-in re-encode");
  // operator== is IEEE for Float/Double (NaN != NaN), so equality is checked on the bytes above.
}

void inspect_extension_object(const ExtensionObject& eo) {
  (void)decode_notification(eo, fuzz_limits());
  (void)decode_identity_token(eo, fuzz_limits());
  (void)decode_extension_object_as<ServerStatusDataType, BuildInfo, RedundantServerDataType,
                                   DataChangeFilter>(eo, fuzz_limits());
}

void inspect_variant(const Variant& v) {
  if (const auto* eo = v.get_if<ExtensionObject>()) inspect_extension_object(*eo);
  if (const auto* a = v.get_if<Array<ExtensionObject>>())
    for (const auto& eo : *a)
      inspect_extension_object(eo);
}

void handle_body(byte_span body) {
  auto req = decode_request(body, fuzz_limits());
  if (req) {
    check_round_trip(
        *req, [](byte_span b) { return decode_request(b, fuzz_limits()); },
        [](const Request& r, std::vector<uint8_t>& out) { return encode_request(r, out); },
        "request round trip");
    auto h = peek_request_header(body, fuzz_limits());
    require(h.ok() && h->request_handle == request_header(*req).request_handle, "peek header");
    if (auto* a = std::get_if<ActivateSessionRequest>(&*req))
      (void)decode_identity_token(a->user_identity_token, fuzz_limits());
    if (auto* w = std::get_if<WriteRequest>(&*req))
      for (const auto& wv : w->nodes_to_write)
        if (wv.value.value) inspect_variant(*wv.value.value);
    if (auto* m = std::get_if<CreateMonitoredItemsRequest>(&*req))
      for (const auto& item : m->items_to_create)
        inspect_extension_object(item.requested_parameters.filter);
  }
  auto resp = decode_response(body, fuzz_limits());
  if (resp) {
    check_round_trip(
        *resp, [](byte_span b) { return decode_response(b, fuzz_limits()); },
        [](const Response& r, std::vector<uint8_t>& out) { return encode_response(r, out); },
        "response round trip");
    const NotificationMessage* nm = nullptr;
    if (auto* p = std::get_if<PublishResponse>(&*resp)) nm = &p->notification_message;
    if (auto* p = std::get_if<RepublishResponse>(&*resp)) nm = &p->notification_message;
    if (nm)
      for (const auto& eo : nm->notification_data)
        inspect_extension_object(eo);
    if (auto* r = std::get_if<ReadResponse>(&*resp))
      for (const auto& dv : r->results)
        if (dv.value) inspect_variant(*dv.value);
  }
}

void handle_message(const AssembledMessage& m) {
  handle_body(byte_span(m.body));
  // Re-chunk at a size derived from the message and reassemble: must give the same body.
  ChunkContext ctx;
  ctx.type = m.type;
  ctx.secure_channel_id = m.secure_channel_id;
  ctx.token_id = m.token_id;
  ctx.request_id = m.request_id;
  const uint32_t size = static_cast<uint32_t>(chunk_header_size(ctx) + 1 + m.body.size() % 97);
  chunker ch(chunk_limits{size, 0, 0}, m.sequence_number);
  std::vector<uint8_t> stream;
  auto n = ch.encode(ctx, byte_span(m.body), stream);
  require(n.ok(), "re-chunk");
  frame_splitter split(size);
  split.feed(byte_span(stream));
  chunk_assembler again(assembler_limits{0, 0, 1});
  bool done = false;
  for (;;) {
    auto c = split.next();
    require(c.ok(), "re-split");
    if (!*c) break;
    auto e = again.add(**c);
    require(e.ok(), "re-assemble");
    if (auto* a = std::get_if<AssembledMessage>(&*e)) {
      require(a->body == m.body && !done, "re-assembled body");
      done = true;
    }
  }
  require(done, "re-assembled message");
}

void handle_chunk(byte_span chunk, chunk_assembler& assembler) {
  auto h = decode_message_header(chunk);
  require(h.ok(), "splitter yielded a bad header");
  require(h->message_size == chunk.size, "splitter chunk size");
  switch (h->type) {
  case MessageType::Hello:
    if (auto m = decode_hello(chunk)) {
      require(encode_hello(*m).ok(), "hello");
      (void)negotiate_acknowledge(*m, AcknowledgeMessage{});
    }
    return;
  case MessageType::Acknowledge:
    if (auto m = decode_acknowledge(chunk)) require(encode_acknowledge(*m).ok(), "ack");
    return;
  case MessageType::Error:
    if (auto m = decode_error(chunk)) require(encode_error(*m).ok(), "error");
    return;
  case MessageType::ReverseHello:
    if (auto m = decode_reverse_hello(chunk)) require(encode_reverse_hello(*m).ok(), "rhe");
    return;
  default:
    break;
  }
  auto e = assembler.add(chunk, fuzz_limits());
  if (!e) {
    assembler = chunk_assembler(assembler_limits{1u << 20, 64, 4}); // a new connection
    return;
  }
  if (auto* m = std::get_if<AssembledMessage>(&*e)) handle_message(*m);
}

} // namespace

void run_one(const uint8_t* data, size_t size) {
  const byte_span in(data, size);

  // 1. A TCP byte stream, fed in pieces whose size the first byte picks.
  const size_t piece = size ? (data[0] % 61) + 1 : 1;
  frame_splitter split(1u << 16);
  chunk_assembler assembler(assembler_limits{1u << 20, 64, 4});
  for (size_t i = 0; i < size; i += piece) {
    split.feed(in.subspan(i, piece));
    bool dead = false;
    for (;;) {
      auto c = split.next();
      if (!c) {
        dead = true;
        break;
      }
      if (!*c) break;
      handle_chunk(**c, assembler);
    }
    if (dead) break;
  }

  // 2. The input as a service body (and, if it parses as one, as a single chunk's body).
  handle_body(in);
  if (auto c = decode_secure_chunk(in, fuzz_limits())) handle_body(c->body);

  // 3. Built-ins on their own.
  check_value_round_trip<Variant>(in);
  check_value_round_trip<DataValue>(in);
  check_value_round_trip<DiagnosticInfo>(in);
  check_value_round_trip<ExpandedNodeId>(in);
  check_value_round_trip<LocalizedText>(in);

  // 4. Text forms.
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto n = NodeId::parse(text)) {
    auto again = NodeId::parse(n->to_string());
    require(again.ok() && *again == *n, "NodeId text round trip");
  }
  if (auto x = ExpandedNodeId::parse(text)) {
    auto again = ExpandedNodeId::parse(x->to_string());
    require(again.ok() && *again == *x, "ExpandedNodeId text round trip");
  }
  if (auto d = DateTime::parse_rfc3339(text)) {
    auto again = DateTime::parse_rfc3339(d->to_rfc3339());
    require(again && *again == *d, "RFC 3339 round trip");
  }
  if (auto b = base64_decode(text))
    require(base64_encode(b->data(), b->size()).size() >= b->size(), "base64");
}

} // namespace tandem::opcua::fuzz
