// libFuzzer driver for the OPC UA server face: one loopback connection per input to a server
// running in this process (see fuzz_entry.hpp for the input layout and what counts as a
// finding). Seed corpus: tests/fuzz/opcua_server/corpus/ (made by fuzz_opcua_server_seeds).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/opcua_server/fuzz_entry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tandem::opcua::fuzz_server::run_one(data, size);
  return 0;
}
