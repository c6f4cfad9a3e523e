// The SYNC channel's codec (transports/partner/sync_codec): every message round trips; every
// truncation of every message, garbage, and messages of unknown versions, types and kinds are
// refused with words, never a crash; pages are cut at their byte limit and never lose a row.

#include <random>

#include <gtest/gtest.h>

#include "transports/partner/sync_codec.hpp"

using namespace tandem;
namespace ps = tandem::partner::sync;

namespace {

history_row row(const std::string& origin, uint64_t term, uint64_t seq, size_t value_bytes = 6) {
  history_row r;
  r.pair = "line1";
  r.item = "ns=1;s=Sim.Counter" + std::to_string(seq % 3);
  r.time_ms = 1'767'225'600'000 + static_cast<int64_t>(seq) * 100;
  r.source_ms = seq % 2 ? r.time_ms : 0;
  r.recorded_ms = r.time_ms + 3;
  r.status = seq % 5 == 0 ? 0x80000000u : 0;
  r.value.assign(value_bytes, static_cast<uint8_t>(seq));
  r.origin = origin;
  r.stamp = {term, seq};
  return r;
}

tandem::alarm alm(const std::string& id, uint64_t seq) {
  tandem::alarm a;
  a.id = id;
  a.key = "comm:line1/primary";
  a.source = "server/line1/primary";
  a.text = "line1/primary lost: connection refused";
  a.active = seq % 2 == 0;
  a.acked = seq % 3 == 0;
  a.raised_ms = 1'767'225'600'000;
  a.cleared_ms = a.active ? 0 : a.raised_ms + 5;
  a.acked_ms = a.acked ? a.raised_ms + 9 : 0;
  a.origin = "plant-a";
  a.stamp = {2, seq};
  return a;
}

diag_event ev(uint64_t seq) {
  return diag_event{seq,
                    -5 + static_cast<int64_t>(seq),
                    severity::warning,
                    "plant-b",
                    "partner",
                    "partner_lost",
                    "partner plant-a lost: nothing received for 320 ms"};
}

bool same(const history_row& a, const history_row& b) {
  return a.pair == b.pair && a.item == b.item && a.time_ms == b.time_ms &&
         a.source_ms == b.source_ms && a.recorded_ms == b.recorded_ms && a.status == b.status &&
         a.value == b.value && a.origin == b.origin && a.stamp == b.stamp;
}

bool same(const tandem::alarm& a, const tandem::alarm& b) {
  return a.id == b.id && a.key == b.key && a.source == b.source && a.text == b.text &&
         a.active == b.active && a.acked == b.acked && a.raised_ms == b.raised_ms &&
         a.cleared_ms == b.cleared_ms && a.acked_ms == b.acked_ms && a.origin == b.origin &&
         a.stamp == b.stamp;
}

bool same(const diag_event& a, const diag_event& b) {
  return a.seq == b.seq && a.time_ms == b.time_ms && a.sev == b.sev && a.node == b.node &&
         a.source == b.source && a.kind == b.kind && a.text == b.text;
}

/// One of each message, for the truncation and garbage sweeps.
std::vector<std::vector<uint8_t>> samples() {
  size_t taken = 0;
  std::vector<history_row> rows{row("plant-a", 1, 1), row("plant-a", 1, 2), row("plant-b", 2, 7)};
  return {
      ps::encode_hello("plant-a"),
      ps::encode_refuse("no"),
      ps::encode_pull(7, ps::data_kind::history, 5000,
                      {{"plant-a", {1, 99}}, {"plant-b", {3, 12}}}),
      ps::encode_error(7, "cannot export history: disk I/O error"),
      ps::encode_history_page(7, rows, 0, true, 1 << 20, taken),
      ps::encode_alarm_page(8, {alm("plant-a:1", 4), alm("plant-a:2", 5)}, 0, false, 1 << 20,
                            taken),
      ps::encode_event_page(0, {ev(1), ev(2)}, 0, false, 1 << 20, taken),
      ps::encode_items("line1", {"nsu=urn:sim;s=Tag1", "i=2258"}, 0, 1 << 20, taken),
      ps::encode_gone("line1", {"nsu=urn:sim;s=Tag1", "i=2258"}, 0, 1 << 20, taken),
      ps::encode_items_end(300),
  };
}

TEST(sync_codec, hello_and_refuse_round_trip) {
  ps::sync_message m;
  ASSERT_EQ(ps::decode(ps::encode_hello("plant-a", 1, 3), m), "");
  EXPECT_EQ(m.type, ps::sync_type::hello);
  EXPECT_EQ(m.node, "plant-a");
  EXPECT_EQ(m.min_version, 1);
  EXPECT_EQ(m.max_version, 3);
  ASSERT_EQ(ps::decode(ps::encode_refuse("too new"), m), "");
  EXPECT_EQ(m.type, ps::sync_type::refuse);
  EXPECT_EQ(m.reason, "too new");
}

TEST(sync_codec, pull_and_error_round_trip) {
  ps::sync_message m;
  std::vector<origin_mark> marks{{"plant-a", {1, 99}}, {"plant-b", {UINT64_MAX, UINT64_MAX}}};
  ASSERT_EQ(ps::decode(ps::encode_pull(123456789012, ps::data_kind::events, 5000, marks), m), "");
  EXPECT_EQ(m.type, ps::sync_type::pull);
  EXPECT_EQ(m.request, 123456789012u);
  EXPECT_EQ(m.kind, ps::data_kind::events);
  EXPECT_EQ(m.limit, 5000u);
  ASSERT_EQ(m.marks.size(), 2u);
  EXPECT_EQ(m.marks[1].origin, "plant-b");
  EXPECT_EQ(m.marks[1].stamp.term, UINT64_MAX);
  EXPECT_EQ(m.marks[1].stamp.seq, UINT64_MAX);
  ASSERT_EQ(ps::decode(ps::encode_error(5, "disk full"), m), "");
  EXPECT_EQ(m.type, ps::sync_type::error);
  EXPECT_EQ(m.request, 5u);
  EXPECT_EQ(m.reason, "disk full");
}

TEST(sync_codec, history_pages_round_trip_with_names_sent_once) {
  std::vector<history_row> rows;
  for (uint64_t i = 1; i <= 300; ++i)
    rows.push_back(row(i % 2 ? "plant-a" : "plant-b", i / 100, i));
  rows[5].time_ms = -42; // a bad clock: before 1970
  rows[6].recorded_ms = INT64_MIN;
  rows[7].source_ms = INT64_MAX;
  rows[8].value.clear();
  size_t taken = 0;
  auto bytes = ps::encode_history_page(42, rows, 0, false, 1 << 20, taken);
  EXPECT_EQ(taken, rows.size());
  // Compact: pair, item and origin are named once per page, not once per row.
  EXPECT_LT(bytes.size(), rows.size() * 30);
  ps::sync_message m;
  ASSERT_EQ(ps::decode(bytes, m), "");
  EXPECT_EQ(m.type, ps::sync_type::page);
  EXPECT_EQ(m.kind, ps::data_kind::history);
  EXPECT_EQ(m.request, 42u);
  EXPECT_FALSE(m.more);
  ASSERT_EQ(m.rows.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i)
    EXPECT_TRUE(same(m.rows[i], rows[i])) << i;
}

TEST(sync_codec, alarm_and_event_pages_round_trip) {
  std::vector<tandem::alarm> alarms{alm("plant-a:1", 3), alm("plant-a:2", 4), alm("plant-b:1", 5)};
  size_t taken = 0;
  ps::sync_message m;
  ASSERT_EQ(ps::decode(ps::encode_alarm_page(9, alarms, 0, false, 1 << 20, taken), m), "");
  EXPECT_EQ(taken, 3u);
  ASSERT_EQ(m.alarms.size(), 3u);
  for (size_t i = 0; i < alarms.size(); ++i)
    EXPECT_TRUE(same(m.alarms[i], alarms[i])) << i;
  std::vector<diag_event> events{ev(1), ev(2), ev(UINT64_MAX)};
  events[1].sev = severity::critical;
  ASSERT_EQ(ps::decode(ps::encode_event_page(0, events, 0, true, 1 << 20, taken), m), "");
  EXPECT_EQ(m.request, 0u);
  EXPECT_TRUE(m.more);
  ASSERT_EQ(m.events.size(), 3u);
  for (size_t i = 0; i < events.size(); ++i)
    EXPECT_TRUE(same(m.events[i], events[i])) << i;
}

TEST(sync_codec, pages_are_cut_at_their_byte_limit_and_resume_where_they_stopped) {
  std::vector<history_row> rows;
  for (uint64_t i = 1; i <= 1000; ++i)
    rows.push_back(row("plant-a", 1, i, 100));
  std::vector<history_row> got;
  size_t first = 0;
  int pages = 0;
  while (first < rows.size()) {
    size_t taken = 0;
    auto bytes = ps::encode_history_page(1, rows, first, false, 16 * 1024, taken);
    EXPECT_LE(bytes.size(), 16u * 1024);
    ASSERT_GT(taken, 0u);
    ps::sync_message m;
    ASSERT_EQ(ps::decode(bytes, m), "");
    EXPECT_EQ(m.more, first + taken < rows.size()) << "more is set while rows are left";
    got.insert(got.end(), m.rows.begin(), m.rows.end());
    first += taken;
    ++pages;
  }
  EXPECT_GT(pages, 5);
  ASSERT_EQ(got.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i)
    EXPECT_TRUE(same(got[i], rows[i]));
}

TEST(sync_codec, a_value_too_large_for_any_page_travels_as_its_stamp) {
  std::vector<history_row> rows{row("plant-a", 1, 1, 50000)};
  size_t taken = 0;
  auto bytes = ps::encode_history_page(1, rows, 0, false, 4096, taken);
  EXPECT_EQ(taken, 1u);
  ps::sync_message m;
  ASSERT_EQ(ps::decode(bytes, m), "");
  ASSERT_EQ(m.rows.size(), 1u);
  EXPECT_TRUE(m.rows[0].value.empty());
  EXPECT_EQ(m.rows[0].status, ps::status_too_large);
  EXPECT_EQ(m.rows[0].stamp, (data_epoch{1, 1}));
}

TEST(sync_codec, items_round_trip_in_pieces_of_at_most_the_byte_limit) {
  std::vector<std::string> items;
  for (int i = 0; i < 500; ++i)
    items.push_back("nsu=urn:tandem:sim;s=Line1.Tag" + std::to_string(i));
  std::vector<std::string> got;
  int messages = 0;
  for (size_t first = 0; first < items.size();) {
    size_t taken = 0;
    auto bytes = ps::encode_items("line1", items, first, 2048, taken);
    ASSERT_GT(taken, 0u);
    EXPECT_LE(bytes.size(), 2048u);
    EXPECT_EQ(bytes[0], ps::items_version); // a version-1 partner is never sent one
    ps::sync_message m;
    ASSERT_EQ(ps::decode(bytes, m), "");
    EXPECT_EQ(m.type, ps::sync_type::items);
    EXPECT_EQ(m.pair, "line1");
    got.insert(got.end(), m.items.begin(), m.items.end());
    first += taken;
    ++messages;
  }
  EXPECT_GT(messages, 5);
  EXPECT_EQ(got, items);
  // The messages every version has keep saying version 1, so a version-1 partner reads them.
  EXPECT_EQ(ps::encode_pull(1, ps::data_kind::history, 10, {})[0], 1);
}

TEST(sync_codec, items_in_a_version_without_them_or_with_an_empty_id_are_refused) {
  size_t taken = 0;
  auto bytes = ps::encode_items("line1", {"i=2258"}, 0, 1 << 20, taken);
  bytes[0] = 1;
  ps::sync_message m;
  auto err = ps::decode(bytes, m);
  EXPECT_NE(err.find("came with version 2"), std::string::npos) << err;
  bytes = ps::encode_items("line1", {"i=2258", ""}, 0, 1 << 20, taken);
  err = ps::decode(bytes, m);
  EXPECT_NE(err.find("ITEMS node id 1 is empty"), std::string::npos) << err;
}

TEST(sync_codec, gone_round_trips_in_pieces_of_at_most_the_byte_limit) {
  std::vector<std::string> items;
  for (int i = 0; i < 300; ++i)
    items.push_back("nsu=urn:tandem:sim;s=Line1.Tag" + std::to_string(i));
  std::vector<std::string> got;
  int messages = 0;
  for (size_t first = 0; first < items.size();) {
    size_t taken = 0;
    auto bytes = ps::encode_gone("line2", items, first, 1024, taken);
    ASSERT_GT(taken, 0u);
    EXPECT_LE(bytes.size(), 1024u);
    EXPECT_EQ(bytes[0], ps::gone_version); // only a partner offering version 3 is sent one
    ps::sync_message m;
    ASSERT_EQ(ps::decode(bytes, m), "");
    EXPECT_EQ(m.type, ps::sync_type::gone);
    EXPECT_EQ(m.pair, "line2");
    got.insert(got.end(), m.items.begin(), m.items.end());
    first += taken;
    ++messages;
  }
  EXPECT_GT(messages, 5);
  EXPECT_EQ(got, items);
  // One NodeId larger than the limit still travels, alone.
  size_t taken = 0;
  std::string big(3000, 'x');
  ps::sync_message m;
  ASSERT_EQ(ps::decode(ps::encode_gone("line2", {"s=" + big, "i=1"}, 0, 1024, taken), m), "");
  EXPECT_EQ(taken, 1u);
  EXPECT_EQ(m.items, (std::vector<std::string>{"s=" + big}));
  // An empty GONE is well formed (nothing to forget).
  ASSERT_EQ(ps::decode(ps::encode_gone("line2", {}, 0, 1024, taken), m), "");
  EXPECT_EQ(taken, 0u);
  EXPECT_TRUE(m.items.empty());
}

TEST(sync_codec, items_end_round_trips_its_count) {
  for (uint64_t count : {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128}, UINT64_MAX}) {
    ps::sync_message m;
    auto bytes = ps::encode_items_end(count);
    EXPECT_EQ(bytes[0], ps::gone_version);
    ASSERT_EQ(ps::decode(bytes, m), "");
    EXPECT_EQ(m.type, ps::sync_type::items_end);
    EXPECT_EQ(m.count, count);
  }
}

TEST(sync_codec, gone_and_items_end_in_a_version_without_them_are_refused) {
  size_t taken = 0;
  for (int v : {1, 2}) {
    for (auto bytes :
         {ps::encode_gone("line1", {"i=2258"}, 0, 1 << 20, taken), ps::encode_items_end(1)}) {
      bytes[0] = static_cast<uint8_t>(v);
      ps::sync_message m;
      bool version = true;
      auto err = ps::decode(bytes, m, &version);
      EXPECT_NE(err.find("came with version 3"), std::string::npos) << err;
      EXPECT_FALSE(version); // a known version: not a reason to refuse the partner
    }
  }
  auto bytes = ps::encode_gone("line1", {"i=2258", ""}, 0, 1 << 20, taken);
  ps::sync_message m;
  auto err = ps::decode(bytes, m);
  EXPECT_NE(err.find("GONE node id 1 is empty"), std::string::npos) << err;
  // A version-2 node reads neither: it would refuse the version (checked here with a version
  // this build does not speak, which is how a version-2 node sees version 3).
  bytes[0] = ps::sync_version + 1;
  bool version = false;
  err = ps::decode(bytes, m, &version);
  EXPECT_TRUE(version);
  EXPECT_NE(err.find("version " + std::to_string(ps::sync_version + 1)), std::string::npos) << err;
}

TEST(sync_codec, truncated_gone_and_items_end_say_what_is_missing) {
  size_t taken = 0;
  auto gone = ps::encode_gone("line1", {"ns=1;s=A"}, 0, 1 << 20, taken);
  ps::sync_message m;
  // version, type, pair length 5, "line1", count 1, length 8, "ns=1;s=A"
  auto err = ps::decode(gone.data(), 4, m);
  EXPECT_NE(err.find("truncated: GONE pair needs 5 bytes"), std::string::npos) << err;
  err = ps::decode(gone.data(), 8, m);
  EXPECT_NE(err.find("item count"), std::string::npos) << err;
  err = ps::decode(gone.data(), gone.size() - 1, m);
  EXPECT_NE(err.find("GONE node id"), std::string::npos) << err;
  auto end = ps::encode_items_end(300); // 300 takes two varint bytes
  err = ps::decode(end.data(), 3, m);
  EXPECT_NE(err.find("ITEMS_END count ends inside its number"), std::string::npos) << err;
  // A count of items larger than the bytes left.
  std::vector<uint8_t> lying{
      ps::gone_version, static_cast<uint8_t>(ps::sync_type::gone), 1, 'x', 0x80, 0x80, 0x04};
  err = ps::decode(lying, m);
  EXPECT_NE(err.find("item count says 65536 but only 0 bytes are left"), std::string::npos) << err;
}

TEST(sync_codec, every_truncation_is_refused_with_a_reason) {
  for (auto& full : samples()) {
    for (size_t n = 0; n < full.size(); ++n) {
      ps::sync_message m;
      auto err = ps::decode(full.data(), n, m);
      // A HELLO may be extended by later versions, so only its own fields must be whole.
      EXPECT_FALSE(err.empty()) << "type " << int(full[1]) << " cut to " << n << " of "
                                << full.size() << " bytes was accepted";
      if (n >= 2) EXPECT_NE(err.find("sync"), std::string::npos) << err;
    }
  }
}

TEST(sync_codec, trailing_bytes_are_refused_except_after_a_hello) {
  for (auto& full : samples()) {
    auto longer = full;
    longer.push_back(0);
    ps::sync_message m;
    auto err = ps::decode(longer, m);
    if (full[1] == static_cast<uint8_t>(ps::sync_type::hello))
      EXPECT_EQ(err, "");
    else
      EXPECT_NE(err.find("unexpected bytes"), std::string::npos) << err;
  }
}

TEST(sync_codec, unknown_versions_types_and_kinds_are_refused_clearly) {
  ps::sync_message m;
  bool version = false;
  auto pull = ps::encode_pull(1, ps::data_kind::history, 10, {});
  pull[0] = 7;
  auto err = ps::decode(pull, m, &version);
  EXPECT_TRUE(version);
  EXPECT_NE(err.find("version 7"), std::string::npos) << err;
  EXPECT_NE(err.find("speaks version 1"), std::string::npos) << err;
  pull[0] = 0;
  EXPECT_FALSE(ps::decode(pull, m, &version).empty());
  EXPECT_TRUE(version);
  // A HELLO of a later version is still read: it says which versions the partner speaks.
  auto hello = ps::encode_hello("plant-a", 2, 3);
  ASSERT_EQ(ps::decode(hello, m, &version), "");
  EXPECT_FALSE(version);
  EXPECT_EQ(m.min_version, 2);
  EXPECT_EQ(ps::decode(ps::encode_hello("x", 3, 2), m).find("bad sync HELLO"), 0u);
  std::vector<uint8_t> unknown{1, 99};
  EXPECT_NE(ps::decode(unknown, m, &version).find("unknown sync message type 99"),
            std::string::npos);
  EXPECT_FALSE(version);
  pull = ps::encode_pull(1, ps::data_kind::history, 10, {});
  pull[3] = 9; // the kind
  EXPECT_NE(ps::decode(pull, m).find("unknown kind 9"), std::string::npos);
}

TEST(sync_codec, lying_counts_and_indices_are_refused_without_allocating) {
  ps::sync_message m;
  // A page claiming 2^60 rows in a handful of bytes.
  std::vector<uint8_t> b{1, 4, 1, 1, 0, 0, 0x80};
  for (int i = 0; i < 7; ++i)
    b.push_back(0xff);
  b.push_back(0x0f);
  auto err = ps::decode(b, m);
  EXPECT_NE(err.find("row count"), std::string::npos) << err;
  // A row naming string 5 of a page of one string.
  std::vector<uint8_t> c{1, 4, 1, 1, 0, 1, 1, 'a', 1, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  err = ps::decode(c, m);
  EXPECT_NE(err.find("names no string"), std::string::npos) << err;
  // A varint longer than 64 bits.
  std::vector<uint8_t> d{1, 3};
  for (int i = 0; i < 11; ++i)
    d.push_back(0xff);
  err = ps::decode(d, m);
  EXPECT_NE(err.find("larger than 64 bits"), std::string::npos) << err;
  // A severity that does not exist.
  size_t taken = 0;
  auto e = ps::encode_event_page(0, {ev(1)}, 0, false, 1 << 20, taken);
  e[8] = 9; // header (5 bytes), count, seq 1, time -4 (a byte each), then the severity
  err = ps::decode(e, m);
  EXPECT_NE(err.find("severity 9"), std::string::npos) << err;
}

TEST(sync_codec, random_garbage_never_crashes) {
  std::mt19937 rng(6);
  auto all = samples();
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> b;
    if (i % 2 == 0) {
      b.resize(rng() % 64);
      for (auto& x : b)
        x = static_cast<uint8_t>(rng());
      if (b.size() > 1) b[0] = 1;
    } else {
      // Mutations of valid messages reach deeper.
      b = all[rng() % all.size()];
      for (int k = 0; k < 3; ++k)
        b[rng() % b.size()] = static_cast<uint8_t>(rng());
    }
    ps::sync_message m;
    (void)ps::decode(b, m);
  }
  SUCCEED();
}

} // namespace
