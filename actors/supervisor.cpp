#include "actors/supervisor.hpp"

#include <algorithm>
#include <utility>

#include "caf/exit_reason.hpp"
#include "caf/skip.hpp"
#include "caf/system_messages.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/alarms.hpp"
#include "actors/console.hpp"
#include "actors/diagnostics.hpp"
#include "actors/election.hpp"
#include "actors/history.hpp"
#include "actors/http.hpp"
#include "actors/notifier.hpp"
#include "actors/pair.hpp"
#include "actors/partner_link.hpp"
#include "actors/sync.hpp"

namespace tandem {

namespace {

using sup_ptr = node_actor::stateful_pointer<supervisor_state>;

std::string known_targets(const supervisor_state& st) {
  std::string s = "supervisor, diagnostics, console";
  return s;
}

node_actor::behavior_type make_behavior(sup_ptr self);

} // namespace

void supervisor_state::report(severity sev, std::string kind, std::string text) {
  if (diag) self->send(diag, event_report{sev, name, std::move(kind), std::move(text)});
}

void supervisor_state::spawn_diagnostics() {
  diagnostics_config dc;
  dc.node_name = cfg.node.name;
  dc.max_events = static_cast<uint64_t>(cfg.diagnostics.max_events);
  dc.store = rt.events;
  dc.wall_now = rt.wall_now;
  dc.parent = self->address();
  diag = self->spawn<caf::monitored>(diagnostics, std::move(dc));
  if (console) self->send(console, diag);
  if (notifier) self->send(notifier, diag);
  if (alarms) self->send(alarms, diag);
  if (sync) self->send(sync, diag);
  if (http_api) self->send(http_api, diag);
}

void supervisor_state::spawn_history() {
  history_config hc;
  hc.node_name = cfg.node.name;
  hc.store = rt.history;
  hc.wall_now = rt.wall_now;
  hc.retention_ms = cfg.redundancy.history_retention_ms;
  hc.diagnostics = diag;
  hc.parent = self->address();
  history = self->spawn<caf::monitored>(tandem::history, std::move(hc));
  for (auto& [alias, p] : pairs)
    if (p) self->send(p, history);
  if (sync) self->send(sync, history);
}

void supervisor_state::spawn_alarms() {
  alarms_config ac;
  ac.node_name = cfg.node.name;
  ac.store = rt.alarms;
  ac.wall_now = rt.wall_now;
  ac.retention_ms = cfg.redundancy.history_retention_ms;
  ac.diagnostics = diag;
  ac.parent = self->address();
  alarms = self->spawn<caf::monitored>(tandem::alarms, std::move(ac));
  if (sync) self->send(sync, alarms);
}

void supervisor_state::spawn_sync() {
  sync_config sc;
  sc.node_name = cfg.node.name;
  sc.history = history;
  sc.alarms = alarms;
  sc.diagnostics = diag;
  sc.wall_now = rt.wall_now;
  sc.items_owner = caf::actor_cast<item_set_listener_actor>(self);
  sc.parent = self->address();
  sync = self->spawn<caf::monitored>(tandem::sync, std::move(sc));
  // The items this node's clients watch, and those watched for the partner (a restarted SYNC
  // starts without them, and the partner's whole set at the next link-up ends the stale ones).
  for (const auto& [alias, face] : rt.faces) {
    if (auto ids = face->client_items(); !ids.empty())
      self->send(sync, item_set{alias, std::move(ids), false});
    if (auto ids = face->partner_items(); !ids.empty())
      self->send(sync, item_set{alias, std::move(ids), true});
  }
}

static bool notifications_on(const config::node_config& cfg, const node_runtime& rt) {
  return !cfg.notifications.smtp_url.empty() && rt.mail_sender;
}

void supervisor_state::spawn_notifier() {
  notifier_config nc;
  nc.node_name = cfg.node.name;
  nc.notifications = cfg.notifications;
  nc.sender = rt.mail_sender;
  nc.wall_now = rt.wall_now;
  nc.diagnostics = diag;
  nc.parent = self->address();
  notifier = self->spawn<caf::monitored>(tandem::notifier, std::move(nc));
}

void supervisor_state::spawn_election() {
  election_config ec;
  ec.node_name = cfg.node.name;
  ec.settings.role = cfg.redundancy.node_role;
  ec.settings.recovery = cfg.redundancy.recovery;
  ec.settings.split_brain = cfg.redundancy.split_brain;
  ec.connection_wait = std::chrono::milliseconds(cfg.redundancy.connection_wait_ms);
  ec.record_path = cfg.node.data_dir.empty() ? "" : cfg.node.data_dir + "/role.json";
  ec.hello.node_name = cfg.node.name;
  ec.hello.role = cfg.redundancy.node_role == config::role::master ? partner_role::master
                                                                   : partner_role::backup;
  ec.hello.config_digest = config::shared_digest(cfg);
  ec.hello.face_port = rt.face_port;
  // The face's own address when it listens on one (not 0.0.0.0 / ::): the partner's death probe
  // then reaches it there, also when the link runs over another interface (link_bind).
  if (const auto& h = cfg.face.listen.host; h != "0.0.0.0" && h != "::" && !h.empty())
    ec.hello.face_host = h;
  ec.hello.start_time_ms = rt.wall_now ? rt.wall_now() : 0;
  ec.owner = caf::actor_cast<role_listener_actor>(self);
  ec.application_uri = cfg.face.application_uri;
  ec.config_text = config::shared_canonical_text(cfg);
  if (rt.client_sessions) {
    auto count = rt.client_sessions;
    ec.client_sessions = [count] { return static_cast<int64_t>(count()); };
  }
  ec.restarted = election_spawned; // a failed ELECTION comes back without recovery
  election_spawned = true;
  ec.diagnostics = diag;
  ec.parent = self->address();
  if (!sync) spawn_sync();
  ec.sync_sink = sync;
  if (rt.make_partner_transport) {
    auto make = rt.make_partner_transport;
    auto node_cfg = cfg;
    auto d = diag;
    caf::actor_system* sys = &self->system();
    partner_hello hello = ec.hello; // the ELECTION sends it the current one at once
    ec.make_link = [make, node_cfg, d, sys, hello](partner_listener_actor listener) {
      partner_link_config lc = partner_link_config_from(node_cfg);
      lc.hello = hello;
      lc.listener = listener;
      lc.diagnostics = d;
      lc.parent = listener.address(); // the link ends with its ELECTION
      lc.make_transport = [make, hello](std::shared_ptr<partner::link_events> ev) {
        return make(hello, std::move(ev));
      };
      return sys->spawn(partner_link, lc);
    };
  }
  election = self->spawn<caf::monitored>(tandem::election, std::move(ec));
}

void supervisor_state::spawn_console() {
  console_config cc;
  cc.fault_injection = cfg.debug.fault_injection;
  cc.node = caf::actor_cast<node_actor>(self);
  cc.diagnostics = diag;
  cc.parent = self->address();
  cc.pki = rt.pki;
  console = self->spawn<caf::monitored>(tandem::console, std::move(cc));
  if (rt.attach_console) rt.attach_console(console);
}

void supervisor_state::spawn_http() {
  http_actor_config hc;
  hc.node = caf::actor_cast<node_actor>(self);
  hc.diagnostics = diag;
  hc.parent = self->address();
  http_api = self->spawn<caf::monitored>(tandem::http, std::move(hc));
  if (rt.attach_http) rt.attach_http(http_api);
}

void supervisor_state::spawn_pair(const config::pair_section& p) {
  pair_actor_config pc;
  pc.pair = p;
  pc.diagnostics = diag;
  pc.wall_now = rt.wall_now;
  auto make = rt.make_link;
  pc.make_link = [make, p](int i, std::shared_ptr<opcua::link_events> ev) {
    return make(p, i, std::move(ev));
  };
  if (auto f = rt.faces.find(p.alias); f != rt.faces.end()) pc.face = f->second;
  pc.history = history;
  pc.role = role;
  pc.cold_standby = cfg.redundancy.node_role != config::role::independent &&
                    cfg.redundancy.standby == config::standby_mode::cold;
  pc.items_owner = caf::actor_cast<item_set_listener_actor>(self);
  pc.parent = self->address();
  pairs[p.alias] = self->spawn<caf::monitored>(pair, std::move(pc));
}

bool supervisor_state::child_ended(const caf::actor_addr& who, const caf::error& reason) {
  std::string child;
  const config::pair_section* ended_pair = nullptr;
  for (auto& [alias, a] : pairs)
    if (a && who == a.address())
      for (auto& p : cfg.pairs)
        if (p.alias == alias) ended_pair = &p;
  if (ended_pair) {
    child = "pair/" + ended_pair->alias;
    pairs[ended_pair->alias] = nullptr;
  } else if (diag && who == diag.address()) {
    child = "diagnostics";
    diag = nullptr;
  } else if (console && who == console.address()) {
    child = "console";
    console = nullptr;
  } else if (http_api && who == http_api.address()) {
    child = "http";
    http_api = nullptr;
  } else if (notifier && who == notifier.address()) {
    child = "notifier";
    notifier = nullptr;
  } else if (election && who == election.address()) {
    child = "election";
    election = nullptr;
  } else if (history && who == history.address()) {
    child = "history";
    history = nullptr;
  } else if (alarms && who == alarms.address()) {
    child = "alarms";
    alarms = nullptr;
  } else if (sync && who == sync.address()) {
    child = "sync";
    sync = nullptr;
  } else {
    return false;
  }
  if (shutting_down) return true;
  auto now = self->clock().now();
  auto& times = restarts[child];
  while (!times.empty() && now - times.front() > rt.restart_window)
    times.pop_front();
  std::string why = caf::to_string(reason);
  if (static_cast<int>(times.size()) >= rt.max_restarts) {
    faulted = true;
    // Diagnostics may be the one that failed; restart it once more so the event is recorded.
    if (!diag) spawn_diagnostics();
    report(severity::critical, "actor_failed",
           child + " failed (" + why + ") " + std::to_string(times.size() + 1) +
               " times within the restart window; not restarting it, node is Faulted");
    return true;
  }
  times.push_back(now);
  if (ended_pair)
    spawn_pair(*ended_pair);
  else if (child == "diagnostics")
    spawn_diagnostics();
  else if (child == "notifier")
    spawn_notifier();
  else if (child == "election")
    spawn_election();
  else if (child == "history")
    spawn_history();
  else if (child == "alarms")
    spawn_alarms();
  else if (child == "sync") {
    spawn_sync();
    if (election) self->send(election, sync_sink_actor{sync});
  } else if (child == "http")
    spawn_http();
  else
    spawn_console();
  report(severity::error, "actor_restarted", child + " failed (" + why + ") and was restarted");
  return true;
}

void supervisor_state::publish_redundancy() {
  using opcua::RedundancySupport;
  RedundancySupport support = RedundancySupport::Transparent;
  std::vector<std::string> uris;
  if (cfg.redundancy.node_role != config::role::independent) {
    // Two Tandem nodes are a non-transparent redundant set for OPC UA clients, which pick the
    // server with the highest ServiceLevel (Part 4 6.6.2).
    support = cfg.redundancy.standby == config::standby_mode::cold ? RedundancySupport::Cold
                                                                   : RedundancySupport::Warm;
    uris.push_back(cfg.face.application_uri);
    if (!role.partner_application_uri.empty()) uris.push_back(role.partner_application_uri);
  }
  for (auto& [alias, face] : rt.faces)
    if (face) face->set_redundancy(support, uris);
}

node_status supervisor_state::status() const {
  node_status s;
  s.name = cfg.node.name;
  s.role = config::to_string(cfg.redundancy.node_role);
  s.comment = cfg.node.comment;
  if (faulted)
    s.state = "Faulted";
  else if (cfg.redundancy.node_role == config::role::independent)
    s.state = "Running";
  else
    s.state = role.state.empty() ? "Unknown" : role.state; // the ELECTION's last word
  s.uptime_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(self->clock().now() - started).count();
  if (cfg.redundancy.node_role != config::role::independent && cfg.redundancy.partner) {
    s.has_partner = true;
    s.partner.address = cfg.redundancy.partner->text();
    s.partner.state = "Disconnected";
    s.partner.link = "down";
  }
  // The NOTIFIER answers for itself; this is what shows when it does not (or is not running).
  s.notifier.enabled = !cfg.notifications.smtp_url.empty();
  s.notifier.recipients = cfg.notifications.recipients.size();
  if (s.notifier.enabled && !notifier) s.notifier.last_error = "the notifier is not running";
  for (auto& p : cfg.pairs) {
    pair_status ps;
    ps.alias = p.alias;
    ps.mode = config::to_string(p.mode);
    ps.primary.url = p.primary;
    ps.secondary.url = p.secondary;
    s.pairs.push_back(std::move(ps));
  }
  return s;
}

namespace {

std::string route_fault(sup_ptr self, fault& f, bool& handled_here) {
  auto& st = self->state;
  handled_here = false;
  auto has_pair = [&](const std::string& alias) {
    return std::any_of(st.cfg.pairs.begin(), st.cfg.pairs.end(),
                       [&](auto& p) { return p.alias == alias; });
  };
  auto pair_list = [&] {
    std::string s;
    for (auto& p : st.cfg.pairs)
      s += (s.empty() ? "" : ", ") + p.alias;
    return s.empty() ? std::string("none") : s;
  };
  switch (f.kind) {
  case fault_kind::stall_actor:
    if (f.target == "supervisor" || f.target == "node") {
      handled_here = true;
      return {};
    }
    if (f.target == "diagnostics" || f.target == "console") return {};
    return "no actor '" + f.target + "'; known: " + known_targets(st);
  case fault_kind::fail_storage_write:
    return {};
  case fault_kind::drop_server:
  case fault_kind::stall_server:
  case fault_kind::fire_condition:
    if (!has_pair(f.target))
      return "no pair '" + f.target + "' on this node (pairs: " + pair_list() + ")";
    if (!st.pairs.count(f.target) || !st.pairs.at(f.target))
      return "pair '" + f.target + "' is not running";
    return {};
  case fault_kind::drop_link:
  case fault_kind::delay_link:
    if (st.cfg.redundancy.node_role == config::role::independent)
      return "this node has no partner link (redundancy.role is independent)";
    if (!st.election) return "the election (and with it the partner link) is not running";
    return {};
  }
  return "unknown fault";
}

void finish_shutdown(sup_ptr self) {
  auto& st = self->state;
  if (st.diag) self->send_exit(st.diag, caf::exit_reason::user_shutdown);
  if (st.console) self->send_exit(st.console, caf::exit_reason::user_shutdown);
  if (st.http_api) self->send_exit(st.http_api, caf::exit_reason::user_shutdown);
  if (st.notifier) self->send_exit(st.notifier, caf::exit_reason::user_shutdown);
  if (st.election) self->send_exit(st.election, caf::exit_reason::user_shutdown);
  if (st.history) self->send_exit(st.history, caf::exit_reason::user_shutdown);
  if (st.alarms) self->send_exit(st.alarms, caf::exit_reason::user_shutdown);
  if (st.sync) self->send_exit(st.sync, caf::exit_reason::user_shutdown);
  for (auto& [alias, p] : st.pairs)
    if (p) self->send_exit(p, caf::exit_reason::user_shutdown);
  self->quit();
}

node_actor::behavior_type make_behavior(sup_ptr self) {
  return {
      [self](atom::status) -> caf::result<node_status> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        // Pairs answer for themselves; what does not answer in time stays as configured.
        auto snapshot = std::make_shared<node_status>(st.status());
        auto pending = std::make_shared<size_t>(0);
        for (auto& ps : snapshot->pairs)
          if (st.pairs.count(ps.alias) && st.pairs[ps.alias]) ++*pending;
        if (st.notifier) ++*pending;
        if (st.election) ++*pending;
        if (*pending == 0) return *snapshot;
        auto rp = self->make_response_promise<node_status>();
        if (st.election) {
          auto done = [rp, snapshot, pending]() mutable {
            if (--*pending == 0) rp.deliver(*snapshot);
          };
          self->request(st.election, std::chrono::seconds(2), atom::status_v)
              .then(
                  [snapshot, done](election_status& es) mutable {
                    if (snapshot->state != "Faulted") snapshot->state = es.state;
                    snapshot->maintenance = es.maintenance;
                    snapshot->partner.name = es.partner_name;
                    snapshot->partner.state = es.partner_state;
                    snapshot->partner.link = es.link;
                    done();
                  },
                  [done](caf::error&) mutable { done(); });
        }
        if (st.notifier) {
          auto done = [rp, snapshot, pending]() mutable {
            if (--*pending == 0) rp.deliver(*snapshot);
          };
          self->request(st.notifier, std::chrono::seconds(2), atom::status_v)
              .then(
                  [snapshot, done](notifier_status& ns) mutable {
                    snapshot->notifier = std::move(ns);
                    done();
                  },
                  [done](caf::error&) mutable { done(); });
        }
        for (size_t i = 0; i < snapshot->pairs.size(); ++i) {
          auto it = st.pairs.find(snapshot->pairs[i].alias);
          if (it == st.pairs.end() || !it->second) continue;
          auto done = [rp, snapshot, pending]() mutable {
            if (--*pending == 0) rp.deliver(*snapshot);
          };
          self->request(it->second, std::chrono::seconds(2), atom::status_v)
              .then(
                  [snapshot, i, done](pair_status& ps) mutable {
                    snapshot->pairs[i] = std::move(ps);
                    done();
                  },
                  [done](caf::error&) mutable { done(); });
        }
        return rp;
      },
      // -- redundant nodes -------------------------------------------------------------------
      [self](node_role& r) {
        auto& st = self->state;
        st.role = std::move(r);
        // What this node records from now on carries the term it runs in.
        if (st.history) self->send(st.history, atom::epoch_v, st.role.term);
        if (st.alarms) self->send(st.alarms, atom::epoch_v, st.role.term);
        // The pairs act on it (recording, ServiceLevel, a cold standby's connections), and the
        // faces tell OPC UA clients which servers make up the redundant set.
        for (auto& [alias, pair] : st.pairs)
          if (pair) self->send(pair, st.role);
        st.publish_redundancy();
      },
      [self](item_set& is) {
        auto& st = self->state;
        if (!is.partner) {
          if (st.sync) self->send(st.sync, std::move(is));
        } else if (auto p = st.pairs.find(is.pair); p != st.pairs.end() && p->second) {
          self->send(p->second, std::move(is));
        }
      },
      [self](item_drop& d) {
        auto& st = self->state;
        if (!d.partner) {
          if (st.sync) self->send(st.sync, std::move(d));
        } else if (auto p = st.pairs.find(d.pair); p != st.pairs.end() && p->second) {
          self->send(p->second, std::move(d));
        }
      },
      [self](atom::node_info) -> caf::result<election_status> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        int64_t sessions =
            st.rt.client_sessions ? static_cast<int64_t>(st.rt.client_sessions()) : -1;
        if (!st.election) {
          election_status es;
          es.name = st.cfg.node.name;
          es.role = config::to_string(st.cfg.redundancy.node_role);
          es.config_digest = config::shared_digest(st.cfg);
          es.client_sessions = sessions;
          es.state = st.status().state;
          es.partner_state = "Disconnected";
          return es;
        }
        auto rp = self->make_response_promise<election_status>();
        self->request(st.election, std::chrono::seconds(5), atom::status_v)
            .then(
                [rp, sessions](election_status& es) mutable {
                  es.client_sessions = sessions;
                  rp.deliver(std::move(es));
                },
                [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
        return rp;
      },
      [self](atom::sync) -> caf::result<sync_status> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        if (!st.sync) return sync_status{};
        return self->delegate(st.sync, atom::status_v);
      },
      [self](atom::switch_to) -> caf::result<std::string> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        if (!st.election)
          return std::string("this node is independent (redundancy.role): it has no partner to "
                             "switch with; to switch a pair, give its alias: switch ALIAS");
        return self->delegate(st.election, atom::switch_to_v);
      },
      [self](atom::maintenance, bool on) -> caf::result<std::string> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        if (!st.election)
          return std::string("this node is independent (redundancy.role): maintenance hands the "
                             "Running role to a partner, and it has none");
        return self->delegate(st.election, atom::maintenance_v, on);
      },
      [self](atom::connect) -> caf::result<std::string> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        if (!st.election) return std::string("this node is independent: it has no partner link");
        return self->delegate(st.election, atom::connect_v);
      },
      [self](atom::verify) -> caf::result<verify_result> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        if (!st.election)
          return verify_result{false,
                               {},
                               "this node is independent (redundancy.role): it has no partner "
                               "to compare its configuration with; to compare a pair's servers, "
                               "give its alias: verify ALIAS"};
        return self->delegate(st.election, atom::verify_v);
      },
      [self](atom::switch_to, std::string& alias, std::string& to) -> caf::result<switch_result> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        auto it = st.pairs.find(alias);
        if (it == st.pairs.end() || !it->second) {
          std::string known;
          for (auto& p : st.cfg.pairs)
            known += (known.empty() ? "" : ", ") + p.alias;
          return switch_result{false, "none",
                               "no running pair '" + alias + "' on this node (pairs: " +
                                   (known.empty() ? std::string("none") : known) + ")"};
        }
        return self->delegate(it->second, atom::switch_to_v, std::move(to));
      },
      [self](atom::verify, std::string& alias) -> caf::result<verify_result> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        auto it = st.pairs.find(alias);
        if (it == st.pairs.end() || !it->second) {
          std::string known;
          for (auto& p : st.cfg.pairs)
            known += (known.empty() ? "" : ", ") + p.alias;
          return verify_result{false,
                               {},
                               "no running pair '" + alias + "' on this node (pairs: " +
                                   (known.empty() ? std::string("none") : known) + ")"};
        }
        return self->delegate(it->second, atom::verify_v);
      },
      [self](atom::notify_test, std::string& address) -> caf::result<notify_test_result> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        if (st.cfg.notifications.smtp_url.empty())
          return notify_test_result{false,
                                    "notifications are off on this node: set [notifications] "
                                    "smtp_url (smtp://host:587 or smtps://host:465) in its "
                                    "config to turn them on"};
        if (!st.notifier) return notify_test_result{false, "the notifier is not running"};
        return self->delegate(st.notifier, atom::notify_test_v, std::move(address));
      },
      [self](history_query& q) -> caf::result<history_values> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        auto pair = std::find_if(st.cfg.pairs.begin(), st.cfg.pairs.end(),
                                 [&](auto& p) { return p.alias == q.pair; });
        if (pair == st.cfg.pairs.end()) {
          std::string list;
          for (auto& p : st.cfg.pairs)
            list += (list.empty() ? "" : ", ") + p.alias;
          history_values r;
          r.error = "no pair '" + q.pair +
                    "' on this node (pairs: " + (list.empty() ? std::string("none") : list) + ")";
          return r;
        }
        if (!st.history) {
          history_values r;
          r.error = "item history is not running on this node";
          return r;
        }
        if (!pair->history) {
          // Values recorded before the key was set are still there: answer them, and say why
          // nothing new comes.
          auto rp = self->make_response_promise<history_values>();
          self->request(st.history, caf::infinite, std::move(q))
              .then([rp](history_values& v) mutable {
                v.note = "pair history = false in the configuration: this pair's values are "
                         "not recorded";
                rp.deliver(std::move(v));
              });
          return rp;
        }
        return self->delegate(st.history, std::move(q));
      },
      [self](atom::alarms, bool all) -> caf::result<alarm_list> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        if (!st.alarms) return alarm_list{{}, "alarms are not running on this node"};
        return self->delegate(st.alarms, atom::alarms_v, all);
      },
      [self](atom::ack, std::string& id) -> caf::result<alarm_list> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        if (!st.alarms) return alarm_list{{}, "alarms are not running on this node"};
        return self->delegate(st.alarms, atom::ack_v, std::move(id));
      },
      [self](fault& f) -> caf::result<std::string> {
        if (self->state.stalled) return caf::skip;
        bool here = false;
        auto err = route_fault(self, f, here);
        if (!err.empty()) return err;
        self->state.report(severity::warning, "fault_injected",
                           std::string("fault ") + to_string(f.kind) +
                               (f.target.empty() ? "" : " on " + f.target) + " injected");
        if (here) {
          self->state.stalled = true;
          self->delayed_send(self, std::chrono::milliseconds(f.ms), atom::stall_end_v);
          return std::string{};
        }
        if (f.kind == fault_kind::stall_actor && f.target == "console")
          return self->delegate(self->state.console, std::move(f));
        if (f.kind == fault_kind::drop_link || f.kind == fault_kind::delay_link)
          return self->delegate(self->state.election, std::move(f));
        if (f.kind == fault_kind::drop_server || f.kind == fault_kind::stall_server ||
            f.kind == fault_kind::fire_condition)
          return self->delegate(self->state.pairs.at(f.target), std::move(f));
        return self->delegate(self->state.diag, std::move(f));
      },
      [self](atom::shutdown) -> caf::result<void> {
        auto& st = self->state;
        if (st.stalled) return caf::skip;
        if (st.shutting_down) return caf::unit;
        st.shutting_down = true;
        if (st.rt.stop_accepting) st.rt.stop_accepting();
        st.report(severity::info, "node_stopping", "node " + st.cfg.node.name + " is stopping");
        if (st.console) self->send_exit(st.console, caf::exit_reason::user_shutdown);
        if (!st.diag) {
          finish_shutdown(self);
          return caf::unit;
        }
        self->request(st.diag, st.rt.flush_timeout, atom::flush_v)
            .then([self](uint64_t) { finish_shutdown(self); },
                  [self](caf::error&) { finish_shutdown(self); });
        return caf::unit;
      },
      [self](atom::stall_end) {
        self->state.stalled = false;
        self->become(make_behavior(self));
      },
  };
}

} // namespace

node_actor::behavior_type supervisor(node_actor::stateful_pointer<supervisor_state> self,
                                     config::node_config cfg, node_runtime rt) {
  auto& st = self->state;
  st.self = self;
  st.cfg = std::move(cfg);
  st.rt = std::move(rt);
  st.started = self->clock().now();
  // Children are monitored (see actors/supervision.hpp); their ends arrive here.
  self->set_down_handler(
      [self](caf::down_msg& dm) { self->state.child_ended(dm.source, dm.reason); });
  // An independent node is Running from the start; a master or backup is Unknown until its
  // ELECTION decides.
  if (st.cfg.redundancy.node_role == config::role::independent)
    st.role = node_role{"Running", "independent", 0};
  else
    st.role = node_role{"Unknown", "starting", 0};
  st.spawn_diagnostics();
  if (st.rt.history) st.spawn_history();
  if (st.rt.alarms) st.spawn_alarms();
  st.spawn_console();
  if (st.cfg.http.listen) st.spawn_http();
  if (notifications_on(st.cfg, st.rt)) st.spawn_notifier();
  if (st.cfg.redundancy.node_role != config::role::independent) st.spawn_election();
  if (st.rt.make_link)
    for (auto& p : st.cfg.pairs)
      st.spawn_pair(p);
  st.publish_redundancy();
  std::string text = "node " + st.cfg.node.name + " started (role " +
                     config::to_string(st.cfg.redundancy.node_role) + ", " +
                     std::to_string(st.cfg.pairs.size()) + " pair" +
                     (st.cfg.pairs.size() == 1 ? "" : "s") + ")";
  if (!st.cfg.source_path.empty()) text += " from " + st.cfg.source_path;
  st.report(severity::info, "node_started", text);
  for (auto& w : st.rt.startup_warnings)
    st.report(severity::warning, "config_warning", w);
  return make_behavior(self);
}

} // namespace tandem
