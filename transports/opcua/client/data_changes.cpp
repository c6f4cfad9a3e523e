#include "transports/opcua/client/data_changes.hpp"

#include "transports/opcua/services.hpp"

namespace tandem::opcua {

bool append_data_changes(const ExtensionObject& eo, std::vector<item_update>& out) {
  if (!eo.type_id.is(DataChangeNotification::binary_encoding_id) ||
      eo.encoding != ExtensionObjectEncoding::Binary)
    return false;
  // The same checks and limits as decode_exact<DataChangeNotification>, one item at a time: no
  // vector of decoded notifications (200 bytes each) and no encoding of each value again.
  byte_span body = eo.body.span();
  reader r(body);
  uint32_t n = 0;
  bool null = false;
  if (!r.read_array_length(n, null, min_wire_size<MonitoredItemNotification>(),
                           sizeof(MonitoredItemNotification)))
    return false;
  const size_t first = out.size();
  out.reserve(first + n);
  for (uint32_t i = 0; i < n && !null; ++i) {
    item_update u;
    r.read(u.handle);
    size_t start = r.offset();
    DataValue dv;
    decode(r, dv);
    if (!r.ok()) break;
    u.source_time = dv.source_timestamp ? dv.source_timestamp->ticks : 0;
    u.status = dv.status_or_good().value;
    u.value.assign(body.data + start, body.data + r.offset());
    out.push_back(std::move(u));
  }
  if (r.ok()) {
    Array<DiagnosticInfo> diagnostics;
    decode(r, diagnostics);
  }
  if (!r.ok() || !r.at_end()) {
    out.resize(first);
    return false;
  }
  return true;
}

} // namespace tandem::opcua
