#include "actors/opc_server.hpp"

#include <algorithm>
#include <utility>

#include "caf/actor_cast.hpp"
#include "caf/send.hpp"
#include "caf/skip.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/monitor.hpp"

#include "actors/supervision.hpp"

namespace tandem {

namespace {

using srv_ptr = opc_server_actor::stateful_pointer<opc_server_state>;

/// Holds only a weak address, so the actor's own state does not keep it alive.
class actor_link_events : public opcua::link_events {
public:
  explicit actor_link_events(caf::actor_addr addr) : addr_(std::move(addr)) {}
  void up(link_up m) override { send(std::move(m)); }
  void down(link_down m) override { send(std::move(m)); }
  void status(status_reply m) override { send(std::move(m)); }
  void items(items_created m) override { send(std::move(m)); }
  void data(data_batch m) override { send(std::move(m)); }

private:
  template <class T> void send(T&& m) {
    if (auto a = caf::actor_cast<opc_server_actor>(addr_)) caf::anon_send(a, std::forward<T>(m));
  }
  caf::actor_addr addr_;
};

severity severity_of(server_conn_state s) {
  switch (s) {
  case server_conn_state::connected:
  case server_conn_state::idle:
  case server_conn_state::connecting:
    return severity::info;
  default:
    return severity::warning;
  }
}

const char* event_kind(server_conn_state s) {
  switch (s) {
  case server_conn_state::idle:
    return "server_idle";
  case server_conn_state::connecting:
    return "server_connecting";
  case server_conn_state::connected:
    return "server_connected";
  case server_conn_state::lost:
    return "server_lost";
  case server_conn_state::status_timeout:
    return "server_status_timeout";
  case server_conn_state::unhealthy:
    return "server_unhealthy";
  }
  return "server_state";
}

const char* server_state_name(int32_t s) {
  static const char* names[] = {"Running",  "Failed", "NoConfiguration",    "Suspended",
                                "Shutdown", "Test",   "CommunicationFault", "Unknown"};
  return s >= 0 && s <= 7 ? names[s] : "Unknown";
}

opc_server_actor::behavior_type make_behavior(srv_ptr self);

} // namespace

std::shared_ptr<opcua::link_events> make_actor_link_events(const opc_server_actor& target) {
  return std::make_shared<actor_link_events>(target.address());
}

void opc_server_state::set_state(server_conn_state s, std::string why) {
  if (s == state && why == detail) return;
  bool changed = s != state;
  state = s;
  detail = std::move(why);
  if (cfg.owner) self->send(cfg.owner, server_state_change{cfg.name, state, detail, service_level});
  // Connecting attempts are not worth an event each, nor is every failed retry: an event marks
  // a change of the outcome.
  if (changed && cfg.diagnostics && s != server_conn_state::connecting && s != last_event) {
    last_event = s;
    self->send(cfg.diagnostics, event_report{severity_of(s), "server/" + cfg.name, event_kind(s),
                                             cfg.name + " (" + cfg.url + "): " + to_string(s) +
                                                 (detail.empty() ? "" : ": " + detail)});
  }
}

void opc_server_state::start_connect() {
  ++generation;
  poll_outstanding = false;
  set_state(server_conn_state::connecting, "connecting to " + cfg.url);
  link->connect(generation);
}

void opc_server_state::on_status(const status_reply& r) {
  if (!r.ok) {
    set_state(server_conn_state::unhealthy, "status read failed: " + r.reason);
    return;
  }
  server_state = r.server_state;
  service_level = r.service_level;
  if (r.server_state != 0) {
    set_state(server_conn_state::unhealthy,
              std::string("ServerState is ") + server_state_name(r.server_state));
  } else if (cfg.min_service_level > 0 && r.service_level >= 0 &&
             r.service_level < cfg.min_service_level) {
    set_state(server_conn_state::unhealthy, "ServiceLevel " + std::to_string(r.service_level) +
                                                " is below " +
                                                std::to_string(cfg.min_service_level));
  } else {
    set_state(server_conn_state::connected, "");
  }
}

bool opc_server_state::silence_rule() const {
  return keep_alive_ms > 0 &&
         std::chrono::duration<double, std::milli>(keep_alive_ms) * 3 <= cfg.status_timeout;
}

void opc_server_state::heard() {
  last_heard = self->clock().now();
}

void opc_server_state::send_poll() {
  poll_outstanding = true;
  poll_sent = self->clock().now();
  ++poll;
  link->poll_status(generation, poll);
  self->delayed_send(self, cfg.status_timeout, atom::poll_timeout_v, poll);
}

server_snapshot opc_server_state::snapshot() const {
  server_snapshot s;
  s.server = cfg.name;
  s.url = cfg.url;
  s.state = state;
  s.service_level = service_level;
  s.server_state = server_state;
  s.reconnects = reconnects;
  s.detail = detail;
  for (auto& [h, sc] : item_results) {
    ++s.items;
    if (sc & 0x80000000u) ++s.items_failed;
  }
  return s;
}

namespace {

/// The silence check, due when the server will have been quiet for `quiet` (from last_heard).
void arm_silence(srv_ptr self, caf::timespan quiet) {
  auto& st = self->state;
  auto due = st.last_heard + quiet - self->clock().now();
  self->delayed_send(self, std::max(due, caf::timespan{std::chrono::milliseconds(1)}),
                     atom::silence_v, st.generation);
}

int64_t ms_of(caf::timespan t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t).count();
}

void arm_tick(srv_ptr self) {
  self->delayed_send(self, self->state.cfg.status_interval, atom::tick_v, self->state.generation);
}

std::vector<item_spec> all_items(const opc_server_state& st) {
  std::vector<item_spec> v;
  v.reserve(st.items.size());
  for (auto& [h, s] : st.items)
    v.push_back(s);
  return v;
}

opc_server_actor::behavior_type make_behavior(srv_ptr self) {
  return {
      // -- commands of the owner -------------------------------------------------
      [self](atom::connect) -> caf::result<void> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        st.want_connected = true;
        // A lost connection is already being retried on its back-off schedule.
        if (st.state == server_conn_state::idle ||
            (st.state == server_conn_state::lost && !st.retry_queued))
          st.start_connect();
        return caf::unit;
      },
      [self](atom::disconnect) -> caf::result<void> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        st.want_connected = false;
        if (st.state != server_conn_state::idle) {
          ++st.generation; // ignore whatever the old connection still reports
          st.link->disconnect();
          st.set_state(server_conn_state::idle, "disconnected on purpose");
        }
        return caf::unit;
      },
      [self](atom::monitor, std::vector<item_spec>& specs) -> caf::result<void> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        std::vector<item_spec> fresh;
        for (auto& s : specs) {
          auto it = st.items.find(s.handle);
          if (it == st.items.end()) fresh.push_back(s);
          st.items[s.handle] = s;
        }
        if (connected_like(st.state) && !fresh.empty())
          st.link->monitor(st.generation, std::move(fresh), st.cfg.publishing_ms);
        return caf::unit;
      },
      [self](atom::unmonitor, std::vector<uint32_t>& handles) -> caf::result<void> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        for (auto h : handles) {
          st.items.erase(h);
          st.item_results.erase(h);
        }
        if (connected_like(st.state)) st.link->unmonitor(st.generation, std::move(handles));
        return caf::unit;
      },
      [self](atom::mode, std::vector<uint32_t>& handles, monitoring_mode m) -> caf::result<void> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        for (auto h : handles) {
          auto it = st.items.find(h);
          if (it != st.items.end()) it->second.mode = m;
        }
        if (connected_like(st.state)) st.link->set_mode(st.generation, std::move(handles), m);
        return caf::unit;
      },
      [self](atom::status) -> caf::result<server_snapshot> {
        if (self->state.stalled) return caf::skip;
        return self->state.snapshot();
      },
      [self](fault& f) -> caf::result<std::string> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        switch (f.kind) {
        case fault_kind::drop_server:
          if (!connected_like(st.state)) return std::string(st.cfg.name + " is not connected");
          st.link->drop();
          return std::string{};
        case fault_kind::stall_server:
          st.server_stalled = true;
          self->delayed_send(self, std::chrono::milliseconds(f.ms), atom::stall_end_v);
          return std::string{};
        case fault_kind::stall_actor:
          st.stalled = true;
          self->delayed_send(self, std::chrono::milliseconds(f.ms), atom::stall_end_v);
          return std::string{};
        default:
          return std::string("a server connection cannot apply fault ") + to_string(f.kind);
        }
      },
      // -- reports of the link -----------------------------------------------------
      [self](link_up& m) -> caf::result<void> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        if (!st.current(m.generation) || st.server_stalled) return caf::unit;
        st.backoff = caf::timespan{0};
        st.heard();
        st.keep_alive_ms = 0; // publishing on this connection is yet to be seen
        arm_silence(self, st.cfg.status_timeout / 2);
        st.set_state(server_conn_state::connected, "");
        if (!st.items.empty()) st.link->monitor(st.generation, all_items(st), st.cfg.publishing_ms);
        self->send(self, atom::tick_v, st.generation); // first status poll at once
        return caf::unit;
      },
      [self](link_down& m) -> caf::result<void> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        if (!st.current(m.generation)) return caf::unit;
        ++st.generation; // the next attempt is a new connection
        st.poll_outstanding = false;
        st.set_state(server_conn_state::lost, m.reason);
        if (st.want_connected && !st.retry_queued) {
          st.backoff = st.backoff.count() == 0 ? st.cfg.backoff_min
                                               : std::min(st.backoff * 2, st.cfg.backoff_max);
          st.retry_queued = true;
          self->delayed_send(self, st.backoff, atom::retry_v, st.generation);
        }
        return caf::unit;
      },
      [self](status_reply& r) -> caf::result<void> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        if (!st.current(r.generation) || st.server_stalled || !connected_like(st.state))
          return caf::unit;
        if (r.poll == st.poll) st.poll_outstanding = false;
        st.heard();
        st.on_status(r);
        return caf::unit;
      },
      [self](items_created& m) -> caf::result<void> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        if (!st.current(m.generation)) return caf::unit;
        if (!st.server_stalled) st.heard();
        size_t failed = 0;
        std::string first;
        // Clients of the face learn why an item has no value (BadNodeIdUnknown...).
        server_data refused{st.cfg.name, {}};
        for (size_t i = 0; i < m.handles.size() && i < m.results.size(); ++i) {
          st.item_results[m.handles[i]] = m.results[i];
          if ((m.results[i] & 0x80000000u) && m.handles[i] < monitor_handle_base)
            refused.updates.push_back(item_update{m.handles[i], 0, m.results[i], {}});
          if (m.results[i] & 0x80000000u) {
            if (failed++ == 0) {
              auto it = st.items.find(m.handles[i]);
              first = (it != st.items.end() ? it->second.node_id : std::to_string(m.handles[i]));
            }
          }
        }
        if (!refused.updates.empty() && st.cfg.owner) self->send(st.cfg.owner, std::move(refused));
        if (failed > 0 && st.cfg.diagnostics)
          self->send(st.cfg.diagnostics,
                     event_report{severity::warning, "server/" + st.cfg.name, "items_failed",
                                  std::to_string(failed) + " of " +
                                      std::to_string(m.handles.size()) +
                                      " items could not be monitored on " + st.cfg.name +
                                      " (first: " + first + ")"});
        return caf::unit;
      },
      [self](data_batch& b) -> caf::result<void> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        if (!st.current(b.generation) || st.server_stalled) return caf::unit;
        st.heard();
        st.keep_alive_ms = b.keep_alive_ms;
        if (st.cfg.owner && !b.updates.empty())
          self->send(st.cfg.owner, server_data{st.cfg.name, std::move(b.updates)});
        return caf::unit;
      },
      // -- timers ------------------------------------------------------------------
      [self](atom::tick, uint64_t gen) -> caf::result<void> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        if (!st.current(gen) || !connected_like(st.state)) return caf::unit;
        if (!st.poll_outstanding) st.send_poll();
        arm_tick(self);
        return caf::unit;
      },
      [self](atom::poll_timeout, uint64_t poll) -> caf::result<void> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        if (poll != st.poll || !st.poll_outstanding || !connected_like(st.state)) return caf::unit;
        st.poll_outstanding = false;
        st.set_state(server_conn_state::status_timeout,
                     "no answer to the status poll within " +
                         std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            st.cfg.status_timeout)
                                            .count()) +
                         " ms");
        return caf::unit;
      },
      [self](atom::silence, uint64_t gen) -> caf::result<void> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        if (!st.current(gen)) return caf::unit; // a new connection arms its own
        const auto half = st.cfg.status_timeout / 2;
        const auto quiet = self->clock().now() - st.last_heard;
        if (!connected_like(st.state) || !st.silence_rule() || quiet < half) {
          arm_silence(self, quiet < half ? half : quiet + half);
          return caf::unit;
        }
        // Quiet for half the timeout: make sure a poll asks the server whether it is there.
        if (!st.poll_outstanding) st.send_poll();
        if (quiet < st.cfg.status_timeout || st.state != server_conn_state::connected) {
          arm_silence(self, quiet < st.cfg.status_timeout ? st.cfg.status_timeout : quiet + half);
          return caf::unit;
        }
        st.set_state(server_conn_state::status_timeout,
                     "nothing from the server for " + std::to_string(ms_of(quiet)) +
                         " ms (no data, no keep-alive), and the status poll sent " +
                         std::to_string(ms_of(self->clock().now() - st.poll_sent)) +
                         " ms ago is unanswered");
        arm_silence(self, quiet + half);
        return caf::unit;
      },
      [self](atom::retry, uint64_t) -> caf::result<void> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        st.retry_queued = false;
        if (st.want_connected && st.state == server_conn_state::lost) {
          ++st.reconnects;
          st.start_connect();
        }
        return caf::unit;
      },
      [self](atom::stall_end) {
        auto& st = self->state;
        if (st.stalled) {
          st.stalled = false;
          self->become(make_behavior(self));
        } else {
          st.server_stalled = false;
        }
      },
  };
}

} // namespace

opc_server_actor::behavior_type
opc_server(opc_server_actor::stateful_pointer<opc_server_state> self, opc_server_config cfg) {
  auto& st = self->state;
  st.self = self;
  st.cfg = std::move(cfg);
  quit_with_parent(self, st.cfg.parent);
  st.events = make_actor_link_events(caf::actor_cast<opc_server_actor>(self));
  st.link = st.cfg.make_link(st.events);
  return make_behavior(self);
}

} // namespace tandem
