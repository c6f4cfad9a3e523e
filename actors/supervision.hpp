#pragma once
/// Supervision helpers. The supervisor monitors its children (a child's `down_msg` is how it learns
/// of a failure: links would not do, since a child killed with exit_reason::kill would take the
/// supervisor with it); each child monitors its parent and quits with it.

#include "caf/actor_addr.hpp"
#include "caf/system_messages.hpp"

namespace tandem {

/// Makes `self` end when `parent` ends, with the parent's reason. Call from the actor's init.
template <class Self> void quit_with_parent(Self* self, const caf::actor_addr& parent) {
  if (!parent) return;
  self->monitor(parent);
  self->set_down_handler([self, parent](caf::down_msg& dm) {
    if (dm.source == parent) self->quit(dm.reason);
  });
}

} // namespace tandem
