#pragma once
// The fuzzing entry point of the OPC UA server face (transports/opcua/server), shared by the
// libFuzzer target and the corpus replay unit test. One server_endpoint runs for the whole
// process on its own io_context threads (127.0.0.1, port 0, address space at /plant: folders
// ns=1;s=Plant and ns=1;s=Plant.Line1, variables ns=1;s=Plant.Temp (Double), ns=1;i=7 (Int32 42,
// read-only), ns=1;s=Plant.Line1.Name, ns=1;i=8 (Strings), ns=1;s=Plant.Line1.Flag (Boolean);
// user op1/secret1); every input is one TCP connection to it.
//
// Input layout (all integers little-endian):
//   byte 0  mode: bits 0-1 prelude the harness performs with the codec before the fuzz bytes
//                   (0 none, 1 HEL/ACK, 2 + OPN Issue, 3 + CreateSession + ActivateSession),
//                 bit 2 the rest is records (below) instead of raw bytes,
//                 bit 3 HEL buffers of 8192 instead of 65536,
//                 bit 4 ActivateSession with user name op1/secret1 instead of anonymous,
//                 bit 5 HEL MaxMessageSize 4096 and MaxChunkCount 2 (responses too large),
//                 bit 6 end with an abortive close (RST) instead of a half-close,
//                 bit 7 CreateSession maxResponseMessageSize 2048.
//   raw:    the rest is written as is.
//   record: f1 f2 len:u16 body[len]  (a short last record takes what is left)
//     f1 bits 0-1 chunking: 0 one F chunk, 1 C..C F, 2 C..C A (abort), 3 C..C only
//        bit 2    keep the body's authentication token (default: the session's is put in)
//        bit 3    wrong token id; bit 4 wrong channel id; bit 5 skip a sequence number
//        bits 6-7 message type: 0/1 MSG, 2 CLO, 3 OPN (asymmetric None header)
//     f2 bit 0    wait for the response to this request (100 ms at most, 250 ms per input)
//        bit 1    write the body raw, without chunk headers
//        bits 2-7 chunk body size when split: 8 + 32 * (f2 >> 2)
//     In the body the u32 markers 0xC0DE0001/2/3 are replaced by the last subscription id,
//     monitored item id and notification sequence number the server sent (when known).
// After the input the harness half-closes and reads until the server closes (bounded).
//
// Findings abort(): the server not closing after EOF, a valid request without answer, malformed or
// misnumbered output (bad frames, sequence gaps, data after ERR, undecodable responses,
// responses that do not match the request's type), anything answered after a sequence gap or a
// MSG/CLO chunk for another channel or token (and no ERR for it), connections left open; every 64
// inputs a new session must still read a variable.

#include <cstddef>
#include <cstdint>

namespace tandem::opcua::fuzz_server {

/// Runs one input against the shared server (started on first use); aborts on a finding.
void run_one(const uint8_t* data, size_t size);

/// True when a fresh connection gets through HEL, OPN, CreateSession and ActivateSession and reads
/// a variable (aborts when the server does not answer in time).
bool server_serves_a_session();

/// Waits (bounded) until the server has no open connection; false if some stay open.
bool connections_drain();

/// Mode byte bits and record flags (for seed generators and tests).
namespace mode {
constexpr uint8_t prelude_none = 0, prelude_hello = 1, prelude_open = 2, prelude_session = 3;
constexpr uint8_t records = 1 << 2, small_buffers = 1 << 3, user_login = 1 << 4,
                  small_hel_limits = 1 << 5, abortive_close = 1 << 6, small_max_response = 1 << 7;
} // namespace mode
namespace f1 {
constexpr uint8_t single = 0, split = 1, split_abort = 2, split_open = 3;
constexpr uint8_t keep_token = 1 << 2, wrong_token = 1 << 3, wrong_channel = 1 << 4,
                  skip_sequence = 1 << 5, type_clo = 2 << 6, type_opn = 3 << 6;
} // namespace f1
namespace f2 {
constexpr uint8_t sync = 1 << 0, raw = 1 << 1;
constexpr uint8_t chunk_size(uint8_t n) {
  return static_cast<uint8_t>(n << 2);
}
} // namespace f2
constexpr uint32_t subscription_marker = 0xC0DE0001u;
constexpr uint32_t item_marker = 0xC0DE0002u;
constexpr uint32_t sequence_marker = 0xC0DE0003u;

} // namespace tandem::opcua::fuzz_server
