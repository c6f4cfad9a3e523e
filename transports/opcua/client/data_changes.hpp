#pragma once
/// The data path of a subscription: a DataChangeNotification's items as the item_updates the
/// OPC-SERVER actor takes, each value the DataValue's bytes exactly as the server encoded them.

#include <vector>

#include "messages/server.hpp"
#include "transports/opcua/types.hpp"

namespace tandem::opcua {

/// Appends the items of the DataChangeNotification in `eo` to `out`, in order: client handle,
/// source timestamp (ticks, 0 when absent), status (Good when absent) and the DataValue's bytes
/// as received (sliced from the body, not decoded into a vector and encoded again). False, and
/// `out` unchanged, when `eo` is not a binary DataChangeNotification or does not decode whole.
bool append_data_changes(const ExtensionObject& eo, std::vector<item_update>& out);

} // namespace tandem::opcua
