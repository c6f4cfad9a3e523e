#include "transports/opcua/status_code.hpp"

#include <cstdio>
#include <cstring>

namespace tandem::opcua {
namespace {

struct status_entry {
  const char* name;
  uint32_t value;
};

constexpr status_entry status_table[] = {
#define TANDEM_OPCUA_STATUS_ENTRY(name, value) {#name, value##u},
    TANDEM_OPCUA_STATUS_CODES(TANDEM_OPCUA_STATUS_ENTRY)
#undef TANDEM_OPCUA_STATUS_ENTRY
};

} // namespace

const char* status_name(StatusCode sc) {
  for (const auto& e : status_table)
    if (e.value == sc.code()) return e.name;
  return nullptr;
}

std::string to_string(StatusCode sc) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08X", static_cast<unsigned>(sc.value));
  if (const char* name = status_name(sc)) return std::string(name) + " (" + hex + ")";
  return hex;
}

bool status_from_name(const std::string& name, StatusCode& out) {
  for (const auto& e : status_table) {
    if (name == e.name) {
      out = StatusCode{e.value};
      return true;
    }
  }
  return false;
}

} // namespace tandem::opcua
