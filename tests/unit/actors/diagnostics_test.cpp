// Deterministic tests of DIAGNOSTICS: ring buffer, persistence, failures, stalls, listeners.

#include <gtest/gtest.h>

#include "caf/typed_event_based_actor.hpp"

#include "actors/diagnostics.hpp"
#include "tests/support/actor_fixture.hpp"
#include "tests/unit/actors/test_util.hpp"

using namespace tandem;
using namespace std::chrono_literals;

namespace {

class diagnostics_test : public test::actor_fixture {
protected:
  diagnostics_actor spawn_diag(uint64_t max_events = 100) {
    diagnostics_config c;
    c.node_name = "n1";
    c.max_events = max_events;
    c.store = store;
    c.wall_now = [this] { return wall_now(); };
    auto d = sys.spawn(diagnostics, c);
    run();
    return d;
  }
  void report(const diagnostics_actor& d, const std::string& kind, severity sev = severity::info) {
    self->send(d, event_report{sev, "test", kind, "text of " + kind});
  }
  std::vector<diag_event> events(const diagnostics_actor& d, uint64_t n = 1000) {
    auto r = ask<std::vector<diag_event>>(d, atom::events_v, n);
    EXPECT_TRUE(r) << "no reply to events";
    return r ? *r : std::vector<diag_event>{};
  }
  void stop(const diagnostics_actor& d) {
    self->send_exit(d, caf::exit_reason::user_shutdown);
    run();
  }
  std::vector<diag_event> stored(uint64_t n = 1000) {
    std::string err;
    auto v = store->newest(n, err);
    EXPECT_EQ(err, "");
    return v;
  }

  test::temp_dir dir;
  std::shared_ptr<storage::event_store> store = test::open_store(dir);
};

TEST_F(diagnostics_test, stamps_sequence_time_and_node_and_answers_oldest_first) {
  auto d = spawn_diag();
  report(d, "first");
  run();
  advance(1500ms);
  report(d, "second", severity::error);
  run();
  auto evs = events(d);
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].seq, 1u);
  EXPECT_EQ(evs[1].seq, 2u);
  EXPECT_EQ(evs[0].kind, "first");
  EXPECT_EQ(evs[1].sev, severity::error);
  EXPECT_EQ(evs[0].node, "n1");
  EXPECT_EQ(evs[0].time_ms, wall_origin_ms);
  EXPECT_EQ(evs[1].time_ms, wall_origin_ms + 1500);
  // Newest N only.
  auto last = events(d, 1);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].kind, "second");
  stop(d);
}

TEST_F(diagnostics_test, ring_buffer_keeps_at_most_max_events_in_memory_and_on_disk) {
  auto d = spawn_diag(5);
  for (int i = 1; i <= 12; ++i)
    report(d, "e" + std::to_string(i));
  run();
  auto evs = events(d);
  ASSERT_EQ(evs.size(), 5u);
  EXPECT_EQ(evs.front().seq, 8u);
  EXPECT_EQ(evs.back().seq, 12u);
  auto disk = stored();
  ASSERT_EQ(disk.size(), 5u);
  EXPECT_EQ(disk.front().seq, 8u);
  EXPECT_EQ(disk.back().kind, "e12");
  stop(d);
}

TEST_F(diagnostics_test, events_are_committed_before_anyone_sees_them) {
  auto d = spawn_diag();
  report(d, "a");
  report(d, "b");
  // The query is answered only after a commit: what an operator saw is on disk.
  self->send(d, atom::events_v, uint64_t{10});
  sched.run_once(); // handles "a" only
  sched.run();
  auto disk = stored();
  ASSERT_EQ(disk.size(), 2u);
  stop(d);
}

TEST_F(diagnostics_test, a_new_actor_loads_previous_events_and_continues_their_numbers) {
  auto d = spawn_diag();
  report(d, "before_restart_1");
  report(d, "before_restart_2");
  run();
  stop(d);
  auto d2 = spawn_diag();
  report(d2, "after_restart");
  run();
  auto evs = events(d2);
  ASSERT_EQ(evs.size(), 3u);
  EXPECT_EQ(evs[0].kind, "before_restart_1");
  EXPECT_EQ(evs[1].kind, "before_restart_2");
  EXPECT_EQ(evs[2].kind, "after_restart");
  EXPECT_EQ(evs[2].seq, 3u);
  stop(d2);
}

TEST_F(diagnostics_test, sequence_numbers_are_never_reused_after_trimming) {
  auto d = spawn_diag(2);
  for (int i = 0; i < 5; ++i)
    report(d, "x");
  run();
  stop(d);
  auto d2 = spawn_diag(2);
  report(d2, "y");
  run();
  auto evs = events(d2);
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[1].seq, 6u);
  stop(d2);
}

TEST_F(diagnostics_test, a_failed_write_keeps_events_and_retries_until_storage_works) {
  auto d = spawn_diag();
  auto r = ask<std::string>(d, fault{fault_kind::fail_storage_write, "", "", 0, 2});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "");
  report(d, "kept_1");
  report(d, "kept_2");
  run();
  EXPECT_TRUE(stored().empty()); // first commit failed
  // In memory they are all there, with the failure reported.
  auto mem = events(d); // this query's commit fails too (second injected failure)
  ASSERT_EQ(mem.size(), 3u);
  EXPECT_EQ(mem[2].kind, "storage_write_failed");
  EXPECT_EQ(mem[2].sev, severity::error);
  EXPECT_TRUE(stored().empty());
  advance(1s); // retry succeeds
  auto disk = stored();
  ASSERT_EQ(disk.size(), 4u);
  EXPECT_EQ(disk[0].kind, "kept_1");
  EXPECT_EQ(disk[1].kind, "kept_2");
  EXPECT_EQ(disk[2].kind, "storage_write_failed");
  EXPECT_EQ(disk[3].kind, "storage_recovered");
  stop(d);
}

TEST_F(diagnostics_test, a_stalled_actor_answers_after_the_stall_and_loses_nothing) {
  auto d = spawn_diag();
  auto r = ask<std::string>(d, fault{fault_kind::stall_actor, "diagnostics", "", 500, 1});
  ASSERT_TRUE(r);
  report(d, "during_stall");
  self->send(d, atom::events_v, uint64_t{10});
  run();
  EXPECT_TRUE(self_mailbox_empty()) << "answered while stalled";
  advance(499ms);
  EXPECT_TRUE(self_mailbox_empty()) << "answered before the stall ended";
  advance(1ms);
  std::optional<std::vector<diag_event>> got;
  self->receive([&](std::vector<diag_event>& v) { got = v; },
                caf::after(std::chrono::seconds(0)) >> [] {});
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].kind, "during_stall");
  stop(d);
}

TEST_F(diagnostics_test, listeners_receive_every_new_event_until_they_unsubscribe) {
  auto d = spawn_diag();
  std::vector<std::string> seen;
  auto listener =
      sys.spawn([&seen](event_listener_actor::pointer) -> event_listener_actor::behavior_type {
        return {[&seen](diag_event& e) { seen.push_back(e.kind); }};
      });
  self->send(d, atom::subscribe_v, listener);
  report(d, "one");
  report(d, "two");
  run();
  self->send(d, atom::unsubscribe_v, listener);
  report(d, "three");
  run();
  EXPECT_EQ(seen, (std::vector<std::string>{"one", "two"}));
  self->send_exit(listener, caf::exit_reason::user_shutdown);
  stop(d);
}

TEST_F(diagnostics_test, unsupported_faults_are_refused_with_a_reason) {
  auto d = spawn_diag();
  auto r = ask<std::string>(d, fault{fault_kind::drop_link, "", "", 0, 1});
  ASSERT_TRUE(r);
  EXPECT_NE(r->find("cannot apply fault drop_link"), std::string::npos);
  stop(d);
}

} // namespace
