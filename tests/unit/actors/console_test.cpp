// Deterministic tests of the CONSOLE actor: command words, JSON shapes, errors, follow.

#include <gtest/gtest.h>

#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/console.hpp"
#include "actors/supervisor.hpp"
#include "tests/support/actor_fixture.hpp"
#include "tests/unit/actors/test_util.hpp"

using namespace tandem;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

class console_test : public test::actor_fixture {
protected:
  void start(bool fault_injection, std::shared_ptr<partner::pki_store> pki = nullptr) {
    config::node_config c;
    c.node.name = "n1";
    c.debug.fault_injection = fault_injection;
    config::pair_section p;
    p.alias = "line1";
    p.primary = "opc.tcp://h1:4840";
    p.secondary = "opc.tcp://h2:4840";
    c.pairs.push_back(p);
    node_runtime rt;
    rt.events = store;
    rt.wall_now = [this] { return wall_now(); };
    rt.attach_console = [this](const console_actor& a) { con = a; };
    rt.pki = pki;
    node = sys.spawn(supervisor, c, rt);
    run();
  }
  void TearDown() override {
    self->send(node, atom::shutdown_v);
    run();
  }
  /// Sends one command line from `peer` and returns what the console answered.
  std::vector<json> cmd(const std::string& line,
                        std::shared_ptr<test::recording_peer> p = nullptr) {
    if (!p) p = peer;
    self->send(con, console_request{p, line});
    run();
    return p->take();
  }
  json one(const std::string& line) {
    auto r = cmd(line);
    EXPECT_EQ(r.size(), 1u) << line;
    return r.empty() ? json() : r[0];
  }
  std::string error_of(const std::string& line) {
    auto j = one(line);
    EXPECT_TRUE(j.contains("error")) << line << " -> " << j.dump();
    return j.value("error", "");
  }

  test::temp_dir dir;
  std::shared_ptr<storage::event_store> store = test::open_store(dir);
  node_actor node;
  console_actor con;
  std::shared_ptr<test::recording_peer> peer = std::make_shared<test::recording_peer>(1);
};

TEST_F(console_test, help_lists_commands_with_name_usage_and_help) {
  start(false);
  auto j = one("help");
  ASSERT_TRUE(j["commands"].is_array());
  std::vector<std::string> names;
  for (auto& c : j["commands"]) {
    names.push_back(c["name"]);
    EXPECT_TRUE(c["usage"].is_string());
    EXPECT_TRUE(c["help"].is_string());
  }
  for (auto n : {"help", "status", "pairs", "events", "inject"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  auto one_cmd = one("help events");
  ASSERT_EQ(one_cmd["commands"].size(), 1u);
  EXPECT_EQ(one_cmd["commands"][0]["usage"], "events [N] [--follow]");
  EXPECT_NE(error_of("help nosuch").find("no command 'nosuch'"), std::string::npos);
}

TEST_F(console_test, status_has_the_fields_of_the_console_contract) {
  start(false);
  advance(1234ms);
  auto j = one("status");
  auto& n = j["node"];
  EXPECT_EQ(n["name"], "n1");
  EXPECT_EQ(n["role"], "independent");
  EXPECT_EQ(n["state"], "Running");
  EXPECT_EQ(n["uptime_ms"], 1234);
  EXPECT_EQ(n["maintenance"], false);
  EXPECT_TRUE(j["partner"].is_null());
  ASSERT_EQ(j["pairs"].size(), 1u);
  auto& p = j["pairs"][0];
  for (auto k :
       {"alias", "mode", "active", "service_level", "primary", "secondary", "last_failover"})
    EXPECT_TRUE(p.contains(k)) << k;
  EXPECT_EQ(p["primary"]["url"], "opc.tcp://h1:4840");
  EXPECT_TRUE(p["primary"].contains("state"));
  auto pairs = one("pairs");
  EXPECT_EQ(pairs["pairs"], j["pairs"]);
}

TEST_F(console_test, events_returns_the_last_n_with_contract_fields) {
  start(false);
  auto j = one("events 1");
  ASSERT_EQ(j["events"].size(), 1u);
  auto& e = j["events"][0];
  for (auto k : {"seq", "node", "time", "severity", "source", "kind", "text"})
    EXPECT_TRUE(e.contains(k)) << k;
  EXPECT_EQ(e["kind"], "node_started");
  EXPECT_EQ(e["time"], "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(e["severity"], "info");
}

TEST_F(console_test, malformed_commands_get_clear_errors_and_the_console_stays_usable) {
  start(false);
  EXPECT_NE(error_of("frobnicate").find("unknown command 'frobnicate'"), std::string::npos);
  EXPECT_NE(error_of("").find("empty command"), std::string::npos);
  EXPECT_NE(error_of("events zero").find("N must be a whole number"), std::string::npos);
  EXPECT_NE(error_of("events 0").find("N must be a whole number"), std::string::npos);
  EXPECT_NE(error_of("events 99999999999999999999999").find("N must be"), std::string::npos);
  EXPECT_NE(error_of("events 5 6").find("unexpected '6'"), std::string::npos);
  EXPECT_NE(error_of("status now").find("takes no arguments"), std::string::npos);
  EXPECT_NE(error_of("events \"5").find("unterminated quote"), std::string::npos);
  // An independent node has nobody to hand the Running role to.
  EXPECT_NE(error_of("switch").find("this node is independent"), std::string::npos);
  EXPECT_NE(error_of("maintenance").find("usage: maintenance on|off"), std::string::npos);
  EXPECT_NE(error_of("maintenance on").find("this node is independent"), std::string::npos);
  EXPECT_NE(error_of("node now").find("takes no arguments"), std::string::npos);
  EXPECT_NE(error_of("switch line1 tertiary").find("'primary' or 'secondary'"), std::string::npos);
  EXPECT_NE(error_of("switch line1").find("no running pair 'line1'"), std::string::npos);
  EXPECT_NE(error_of(std::string("st\xff\xfe"
                                 "atus"))
                .find("unknown command"),
            std::string::npos);
  EXPECT_TRUE(one("status").contains("node"));
}

TEST_F(console_test, inject_is_refused_unless_the_config_allows_it) {
  start(false);
  auto e = error_of("inject stall_actor diagnostics 10");
  EXPECT_NE(e.find("fault_injection = true"), std::string::npos) << e;
}

TEST_F(console_test, inject_applies_faults_and_explains_bad_ones) {
  start(true);
  EXPECT_EQ(one("inject fail_storage_write"), json({{"ok", true}}));
  auto e = error_of("inject stall_actor diagnostics soon");
  EXPECT_NE(e.find("MS must be a whole number"), std::string::npos) << e;
  EXPECT_NE(e.find("usage: inject stall_actor NAME MS"), std::string::npos) << e;
  EXPECT_NE(error_of("inject meteor").find("unknown fault 'meteor'"), std::string::npos);
  EXPECT_NE(error_of("inject").find("missing fault name"), std::string::npos);
  EXPECT_NE(error_of("inject drop_server line1 tertiary").find("'primary' or 'secondary'"),
            std::string::npos);
  EXPECT_NE(error_of("inject drop_server line7 primary").find("no pair 'line7'"),
            std::string::npos);
}

TEST_F(console_test, follow_streams_new_events_in_order_until_the_connection_closes) {
  start(true);
  auto follower = std::make_shared<test::recording_peer>(7);
  auto first = cmd("events 1 --follow", follower);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(first[0]["events"].size(), 1u);
  one("inject fail_storage_write 1"); // records fault_injected (and storage_write_failed)
  auto streamed = follower->take();
  ASSERT_GE(streamed.size(), 2u);
  EXPECT_EQ(streamed[0]["event"]["kind"], "console_command"); // the audit line of the inject
  EXPECT_EQ(streamed[1]["event"]["kind"], "fault_injected");
  uint64_t last = 0;
  for (auto& s : streamed) {
    EXPECT_GT(s["event"]["seq"].get<uint64_t>(), last);
    last = s["event"]["seq"];
  }
  self->send(con, atom::closed_v, uint64_t{7});
  run();
  one("inject fail_storage_write 1");
  EXPECT_TRUE(follower->take().empty());
}

/// A console connection of a known user, as SO_PEERCRED gives it.
class user_peer : public test::recording_peer {
public:
  using recording_peer::recording_peer;
  std::string who() const override { return "uid 1234 (olga)"; }
};

TEST_F(console_test, certs_lists_approve_reject_revoke_move_and_each_is_logged_with_the_user) {
  std::string err;
  auto pki = partner::pki_store::open(dir.file("pki"), "n1", err);
  ASSERT_TRUE(pki) << err;
  auto other = partner::pki_store::open(dir.file("other"), "n2", err);
  ASSERT_TRUE(other) << err;
  partner::cert_info seen;
  ASSERT_EQ(pki->check(other->own().der, seen, 0), partner::pki_store::verdict::untrusted);
  start(false, pki);
  auto olga = std::make_shared<user_peer>(9);
  auto list = cmd("certs", olga).at(0)["certs"];
  ASSERT_EQ(list.size(), 2u) << list.dump();
  EXPECT_EQ(list[0]["status"], "own");
  EXPECT_EQ(list[0]["own"], true);
  EXPECT_EQ(list[0]["thumbprint"], pki->own().thumbprint);
  EXPECT_EQ(list[1]["status"], "rejected");
  EXPECT_EQ(list[1]["subject"], "CN=n2, O=Tandem");
  for (auto* f : {"thumbprint", "subject", "not_after", "status"})
    EXPECT_TRUE(list[1].contains(f)) << f;
  const std::string tp = other->own().thumbprint;
  auto j = cmd("approve " + tp, olga).at(0);
  EXPECT_EQ(j["ok"], true) << j.dump();
  EXPECT_EQ(j["certs"][1]["status"], "trusted");
  EXPECT_TRUE(pki->is_trusted(tp));
  EXPECT_EQ(cmd("revoke " + tp, olga).at(0)["ok"], true);
  EXPECT_FALSE(pki->is_trusted(tp));
  EXPECT_EQ(cmd("reject " + tp, olga).at(0)["ok"], true);
  auto e = cmd("approve 12345", olga).at(0).value("error", "");
  EXPECT_NE(e.find("not a thumbprint"), std::string::npos) << e;
  e = cmd("revoke " + tp, olga).at(0).value("error", "");
  EXPECT_NE(e.find("is not trusted"), std::string::npos) << e;
  EXPECT_NE(cmd("approve", olga).at(0).value("error", "").find("usage: approve THUMBPRINT"),
            std::string::npos);

  auto events = one("events 100")["events"];
  std::vector<std::string> kinds, texts;
  for (auto& ev : events) {
    kinds.push_back(ev["kind"]);
    texts.push_back(ev["text"]);
  }
  auto has = [&](const std::string& kind, const std::string& text) {
    for (size_t i = 0; i < kinds.size(); ++i)
      if (kinds[i] == kind && texts[i] == text) return true;
    return false;
  };
  EXPECT_TRUE(has("certificate_approved",
                  "uid 1234 (olga) approved certificate " + tp + " (CN=n2, O=Tandem)"))
      << events.dump();
  EXPECT_TRUE(has("certificate_revoked",
                  "uid 1234 (olga) revoked certificate " + tp + " (CN=n2, O=Tandem)"));
  EXPECT_TRUE(has("console_command", "uid 1234 (olga) ran 'approve " + tp + "'"));
  EXPECT_TRUE(has("console_command", "uid 1234 (olga) ran 'reject " + tp + "'"));
  // Reading commands are not audited.
  for (size_t i = 0; i < kinds.size(); ++i)
    EXPECT_EQ(texts[i].find("ran 'certs'"), std::string::npos) << texts[i];
}

TEST_F(console_test, commands_that_change_state_are_logged_with_the_user_even_when_refused) {
  start(false);
  auto olga = std::make_shared<user_peer>(9);
  cmd("maintenance on", olga);
  cmd("inject drop_link", olga); // refused: fault injection is off, still recorded
  cmd("switch line1 secondary", olga);
  cmd("status", olga);
  auto events = one("events 100")["events"];
  std::string all;
  for (auto& ev : events)
    if (ev["kind"] == "console_command") all += ev["text"].get<std::string>() + "\n";
  EXPECT_EQ(all, "uid 1234 (olga) ran 'maintenance on'\nuid 1234 (olga) ran 'inject drop_link'\n"
                 "uid 1234 (olga) ran 'switch line1 secondary'\n");
  EXPECT_NE(cmd("certs", olga).at(0).value("error", "").find("no partner link"), std::string::npos);
}

TEST(console_words, split_command_handles_quotes_and_escapes) {
  std::vector<std::string> w;
  std::string err;
  ASSERT_TRUE(split_command(R"(  inject  "a b" c\d "q\"x" )", w, err));
  EXPECT_EQ(w, (std::vector<std::string>{"inject", "a b", "c\\d", "q\"x"}));
  EXPECT_FALSE(split_command(R"(x "open)", w, err));
}

TEST(console_words, parse_fault_accepts_every_documented_fault) {
  for (auto& usage : fault_usages()) {
    // Turn the usage into a valid example.
    std::vector<std::string> w;
    std::string err;
    split_command(usage, w, err);
    for (auto& x : w) {
      if (x == "ALIAS" || x == "NAME") x = "line1";
      if (x == "primary|secondary") x = "primary";
      if (x == "MS" || x == "INDEX" || x == "[COUNT]") x = "5";
    }
    fault f;
    EXPECT_TRUE(parse_fault(w, f, err)) << usage << ": " << err;
    EXPECT_EQ(to_string(f.kind), w[0]);
  }
}

} // namespace

// -- history and alarms ---------------------------------------------------------------------------

class console_records_test : public console_test {
protected:
  void start_with_records() {
    config::node_config c;
    c.node.name = "n1";
    config::pair_section p;
    p.alias = "line1";
    p.primary = "opc.tcp://h1:4840";
    p.secondary = "opc.tcp://h2:4840";
    c.pairs.push_back(p);
    node_runtime rt;
    rt.events = store;
    rt.history = history;
    rt.alarms = alarms;
    rt.wall_now = [this] { return wall_now(); };
    rt.attach_console = [this](const console_actor& a) { con = a; };
    node = sys.spawn(supervisor, c, rt);
    run();
  }
  std::shared_ptr<storage::history_store> history = [this] {
    std::string err, notice;
    return std::shared_ptr<storage::history_store>(
        storage::history_store::open(dir.file("history.db"), err, notice));
  }();
  std::shared_ptr<storage::alarm_store> alarms = [this] {
    std::string err, notice;
    return std::shared_ptr<storage::alarm_store>(
        storage::alarm_store::open(dir.file("alarms.db"), err, notice));
  }();
};

TEST_F(console_records_test, history_answers_values_as_json_and_says_what_is_wrong) {
  ASSERT_TRUE(history);
  std::vector<history_row> rows;
  for (int i = 0; i < 3; ++i) {
    history_row r;
    r.pair = "line1";
    r.item = "ns=1;s=A";
    r.time_ms = wall_origin_ms - 3000 + i * 1000;
    r.source_ms = r.time_ms;
    r.recorded_ms = r.time_ms;
    r.value = {0x01, 0x06, static_cast<uint8_t>(40 + i), 0, 0, 0}; // Int32 40 + i
    r.origin = "n1";
    r.stamp = {0, static_cast<uint64_t>(i + 1)};
    rows.push_back(r);
  }
  rows[2].status = 0x80310000; // BadNoCommunication
  uint64_t n = 0;
  std::string err;
  ASSERT_TRUE(history->insert(rows, n, err)) << err;
  start_with_records();
  auto j = one("history line1 ns=1;s=A");
  ASSERT_TRUE(j.contains("values")) << j.dump();
  ASSERT_EQ(j["values"].size(), 3u);
  EXPECT_EQ(j["values"][0]["time"], "2025-12-31T23:59:57.000Z");
  EXPECT_EQ(j["values"][0]["value"], 40);
  EXPECT_EQ(j["values"][0]["status"], "Good");
  EXPECT_EQ(j["values"][2]["status"], "BadNoCommunication");
  EXPECT_EQ(j["values"][0]["origin"], "n1");
  EXPECT_EQ(j["truncated"], false);
  EXPECT_EQ(one("history line1 ns=1;s=A --since 2025-12-31T23:59:58Z")["values"].size(), 2u);
  EXPECT_EQ(one("history line1 ns=1;s=A --since 2026-01-01T00:59:58.5+01:00")["values"].size(), 1u);
  EXPECT_EQ(one("history line1 ns=1;s=A --since -1500ms")["values"].size(), 1u);
  auto limited = one("history line1 ns=1;s=A --limit 2");
  EXPECT_EQ(limited["values"].size(), 2u);
  EXPECT_EQ(limited["values"][0]["value"], 41); // the newest two
  EXPECT_EQ(limited["truncated"], true);
  EXPECT_NE(error_of("history nope ns=1;s=A").find("no pair 'nope' on this node (pairs: line1)"),
            std::string::npos);
  EXPECT_NE(error_of("history line1 ns=1;s=B").find("nothing recorded for ns=1;s=B"),
            std::string::npos);
  EXPECT_NE(error_of("history line1 ns=1;s=A --since yesterday").find("is not a time"),
            std::string::npos);
  EXPECT_NE(error_of("history line1 ns=1;s=A --since -10x").find("is not a time"),
            std::string::npos);
  EXPECT_NE(error_of("history line1 ns=1;s=A --since 2026-13-01T00:00:00Z").find("is not a time"),
            std::string::npos);
  EXPECT_NE(error_of("history line1 ns=1;s=A --limit 0").find("N must be"), std::string::npos);
  EXPECT_NE(error_of("history line1 ns=1;s=A --since").find("needs a value"), std::string::npos);
  EXPECT_NE(error_of("history line1").find("usage: history ALIAS ITEM"), std::string::npos);
}

TEST_F(console_records_test, alarms_lists_and_ack_acknowledges) {
  ASSERT_TRUE(alarms);
  tandem::alarm a;
  a.id = "n1:1";
  a.key = "comm:line1/primary";
  a.source = "server/line1/primary";
  a.text = "line1/primary: lost";
  a.raised_ms = wall_origin_ms - 1000;
  a.origin = "n1";
  a.stamp = {0, 1};
  std::string err;
  ASSERT_TRUE(alarms->put({a}, 2, err)) << err;
  start_with_records();
  auto j = one("alarms");
  ASSERT_TRUE(j.contains("alarms")) << j.dump();
  ASSERT_EQ(j["alarms"].size(), 1u);
  EXPECT_EQ(j["alarms"][0]["id"], "n1:1");
  EXPECT_EQ(j["alarms"][0]["source"], "server/line1/primary");
  EXPECT_EQ(j["alarms"][0]["text"], "line1/primary: lost");
  EXPECT_EQ(j["alarms"][0]["active"], true);
  EXPECT_EQ(j["alarms"][0]["acked"], false);
  EXPECT_EQ(j["alarms"][0]["since"], "2025-12-31T23:59:59.000Z");
  auto acked = one("ack n1:1");
  EXPECT_EQ(acked["ok"], true);
  EXPECT_EQ(acked["alarms"][0]["acked"], true);
  EXPECT_EQ(acked["alarms"][0]["acked_time"], "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(one("alarms")["alarms"].size(), 1u); // still active
  EXPECT_NE(error_of("ack n1:9").find("no alarm 'n1:9'"), std::string::npos);
  EXPECT_NE(error_of("ack").find("usage: ack ID"), std::string::npos);
  EXPECT_NE(error_of("alarms now").find("usage: alarms [--all]"), std::string::npos);
  EXPECT_EQ(one("alarms --all")["alarms"].size(), 1u);
}
