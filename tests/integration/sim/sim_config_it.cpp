// `tandem sim -c FILE` with bad files: exit code 2 before listening, every problem reported at
// once as `file:line:column: error: key: message`, naming the key (with "did you mean" for
// near misses).

#include <csignal>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "sim_harness.hpp"

using namespace tandem;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.push_back(l);
  return out;
}

/// The stderr line that starts with `prefix`, or "".
std::string line_starting(const std::vector<std::string>& lines, const std::string& prefix) {
  for (auto& l : lines)
    if (l.rfind(prefix, 0) == 0) return l;
  return "";
}

TEST(sim_config_it, a_bad_file_exits_2_naming_each_key_at_its_line_and_column) {
  test::temp_dir dir;
  // Line numbers matter: the expectations below point into this text.
  auto path = dir.write("bad.toml", R"([server]
rate_ms = 100
max_sesions = 5
token_lifetime_ms = "long"

[[folder]]
name = "Plant"

[[folder.variable]]
name = "Temp"
generator = "sine"
min = 10.0
max = 5.0

[[folder.variable]]
name = "Flag"
type = "Boolean"
writable = "yes"

[[folder.variable]]
name = "Level"
type = "Dubble"

[[folder.variable]]
name = "Wave"
generator = "sinus"
)");
  auto r = test::run_tandem({"sim", "-c", path, "--port", "0"}, std::chrono::seconds(10));
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.out.find("ready"), std::string::npos) << "it must not start: " << r.out;
  auto lines = lines_of(r.err);

  auto unknown = line_starting(lines, path + ":3:1: error: server.max_sesions: ");
  EXPECT_NE(unknown.find("unknown key"), std::string::npos) << r.err;
  EXPECT_NE(unknown.find("did you mean 'max_sessions'"), std::string::npos) << r.err;

  auto wrong_type = line_starting(lines, path + ":4:21: error: server.token_lifetime_ms: ");
  EXPECT_NE(wrong_type.find("expected"), std::string::npos) << r.err;

  auto min_max = line_starting(lines, path + ":13:7: error: folder[0].variable[0].max: ");
  EXPECT_NE(min_max.find("greater than min (10)"), std::string::npos) << r.err;

  auto flag = line_starting(lines, path + ":18:12: error: folder[0].variable[1].writable: ");
  EXPECT_NE(flag.find("expected a boolean"), std::string::npos) << r.err;

  auto type = line_starting(lines, path + ":22:8: error: folder[0].variable[2].type: ");
  EXPECT_NE(type.find("did you mean 'Double'"), std::string::npos) << r.err;

  auto gen = line_starting(lines, path + ":26:13: error: folder[0].variable[3].generator: ");
  EXPECT_NE(gen.find("did you mean 'sine'"), std::string::npos) << r.err;

  // Nothing but located errors.
  std::regex located("^" +
                     std::regex_replace(path, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                     R"(:\d+:\d+: error: \S+: .+$)");
  for (auto& l : lines)
    EXPECT_TRUE(std::regex_match(l, located)) << "not a located error: " << l;
  EXPECT_EQ(lines.size(), 6u) << r.err;
}

TEST(sim_config_it, unreadable_and_malformed_files_exit_2) {
  test::temp_dir dir;
  auto missing = test::run_tandem({"sim", "-c", dir.file("none.toml"), "--port", "0"},
                                  std::chrono::seconds(10));
  EXPECT_EQ(missing.code, 2) << missing.err;
  EXPECT_NE(missing.err.find(dir.file("none.toml")), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("cannot read"), std::string::npos) << missing.err;

  auto path = dir.write("syntax.toml", "[server]\nrate_ms = = 5\n");
  auto syntax = test::run_tandem({"sim", "-c", path, "--port", "0"}, std::chrono::seconds(10));
  EXPECT_EQ(syntax.code, 2) << syntax.err;
  EXPECT_EQ(syntax.err.rfind(path + ":2:", 0), 0u) << syntax.err;
  EXPECT_EQ(syntax.out.find("ready"), std::string::npos);
}

TEST(sim_config_it, a_good_file_starts_and_serves_its_address_space) {
  test::temp_dir dir;
  auto path = dir.write("good.toml", test::builtin_sim_toml(100, 3));
  test::sim_process sim(dir, {"-c", path});
  ASSERT_TRUE(sim.ok()) << sim.why();
  EXPECT_EQ(sim.url(), "opc.tcp://127.0.0.1:" + std::to_string(sim.port()) + "/sim");
  EXPECT_EQ(sim.namespace_uri(), "urn:tandem:sim");
  // The summary goes to stderr just after "ready" goes to stdout.
  EXPECT_TRUE(
      test::wait_for([&] { return sim.proc().err().find("11 variables") != std::string::npos; },
                     std::chrono::seconds(5)))
      << sim.proc().err();

  // Its port is taken: a second one cannot listen there (exit 3).
  auto taken = test::run_tandem({"sim", "-c", path, "--port", std::to_string(sim.port())},
                                std::chrono::seconds(10));
  EXPECT_EQ(taken.code, 3) << taken.err;
  EXPECT_NE(taken.err.find("cannot start"), std::string::npos) << taken.err;
  EXPECT_EQ(taken.out.find("ready"), std::string::npos);

  // SIGTERM stops it cleanly.
  sim.proc().signal(SIGTERM);
  auto code = sim.proc().wait(std::chrono::seconds(5));
  ASSERT_TRUE(code) << "no exit after SIGTERM";
  EXPECT_EQ(*code, 0) << sim.proc().err();
}

} // namespace
