#include "actors/http.hpp"

#include <algorithm>
#include <utility>

#include "caf/typed_event_based_actor.hpp"

#include "actors/json.hpp"
#include "actors/supervision.hpp"

namespace tandem {

using transports::http::metric_family;
using transports::http::metric_sample;

uint64_t monotonic_counters::operator()(const std::string& key, uint64_t raw) {
  auto& r = runs_[key];
  if (raw < r.last) r.base += r.last; // the source started again from 0
  r.last = raw;
  return r.base + raw;
}

namespace {

const char* const node_states[] = {"Running", "Standby", "Faulted", "Unknown", "Disconnected"};

metric_family family(std::string name, std::string type, std::string help) {
  return metric_family{std::move(name), std::move(help), std::move(type), {}};
}

void add(metric_family& f, double v, std::vector<std::pair<std::string, std::string>> labels = {}) {
  f.samples.push_back(metric_sample{std::move(labels), v});
}

} // namespace

std::vector<metric_family> node_metrics(const metrics_input& in, monotonic_counters& keep) {
  std::vector<metric_family> out;
  if (in.has_status) {
    const auto& s = in.status;
    auto info = family("tandem_node_info", "gauge", "This node: its name and role; always 1.");
    add(info, 1, {{"node", s.name}, {"role", s.role}});
    out.push_back(std::move(info));
    auto state = family("tandem_node_state", "gauge",
                        "This node's state: 1 for the current one, 0 for the others.");
    for (auto* w : node_states)
      add(state, s.state == w ? 1 : 0, {{"state", w}});
    out.push_back(std::move(state));
    auto up = family("tandem_node_uptime_seconds", "gauge", "Seconds since the node started.");
    add(up, static_cast<double>(s.uptime_ms) / 1000.0);
    out.push_back(std::move(up));
    auto maint = family("tandem_node_maintenance", "gauge", "1 while this node is in maintenance.");
    add(maint, s.maintenance ? 1 : 0);
    out.push_back(std::move(maint));

    auto failovers = family("tandem_pair_failovers_total", "counter",
                            "Switches of a pair's active server, by cause (docs/EVENTS.md).");
    auto active = family("tandem_pair_active_server", "gauge",
                         "1 for the server of a pair that is active now, 0 for the other.");
    auto healthy = family("tandem_pair_server_healthy", "gauge",
                          "1 while a server of a pair is connected and healthy.");
    auto level = family("tandem_pair_service_level", "gauge",
                        "The ServiceLevel the face reports for a pair (200-255 healthy, 2-199 "
                        "degraded, 1 no data, 0 maintenance).");
    auto items = family("tandem_pair_items", "gauge",
                        "Items the face's clients subscribe to through a pair.");
    auto forwarded =
        family("tandem_pair_notifications_forwarded_total", "counter",
               "Data change notifications of a pair's active server forwarded to the face.");
    for (const auto& p : s.pairs) {
      for (const auto& [cause, n] : p.failovers_by_cause)
        add(failovers, static_cast<double>(keep("failovers\n" + p.alias + "\n" + cause, n)),
            {{"pair", p.alias}, {"cause", cause}});
      add(active, p.active == "primary" ? 1 : 0, {{"pair", p.alias}, {"server", "primary"}});
      add(active, p.active == "secondary" ? 1 : 0, {{"pair", p.alias}, {"server", "secondary"}});
      add(healthy, p.primary.state == "connected" ? 1 : 0,
          {{"pair", p.alias}, {"server", "primary"}});
      add(healthy, p.secondary.state == "connected" ? 1 : 0,
          {{"pair", p.alias}, {"server", "secondary"}});
      add(level, p.service_level, {{"pair", p.alias}});
      add(items, static_cast<double>(p.items), {{"pair", p.alias}});
      add(forwarded, static_cast<double>(keep("forwarded\n" + p.alias, p.values_forwarded)),
          {{"pair", p.alias}});
    }
    for (auto* f : {&failovers, &active, &healthy, &level, &items, &forwarded})
      out.push_back(std::move(*f));

    if (s.notifier.enabled) {
      auto sent = family("tandem_mail_sent_total", "counter", "Notification mails sent.");
      add(sent, static_cast<double>(keep("mail_sent", s.notifier.sent)));
      auto failed = family("tandem_mail_failed_total", "counter",
                           "Notification mails given up (a notify_failed event each).");
      add(failed, static_cast<double>(keep("mail_failed", s.notifier.failed)));
      out.push_back(std::move(sent));
      out.push_back(std::move(failed));
    }
  }
  if (in.has_election && in.election.role != "independent") {
    const auto& e = in.election;
    auto link = family("tandem_partner_link_up", "gauge", "1 while the partner link is up.");
    add(link, e.link == "up" ? 1 : 0);
    out.push_back(std::move(link));
    auto pstate = family("tandem_partner_state", "gauge",
                         "The partner's state: 1 for the current one, 0 for the others.");
    for (auto* w : node_states)
      add(pstate, e.partner_state == w ? 1 : 0, {{"state", w}});
    out.push_back(std::move(pstate));
    auto match = family("tandem_partner_config_match", "gauge",
                        "1 when the partner's shared configuration matches this node's, 0 when "
                        "it differs; absent until the partner's is known.");
    if (!e.partner_config_digest.empty())
      add(match, e.partner_config_digest == e.config_digest ? 1 : 0);
    out.push_back(std::move(match));
    auto rtt = family("tandem_partner_heartbeat_rtt_seconds", "gauge",
                      "Round-trip time of the last heartbeat on the partner link.");
    if (e.rtt_ms >= 0) add(rtt, e.rtt_ms / 1000.0);
    out.push_back(std::move(rtt));
    auto age = family("tandem_partner_heartbeat_age_seconds", "gauge",
                      "Seconds since the last heartbeat from the partner.");
    if (e.last_heartbeat_ms_ago >= 0) add(age, static_cast<double>(e.last_heartbeat_ms_ago) / 1e3);
    out.push_back(std::move(age));
    auto takeovers = family("tandem_takeovers_total", "counter",
                            "Times this node became Running because the partner was lost.");
    add(takeovers, static_cast<double>(keep("takeovers", e.takeovers)));
    out.push_back(std::move(takeovers));
    if (in.has_sync) {
      const auto& y = in.sync;
      auto sstate = family("tandem_sync_state", "gauge",
                           "Whether this node holds what the partner recorded: 1 for the current "
                           "state (not_synced, syncing, synced), 0 for the others.");
      for (auto* w : {"not_synced", "syncing", "synced"})
        add(sstate, y.state == w ? 1 : 0, {{"state", w}});
      out.push_back(std::move(sstate));
      auto lag = family("tandem_sync_lag_seconds", "gauge",
                        "The last incrementally replicated row: merged here minus stamped on the "
                        "partner; no sample before the first.");
      if (y.lag_ms >= 0) add(lag, y.lag_ms / 1000.0);
      out.push_back(std::move(lag));
      auto syncs = family("tandem_syncs_total", "counter", "Pulls from the partner completed.");
      add(syncs, static_cast<double>(keep("syncs", y.syncs)));
      out.push_back(std::move(syncs));
      auto live = family("tandem_sync_live_rows_total", "counter",
                         "Rows received from the partner incrementally, by kind.");
      add(live, static_cast<double>(keep("live\nhistory", y.live_history)), {{"kind", "history"}});
      add(live, static_cast<double>(keep("live\nalarms", y.live_alarms)), {{"kind", "alarms"}});
      add(live, static_cast<double>(keep("live\nevents", y.live_events)), {{"kind", "events"}});
      out.push_back(std::move(live));
    }
    auto term = family("tandem_node_term", "gauge", "The data epoch's term of this node.");
    add(term, static_cast<double>(e.term));
    out.push_back(std::move(term));
  }
  if (in.has_counts) {
    auto ev = family("tandem_diagnostics_events_total", "counter",
                     "Diagnostics events recorded since the node started, by severity.");
    const auto& c = in.counts;
    add(ev, static_cast<double>(keep("events\ninfo", c.info)), {{"severity", "info"}});
    add(ev, static_cast<double>(keep("events\nwarning", c.warning)), {{"severity", "warning"}});
    add(ev, static_cast<double>(keep("events\nerror", c.error)), {{"severity", "error"}});
    add(ev, static_cast<double>(keep("events\ncritical", c.critical)), {{"severity", "critical"}});
    out.push_back(std::move(ev));
  }
  auto scrape = family("tandem_scrape_complete", "gauge",
                       "1 when every actor answered this scrape in time, 0 when some figures "
                       "are missing.");
  add(scrape, in.has_status && in.has_election && in.has_counts &&
                      (in.has_sync || in.election.role == "independent")
                  ? 1
                  : 0);
  out.push_back(std::move(scrape));
  return out;
}

namespace {

using http_ptr = http_actor::stateful_pointer<http_state>;

constexpr const char* json_type = "application/json";

std::string sse(const char* event, const nlohmann::json& data) {
  return std::string("event: ") + event + "\ndata: " + data.dump() + "\n\n";
}

/// Gathers the status and the ELECTION's view; calls `done(status or null, node or null)`.
template <class Done> void gather_status(http_ptr self, Done done) {
  struct acc {
    nlohmann::json status = nullptr;
    nlohmann::json node = nullptr;
    bool has_sync = false;
    sync_status sync;
    int pending = 3;
  };
  auto a = std::make_shared<acc>();
  auto finish = [a, done]() mutable {
    if (--a->pending != 0) return;
    // SYNC answers for itself, as in the console's `node`.
    if (a->has_sync && a->node.is_object() && a->node["partner"].is_object())
      add_sync(a->node, a->sync);
    done(std::move(a->status), std::move(a->node));
  };
  auto& cfg = self->state.cfg;
  self->request(cfg.node, cfg.request_timeout, atom::status_v)
      .then(
          [a, finish](node_status& s) mutable {
            a->status = to_json(s);
            finish();
          },
          [finish](caf::error&) mutable { finish(); });
  self->request(cfg.node, cfg.request_timeout, atom::node_info_v)
      .then(
          [a, finish](election_status& es) mutable {
            a->node = to_json(es);
            finish();
          },
          [finish](caf::error&) mutable { finish(); });
  self->request(cfg.node, cfg.request_timeout, atom::sync_v)
      .then(
          [a, finish](sync_status& s) mutable {
            a->sync = std::move(s);
            a->has_sync = true;
            finish();
          },
          [finish](caf::error&) mutable { finish(); });
}

void arm_tick(http_ptr self) {
  auto& st = self->state;
  if (st.ticking || st.streams.empty()) return;
  st.ticking = true;
  self->delayed_send(self, st.cfg.push_interval, atom::tick_v);
}

/// Sends every ready stream the status now (one refresh at a time; another after it when asked
/// for meanwhile).
void refresh_streams(http_ptr self) {
  auto& st = self->state;
  if (st.refreshing) {
    st.refresh_again = true;
    return;
  }
  if (st.streams.empty()) return;
  st.refreshing = true;
  gather_status(self, [self](nlohmann::json status, nlohmann::json node) {
    auto& st = self->state;
    st.refreshing = false;
    if (!status.is_null()) {
      auto text = sse("status", {{"status", std::move(status)}, {"node", std::move(node)}});
      for (auto& [id, s] : st.streams)
        if (s.ready) s.exchange->push(text);
    }
    if (st.refresh_again) {
      st.refresh_again = false;
      refresh_streams(self);
    }
  });
}

void start_stream(http_ptr self, std::shared_ptr<http_exchange> ex) {
  auto& st = self->state;
  ex->start_stream();
  auto id = ex->id();
  st.streams[id] = http_state::stream{ex, false, {}};
  if (!st.subscribed && st.cfg.diagnostics) {
    st.subscribed = true;
    self->send(st.cfg.diagnostics, atom::subscribe_v, caf::actor_cast<event_listener_actor>(self));
  }
  arm_tick(self);
  auto events = std::make_shared<std::vector<diag_event>>();
  auto send_snapshot = [self, id, events](nlohmann::json status, nlohmann::json node) {
    auto& st = self->state;
    auto it = st.streams.find(id);
    if (it == st.streams.end()) return; // closed meanwhile
    auto& s = it->second;
    nlohmann::json list = nlohmann::json::array();
    uint64_t last = 0;
    for (auto& e : *events) {
      list.push_back(to_json(e));
      last = std::max(last, e.seq);
    }
    s.exchange->push(sse(
        "snapshot", {{"status", std::move(status)}, {"node", std::move(node)}, {"events", list}}));
    for (auto& e : s.buffered)
      if (e.seq > last) s.exchange->push(sse("event", to_json(e)));
    s.buffered.clear();
    s.ready = true;
  };
  auto after_events = [self, send_snapshot]() mutable { gather_status(self, send_snapshot); };
  if (!st.cfg.diagnostics) return after_events();
  self->request(st.cfg.diagnostics, st.cfg.request_timeout, atom::events_v, uint64_t{100})
      .then(
          [events, after_events](std::vector<diag_event>& evs) mutable {
            *events = std::move(evs);
            after_events();
          },
          [after_events](caf::error&) mutable { after_events(); });
}

void answer_metrics(http_ptr self, std::shared_ptr<http_exchange> ex) {
  auto in = std::make_shared<metrics_input>();
  auto pending = std::make_shared<int>(4);
  auto finish = [self, ex, in, pending]() {
    if (--*pending != 0) return;
    auto families = node_metrics(*in, self->state.counters);
    ex->respond(200, transports::http::metrics_content_type,
                transports::http::render_metrics(families));
  };
  auto& cfg = self->state.cfg;
  self->request(cfg.node, cfg.request_timeout, atom::status_v)
      .then(
          [in, finish](node_status& s) {
            in->status = std::move(s);
            in->has_status = true;
            finish();
          },
          [finish](caf::error&) { finish(); });
  self->request(cfg.node, cfg.request_timeout, atom::node_info_v)
      .then(
          [in, finish](election_status& es) {
            in->election = std::move(es);
            in->has_election = true;
            finish();
          },
          [finish](caf::error&) { finish(); });
  self->request(cfg.node, cfg.request_timeout, atom::sync_v)
      .then(
          [in, finish](sync_status& s) {
            in->sync = std::move(s);
            in->has_sync = true;
            finish();
          },
          [finish](caf::error&) { finish(); });
  if (!cfg.diagnostics) return finish();
  self->request(cfg.diagnostics, cfg.request_timeout, atom::status_v)
      .then(
          [in, finish](event_counts& c) {
            in->counts = c;
            in->has_counts = true;
            finish();
          },
          [finish](caf::error&) { finish(); });
}

void handle(http_ptr self, http_request& req) {
  auto& cfg = self->state.cfg;
  auto ex = req.exchange;
  if (!ex) return;
  auto fail = [ex](caf::error& e) {
    ex->respond(503, json_type,
                error_json("the node did not answer: " + caf::to_string(e)).dump() + "\n");
  };
  switch (req.endpoint) {
  case http_endpoint::status:
    self->request(cfg.node, cfg.request_timeout, atom::status_v)
        .then([ex](node_status& s) { ex->respond(200, json_type, to_json(s).dump(2) + "\n"); },
              fail);
    return;
  case http_endpoint::events: {
    if (!cfg.diagnostics)
      return ex->respond(503, json_type, error_json("diagnostics are not running").dump() + "\n");
    self->request(cfg.diagnostics, cfg.request_timeout, atom::events_v, req.n)
        .then(
            [ex](std::vector<diag_event>& evs) {
              nlohmann::json list = nlohmann::json::array();
              for (auto& e : evs)
                list.push_back(to_json(e));
              ex->respond(200, json_type, nlohmann::json{{"events", list}}.dump(2) + "\n");
            },
            fail);
    return;
  }
  case http_endpoint::metrics:
    return answer_metrics(self, ex);
  case http_endpoint::stream:
    return start_stream(self, ex);
  }
}

} // namespace

http_actor::behavior_type http(http_actor::stateful_pointer<http_state> self,
                               http_actor_config cfg) {
  auto& st = self->state;
  st.self = self;
  st.cfg = std::move(cfg);
  quit_with_parent(self, st.cfg.parent);
  return {
      [self](http_request& req) { handle(self, req); },
      [self](atom::closed, uint64_t id) {
        auto& st = self->state;
        st.streams.erase(id);
        if (st.streams.empty() && st.subscribed) {
          st.subscribed = false;
          if (st.cfg.diagnostics)
            self->send(st.cfg.diagnostics, atom::unsubscribe_v,
                       caf::actor_cast<event_listener_actor>(self));
        }
      },
      [self](diag_event& e) {
        auto& st = self->state;
        if (st.streams.empty()) return;
        auto text = sse("event", to_json(e));
        for (auto& [id, s] : st.streams) {
          if (s.ready)
            s.exchange->push(text);
          else
            s.buffered.push_back(e);
        }
        // A failover, a takeover, a server lost: the tiles change now, not at the next tick.
        refresh_streams(self);
      },
      [self](diagnostics_actor& d) {
        auto& st = self->state;
        st.cfg.diagnostics = d;
        if (st.subscribed)
          self->send(d, atom::subscribe_v, caf::actor_cast<event_listener_actor>(self));
      },
      [self](atom::tick) {
        auto& st = self->state;
        st.ticking = false;
        if (st.streams.empty()) return;
        refresh_streams(self);
        arm_tick(self);
      },
  };
}

} // namespace tandem
