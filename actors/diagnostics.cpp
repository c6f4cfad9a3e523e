#include "actors/diagnostics.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

#include "caf/event_based_actor.hpp"
#include "caf/skip.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/supervision.hpp"

namespace tandem {

namespace {

// While storage is failing, pending events are kept up to this many times max_events; beyond
// that the oldest are dropped (and counted) so a dead disk cannot exhaust memory.
constexpr uint64_t pending_factor = 2;

diagnostics_actor::behavior_type
make_behavior(diagnostics_actor::stateful_pointer<diagnostics_state> self);

} // namespace

void diagnostics_state::record(event_report&& r) {
  diag_event e;
  e.seq = ++next_seq;
  e.time_ms = cfg.wall_now();
  e.sev = r.sev;
  e.node = cfg.node_name;
  e.source = std::move(r.source);
  e.kind = std::move(r.kind);
  e.text = std::move(r.text);
  ring.push_back(e);
  while (ring.size() > cfg.max_events)
    ring.pop_front();
  for (auto& l : listeners)
    self->send(l, e);
  pending.push_back(std::move(e));
  if (pending.size() > pending_factor * cfg.max_events) {
    auto excess = pending.size() - pending_factor * cfg.max_events;
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(excess));
    dropped += excess;
  }
  // The commit message queues behind everything already in the mailbox, so a burst of events
  // is committed in one transaction.
  if (!commit_queued && !failing) {
    commit_queued = true;
    self->send(self, atom::commit_v);
  }
}

diagnostics_state::~diagnostics_state() {
  // Whatever is still pending when the actor ends is committed (orderly stop or restart).
  std::string ignored;
  if (cfg.store && !pending.empty()) cfg.store->write(pending, cfg.max_events, ignored);
}

bool diagnostics_state::commit() {
  if (pending.empty()) return true;
  std::string err;
  if (cfg.store->write(pending, cfg.max_events, err)) {
    pending.clear();
    if (failing) {
      failing = false;
      std::string text = "event storage works again";
      if (dropped > 0)
        text += "; " + std::to_string(dropped) + " events were dropped while it failed";
      dropped = 0;
      record({severity::warning, name, "storage_recovered", text});
    }
    return true;
  }
  if (!failing) {
    failing = true;
    record({severity::error, name, "storage_write_failed",
            "cannot persist events (" + err + "); keeping them in memory and retrying"});
  }
  if (!retry_queued) {
    retry_queued = true;
    self->delayed_send(self, cfg.retry_delay, atom::retry_v);
  }
  return false;
}

void diagnostics_state::insert_merged(const std::vector<diag_event>& events) {
  for (auto& e : events) {
    // This node's own events (its database was lost, the partner had them): continue after them.
    if (e.node == cfg.node_name && e.seq > next_seq) next_seq = e.seq;
    // Newest last, by time; merged events are told to no listener (they are the partner's, and
    // ALARMS and the NOTIFIER act on this node's only).
    auto pos = ring.end();
    while (pos != ring.begin() && std::prev(pos)->time_ms > e.time_ms)
      --pos;
    ring.insert(pos, e);
  }
  while (ring.size() > cfg.max_events)
    ring.pop_front();
}

std::vector<diag_event> diagnostics_state::newest(uint64_t n) const {
  auto count = std::min<uint64_t>(n, ring.size());
  return std::vector<diag_event>(ring.end() - static_cast<std::ptrdiff_t>(count), ring.end());
}

namespace {

diagnostics_actor::behavior_type
make_behavior(diagnostics_actor::stateful_pointer<diagnostics_state> self) {
  return {
      // -- recording -----------------------------------------------------------
      [self](event_report& r) -> caf::result<void> {
        if (self->state.stalled) return caf::skip;
        self->state.record(std::move(r));
        return caf::unit;
      },
      [self](atom::commit) -> caf::result<void> {
        if (self->state.stalled) return caf::skip;
        self->state.commit_queued = false;
        self->state.commit();
        return caf::unit;
      },
      [self](atom::retry) -> caf::result<void> {
        if (self->state.stalled) return caf::skip;
        self->state.retry_queued = false;
        self->state.commit();
        return caf::unit;
      },
      // -- queries -------------------------------------------------------------
      [self](atom::events, uint64_t n) -> caf::result<std::vector<diag_event>> {
        if (self->state.stalled) return caf::skip;
        self->state.commit();
        return self->state.newest(n);
      },
      [self](atom::flush) -> caf::result<uint64_t> {
        if (self->state.stalled) return caf::skip;
        self->state.commit();
        return self->state.cfg.store->last_seq();
      },
      // -- SYNC ----------------------------------------------------------------
      [self](atom::marks) -> caf::result<std::vector<origin_mark>> {
        if (self->state.stalled) return caf::skip;
        self->state.commit();
        return self->state.cfg.store->marks(self->state.cfg.node_name);
      },
      [self](atom::export_rows, std::vector<origin_mark>& have,
             uint64_t limit) -> caf::result<event_rows> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        st.commit();
        event_rows out;
        std::string err;
        if (!st.cfg.store->after(have, st.cfg.node_name, std::max<uint64_t>(limit, 1), out, err))
          return caf::make_error(caf::sec::runtime_error, err);
        return out;
      },
      [self](atom::merge, std::vector<diag_event>& events) -> caf::result<uint64_t> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        st.commit();
        std::vector<diag_event> fresh;
        std::string err;
        if (!st.cfg.store->merge(events, st.cfg.node_name, st.cfg.max_events, fresh, err))
          return caf::make_error(caf::sec::runtime_error, err);
        st.insert_merged(fresh);
        return static_cast<uint64_t>(fresh.size());
      },
      // -- listeners -----------------------------------------------------------
      [self](atom::subscribe, event_listener_actor& l) {
        auto& ls = self->state.listeners;
        if (std::find(ls.begin(), ls.end(), l) == ls.end()) ls.push_back(l);
      },
      [self](atom::unsubscribe, event_listener_actor& l) {
        auto& ls = self->state.listeners;
        ls.erase(std::remove(ls.begin(), ls.end(), l), ls.end());
      },
      // -- faults --------------------------------------------------------------
      [self](fault& f) -> caf::result<std::string> {
        if (self->state.stalled) return caf::skip;
        switch (f.kind) {
        case fault_kind::stall_actor:
          self->state.stalled = true;
          self->delayed_send(self, std::chrono::milliseconds(f.ms), atom::stall_end_v);
          return std::string{};
        case fault_kind::fail_storage_write:
          self->state.cfg.store->fail_next_writes(f.count);
          return std::string{};
        default:
          return std::string("diagnostics cannot apply fault ") + to_string(f.kind);
        }
      },
      [self](atom::stall_end) {
        self->state.stalled = false;
        // Installing the behaviour again makes CAF revisit the messages skipped meanwhile.
        self->become(make_behavior(self));
      },
  };
}

} // namespace

diagnostics_actor::behavior_type
diagnostics(diagnostics_actor::stateful_pointer<diagnostics_state> self, diagnostics_config cfg) {
  auto& st = self->state;
  st.self = self;
  st.cfg = std::move(cfg);
  quit_with_parent(self, st.cfg.parent);
  if (st.cfg.max_events == 0) st.cfg.max_events = 1;
  std::string err;
  auto previous = st.cfg.store->newest(st.cfg.max_events, err);
  st.ring.assign(previous.begin(), previous.end());
  st.next_seq = st.cfg.store->last_seq();
  if (!err.empty())
    st.record({severity::error, diagnostics_state::name, "storage_read_failed",
               "cannot load previous events: " + err});
  return make_behavior(self);
}

} // namespace tandem
