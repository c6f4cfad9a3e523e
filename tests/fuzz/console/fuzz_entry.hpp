#pragma once
/// Fuzz target of the operator console: what arrives on the console socket, as lines, through the
/// CONSOLE actor to a real SUPERVISOR (one pair, no server links, fault injection on so `inject`
/// parses too), in virtual time. Each input is split at newlines into at most 64 command lines.
/// Properties checked (abort on failure): the node never crashes; every line gets at least one
/// reply; every reply is one JSON object.

#include <cstddef>
#include <cstdint>

namespace tandem::console_fuzz {

void run_one(const uint8_t* data, size_t size);

} // namespace tandem::console_fuzz
