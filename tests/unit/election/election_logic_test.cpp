// The ELECTION's rules: every arrow of the diagram in actors/election_logic.hpp, walked with two
// election_logic instances whose messages are delivered one at a time (as the partner link
// would), checking after every step that the plant is never left without a Running node once
// one ran (no gap in a controlled handover).

#include <algorithm>
#include <deque>
#include <optional>

#include <gtest/gtest.h>

#include "actors/election_logic.hpp"

using namespace tandem;
using config::role;

namespace {

/// Two nodes: 0 the master, 1 the backup, with a link that can be up or down.
struct duo {
  explicit duo(config::recovery_mode recovery = config::recovery_mode::automatic,
               config::split_brain_policy rule = config::split_brain_policy::longest_running)
      : node{election_logic({role::master, recovery, rule}),
             election_logic({role::backup, recovery, rule})} {}

  election_logic node[2];
  std::deque<std::pair<int, election_message>> wire; ///< (to, message)
  bool up = false;
  bool ever_running = false;
  int gaps = 0; ///< steps with nobody Running after someone ran

  void apply(int i, const election_actions& a) {
    if (up)
      for (const auto& m : a.to_partner)
        wire.emplace_back(1 - i, m);
    check();
  }
  void check() {
    bool running = node[0].state() == node_state::running || node[1].state() == node_state::running;
    if (running) ever_running = true;
    if (ever_running && !running) ++gaps;
  }
  /// Delivers every message in flight, in order, one at a time.
  void pump() {
    for (int guard = 0; !wire.empty() && guard < 100; ++guard) {
      auto [to, m] = wire.front();
      wire.pop_front();
      // A message is encoded and parsed as on the wire.
      std::string why;
      auto parsed = election_message::parse(m.encode(), why);
      ASSERT_TRUE(parsed) << why;
      apply(to, node[to].received(*parsed));
    }
    ASSERT_TRUE(wire.empty()) << "the ELECTIONs never stop talking";
  }
  /// The link comes up: each side hears the other's state (its HELLO). A HELLO's Running time
  /// can be older than the node's (it is banked at state changes): `hello_totals` sets them.
  void link(std::optional<std::pair<uint64_t, uint64_t>> hello_totals = std::nullopt) {
    up = true;
    auto s0 = node[0].state_message(), s1 = node[1].state_message();
    if (hello_totals) {
      s0.running_total_ms = hello_totals->first;
      s1.running_total_ms = hello_totals->second;
    }
    apply(0, node[0].partner_up(s1.state, s1.running_total_ms, s1.maintenance, role::backup));
    apply(1, node[1].partner_up(s0.state, s0.running_total_ms, s0.maintenance, role::master));
    pump();
  }
  /// The link breaks; `lost` says whether each side considers the partner gone.
  void cut(bool lost = true) {
    up = false;
    wire.clear();
    for (int i = 0; i < 2; ++i)
      apply(i, lost ? node[i].partner_lost() : node[i].link_down());
  }
  node_state operator[](int i) const { return node[i].state(); }
};

constexpr auto running = node_state::running;
constexpr auto standby = node_state::standby;
constexpr auto unknown = node_state::unknown;

TEST(election, an_independent_node_runs_at_once) {
  election_logic e({role::independent});
  auto a = e.start();
  ASSERT_TRUE(a.become);
  EXPECT_EQ(*a.become, running);
  EXPECT_EQ(a.cause, "independent");
}

TEST(election, master_and_backup_starting_together_master_runs) {
  duo d;
  d.node[0].start();
  d.node[1].start();
  EXPECT_EQ(d[0], unknown);
  d.link();
  EXPECT_EQ(d[0], running);
  EXPECT_EQ(d[1], standby);
}

TEST(election, without_a_partner_each_runs_after_the_connection_wait) {
  for (auto r : {role::master, role::backup}) {
    election_logic e({r});
    e.start();
    EXPECT_EQ(e.state(), unknown);
    auto a = e.connection_wait_over();
    ASSERT_TRUE(a.become);
    EXPECT_EQ(*a.become, running);
    EXPECT_EQ(a.cause, "no_partner");
  }
}

TEST(election, automatic_recovery_hands_back_to_a_master_that_restarts_without_a_gap) {
  duo d;
  d.node[1].start();
  d.node[1].connection_wait_over(); // the backup ran alone
  d.check();
  ASSERT_EQ(d[1], running);
  d.node[0].start();
  d.link();
  EXPECT_EQ(d[0], running);
  EXPECT_EQ(d[1], standby);
  EXPECT_EQ(d.gaps, 0);
}

TEST(election, manual_recovery_keeps_the_master_standby_until_an_operator_switches) {
  duo d(config::recovery_mode::manual);
  d.node[1].start();
  d.node[1].connection_wait_over();
  d.node[0].start();
  d.link();
  EXPECT_EQ(d[0], standby);
  EXPECT_EQ(d[1], running);
  // The operator switches on the master: it asks for the role, the backup hands over.
  d.apply(0, d.node[0].operator_switch());
  d.pump();
  EXPECT_EQ(d[0], running);
  EXPECT_EQ(d[1], standby);
  EXPECT_EQ(d.gaps, 0);
}

TEST(election,
     the_standby_takes_over_when_the_partner_is_lost_and_a_closed_link_alone_changes_nothing) {
  duo d;
  d.link();
  ASSERT_EQ(d[0], running);
  d.cut(/*lost=*/false);
  EXPECT_EQ(d[0], running);
  EXPECT_EQ(d[1], standby) << "a closed link is not a dead partner";
  d.cut(/*lost=*/true);
  EXPECT_EQ(d[0], running) << "the Running node stays Running";
  EXPECT_EQ(d[1], running) << "the Standby takes over";
}

TEST(election, an_operator_switch_hands_over_both_ways_without_a_gap) {
  duo d;
  d.link();
  d.apply(0, d.node[0].operator_switch()); // the Running master hands over
  d.pump();
  EXPECT_EQ(d[0], standby);
  EXPECT_EQ(d[1], running);
  d.apply(1, d.node[1].operator_switch()); // and back, from the Running backup
  d.pump();
  EXPECT_EQ(d[0], running);
  EXPECT_EQ(d[1], standby);
  EXPECT_EQ(d.gaps, 0);
}

TEST(election, a_switch_without_a_partner_able_to_take_over_is_refused) {
  duo d;
  d.node[0].start();
  d.node[0].connection_wait_over();
  auto a = d.node[0].operator_switch();
  EXPECT_EQ(a.error, "no partner is connected: there is nobody to switch with");
  EXPECT_FALSE(a.become);
  d.link();
  d.apply(1, d.node[1].set_maintenance(true));
  d.pump();
  a = d.node[0].operator_switch();
  EXPECT_EQ(a.error, "the partner is in maintenance: it cannot take over");
  EXPECT_EQ(d[0], running);
}

TEST(election, a_healed_split_brain_keeps_the_node_that_ran_longest) {
  duo d;
  d.link();
  d.cut(); // both Running now
  ASSERT_EQ(d[0], running);
  ASSERT_EQ(d[1], running);
  d.node[0].set_running_total(60'000);
  d.node[1].set_running_total(90'000); // the backup has run longer
  d.link();
  EXPECT_EQ(d[0], standby);
  EXPECT_EQ(d[1], running);
}

// On a slow link the master's state message reaches the backup 3 s late. Judged against its own
// Running time as of then, the backup would find itself the longer runner while the master,
// which heard the backup at once, calls a tie and stays: both Running for good. Both judge the
// two times they told each other, so exactly one stays Running.
TEST(election, a_split_brain_verdict_is_the_same_on_both_sides_however_late_the_messages) {
  duo d;
  d.link();
  d.cut();
  d.node[0].set_running_total(20'000);
  d.node[1].set_running_total(19'300);
  d.up = true;
  auto s0 = d.node[0].state_message(), s1 = d.node[1].state_message();
  d.apply(0, d.node[0].partner_up(s1.state, s1.running_total_ms, s1.maintenance, role::backup));
  d.apply(1, d.node[1].partner_up(s0.state, s0.running_total_ms, s0.maintenance, role::master));
  std::deque<std::pair<int, election_message>> to_backup;
  for (auto& [to, m] : d.wire)
    if (to == 1) to_backup.emplace_back(to, m);
  d.wire.erase(std::remove_if(d.wire.begin(), d.wire.end(), [](auto& x) { return x.first == 1; }),
               d.wire.end());
  d.pump(); // the backup's state reaches the master at once
  d.node[0].set_running_total(23'000);
  d.node[1].set_running_total(22'300); // 3 s later, the master's arrives
  d.wire.insert(d.wire.end(), to_backup.begin(), to_backup.end());
  d.pump();
  EXPECT_EQ(d[0], running);
  EXPECT_EQ(d[1], standby);
}

TEST(election, a_split_brain_within_the_tolerance_is_a_tie_the_master_wins) {
  duo d;
  d.link();
  d.cut();
  d.node[0].set_running_total(60'000);
  d.node[1].set_running_total(61'500); // within 2 s: each knows the other's only roughly
  d.link();
  EXPECT_EQ(d[0], running);
  EXPECT_EQ(d[1], standby);
}

// The HELLOs say how long each node had run as of its last state change, which can be seconds
// old: judged on them, both nodes could yield (or the wrong one). The verdict waits for the
// state messages sent at link-up, which carry the time as of then.
TEST(election, a_split_brain_is_judged_on_fresh_running_times_not_on_the_hellos) {
  duo d;
  d.link();
  d.cut();
  d.node[0].set_running_total(100'000); // the master ran longest...
  d.node[1].set_running_total(97'000);
  d.link(std::make_pair(uint64_t{90'000}, uint64_t{96'500})); // ...but its HELLO says otherwise
  EXPECT_EQ(d[0], running);
  EXPECT_EQ(d[1], standby);
  EXPECT_EQ(d.gaps, 0);
}

TEST(election, in_a_split_brain_the_node_in_maintenance_yields) {
  duo d;
  d.link();
  d.apply(0, d.node[0].set_maintenance(true)); // the Running master starts a handover...
  d.wire.clear();                              // ...and the link breaks before it is done
  d.cut();
  ASSERT_TRUE(d.node[0].maintenance());
  ASSERT_EQ(d[0], running);
  ASSERT_EQ(d[1], running);             // the backup took over
  d.node[0].set_running_total(500'000); // the master ran much longer, but is in maintenance
  d.node[1].set_running_total(10'000);
  d.link();
  EXPECT_EQ(d[0], standby);
  EXPECT_EQ(d[1], running);
}

TEST(election, a_handover_lost_with_the_link_does_not_block_the_next_one) {
  duo d;
  d.link();
  d.apply(0, d.node[0].operator_switch()); // take_over in flight...
  d.wire.clear();                          // ...lost with the link
  d.cut(/*lost=*/false);
  EXPECT_EQ(d[0], running);
  d.link();
  d.apply(1, d.node[1].operator_switch()); // the Standby asks for the role: it is handed over
  d.pump();
  EXPECT_EQ(d[0], standby);
  EXPECT_EQ(d[1], running);
}

TEST(election, a_handover_declined_by_a_partner_in_maintenance_does_not_block_the_next_one) {
  duo d;
  d.link();
  // The operator switches on the master while the backup, unknown to it yet, enters maintenance.
  d.apply(1, d.node[1].set_maintenance(true));
  auto in_flight = d.wire;
  d.wire.clear();
  d.apply(0, d.node[0].operator_switch()); // take_over crosses the backup's state message
  d.wire.insert(d.wire.begin(), in_flight.begin(), in_flight.end());
  d.pump();
  EXPECT_EQ(d[0], running);
  EXPECT_EQ(d[1], standby);
  EXPECT_FALSE(d.node[0].handing_over()) << "the partner declined: no handover is in flight";
  d.apply(1, d.node[1].set_maintenance(false));
  d.pump();
  d.apply(1, d.node[1].operator_switch()); // the backup asks for the role: it gets it
  d.pump();
  EXPECT_EQ(d[0], standby);
  EXPECT_EQ(d[1], running);
  EXPECT_EQ(d.gaps, 0);
}

TEST(election, a_running_node_in_maintenance_hands_over_again_once_the_link_is_back) {
  duo d;
  d.link();
  d.apply(0, d.node[0].set_maintenance(true)); // take_over in flight...
  d.cut(/*lost=*/false);                       // ...lost with the link
  EXPECT_EQ(d[0], running) << "nobody else runs: the plant keeps its data";
  d.link();
  EXPECT_EQ(d[0], standby) << "the handover is made as soon as the partner is back";
  EXPECT_EQ(d[1], running);
  EXPECT_EQ(d.gaps, 0);
}

TEST(election, an_election_restarted_inside_a_running_node_does_not_apply_recovery) {
  duo d;
  d.link();
  d.apply(0, d.node[0].operator_switch()); // the operator made the backup Running
  d.pump();
  ASSERT_EQ(d[1], running);
  // The master's ELECTION fails and comes back (same process): it must not take the role back.
  d.cut(/*lost=*/false);
  d.node[0] = election_logic({role::master});
  d.node[0].restarted();
  d.link();
  EXPECT_EQ(d[0], standby);
  EXPECT_EQ(d[1], running);
}

TEST(election, master_wins_keeps_the_master_after_a_split_brain) {
  duo d(config::recovery_mode::automatic, config::split_brain_policy::master_wins);
  d.link();
  d.cut();
  d.node[0].set_running_total(10'000);
  d.node[1].set_running_total(500'000);
  d.link();
  EXPECT_EQ(d[0], running);
  EXPECT_EQ(d[1], standby);
}

TEST(election, maintenance_hands_over_first_and_never_takes_over) {
  duo d;
  d.link();
  d.apply(0, d.node[0].set_maintenance(true)); // Running master: hands over first
  d.pump();
  EXPECT_EQ(d[0], standby);
  EXPECT_EQ(d[1], running);
  EXPECT_TRUE(d.node[0].maintenance());
  EXPECT_TRUE(d.node[1].partner_maintenance());
  EXPECT_EQ(d.gaps, 0);
  d.cut(); // the Running backup dies: a node in maintenance does not take over
  EXPECT_EQ(d[0], standby);
  d.apply(0, d.node[0].set_maintenance(false)); // back in service, nobody Running: it runs
  EXPECT_EQ(d[0], running);
}

TEST(election, maintenance_on_a_running_node_without_a_standby_is_refused) {
  election_logic e({role::master});
  e.start();
  e.connection_wait_over();
  auto a = e.set_maintenance(true);
  EXPECT_NE(a.error.find("no Standby partner can take over"), std::string::npos) << a.error;
  EXPECT_FALSE(e.maintenance());
  EXPECT_EQ(e.state(), running);
}

TEST(election, a_node_in_maintenance_refuses_a_handover) {
  duo d;
  d.link();
  d.apply(1, d.node[1].set_maintenance(true));
  d.pump();
  // A take_over sent anyway (an older partner, a race) leaves the sender Running.
  election_message m;
  m.type = election_message::kind::take_over;
  d.apply(1, d.node[1].received(m));
  d.pump();
  EXPECT_EQ(d[0], running);
  EXPECT_EQ(d[1], standby);
}

TEST(election, a_master_starting_in_maintenance_stays_standby) {
  duo d;
  d.node[0].set_maintenance(true);
  d.node[1].start();
  d.link();
  EXPECT_EQ(d[0], standby);
  EXPECT_EQ(d[1], running) << "the backup runs: the master is in maintenance";
}

TEST(election_message, info_round_trips_and_tolerates_missing_or_extra_fields) {
  election_message m;
  m.type = election_message::kind::info;
  m.application_uri = "urn:tandem:a";
  m.client_sessions = 7;
  m.config_text = "tandem-shared-config 1\nredundancy.recovery=automatic\n";
  std::string why;
  auto back = election_message::parse(m.encode(), why);
  ASSERT_TRUE(back) << why;
  EXPECT_EQ(back->type, election_message::kind::info);
  EXPECT_EQ(back->application_uri, m.application_uri);
  EXPECT_EQ(back->client_sessions, 7);
  EXPECT_EQ(back->config_text, m.config_text);
  // A later version may add fields, an earlier one may lack some.
  auto sparse = election_message::parse(R"({"type":"info","future":[1,2]})", why);
  ASSERT_TRUE(sparse) << why;
  EXPECT_EQ(sparse->client_sessions, -1);
  EXPECT_TRUE(sparse->config_text.empty());
}

TEST(election_message, round_trips_and_refuses_what_is_not_one) {
  election_message m;
  m.type = election_message::kind::state;
  m.state = running;
  m.running_total_ms = 123456;
  m.maintenance = true;
  std::string why;
  auto back = election_message::parse(m.encode(), why);
  ASSERT_TRUE(back) << why;
  EXPECT_EQ(back->state, running);
  EXPECT_EQ(back->running_total_ms, 123456u);
  EXPECT_TRUE(back->maintenance);
  for (auto [text, reason] : std::vector<std::pair<std::string, std::string>>{
           {"garbage", "not a JSON object"},
           {"[1]", "not a JSON object"},
           {R"({"x":1})", "no \"type\""},
           {R"({"type":"reboot"})", "unknown type \"reboot\""},
           {R"({"type":"state","state":"Asleep","running_total_ms":1,"maintenance":false})",
            "\"state\" must be Running, Standby or Unknown"},
           {R"({"type":"state","state":"Running","running_total_ms":-5,"maintenance":false})",
            "\"running_total_ms\" must be a non-negative integer"},
           {R"({"type":"state","state":"Running","running_total_ms":5})",
            "\"maintenance\" must be true or false"}}) {
    why.clear();
    EXPECT_FALSE(election_message::parse(text, why)) << text;
    EXPECT_EQ(why, reason) << text;
  }
}

} // namespace
