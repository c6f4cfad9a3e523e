#include "actors/election.hpp"

#include "actors/supervision.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

namespace tandem {

namespace {

partner_state hello_state(node_state s) {
  switch (s) {
  case node_state::running:
    return partner_state::running;
  case node_state::standby:
    return partner_state::standby;
  case node_state::unknown:
    break;
  }
  return partner_state::unknown;
}

node_state from_hello(partner_state s) {
  switch (s) {
  case partner_state::running:
    return node_state::running;
  case partner_state::standby:
    return node_state::standby;
  default:
    return node_state::unknown;
  }
}

config::role role_of(partner_role r) {
  return r == partner_role::master   ? config::role::master
         : r == partner_role::backup ? config::role::backup
                                     : config::role::independent;
}

} // namespace

uint64_t election_state::running_total() const {
  uint64_t total = record.running_total_ms;
  if (running_clock) {
    auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(self->clock().now() - running_since)
            .count();
    if (ms > 0) total += static_cast<uint64_t>(ms);
  }
  return total;
}

void election_state::report(severity sev, const std::string& kind, const std::string& text) {
  if (cfg.diagnostics) self->send(cfg.diagnostics, event_report{sev, "election", kind, text});
}

void election_state::persist() {
  if (cfg.record_path.empty()) return;
  storage::role_record r = record;
  r.running_total_ms = running_total();
  std::string why;
  if (!storage::save_role_record(cfg.record_path, r, why))
    report(severity::error, "role_record_failed", "cannot store the role record: " + why);
}

void election_state::send_to_partner(const election_message& m) {
  if (!link) return;
  std::string text = m.encode();
  self->send(link, sync_payload{channel, std::vector<uint8_t>(text.begin(), text.end())});
}

void election_state::apply(const election_actions& a) {
  if (a.become) {
    node_state s = *a.become;
    // Running time: the clock runs while Running, and is banked on every change.
    if (running_clock) {
      record.running_total_ms = running_total();
      running_clock = false;
    }
    if (s == node_state::running) {
      running_since = self->clock().now();
      running_clock = true;
      ++record.term; // data recorded from now on carries a newer epoch
    }
    persist();
    logic->set_running_total(running_total());
    const bool takeover = s == node_state::running && a.cause == "partner_lost";
    report(takeover ? severity::warning : severity::info,
           s == node_state::running ? (takeover ? "takeover" : "node_running") : "node_standby",
           std::string("this node is ") + to_string(s) + " (" + a.cause + ")");
    if (cfg.owner) self->send(cfg.owner, node_role{to_string(s), a.cause, record.term});
    if (link) {
      partner_hello h = cfg.hello;
      h.state = hello_state(s);
      h.running_total_ms = running_total();
      h.maintenance = logic->maintenance();
      h.epoch.term = record.term;
      cfg.hello = h;
      self->send(link, h);
    }
  }
  for (const auto& m : a.to_partner) {
    election_message out = m;
    if (out.type == election_message::kind::state) out.running_total_ms = running_total();
    send_to_partner(out);
  }
}

election_status election_state::status() const {
  election_status s;
  s.name = cfg.node_name;
  s.role = config::to_string(cfg.settings.role);
  s.config_digest = cfg.hello.config_digest;
  s.partner_config_digest = partner_digest;
  s.state = to_string(logic->state());
  s.partner_state = logic->linked() ? to_string(logic->partner_state())
                    : (partner_name.empty() && partner_fault.empty()) ? "Disconnected"
                                                                      : "Faulted";
  if (!logic->linked()) s.partner_reason = partner_fault;
  s.partner_name = partner_name;
  s.link = logic->linked() ? "up" : "down";
  s.running_total_ms = running_total();
  s.term = record.term;
  s.maintenance = logic->maintenance();
  s.partner_maintenance = logic->partner_maintenance();
  if (has_heartbeat)
    s.last_heartbeat_ms_ago =
        std::chrono::duration_cast<std::chrono::milliseconds>(self->clock().now() - last_heartbeat)
            .count();
  if (has_heartbeat) s.rtt_ms = std::chrono::duration<double, std::milli>(rtt).count();
  return s;
}

election_actor::behavior_type election(election_actor::stateful_pointer<election_state> self,
                                       election_config cfg) {
  auto& st = self->state;
  st.self = self;
  st.cfg = std::move(cfg);
  st.logic.emplace(st.cfg.settings);
  quit_with_parent(self, st.cfg.parent);
  // An orderly stop banks the Running time; the link goes with its ELECTION.
  self->set_exit_handler([self](caf::exit_msg& m) {
    auto& st = self->state;
    if (st.running_clock) st.persist();
    if (st.link) self->send_exit(st.link, m.reason);
    self->quit(m.reason);
  });
  if (!st.cfg.record_path.empty()) {
    std::string why;
    if (!storage::load_role_record(st.cfg.record_path, st.record, why))
      st.report(severity::warning, "role_record_failed",
                "the role record was unreadable; starting with a fresh one: " + why);
  }
  st.logic->set_running_total(st.record.running_total_ms);
  if (st.cfg.make_link) {
    st.cfg.hello.running_total_ms = st.record.running_total_ms;
    st.cfg.hello.epoch.term = st.record.term;
    st.link = st.cfg.make_link(caf::actor_cast<partner_listener_actor>(self));
    if (st.link) self->send(st.link, st.cfg.hello);
  }
  st.apply(st.logic->start());
  if (st.cfg.settings.role != config::role::independent)
    self->delayed_send(self, st.cfg.connection_wait, atom::wait_over_v);
  self->delayed_send(self, st.cfg.persist_every, atom::persist_v);
  return {
      [self](partner_up& u) {
        auto& st = self->state;
        st.logic->set_running_total(st.running_total()); // judged on the time as of now
        st.partner_name = u.hello.node_name;
        st.partner_fault.clear();
        st.partner_digest = u.hello.config_digest;
        if (!u.hello.config_digest.empty() && u.hello.config_digest != st.cfg.hello.config_digest)
          st.report(severity::warning, "config_mismatch",
                    "the partner " + u.hello.node_name + " runs another configuration (digest " +
                        u.hello.config_digest.substr(0, 12) + ", this node " +
                        st.cfg.hello.config_digest.substr(0, 12) +
                        "); it still takes over when this node fails");
        st.report(severity::info, "partner_up",
                  "partner " + u.hello.node_name + " is " + to_string(u.hello.state));
        st.apply(st.logic->partner_up(from_hello(u.hello.state), u.hello.running_total_ms,
                                      u.hello.maintenance, role_of(u.hello.role)));
      },
      [self](partner_down& d) {
        auto& st = self->state;
        st.logic->set_running_total(st.running_total()); // judged on the time as of now
        st.has_heartbeat = false;
        if (d.cause == partner_down_cause::untrusted) st.partner_fault = d.text;
        st.apply(d.lost ? st.logic->partner_lost() : st.logic->link_down());
      },
      [self](partner_heartbeat& h) {
        auto& st = self->state;
        st.has_heartbeat = true;
        st.last_heartbeat = self->clock().now();
        st.rtt = h.rtt;
      },
      [self](sync_payload& p) {
        auto& st = self->state;
        if (p.channel != election_state::channel) {
          if (st.cfg.sync_sink) self->send(st.cfg.sync_sink, std::move(p));
          return;
        }
        std::string why;
        auto m = election_message::parse(std::string(p.bytes.begin(), p.bytes.end()), why);
        st.logic->set_running_total(st.running_total()); // judged on the time as of now
        if (!m) {
          st.report(severity::warning, "partner_message_refused",
                    "a message from the partner's election was refused: " + why);
          return;
        }
        st.apply(st.logic->received(*m));
      },
      [self](atom::switch_to) -> std::string {
        auto& st = self->state;
        st.logic->set_running_total(st.running_total()); // judged on the time as of now
        auto a = st.logic->operator_switch();
        if (!a.error.empty()) return a.error;
        st.apply(a);
        return "";
      },
      [self](atom::maintenance, bool on) -> std::string {
        auto& st = self->state;
        st.logic->set_running_total(st.running_total()); // judged on the time as of now
        auto a = st.logic->set_maintenance(on);
        if (!a.error.empty()) return a.error;
        st.report(severity::info, "maintenance", std::string("maintenance ") + (on ? "on" : "off"));
        st.apply(a);
        if (st.link) {
          partner_hello h = st.cfg.hello;
          h.maintenance = on;
          st.cfg.hello = h;
          self->send(st.link, h);
        }
        return "";
      },
      [self](atom::status) { return self->state.status(); },
      [self](atom::connect) {
        if (self->state.link) self->send(self->state.link, atom::connect_v);
      },
      [self](atom::wait_over) {
        auto& st = self->state;
        st.logic->set_running_total(st.running_total()); // judged on the time as of now
        st.apply(st.logic->connection_wait_over());
      },
      [self](atom::persist) {
        auto& st = self->state;
        if (st.running_clock) st.persist();
        st.logic->set_running_total(st.running_total());
        self->delayed_send(self, st.cfg.persist_every, atom::persist_v);
      },
  };
}

} // namespace tandem
