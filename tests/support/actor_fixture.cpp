#include "tests/support/actor_fixture.hpp"

namespace tandem::test {

caf::actor_system_config& actor_fixture::prepare(caf::actor_system_config& c) {
  c.set("scheduler.policy", caf::atom("testing"));
  return c;
}

actor_fixture::actor_fixture()
    : sys(prepare(cfg)), sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())),
      self(sys, true) {}

actor_fixture::~actor_fixture() {
  // Let actors that were told to stop finish, so the system's destructor does not wait forever.
  sched.run();
}

int64_t actor_fixture::wall_now() const {
  auto since =
      const_cast<caf::scheduler::test_coordinator&>(sched).clock().now().time_since_epoch();
  return wall_origin_ms + std::chrono::duration_cast<std::chrono::milliseconds>(since).count();
}

} // namespace tandem::test
