#pragma once
// The fuzzing entry point, shared by the libFuzzer target and the corpus replay unit test.

#include <cstddef>
#include <cstdint>

namespace tandem::opcua::fuzz {

/// Runs one input through the codec; must never crash, leak or hit UB on any input.
void run_one(const uint8_t* data, size_t size);

} // namespace tandem::opcua::fuzz
