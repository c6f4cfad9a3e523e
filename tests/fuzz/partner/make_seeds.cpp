// Writes the seed corpus of fuzz_partner (layout in fuzz_entry.hpp) into the folder given.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "transports/partner/protocol.hpp"

using namespace tandem;
using namespace tandem::partner;

namespace {

void write(const std::string& dir, const std::string& name, uint8_t flags, uint8_t chunk,
           const std::vector<std::vector<uint8_t>>& frames) {
  std::vector<uint8_t> out = {flags, chunk};
  for (auto& f : frames)
    out.insert(out.end(), f.begin(), f.end());
  std::ofstream(dir + "/" + name, std::ios::binary)
      .write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
}

partner_hello peer() {
  partner_hello h;
  h.node_name = "peer-b";
  h.role = partner_role::master;
  h.config_digest = "0123abcd";
  h.epoch = {2, 99};
  h.running_total_ms = 5000;
  h.state = partner_state::running;
  h.face_port = 4841;
  h.start_time_ms = 1767225600000;
  return h;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_partner_seeds FOLDER\n");
    return 2;
  }
  std::string d = argv[1];
  auto hello = encode(peer());
  auto ack = encode(hello_ack_msg{});
  write(d, "handshake_accept", 1, 0, {hello, ack});
  write(d, "handshake_refuse", 0, 0, {hello, ack});
  write(d, "up_heartbeats_sync", 5, 0,
        {hello, ack, encode(heartbeat_msg{1, 1000}), encode(heartbeat_ack_msg{1, 900}),
         encode(sync_payload{1, {1, 2, 3}}), encode(sync_payload{65535, {}})});
  write(d, "up_chunked", 7, 3,
        {hello, ack, encode(heartbeat_msg{1, 1000}),
         encode(sync_payload{2, std::vector<uint8_t>(40, 7)}), encode(close_msg{"bye"})});
  write(d, "up_close", 1, 0, {hello, ack, encode(close_msg{"node stopping"})});
  write(d, "peer_refuses", 1, 0, {hello, encode(refuse_msg{"another partner is connected: x"})});
  write(d, "future_version", 1, 0, {encode(peer(), 7)});
  write(d, "garbage_http", 1, 0, {{'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P', '/', '1'}});
  write(d, "unknown_type", 1, 0, {hello, ack, encode_raw(9, {1, 2})});
  write(d, "heartbeat_first", 1, 0, {encode(heartbeat_msg{1, 1})});
  write(d, "ack_first", 1, 0, {ack, hello});
  write(d, "second_hello", 1, 0, {hello, hello});
  write(d, "small_limit_big_sync", 9, 0,
        {hello, ack, encode(sync_payload{1, std::vector<uint8_t>(300, 1)})});
  write(d, "huge_length", 1, 0, {{'T', 'D', 'M', 'P', 6, 0xff, 0xff, 0xff, 0x7f}});
  write(d, "truncated_hello", 1, 0, {std::vector<uint8_t>(hello.begin(), hello.begin() + 20)});
  write(d, "hello_extra_fields", 1, 0,
        {encode_raw(1,
                    [&] {
                      auto p = std::vector<uint8_t>(hello.begin() + header_size, hello.end());
                      p.insert(p.end(), {9, 9, 9});
                      return p;
                    }()),
         ack});
  write(d, "bad_bool", 1, 0, {encode_raw(1, [&] {
          auto p = std::vector<uint8_t>(hello.begin() + header_size, hello.end());
          p[p.size() - 11] = 2;
          return p;
        }())});
  write(d, "empty_after_flags", 1, 0, {});
  return 0;
}
