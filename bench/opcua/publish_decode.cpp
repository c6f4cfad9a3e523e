// Benchmark: decoding PublishResponses with DataChangeNotifications on one core.
//
// Method: one PublishResponse body holding one DataChangeNotification of `items` monitored items
// is built and encoded once. Each DataValue looks like node-opcua's server sends them (mask 0x3D:
// value, source and server timestamps and picoseconds). The timed loop, single-threaded, decodes
// the body `rounds` times through the client dispatcher (decode_response), then decodes each
// notificationData ExtensionObject (decode_notification) and touches every value, so the figure
// is complete DataValues made available to a caller per second. Three payloads: Double values,
// a mix (Double, Int32, Boolean, a 12-byte String), and the Double payload arriving as a TCP
// stream of 64 KiB chunks through frame_splitter + chunk_assembler first. Encode (the server
// side) is measured the same way.
//
// Usage: bench_opcua_publish_decode [--items N] [--rounds N] [--smoke]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "transports/opcua/framing.hpp"
#include "transports/opcua/services.hpp"

using namespace tandem::opcua;

namespace {

using clock_type = std::chrono::steady_clock;

PublishResponse make_publish(uint32_t items, bool mixed) {
  DataChangeNotification dcn;
  dcn.monitored_items.reserve(items);
  const DateTime t0 = DateTime::from_unix_ms(1'790'000'000'000);
  for (uint32_t i = 0; i < items; ++i) {
    MonitoredItemNotification n;
    n.client_handle = i + 1;
    Variant v(42.25 + i);
    if (mixed) {
      switch (i % 4) {
      case 1:
        v = Variant(static_cast<int32_t>(i));
        break;
      case 2:
        v = Variant(i % 3 == 0);
        break;
      case 3:
        v = Variant("PLC1.Value" + std::to_string(i % 100));
        break;
      default:
        break;
      }
    }
    n.value = DataValue(std::move(v));
    n.value.source_timestamp = DateTime(t0.ticks + i);
    n.value.source_picoseconds = 0;
    n.value.server_timestamp = DateTime(t0.ticks + i + 10);
    n.value.server_picoseconds = 0;
    dcn.monitored_items.push_back(std::move(n));
  }
  PublishResponse p;
  p.response_header.request_handle = 8;
  p.response_header.timestamp = t0;
  p.subscription_id = 527177;
  p.available_sequence_numbers = {1};
  p.notification_message.sequence_number = 1;
  p.notification_message.notification_data.push_back(*make_extension_object(dcn));
  return p;
}

/// Decodes a body and returns how many DataValues it delivered (checksum in `sink`).
size_t decode_once(byte_span body, double& sink) {
  auto r = decode_response(body);
  if (!r) {
    std::fprintf(stderr, "decode failed: %s\n", r.error().reason.c_str());
    std::exit(1);
  }
  const auto& p = std::get<PublishResponse>(*r);
  size_t values = 0;
  for (const auto& eo : p.notification_message.notification_data) {
    auto n = decode_notification(eo);
    if (!n) {
      std::fprintf(stderr, "notification failed: %s\n", n.error().reason.c_str());
      std::exit(1);
    }
    for (const auto& item : std::get<DataChangeNotification>(*n).monitored_items) {
      if (const double* d = item.value.value->get_if<double>()) sink += *d;
      ++values;
    }
  }
  return values;
}

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

void run(const char* name, const PublishResponse& p, uint32_t rounds, bool via_stream) {
  std::vector<uint8_t> body;
  if (!encode_message(p, body)) std::exit(1);
  std::vector<uint8_t> stream;
  ChunkContext ctx;
  ctx.secure_channel_id = 1;
  ctx.token_id = 1;
  ctx.request_id = 8;
  chunker ch(chunk_limits{65536, 0, 0});
  if (via_stream) {
    for (uint32_t i = 0; i < rounds; ++i)
      if (!ch.encode(ctx, byte_span(body), stream)) std::exit(1);
  }
  double sink = 0;
  size_t values = 0;
  auto t = clock_type::now();
  if (!via_stream) {
    for (uint32_t i = 0; i < rounds; ++i)
      values += decode_once(byte_span(body), sink);
  } else {
    frame_splitter split(65536);
    chunk_assembler assembler;
    for (size_t off = 0; off < stream.size(); off += 16384) {
      split.feed(byte_span(stream).subspan(off, 16384));
      for (;;) {
        auto c = split.next();
        if (!c) std::exit(1);
        if (!*c) break;
        auto e = assembler.add(**c);
        if (!e) std::exit(1);
        if (auto* m = std::get_if<AssembledMessage>(&*e))
          values += decode_once(byte_span(m->body), sink);
      }
    }
  }
  double s = seconds_since(t);
  std::printf("%-34s %8zu B/body %10zu values %8.3f s  %6.2f M DataValues/s  %7.1f MB/s%s\n", name,
              body.size(), values, s, values / s / 1e6,
              (via_stream ? stream.size() : body.size() * rounds) / s / 1e6,
              sink == 0 ? " (checksum 0?)" : "");
}

void run_encode(const PublishResponse& p, uint32_t rounds) {
  const auto& dcn = p.notification_message.notification_data[0];
  auto decoded = decode_notification(dcn);
  const auto& items = std::get<DataChangeNotification>(*decoded);
  std::vector<uint8_t> body;
  size_t values = 0;
  auto t = clock_type::now();
  for (uint32_t i = 0; i < rounds; ++i) {
    PublishResponse copy;
    copy.subscription_id = p.subscription_id;
    copy.notification_message.notification_data.push_back(*make_extension_object(items));
    body.clear();
    if (!encode_message(copy, body)) std::exit(1);
    values += items.monitored_items.size();
  }
  double s = seconds_since(t);
  std::printf("%-34s %8zu B/body %10zu values %8.3f s  %6.2f M DataValues/s\n",
              "encode (Double payload)", body.size(), values, s, values / s / 1e6);
}

} // namespace

int main(int argc, char** argv) {
  uint32_t items = 500, rounds = 4000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::strtoul(argv[++i], nullptr, 10) : 0ul; };
    if (a == "--items")
      items = static_cast<uint32_t>(next());
    else if (a == "--rounds")
      rounds = static_cast<uint32_t>(next());
    else if (a == "--smoke")
      rounds = 20;
    else {
      std::fprintf(stderr, "usage: %s [--items N] [--rounds N] [--smoke]\n", argv[0]);
      return 2;
    }
  }
  std::printf("PublishResponse decode, %u DataValues (mask 0x3D) per notification, %u rounds, "
              "one thread\n",
              items, rounds);
  auto doubles = make_publish(items, false);
  auto mixed = make_publish(items, true);
  run("decode_response (Double)", doubles, rounds, false);
  run("decode_response (mixed types)", mixed, rounds, false);
  run("splitter+assembler+decode (Double)", doubles, rounds, true);
  run_encode(doubles, rounds);
  return 0;
}
