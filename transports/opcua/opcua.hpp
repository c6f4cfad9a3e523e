#pragma once
/// The OPC UA binary codec in one include: built-in types, UA Binary reader/writer, UASC framing,
/// service messages and dispatchers, well-known node ids. See transports/opcua/README.md.

#include "transports/opcua/binary.hpp"
#include "transports/opcua/framing.hpp"
#include "transports/opcua/node_ids.hpp"
#include "transports/opcua/services.hpp"
#include "transports/opcua/status_code.hpp"
#include "transports/opcua/types.hpp"
