// Deterministic tests of the NODE supervisor: status, start-up events, fault routing, restarts,
// orderly shutdown.

#include <gtest/gtest.h>

#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/supervisor.hpp"
#include "tests/support/actor_fixture.hpp"
#include "tests/unit/actors/test_util.hpp"

using namespace tandem;
using namespace std::chrono_literals;

namespace {

config::node_config two_pair_config() {
  config::node_config c;
  c.node.name = "plant-a";
  c.node.comment = "test node";
  config::pair_section p;
  p.alias = "line1";
  p.primary = "opc.tcp://127.0.0.1:4841/a";
  p.secondary = "opc.tcp://127.0.0.1:4842/a";
  p.mode = config::pair_mode::hot;
  c.pairs.push_back(p);
  p.alias = "line2";
  p.mode = config::pair_mode::cold;
  c.pairs.push_back(p);
  return c;
}

class supervisor_test : public test::actor_fixture {
protected:
  node_actor spawn_node(config::node_config c = two_pair_config(),
                        std::vector<std::string> warnings = {}) {
    node_runtime rt;
    rt.events = store;
    rt.wall_now = [this] { return wall_now(); };
    rt.startup_warnings = std::move(warnings);
    rt.max_restarts = 2;
    rt.restart_window = 60s;
    auto n = sys.spawn(supervisor, std::move(c), rt);
    run();
    return n;
  }
  supervisor_state& state(const node_actor& n) {
    using impl = caf::stateful_actor<supervisor_state, node_actor::base>;
    return dynamic_cast<impl*>(caf::actor_cast<caf::abstract_actor*>(n))->state;
  }
  std::vector<diag_event> events(const node_actor& n) {
    auto r = ask<std::vector<diag_event>>(state(n).diag, atom::events_v, uint64_t{1000});
    EXPECT_TRUE(r);
    return r ? *r : std::vector<diag_event>{};
  }
  std::vector<std::string> kinds(const node_actor& n) {
    std::vector<std::string> k;
    for (auto& e : events(n))
      k.push_back(e.kind);
    return k;
  }
  void shutdown(const node_actor& n) {
    self->send(n, atom::shutdown_v);
    run();
  }
  std::string inject(const node_actor& n, fault f) {
    auto r = ask<std::string>(n, f);
    EXPECT_TRUE(r) << "no reply to fault";
    return r ? *r : std::string("no reply");
  }

  test::temp_dir dir;
  std::shared_ptr<storage::event_store> store = test::open_store(dir);
};

TEST_F(supervisor_test, status_reports_node_and_pairs_as_configured) {
  auto n = spawn_node();
  advance(2500ms);
  auto s = ask<node_status>(n, atom::status_v);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->name, "plant-a");
  EXPECT_EQ(s->role, "independent");
  EXPECT_EQ(s->state, "Running");
  EXPECT_EQ(s->comment, "test node");
  EXPECT_EQ(s->uptime_ms, 2500);
  EXPECT_FALSE(s->has_partner);
  ASSERT_EQ(s->pairs.size(), 2u);
  EXPECT_EQ(s->pairs[0].alias, "line1");
  EXPECT_EQ(s->pairs[0].mode, "hot");
  EXPECT_EQ(s->pairs[1].mode, "cold");
  EXPECT_EQ(s->pairs[0].primary.url, "opc.tcp://127.0.0.1:4841/a");
  EXPECT_EQ(s->pairs[0].active, "none");
  shutdown(n);
}

TEST_F(supervisor_test, a_master_reports_its_partner_from_the_config) {
  auto c = two_pair_config();
  c.redundancy.node_role = config::role::master;
  c.redundancy.partner = config::endpoint{"10.0.0.2", 8099};
  auto n = spawn_node(c);
  auto s = ask<node_status>(n, atom::status_v);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->role, "master");
  ASSERT_TRUE(s->has_partner);
  EXPECT_EQ(s->partner.address, "10.0.0.2:8099");
  EXPECT_EQ(s->partner.state, "Disconnected");
  shutdown(n);
}

TEST_F(supervisor_test, start_is_recorded_with_config_warnings) {
  auto n = spawn_node(two_pair_config(), {"x.toml:3:1: warning: redundancy.partner: localhost"});
  auto evs = events(n);
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].kind, "node_started");
  EXPECT_EQ(evs[0].source, "supervisor");
  EXPECT_NE(evs[0].text.find("plant-a"), std::string::npos);
  EXPECT_EQ(evs[1].kind, "config_warning");
  EXPECT_EQ(evs[1].sev, severity::warning);
  shutdown(n);
}

TEST_F(supervisor_test, faults_for_unknown_targets_are_refused_with_what_exists) {
  auto n = spawn_node();
  auto e1 = inject(n, fault{fault_kind::stall_actor, "nobody", "", 100, 1});
  EXPECT_NE(e1.find("no actor 'nobody'"), std::string::npos) << e1;
  EXPECT_NE(e1.find("diagnostics"), std::string::npos) << e1;
  auto e2 = inject(n, fault{fault_kind::drop_server, "line9", "primary", 0, 1});
  EXPECT_NE(e2.find("no pair 'line9'"), std::string::npos) << e2;
  EXPECT_NE(e2.find("line1, line2"), std::string::npos) << e2;
  auto e3 = inject(n, fault{fault_kind::drop_link, "", "", 0, 1});
  EXPECT_NE(e3.find("no partner link"), std::string::npos) << e3;
  shutdown(n);
}

TEST_F(supervisor_test, a_stalled_supervisor_answers_when_the_stall_ends) {
  auto n = spawn_node();
  EXPECT_EQ(inject(n, fault{fault_kind::stall_actor, "supervisor", "", 200, 1}), "");
  self->send(n, atom::status_v);
  run();
  EXPECT_TRUE(self_mailbox_empty());
  advance(200ms);
  bool got = false;
  self->receive([&](node_status&) { got = true; }, caf::after(std::chrono::seconds(0)) >> [] {});
  EXPECT_TRUE(got);
  EXPECT_EQ(kinds(n).back(), "fault_injected");
  shutdown(n);
}

TEST_F(supervisor_test, storage_faults_reach_diagnostics) {
  auto n = spawn_node();
  EXPECT_EQ(inject(n, fault{fault_kind::fail_storage_write, "", "", 0, 1}), "");
  auto k = kinds(n);
  EXPECT_NE(std::find(k.begin(), k.end(), "storage_write_failed"), k.end());
  shutdown(n);
}

TEST_F(supervisor_test, a_failed_child_is_restarted_and_the_failure_recorded) {
  auto n = spawn_node();
  auto old_diag = state(n).diag;
  self->send_exit(old_diag, caf::exit_reason::kill);
  run();
  auto& st = state(n);
  ASSERT_TRUE(st.diag);
  EXPECT_NE(st.diag, old_diag);
  auto k = kinds(n);
  EXPECT_EQ(k.back(), "actor_restarted");
  // Events from before the crash were on disk and are back.
  EXPECT_EQ(k.front(), "node_started");
  auto s = ask<node_status>(n, atom::status_v);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->state, "Running");
  shutdown(n);
}

TEST_F(supervisor_test, too_many_failures_in_the_window_make_the_node_faulted) {
  auto n = spawn_node(); // max_restarts = 2
  for (int i = 0; i < 3; ++i) {
    self->send_exit(state(n).console, caf::exit_reason::kill);
    run();
  }
  EXPECT_FALSE(state(n).console);
  auto s = ask<node_status>(n, atom::status_v);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->state, "Faulted");
  auto evs = events(n);
  EXPECT_EQ(evs.back().kind, "actor_failed");
  EXPECT_EQ(evs.back().sev, severity::critical);
  shutdown(n);
}

TEST_F(supervisor_test, failures_outside_the_window_are_forgiven) {
  auto n = spawn_node(); // 2 restarts per 60 s
  for (int i = 0; i < 4; ++i) {
    self->send_exit(state(n).console, caf::exit_reason::kill);
    run();
    advance(31s);
  }
  ASSERT_TRUE(state(n).console);
  auto s = ask<node_status>(n, atom::status_v);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->state, "Running");
  shutdown(n);
}

TEST_F(supervisor_test, shutdown_records_the_stop_flushes_and_ends_every_actor) {
  auto n = spawn_node();
  auto diag = state(n).diag;
  auto con = state(n).console;
  bool sup_down = false, diag_down = false, con_down = false;
  n->attach_functor([&] { sup_down = true; });
  diag->attach_functor([&] { diag_down = true; });
  con->attach_functor([&] { con_down = true; });
  shutdown(n);
  EXPECT_TRUE(sup_down);
  EXPECT_TRUE(diag_down);
  EXPECT_TRUE(con_down);
  std::string err;
  auto disk = store->newest(10, err);
  ASSERT_FALSE(disk.empty());
  EXPECT_EQ(disk.back().kind, "node_stopping");
}

} // namespace
