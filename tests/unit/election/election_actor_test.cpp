// The ELECTION actor in virtual time: the connection wait, Running time kept across restarts in
// the role record, two ELECTIONs agreeing through their (fake) partner links, and bad partner
// messages refused.

#include <deque>
#include <memory>

#include <gtest/gtest.h>

#include "actors/election.hpp"
#include "caf/typed_event_based_actor.hpp"
#include "tests/support/actor_fixture.hpp"
#include "tests/support/process.hpp"

using namespace tandem;
using namespace std::chrono_literals;

namespace {

/// What a fake partner link was asked to send, shared with the test.
struct wire_log {
  std::deque<sync_payload> sent;
  std::vector<partner_hello> hellos;
};

partner_link_actor::behavior_type fake_link(partner_link_actor::pointer,
                                            std::shared_ptr<wire_log> log) {
  return {
      [log](sync_payload& p) { log->sent.push_back(std::move(p)); },
      [log](partner_hello& h) { log->hellos.push_back(std::move(h)); },
      [](atom::connect) {},
      [](atom::disconnect, const std::string&) {},
      [](atom::status) { return partner_link_status{}; },
      [](const fault&) { return std::string(); },
      [](const pl_hello&) {},
      [](const pl_up&) {},
      [](const pl_down&) {},
      [](const pl_heartbeat&) {},
      [](const pl_sync&) {},
      [](const pl_probe&) {},
      [](atom::heartbeat, uint64_t) {},
      [](atom::silence, uint64_t) {},
      [](atom::confirm_loss, uint64_t) {},
      [](atom::retry, uint64_t) {},
      [](atom::lost_after, uint64_t) {},
      [](atom::relisten) {},
  };
}

role_listener_actor::behavior_type owner(role_listener_actor::pointer,
                                         std::shared_ptr<std::vector<node_role>> roles) {
  return {[roles](node_role& r) { roles->push_back(std::move(r)); }};
}

class election_actor_test : public test::actor_fixture {
protected:
  struct node {
    election_actor actor;
    std::shared_ptr<wire_log> wire = std::make_shared<wire_log>();
    std::shared_ptr<std::vector<node_role>> roles = std::make_shared<std::vector<node_role>>();
    std::shared_ptr<int64_t> sessions = std::make_shared<int64_t>(0);
  };

  node start(config::role role, const std::string& name, std::string record = "",
             std::string config_text = "") {
    node n;
    election_config c;
    c.application_uri = "urn:tandem:" + name;
    c.config_text = std::move(config_text);
    c.client_sessions = [sessions = n.sessions] { return *sessions; };
    c.node_name = name;
    c.settings.role = role;
    c.connection_wait = 10s;
    c.record_path = std::move(record);
    c.hello.node_name = name;
    c.hello.role = role == config::role::master ? partner_role::master : partner_role::backup;
    c.owner = sys.spawn(owner, n.roles);
    spawned.push_back(caf::actor_cast<caf::actor>(c.owner));
    auto w = n.wire;
    c.make_link = [this, w](partner_listener_actor) {
      auto l = sys.spawn(fake_link, w);
      spawned.push_back(caf::actor_cast<caf::actor>(l));
      return l;
    };
    n.actor = sys.spawn(election, c);
    spawned.push_back(caf::actor_cast<caf::actor>(n.actor));
    run();
    return n;
  }

  /// Virtual time passes in steps, as real time does: one jump would look like a process that
  /// was frozen (see time_the_process_was_frozen_is_not_running_time).
  void advance(caf::timespan d) {
    while (d > caf::timespan{0}) {
      auto step = std::min<caf::timespan>(d, std::chrono::milliseconds(200));
      actor_fixture::advance(step);
      d -= step;
    }
  }

  void TearDown() override {
    for (auto& a : spawned)
      self->send_exit(a, caf::exit_reason::user_shutdown);
    run();
  }
  std::vector<caf::actor> spawned;

  election_status status(const node& n) { return *ask<election_status>(n.actor, atom::status_v); }

  /// Both links come up: each ELECTION hears the other's HELLO.
  void link(node& a, node& b) {
    auto hello_of = [](node& n) {
      return n.wire->hellos.empty() ? partner_hello{} : n.wire->hellos.back();
    };
    partner_hello ha = hello_of(a), hb = hello_of(b);
    if (ha.node_name.empty()) ha.node_name = "a";
    if (hb.node_name.empty()) hb.node_name = "b";
    self->send(a.actor, partner_up{hb, "127.0.0.1:1", false});
    self->send(b.actor, partner_up{ha, "127.0.0.1:2", true});
    run();
    pump(a, b);
  }
  /// Delivers what each side's link was asked to send to the other side, until quiet.
  void pump(node& a, node& b) {
    for (int guard = 0; guard < 50 && (!a.wire->sent.empty() || !b.wire->sent.empty()); ++guard) {
      for (auto [from, to] : {std::pair<node*, node*>{&a, &b}, {&b, &a}}) {
        while (!from->wire->sent.empty()) {
          self->send(to->actor, std::move(from->wire->sent.front()));
          from->wire->sent.pop_front();
          run();
        }
      }
    }
  }
};

TEST_F(election_actor_test, a_master_alone_runs_after_the_connection_wait) {
  auto m = start(config::role::master, "m");
  EXPECT_EQ(status(m).state, "Unknown");
  EXPECT_EQ(status(m).partner_state, "Disconnected");
  advance(9999ms);
  EXPECT_EQ(status(m).state, "Unknown");
  advance(1ms);
  EXPECT_EQ(status(m).state, "Running");
  ASSERT_EQ(m.roles->size(), 1u);
  EXPECT_EQ(m.roles->back().state, "Running");
  EXPECT_EQ(m.roles->back().cause, "no_partner");
  EXPECT_EQ(m.roles->back().term, 1u);
  ASSERT_FALSE(m.wire->hellos.empty());
  EXPECT_EQ(m.wire->hellos.back().state, partner_state::running);
}

TEST_F(election_actor_test, running_time_and_term_survive_a_restart) {
  test::temp_dir dir;
  std::string record = dir.path() + "/role.json";
  {
    auto m = start(config::role::master, "m", record);
    advance(10s); // Running from here
    advance(30s);
    EXPECT_GE(status(m).running_total_ms, 30000u);
    advance(5s);                                      // a periodic store
    self->send_exit(m.actor, caf::exit_reason::kill); // as SIGKILL: no orderly store
    run();
  }
  storage::role_record r;
  std::string why;
  ASSERT_TRUE(storage::load_role_record(record, r, why)) << why;
  EXPECT_GE(r.running_total_ms, 30000u);
  EXPECT_EQ(r.term, 1u);
  auto again = start(config::role::master, "m", record);
  EXPECT_GE(status(again).running_total_ms, 30000u);
  advance(10s);
  EXPECT_EQ(status(again).term, 2u) << "a new Running period is a new term";
}

// SIGSTOP of the Running node: the periodic tick comes 20 s late. That time is not Running time,
// so the hung node cannot win the split brain it finds when it resumes by `longest_running`.
TEST_F(election_actor_test, time_the_process_was_frozen_is_not_running_time) {
  auto m = start(config::role::master, "m");
  advance(10s); // Running from here
  advance(5s);
  auto before = status(m).running_total_ms;
  EXPECT_GE(before, 4800u);
  actor_fixture::advance(20s); // frozen: nothing of the node ran
  auto after = status(m).running_total_ms;
  EXPECT_LT(after - before, 2500u) << "frozen time counted as Running time";
  advance(5s); // and it counts normally again
  EXPECT_GE(status(m).running_total_ms - after, 4800u);
  EXPECT_LE(status(m).running_total_ms - after, 5200u);
}

TEST_F(election_actor_test, two_elections_agree_through_their_links) {
  auto b = start(config::role::backup, "b");
  advance(10s); // the backup ran alone
  ASSERT_EQ(status(b).state, "Running");
  auto m = start(config::role::master, "m");
  link(m, b);
  EXPECT_EQ(status(m).state, "Running") << "automatic recovery hands the role back";
  EXPECT_EQ(status(b).state, "Standby");
  EXPECT_EQ(status(m).partner_state, "Standby");
  EXPECT_EQ(status(b).partner_state, "Running");
  EXPECT_EQ(status(m).partner_name, "b");
  // The operator switches on the master: the backup runs again.
  self->send(m.actor, atom::switch_to_v);
  run();
  EXPECT_FALSE(received<std::string>()) << "the answer waits for the handover";
  pump(m, b);
  EXPECT_EQ(received<std::string>(), std::string());
  EXPECT_EQ(status(m).state, "Standby");
  EXPECT_EQ(status(b).state, "Running");
  // The backup is lost: the master takes over.
  self->send(m.actor, partner_down{partner_down_cause::partner_gone, true, "gone", "b"});
  run();
  EXPECT_EQ(status(m).state, "Running");
  EXPECT_EQ(m.roles->back().cause, "partner_lost");
  EXPECT_EQ(status(m).partner_state, "Faulted");
}

TEST_F(election_actor_test, a_malformed_partner_message_changes_nothing) {
  auto m = start(config::role::master, "m");
  advance(10s);
  std::string junk = R"({"type":"take_over","x":)";
  self->send(m.actor,
             sync_payload{election_state::channel, std::vector<uint8_t>(junk.begin(), junk.end())});
  run();
  EXPECT_EQ(status(m).state, "Running");
  EXPECT_EQ(*ask<std::string>(m.actor, atom::switch_to_v),
            "no partner is connected: there is nobody to switch with");
}

TEST_F(election_actor_test, a_switch_the_partner_does_not_answer_times_out_with_the_reason) {
  auto m = start(config::role::master, "m");
  auto b = start(config::role::backup, "b");
  link(m, b);
  ASSERT_EQ(status(m).state, "Running");
  self->send(m.actor, atom::switch_to_v);
  run();
  b.wire->sent.clear();
  m.wire->sent.clear(); // the take_over never arrives
  advance(4999ms);
  EXPECT_FALSE(received<std::string>());
  advance(1ms);
  auto r = received<std::string>();
  ASSERT_TRUE(r);
  EXPECT_NE(r->find("did not take the Running role in time"), std::string::npos) << *r;
  EXPECT_EQ(status(m).state, "Running");
}

TEST_F(election_actor_test, maintenance_on_a_running_node_answers_once_it_handed_over) {
  auto m = start(config::role::master, "m");
  auto b = start(config::role::backup, "b");
  link(m, b);
  self->send(m.actor, atom::maintenance_v, true);
  run();
  EXPECT_FALSE(received<std::string>());
  ASSERT_FALSE(m.roles->empty());
  EXPECT_TRUE(m.roles->back().maintenance) << "ServiceLevel 0 from the moment it is asked";
  pump(m, b);
  EXPECT_EQ(received<std::string>(), std::string());
  EXPECT_EQ(status(m).state, "Standby");
  EXPECT_EQ(status(b).state, "Running");
}

TEST_F(election_actor_test, connect_answers_when_the_link_is_up_or_after_the_wait) {
  auto m = start(config::role::master, "m");
  auto b = start(config::role::backup, "b");
  self->send(b.actor, atom::connect_v);
  run();
  EXPECT_FALSE(received<std::string>()) << "no answer before the link is up";
  link(m, b);
  EXPECT_EQ(received<std::string>(), std::string());
  // Without a partner to reach, the answer comes after the wait (the caller reads the link).
  self->send(b.actor, partner_down{partner_down_cause::closed, false, "closed", "m"});
  run();
  self->send(b.actor, atom::connect_v);
  run();
  advance(4999ms);
  EXPECT_FALSE(received<std::string>());
  advance(1ms);
  EXPECT_EQ(received<std::string>(), std::string());
  EXPECT_EQ(status(b).link, "down");
}

TEST_F(election_actor_test, verify_lists_the_key_paths_that_differ_from_the_partner) {
  std::string mine = "tandem-shared-config 1\nredundancy.recovery=automatic\n"
                     "pair[line1].mode=hot\npair[line1].status_interval_ms=1000\n";
  std::string theirs = "tandem-shared-config 1\nredundancy.recovery=manual\n"
                       "pair[line1].mode=hot\npair[line2].mode=warm\n";
  auto m = start(config::role::master, "m", "", mine);
  auto b = start(config::role::backup, "b", "", theirs);
  auto before = ask<verify_result>(m.actor, atom::verify_v);
  ASSERT_TRUE(before);
  EXPECT_NE(before->error.find("no partner"), std::string::npos) << before->error;
  *b.sessions = 3;
  link(m, b);
  auto r = ask<verify_result>(m.actor, atom::verify_v);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->error.empty()) << r->error;
  EXPECT_FALSE(r->identical);
  EXPECT_EQ(r->differences,
            (std::vector<std::string>{"redundancy.recovery", "pair[line1].status_interval_ms",
                                      "pair[line2].mode"}));
  EXPECT_EQ(status(m).partner_client_sessions, 3);
  ASSERT_FALSE(m.roles->empty());
  EXPECT_EQ(m.roles->back().partner_application_uri, "urn:tandem:b");
  // The partner's sessions change: the next periodic look tells it.
  *b.sessions = 5;
  advance(1s);
  pump(m, b);
  EXPECT_EQ(status(m).partner_client_sessions, 5);
}

} // namespace
