// The simulation engine: generators as functions of the tick, the address space it builds,
// ticks aligned to wall-clock multiples of the rate, identical streams from two simulations,
// and the test controls (forced status, freeze).

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <gtest/gtest.h>

#include "transports/opcua/sim/simulation.hpp"

using namespace tandem;
using namespace tandem::opcua;
using config::sim_generator;
using config::sim_variable;
using namespace std::chrono_literals;

namespace {

sim_variable var(sim_generator g, std::string type = "Double") {
  sim_variable v;
  v.name = "V";
  v.type = std::move(type);
  v.generator = g;
  return v;
}

template <class T> T scalar(const Variant& v) {
  auto* p = v.get_if<T>();
  EXPECT_NE(p, nullptr);
  return p ? *p : T{};
}

TEST(SimGenerators, AreFunctionsOfTheTick) {
  auto counter = var(sim_generator::counter, "Int32");
  counter.min = 10;
  counter.max = 14;
  EXPECT_EQ(scalar<int32_t>(sim_value(counter, 100, 0, 0)), 10);
  EXPECT_EQ(scalar<int32_t>(sim_value(counter, 100, 0, 4)), 14);
  EXPECT_EQ(scalar<int32_t>(sim_value(counter, 100, 0, 5)), 10); // wraps
  EXPECT_EQ(scalar<int32_t>(sim_value(counter, 100, 0, 1000003)), 13);

  auto ramp = var(sim_generator::ramp);
  ramp.period_ms = 1000; // 10 ticks of 100 ms per period, 0..100
  EXPECT_DOUBLE_EQ(scalar<double>(sim_value(ramp, 100, 0, 0)), 0);
  EXPECT_DOUBLE_EQ(scalar<double>(sim_value(ramp, 100, 0, 5)), 50);
  EXPECT_DOUBLE_EQ(scalar<double>(sim_value(ramp, 100, 0, 13)), 30);

  auto sine = var(sim_generator::sine);
  sine.min = -1;
  sine.max = 1;
  sine.period_ms = 400;
  EXPECT_NEAR(scalar<double>(sim_value(sine, 100, 0, 0)), 0, 1e-12);
  EXPECT_NEAR(scalar<double>(sim_value(sine, 100, 0, 1)), 1, 1e-12);
  EXPECT_NEAR(scalar<double>(sim_value(sine, 100, 0, 3)), -1, 1e-12);

  auto square = var(sim_generator::square, "Boolean");
  square.period_ms = 200;
  EXPECT_TRUE(scalar<bool>(sim_value(square, 100, 0, 0)));
  EXPECT_FALSE(scalar<bool>(sim_value(square, 100, 0, 1)));
  EXPECT_TRUE(scalar<bool>(sim_value(square, 100, 0, 2)));

  auto dt = var(sim_generator::counter, "DateTime");
  EXPECT_EQ(scalar<DateTime>(sim_value(dt, 250, 0, 8)), DateTime::from_unix_ms(2000));
  auto text = var(sim_generator::counter, "String");
  EXPECT_EQ(scalar<String>(sim_value(text, 100, 0, 42)).str(), "42");
}

TEST(SimGenerators, RandomIsRepeatableAndStaysInItsRange) {
  auto r = var(sim_generator::random, "Int16");
  r.min = -3;
  r.max = 3;
  std::map<int16_t, int> seen;
  for (int64_t k = 0; k < 2000; ++k) {
    auto a = scalar<int16_t>(sim_value(r, 100, 12345, k));
    EXPECT_EQ(a, scalar<int16_t>(sim_value(r, 100, 12345, k)));
    ASSERT_GE(a, -3);
    ASSERT_LE(a, 3);
    ++seen[a];
  }
  EXPECT_EQ(seen.size(), 7u); // every value of the range comes up
  // Another node (hash) or seed gives another sequence.
  int same = 0;
  auto seeded = r;
  seeded.seed = 99;
  for (int64_t k = 0; k < 100; ++k)
    same +=
        scalar<int16_t>(sim_value(r, 100, 1, k)) == scalar<int16_t>(sim_value(seeded, 100, 1, k));
  EXPECT_LT(same, 40);
}

TEST(SimGenerators, ArrayElementsFollowConsecutiveTicks) {
  auto v = var(sim_generator::counter, "UInt16");
  v.length = 4;
  auto a = sim_value(v, 100, 0, 7);
  auto* arr = a.get_if<Array<uint16_t>>();
  ASSERT_NE(arr, nullptr);
  EXPECT_EQ(*arr, (Array<uint16_t>{7, 8, 9, 10}));
}

/// A simulation on 127.0.0.1:0 with its io_context on a thread.
class running_sim {
public:
  explicit running_sim(config::sim_config cfg) : sim(io, std::move(cfg)) {
    cfg_port = sim.start();
    thread = std::thread([this] { io.run(); });
  }
  ~running_sim() {
    sim.stop();
    work.reset();
    io.stop();
    thread.join();
  }
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{
      boost::asio::make_work_guard(io)};
  simulation sim;
  result<uint16_t> cfg_port = error{};
  std::thread thread;
};

/// Collects the changes of one variable reported by the address space.
struct recorder {
  std::mutex m;
  std::condition_variable cv;
  std::vector<DataValue> values;
  uint64_t token = 0;
  std::shared_ptr<address_space> space;

  recorder(std::shared_ptr<address_space> s, const NodeId& id) : space(std::move(s)) {
    token = space->watch(id, attribute_id::Value, [this](const DataValue& dv) {
      std::lock_guard<std::mutex> lock(m);
      values.push_back(dv);
      cv.notify_all();
    });
  }
  ~recorder() { space->unwatch(token); }
  /// Waits until `n` changes arrived (false after 5 s).
  bool wait(size_t n) {
    std::unique_lock<std::mutex> lock(m);
    return cv.wait_for(lock, 5s, [&] { return values.size() >= n; });
  }
  std::vector<DataValue> snapshot() {
    std::lock_guard<std::mutex> lock(m);
    return values;
  }
};

config::sim_config small(int64_t rate_ms) {
  auto cfg = config::default_sim_config(3, rate_ms);
  cfg.listen.port = 0;
  return cfg;
}

TEST(Simulation, BuildsTheAddressSpaceAndTicksOnWallClockMultiples) {
  running_sim s(small(20));
  ASSERT_TRUE(s.cfg_port.ok());
  EXPECT_EQ(s.sim.variable_count(), 8u + 3u);
  auto space = s.sim.space();
  EXPECT_EQ(space->read(NodeId(1, String("Sim.Item0002")), attribute_id::Value).value->type(),
            VariantType::Double);
  EXPECT_EQ(space->read(NodeId(1, String("Sim.Text")), attribute_id::Value).value,
            Variant(String("hello")));
  auto browse = space->browse(NodeId(1, String("Sim")), BrowseDirection::Forward, NodeId(), true);
  ASSERT_TRUE(browse.ok());
  EXPECT_GE(browse->size(), 11u);

  recorder rec(space, NodeId(1, String("Sim.Counter")));
  ASSERT_TRUE(rec.wait(4));
  auto values = rec.snapshot();
  for (size_t i = 0; i < values.size(); ++i) {
    int64_t ms = values[i].source_timestamp->to_unix_ms();
    EXPECT_EQ(ms % 20, 0) << "tick not on a multiple of the rate";
    // Counter = tick number modulo 2^31.
    EXPECT_EQ(scalar<int32_t>(*values[i].value), static_cast<int32_t>((ms / 20) % 2147483648LL));
    if (i > 0) EXPECT_GT(ms, values[i - 1].source_timestamp->to_unix_ms());
  }
}

TEST(Simulation, TwoSimulationsWithOneConfigPublishTheSameStream) {
  running_sim a(small(10)), b(small(10));
  ASSERT_TRUE(a.cfg_port.ok());
  ASSERT_TRUE(b.cfg_port.ok());
  NodeId id(1, String("Sim.Random"));
  recorder ra(a.sim.space(), id), rb(b.sim.space(), id);
  ASSERT_TRUE(ra.wait(10));
  ASSERT_TRUE(rb.wait(10));
  std::map<int64_t, double> by_time;
  for (const auto& dv : ra.snapshot())
    by_time[dv.source_timestamp->to_unix_ms()] = scalar<double>(*dv.value);
  int compared = 0;
  for (const auto& dv : rb.snapshot()) {
    auto it = by_time.find(dv.source_timestamp->to_unix_ms());
    if (it == by_time.end()) continue;
    EXPECT_EQ(it->second, scalar<double>(*dv.value));
    ++compared;
  }
  EXPECT_GE(compared, 5);
}

TEST(Simulation, ForcedStatusAndFreezeControlTheStream) {
  running_sim s(small(10));
  ASSERT_TRUE(s.cfg_port.ok());
  auto space = s.sim.space();
  NodeId id(1, String("Sim.Counter"));
  EXPECT_FALSE(s.sim.force_status("Sim.Nope", status::BadSensorFailure));
  ASSERT_TRUE(s.sim.force_status("Sim.Counter", status::BadSensorFailure));
  EXPECT_EQ(space->read(id, attribute_id::Value).status_or_good().code(),
            status::BadSensorFailure.code());
  {
    recorder rec(space, id);
    ASSERT_TRUE(rec.wait(2));
    for (const auto& dv : rec.snapshot()) // later ticks keep the forced status
      EXPECT_EQ(dv.status_or_good().code(), status::BadSensorFailure.code());
  }
  ASSERT_TRUE(s.sim.force_status("Sim.Counter", std::nullopt));
  EXPECT_TRUE(space->read(id, attribute_id::Value).status_or_good().is_good());

  ASSERT_TRUE(s.sim.freeze("Sim.Counter", true));
  recorder frozen(space, id);
  recorder other(space, NodeId(1, String("Sim.Item0000")));
  ASSERT_TRUE(other.wait(5)); // 5 ticks went by
  EXPECT_TRUE(frozen.snapshot().empty());
  ASSERT_TRUE(s.sim.freeze("Sim.Counter", false));
  EXPECT_TRUE(frozen.wait(1));
}

TEST(Simulation, StaticValuesAndWritesFollowTheConfig) {
  auto r = config::parse_sim(R"([[folder]]
name = "F"
  [[folder.variable]]
  name = "When"
  type = "DateTime"
  value = "2026-01-02T03:04:05Z"
  [[folder.variable]]
  name = "Bytes"
  type = "Byte"
  length = 3
  value = [1, 2, 3]
  writable = true
  [[folder.variable]]
  name = "Fill"
  type = "Int64"
  length = 2
  value = 9
)",
                             "");
  ASSERT_TRUE(r.ok()) << r.problems.at(0).text();
  r.config->listen.port = 0;
  running_sim s(*r.config);
  ASSERT_TRUE(s.cfg_port.ok()) << s.cfg_port.error().reason;
  auto space = s.sim.space();
  EXPECT_EQ(*space->read(NodeId(1, String("F.When")), attribute_id::Value).value,
            Variant(*DateTime::parse_rfc3339("2026-01-02T03:04:05Z")));
  EXPECT_EQ(*space->read(NodeId(1, String("F.Bytes")), attribute_id::Value).value,
            Variant(Array<uint8_t>{1, 2, 3}));
  EXPECT_EQ(*space->read(NodeId(1, String("F.Fill")), attribute_id::Value).value,
            Variant(Array<int64_t>{9, 9}));
  EXPECT_TRUE(space
                  ->write(NodeId(1, String("F.Bytes")), attribute_id::Value,
                          DataValue(Variant(Array<uint8_t>{4})))
                  .is_good());
  EXPECT_EQ(space->write(NodeId(1, String("F.Fill")), attribute_id::Value,
                         DataValue(Variant(Array<int64_t>{1}))),
            status::BadNotWritable);
}

TEST(Simulation, ABadDateIsAStartError) {
  auto r = config::parse_sim(R"([[folder]]
name = "F"
  [[folder.variable]]
  name = "When"
  type = "DateTime"
  value = "yesterday"
)",
                             "");
  ASSERT_TRUE(r.ok());
  r.config->listen.port = 0;
  boost::asio::io_context io;
  simulation sim(io, *r.config);
  auto port = sim.start();
  ASSERT_FALSE(port.ok());
  EXPECT_NE(port.error().reason.find("folder[0].variable[0].value"), std::string::npos)
      << port.error().reason;
}

} // namespace
