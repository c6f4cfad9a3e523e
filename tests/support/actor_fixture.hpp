#pragma once
/// Deterministic actor tests inside GoogleTest: a CAF system on the test coordinator, with
/// virtual time that only moves when a test advances it. Reusable by every actor test.

#include <chrono>
#include <cstdint>
#include <optional>

#include <gtest/gtest.h>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/after.hpp"
#include "caf/atom.hpp"
#include "caf/scheduler/test_coordinator.hpp"
#include "caf/scoped_actor.hpp"

namespace tandem::test {

class actor_fixture : public ::testing::Test {
protected:
  /// Unix time in ms that virtual time 0 stands for (2026-01-01T00:00:00Z).
  static constexpr int64_t wall_origin_ms = 1'767'225'600'000;

  actor_fixture();
  ~actor_fixture() override;

  /// Runs every ready job (no time passes).
  size_t run() { return sched.run(); }
  /// Moves virtual time forward by `d`, firing due timers, then runs what became ready.
  void advance(caf::timespan d) {
    sched.advance_time(d);
    sched.run();
  }
  /// Virtual wall clock: wall_origin_ms plus virtual time elapsed. Give it to actors as wall_now.
  int64_t wall_now() const;

  /// Sends a message as `self`, runs the system, and returns the reply of type T, if one came.
  template <class T, class Handle, class... Ts>
  std::optional<T> ask(const Handle& dest, Ts&&... xs) {
    self->send(dest, std::forward<Ts>(xs)...);
    run();
    std::optional<T> result;
    self->receive([&](T& x) { result = std::move(x); },
                  caf::after(std::chrono::seconds(0)) >> [] {});
    return result;
  }

  /// A reply of type T already in `self`'s mailbox (to a request sent earlier), if one came.
  template <class T> std::optional<T> received() {
    run();
    std::optional<T> result;
    self->receive([&](T& x) { result = std::move(x); },
                  caf::after(std::chrono::seconds(0)) >> [] {});
    return result;
  }

  /// True when `self` has nothing in its mailbox.
  bool self_mailbox_empty() { return self->mailbox().empty(); }

  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  caf::scoped_actor self;

private:
  static caf::actor_system_config& prepare(caf::actor_system_config& c);
};

} // namespace tandem::test
