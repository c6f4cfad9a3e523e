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

void election_state::check_stall() {
  auto now = self->clock().now();
  auto late = now - last_tick - cfg.persist_every;
  if (last_tick == caf::actor_clock::time_point{} || late <= cfg.stall_tolerance) return;
  // Frozen from about one period after the last tick until now.
  auto frozen = std::chrono::duration_cast<std::chrono::milliseconds>(late);
  last_tick = now - cfg.persist_every; // counted once
  if (running_clock) running_since += frozen;
  report(severity::warning, "node_stalled",
         "this node did not run for " + std::to_string(frozen.count()) +
             " ms (stopped, paused or starved)" +
             (running_clock ? "; not counted as Running time" : ""));
  if (running_clock) logic->set_running_total(running_total());
}

void election_state::config_verdict(bool mismatch, bool repeat, const std::string& how) {
  if (mismatch && (repeat || !config_mismatch))
    report(severity::warning, "config_mismatch", "the partner " + partner_name + " " + how);
  else if (!mismatch && config_mismatch)
    report(severity::info, "config_matched",
           "the partner " + partner_name + " runs this node's configuration again");
  config_mismatch = mismatch;
}

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

void election_state::send_info() {
  election_message m;
  m.type = election_message::kind::info;
  m.application_uri = cfg.application_uri;
  m.config_text = cfg.config_text;
  m.client_sessions = cfg.client_sessions ? cfg.client_sessions() : -1;
  sessions_told = m.client_sessions;
  send_to_partner(m);
}

void election_state::tell_owner(const std::string& cause) {
  if (!cfg.owner) return;
  node_role r{to_string(logic->state()), cause, record.term};
  r.maintenance = logic->maintenance();
  if (has_partner_info) r.partner_application_uri = partner_info.application_uri;
  self->send(cfg.owner, std::move(r));
}

caf::typed_response_promise<std::string> election_state::wait_for(pending_reply::until what,
                                                                  std::string timeout_text) {
  auto rp = self->make_response_promise<std::string>();
  uint64_t id = next_pending++;
  pending.emplace(id, pending_reply{what, rp, std::move(timeout_text)});
  self->delayed_send(self, cfg.reply_timeout, atom::reply_due_v, id);
  return rp;
}

void election_state::settle_pending(bool link_down) {
  using until = pending_reply::until;
  for (auto it = pending.begin(); it != pending.end();) {
    auto& p = it->second;
    bool done = (p.what == until::running && logic->state() == node_state::running) ||
                (p.what == until::standby && logic->state() == node_state::standby) ||
                (p.what == until::link_up && logic->linked());
    if (done) {
      p.rp.deliver(std::string());
    } else if (link_down && p.what != until::link_up) {
      p.rp.deliver(std::string("the partner link went down before the handover finished; this "
                               "node is ") +
                   to_string(logic->state()));
    } else {
      ++it;
      continue;
    }
    it = pending.erase(it);
  }
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
    if (takeover) ++takeovers;
    report(takeover ? severity::warning : severity::info,
           s == node_state::running ? (takeover ? "takeover" : "node_running") : "node_standby",
           std::string("this node is ") + to_string(s) + " (" + a.cause + ")");
    // Availability first: it took over all the same, and says so.
    if (takeover && config_mismatch)
      report(severity::warning, "takeover_mismatched",
             "took over from " +
                 (partner_name.empty() ? std::string("the partner") : partner_name) +
                 ", whose configuration differs from this node's: check `verify` when it is back");
    tell_owner(a.cause);
    if (cfg.sync_sink) self->send(cfg.sync_sink, node_role{to_string(s), a.cause, record.term});
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
    send_to_partner(out);
  }
  if (a.become) settle_pending();
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
  if (has_partner_info && logic->linked()) s.partner_client_sessions = partner_info.client_sessions;
  s.takeovers = takeovers;
  return s;
}

election_actor::behavior_type election(election_actor::stateful_pointer<election_state> self,
                                       election_config cfg) {
  auto& st = self->state;
  st.self = self;
  st.cfg = std::move(cfg);
  st.logic.emplace(st.cfg.settings);
  if (st.cfg.restarted) st.logic->restarted();
  quit_with_parent(self, st.cfg.parent);
  // An orderly stop banks the Running time; the link goes with its ELECTION.
  self->set_exit_handler([self](caf::exit_msg& m) {
    auto& st = self->state;
    if (st.running_clock) st.persist();
    for (auto& [id, p] : st.pending)
      p.rp.deliver(std::string("the node is stopping"));
    st.pending.clear();
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
    if (st.link && st.cfg.sync_sink) self->send(st.cfg.sync_sink, sync_link_actor{st.link});
  }
  st.apply(st.logic->start());
  if (st.cfg.settings.role != config::role::independent)
    self->delayed_send(self, st.cfg.connection_wait, atom::wait_over_v);
  st.last_tick = self->clock().now();
  self->delayed_send(self, st.cfg.persist_every, atom::persist_v);
  return {
      [self](partner_up& u) {
        auto& st = self->state;
        st.check_stall();
        st.logic->set_running_total(st.running_total()); // judged on the time as of now
        st.partner_name = u.hello.node_name;
        st.partner_fault.clear();
        st.partner_digest = u.hello.config_digest;
        // Said at every link-up while it differs.
        st.config_verdict(
            !u.hello.config_digest.empty() && u.hello.config_digest != st.cfg.hello.config_digest,
            true,
            "runs another configuration (digest " + u.hello.config_digest.substr(0, 12) +
                ", this node " + st.cfg.hello.config_digest.substr(0, 12) +
                "); it still takes over when this node fails");
        st.report(severity::info, "partner_up",
                  "partner " + u.hello.node_name + " is " + to_string(u.hello.state));
        st.has_partner_info = false; // it says them again on this link
        st.apply(st.logic->partner_up(from_hello(u.hello.state), u.hello.running_total_ms,
                                      u.hello.maintenance, role_of(u.hello.role)));
        st.send_info();
        st.settle_pending();
        if (st.cfg.sync_sink) self->send(st.cfg.sync_sink, std::move(u)); // SYNC: link is up
      },
      [self](partner_down& d) {
        auto& st = self->state;
        st.logic->set_running_total(st.running_total()); // judged on the time as of now
        st.has_heartbeat = false;
        if (d.cause == partner_down_cause::untrusted) st.partner_fault = d.text;
        st.apply(d.lost ? st.logic->partner_lost() : st.logic->link_down());
        st.settle_pending(true);
        if (st.cfg.sync_sink) self->send(st.cfg.sync_sink, std::move(d)); // SYNC: link is down
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
        st.check_stall();
        std::string why;
        auto m = election_message::parse(std::string(p.bytes.begin(), p.bytes.end()), why);
        st.logic->set_running_total(st.running_total()); // judged on the time as of now
        if (!m) {
          st.report(severity::warning, "partner_message_refused",
                    "a message from the partner's election was refused: " + why);
          return;
        }
        if (m->type == election_message::kind::info) {
          bool uri_changed =
              !st.has_partner_info || st.partner_info.application_uri != m->application_uri;
          bool config_changed =
              st.has_partner_info && st.partner_info.config_text != m->config_text;
          st.partner_info = std::move(*m);
          st.has_partner_info = true;
          if (uri_changed) st.tell_owner("partner_info");
          if (config_changed && !st.cfg.config_text.empty()) {
            st.report(severity::info, "partner_config_changed",
                      "the partner " + st.partner_name + " now runs another configuration");
            st.config_verdict(st.partner_info.config_text != st.cfg.config_text, false,
                              "now runs another configuration; it still takes over when this "
                              "node fails (`verify` lists the differences)");
          }
          return;
        }
        st.apply(st.logic->received(*m));
      },
      // Both answer once the Running role has moved (or why it did not, in time).
      [self](atom::switch_to) -> caf::result<std::string> {
        auto& st = self->state;
        st.logic->set_running_total(st.running_total()); // judged on the time as of now
        auto a = st.logic->operator_switch();
        if (!a.error.empty()) return a.error;
        using until = election_state::pending_reply::until;
        bool running = st.logic->state() == node_state::running;
        auto rp = st.wait_for(running ? until::standby : until::running,
                              running ? "the partner did not take the Running role in time; this "
                                        "node is still Running"
                                      : "the partner did not hand the Running role over in time; "
                                        "this node is still Standby");
        st.apply(a);
        return rp;
      },
      [self](atom::maintenance, bool on) -> caf::result<std::string> {
        auto& st = self->state;
        st.logic->set_running_total(st.running_total()); // judged on the time as of now
        bool was_running = st.logic->state() == node_state::running;
        auto a = st.logic->set_maintenance(on);
        if (!a.error.empty()) return a.error;
        st.report(severity::info, "maintenance", std::string("maintenance ") + (on ? "on" : "off"));
        caf::typed_response_promise<std::string> rp;
        bool wait = on && was_running;
        if (wait)
          rp = st.wait_for(election_state::pending_reply::until::standby,
                           "maintenance is on, but the partner did not take the Running role in "
                           "time; this node is still Running and hands over when it can");
        st.apply(a);
        if (!a.become) st.tell_owner(on ? "maintenance" : "maintenance_off");
        if (st.link) {
          partner_hello h = st.cfg.hello;
          h.maintenance = on;
          st.cfg.hello = h;
          self->send(st.link, h);
        }
        if (wait) return rp;
        return std::string();
      },
      [self](atom::status) { return self->state.status(); },
      [self](atom::connect) -> caf::result<std::string> {
        auto& st = self->state;
        if (!st.link) return std::string("this node has no partner link");
        if (st.logic->linked()) return std::string();
        self->send(st.link, atom::connect_v);
        return st.wait_for(election_state::pending_reply::until::link_up, "");
      },
      [self](atom::verify) -> verify_result {
        auto& st = self->state;
        verify_result r;
        if (!st.logic->linked() || !st.has_partner_info) {
          r.error = st.logic->linked() ? "the partner has not sent its configuration yet"
                                       : "no partner is connected: nothing to compare with";
          return r;
        }
        if (st.partner_info.config_text.empty()) {
          r.error = "the partner does not send its configuration (an older Tandem version?)";
          return r;
        }
        r.differences =
            config::canonical_differences(st.cfg.config_text, st.partner_info.config_text);
        r.identical = r.differences.empty();
        return r;
      },
      [self](atom::reply_due, uint64_t id) {
        auto& st = self->state;
        auto it = st.pending.find(id);
        if (it == st.pending.end()) return;
        it->second.rp.deliver(it->second.timeout_text);
        st.pending.erase(it);
      },
      // -- SYNC and link faults (kept apart: a few lines) ----------------------------------------
      [self](fault& f) -> caf::result<std::string> {
        if (!self->state.link) return std::string("this node has no partner link");
        return self->delegate(self->state.link, std::move(f));
      },
      [self](sync_sink_actor& s) {
        self->state.cfg.sync_sink = s;
        if (self->state.link) self->send(s, sync_link_actor{self->state.link});
      },
      [self](atom::wait_over) {
        auto& st = self->state;
        st.logic->set_running_total(st.running_total()); // judged on the time as of now
        st.apply(st.logic->connection_wait_over());
      },
      [self](atom::persist) {
        auto& st = self->state;
        st.check_stall();
        st.last_tick = self->clock().now();
        if (st.running_clock) st.persist();
        st.logic->set_running_total(st.running_total());
        if (st.logic->linked() && st.cfg.client_sessions &&
            st.cfg.client_sessions() != st.sessions_told)
          st.send_info();
        self->delayed_send(self, st.cfg.persist_every, atom::persist_v);
      },
  };
}

} // namespace tandem
