/// Robustness: random, truncated and mutated TOML never crashes the parser or throws, and a
/// failed parse always says why.

#include "config/config.hpp"
#include "tests/unit/config/config_test_util.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace tandem::config;
using namespace tandem::config::test;

namespace {

void check(const std::string& text) {
  load_result r;
  ASSERT_NO_THROW(r = parse(text, "fuzz.toml"));
  if (!r.ok()) EXPECT_GT(r.error_count(), 0u);
  for (auto& p : r.problems)
    EXPECT_FALSE(p.text().empty());
}

} // namespace

TEST(ConfigFuzz, EveryTruncationOfAFullConfig) {
  for (size_t n = 0; n <= full.size(); ++n)
    check(full.substr(0, n));
}

TEST(ConfigFuzz, RandomBytes) {
  std::mt19937 rng(12345);
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng() % 200, '\0');
    for (auto& ch : s)
      ch = static_cast<char>(rng() & 0xff);
    check(s);
  }
}

TEST(ConfigFuzz, MutationsOfAFullConfig) {
  std::mt19937 rng(777);
  const std::string alphabet = "[]{}=\"'.,:;#\n \t0123456789-+_abcxyzeE\\@/";
  for (int i = 0; i < 3000; ++i) {
    std::string s = full;
    int edits = 1 + static_cast<int>(rng() % 6);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      size_t at = rng() % s.size();
      switch (rng() % 4) {
      case 0:
        s[at] = alphabet[rng() % alphabet.size()];
        break;
      case 1:
        s.erase(at, 1 + rng() % 20);
        break;
      case 2:
        s.insert(at, 1, alphabet[rng() % alphabet.size()]);
        break;
      default: {
        size_t from = rng() % s.size();
        s.insert(at, s.substr(from, rng() % 60));
      }
      }
    }
    check(s);
  }
}

TEST(ConfigFuzz, TokenSoup) {
  std::mt19937 rng(99);
  const std::vector<std::string> tokens = {"[node]",
                                           "[[pair]]",
                                           "[[pair.monitor]]",
                                           "[redundancy]",
                                           "[face]",
                                           "[[face.user]]",
                                           "[notifications]",
                                           "[[notifications.recipient]]",
                                           "[http]",
                                           "[debug]",
                                           "\n",
                                           " = ",
                                           "name",
                                           "alias",
                                           "primary",
                                           "secondary",
                                           "item",
                                           "value",
                                           "listen",
                                           "partner",
                                           "role",
                                           "\"master\"",
                                           "\"x\"",
                                           "\"opc.tcp://h:1\"",
                                           "\"[::1]:1\"",
                                           "1",
                                           "-1",
                                           "1e999",
                                           "nan",
                                           "inf",
                                           "true",
                                           "[",
                                           "]",
                                           "{",
                                           "}",
                                           ",",
                                           "1979-05-27T07:32:00Z",
                                           "'''",
                                           "\"\"\"",
                                           "#",
                                           "\"ns=1;i=1\"",
                                           "9223372036854775807",
                                           "x.y.z",
                                           "\"\\u0000\""};
  for (int i = 0; i < 3000; ++i) {
    std::string s;
    int n = static_cast<int>(rng() % 40);
    for (int k = 0; k < n; ++k)
      s += tokens[rng() % tokens.size()];
    check(s);
  }
}

TEST(ConfigFuzz, DeepNestingAndHugeValues) {
  check(std::string(100000, '['));
  check("a = " + std::string(5000, '[') + std::string(5000, ']'));
  check("[node]\nname = \"" + std::string(1 << 20, 'x') + "\"\n");
  check("[node]\nname = \"n\"\n[[pair]]\n" + std::string(50000, '\n') + "alias = 1\n");
  std::string many = minimal;
  for (int i = 0; i < 2000; ++i)
    many += "[[pair]]\nalias = \"p" + std::to_string(i % 50) + "\"\n";
  check(many);
}
