#include "transports/opcua/client/data_changes.hpp"

#include <gtest/gtest.h>

#include "transports/opcua/services.hpp"

namespace tandem::opcua {
namespace {

MonitoredItemNotification item(uint32_t handle, DataValue v) {
  MonitoredItemNotification n;
  n.client_handle = handle;
  n.value = std::move(v);
  return n;
}

DataChangeNotification three_items() {
  DataChangeNotification dc;
  DataValue a(Variant(42.5));
  a.source_timestamp = DateTime(1234567);
  a.server_timestamp = DateTime(1234999);
  DataValue b; // status only, no timestamps
  b.status = status::BadNoCommunication;
  DataValue c(Variant(String("text")));
  c.source_timestamp = DateTime(7);
  c.source_picoseconds = 3;
  dc.monitored_items.push_back(item(7, a));
  dc.monitored_items.push_back(item(8, b));
  dc.monitored_items.push_back(item(9, c));
  return dc;
}

ExtensionObject wrap(const DataChangeNotification& dc) {
  auto eo = make_extension_object(dc);
  EXPECT_TRUE(eo);
  return *eo;
}

TEST(append_data_changes, gives_each_item_with_the_value_bytes_as_received) {
  auto dc = three_items();
  std::vector<item_update> out;
  ASSERT_TRUE(append_data_changes(wrap(dc), out));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].handle, 7u);
  EXPECT_EQ(out[0].source_time, 1234567);
  EXPECT_EQ(out[0].status, status::Good.value);
  EXPECT_EQ(out[1].handle, 8u);
  EXPECT_EQ(out[1].source_time, 0);
  EXPECT_EQ(out[1].status, status::BadNoCommunication.value);
  EXPECT_EQ(out[2].handle, 9u);
  EXPECT_EQ(out[2].source_time, 7);
  for (size_t i = 0; i < 3; ++i) {
    // The bytes are the DataValue's encoding (what encoding the decoded value again gave).
    auto encoded = encode_to_vector(dc.monitored_items[i].value);
    ASSERT_TRUE(encoded);
    EXPECT_EQ(out[i].value, *encoded) << "item " << i;
    auto back = decode_exact<DataValue>(byte_span(out[i].value));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, dc.monitored_items[i].value);
  }
}

TEST(append_data_changes, appends_after_what_is_there) {
  std::vector<item_update> out(1);
  out[0].handle = 99;
  ASSERT_TRUE(append_data_changes(wrap(three_items()), out));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].handle, 99u);
  EXPECT_EQ(out[1].handle, 7u);
}

TEST(append_data_changes, an_empty_or_null_list_adds_nothing) {
  std::vector<item_update> out;
  EXPECT_TRUE(append_data_changes(wrap(DataChangeNotification{}), out));
  EXPECT_TRUE(out.empty());
  DataChangeNotification null_list;
  null_list.monitored_items.set_null();
  EXPECT_TRUE(append_data_changes(wrap(null_list), out));
  EXPECT_TRUE(out.empty());
}

TEST(append_data_changes, other_notifications_are_not_data) {
  StatusChangeNotification sc;
  sc.status = status::BadShutdown;
  auto eo = make_extension_object(sc);
  ASSERT_TRUE(eo);
  std::vector<item_update> out;
  EXPECT_FALSE(append_data_changes(*eo, out));
  EXPECT_TRUE(out.empty());
}

TEST(append_data_changes, a_body_that_does_not_decode_whole_adds_nothing) {
  auto eo = wrap(three_items());
  std::vector<item_update> out(1);
  // Cut inside the last item: the first two decoded already, and are taken back.
  auto cut = eo;
  cut.body.mutable_bytes().resize(eo.body.span().size - 6);
  EXPECT_FALSE(append_data_changes(cut, out));
  EXPECT_EQ(out.size(), 1u);
  // Trailing bytes after the diagnostic infos.
  auto longer = eo;
  longer.body.mutable_bytes().push_back(0);
  EXPECT_FALSE(append_data_changes(longer, out));
  EXPECT_EQ(out.size(), 1u);
  // Not a binary body.
  auto xml = eo;
  xml.encoding = ExtensionObjectEncoding::Xml;
  EXPECT_FALSE(append_data_changes(xml, out));
  EXPECT_EQ(out.size(), 1u);
}

} // namespace
} // namespace tandem::opcua
