// The `tandem sim` address-space schema: what a valid file gives, and every problem reported
// with its file:line:column and key path.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/sim_config.hpp"

using namespace tandem::config;
using testing::HasSubstr;

namespace {

const problem* find_problem(const sim_load_result& r, const std::string& key) {
  for (const auto& p : r.problems)
    if (p.key_path == key) return &p;
  return nullptr;
}

/// Expects an error on `key` at line:column whose message contains `part`.
void expect_error(const sim_load_result& r, const std::string& key, int line, int column,
                  const std::string& part) {
  const problem* p = find_problem(r, key);
  ASSERT_NE(p, nullptr) << "no problem on " << key;
  EXPECT_EQ(p->lvl, problem::level::error);
  EXPECT_THAT(p->message, HasSubstr(part)) << p->text();
  EXPECT_EQ(p->line, line) << p->text();
  EXPECT_EQ(p->column, column) << p->text();
}

TEST(SimConfig, AFullFileGivesEveryValue) {
  auto r = parse_sim(R"([server]
listen = "127.0.0.1:4841"
path = "plant"
application_uri = "urn:plant:sim"
service_level = 200
rate_ms = 250
anonymous = false
token_lifetime_ms = 5000
[[server.user]]
name = "op1"
password = "secret1"

[[folder]]
name = "Line1"
  [[folder.variable]]
  name = "Temp"
  type = "Float"
  generator = "sine"
  min = -5
  max = 5.5
  period_ms = 10000
  [[folder.variable]]
  name = "Speed"
  type = "Int32"
  generator = "counter"
  rate_ms = 10
  count = 3
  [[folder.variable]]
  name = "Recipe"
  type = "String"
  value = "A"
  writable = true
  [[folder.folder]]
  name = "Drives"
    [[folder.folder.variable]]
    name = "Currents"
    type = "Double"
    length = 3
    value = [1.5, 2, 3]
)",
                     "plant.toml");
  ASSERT_TRUE(r.ok()) << (r.problems.empty() ? "" : r.problems[0].text());
  const auto& c = *r.config;
  EXPECT_EQ(c.listen.port, 4841);
  EXPECT_EQ(c.path, "/plant");
  EXPECT_EQ(c.application_uri, "urn:plant:sim");
  EXPECT_EQ(c.service_level, 200);
  EXPECT_EQ(c.rate_ms, 250);
  EXPECT_FALSE(c.anonymous);
  EXPECT_EQ(c.token_lifetime_ms, 5000);
  ASSERT_EQ(c.users.size(), 1u);
  EXPECT_EQ(c.users[0].password, "secret1");
  ASSERT_EQ(c.folders.size(), 1u);
  const auto& line1 = c.folders[0];
  ASSERT_EQ(line1.variables.size(), 3u);
  EXPECT_EQ(line1.variables[0].generator, sim_generator::sine);
  EXPECT_DOUBLE_EQ(*line1.variables[0].min, -5);
  EXPECT_DOUBLE_EQ(*line1.variables[0].max, 5.5);
  EXPECT_EQ(line1.variables[1].count, 3);
  EXPECT_EQ(line1.variables[1].rate_ms, 10);
  EXPECT_TRUE(line1.variables[2].writable);
  ASSERT_EQ(line1.folders.size(), 1u);
  const auto& cur = line1.folders[0].variables.at(0);
  EXPECT_EQ(cur.length, 3);
  ASSERT_TRUE(cur.value);
  EXPECT_TRUE(cur.value->is_array);
  EXPECT_EQ(cur.value->items.size(), 3u);
  EXPECT_EQ(variable_count(c.folders), 1 + 3 + 1 + 1);
}

TEST(SimConfig, EveryProblemIsReportedWithItsPlace) {
  auto r = parse_sim(R"([server]
rate_ms = 0
listen = "nohost"
[[folder]]
name = "A.B"
  [[folder.variable]]
  name = "X"
  type = "Dubble"
  [[folder.variable]]
  name = "Y"
  type = "Int16"
  generator = "counter"
  min = 10
  max = 5
  [[folder.variable]]
  name = "Z"
  type = "Byte"
  value = 300
  [[folder.variable]]
  name = "W"
  generator = "ramp"
  value = 1.0
  colour = "red"
  [[folder.variable]]
  name = "X"
  [[folder.variable]]
  name = "V"
  type = "Double"
  length = 2
  value = [1, 2, 3]
)",
                     "bad.toml");
  ASSERT_FALSE(r.ok());
  expect_error(r, "server.rate_ms", 2, 11, "must be from 1 to 86400000 ms");
  expect_error(r, "server.listen", 3, 10, "is not host:port");
  expect_error(r, "folder[0].name", 5, 8, "without '.' or ';'");
  expect_error(r, "folder[0].variable[0].type", 8, 10, "did you mean 'Double'");
  expect_error(r, "folder[0].variable[1].max", 14, 9, "must be greater than min (10)");
  expect_error(r, "folder[0].variable[2].value", 18, 11, "300 does not fit Byte (0 to 255)");
  expect_error(r, "folder[0].variable[3].value", 22, 11, "is for static variables");
  expect_error(r, "folder[0].variable[3].colour", 23, 3, "unknown key 'colour'");
  expect_error(r, "folder[0].variable[5].value", 30, 11, "has 3 elements; length is 2");
  // X appears twice in the same folder.
  const problem* dup = nullptr;
  for (const auto& p : r.problems)
    if (p.message.find("already called 'X'") != std::string::npos) dup = &p;
  ASSERT_NE(dup, nullptr);
  EXPECT_EQ(dup->key_path, "folder[0].variable[4].name");
  for (const auto& p : r.problems)
    EXPECT_EQ(p.text().rfind("bad.toml:", 0), 0u) << p.text();
}

TEST(SimConfig, SyntaxErrorsAndMissingFiles) {
  auto r = parse_sim("[server\nrate_ms = 1", "x.toml");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_THAT(r.problems[0].message, HasSubstr("TOML syntax"));
  EXPECT_EQ(r.problems[0].line, 1);
  auto missing = load_sim_file("/nonexistent/sim.toml");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.problems.at(0).message, HasSubstr("cannot read the simulation file"));
}

TEST(SimConfig, TooManyVariablesAreRefusedBeforeAnythingIsBuilt) {
  auto r = parse_sim(R"([[folder]]
name = "F"
  [[folder.variable]]
  name = "A"
  count = 1000000
  [[folder.variable]]
  name = "B"
  count = 1000000
  [[folder.variable]]
  name = "C"
  count = 1000
)",
                     "big.toml");
  ASSERT_FALSE(r.ok());
  const problem* p = find_problem(r, "folder");
  ASSERT_NE(p, nullptr);
  EXPECT_THAT(p->message, HasSubstr("2001000 variables; at most 2000000"));
}

TEST(SimConfig, TheBuiltInSpaceMirrorsTheInteropServer) {
  auto c = default_sim_config(250, 100);
  EXPECT_EQ(c.rate_ms, 100);
  ASSERT_EQ(c.folders.size(), 1u);
  EXPECT_EQ(c.folders[0].name, "Sim");
  EXPECT_EQ(variable_count(c.folders), 8 + 250);
  ASSERT_EQ(c.users.size(), 1u);
  EXPECT_EQ(c.users[0].name, "op1");
}

TEST(SimConfig, TheShippedExampleIsValid) {
  auto r = load_sim_file(std::string(TANDEM_SOURCE_DIR) + "/examples/sim/plant.toml");
  ASSERT_TRUE(r.ok()) << (r.problems.empty() ? "" : r.problems[0].text());
  EXPECT_GT(variable_count(r.config->folders), 0);
}

} // namespace
