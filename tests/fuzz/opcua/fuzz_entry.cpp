#include "tests/fuzz/opcua/fuzz_entry.hpp"

#include "transports/opcua/binary.hpp"

namespace tandem::opcua::fuzz {

void run_one(const uint8_t* data, size_t size) {
  byte_span in(data, size);
  (void)decode_exact<Variant>(in);
  (void)decode_exact<DataValue>(in);
  (void)decode_exact<DiagnosticInfo>(in);
}

} // namespace tandem::opcua::fuzz
