#include "actors/sync.hpp"

#include <algorithm>
#include <tuple>
#include <utility>

#include "caf/typed_event_based_actor.hpp"

#include "actors/supervision.hpp"

namespace tandem {

namespace ps = partner::sync;

namespace {

const char* kind_name(size_t k) {
  return k == 0 ? "history" : k == 1 ? "alarms" : "events";
}

ps::data_kind kind_of(size_t k) {
  return static_cast<ps::data_kind>(k + 1);
}

size_t lane_of(ps::data_kind k) {
  return static_cast<size_t>(k) - 1;
}

size_t count_of(const ps::sync_message& m) {
  return m.rows.size() + m.alarms.size() + m.events.size();
}

/// Adds `from`'s items to `to` (same kind).
void append(ps::sync_message& to, ps::sync_message&& from) {
  to.kind = from.kind;
  auto move_all = [](auto& dst, auto& src) {
    if (dst.empty()) {
      dst = std::move(src);
      return;
    }
    dst.insert(dst.end(), std::make_move_iterator(src.begin()), std::make_move_iterator(src.end()));
  };
  move_all(to.rows, from.rows);
  move_all(to.alarms, from.alarms);
  move_all(to.events, from.events);
}

void raise(std::map<std::string, data_epoch>& cursor, const std::string& origin,
           const data_epoch& e) {
  auto& c = cursor[origin];
  if (c < e) c = e;
}

std::string err_text(const caf::error& e) {
  auto s = caf::to_string(e);
  return s.empty() ? std::string("error") : s;
}

int64_t ms_since(caf::actor_clock::time_point t, caf::actor_clock::time_point now) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - t).count();
}

} // namespace

void sync_state::report(severity sev, const std::string& kind, const std::string& text) {
  if (cfg.diagnostics) self->send(cfg.diagnostics, event_report{sev, name, kind, text});
}

sync_status sync_state::snapshot() const {
  sync_status s = status;
  s.partner = up ? peer : std::string();
  return s;
}

void sync_state::push(std::vector<uint8_t> bytes) {
  if (!link || !up) return;
  self->send(link, sync_payload{ps::channel, std::move(bytes)});
}

namespace {

/// Sends `n` things in as many messages as `encode(first, taken)` makes (each takes at least one).
template <class Encode> void push_all(sync_state& st, size_t n, Encode encode) {
  for (size_t first = 0; first < n;) {
    size_t taken = 0;
    st.push(encode(first, taken));
    first += std::max<size_t>(taken, 1);
  }
}

} // namespace

void sync_state::push_rows(const std::vector<history_row>& rows) {
  if (!up || !peer_ok) return;
  push_all(*this, rows.size(), [&](size_t first, size_t& taken) {
    return ps::encode_history_page(0, rows, first, false, cfg.max_page_bytes, taken);
  });
}

void sync_state::push_alarms(const std::vector<alarm>& alarms) {
  if (!up || !peer_ok) return;
  // Only this node's changes: a merged alarm that came from the partner unchanged has its
  // origin, and sending it back would only bounce.
  std::vector<alarm> mine;
  for (auto& a : alarms)
    if (a.origin == cfg.node_name) mine.push_back(a);
  push_all(*this, mine.size(), [&](size_t first, size_t& taken) {
    return ps::encode_alarm_page(0, mine, first, false, cfg.max_page_bytes, taken);
  });
}

void sync_state::push_event(const diag_event& e) {
  if (!up || !peer_ok || e.node != cfg.node_name) return;
  size_t taken = 0;
  push(ps::encode_event_page(0, std::vector<diag_event>{e}, 0, false, cfg.max_page_bytes, taken));
}

void sync_state::push_items(const std::string& pair, const std::vector<std::string>& node_ids) {
  if (!items_ok()) return;
  push_all(*this, node_ids.size(), [&](size_t first, size_t& taken) {
    return ps::encode_items(pair, node_ids, first, cfg.max_items_bytes, taken);
  });
  status.items_sent += node_ids.size();
}

void sync_state::push_gone(const std::string& pair, const std::vector<std::string>& node_ids) {
  if (!gone_ok()) return; // told at the next link-up (the whole set and ITEMS_END)
  push_all(*this, node_ids.size(), [&](size_t first, size_t& taken) {
    return ps::encode_gone(pair, node_ids, first, cfg.max_items_bytes, taken);
  });
  status.items_removed_sent += node_ids.size();
}

void sync_state::add_items(item_set& s) {
  if (s.partner) {
    // What the faces watch for the partner, before this SYNC heard of it: in no whole set, so
    // the partner's next one ends what it does not name.
    auto& known = partner_items[s.pair];
    for (auto& id : s.node_ids)
      known.try_emplace(std::move(id), 0);
    return;
  }
  auto& known = own_items[s.pair];
  std::vector<std::string> fresh;
  for (auto& id : s.node_ids)
    if (known.insert(id).second) fresh.push_back(std::move(id));
  if (!fresh.empty()) push_items(s.pair, fresh);
}

void sync_state::drop_items(item_drop& d) {
  if (d.partner) return;
  auto at = own_items.find(d.pair);
  if (at == own_items.end()) return;
  std::vector<std::string> gone;
  for (auto& id : d.node_ids)
    if (at->second.erase(id) > 0) gone.push_back(std::move(id));
  if (at->second.empty()) own_items.erase(at);
  if (!gone.empty()) push_gone(d.pair, gone);
}

void sync_state::forget_theirs(const std::string& pair, std::vector<std::string>&& node_ids) {
  if (node_ids.empty()) return;
  status.items_removed_received += node_ids.size();
  if (cfg.items_owner) self->send(cfg.items_owner, item_drop{pair, std::move(node_ids), true});
}

void sync_state::on_items(ps::sync_message&& m) {
  if (collecting) collected += m.items.size();
  auto& known = partner_items[m.pair];
  item_set out{m.pair, {}, true};
  for (auto& id : m.items) {
    auto [at, added] = known.try_emplace(id, partner_gen);
    at->second = partner_gen;
    if (added) out.node_ids.push_back(std::move(id));
  }
  if (out.node_ids.empty()) return;
  status.items_received += out.node_ids.size();
  if (cfg.items_owner) self->send(cfg.items_owner, std::move(out));
}

void sync_state::on_gone(ps::sync_message&& m) {
  auto at = partner_items.find(m.pair);
  if (at == partner_items.end()) return;
  std::vector<std::string> gone;
  for (auto& id : m.items)
    if (at->second.erase(id) > 0) gone.push_back(std::move(id));
  if (at->second.empty()) partner_items.erase(at);
  forget_theirs(m.pair, std::move(gone));
}

void sync_state::on_items_end(const ps::sync_message& m) {
  if (!collecting) return;
  collecting = false;
  // Fewer than the partner sent: an ITEMS was refused here. Forgetting now could end items
  // the partner still has; they are kept (until the next link-up's whole set).
  if (m.count != collected) return;
  for (auto at = partner_items.begin(); at != partner_items.end();) {
    std::vector<std::string> stale;
    for (auto it = at->second.begin(); it != at->second.end();) {
      if (it->second == partner_gen) {
        ++it;
        continue;
      }
      stale.push_back(it->first);
      it = at->second.erase(it);
    }
    forget_theirs(at->first, std::move(stale));
    at = at->second.empty() ? partner_items.erase(at) : std::next(at);
  }
}

void sync_state::start_session(const std::string& partner) {
  ++session;
  up = true;
  peer = partner;
  peer_ok = false;
  refused_sent = false;
  complaints = 0;
  failures = 0;
  for (auto& l : lanes) {
    l.live = {};
    l.live_count = 0;
    l.overflow = false;
  }
  push(ps::encode_hello(cfg.node_name));
  // A partner that never says HELLO (a Tandem without SYNC) is told, not waited for forever.
  self->delayed_send(self, cfg.pull_timeout, atom::pull_timeout_v, session, uint64_t{0});
  begin_pulls();
}

void sync_state::end_session(const std::string& why) {
  if (!up) return;
  bool was_pulling = status.state == "syncing" && peer_ok;
  ++session; // replies of this session are ignored from now on
  up = false;
  peer_ok = false;
  collecting = false;
  for (auto& l : lanes) {
    l.pulling = l.received = l.done = l.marks_in = false;
    l.request = 0;
    l.pages.clear();
    l.live = {};
    l.live_count = 0;
  }
  status.state = "not_synced";
  if (was_pulling) {
    status.last_error = "the link to " + peer + " went down during the pull (" + why + ")";
    report(severity::warning, "sync_failed", "sync with " + peer + " stopped: " + why);
  }
}

void sync_state::begin_pulls() {
  status.state = "syncing";
  started = self->clock().now();
  uint64_t s = session;
  for (size_t k = 0; k < kinds; ++k) {
    auto& l = lanes[k];
    l.absent = (k == 0 && !cfg.history) || (k == 1 && !cfg.alarms) || (k == 2 && !cfg.diagnostics);
    l.marks_in = l.pulling = l.received = false;
    l.done = l.absent;
    l.request = 0;
    l.pages.clear();
    l.overflow = false;
    l.pulled = l.merged = 0;
    l.cursor.clear();
    if (l.absent) continue;
    auto got = [this, s, k](std::vector<origin_mark>& marks) {
      if (s != session) return;
      auto& l = lanes[k];
      for (auto& m : marks)
        l.cursor[m.origin] = m.stamp;
      l.marks_in = true;
      maybe_pull();
    };
    auto failed = [this, s, k](caf::error& e) {
      if (s != session) return;
      fail(std::string("cannot read this node's ") + kind_name(k) + " marks: " + err_text(e));
    };
    if (k == 0)
      self->request(cfg.history, cfg.local_timeout, atom::marks_v).then(got, failed);
    else if (k == 1)
      self->request(cfg.alarms, cfg.local_timeout, atom::marks_v).then(got, failed);
    else
      self->request(cfg.diagnostics, cfg.local_timeout, atom::marks_v).then(got, failed);
  }
  check_done();
}

void sync_state::maybe_pull() {
  if (!up || !peer_ok) return;
  bool first = true;
  for (auto& l : lanes)
    if (l.pulling || l.received) first = false;
  for (size_t k = 0; k < kinds; ++k) {
    auto& l = lanes[k];
    if (l.absent || l.done || l.pulling || !l.marks_in) continue;
    if (first) {
      report(severity::info, "sync_started",
             "sync with " + peer + " started: pulling what this node lacks");
      first = false;
    }
    l.pulling = true;
    send_pull(k);
  }
  check_done(); // nothing to pull at all
}

void sync_state::send_pull(size_t k) {
  auto& l = lanes[k];
  l.request = ++next_request;
  std::vector<origin_mark> marks;
  marks.reserve(l.cursor.size());
  for (auto& [origin, stamp] : l.cursor)
    marks.push_back({origin, stamp});
  push(ps::encode_pull(l.request, kind_of(k), k == 1 ? 0 : cfg.page_rows, marks));
  self->delayed_send(self, cfg.pull_timeout, atom::pull_timeout_v, session, l.request);
}

void sync_state::fail(const std::string& why) {
  status.state = "not_synced";
  status.last_error = why;
  for (auto& l : lanes) {
    l.pulling = l.received = l.done = false;
    l.request = 0;
    l.pages.clear();
  }
  ++failures;
  auto delay = cfg.retry_delay * (1 << std::min(failures - 1, 4));
  report(severity::warning, "sync_failed",
         "sync with " + peer + " failed: " + why + "; trying again in " +
             std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(delay).count()) +
             " ms");
  if (up) self->delayed_send(self, delay, atom::retry_v, session);
}

void sync_state::on_hello(const ps::sync_message& m) {
  if (m.max_version < ps::min_sync_version || m.min_version > ps::sync_version) {
    std::string why = "the partner " + m.node + " speaks sync versions " +
                      std::to_string(m.min_version) + " to " + std::to_string(m.max_version) +
                      ", this node " + std::to_string(ps::min_sync_version) + " to " +
                      std::to_string(ps::sync_version) +
                      "; history, alarms and events are not "
                      "replicated";
    peer_ok = false;
    push(ps::encode_refuse(why));
    refused_sent = true;
    status.state = "not_synced";
    status.last_error = why;
    report(severity::error, "sync_refused", why);
    return;
  }
  peer_ok = true;
  peer_max = m.max_version;
  // A version-3 partner answers with its whole set of items and ITEMS_END.
  collecting = m.max_version >= ps::gone_version;
  collected = 0;
  if (collecting) ++partner_gen;
  // Every item this node's clients watch, so a partner that restarted knows them again, and
  // then ITEMS_END, so it forgets those that went while the link was down.
  uint64_t count = 0;
  for (const auto& [pair, ids] : own_items) {
    push_items(pair, std::vector<std::string>(ids.begin(), ids.end()));
    count += ids.size();
  }
  if (gone_ok()) push(ps::encode_items_end(count));
  maybe_pull();
}

void sync_state::serve(const ps::sync_message& m) {
  uint64_t s = session;
  uint64_t req = m.request;
  size_t k = lane_of(m.kind);
  auto failed = [this, s, req, k](caf::error& e) {
    if (s != session) return;
    push(ps::encode_error(req, std::string("cannot export ") + kind_name(k) + ": " + err_text(e)));
  };
  size_t taken = 0;
  if (lanes[k].absent) {
    // Nothing of this kind here: an empty last page.
    if (k == 0) push(ps::encode_history_page(req, {}, 0, false, cfg.max_page_bytes, taken));
    if (k == 1) push(ps::encode_alarm_page(req, {}, 0, false, cfg.max_page_bytes, taken));
    if (k == 2) push(ps::encode_event_page(req, {}, 0, false, cfg.max_page_bytes, taken));
    return;
  }
  uint64_t limit = std::clamp<uint64_t>(m.limit, 1, 100000);
  if (k == 0) {
    self->request(cfg.history, cfg.local_timeout, atom::export_rows_v, m.marks, limit)
        .then(
            [this, s, req](history_rows& r) {
              if (s != session) return;
              size_t n = 0;
              push(ps::encode_history_page(req, r.rows, 0, r.more, cfg.max_page_bytes, n));
            },
            failed);
  } else if (k == 1) {
    self->request(cfg.alarms, cfg.local_timeout, atom::export_rows_v, m.marks)
        .then(
            [this, s, req](std::vector<alarm>& v) {
              if (s != session) return;
              // Ascending per origin, so a page cut short leaves a cursor that misses nothing.
              std::sort(v.begin(), v.end(), [](const alarm& a, const alarm& b) {
                return std::tie(a.origin, a.stamp.term, a.stamp.seq) <
                       std::tie(b.origin, b.stamp.term, b.stamp.seq);
              });
              size_t n = 0;
              push(ps::encode_alarm_page(req, v, 0, false, cfg.max_page_bytes, n));
            },
            failed);
  } else {
    self->request(cfg.diagnostics, cfg.local_timeout, atom::export_rows_v, m.marks, limit)
        .then(
            [this, s, req](event_rows& r) {
              if (s != session) return;
              size_t n = 0;
              push(ps::encode_event_page(req, r.events, 0, r.more, cfg.max_page_bytes, n));
            },
            failed);
  }
}

void sync_state::on_page(ps::sync_message&& m) {
  size_t k = lane_of(m.kind);
  auto& l = lanes[k];
  if (!l.pulling || m.request != l.request) return; // an answer nobody waits for any more
  l.request = 0;
  size_t n = count_of(m);
  if (n == 0 && m.more) {
    // Nothing, and more to come: pulling again from the same cursor would never end.
    fail(std::string("the partner sent an empty ") + kind_name(k) + " page that says more");
    return;
  }
  l.pulled += n;
  // The cursor is what the pages brought, not the store's marks (a merge raises those).
  for (auto& r : m.rows)
    raise(l.cursor, r.origin, r.stamp);
  for (auto& a : m.alarms)
    raise(l.cursor, a.origin, a.stamp);
  for (auto& e : m.events)
    raise(l.cursor, e.node, data_epoch{0, e.seq});
  if (!m.more) l.received = true;
  if (n > 0) l.pages.push_back(std::move(m));
  pump(k);
  if (l.pulling && !l.received && l.request == 0 && l.pages.size() < 2) send_pull(k);
}

void sync_state::on_live(ps::sync_message&& m) {
  size_t k = lane_of(m.kind);
  auto& l = lanes[k];
  size_t n = count_of(m);
  if (n == 0 || l.absent) return;
  if (!l.done && l.live_count + n > cfg.max_live_buffer) {
    // Too much arrived during the pull: dropped here, still held by the partner, pulled again.
    l.overflow = true;
    l.live = {};
    l.live_count = 0;
    return;
  }
  if (!l.done && l.overflow) return;
  append(l.live, std::move(m));
  l.live_count += n;
  if (l.done) pump(k);
}

void sync_state::pump(size_t k) {
  auto& l = lanes[k];
  if (l.merging) return;
  ps::sync_message batch;
  bool page = false;
  if (!l.pages.empty()) {
    batch = std::move(l.pages.front());
    l.pages.erase(l.pages.begin());
    page = true;
  } else if (l.done && l.live_count > 0) {
    batch = std::move(l.live);
    l.live = {};
    l.live_count = 0;
  } else {
    if (l.pulling && l.received && !l.done) lane_complete(k);
    return;
  }
  l.merging = true;
  l.merging_session = session;
  uint64_t s = session;
  size_t n = count_of(batch);
  int64_t newest = 0;
  data_epoch stamp;
  for (auto& r : batch.rows) {
    newest = std::max(newest, r.recorded_ms);
    if (stamp < r.stamp) stamp = r.stamp;
  }
  for (auto& e : batch.events)
    newest = std::max(newest, e.time_ms);
  auto ok = [this, k, s, page, n, newest, stamp](uint64_t inserted) {
    merged(k, s, page, true, page ? inserted : n, "", newest, stamp);
  };
  auto failed = [this, k, s, page, newest, stamp](caf::error& e) {
    merged(k, s, page, false, 0, err_text(e), newest, stamp);
  };
  if (k == 0)
    self->request(cfg.history, cfg.local_timeout, atom::merge_v, std::move(batch.rows))
        .then(ok, failed);
  else if (k == 1)
    self->request(cfg.alarms, cfg.local_timeout, atom::merge_v, std::move(batch.alarms))
        .then(ok, failed);
  else
    self->request(cfg.diagnostics, cfg.local_timeout, atom::merge_v, std::move(batch.events))
        .then(ok, failed);
  // A page taken from the queue makes room for the next one.
  if (page && l.pulling && !l.received && l.request == 0 && l.pages.size() < 2) send_pull(k);
}

void sync_state::merged(size_t k, uint64_t s, bool page, bool ok, uint64_t n,
                        const std::string& error, int64_t newest, data_epoch newest_stamp) {
  auto& l = lanes[k];
  l.merging = false;
  if (s != session) {
    // Of a session that ended: what was sent is merged (or not) before anything of this one.
    pump(k);
    return;
  }
  if (!ok) {
    l.live = {};
    l.live_count = 0;
    fail(std::string("cannot merge the partner's ") + kind_name(k) + ": " + error);
    return;
  }
  if (page) {
    l.merged += n;
  } else {
    (k == 0 ? status.live_history : k == 1 ? status.live_alarms : status.live_events) += n;
    if (newest > 0 && k != 1 && cfg.wall_now)
      status.lag_ms = static_cast<double>(cfg.wall_now() - newest);
    if (cfg.on_live_merged) cfg.on_live_merged(k, newest_stamp);
  }
  pump(k);
}

void sync_state::lane_complete(size_t k) {
  auto& l = lanes[k];
  if (l.overflow) {
    // Live items were dropped while pulling: they are above the cursor, so one more round
    // fetches them.
    l.overflow = false;
    l.received = false;
    l.live = {};
    l.live_count = 0;
    send_pull(k);
    return;
  }
  l.done = true;
  l.pulling = false;
  pump(k); // what was kept aside
  check_done();
}

void sync_state::check_done() {
  if (!up || !peer_ok || status.state != "syncing") return;
  for (auto& l : lanes)
    if (!l.done) return;
  auto took = ms_since(started, self->clock().now());
  status.state = "synced";
  ++status.syncs;
  status.last_sync_ms = took;
  status.history = lanes[0].pulled;
  status.alarms = lanes[1].merged;
  status.events = lanes[2].pulled;
  status.last_error.clear();
  failures = 0;
  report(severity::info, "sync_done",
         "synced with " + peer + " in " + std::to_string(took) +
             " ms: " + std::to_string(lanes[0].pulled) + " history rows pulled (" +
             std::to_string(lanes[0].merged) + " new), " + std::to_string(lanes[1].pulled) +
             " alarms (" + std::to_string(lanes[1].merged) + " changed), " +
             std::to_string(lanes[2].pulled) + " events (" + std::to_string(lanes[2].merged) +
             " new)");
}

void sync_state::on_payload(sync_payload& p) {
  if (p.channel != ps::channel || !up) return;
  ps::sync_message m;
  bool version_refused = false;
  auto err = ps::decode(p.bytes, m, &version_refused);
  if (!err.empty()) {
    if (version_refused && !refused_sent) {
      refused_sent = true;
      push(ps::encode_refuse("this node (" + cfg.node_name + ") cannot read it: " + err));
    }
    if (complaints++ < 5)
      report(severity::warning, "sync_refused",
             "a sync message from " + peer + " was refused: " + err);
    status.last_error = err;
    bool pulling = false;
    for (auto& l : lanes)
      pulling = pulling || l.pulling;
    if (pulling) fail("the partner sent a message this node cannot read: " + err);
    return;
  }
  switch (m.type) {
  case ps::sync_type::hello:
    on_hello(m);
    break;
  case ps::sync_type::refuse: {
    peer_ok = false;
    status.state = "not_synced";
    status.last_error = "the partner refused: " + m.reason;
    for (auto& l : lanes) {
      l.pulling = l.received = l.done = false;
      l.request = 0;
      l.pages.clear();
    }
    report(severity::error, "sync_refused", "the partner " + peer + " refused sync: " + m.reason);
    break;
  }
  case ps::sync_type::pull:
    serve(m);
    break;
  case ps::sync_type::page:
    if (m.request == 0)
      on_live(std::move(m));
    else
      on_page(std::move(m));
    break;
  case ps::sync_type::items:
    on_items(std::move(m));
    break;
  case ps::sync_type::gone:
    on_gone(std::move(m));
    break;
  case ps::sync_type::items_end:
    on_items_end(m);
    break;
  case ps::sync_type::error:
    for (size_t k = 0; k < kinds; ++k)
      if (lanes[k].request == m.request && lanes[k].pulling) {
        fail(std::string("the partner could not serve the ") + kind_name(k) + " pull: " + m.reason);
        break;
      }
    break;
  }
}

sync_actor::behavior_type sync(sync_actor::stateful_pointer<sync_state> self, sync_config cfg) {
  auto& st = self->state;
  st.self = self;
  st.cfg = std::move(cfg);
  if (st.cfg.page_rows == 0) st.cfg.page_rows = 1;
  quit_with_parent(self, st.cfg.parent);
  auto me = caf::actor_cast<sync_actor>(self);
  if (st.cfg.history)
    self->send(st.cfg.history, atom::subscribe_v, caf::actor_cast<history_listener_actor>(me));
  if (st.cfg.alarms)
    self->send(st.cfg.alarms, atom::subscribe_v, caf::actor_cast<alarm_listener_actor>(me));
  if (st.cfg.diagnostics)
    self->send(st.cfg.diagnostics, atom::subscribe_v, caf::actor_cast<event_listener_actor>(me));
  return {
      // -- from the ELECTION -----------------------------------------------------------------
      [self](sync_payload& p) { self->state.on_payload(p); },
      [self](partner_up& u) { self->state.start_session(u.hello.node_name); },
      [self](partner_down& d) { self->state.end_session(d.text); },
      [self](node_role& r) { self->state.role = r.state; },
      [self](sync_link_actor& l) {
        auto& st = self->state;
        st.end_session("the partner link was replaced");
        st.link = l;
        // A SYNC restarted while the link is up hears of no partner_up: ask.
        uint64_t s = st.session;
        self->request(l, std::chrono::seconds(5), atom::status_v)
            .then(
                [self, s](partner_link_status& ls) {
                  auto& st = self->state;
                  if (s == st.session && !st.up && ls.link == "up" && !ls.partner.empty())
                    st.start_session(ls.partner);
                },
                [](caf::error&) {});
      },
      // -- console ---------------------------------------------------------------------------
      [self](atom::status) { return self->state.snapshot(); },
      // -- what this node stamps -------------------------------------------------------------
      [self](atom::history, std::vector<history_row>& rows) { self->state.push_rows(rows); },
      [self](atom::alarms, std::vector<alarm>& alarms) { self->state.push_alarms(alarms); },
      [self](diag_event& e) { self->state.push_event(e); },
      [self](item_set& s) { self->state.add_items(s); },
      [self](item_drop& d) { self->state.drop_items(d); },
      // -- restarted stores ------------------------------------------------------------------
      [self](history_actor& h) {
        auto& st = self->state;
        st.cfg.history = h;
        st.lanes[0].merging = false;
        self->send(h, atom::subscribe_v,
                   caf::actor_cast<history_listener_actor>(caf::actor_cast<sync_actor>(self)));
      },
      [self](alarms_actor& a) {
        auto& st = self->state;
        st.cfg.alarms = a;
        st.lanes[1].merging = false;
        self->send(a, atom::subscribe_v,
                   caf::actor_cast<alarm_listener_actor>(caf::actor_cast<sync_actor>(self)));
      },
      [self](diagnostics_actor& d) {
        auto& st = self->state;
        st.cfg.diagnostics = d;
        st.lanes[2].merging = false;
        self->send(d, atom::subscribe_v,
                   caf::actor_cast<event_listener_actor>(caf::actor_cast<sync_actor>(self)));
      },
      // -- timers ----------------------------------------------------------------------------
      [self](atom::retry, uint64_t s) {
        auto& st = self->state;
        if (s != st.session || !st.up || !st.peer_ok || st.status.state != "not_synced") return;
        st.begin_pulls();
      },
      [self](atom::pull_timeout, uint64_t s, uint64_t req) {
        auto& st = self->state;
        if (s != st.session) return;
        if (req == 0) {
          if (!st.up || st.peer_ok || st.status.state == "not_synced") return;
          st.status.state = "not_synced";
          st.status.last_error = "the partner " + st.peer +
                                 " has not answered SYNC's HELLO (a Tandem "
                                 "version without SYNC?); nothing is replicated";
          st.report(severity::warning, "sync_failed", st.status.last_error);
          return;
        }
        for (size_t k = 0; k < sync_state::kinds; ++k)
          if (st.lanes[k].pulling && st.lanes[k].request == req) {
            st.fail(std::string("the partner did not answer the ") + kind_name(k) +
                    " pull within " +
                    std::to_string(
                        std::chrono::duration_cast<std::chrono::milliseconds>(st.cfg.pull_timeout)
                            .count()) +
                    " ms");
            return;
          }
      },
  };
}

} // namespace tandem
