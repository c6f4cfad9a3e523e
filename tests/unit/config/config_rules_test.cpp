/// Validation: one bad configuration per rule, each checking the key path, the message and,
/// for many, the exact line and column.

#include "config/config.hpp"
#include "tests/unit/config/config_test_util.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace tandem::config;
using namespace tandem::config::test;
using ::testing::HasSubstr;

namespace {

/// Expects exactly one error, at `key`, whose message contains every one of `parts`.
void expect_error(const load_result& r, const std::string& key,
                  std::initializer_list<std::string> parts, int line = 0, int column = 0) {
  EXPECT_FALSE(r.ok()) << dump(r);
  ASSERT_EQ(r.error_count(), 1u) << dump(r);
  const problem* p = find(r, key);
  ASSERT_NE(p, nullptr) << "no problem at " << key << "\n" << dump(r);
  EXPECT_EQ(p->lvl, problem::level::error);
  for (auto& part : parts)
    EXPECT_THAT(p->message, HasSubstr(part)) << p->text();
  if (line) {
    EXPECT_EQ(p->line, line) << p->text();
    EXPECT_EQ(p->column, column) << p->text();
  }
}

const std::string pair_a = R"(
[[pair]]
alias = "a"
primary = "opc.tcp://10.0.0.1:4840"
secondary = "opc.tcp://10.0.0.2:4840"
)";

} // namespace

// -- syntax -------------------------------------------------------------------------------------

TEST(ConfigRules, SyntaxErrorIsOneProblemWithTomlsPosition) {
  auto r = parse("[node]\nname = \"n\"\nping = [1,\n", "s.toml");
  ASSERT_EQ(r.problems.size(), 1u) << dump(r);
  EXPECT_FALSE(r.ok());
  auto& p = r.problems[0];
  EXPECT_EQ(p.file, "s.toml");
  EXPECT_EQ(p.line, 3); // toml++ reports the end of the file, after "[1,"
  EXPECT_EQ(p.column, 12);
  EXPECT_EQ(p.key_path, "");
  EXPECT_THAT(p.message, HasSubstr("TOML syntax"));
  EXPECT_THAT(p.text(), HasSubstr("s.toml:3:12: error: TOML syntax: "));
}

TEST(ConfigRules, DuplicateKeyIsASyntaxError) {
  auto r = parse("[node]\nname = \"a\"\nname = \"b\"\n", "s.toml");
  ASSERT_EQ(r.problems.size(), 1u) << dump(r);
  EXPECT_EQ(r.problems[0].line, 3);
}

// -- unknown keys -------------------------------------------------------------------------------

TEST(ConfigRules, UnknownKeySuggestsTheClosestKnownOne) {
  auto r = with("[redundancy]\nping_timout_ms = 5000\n");
  expect_error(r, "redundancy.ping_timout_ms",
               {"unknown key 'ping_timout_ms'", "did you mean 'ping_timeout_ms'?"}, 4, 1);
}

TEST(ConfigRules, UnknownKeyInAnArrayOfTablesUsesTheIndexedPath) {
  auto r = with(pair_a + pair_a.substr(0, pair_a.size()) +
                "  [[pair.monitor]]\n  item = \"i=1\"\n"
                "  stale = 5\n");
  // Two pairs with alias "a": a duplicate too; look at the unknown key only.
  const problem* p = find(r, "pair[1].monitor[0].stale");
  ASSERT_NE(p, nullptr) << dump(r);
  EXPECT_THAT(p->message, HasSubstr("did you mean 'stale_ms'?"));
  EXPECT_EQ(p->column, 3);
}

TEST(ConfigRules, UnknownKeyFarFromAnyKnownOneListsTheKnownKeys) {
  auto r = with("[debug]\nverbosity = 3\n");
  expect_error(r, "debug.verbosity",
               {"unknown key 'verbosity'", "known keys in [debug]: "
                                           "fault_injection"});
  EXPECT_THAT(r.problems[0].message, ::testing::Not(HasSubstr("did you mean")));
}

TEST(ConfigRules, UnknownSectionSuggestsTheClosestSection) {
  auto r = with("[redundency]\nrole = \"master\"\n");
  expect_error(r, "redundency", {"unknown section 'redundency'", "did you mean 'redundancy'?"}, 3,
               2);
}

TEST(ConfigRules, PluralOfAnArraySectionIsSuggested) {
  auto r = with("[[pairs]]\nalias = \"x\"\n");
  expect_error(r, "pairs", {"did you mean 'pair'?"});
}

// -- types --------------------------------------------------------------------------------------

TEST(ConfigRules, WrongTypeSaysExpectedAndGot) {
  auto r = with("[redundancy]\nping_interval_ms = \"1000\"\n");
  expect_error(r, "redundancy.ping_interval_ms",
               {"expected an integer (milliseconds)", "got a string"}, 4, 20);
}

TEST(ConfigRules, FloatWhereIntegerExpected) {
  auto r = with("[diagnostics]\nmax_events = 10.5\n");
  expect_error(r, "diagnostics.max_events", {"expected an integer", "floating-point"});
}

TEST(ConfigRules, BooleanTyped) {
  auto r = with("[face]\nanonymous = \"yes\"\n");
  expect_error(r, "face.anonymous", {"expected a boolean", "got a string"});
}

TEST(ConfigRules, SectionThatIsNotATable) {
  auto r = parse("http = \"127.0.0.1:8080\"\n" + minimal, "t.toml");
  expect_error(r, "http", {"expected a table", "got a string"}, 1, 8);
}

TEST(ConfigRules, SingleTableWherePairsArrayExpected) {
  auto r = with("[pair]\nalias = \"a\"\n");
  expect_error(r, "pair", {"expected an array of tables", "write [[pair]], not [pair]"});
}

TEST(ConfigRules, StringArrayElementsAreTyped) {
  auto r = with("[[notifications.recipient]]\naddress = \"a@b.c\"\nkinds = [\"x\", 3]\n"
                "[notifications]\nsmtp_url = \"smtp://m:25\"\n");
  expect_error(r, "notifications.recipient[0].kinds[1]", {"expected a string, got an integer"});
}

TEST(ConfigRules, MonitorValueMustBeANumber) {
  auto r = with(pair_a + "[[pair.monitor]]\nitem = \"i=1\"\ncondition = \"equals\"\n"
                         "value = \"high\"\n");
  expect_error(r, "pair[0].monitor[0].value", {"expected a number or a boolean", "a string"});
}

// -- ranges -------------------------------------------------------------------------------------

TEST(ConfigRules, PortOutOfRange) {
  auto r = with("[face]\nlisten = \"127.0.0.1:65536\"\n");
  expect_error(r, "face.listen", {"'127.0.0.1:65536' is not host:port", "from 1 to 65535"}, 4, 10);
}

TEST(ConfigRules, PortZero) {
  auto r = with("[http]\nlisten = \"127.0.0.1:0\"\n");
  expect_error(r, "http.listen", {"is not from 1 to 65535"});
}

TEST(ConfigRules, DurationMustBePositive) {
  auto r = with("[redundancy]\nping_interval_ms = 0\n");
  expect_error(r, "redundancy.ping_interval_ms", {"must be from 1 to", "ms", "got 0"}, 4, 20);
}

TEST(ConfigRules, NegativeDuration) {
  auto r = with(pair_a + "return_settle_ms = -5\n");
  expect_error(r, "pair[0].return_settle_ms", {"must be from 0 to", "got -5"});
}

TEST(ConfigRules, UnusedItemLingerRange) {
  auto r = with(pair_a + "unused_item_linger_ms = -1\n");
  expect_error(r, "pair[0].unused_item_linger_ms", {"must be from 0 to", "got -1"});
  r = with(pair_a + "unused_item_linger_ms = \"60s\"\n");
  EXPECT_FALSE(r.ok());
  auto ok = with(pair_a + "unused_item_linger_ms = 0\n");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok.config->pairs[0].unused_item_linger_ms, 0);
}

TEST(ConfigRules, DurationTooLong) {
  auto r = with(pair_a + "[[pair.monitor]]\nitem = \"i=1\"\nstale_ms = 999999999999\n");
  expect_error(r, "pair[0].monitor[0].stale_ms", {"7 days"});
}

TEST(ConfigRules, MinServiceLevelRange) {
  auto r = with(pair_a + "min_service_level = 256\n");
  expect_error(r, "pair[0].min_service_level", {"from 0 to 255", "got 256"}, 8, 21);
  EXPECT_TRUE(with(pair_a + "min_service_level = 0\n").ok());
  EXPECT_TRUE(with(pair_a + "min_service_level = 255\n").ok());
}

TEST(ConfigRules, MaxEventsRange) {
  expect_error(with("[diagnostics]\nmax_events = 0\n"), "diagnostics.max_events",
               {"from 1 to 10000000"});
  expect_error(with("[diagnostics]\nmax_events = 10000001\n"), "diagnostics.max_events",
               {"got 10000001"});
  EXPECT_TRUE(with("[diagnostics]\nmax_events = 10000000\n").ok());
}

TEST(ConfigRules, MissedPingsAtLeastOne) {
  expect_error(with("[redundancy]\nmissed_pings = 0\n"), "redundancy.missed_pings",
               {"from 1 to", "got 0"});
}

TEST(ConfigRules, NameCharacters) {
  auto r = parse("[node]\nname = \"plant a\"\n", "t.toml");
  expect_error(r, "node.name", {"'plant a' is not a valid name", "A-Z a-z 0-9 _ . -"}, 2, 8);
}

TEST(ConfigRules, NameLength) {
  EXPECT_TRUE(parse("[node]\nname = \"" + std::string(64, 'x') + "\"\n", "t").ok());
  expect_error(parse("[node]\nname = \"" + std::string(65, 'x') + "\"\n", "t"), "node.name",
               {"1 to 64"});
  expect_error(parse("[node]\nname = \"\"\n", "t"), "node.name", {"is not a valid name"});
}

TEST(ConfigRules, AliasCharacters) {
  auto r = with("[[pair]]\nalias = \"line/1\"\nprimary = \"opc.tcp://a:1\"\n"
                "secondary = \"opc.tcp://b:1\"\n");
  expect_error(r, "pair[0].alias", {"'line/1' is not a valid alias"}, 4, 9);
}

// -- enumerations -------------------------------------------------------------------------------

TEST(ConfigRules, EnumListsTheAllowedWords) {
  auto r = with("[redundancy]\nrole = \"primary\"\n");
  expect_error(r, "redundancy.role",
               {"must be one of independent, master, backup", "got 'primary'"}, 4, 8);
}

TEST(ConfigRules, EnumSuggestsACloseWord) {
  auto r = with(pair_a + "mode = \"Hot\"\n");
  expect_error(r, "pair[0].mode", {"cold, warm, hot", "did you mean 'hot'?"});
}

TEST(ConfigRules, EveryEnumKeyIsChecked) {
  expect_error(with("[redundancy]\nrecovery = \"auto\"\n"), "redundancy.recovery",
               {"automatic, manual"});
  expect_error(with("[redundancy]\nstandby = \"hot\"\n"), "redundancy.standby", {"cold, warm"});
  expect_error(with("[redundancy]\nsplit_brain = \"longest\"\n"), "redundancy.split_brain",
               {"longest_running, master_wins"});
  expect_error(with(pair_a + "[[pair.monitor]]\nitem = \"i=1\"\ncondition = \"missing\"\n"),
               "pair[0].monitor[0].condition", {"stale, equals, above, below, bad_quality"});
}

TEST(ConfigRules, SeverityWords) {
  auto r = with("[notifications]\nsmtp_url = \"smtp://m:25\"\n[[notifications.recipient]]\n"
                "address = \"a@b.c\"\nmin_severity = \"fatal\"\n");
  expect_error(r, "notifications.recipient[0].min_severity",
               {"info, warning, error, critical", "'fatal'"}, 7, 16);
}

// -- required values ----------------------------------------------------------------------------

TEST(ConfigRules, NodeNameRequired) {
  auto r = parse("[node]\ncomment = \"x\"\n", "t.toml");
  expect_error(r, "node.name", {"is required"}, 1, 1);
}

TEST(ConfigRules, NodeNameRequiredInAnEmptyFile) {
  auto r = parse("", "t.toml");
  expect_error(r, "node.name", {"is required"});
  EXPECT_EQ(r.problems[0].line, 0);
  EXPECT_EQ(r.problems[0].text(), "t.toml: error: node.name: is required: give the node a name "
                                  "of 1 to 64 characters of A-Z a-z 0-9 _ . -");
}

TEST(ConfigRules, PartnerRequiredForMasterAndBackup) {
  auto r = with("[redundancy]\nrole = \"master\"\n");
  expect_error(r, "redundancy.partner", {"is required when role is 'master'"}, 4, 8);
  expect_error(with("[redundancy]\nrole = \"backup\"\npartner = \"\"\n"), "redundancy.partner",
               {"must not be empty when role is 'backup'"});
}

TEST(ConfigRules, PairRequiredKeys) {
  auto r = with("[[pair]]\ncomment = \"nothing else\"\n");
  EXPECT_EQ(r.error_count(), 3u) << dump(r);
  for (auto key : {"pair[0].alias", "pair[0].primary", "pair[0].secondary"}) {
    const problem* p = find(r, key);
    ASSERT_NE(p, nullptr) << key << "\n" << dump(r);
    EXPECT_THAT(p->message, HasSubstr("is required"));
    EXPECT_EQ(p->line, 3); // at the [[pair]] header
    EXPECT_EQ(p->column, 1);
  }
}

TEST(ConfigRules, MonitorItemRequired) {
  auto r = with(pair_a + "  [[pair.monitor]]\n  condition = \"stale\"\n");
  expect_error(r, "pair[0].monitor[0].item", {"is required", "NodeId"}, 8, 3);
}

TEST(ConfigRules, MonitorValueRequiredForComparisons) {
  for (std::string cond : {"equals", "above", "below"}) {
    auto r = with(pair_a + "[[pair.monitor]]\nitem = \"i=1\"\ncondition = \"" + cond + "\"\n");
    expect_error(r, "pair[0].monitor[0].value", {"is required when condition is '" + cond + "'"},
                 10, 13);
  }
}

TEST(ConfigRules, RecipientAddressRequired) {
  auto r = with("[notifications]\nsmtp_url = \"smtp://m\"\n[[notifications.recipient]]\n"
                "min_severity = \"info\"\n");
  expect_error(r, "notifications.recipient[0].address", {"is required"});
}

TEST(ConfigRules, FaceUserNeedsNameAndHash) {
  auto r = with("[[face.user]]\nname = \"op\"\n");
  expect_error(r, "face.user[0].password_hash", {"is required", "tandem passwd"});
}

TEST(ConfigRules, FaceUserHashThatIsNotOneIsRefusedWhereItIs) {
  // A password pasted where its hash belongs is refused, never taken as a password.
  auto r = with("[[face.user]]\nname = \"op\"\npassword_hash = \"hunter2\"\n");
  expect_error(r, "face.user[0].password_hash",
               {"not a hash made by `tandem passwd`", "never put the password itself here"}, 5, 17);
}

// -- consistency --------------------------------------------------------------------------------

TEST(ConfigRules, PingTimeoutMustExceedInterval) {
  auto r = with("[redundancy]\nping_interval_ms = 2000\nping_timeout_ms = 2000\n");
  expect_error(r, "redundancy.ping_timeout_ms",
               {"ping_timeout_ms (2000) must exceed ping_interval_ms (2000)"}, 5, 19);
}

TEST(ConfigRules, PingIntervalAboveTheDefaultTimeout) {
  // Only the interval is written: the problem is reported there.
  auto r = with("[redundancy]\nping_interval_ms = 5000\n");
  expect_error(r, "redundancy.ping_interval_ms", {"(3000) must exceed ping_interval_ms (5000)"});
}

TEST(ConfigRules, StatusTimeoutMustNotExceedInterval) {
  EXPECT_TRUE(with(pair_a + "status_interval_ms = 700\nstatus_timeout_ms = 700\n").ok());
  auto r = with(pair_a + "status_interval_ms = 700\nstatus_timeout_ms = 701\n");
  expect_error(r, "pair[0].status_timeout_ms",
               {"status_timeout_ms (701) must not exceed status_interval_ms (700)"}, 9, 21);
}

TEST(ConfigRules, PrimaryEqualsSecondaryIgnoringCaseOfSchemeAndHost) {
  auto r = with("[[pair]]\nalias = \"a\"\nprimary = \"opc.tcp://PLC-A:4840/srv\"\n"
                "secondary = \"OPC.TCP://plc-a:4840/srv/\"\n");
  expect_error(r, "pair[0].secondary", {"is the same server as primary"}, 6, 13);
  // A different path is a different server.
  EXPECT_TRUE(with("[[pair]]\nalias = \"a\"\nprimary = \"opc.tcp://h:4840/one\"\n"
                   "secondary = \"opc.tcp://h:4840/two\"\n")
                  .ok());
}

TEST(ConfigRules, DuplicateAliases) {
  auto r = with(pair_a + pair_a);
  expect_error(r, "pair[1].alias", {"duplicate alias 'a'", "pair[0].alias already uses it"}, 10, 9);
}

TEST(ConfigRules, DuplicateAliasesIgnoringCase) {
  auto r = with(pair_a + "[[pair]]\nalias = \"A\"\nprimary = \"opc.tcp://x:1\"\n"
                         "secondary = \"opc.tcp://y:1\"\n");
  expect_error(r, "pair[1].alias", {"duplicate alias 'A'"});
}

TEST(ConfigRules, DuplicateFaceUsers) {
  const std::string hash =
      "$pbkdf2-sha256$10000$G3bZjUxXGP4M6agC4bII1A==$PMTkQvdnmAubMYGgeljV38s8DfFKOxD04uBgCA8GYXU=";
  auto r = with("[[face.user]]\nname = \"op\"\npassword_hash = \"" + hash +
                "\"\n[[face.user]]\nname = \"op\"\npassword_hash = \"" + hash + "\"\n");
  expect_error(r, "face.user[1].name", {"duplicate user 'op'"});
}

TEST(ConfigRules, PortClashFaceAndHttp) {
  auto r = with("[face]\nlisten = \"127.0.0.1:8080\"\n[http]\nlisten = \"127.0.0.1:8080\"\n");
  expect_error(r, "http.listen", {"port 8080 clashes with face.listen (127.0.0.1:8080)"}, 6, 10);
}

TEST(ConfigRules, PortClashWithAWildcardAddress) {
  auto r = with("[face]\nlisten = \"0.0.0.0:9000\"\n[http]\nlisten = \"10.1.2.3:9000\"\n");
  expect_error(r, "http.listen", {"clashes with face.listen"});
  // Different specific addresses do not clash.
  EXPECT_TRUE(
      with("[face]\nlisten = \"10.1.2.4:9000\"\n[http]\nlisten = \"10.1.2.3:9000\"\n").ok());
}

TEST(ConfigRules, RedundancyListenClashesOnlyWhenPaired) {
  const std::string text = "[face]\nlisten = \"127.0.0.1:8099\"\n";
  EXPECT_TRUE(with(text).ok()); // independent: the partner link is not opened
  auto r = with("[redundancy]\nrole = \"backup\"\npartner = \"10.0.0.1:8099\"\n" + text);
  expect_error(r, "face.listen", {"clashes with redundancy.listen (0.0.0.0:8099)"}, 7, 10);
}

TEST(ConfigRules, ConsoleSocketPathTooLong) {
  std::string dir = "/" + std::string(100, 'd');
  auto r = parse("[node]\nname = \"n\"\ndata_dir = \"" + dir + "\"\n", "t.toml");
  expect_error(r, "node.console_socket",
               {"is 114 bytes", "at most 107", "defaults to <data_dir>/console.sock"}, 3, 12);
  auto ok =
      parse("[node]\nname = \"n\"\ndata_dir = \"" + dir + "\"\nconsole_socket = \"/run/t.sock\"\n",
            "t.toml");
  EXPECT_TRUE(ok.ok()) << dump(ok);
}

TEST(ConfigRules, ConsoleGroupIsReadAndMustNotBeEmpty) {
  auto ok = parse("[node]\nname = \"n\"\nconsole_group = \"operators\"\n", "t.toml");
  ASSERT_TRUE(ok.ok()) << dump(ok);
  EXPECT_EQ(ok.config->node.console_group, "operators");
  auto none = parse("[node]\nname = \"n\"\n", "t.toml");
  EXPECT_EQ(none.config->node.console_group, "");
  auto r = parse("[node]\nname = \"n\"\nconsole_group = \"\"\n", "t.toml");
  expect_error(r, "node.console_group", {"must not be empty"}, 3, 17);
}

TEST(ConfigRules, ExplicitConsoleSocketTooLongAfterResolving) {
  auto r = parse("[node]\nname = \"n\"\nconsole_socket = \"" + std::string(90, 's') + "\"\n",
                 "/" + std::string(20, 'c') + "/x.toml");
  expect_error(r, "node.console_socket", {"is 112 bytes"}, 3, 18);
}

TEST(ConfigRules, OpcUrlSyntax) {
  auto bad = [](const std::string& url, const std::string& why) {
    auto r =
        with("[[pair]]\nalias = \"a\"\nprimary = \"" + url + "\"\nsecondary = \"opc.tcp://h:1\"\n");
    SCOPED_TRACE(url);
    expect_error(r, "pair[0].primary", {"is not an opc.tcp://host:port[/path] URL", why}, 5, 11);
  };
  bad("http://h:4840", "must start with opc.tcp://");
  bad("opc.tcp://h", "port is missing");
  bad("opc.tcp://h:x/p", "is not a number");
  bad("opc.tcp://:4840", "host is missing");
  bad("opc.tcp://h h:4840", "space");
  bad("opc.tcp://::1:4840", "brackets");
  bad("opc.tcp://u@h:4840", "pair.user");
  bad("", "must start with opc.tcp://");
  EXPECT_TRUE(with("[[pair]]\nalias = \"a\"\nprimary = \"opc.tcp://[::1]:4840/x\"\n"
                   "secondary = \"opc.tcp://h:1\"\n")
                  .ok());
}

TEST(ConfigRules, HostPortSyntax) {
  auto bad = [](const std::string& value, const std::string& why) {
    SCOPED_TRACE(value);
    expect_error(with("[http]\nlisten = \"" + value + "\"\n"), "http.listen",
                 {"is not host:port", why});
  };
  bad("8080", "port is missing");
  bad("localhost", "port is missing");
  bad(":8080", "host is missing");
  bad("::1:8080", "IPv6 address must be written in brackets");
  bad("[::1]8080", "expected ':'");
  bad("[::1:8080", "without a closing");
  bad("[zz]:8080", "not an IPv6 address");
  bad("host name:80", "not a host name");
  bad("h:80x", "not a number");
  expect_error(with("[face]\nlisten = \"\"\n"), "face.listen", {"it is empty"});
}

TEST(ConfigRules, NodeIdSyntax) {
  for (std::string good :
       {"ns=2;s=PLC1.Heartbeat", "i=2258", "ns=0;i=4294967295", "s=x",
        "ns=65535;g=72962B91-FA75-4AE6-8D28-B404DC7DAF63",
        "g={72962b91-fa75-4ae6-8d28-b404dc7daf63}", "ns=3;b=AAEC", "b=AA==", "ns=1;s=a;b=c"}) {
    auto r = with(pair_a + "[[pair.monitor]]\nitem = \"" + good + "\"\n");
    EXPECT_TRUE(r.ok()) << good << "\n" << dump(r);
  }
  auto bad = [](const std::string& item, const std::string& why) {
    SCOPED_TRACE(item);
    auto r = with(pair_a + "[[pair.monitor]]\nitem = \"" + item + "\"\n");
    expect_error(r, "pair[0].monitor[0].item", {"is not a NodeId", why}, 9, 8);
  };
  bad("PLC1.Heartbeat", "expected ns=<index>;i=<number>");
  bad("ns=2", "';' missing");
  bad("ns=x;i=1", "namespace index 'x'");
  bad("ns=70000;i=1", "from 0 to 65535");
  bad("ns=2;i=abc", "numeric identifier 'abc'");
  bad("i=4294967296", "numeric identifier");
  bad("ns=2;s=", "string identifier is empty");
  bad("g=1234", "GUID");
  bad("b=A", "not base64");
  bad("b=A=AA", "not base64");
  bad("x=1", "expected ns=");
  bad("", "it is empty");
}

TEST(ConfigRules, SmtpUrlScheme) {
  auto r = with("[notifications]\nsmtp_url = \"http://mail:25\"\n");
  expect_error(r, "notifications.smtp_url", {"is not an smtp:// or smtps:// URL", "scheme 'http'"},
               4, 12);
  expect_error(with("[notifications]\nsmtp_url = \"mail.example:25\"\n"), "notifications.smtp_url",
               {"must start with smtp://"});
  expect_error(with("[notifications]\nsmtp_url = \"smtp://\"\n"), "notifications.smtp_url",
               {"it is empty"});
  EXPECT_TRUE(with("[notifications]\nsmtp_url = \"smtp://mail.example\"\n").ok());
  EXPECT_TRUE(with("[notifications]\nsmtp_url = \"SMTPS://[::1]:465\"\n").ok());
}

TEST(ConfigRules, RecipientAddressLooksLikeAnEmail) {
  for (std::string bad : {"operators", "a@", "@b.c", "a@b@c", "a b@c.d", "a@b..c", "a@.b"}) {
    auto r = with("[notifications]\nsmtp_url = \"smtp://m:25\"\n[[notifications.recipient]]\n"
                  "address = \"" +
                  bad + "\"\n");
    SCOPED_TRACE(bad);
    expect_error(r, "notifications.recipient[0].address", {"is not a mail address"}, 6, 11);
  }
}

TEST(ConfigRules, FromLooksLikeAMailbox) {
  expect_error(with("[notifications]\nfrom = \"tandem\"\n"), "notifications.from",
               {"'tandem' is not a mail address"});
}

TEST(ConfigRules, PasswordFileAndEnvBothSet) {
  auto r = with("[notifications]\npassword_file = \"pw\"\npassword_env = \"PW\"\n");
  expect_error(r, "notifications.password_env", {"password_file and password_env are both set"}, 5,
               16);
}

TEST(ConfigRules, PasswordEnvMustNameAVariable) {
  auto r = with("[notifications]\nusername = \"u\"\npassword_env = \"hunter 2\"\n");
  expect_error(r, "notifications.password_env",
               {"'hunter 2' is not an environment variable name", "not the password"}, 5, 16);
  EXPECT_TRUE(with("[notifications]\nusername = \"u\"\npassword_env = \"_SMTP_PW2\"\n").ok());
  EXPECT_FALSE(with("[notifications]\nusername = \"u\"\npassword_env = \"2PW\"\n").ok());
}

TEST(ConfigRules, RecipientPairsMustNameAPair) {
  auto r =
      with(pair_a + "[notifications]\nsmtp_url = \"smtp://m:25\"\n"
                    "[[notifications.recipient]]\naddress = \"x@y.z\"\npairs = [\"a\", \"b\"]\n");
  expect_error(r, "notifications.recipient[0].pairs[1]", {"no pair has the alias 'b'"}, 12, 15);
}

// -- several problems at once -------------------------------------------------------------------

TEST(ConfigRules, ReportsEveryProblemAtOnce) {
  auto r = parse(R"([node]
name = "bad name"
[face]
listen = "127.0.0.1:0"
anonymus = true
[redundancy]
role = "master"
ping_interval_ms = 5000
[[pair]]
alias = "a"
primary = "opc.tcp://h:1"
secondary = "opc.tcp://h:1"
  [[pair.monitor]]
  item = "nonsense"
  condition = "above"
[diagnostics]
max_events = 0
[notifications]
smtp_url = "ftp://x"
)",
                 "many.toml");
  EXPECT_FALSE(r.ok());
  std::vector<std::string> keys = {"node.name",
                                   "face.listen",
                                   "face.anonymus",
                                   "redundancy.partner",
                                   "redundancy.ping_interval_ms",
                                   "pair[0].secondary",
                                   "pair[0].monitor[0].item",
                                   "pair[0].monitor[0].value",
                                   "diagnostics.max_events",
                                   "notifications.smtp_url"};
  EXPECT_EQ(r.error_count(), keys.size()) << dump(r);
  for (auto& k : keys)
    EXPECT_NE(find(r, k), nullptr) << k << "\n" << dump(r);
  // In file order.
  for (size_t i = 1; i < r.problems.size(); ++i)
    EXPECT_LE(r.problems[i - 1].line, r.problems[i].line) << dump(r);
  EXPECT_THAT(find(r, "face.anonymus")->message, HasSubstr("did you mean 'anonymous'?"));
}

// -- warnings -----------------------------------------------------------------------------------

TEST(ConfigWarnings, LocalhostPartner) {
  auto r = with("[redundancy]\nrole = \"master\"\nlisten = \"10.0.0.1:8099\"\n"
                "partner = \"localhost:8099\"\n");
  ASSERT_TRUE(r.ok()) << dump(r); // warnings don't block
  ASSERT_EQ(r.warning_count(), 1u) << dump(r);
  const problem* p = find(r, "redundancy.partner");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->lvl, problem::level::warning);
  EXPECT_THAT(p->message, HasSubstr("this machine"));
  EXPECT_THAT(p->message, HasSubstr("two nodes share this file"));
  EXPECT_EQ(p->line, 6);
  EXPECT_EQ(p->column, 11);
  EXPECT_THAT(p->text(), HasSubstr("t.toml:6:11: warning: redundancy.partner: "));
}

TEST(ConfigWarnings, LoopbackPairServersOnAPairedNode) {
  auto r = with("[redundancy]\nrole = \"backup\"\nlisten = \"10.0.0.2:8099\"\n"
                "partner = \"10.0.0.1:8099\"\n[[pair]]\nalias = \"a\"\n"
                "primary = \"opc.tcp://127.0.0.1:4841\"\nsecondary = \"opc.tcp://[::1]:4842\"\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.warning_count(), 2u) << dump(r);
  for (auto key : {"pair[0].primary", "pair[0].secondary"}) {
    const problem* p = find(r, key);
    ASSERT_NE(p, nullptr) << key;
    EXPECT_EQ(p->lvl, problem::level::warning);
    EXPECT_THAT(p->message, HasSubstr("a different machine on each node"));
  }
}

TEST(ConfigWarnings, LoopbackPairServersOnAnIndependentNodeAreFine) {
  auto r = with("[[pair]]\nalias = \"a\"\nprimary = \"opc.tcp://localhost:4841\"\n"
                "secondary = \"opc.tcp://127.0.0.1:4842\"\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_TRUE(r.problems.empty()) << dump(r);
}

TEST(ConfigWarnings, LoopbackRedundancyListenOnAPairedNode) {
  auto r = with("[redundancy]\nrole = \"master\"\nlisten = \"127.0.0.1:8099\"\n"
                "partner = \"10.0.0.2:8099\"\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  ASSERT_EQ(r.warning_count(), 1u) << dump(r);
  EXPECT_THAT(find(r, "redundancy.listen")->message, HasSubstr("cannot connect"));
}

TEST(ConfigWarnings, OtherWarnings) {
  auto r = with("[redundancy]\npartner = \"10.0.0.2:8099\"\n");
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(find(r, "redundancy.partner")->message, HasSubstr("ignored"));
  r = with("[face]\nanonymous = false\n");
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(find(r, "face.anonymous")->message, HasSubstr("no client can log in"));
  r = with(pair_a + "[[pair.monitor]]\nitem = \"i=1\"\nvalue = 3\n");
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(find(r, "pair[0].monitor[0].value")->message, HasSubstr("ignored"));
}

TEST(ConfigWarnings, SmtpUserAndPasswordGoTogether) {
  auto r = with("[notifications]\nusername = \"mailer\"\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  ASSERT_EQ(r.warning_count(), 1u) << dump(r);
  const problem* p = find(r, "notifications.username");
  ASSERT_NE(p, nullptr) << dump(r);
  EXPECT_THAT(p->message, HasSubstr("empty password"));
  EXPECT_EQ(p->line, 4);
  EXPECT_EQ(p->column, 12);
  r = with("[notifications]\npassword_file = \"smtp.pw\"\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  ASSERT_EQ(r.warning_count(), 1u) << dump(r);
  ASSERT_NE(find(r, "notifications.password_file"), nullptr) << dump(r);
  EXPECT_THAT(find(r, "notifications.password_file")->message, HasSubstr("username is empty"));
  r = with("[notifications]\nusername = \"mailer\"\npassword_env = \"PW\"\n");
  EXPECT_TRUE(r.problems.empty()) << dump(r);
}

TEST(ConfigWarnings, WarningsAndErrorsTogetherStillFail) {
  auto r = with("[redundancy]\nrole = \"master\"\npartner = \"127.0.0.1:8099\"\n"
                "ping_timeout_ms = 1\n");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error_count(), 1u) << dump(r);
  EXPECT_EQ(r.warning_count(), 1u) << dump(r);
}
