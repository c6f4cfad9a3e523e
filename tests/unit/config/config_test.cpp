/// Parsing valid configurations: defaults, every field, path resolution, the digest, the examples.

#include "config/config.hpp"
#include "tests/unit/config/config_test_util.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace fs = std::filesystem;
using namespace tandem::config;
using namespace tandem::config::test;

TEST(ConfigParse, MinimalConfigGetsEveryDefault) {
  auto r = parse(minimal, "/etc/tandem/node.toml");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_TRUE(r.problems.empty()) << dump(r);
  const node_config& c = *r.config;
  EXPECT_EQ(c.source_path, "/etc/tandem/node.toml");
  EXPECT_EQ(c.node.name, "n1");
  EXPECT_EQ(c.node.data_dir, "/etc/tandem/tandem-data");
  EXPECT_EQ(c.node.console_socket, "/etc/tandem/tandem-data/console.sock");
  EXPECT_EQ(c.node.comment, "");
  EXPECT_EQ(c.face.listen.host, "127.0.0.1");
  EXPECT_EQ(c.face.listen.port, 4840);
  EXPECT_EQ(c.face.application_uri, "urn:tandem:n1");
  EXPECT_TRUE(c.face.anonymous);
  EXPECT_TRUE(c.face.users.empty());
  EXPECT_EQ(c.redundancy.node_role, role::independent);
  EXPECT_EQ(c.redundancy.listen.text(), "0.0.0.0:8099");
  EXPECT_FALSE(c.redundancy.partner);
  EXPECT_EQ(c.redundancy.ping_interval_ms, 1000);
  EXPECT_EQ(c.redundancy.ping_timeout_ms, 3000);
  EXPECT_EQ(c.redundancy.missed_pings, 3);
  EXPECT_EQ(c.redundancy.connection_wait_ms, 10000);
  EXPECT_EQ(c.redundancy.recovery, recovery_mode::automatic);
  EXPECT_EQ(c.redundancy.standby, standby_mode::warm);
  EXPECT_EQ(c.redundancy.split_brain, split_brain_policy::longest_running);
  EXPECT_EQ(c.redundancy.history_retention_ms, 604800000);
  EXPECT_TRUE(c.pairs.empty());
  EXPECT_EQ(c.diagnostics.max_events, 10000);
  EXPECT_EQ(c.notifications.smtp_url, "");
  EXPECT_EQ(c.notifications.from, "tandem@localhost");
  EXPECT_EQ(c.notifications.username, "");
  EXPECT_EQ(c.notifications.password_file, "");
  EXPECT_EQ(c.notifications.password_env, "");
  EXPECT_EQ(c.notifications.batch_ms, 5000);
  EXPECT_EQ(c.notifications.min_interval_ms, 60000);
  EXPECT_TRUE(c.notifications.recipients.empty());
  EXPECT_FALSE(c.http.listen);
  EXPECT_FALSE(c.debug.fault_injection);
}

TEST(ConfigParse, PairAndMonitorDefaults) {
  auto r = with(R"(
[[pair]]
alias = "a"
primary = "opc.tcp://10.0.0.1:4840"
secondary = "opc.tcp://10.0.0.2:4840"
  [[pair.monitor]]
  item = "ns=2;s=X"
  [[notifications.recipient]]
  address = "a@b.example"
)");
  ASSERT_TRUE(r.ok()) << dump(r);
  auto& p = r.config->pairs.at(0);
  EXPECT_EQ(p.user, "");
  EXPECT_EQ(p.password_file, "");
  EXPECT_EQ(p.mode, pair_mode::warm);
  EXPECT_TRUE(p.return_to_primary);
  EXPECT_TRUE(p.history);
  EXPECT_EQ(p.return_settle_ms, 10000);
  EXPECT_EQ(p.status_interval_ms, 1000);
  EXPECT_EQ(p.status_timeout_ms, 1000);
  EXPECT_EQ(p.min_service_level, 1);
  EXPECT_EQ(p.comment, "");
  ASSERT_EQ(p.monitors.size(), 1u);
  EXPECT_EQ(p.monitors[0].condition, monitor_condition::stale);
  EXPECT_EQ(p.monitors[0].stale_ms, 5000);
  EXPECT_FALSE(p.monitors[0].value);
  auto& rc = r.config->notifications.recipients.at(0);
  EXPECT_TRUE(rc.kinds.empty());
  EXPECT_EQ(rc.min_severity, severity::warning);
  EXPECT_TRUE(rc.pairs.empty());
  // An empty smtp_url with recipients is allowed but worth a warning.
  EXPECT_EQ(r.warning_count(), 1u) << dump(r);
}

TEST(ConfigParse, FullConfigParsesAllFields) {
  auto r = parse(full, "/etc/tandem/node.toml");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_TRUE(r.problems.empty()) << dump(r);
  const node_config& c = *r.config;
  EXPECT_EQ(c.node.name, "plant-a");
  EXPECT_EQ(c.node.data_dir, "/var/lib/tandem");
  EXPECT_EQ(c.node.console_socket, "/run/tandem/console.sock");
  EXPECT_EQ(c.node.comment, "rack 3");
  EXPECT_EQ(c.face.listen.text(), "10.0.0.20:4841");
  EXPECT_EQ(c.face.application_uri, "urn:example:face");
  EXPECT_FALSE(c.face.anonymous);
  ASSERT_EQ(c.face.users.size(), 2u);
  EXPECT_EQ(c.face.users[1].name, "op2");
  EXPECT_EQ(
      c.face.users[1].password_hash,
      "$pbkdf2-sha256$10000$kXoRYFsJUa18yG20c9ZW6A==$Ql2gRQ7haNoR6zqt9KFZkt29q4BeUpmldJ44JAVnpPg=");

  auto& rd = c.redundancy;
  EXPECT_EQ(rd.node_role, role::master);
  EXPECT_EQ(rd.listen.text(), "10.0.0.20:8100");
  ASSERT_TRUE(rd.partner);
  EXPECT_EQ(rd.partner->text(), "10.0.0.21:8100");
  EXPECT_EQ(rd.ping_interval_ms, 250);
  EXPECT_EQ(rd.ping_timeout_ms, 1000);
  EXPECT_EQ(rd.missed_pings, 5);
  EXPECT_EQ(rd.connection_wait_ms, 20000);
  EXPECT_EQ(rd.recovery, recovery_mode::manual);
  EXPECT_EQ(rd.standby, standby_mode::cold);
  EXPECT_EQ(rd.split_brain, split_brain_policy::master_wins);
  EXPECT_EQ(rd.history_retention_ms, 86400000);

  ASSERT_EQ(c.pairs.size(), 2u);
  auto& p = c.pairs[0];
  EXPECT_EQ(p.alias, "line1");
  EXPECT_EQ(p.primary, "opc.tcp://10.0.0.10:4840/server");
  EXPECT_EQ(p.secondary, "opc.tcp://10.0.0.11:4840/server");
  EXPECT_EQ(p.user, "tandem");
  EXPECT_EQ(p.password_file, "/etc/tandem/line1.pw");
  EXPECT_EQ(p.mode, pair_mode::hot);
  EXPECT_FALSE(p.return_to_primary);
  EXPECT_EQ(p.return_settle_ms, 2000);
  EXPECT_EQ(p.status_interval_ms, 500);
  EXPECT_EQ(p.status_timeout_ms, 400);
  EXPECT_EQ(p.min_service_level, 200);
  EXPECT_EQ(p.comment, "gateway pair");
  ASSERT_EQ(p.monitors.size(), 3u);
  EXPECT_EQ(p.monitors[0].item, "ns=2;s=PLC1.Heartbeat");
  EXPECT_EQ(p.monitors[0].condition, monitor_condition::stale);
  EXPECT_EQ(p.monitors[0].stale_ms, 3000);
  EXPECT_EQ(p.monitors[1].condition, monitor_condition::equals);
  ASSERT_TRUE(p.monitors[1].value);
  EXPECT_EQ(*p.monitors[1].value, 1.0); // booleans read as 0/1
  EXPECT_EQ(p.monitors[2].item, "i=2258");
  EXPECT_EQ(p.monitors[2].condition, monitor_condition::below);
  EXPECT_EQ(*p.monitors[2].value, -1.5);
  EXPECT_EQ(c.pairs[1].alias, "line2");
  EXPECT_EQ(c.pairs[1].monitors.at(0).condition, monitor_condition::bad_quality);

  EXPECT_EQ(c.diagnostics.max_events, 123456);
  auto& n = c.notifications;
  EXPECT_EQ(n.smtp_url, "smtps://mail.example:465");
  EXPECT_EQ(n.from, "Tandem <tandem@example.com>");
  EXPECT_EQ(n.username, "mailer");
  EXPECT_EQ(n.password_file, "/etc/tandem/smtp.pw");
  EXPECT_EQ(n.password_env, "");
  EXPECT_EQ(n.batch_ms, 1000);
  EXPECT_EQ(n.min_interval_ms, 30000);
  ASSERT_EQ(n.recipients.size(), 2u);
  EXPECT_EQ(n.recipients[0].address, "ops@example.com");
  EXPECT_EQ(n.recipients[0].kinds, (std::vector<std::string>{"failover", "partner_lost"}));
  EXPECT_EQ(n.recipients[0].min_severity, severity::error);
  EXPECT_EQ(n.recipients[0].pairs, std::vector<std::string>{"line1"});
  EXPECT_EQ(n.recipients[1].min_severity, severity::warning);
  ASSERT_TRUE(c.http.listen);
  EXPECT_EQ(c.http.listen->text(), "10.0.0.20:8080");
  EXPECT_TRUE(c.debug.fault_injection);
}

TEST(ConfigParse, EndpointsAcceptIpv6InBrackets) {
  auto r = with("[face]\nlisten = \"[::1]:4850\"\n[http]\nlisten = \"[fe80::1%eth0]:8080\"\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.config->face.listen.host, "::1"); // brackets dropped: ready to resolve or bind
  EXPECT_EQ(r.config->face.listen.port, 4850);
  EXPECT_EQ(r.config->http.listen->host, "fe80::1%eth0");
}

TEST(ConfigParse, EmptyOptionalEndpointsMeanOff) {
  auto r = with("[redundancy]\npartner = \"\"\n[http]\nlisten = \"\"\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_FALSE(r.config->redundancy.partner);
  EXPECT_FALSE(r.config->http.listen);
}

TEST(ConfigParse, LinkBindIsAnIpAddressOrEmpty) {
  EXPECT_EQ(with("").config->redundancy.link_bind, "");
  for (auto addr : {"10.1.0.5", "::1", "fe80::1"}) {
    auto r = with(std::string("[redundancy]\nlink_bind = \"") + addr + "\"\n");
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_EQ(r.config->redundancy.link_bind, addr);
  }
  for (auto bad : {"eth0", "10.1.0.5:8099", "10.1.0", "[::1]"}) {
    auto r = with(std::string("[redundancy]\nlink_bind = \"") + bad + "\"\n");
    EXPECT_FALSE(r.ok()) << bad;
    auto* p = find(r, "redundancy.link_bind");
    ASSERT_TRUE(p) << dump(r);
    EXPECT_NE(p->message.find("is not an IP address"), std::string::npos) << p->message;
    EXPECT_EQ(p->line, 4);
  }
}

TEST(ConfigPaths, RelativePathsResolveAgainstTheConfigDirectory) {
  auto r = parse(R"([node]
name = "n"
data_dir = "../data/./x/"
console_socket = "run/c.sock"
[[pair]]
alias = "a"
primary = "opc.tcp://h1:1"
secondary = "opc.tcp://h2:1"
password_file = "secrets/a.pw"
[notifications]
password_file = "/abs/smtp.pw"
)",
                 "/opt/tandem/conf/node.toml");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.config->node.data_dir, "/opt/tandem/data/x");
  EXPECT_EQ(r.config->node.console_socket, "/opt/tandem/conf/run/c.sock");
  EXPECT_EQ(r.config->pairs[0].password_file, "/opt/tandem/conf/secrets/a.pw");
  EXPECT_EQ(r.config->notifications.password_file, "/abs/smtp.pw");
}

TEST(ConfigPaths, TextWithoutAFileResolvesAgainstTheCurrentDirectory) {
  auto r = parse(minimal, "");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.config->source_path, "");
  EXPECT_EQ(r.config->node.data_dir, (fs::current_path() / "tandem-data").lexically_normal());
  EXPECT_TRUE(fs::path(r.config->node.console_socket).is_absolute());
}

TEST(ConfigPaths, RelativeFileNameGivesAnAbsoluteSourcePath) {
  auto r = parse(minimal, "conf/node.toml");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.config->source_path, (fs::current_path() / "conf/node.toml").string());
  EXPECT_EQ(r.config->node.data_dir, (fs::current_path() / "conf/tandem-data").string());
}

TEST(ConfigProblem, TextFormats) {
  problem p;
  p.file = "a.toml";
  p.line = 3;
  p.column = 7;
  p.key_path = "pair[0].alias";
  p.message = "is required";
  EXPECT_EQ(p.text(), "a.toml:3:7: error: pair[0].alias: is required");
  p.lvl = problem::level::warning;
  EXPECT_EQ(p.text(), "a.toml:3:7: warning: pair[0].alias: is required");
  p.line = 0;
  p.column = 0;
  p.key_path.clear();
  EXPECT_EQ(p.text(), "a.toml: warning: is required");
  p.file.clear();
  EXPECT_EQ(p.text(), "<config>: warning: is required");
}

TEST(ConfigProblem, ProblemsCarryTheFileNameAndComeInFileOrder) {
  auto r = parse("[debug]\nfault_injection = 1\n[node]\nname = 5\n[face]\nanonymous = \"no\"\n",
                 "dir/x.toml");
  ASSERT_EQ(r.error_count(), 3u) << dump(r);
  EXPECT_EQ(r.problems[0].line, 2);
  EXPECT_EQ(r.problems[1].line, 4);
  EXPECT_EQ(r.problems[2].line, 6);
  for (auto& p : r.problems)
    EXPECT_EQ(p.file, "dir/x.toml");
  EXPECT_EQ(r.problems[1].text(),
            "dir/x.toml:4:8: error: node.name: expected a string, got an integer");
}

TEST(ConfigNames, ToStringAndBack) {
  EXPECT_STREQ(to_string(role::independent), "independent");
  EXPECT_STREQ(to_string(role::master), "master");
  EXPECT_STREQ(to_string(role::backup), "backup");
  EXPECT_STREQ(to_string(pair_mode::cold), "cold");
  EXPECT_STREQ(to_string(pair_mode::warm), "warm");
  EXPECT_STREQ(to_string(pair_mode::hot), "hot");
  EXPECT_STREQ(to_string(monitor_condition::stale), "stale");
  EXPECT_STREQ(to_string(monitor_condition::equals), "equals");
  EXPECT_STREQ(to_string(monitor_condition::above), "above");
  EXPECT_STREQ(to_string(monitor_condition::below), "below");
  EXPECT_STREQ(to_string(monitor_condition::bad_quality), "bad_quality");
  EXPECT_STREQ(to_string(recovery_mode::automatic), "automatic");
  EXPECT_STREQ(to_string(recovery_mode::manual), "manual");
  EXPECT_STREQ(to_string(standby_mode::cold), "cold");
  EXPECT_STREQ(to_string(standby_mode::warm), "warm");
  EXPECT_STREQ(to_string(split_brain_policy::longest_running), "longest_running");
  EXPECT_STREQ(to_string(split_brain_policy::master_wins), "master_wins");
  for (auto s : {severity::info, severity::warning, severity::error, severity::critical})
    EXPECT_EQ(severity_from_string(to_string(s)), s);
  EXPECT_FALSE(severity_from_string("fatal"));
  EXPECT_FALSE(severity_from_string(""));
}

// -- shared digest ------------------------------------------------------------------------------

namespace {
std::string digest_of(const std::string& text, const std::string& file = "/a/node.toml") {
  auto r = parse(text, file);
  EXPECT_TRUE(r.ok()) << dump(r);
  return r.ok() ? shared_digest(*r.config) : std::string{};
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
  auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}
} // namespace

TEST(ConfigDigest, IsHexSha256AndStable) {
  auto d = digest_of(full);
  ASSERT_EQ(d.size(), 64u);
  EXPECT_EQ(d.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(d, digest_of(full));
}

TEST(ConfigDigest, NodeLocalKeysAndPasswordsAreLeftOut) {
  auto d = digest_of(full);
  EXPECT_EQ(d, digest_of(replace(full, "name = \"plant-a\"", "name = \"plant-b\"")));
  EXPECT_EQ(d, digest_of(replace(full, "/var/lib/tandem", "/srv/tandem")));
  EXPECT_EQ(d, digest_of(replace(full, "10.0.0.20:4841", "10.0.0.21:4841")));
  EXPECT_EQ(d, digest_of(replace(full, "role = \"master\"", "role = \"backup\"")));
  EXPECT_EQ(
      d, digest_of(replace(full, "partner = \"10.0.0.21:8100\"", "partner = \"10.0.0.22:8100\"")));
  EXPECT_EQ(d,
            digest_of(replace(full, "listen = \"10.0.0.20:8100\"", "listen = \"10.0.0.21:8100\"")));
  EXPECT_EQ(d, digest_of(replace(full, "10.0.0.20:8080", "10.0.0.21:8080")));
  EXPECT_EQ(d, digest_of(replace(full, "fault_injection = true", "fault_injection = false")));
  EXPECT_EQ(d, digest_of(replace(full, "/etc/tandem/smtp.pw", "/other/smtp.pw")));
  EXPECT_EQ(d, digest_of(replace(full, "/etc/tandem/line1.pw", "/other/line1.pw")));
  EXPECT_EQ(d, digest_of(full, "/elsewhere/node.toml"));
  EXPECT_EQ(shared_canonical_text(*parse(full, "x").config).find("smtp.pw"), std::string::npos);
}

TEST(ConfigDigest, SharedKeysChangeIt) {
  auto d = digest_of(full);
  EXPECT_NE(d, digest_of(replace(full, "ping_interval_ms = 250", "ping_interval_ms = 251")));
  EXPECT_NE(d, digest_of(replace(full, "recovery = \"manual\"", "recovery = \"automatic\"")));
  EXPECT_NE(d, digest_of(replace(full, "mode = \"hot\"", "mode = \"warm\"")));
  EXPECT_NE(d, digest_of(replace(full, "stale_ms = 3000", "stale_ms = 3001")));
  EXPECT_NE(d, digest_of(replace(full, "value = -1.5", "value = -1.25")));
  EXPECT_NE(d, digest_of(replace(full, "opc.tcp://10.0.0.11:4840/server",
                                 "opc.tcp://10.0.0.12:4840/server")));
  EXPECT_NE(d, digest_of(replace(full, "max_events = 123456", "max_events = 123457")));
  EXPECT_NE(d, digest_of(replace(full, "ops@example.com", "ops2@example.com")));
  EXPECT_NE(d, digest_of(replace(full, "min_severity = \"error\"", "min_severity = \"info\"")));
}

// `history` joined the shared keys later: a configuration that records (the default, or said
// explicitly) keeps the digest it had before the key existed, so a partner on the previous
// release still matches; turning it off is a difference both nodes must agree on.
TEST(ConfigDigest, PairHistoryChangesItOnlyWhenOff) {
  auto d = digest_of(full);
  const std::string at = "mode = \"hot\"";
  EXPECT_EQ(d, digest_of(replace(full, at, at + "\nhistory = true")));
  auto off = replace(full, at, at + "\nhistory = false");
  ASSERT_TRUE(parse(off, "x").ok());
  EXPECT_FALSE(parse(off, "x").config->pairs.at(0).history);
  EXPECT_NE(d, digest_of(off));
  auto diff = canonical_differences(shared_canonical_text(*parse(full, "x").config),
                                    shared_canonical_text(*parse(off, "x").config));
  ASSERT_EQ(diff.size(), 1u) << ::testing::PrintToString(diff);
  EXPECT_EQ(diff[0].substr(diff[0].size() - 8), ".history");
  auto bad = parse(replace(full, at, at + "\nhistory = \"no\""), "x");
  EXPECT_FALSE(bad.ok());
}

TEST(ConfigDigest, DifferencesNameTheKeyPathsThatDiffer) {
  auto text_of = [](const std::string& t) { return shared_canonical_text(*parse(t, "x").config); };
  auto a = text_of(full);
  EXPECT_TRUE(canonical_differences(a, a).empty());
  auto b = text_of(replace(replace(full, "recovery = \"manual\"", "recovery = \"automatic\""),
                           "mode = \"hot\"", "mode = \"warm\""));
  auto diff = canonical_differences(a, b);
  ASSERT_EQ(diff.size(), 2u) << ::testing::PrintToString(diff);
  EXPECT_EQ(diff[0], "redundancy.recovery");
  EXPECT_EQ(diff[1].substr(0, 5), "pair[");
  EXPECT_EQ(diff[1].substr(diff[1].size() - 5), ".mode");
  // A key only one side has (a pair the other lacks, another version's format) is a difference.
  auto only =
      canonical_differences("tandem-shared-config 1\na=1\n", "tandem-shared-config 2\na=1\nb=2\n");
  EXPECT_EQ(only, (std::vector<std::string>{"format", "b"}));
}

TEST(ConfigDigest, MasterAndBackupExamplesMatch) {
  auto m = load_file(TANDEM_SOURCE_DIR "/examples/master.toml");
  auto b = load_file(TANDEM_SOURCE_DIR "/examples/backup.toml");
  ASSERT_TRUE(m.ok()) << dump(m);
  ASSERT_TRUE(b.ok()) << dump(b);
  EXPECT_EQ(shared_canonical_text(*m.config), shared_canonical_text(*b.config));
  EXPECT_EQ(shared_digest(*m.config), shared_digest(*b.config));
}

// -- files and examples -------------------------------------------------------------------------

TEST(ConfigFile, MissingFileIsOneErrorNamingThePathAndReason) {
  auto r = load_file("/nonexistent/dir/node.toml");
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].file, "/nonexistent/dir/node.toml");
  EXPECT_NE(r.problems[0].message.find("No such file or directory"), std::string::npos)
      << r.problems[0].message;
  EXPECT_NE(r.problems[0].text().find("/nonexistent/dir/node.toml"), std::string::npos);
}

TEST(ConfigFile, DirectoryIsOneError) {
  auto r = load_file(fs::temp_directory_path().string());
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_NE(r.problems[0].message.find("Is a directory"), std::string::npos);
}

TEST(ConfigFile, LoadsAFileAndNamesItInProblems) {
  auto dir = fs::temp_directory_path() / ("tandem_config_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto path = (dir / "node.toml").string();
  {
    std::ofstream out(path);
    out << "[node]\nname = \"n\"\n[face]\nlisten = \"127.0.0.1:99999\"\n";
  }
  auto r = load_file(path);
  ASSERT_EQ(r.error_count(), 1u) << dump(r);
  EXPECT_EQ(r.problems[0].text().rfind(path + ":4:10: error: face.listen: ", 0), 0u)
      << r.problems[0].text();
  {
    std::ofstream out(path);
    out << minimal;
  }
  r = load_file(path);
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.config->source_path, path);
  EXPECT_EQ(r.config->node.data_dir, (dir / "tandem-data").string());
  fs::remove_all(dir);
}

TEST(ConfigExamples, AllLoadWithoutErrors) {
  int seen = 0;
  for (auto& e : fs::directory_iterator(TANDEM_SOURCE_DIR "/examples")) {
    if (e.path().extension() != ".toml") continue;
    ++seen;
    auto r = load_file(e.path().string());
    EXPECT_TRUE(r.ok()) << e.path() << "\n" << dump(r);
    EXPECT_EQ(r.error_count(), 0u) << dump(r);
  }
  EXPECT_GE(seen, 4);
}

TEST(ConfigExamples, DemoMatchesTheReadme) {
  auto r = load_file(TANDEM_SOURCE_DIR "/examples/demo.toml");
  ASSERT_TRUE(r.ok()) << dump(r);
  auto& c = *r.config;
  EXPECT_EQ(c.node.name, "demo");
  EXPECT_EQ(c.redundancy.node_role, role::independent);
  EXPECT_EQ(c.face.listen.text(), "127.0.0.1:4840");
  EXPECT_EQ(c.node.data_dir, (fs::path(TANDEM_SOURCE_DIR) / "examples/demo-data").string());
  ASSERT_EQ(c.pairs.size(), 1u);
  EXPECT_EQ(c.pairs[0].alias, "line1");
  EXPECT_EQ(c.pairs[0].primary, "opc.tcp://127.0.0.1:4841/sim");
  EXPECT_EQ(c.pairs[0].secondary, "opc.tcp://127.0.0.1:4842/sim");
  EXPECT_EQ(c.pairs[0].mode, pair_mode::hot);
  EXPECT_TRUE(c.debug.fault_injection);
  EXPECT_TRUE(r.problems.empty()) << dump(r); // loopback pairs are fine on an independent node
}

TEST(ConfigExamples, IndependentHasTwoPairsAndNoMail) {
  auto r = load_file(TANDEM_SOURCE_DIR "/examples/independent.toml");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.config->pairs.size(), 2u);
  EXPECT_EQ(r.config->notifications.smtp_url, "");
  for (auto& p : r.config->pairs)
    EXPECT_FALSE(p.monitors.empty());
}
