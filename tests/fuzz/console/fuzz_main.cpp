// libFuzzer driver for the operator console (see fuzz_entry.hpp). Seed corpus:
// tests/fuzz/console/corpus/.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/console/fuzz_entry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tandem::console_fuzz::run_one(data, size);
  return 0;
}
