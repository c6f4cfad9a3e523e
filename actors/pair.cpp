#include "actors/pair.hpp"

#include <algorithm>
#include <mutex>
#include <optional>
#include <utility>

#include "caf/typed_event_based_actor.hpp"

#include "actors/history.hpp"
#include "actors/monitor.hpp"
#include "actors/opc_server.hpp"
#include "actors/supervision.hpp"
#include "transports/opcua/face/verify.hpp"

namespace tandem {

namespace {

using pair_ptr = pair_actor::stateful_pointer<pair_state>;

const char* cause_of(server_conn_state s) {
  switch (s) {
  case server_conn_state::lost:
    return "connection_lost";
  case server_conn_state::status_timeout:
    return "status_timeout";
  case server_conn_state::unhealthy:
    return "unhealthy";
  case server_conn_state::idle:
    return "disconnected";
  default:
    return "connecting";
  }
}

} // namespace

bool pair_state::condition_failing(int i) const {
  for (bool b : conditions[i])
    if (b) return true;
  return false;
}

void pair_state::monitor_face_items(const std::vector<item_spec>& items) {
  using config::pair_mode;
  for (int i = 0; i < 2; ++i) {
    std::vector<item_spec> specs = items;
    // Warm: items exist on both servers, but only the active one's report; the standby's
    // sample and queue, so a failover loses none of their changes.
    if (cfg.pair.mode == pair_mode::warm && i != active)
      for (auto& s : specs)
        s.mode = monitoring_mode::sampling;
    self->send(servers[i], atom::monitor_v, std::move(specs));
  }
}

caf::timespan pair_state::sweep_every() const {
  auto linger = std::chrono::milliseconds(cfg.pair.unused_item_linger_ms);
  return std::clamp<caf::timespan>(linger / 4, std::chrono::milliseconds(100),
                                   std::chrono::seconds(15));
}

uint32_t pair_state::sweeps_to_remove() const {
  auto every = std::chrono::duration_cast<std::chrono::milliseconds>(sweep_every()).count();
  auto n = (cfg.pair.unused_item_linger_ms + every - 1) / std::max<int64_t>(every, 1);
  return static_cast<uint32_t>(std::max<int64_t>(n, 1));
}

void pair_state::remove_face_items(const std::vector<uint32_t>& handles) {
  if (handles.empty()) return;
  for (auto h : handles) {
    face_items.erase(h);
    window[0].erase(h);
    window[1].erase(h);
    last_forwarded.erase(h);
    catch_up_after.erase(h);
  }
  for (auto& s : servers)
    self->send(s, atom::unmonitor_v, handles);
}

void pair_state::record(std::vector<item_update> forwarded,
                        const std::vector<item_update>& monitored) {
  if (!cfg.history || !cfg.pair.history || !recording()) return;
  // Item history: the values clients were given (after a failover: the catch-up, without what
  // was forwarded already) and the monitors' values of the active server.
  forwarded.insert(forwarded.end(), monitored.begin(), monitored.end());
  if (auto b =
          history_batch_of(cfg.pair.alias, std::move(forwarded), face_items, cfg.pair.monitors);
      !b.values.empty())
    self->send(cfg.history, std::move(b));
}

std::vector<item_update> pair_state::forward(int server, std::vector<item_update> updates) {
  if (!cfg.face) return {};
  // What is delivered is compacted to the front of `updates` and handed back in it.
  auto out = updates.begin();
  bool hot = cfg.pair.mode == config::pair_mode::hot;
  bool warm = cfg.pair.mode == config::pair_mode::warm;
  for (auto& u : updates) {
    if (u.handle >= monitor_handle_base || face_items.count(u.handle) == 0) continue;
    if (server == active && serving(active)) {
      if (warm && !catch_up_after.empty() && self->clock().now() >= catch_up_until)
        catch_up_after.clear();
      if (warm && !catch_up_after.empty()) {
        if (auto c = catch_up_after.find(u.handle); c != catch_up_after.end()) {
          if (u.source_time != 0 && u.source_time <= c->second) continue; // forwarded already
          catch_up_after.erase(c);
        }
      }
      if (hot || warm) last_forwarded[u.handle] = u.source_time;
      if (hot && u.source_time != 0) {
        // The standby's values up to this one are delivered now: its window keeps only what
        // is ahead of the stream (all a catch-up can use), so it stays a few values long and
        // a failover looks through little.
        auto& other = window[1 - server];
        if (auto w = other.find(u.handle); w != other.end())
          while (!w->second.empty() && w->second.front().source_time != 0 &&
                 w->second.front().source_time <= u.source_time)
            w->second.pop_front();
      }
      if (&*out != &u) *out = std::move(u);
      ++out;
    } else if (hot) {
      int64_t t = u.source_time;
      if (t != 0) { // delivered already from the active server: nothing to catch up
        auto last = last_forwarded.find(u.handle);
        if (last != last_forwarded.end() && t <= last->second) continue;
      }
      auto& w = window[server][u.handle];
      w.push_back(std::move(u));
      while (w.size() > max_window || (t != 0 && w.front().source_time < t - window_ticks()))
        w.pop_front();
    }
  }
  updates.erase(out, updates.end());
  values_forwarded += updates.size();
  if (!updates.empty()) cfg.face->deliver(updates);
  return updates;
}

void pair_state::update_face() {
  if (!cfg.face) return;
  cfg.face->set_active(serving(active) ? active : -1);
  cfg.face->set_service_level(static_cast<uint8_t>(service_level()));
  // The Tandem folder: what the console's `pairs` says, for SCADA alarms.
  pair_status st = status();
  opcua::pair_info info;
  info.mode = st.mode;
  info.active = st.active;
  info.primary_state = st.primary.state;
  info.secondary_state = st.secondary.state;
  info.failovers = static_cast<uint32_t>(failovers);
  if (has_last_failover) {
    info.last_failover_ms = last_failover.time_ms;
    info.last_failover_from = last_failover.from;
    info.last_failover_to = last_failover.to;
    info.last_failover_cause = last_failover.cause;
  }
  cfg.face->set_pair_info(info);
  // No server to take data from: clients see BadNoCommunication (with the last value) until
  // one comes back, except during a cold failover, while the standby is being connected.
  bool cold_switching = cfg.pair.mode == config::pair_mode::cold && cold_target != active &&
                        states[cold_target] != server_conn_state::lost;
  if (!serving(0) && !serving(1) && !cold_switching && !face_items.empty())
    cfg.face->set_all_bad(opcua::status::BadNoCommunication);
}

void pair_state::activate(int to, const std::string& cause) {
  if (to == active) return;
  int from = active;
  active = to;
  if (cfg.face) {
    update_face();
    std::vector<uint32_t> handles;
    for (const auto& [h, spec] : face_items)
      handles.push_back(h);
    std::sort(handles.begin(), handles.end());
    if (to < 0) {
      cfg.face->set_all_bad(opcua::status::BadNoCommunication);
    } else if (cfg.pair.mode == config::pair_mode::hot) {
      // The standby's changes the failed server never delivered, oldest first per item.
      std::vector<item_update> catch_up;
      for (auto& [h, w] : window[to]) {
        auto last = last_forwarded.find(h);
        for (auto& u : w)
          if (last == last_forwarded.end() || u.source_time > last->second) catch_up.push_back(u);
      }
      std::stable_sort(
          catch_up.begin(), catch_up.end(),
          [](const item_update& a, const item_update& b) { return a.source_time < b.source_time; });
      window[0].clear();
      window[1].clear();
      record(forward(to, std::move(catch_up)), {});
    } else if (cfg.pair.mode == config::pair_mode::warm && !handles.empty()) {
      // The new server reports what it queued while Sampling: drop what was forwarded already.
      catch_up_after.clear();
      for (const auto& [h, t] : last_forwarded)
        if (t != 0) catch_up_after.emplace(h, t);
      catch_up_until = self->clock().now() + catch_up_for;
      self->send(servers[to], atom::mode_v, handles, monitoring_mode::reporting);
      if (from >= 0) self->send(servers[from], atom::mode_v, handles, monitoring_mode::sampling);
    }
  }
  if (to >= 0) cold_target = to;
  failure_cause.clear();
  if (from >= 0 || to >= 0) {
    if (from >= 0) { // the first active server is no failover (a pair_active event)
      ++failovers;
      ++failovers_by_cause[cause];
    }
    has_last_failover = true;
    last_failover =
        failover_record{cfg.wall_now ? cfg.wall_now() : 0, which(from), which(to), cause};
    if (cfg.diagnostics) {
      std::string text =
          cfg.pair.alias + ": " +
          (from < 0 ? std::string("active server is now ") + which(to)
                    : std::string("failover from ") + which(from) + " to " + which(to)) +
          " (" + cause + (from >= 0 && !details[from].empty() ? ": " + details[from] : "") + ")";
      self->send(cfg.diagnostics, event_report{from < 0 ? severity::info : severity::warning,
                                               "pair/" + cfg.pair.alias,
                                               from < 0 ? "pair_active" : "failover", text});
    }
  }
  apply_mode();
}

void pair_state::apply_mode() {
  using config::pair_mode;
  auto mode = cfg.pair.mode;
  for (int i = 0; i < 2; ++i) {
    if (dormant()) {
      self->send(servers[i], atom::disconnect_v);
      continue;
    }
    if (mode == pair_mode::cold) {
      // The healthy active server, else the one being tried (alternating).
      int target = healthy(active) ? active : cold_target;
      if (i == target)
        self->send(servers[i], atom::connect_v);
      else
        self->send(servers[i], atom::disconnect_v);
    } else {
      self->send(servers[i], atom::connect_v);
    }
  }
}

void pair_state::evaluate(const std::string& cause) {
  if (dormant()) { // a cold standby waits for its node to become Running
    update_face();
    return;
  }
  // The operator's pin holds while the pinned server is healthy.
  if (pinned >= 0 && !healthy(pinned)) pinned = -1;
  int want = active;
  std::string why = cause;
  if (pinned >= 0) {
    want = pinned;
    if (why.empty()) why = "operator";
  } else if (healthy(active)) {
    want = active;
  } else if (healthy(active < 0 ? 0 : 1 - active) || (active < 0 && healthy(1))) {
    int other = active < 0 ? (healthy(0) ? 0 : 1) : 1 - active;
    bool primary_pending =
        states[0] == server_conn_state::connecting || states[0] == server_conn_state::idle;
    if (active < 0 && other == 1 && primary_grace && primary_pending) other = -1;
    want = other;
    if (why.empty())
      why = active < 0               ? "first_connection"
            : !failure_cause.empty() ? failure_cause
            : states[active] == server_conn_state::connected && condition_failing(active)
                ? "condition"
                : cause_of(states[active]);
  }
  if (want != active && want >= 0) activate(want, why);
  // Cold mode: the active server failed and the standby is not connected: connect it at once
  // (alternating with back-off starts only when it fails too).
  if (cfg.pair.mode == config::pair_mode::cold && active >= 0 && !healthy(active) &&
      cold_target == active && pinned < 0) {
    cold_target = 1 - active;
    apply_mode();
  }
  // Cold mode with nobody healthy: make sure someone is being tried.
  if (cfg.pair.mode == config::pair_mode::cold && !healthy(0) && !healthy(1)) {
    int target = cold_target;
    if (states[target] == server_conn_state::lost && alternate_delay.count() == 0) {
      alternate_delay = cfg.alternate_min;
      self->delayed_send(self, alternate_delay, atom::alternate_v, ++alternate_gen);
    }
  }
  // Return to the primary after it has been healthy for the settling time.
  if (cfg.pair.return_to_primary && pinned < 0 && active == 1 && healthy(0)) {
    if (!primary_settling) {
      primary_settling = true;
      self->delayed_send(self, std::chrono::milliseconds(cfg.pair.return_settle_ms), atom::settle_v,
                         ++settle_gen);
    }
  } else {
    primary_settling = false;
  }
  update_face();
}

int pair_state::role_cap() const {
  if (cfg.role.maintenance) return 0;
  if (cfg.role.running()) return 255;
  if (cfg.role.standby()) return 100;
  return 1; // Unknown: not yet decided
}

int pair_state::service_level() const {
  // OPC UA's bands: 1 no data, 2-199 degraded, 200-255 healthy.
  int level = 1;
  if (!healthy(active))
    level = serving(active) ? 50 : 1;
  else if (cfg.pair.mode == config::pair_mode::cold)
    level = 255;
  else
    level = healthy(1 - active) ? 255 : 150;
  return std::min(level, role_cap());
}

pair_status pair_state::status() const {
  pair_status s;
  s.alias = cfg.pair.alias;
  s.mode = config::to_string(cfg.pair.mode);
  s.active = which(active);
  s.service_level = service_level();
  auto word = [&](int i) {
    return states[i] == server_conn_state::connected && condition_failing(i) ? "unhealthy"
                                                                             : to_string(states[i]);
  };
  auto detail = [&](int i) {
    return states[i] == server_conn_state::connected && condition_failing(i)
               ? std::string("a monitor condition fails on it")
               : details[i];
  };
  s.primary = server_status{cfg.pair.primary, word(0), detail(0)};
  s.secondary = server_status{cfg.pair.secondary, word(1), detail(1)};
  s.has_last_failover = has_last_failover;
  s.last_failover = last_failover;
  s.failovers = failovers;
  s.failovers_by_cause = failovers_by_cause;
  s.items = face_items.size();
  s.values_forwarded = values_forwarded;
  return s;
}

pair_actor::behavior_type pair(pair_actor::stateful_pointer<pair_state> self,
                               pair_actor_config cfg) {
  auto& st = self->state;
  st.self = self;
  st.cfg = std::move(cfg);
  quit_with_parent(self, st.cfg.parent);
  auto& p = st.cfg.pair;
  for (int i = 0; i < 2; ++i) {
    opc_server_config sc;
    sc.name = p.alias + "/" + pair_state::which(i);
    sc.url = i == 0 ? p.primary : p.secondary;
    sc.status_interval = std::chrono::milliseconds(p.status_interval_ms);
    sc.status_timeout = std::chrono::milliseconds(p.status_timeout_ms);
    sc.min_service_level = static_cast<int32_t>(p.min_service_level);
    sc.publishing_ms = static_cast<double>(p.publishing_ms);
    sc.owner = caf::actor_cast<server_listener_actor>(self);
    sc.diagnostics = st.cfg.diagnostics;
    auto make = st.cfg.make_link;
    auto face = st.cfg.face;
    sc.make_link = [make, i, face](std::shared_ptr<opcua::link_events> ev) {
      auto link = make(i, std::move(ev));
      if (face && link) face->set_forwarder(i, link->forwarder());
      return link;
    };
    sc.parent = self->address(); // the servers end with the pair
    st.servers[i] = self->spawn(opc_server, std::move(sc));
  }
  if (!p.monitors.empty()) {
    monitor_config mc;
    mc.alias = p.alias;
    mc.conditions = p.monitors;
    mc.owner = caf::actor_cast<condition_listener_actor>(self);
    mc.parent = self->address();
    st.monitor = self->spawn(monitor, std::move(mc));
    for (int i = 0; i < 2; ++i) {
      st.conditions[i].assign(p.monitors.size(), false);
      // Conditions are evaluated on both servers, whatever the mode.
      self->send(st.servers[i], atom::monitor_v, monitor_items(p.monitors));
    }
  }
  if (st.cfg.face) {
    // Clients' items reach the pair as messages; the face outlives the actor, so it holds only
    // the actor's address.
    caf::actor_addr me = self->address();
    st.cfg.face->set_item_listener([me](std::vector<opcua::pair_space::wanted_item> items) {
      auto pair = caf::actor_cast<pair_actor>(me);
      if (!pair) return;
      std::vector<item_spec> specs;
      for (auto& w : items) {
        item_spec s;
        s.handle = w.handle;
        s.node_id = std::move(w.node_id);
        s.sampling_ms = 0; // every change the server has
        s.queue_size = 100;
        specs.push_back(std::move(s));
      }
      caf::anon_send(pair, atom::monitor_v, std::move(specs));
    });
    // Items this node's clients begin to watch: told to the partner node.
    st.cfg.face->set_client_listener([me](std::vector<std::string> node_ids) {
      if (auto pair = caf::actor_cast<pair_actor>(me))
        caf::anon_send(pair, item_set{{}, std::move(node_ids), false});
    });
    auto face = st.cfg.face;
    self->attach_functor([face] {
      face->set_item_listener(nullptr);
      face->set_client_listener(nullptr);
      face->set_active(-1);
      face->set_all_bad(opcua::status::BadNoCommunication);
    });
  }
  st.apply_mode();
  st.update_face();
  if (st.cfg.face && p.unused_item_linger_ms > 0)
    self->delayed_send(self, st.sweep_every(), atom::sweep_v);
  // The primary is preferred at start: the secondary waits for its first attempt.
  self->delayed_send(self,
                     std::chrono::milliseconds(std::max(p.status_timeout_ms, p.primary_wait_ms)),
                     atom::retry_v);
  return {
      [self](server_state_change& c) {
        auto& st = self->state;
        int i = st.server_index(c.server);
        if (i < 0) return;
        bool was = connected_like(st.states[i]);
        // Why the active server stopped being healthy, kept for the failover record (in cold
        // mode it is disconnected on purpose before the standby takes over).
        if (i == st.active && st.healthy(i) && c.state != server_conn_state::connected)
          st.failure_cause = cause_of(c.state);
        st.states[i] = c.state;
        st.details[i] = c.detail;
        if (st.monitor && was != connected_like(c.state)) {
          if (was)
            self->send(st.monitor, atom::disconnect_v, int32_t{i});
          else
            self->send(st.monitor, atom::connect_v, int32_t{i});
        }
        if (c.state == server_conn_state::connected) st.alternate_delay = caf::timespan{0};
        st.evaluate();
      },
      [self](server_data& d) {
        auto& st = self->state;
        int i = st.server_index(d.server);
        if (i < 0) return;
        // The monitors' values (few) are copied out; the clients' values (all the rest) move on
        // to the face and HISTORY.
        std::vector<item_update> monitored;
        for (auto& u : d.updates)
          if (u.handle >= monitor_handle_base) monitored.push_back(u);
        if (st.monitor && !monitored.empty()) self->send(st.monitor, pair_data{i, monitored});
        auto forwarded = st.forward(i, std::move(d.updates));
        if (i == st.active && st.serving(i)) st.record(std::move(forwarded), monitored);
      },
      [self](history_actor& h) { self->state.cfg.history = std::move(h); },
      [self](node_role& r) {
        auto& st = self->state;
        bool was_dormant = st.dormant();
        st.cfg.role = std::move(r);
        if (st.dormant() != was_dormant) {
          if (st.dormant() && st.active >= 0) {
            // Not a failover: the node stepped back, so its servers are let go.
            st.active = -1;
            if (st.cfg.diagnostics)
              self->send(st.cfg.diagnostics,
                         event_report{severity::info, "pair/" + st.cfg.pair.alias, "pair_idle",
                                      st.cfg.pair.alias +
                                          ": disconnected from both servers (cold standby)"});
          }
          st.apply_mode();
        }
        st.evaluate("");
      },
      [self](atom::monitor, std::vector<item_spec>& specs) {
        auto& st = self->state;
        std::vector<item_spec> fresh;
        for (auto& s : specs)
          if (s.handle < monitor_handle_base && st.face_items.emplace(s.handle, s).second)
            fresh.push_back(s);
        if (fresh.empty()) return;
        st.monitor_face_items(fresh);
      },
      [self](item_set& is) {
        auto& st = self->state;
        if (!is.partner) {
          // From the face: this node's clients began to watch them.
          is.pair = st.cfg.pair.alias;
          if (st.cfg.items_owner) self->send(st.cfg.items_owner, std::move(is));
          return;
        }
        if (!st.cfg.face) return;
        // Watched on the face without a client: the face asks for them (atom::monitor) like a
        // client's items, so they are monitored as the mode says.
        if (size_t refused = st.cfg.face->prewatch(is.node_ids); refused > 0 && st.cfg.diagnostics)
          self->send(st.cfg.diagnostics,
                     event_report{severity::warning, "pair/" + st.cfg.pair.alias, "items_refused",
                                  st.cfg.pair.alias + ": " + std::to_string(refused) +
                                      " of the partner's client items were refused (not a "
                                      "NodeId of these servers, or too many waiting)"});
      },
      [self](item_drop& d) {
        auto& st = self->state;
        if (d.partner && st.cfg.face) st.cfg.face->unprewatch(d.node_ids);
      },
      [self](atom::sweep) {
        auto& st = self->state;
        item_drop ended{st.cfg.pair.alias, {}, false};
        st.remove_face_items(
            st.cfg.face->collect_unwatched(st.sweeps_to_remove(), &ended.node_ids));
        if (!ended.node_ids.empty() && st.cfg.items_owner)
          self->send(st.cfg.items_owner, std::move(ended));
        self->delayed_send(self, st.sweep_every(), atom::sweep_v);
      },
      [self](atom::status) { return self->state.status(); },
      [self](atom::switch_to, std::string& to) -> switch_result {
        auto& st = self->state;
        int target = to == "primary"     ? 0
                     : to == "secondary" ? 1
                     : to.empty()        ? (st.active == 0 ? 1 : 0)
                                         : -2;
        auto refuse = [&](std::string why) {
          return switch_result{false, pair_state::which(st.active), std::move(why)};
        };
        if (target == -2) return refuse("switch to 'primary' or 'secondary', not '" + to + "'");
        if (!st.healthy(target))
          return refuse(std::string("the ") + pair_state::which(target) + " server of " +
                        st.cfg.pair.alias + " is " + to_string(st.states[target]) +
                        "; not switching to it");
        // Switching to the primary ends a pin; switching to the secondary pins it.
        st.pinned = target == 0 ? -1 : 1;
        st.primary_settling = false;
        if (target != st.active) st.activate(target, "operator");
        return switch_result{true, pair_state::which(st.active), ""};
      },
      [self](condition_report& r) {
        auto& st = self->state;
        int i = r.server == 1 ? 1 : 0;
        if (r.index < 0 || static_cast<size_t>(r.index) >= st.conditions[i].size()) return;
        st.conditions[i][r.index] = r.failing;
        if (r.failing) st.condition_text[i] = r.text;
        if (st.cfg.diagnostics)
          self->send(st.cfg.diagnostics,
                     event_report{r.failing ? severity::warning : severity::info,
                                  "pair/" + st.cfg.pair.alias,
                                  r.failing ? "condition_failing" : "condition_cleared", r.text});
        st.evaluate();
      },
      [self](fault& f) -> caf::result<std::string> {
        auto& st = self->state;
        if (f.kind == fault_kind::fire_condition) {
          if (!st.monitor)
            return std::string("pair " + st.cfg.pair.alias + " has no monitor conditions");
          return self->delegate(st.monitor, std::move(f), int32_t{st.active == 1 ? 1 : 0});
        }
        int i = f.server == "primary" ? 0 : f.server == "secondary" ? 1 : -1;
        if (i < 0) return std::string("expected 'primary' or 'secondary'");
        return self->delegate(st.servers[i], std::move(f));
      },
      [self](atom::settle, uint64_t gen) {
        auto& st = self->state;
        if (gen != st.settle_gen || !st.primary_settling) return;
        st.primary_settling = false;
        if (st.cfg.pair.return_to_primary && st.pinned < 0 && st.active == 1 && st.healthy(0))
          st.activate(0, "return_to_primary");
      },
      [self](atom::verify) -> caf::result<verify_result> {
        auto& st = self->state;
        if (!st.cfg.face)
          return verify_result{false, {}, "pair " + st.cfg.pair.alias + " has no OPC UA face"};
        auto rp = self->make_response_promise<verify_result>();
        uint64_t id = st.next_verify++;
        st.verifies[id] = rp;
        // Both walks run on the links' strands; the last one to finish reports to the actor.
        struct both {
          std::mutex m;
          std::array<std::optional<opcua::space_digest>, 2> d;
        };
        auto shared = std::make_shared<both>();
        caf::actor_addr me = self->address();
        for (int i = 0; i < 2; ++i) {
          opcua::walk_space(st.cfg.face->forwarder(i), 200000,
                            [shared, i, me, id](opcua::space_digest d) {
                              std::unique_lock<std::mutex> lock(shared->m);
                              shared->d[static_cast<size_t>(i)] = std::move(d);
                              if (!shared->d[0] || !shared->d[1]) return;
                              auto diff = opcua::compare_spaces(*shared->d[0], *shared->d[1]);
                              lock.unlock();
                              if (auto pair = caf::actor_cast<pair_actor>(me))
                                caf::anon_send(pair, atom::verify_v, id,
                                               verify_result{diff.empty(), std::move(diff), ""});
                            });
        }
        return rp;
      },
      [self](atom::verify, uint64_t id, verify_result& r) {
        auto& st = self->state;
        auto it = st.verifies.find(id);
        if (it == st.verifies.end()) return;
        it->second.deliver(std::move(r));
        st.verifies.erase(it);
      },
      [self](atom::retry) {
        self->state.primary_grace = false;
        self->state.evaluate();
      },
      [self](atom::alternate, uint64_t gen) {
        auto& st = self->state;
        if (gen != st.alternate_gen || st.healthy(0) || st.healthy(1) || st.dormant()) return;
        st.cold_target = 1 - st.cold_target;
        st.apply_mode();
        st.alternate_delay = std::min(st.alternate_delay * 2, st.cfg.alternate_max);
        self->delayed_send(self, st.alternate_delay, atom::alternate_v, ++st.alternate_gen);
      },
  };
}

} // namespace tandem
