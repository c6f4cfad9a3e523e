#include "actors/alarms.hpp"

#include <algorithm>
#include <cstdlib>
#include <tuple>
#include <utility>

#include "caf/typed_event_based_actor.hpp"

#include "actors/supervision.hpp"

namespace tandem {

namespace {

bool starts_with(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}

bool same_state(const alarm& a, const alarm& b) {
  return std::tie(a.key, a.source, a.text, a.active, a.acked, a.raised_ms, a.cleared_ms,
                  a.acked_ms) == std::tie(b.key, b.source, b.text, b.active, b.acked, b.raised_ms,
                                          b.cleared_ms, b.acked_ms);
}

// "line1/primary: monitor 0 (...) stale ..." -> "line1/primary/0"; "line1/primary disconnected"
// -> "line1/primary" with `index` false. Empty when the text has neither shape.
std::string condition_target(const std::string& text, bool& index) {
  auto colon = text.find(": monitor ");
  if (colon != std::string::npos) {
    auto p = colon + 10;
    auto q = p;
    while (q < text.size() && text[q] >= '0' && text[q] <= '9')
      ++q;
    if (q == p) return {};
    index = true;
    return text.substr(0, colon) + "/" + text.substr(p, q - p);
  }
  auto space = text.find(' ');
  if (space != std::string::npos && text.compare(space, 13, " disconnected") == 0) {
    index = false;
    return text.substr(0, space);
  }
  return {};
}

} // namespace

void alarms_state::raise(const std::string& key, const std::string& source,
                         const std::string& text) {
  for (auto& [id, a] : alarms) {
    if (a.key != key || !a.active) continue;
    if (a.text != text || a.source != source) {
      a.text = text;
      a.source = source;
      a.origin = cfg.node_name;
      a.stamp = next_stamp();
      dirty.insert(id);
      persist();
    }
    return;
  }
  alarm a;
  a.id = cfg.node_name + ":" + std::to_string(next_number++);
  a.key = key;
  a.source = source;
  a.text = text;
  a.active = true;
  a.raised_ms = cfg.wall_now();
  a.origin = cfg.node_name;
  a.stamp = next_stamp();
  dirty.insert(a.id);
  alarms[a.id] = std::move(a);
  persist();
}

void alarms_state::clear(const std::string& key, bool prefix) {
  bool any = false;
  for (auto& [id, a] : alarms) {
    if (!a.active || !(prefix ? starts_with(a.key, key) : a.key == key)) continue;
    a.active = false;
    a.cleared_ms = cfg.wall_now();
    a.origin = cfg.node_name;
    a.stamp = next_stamp();
    dirty.insert(id);
    any = true;
  }
  if (any) persist();
}

void alarms_state::on_event(const diag_event& e) {
  // Events merged from the partner describe its own connections: not this node's alarms.
  if (e.node != cfg.node_name) return;
  const std::string& k = e.kind;
  if (starts_with(e.source, "server/")) {
    std::string key = "comm:" + e.source.substr(7);
    if (k == "server_lost" || k == "server_status_timeout" || k == "server_unhealthy")
      raise(key, e.source, e.text);
    else if (k == "server_connected" || k == "server_idle")
      clear(key);
  } else if (k == "condition_failing" || k == "condition_cleared") {
    bool index = false;
    auto target = condition_target(e.text, index);
    if (target.empty()) return;
    if (k == "condition_failing" && index)
      raise("condition:" + target, e.source, e.text);
    else if (k == "condition_cleared")
      clear("condition:" + target + (index ? "" : "/"), !index);
  } else if (k == "partner_lost") {
    raise("partner", e.source, e.text);
  } else if (k == "partner_connected") {
    clear("partner");
  } else if (k == "config_mismatch") {
    raise("config", e.source, e.text);
  } else if (k == "takeover_mismatched") {
    raise("config_takeover", e.source, e.text);
  } else if (k == "config_matched") {
    clear("config");
    clear("config_takeover");
  }
}

alarm_list alarms_state::ack(const std::string& id) {
  auto it = alarms.find(id);
  if (it == alarms.end())
    return alarm_list{{},
                      "no alarm '" + id + "'; 'alarms' lists them with their ids (like " +
                          cfg.node_name + ":1)"};
  auto& a = it->second;
  if (!a.acked) {
    alarm before = a;
    a.acked = true;
    a.acked_ms = cfg.wall_now();
    a.origin = cfg.node_name;
    a.stamp = next_stamp();
    dirty.insert(id);
    std::string err;
    if (!persist(&err)) {
      a = before;
      dirty.erase(id);
      return alarm_list{{}, "cannot record the acknowledgement: " + err};
    }
  }
  return alarm_list{{a}, ""};
}

alarm_list alarms_state::list(bool all) const {
  alarm_list out;
  for (auto& [id, a] : alarms)
    if (all || a.active || !a.acked) out.alarms.push_back(a);
  std::stable_sort(out.alarms.begin(), out.alarms.end(),
                   [](const alarm& a, const alarm& b) { return a.raised_ms < b.raised_ms; });
  return out;
}

std::vector<alarm> alarms_state::export_after(const std::vector<origin_mark>& have) const {
  std::vector<alarm> out;
  for (auto& [id, a] : alarms) {
    data_epoch theirs;
    for (auto& m : have)
      if (m.origin == a.origin) theirs = m.stamp;
    if (theirs < a.stamp) out.push_back(a);
  }
  return out;
}

uint64_t alarms_state::merge(std::vector<alarm>&& incoming) {
  uint64_t changed = 0;
  for (auto& in : incoming) {
    // Alarms this node raised before its database was lost: never reuse their numbers or seqs.
    if (starts_with(in.id, cfg.node_name + ":")) {
      auto n = std::strtoull(in.id.c_str() + cfg.node_name.size() + 1, nullptr, 10);
      if (n >= next_number) next_number = n + 1;
    }
    if (in.origin == cfg.node_name) {
      if (in.stamp.seq > seq) seq = in.stamp.seq;
      if (in.stamp.term > term) term = in.stamp.term;
    }
    auto it = alarms.find(in.id);
    if (it == alarms.end()) {
      dirty.insert(in.id);
      alarms[in.id] = std::move(in);
      ++changed;
      continue;
    }
    auto joined = storage::alarm_store::join(it->second, in);
    if (same_state(joined, it->second)) continue; // nothing new
    // A state neither side had yet (one acked, the other cleared) is a change of this node:
    // stamped here, so it travels back to the partner.
    if (!same_state(joined, in)) {
      joined.origin = cfg.node_name;
      joined.stamp = next_stamp();
    }
    it->second = std::move(joined);
    dirty.insert(it->first);
    ++changed;
  }
  if (changed > 0) persist();
  return changed;
}

bool alarms_state::persist(std::string* error) {
  if (dirty.empty()) return true;
  std::vector<alarm> batch;
  for (auto& id : dirty)
    if (auto it = alarms.find(id); it != alarms.end()) batch.push_back(it->second);
  std::string err;
  if (!cfg.store->put(batch, next_number, err)) {
    if (error) *error = err;
    return false;
  }
  dirty.clear();
  // Listeners (SYNC) hear of every change once it is recorded here.
  for (auto& l : listeners)
    self->send(l, atom::alarms_v, batch);
  return true;
}

alarms_actor::behavior_type alarms(alarms_actor::stateful_pointer<alarms_state> self,
                                   alarms_config cfg) {
  auto& st = self->state;
  st.self = self;
  st.cfg = std::move(cfg);
  quit_with_parent(self, st.cfg.parent);
  std::vector<alarm> stored;
  std::string err;
  st.cfg.store->load(stored, err);
  for (auto& a : stored)
    st.alarms[a.id] = std::move(a);
  st.next_number = st.cfg.store->next_number();
  // Stamps of a node only ever rise: continue after the last one, in its term at least.
  auto own = st.cfg.store->max_stamp(st.cfg.node_name);
  st.seq = own.seq;
  st.term = own.term;
  // Monitor conditions start afresh with the node: they raise again if they still fail.
  st.clear("condition:", true);
  if (st.cfg.diagnostics)
    self->send(st.cfg.diagnostics, atom::subscribe_v, caf::actor_cast<event_listener_actor>(self));
  self->delayed_send(self, st.cfg.retention_interval, atom::retention_v);
  return {
      [self](diag_event& e) { self->state.on_event(e); },
      [self](alarm_report& r) {
        if (r.active)
          self->state.raise(r.key, r.source, r.text);
        else
          self->state.clear(r.key);
      },
      [self](atom::epoch, uint64_t term) {
        if (term > self->state.term) self->state.term = term;
      },
      [self](atom::alarms, bool all) { return self->state.list(all); },
      [self](atom::ack, std::string& id) { return self->state.ack(id); },
      [self](atom::marks) { return self->state.cfg.store->marks(); },
      [self](atom::export_rows, std::vector<origin_mark>& have) {
        return self->state.export_after(have);
      },
      [self](atom::merge, std::vector<alarm>& in) { return self->state.merge(std::move(in)); },
      [self](atom::subscribe, alarm_listener_actor& l) {
        auto& ls = self->state.listeners;
        if (std::find(ls.begin(), ls.end(), l) == ls.end()) ls.push_back(l);
      },
      [self](atom::unsubscribe, alarm_listener_actor& l) {
        auto& ls = self->state.listeners;
        ls.erase(std::remove(ls.begin(), ls.end(), l), ls.end());
      },
      [self](diagnostics_actor& d) {
        self->state.cfg.diagnostics = d;
        self->send(d, atom::subscribe_v, caf::actor_cast<event_listener_actor>(self));
      },
      [self](atom::retention) {
        auto& st = self->state;
        st.persist(); // a write that failed earlier
        std::vector<std::string> deleted;
        std::string err;
        if (st.cfg.store->delete_before(st.cfg.wall_now() - st.cfg.retention_ms, deleted, err))
          for (auto& id : deleted)
            st.alarms.erase(id);
        self->delayed_send(self, st.cfg.retention_interval, atom::retention_v);
      },
  };
}

} // namespace tandem
