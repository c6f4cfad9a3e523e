#include "actors/history.hpp"

#include <algorithm>
#include <utility>

#include "caf/typed_event_based_actor.hpp"

#include "actors/monitor.hpp"
#include "actors/supervision.hpp"

namespace tandem {

int64_t ua_ticks_to_unix_ms(int64_t ticks) {
  constexpr int64_t unix_epoch_ticks = 116444736000000000; // 1970-01-01 in 100 ns since 1601
  if (ticks == 0) return 0;
  int64_t d = ticks - unix_epoch_ticks;
  // Floor division, so times before 1970 (a bad clock) still order correctly.
  return d >= 0 ? d / 10000 : -((-d + 9999) / 10000);
}

history_batch history_batch_of(const std::string& alias, std::vector<item_update> updates,
                               const std::unordered_map<uint32_t, item_spec>& face_items,
                               const std::vector<config::monitor_entry>& monitors) {
  history_batch b;
  b.pair = alias;
  b.values.reserve(updates.size());
  for (auto& u : updates) {
    const std::string* item = nullptr;
    if (u.handle >= monitor_handle_base) {
      size_t i = u.handle - monitor_handle_base;
      if (i < monitors.size()) item = &monitors[i].item;
    } else if (auto it = face_items.find(u.handle); it != face_items.end()) {
      item = &it->second.node_id;
    }
    if (!item) continue;
    b.values.push_back(
        recorded_value{*item, ua_ticks_to_unix_ms(u.source_time), u.status, std::move(u.value)});
  }
  return b;
}

history_state::~history_state() {
  // What is still pending when the actor ends is committed (orderly stop or restart).
  uint64_t ignored_n = 0;
  std::string ignored;
  if (cfg.store && !pending.empty()) cfg.store->insert(pending, ignored_n, ignored);
}

void history_state::record(history_batch&& b) {
  int64_t now = cfg.wall_now();
  for (auto& v : b.values) {
    history_row r;
    r.pair = b.pair;
    r.item = std::move(v.item);
    r.source_ms = v.source_ms;
    r.time_ms = v.source_ms != 0 ? v.source_ms : now;
    r.recorded_ms = now;
    r.status = v.status;
    r.value = std::move(v.value);
    r.origin = cfg.node_name;
    r.stamp = data_epoch{term, ++seq};
    pending.push_back(std::move(r));
  }
  recorded += b.values.size();
  if (!listeners.empty() && !b.values.empty()) {
    std::vector<history_row> fresh(pending.end() - static_cast<std::ptrdiff_t>(b.values.size()),
                                   pending.end());
    for (auto& l : listeners)
      self->send(l, atom::history_v, fresh);
  }
  if (pending.size() > cfg.max_pending) {
    auto excess = pending.size() - cfg.max_pending;
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(excess));
    dropped += excess;
  }
  if (pending.size() >= cfg.max_batch && !failing) {
    commit();
  } else if (!commit_armed && !pending.empty()) {
    commit_armed = true;
    self->delayed_send(self, cfg.commit_interval, atom::commit_v);
  }
}

bool history_state::commit() {
  if (pending.empty()) return true;
  uint64_t inserted = 0;
  std::string err;
  if (cfg.store->insert(pending, inserted, err)) {
    pending.clear();
    if (failing) {
      failing = false;
      std::string text = "item history is written again";
      if (dropped > 0)
        text += "; " + std::to_string(dropped) + " values were dropped while it failed";
      dropped = 0;
      if (cfg.diagnostics)
        self->send(cfg.diagnostics,
                   event_report{severity::warning, name, "history_recovered", std::move(text)});
    }
    return true;
  }
  if (!failing) {
    failing = true;
    if (cfg.diagnostics)
      self->send(cfg.diagnostics, event_report{severity::error, name, "history_write_failed",
                                               "cannot persist item history (" + err +
                                                   "); keeping values in memory and retrying"});
  }
  if (!commit_armed) {
    commit_armed = true;
    self->delayed_send(self, cfg.commit_interval, atom::commit_v);
  }
  return false;
}

history_values history_state::query(const history_query& q) {
  commit();
  history_values out;
  if (!cfg.store->has_series(q.pair, q.item)) {
    out.error = "nothing recorded for " + q.item + " of pair " + q.pair +
                " (history keeps the items that clients and monitors subscribe to)";
    return out;
  }
  int64_t since = q.since_ms;
  if (q.has_since && q.since_relative) since = cfg.wall_now() + q.since_ms;
  uint64_t limit = std::max<uint64_t>(q.limit, 1);
  std::string err;
  if (!cfg.store->query(q.pair, q.item, q.has_since, since, limit, out, err)) {
    out.rows.clear();
    out.error = err;
    return out;
  }
  // Both nodes record what they serve; after a split brain the merged history can hold the
  // same sample twice (from two origins): show it once.
  std::vector<history_row> kept;
  kept.reserve(out.rows.size());
  for (auto& r : out.rows) {
    bool dup = false;
    for (auto it = kept.rbegin(); it != kept.rend() && it->time_ms == r.time_ms; ++it)
      if (it->origin != r.origin && it->status == r.status && it->value == r.value) dup = true;
    if (!dup) kept.push_back(std::move(r));
  }
  out.rows = std::move(kept);
  return out;
}

uint64_t history_state::merge(std::vector<history_row>&& rows, std::string& error) {
  commit();
  uint64_t inserted = 0;
  if (!cfg.store->insert(rows, inserted, error)) return 0;
  // Rows of this very node (its database was lost, the partner had them): continue after them.
  auto own = cfg.store->max_stamp(cfg.node_name);
  if (own.seq > seq) seq = own.seq;
  if (own.term > term) term = own.term;
  return inserted;
}

history_actor::behavior_type history(history_actor::stateful_pointer<history_state> self,
                                     history_config cfg) {
  auto& st = self->state;
  st.self = self;
  st.cfg = std::move(cfg);
  quit_with_parent(self, st.cfg.parent);
  // Stamps of a node only ever rise (a partner fetches what lies above its mark): continue
  // after the last one, in its term at least.
  auto own = st.cfg.store->max_stamp(st.cfg.node_name);
  st.seq = own.seq;
  st.term = own.term;
  if (st.cfg.max_batch == 0) st.cfg.max_batch = 1;
  if (st.cfg.retention_chunk == 0) st.cfg.retention_chunk = 1;
  self->send(self, atom::retention_v);
  return {
      // -- recording -------------------------------------------------------------------------
      [self](history_batch& b) { self->state.record(std::move(b)); },
      [self](atom::commit) {
        self->state.commit_armed = false;
        self->state.commit();
      },
      [self](atom::epoch, uint64_t term) {
        // A lower term would stamp below rows already recorded: kept at the higher one.
        if (term > self->state.term) self->state.term = term;
      },
      [self](atom::retention) {
        auto& st = self->state;
        std::string err;
        auto n = st.cfg.store->delete_before(st.cfg.wall_now() - st.cfg.retention_ms,
                                             st.cfg.retention_chunk, err);
        // A full chunk: more to delete; the next chunk queues behind the work waiting now.
        if (n == static_cast<int64_t>(st.cfg.retention_chunk))
          self->send(self, atom::retention_v);
        else
          self->delayed_send(self, st.cfg.retention_interval, atom::retention_v);
      },
      // -- queries ---------------------------------------------------------------------------
      [self](history_query& q) { return self->state.query(q); },
      [self](atom::flush) {
        self->state.commit();
        return self->state.cfg.store->max_stamp(self->state.cfg.node_name);
      },
      // -- SYNC ------------------------------------------------------------------------------
      [self](atom::subscribe, history_listener_actor& l) {
        auto& ls = self->state.listeners;
        if (std::find(ls.begin(), ls.end(), l) == ls.end()) ls.push_back(l);
      },
      [self](atom::unsubscribe, history_listener_actor& l) {
        auto& ls = self->state.listeners;
        ls.erase(std::remove(ls.begin(), ls.end(), l), ls.end());
      },
      [self](atom::marks) {
        self->state.commit();
        return self->state.cfg.store->marks();
      },
      [self](atom::export_rows, std::vector<origin_mark>& have,
             uint64_t limit) -> caf::result<history_rows> {
        auto& st = self->state;
        st.commit();
        history_rows out;
        std::string err;
        if (!st.cfg.store->rows_after(have, std::max<uint64_t>(limit, 1), out, err))
          return caf::make_error(caf::sec::runtime_error, err);
        return out;
      },
      [self](atom::merge, std::vector<history_row>& rows) -> caf::result<uint64_t> {
        std::string err;
        auto n = self->state.merge(std::move(rows), err);
        if (!err.empty()) return caf::make_error(caf::sec::runtime_error, err);
        return n;
      },
  };
}

} // namespace tandem
