// libFuzzer driver for the partner link's frame decoder and handshake state machine (see
// fuzz_entry.hpp). Seed corpus: tests/fuzz/partner/corpus/.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/partner/fuzz_entry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tandem::partner::fuzz::run_one(data, size);
  return 0;
}
