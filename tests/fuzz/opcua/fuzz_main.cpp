// libFuzzer driver for the OPC UA codec: frame splitter, chunk assembler, service dispatchers,
// built-ins and text forms (see fuzz_entry.cpp). Seed corpus: tests/fuzz/opcua/corpus/.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/opcua/fuzz_entry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tandem::opcua::fuzz::run_one(data, size);
  return 0;
}
