#pragma once
// The partner link fuzzing entry point, shared by the libFuzzer target and the corpus replay unit
// test (tests/unit/partner/fuzz_corpus_test.cpp).
//
// Input layout: byte 0 = flags (bit 0: accept the peer's HELLO, else refuse it; bit 1: feed the
// rest in chunks of byte 1 + 1 bytes, else all at once; bit 2: once up, send a heartbeat, its
// answer and a SYNC; bit 3: a receive limit of 256 bytes instead of 16 MiB). The rest: bytes the
// peer sends to one session (frame decoder + handshake state machine).

#include <cstddef>
#include <cstdint>

namespace tandem::partner::fuzz {

/// Runs one input; aborts on a broken invariant (events after failure, up before HELLO and
/// accept, frames before up, output this codec cannot read back, a decode/encode round trip that
/// changes a message).
void run_one(const uint8_t* data, size_t size);

} // namespace tandem::partner::fuzz
