// `tandem sim` against the project's own OPC UA client (ua_client, in this process): read,
// write, browse and subscribe; two simulation servers on one config publishing the same
// (value, source timestamp) pairs; the stdin test controls as subscribers see them.

#include <cmath>
#include <map>
#include <set>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <gtest/gtest.h>

#include "sim_harness.hpp"
#include "transports/opcua/client/values.hpp"

using namespace tandem;
using namespace tandem::opcua;
using namespace std::chrono_literals;

namespace {

NodeId sim_node(const std::string& path) {
  return NodeId(1, String(path));
}

class ua_client_sim_it : public ::testing::Test {
protected:
  ua_client_sim_it() : work_(boost::asio::make_work_guard(io_)) {
    thread_ = std::thread([this] { io_.run(); });
  }
  ~ua_client_sim_it() override {
    sessions_.clear();
    work_.reset();
    io_.stop();
    thread_.join();
  }

  test::ua_session& session(const test::sim_process& sim) {
    sessions_.push_back(std::make_unique<test::ua_session>(io_, sim.url()));
    auto e = sessions_.back()->connect();
    EXPECT_FALSE(e) << e->reason;
    return *sessions_.back();
  }

  test::temp_dir dir_;
  boost::asio::io_context io_;

private:
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
  std::vector<std::unique_ptr<test::ua_session>> sessions_;
};

TEST_F(ua_client_sim_it, own_client_reads_writes_browses_and_subscribes) {
  constexpr int64_t rate = 50;
  test::sim_process sim(dir_, {"--rate-ms", std::to_string(rate), "--items", "12"});
  ASSERT_TRUE(sim.ok()) << sim.why();
  auto& s = session(sim);
  // Until the first tick boundary after start-up the values carry the start-up instant as
  // their source timestamp (see values_read_before_the_first_tick_are_stamped_on_the_grid):
  // wait for a tick.
  ASSERT_TRUE(test::wait_for(
      [&] {
        auto c = s.read({sim_node("Sim.Counter")});
        return c && c->at(0).source_timestamp &&
               test::unix_ms(*c->at(0).source_timestamp) % rate == 0;
      },
      5s));

  // Read: types, Good, source timestamps on the tick grid.
  auto r = s.read({sim_node("Sim.Counter"), sim_node("Sim.Sine"), sim_node("Sim.Heartbeat"),
                   sim_node("Sim.Text"), sim_node("Sim.Array"), sim_node("Sim.Item0011"),
                   NodeId(node_ids::Server_ServiceLevel), sim_node("Sim.Nope")});
  ASSERT_TRUE(r) << r.error().reason;
  auto& v = *r;
  for (size_t i = 0; i + 1 < v.size(); ++i)
    EXPECT_TRUE(v[i].status_or_good().is_good()) << i << " " << to_string(v[i].status_or_good());
  ASSERT_TRUE(v[0].value && v[0].value->get_if<int32_t>());
  ASSERT_TRUE(v[1].value && v[1].value->get_if<double>());
  EXPECT_LE(std::abs(*v[1].value->get_if<double>()), 1.0);
  ASSERT_TRUE(v[2].value && v[2].value->get_if<bool>());
  ASSERT_TRUE(v[3].value && v[3].value->get_if<String>());
  EXPECT_EQ(v[3].value->get_if<String>()->str(), "hello");
  ASSERT_TRUE(v[4].value && v[4].value->get_if<Array<double>>());
  EXPECT_EQ(v[4].value->get_if<Array<double>>()->size(), 10u);
  ASSERT_TRUE(v[5].value && v[5].value->get_if<double>());
  ASSERT_TRUE(v[6].value && v[6].value->get_if<uint8_t>());
  EXPECT_EQ(*v[6].value->get_if<uint8_t>(), 255);
  EXPECT_EQ(v[7].status_or_good().code(), status::BadNodeIdUnknown.code());
  for (size_t i : {0u, 1u, 2u, 4u, 5u}) {
    ASSERT_TRUE(v[i].source_timestamp) << i;
    EXPECT_EQ(test::unix_ms(*v[i].source_timestamp) % rate, 0) << i;
    EXPECT_TRUE(v[i].server_timestamp) << i;
  }
  int64_t k = test::unix_ms(*v[0].source_timestamp) / rate;
  EXPECT_EQ(*v[0].value->get_if<int32_t>(), static_cast<int32_t>(k % 2147483648LL));
  EXPECT_EQ(v[4].value->get_if<Array<double>>()->at(0), static_cast<double>(k));

  // Write: writable variables take their type, others refuse.
  auto w = s.write(sim_node("Sim.Setpoint"), Variant(2.25));
  ASSERT_TRUE(w) << w.error().reason;
  EXPECT_TRUE(w->is_good()) << to_string(*w);
  w = s.write(sim_node("Sim.Text"), Variant(String("from tandem")));
  ASSERT_TRUE(w) << w.error().reason;
  EXPECT_TRUE(w->is_good()) << to_string(*w);
  w = s.write(sim_node("Sim.Counter"), Variant(int32_t{5}));
  ASSERT_TRUE(w) << w.error().reason;
  EXPECT_EQ(w->code(), status::BadNotWritable.code()) << to_string(*w);
  w = s.write(sim_node("Sim.Setpoint"), Variant(String("2.5")));
  ASSERT_TRUE(w) << w.error().reason;
  EXPECT_EQ(w->code(), status::BadTypeMismatch.code()) << to_string(*w);
  auto back = s.read({sim_node("Sim.Setpoint"), sim_node("Sim.Text")});
  ASSERT_TRUE(back) << back.error().reason;
  EXPECT_EQ(*back->at(0).value->get_if<double>(), 2.25);
  EXPECT_EQ(back->at(1).value->get_if<String>()->str(), "from tandem");

  // Browse Sim in pages of 5 (continuation points).
  auto refs = s.browse(sim_node("Sim"), 5);
  ASSERT_TRUE(refs) << refs.error().reason;
  std::set<std::string> names;
  for (auto& ref : *refs) {
    EXPECT_EQ(ref.node_class, NodeClass::Variable) << ref.browse_name.name.str();
    EXPECT_EQ(ref.browse_name.namespace_index, 1);
    EXPECT_EQ(ref.node_id.node_id.to_string(), "ns=1;s=Sim." + ref.browse_name.name.str());
    names.insert(ref.browse_name.name.str());
  }
  EXPECT_EQ(names.size(), 8u + 12u);
  for (const char* n : {"Counter", "Ramp", "Sine", "Heartbeat", "Random", "Setpoint", "Text",
                        "Array", "Item0000", "Item0011"})
    EXPECT_TRUE(names.count(n)) << n;

  // Subscribe: every tick of the counter, in order, and a write seen by the subscriber.
  auto sub = test::ua_subscription::create(
      s, {sim_node("Sim.Counter"), sim_node("Sim.Heartbeat"), sim_node("Sim.Setpoint")},
      static_cast<double>(rate), 10);
  ASSERT_TRUE(sub) << sub.error().reason;
  auto& su = **sub;
  for (auto& st : su.item_status())
    EXPECT_TRUE(st.is_good()) << to_string(st);
  ASSERT_TRUE(test::wait_for([&] { return su.count_of(0) >= 15; }, 10s)) << su.count_of(0);
  w = s.write(sim_node("Sim.Setpoint"), Variant(-1.5));
  ASSERT_TRUE(w && w->is_good());
  ASSERT_TRUE(test::wait_for(
      [&] {
        auto sp = su.samples_of(2);
        return !sp.empty() && sp.back().value.value->get_if<double>() &&
               *sp.back().value.value->get_if<double>() == -1.5;
      },
      5s));
  EXPECT_EQ(*su.samples_of(2).front().value.value->get_if<double>(), 2.25) << "initial value";
  auto counter = su.samples_of(0);
  int skipped = 0;
  for (size_t i = 1; i < counter.size(); ++i) {
    int64_t t0 = test::unix_ms(*counter[i - 1].value.source_timestamp);
    int64_t t1 = test::unix_ms(*counter[i].value.source_timestamp);
    ASSERT_GT(t1, t0) << "out of order at " << i;
    EXPECT_EQ(t1 % rate, 0);
    int32_t c0 = *counter[i - 1].value.value->get_if<int32_t>();
    int32_t c1 = *counter[i].value.value->get_if<int32_t>();
    EXPECT_EQ(static_cast<int64_t>(c1) - c0, (t1 - t0) / rate) << "value follows the tick";
    skipped += static_cast<int>((t1 - t0) / rate - 1);
  }
  EXPECT_LE(skipped, 3) << "ticks missing from the stream";
  for (auto& hb : su.samples_of(1)) {
    int64_t kk = test::unix_ms(*hb.value.source_timestamp) / rate;
    EXPECT_EQ(*hb.value.value->get_if<bool>(), kk % 2 == 0);
  }
  EXPECT_FALSE(su.stopped()) << su.stop_reason();
  EXPECT_FALSE(s.lost());
}

// Values read before the first tick boundary are already the current tick's, stamped with it.
TEST_F(ua_client_sim_it, values_read_before_the_first_tick_are_stamped_on_the_grid) {
  // A one-minute tick: the read below comes long before the next boundary.
  constexpr int64_t rate = 60000;
  test::sim_process sim(dir_, {"--rate-ms", std::to_string(rate), "--items", "1"});
  ASSERT_TRUE(sim.ok()) << sim.why();
  auto& s = session(sim);
  auto r = s.read({sim_node("Sim.Counter"), sim_node("Sim.Sine"), sim_node("Sim.Array"),
                   sim_node("Sim.Item0000")});
  ASSERT_TRUE(r) << r.error().reason;
  for (auto& dv : *r) {
    ASSERT_TRUE(dv.source_timestamp);
    EXPECT_EQ(test::unix_ms(*dv.source_timestamp) % rate, 0)
        << "stamped " << dv.source_timestamp->to_rfc3339();
  }
  int64_t k = test::unix_ms(*r->at(0).source_timestamp) / rate;
  EXPECT_EQ(*r->at(0).value->get_if<int32_t>(), static_cast<int32_t>(k % 2147483648LL));
}

// Two servers started at different moments from one config: at every tick both ran, each
// variable has the same value with the same source timestamp.
TEST_F(ua_client_sim_it, two_sims_with_one_config_publish_identical_streams) {
  auto cfg = dir_.write("det.toml", R"([server]
rate_ms = 50

[[folder]]
name = "Det"

[[folder.variable]]
name = "Counter"
type = "Int32"
generator = "counter"

[[folder.variable]]
name = "Sine"
generator = "sine"
period_ms = 1000
min = -5.0
max = 5.0

[[folder.variable]]
name = "Random"
generator = "random"
seed = 42

[[folder.variable]]
name = "Dice"
type = "Int16"
generator = "random"
min = 1
max = 6
seed = 7

[[folder.variable]]
name = "Ramp"
type = "Float"
generator = "ramp"
period_ms = 700
min = 0.0
max = 10.0

[[folder.variable]]
name = "Square"
type = "Boolean"
generator = "square"
period_ms = 300

[[folder.variable]]
name = "Slow"
type = "UInt32"
generator = "counter"
rate_ms = 150

[[folder.variable]]
name = "Wave"
generator = "sine"
length = 4
period_ms = 2000

[[folder.folder]]
name = "Sub"

[[folder.folder.variable]]
name = "Noise"
generator = "random"
count = 3
)");
  const std::vector<std::pair<std::string, int64_t>> items{
      {"Det.Counter", 50},       {"Det.Sine", 50},         {"Det.Random", 50}, {"Det.Dice", 50},
      {"Det.Ramp", 50},          {"Det.Square", 50},       {"Det.Slow", 150},  {"Det.Wave", 50},
      {"Det.Sub.Noise0000", 50}, {"Det.Sub.Noise0002", 50}};
  std::vector<NodeId> ids;
  for (auto& [path, rate] : items)
    ids.push_back(sim_node(path));

  test::sim_process a(dir_, {"-c", cfg}, "sim-a");
  ASSERT_TRUE(a.ok()) << a.why();
  auto& sa = session(a);
  auto suba = test::ua_subscription::create(sa, ids, 50, 20);
  ASSERT_TRUE(suba) << suba.error().reason;
  // The second one starts a little later: the streams must line up anyway.
  ASSERT_TRUE(test::wait_for([&] { return (*suba)->count_of(0) >= 3; }, 5s));
  test::sim_process b(dir_, {"-c", cfg}, "sim-b");
  ASSERT_TRUE(b.ok()) << b.why();
  auto& sb = session(b);
  auto subb = test::ua_subscription::create(sb, ids, 50, 20);
  ASSERT_TRUE(subb) << subb.error().reason;
  for (auto* sub : {&*suba, &*subb})
    for (auto& st : (*sub)->item_status())
      ASSERT_TRUE(st.is_good()) << to_string(st);

  using stream = std::map<int64_t, Variant>;
  auto streams = [&](const test::ua_subscription& sub) {
    std::vector<stream> out(items.size());
    for (auto& smp : sub.samples())
      if (smp.value.source_timestamp && smp.value.value)
        out[smp.handle][test::unix_ms(*smp.value.source_timestamp)] = *smp.value.value;
    return out;
  };
  auto common = [](const stream& x, const stream& y) {
    std::vector<int64_t> ts;
    for (auto& [t, _] : x)
      if (y.count(t)) ts.push_back(t);
    return ts;
  };
  constexpr size_t wanted = 10;
  bool enough = test::wait_for(
      [&] {
        auto xa = streams(**suba), xb = streams(**subb);
        for (size_t i = 0; i < items.size(); ++i)
          if (common(xa[i], xb[i]).size() < wanted) return false;
        return true;
      },
      15s);
  auto xa = streams(**suba), xb = streams(**subb);
  size_t compared = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    auto ts = common(xa[i], xb[i]);
    EXPECT_GE(ts.size(), wanted) << items[i].first << ": " << xa[i].size() << " / " << xb[i].size()
                                 << " values";
    // On the variable's own tick grid; the first value of each stream is left out: it may be
    // the start-up value, stamped off the grid (values_read_before_the_first_tick_...).
    for (auto* x : {&xa[i], &xb[i]})
      for (auto it = x->empty() ? x->end() : std::next(x->begin()); it != x->end(); ++it)
        EXPECT_EQ(it->first % items[i].second, 0) << items[i].first << " at " << it->first;
    for (auto t : ts) {
      EXPECT_TRUE(xa[i][t] == xb[i][t]) << items[i].first << " at " << t << ": "
                                        << to_text(xa[i][t]) << " vs " << to_text(xb[i][t]);
      ++compared;
    }
  }
  EXPECT_TRUE(enough);
  // The values do move (a broken generator that always says 0 would pass the comparison).
  std::set<std::string> distinct;
  for (auto& [t, val] : xa[2])
    distinct.insert(to_text(val));
  EXPECT_GE(distinct.size(), wanted - 1) << "Det.Random hardly changes";
  std::printf("[ figures ] determinism: %zu (value, timestamp) pairs compared over %zu items\n",
              compared, items.size());
}

TEST_F(ua_client_sim_it, stdin_controls_are_seen_by_subscribers) {
  constexpr int64_t rate = 50;
  test::sim_process sim(dir_, {"--rate-ms", std::to_string(rate), "--items", "0"});
  ASSERT_TRUE(sim.ok()) << sim.why();
  auto& s = session(sim);
  auto created = test::ua_subscription::create(s,
                                               {sim_node("Sim.Counter"), sim_node("Sim.Ramp"),
                                                NodeId(node_ids::Server_ServiceLevel),
                                                NodeId(node_ids::Server_ServerStatus_State)},
                                               static_cast<double>(rate), 20);
  ASSERT_TRUE(created) << created.error().reason;
  auto& sub = **created;
  ASSERT_TRUE(test::wait_for([&] { return sub.count_of(0) >= 3 && sub.count_of(2) >= 1; }, 5s));
  for (auto& c : sub.samples_of(0))
    EXPECT_TRUE(c.value.status_or_good().is_good());

  constexpr uint32_t sensor_failure = 0x808C0000u; // BadSensorFailure
  // bad: the forced status reaches subscribers and stays on the following ticks.
  ASSERT_EQ(sim.command("bad Sim.Counter BadSensorFailure"), "ok bad Sim.Counter");
  size_t first_bad = 0;
  ASSERT_TRUE(test::wait_for(
      [&] {
        auto c = sub.samples_of(0);
        for (size_t i = 0; i < c.size(); ++i)
          if (c[i].value.status_or_good().code() == sensor_failure) {
            first_bad = i;
            return c.size() >= i + 4;
          }
        return false;
      },
      5s))
      << "no BadSensorFailure seen";
  {
    auto c = sub.samples_of(0);
    for (size_t i = first_bad; i < c.size(); ++i)
      EXPECT_EQ(c[i].value.status_or_good().code(), sensor_failure) << i;
    EXPECT_TRUE(c.back().value.value) << "a bad value still carries the tick's value";
  }
  EXPECT_TRUE(sub.samples_of(1).back().value.status_or_good().is_good())
      << "only the named variable";

  // good: back to Good.
  size_t before = sub.count_of(0);
  ASSERT_EQ(sim.command("good Sim.Counter"), "ok good Sim.Counter");
  ASSERT_TRUE(test::wait_for(
      [&] {
        auto c = sub.samples_of(0);
        return c.size() > before + 2 && c.back().value.status_or_good().is_good();
      },
      5s));
  {
    auto c = sub.samples_of(0);
    bool good_seen = false;
    for (size_t i = before; i < c.size(); ++i) {
      if (c[i].value.status_or_good().is_good()) good_seen = true;
      if (good_seen) EXPECT_TRUE(c[i].value.status_or_good().is_good()) << i;
    }
  }

  // freeze: no tick after the command changes the counter while the ramp goes on.
  ASSERT_EQ(sim.command("freeze Sim.Counter"), "ok freeze Sim.Counter");
  int64_t frozen_at = DateTime::now().to_unix_ms();
  ASSERT_TRUE(test::wait_for(
      [&] {
        auto r = sub.samples_of(1);
        return !r.empty() &&
               test::unix_ms(*r.back().value.source_timestamp) >= frozen_at + 10 * rate;
      },
      5s))
      << "the ramp stopped too";
  auto c = sub.samples_of(0);
  for (auto& x : c)
    EXPECT_LE(test::unix_ms(*x.value.source_timestamp), frozen_at)
        << "Sim.Counter changed after freeze";
  auto frozen = s.read({sim_node("Sim.Counter")});
  ASSERT_TRUE(frozen);
  EXPECT_TRUE(frozen->at(0).value == c.back().value.value) << "read and subscription agree";

  // thaw: ticks again.
  ASSERT_EQ(sim.command("thaw Sim.Counter"), "ok thaw Sim.Counter");
  int64_t thawed_at = DateTime::now().to_unix_ms();
  ASSERT_TRUE(test::wait_for(
      [&] {
        auto cc = sub.samples_of(0);
        return !cc.empty() && test::unix_ms(*cc.back().value.source_timestamp) > thawed_at;
      },
      5s));

  // service_level: readable at i=2267 and pushed to subscribers.
  ASSERT_EQ(sim.command("service_level 7"), "ok service_level 7");
  auto sl = s.read({NodeId(node_ids::Server_ServiceLevel)});
  ASSERT_TRUE(sl) << sl.error().reason;
  ASSERT_TRUE(sl->at(0).value && sl->at(0).value->get_if<uint8_t>());
  EXPECT_EQ(*sl->at(0).value->get_if<uint8_t>(), 7);
  EXPECT_TRUE(test::wait_for(
      [&] {
        auto x = sub.samples_of(2);
        return !x.empty() && x.back().value.value->get_if<uint8_t>() &&
               *x.back().value.value->get_if<uint8_t>() == 7;
      },
      5s));

  // state: ServerStatus.State (i=2259).
  ASSERT_EQ(sim.command("state Suspended"), "ok state Suspended");
  auto st = s.read({NodeId(node_ids::Server_ServerStatus_State)});
  ASSERT_TRUE(st) << st.error().reason;
  EXPECT_EQ(*st->at(0).value->get_if<int32_t>(), 3); // Suspended
  EXPECT_TRUE(test::wait_for(
      [&] {
        auto x = sub.samples_of(3);
        return !x.empty() && x.back().value.value->get_if<int32_t>() &&
               *x.back().value.value->get_if<int32_t>() == 3;
      },
      5s));

  // Mistakes are answered, not fatal.
  EXPECT_EQ(sim.command("bad Sim.Nope"), "error no variable ns=1;s=Sim.Nope");
  EXPECT_EQ(sim.command("bad Sim.Counter NotAStatus").rfind("error ", 0), 0u);
  EXPECT_EQ(sim.command("service_level 300").rfind("error ", 0), 0u);
  EXPECT_EQ(sim.command("frobnicate").rfind("error unknown command", 0), 0u);
  EXPECT_FALSE(s.lost());

  // stop: a clean exit.
  EXPECT_EQ(sim.command("stop"), "ok stop");
  auto code = sim.proc().wait(5s);
  ASSERT_TRUE(code) << "tandem sim did not exit after stop";
  EXPECT_EQ(*code, 0);
}

} // namespace
