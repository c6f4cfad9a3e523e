#include "actors/partner_link.hpp"

#include <algorithm>
#include <utility>

#include "caf/actor_cast.hpp"
#include "caf/send.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/supervision.hpp"

namespace tandem {

namespace {

using link_ptr = partner_link_actor::stateful_pointer<partner_link_state>;

class actor_partner_events : public partner::link_events {
public:
  explicit actor_partner_events(caf::actor_addr addr) : addr_(std::move(addr)) {}
  void hello(pl_hello m) override { send(std::move(m)); }
  void up(pl_up m) override { send(std::move(m)); }
  void down(pl_down m) override { send(std::move(m)); }
  void heartbeat(pl_heartbeat m) override { send(std::move(m)); }
  void sync(pl_sync m) override { send(std::move(m)); }
  void probe(pl_probe m) override { send(std::move(m)); }

private:
  template <class T> void send(T&& m) {
    if (auto a = caf::actor_cast<partner_link_actor>(addr_)) caf::anon_send(a, std::forward<T>(m));
  }
  caf::actor_addr addr_;
};

int64_t ms(caf::timespan d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

std::string ms_text(caf::timespan d) {
  return std::to_string(ms(d)) + " ms";
}

const char* link_word(partner_link_state::link l) {
  switch (l) {
  case partner_link_state::link::down:
    return "down";
  case partner_link_state::link::connecting:
    return "connecting";
  case partner_link_state::link::handshake:
    return "handshake";
  case partner_link_state::link::up:
    return "up";
  }
  return "down";
}

} // namespace

std::shared_ptr<partner::link_events> make_partner_link_events(const partner_link_actor& target) {
  return std::make_shared<actor_partner_events>(target.address());
}

partner_link_config partner_link_config_from(const config::node_config& cfg) {
  auto& r = cfg.redundancy;
  partner_link_config c;
  c.dial = r.node_role == config::role::backup;
  if (r.partner) {
    c.partner = r.partner->text();
    c.partner_link_port = r.partner->port;
  }
  c.ping_interval = std::chrono::milliseconds(r.ping_interval_ms);
  c.ping_timeout = std::chrono::milliseconds(r.ping_timeout_ms);
  c.missed_pings = r.missed_pings;
  // A master that restarts waits connection_wait_ms for a Running backup: the backup's dialing
  // back-off must stay well inside that wait, or the master runs alone and a split brain follows.
  c.backoff_max = std::clamp<caf::timespan>(std::chrono::milliseconds(r.connection_wait_ms / 4),
                                            c.backoff_min, std::chrono::seconds(5));
  return c;
}

partner::tcp_link_options tcp_link_options_from(const config::node_config& cfg) {
  auto& r = cfg.redundancy;
  partner::tcp_link_options o;
  o.listen_host = r.listen.host;
  o.listen_port = r.listen.port;
  if (r.partner) {
    o.partner_host = r.partner->host;
    o.partner_port = r.partner->port;
  }
  o.bind_host = r.link_bind;
  // The handshake gets as long as the partner may stay silent while up.
  o.handshake_timeout = std::chrono::milliseconds(std::max<int64_t>(r.ping_timeout_ms, 1000));
  o.connect_timeout = std::chrono::milliseconds(std::max<int64_t>(r.ping_timeout_ms, 1000));
  return o;
}

uint64_t partner_link_state::now_ns() const {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(self->clock().now().time_since_epoch())
          .count());
}

void partner_link_state::event(severity sev, const char* kind, std::string text) {
  if (cfg.diagnostics)
    self->send(cfg.diagnostics, event_report{sev, "partner", kind, std::move(text)});
}

void partner_link_state::start() {
  auto err = transport->listen();
  if (!err.empty()) {
    // A restarted link may find its predecessor's socket not yet closed, or another program
    // may hold the port for a while: keep trying (the partner cannot dial this node meanwhile).
    event(severity::error, "partner_listen_failed", err + "; retrying");
    listen_backoff = cfg.backoff_min;
    self->delayed_send(self, listen_backoff, atom::relisten_v);
  }
  dialing_enabled = cfg.dial;
  if (dialing_enabled) dial_now();
}

void partner_link_state::dial_now() {
  if (state == link::up || dial_conn != 0) return;
  ++retry_gen; // a queued retry is now moot
  dial_conn = transport->dial();
  if (state == link::down) state = link::connecting;
}

void partner_link_state::schedule_retry() {
  if (!dialing_enabled || state == link::up || dial_conn != 0) return;
  backoff = backoff.count() == 0 ? cfg.backoff_min : std::min(backoff * 2, cfg.backoff_max);
  self->delayed_send(self, backoff, atom::retry_v, ++retry_gen);
}

void partner_link_state::report_failure(partner_down_cause cause, const std::string& text) {
  if (text == last_failure) return;
  last_failure = text;
  last_down = std::string(to_string(cause)) + ": " + text;
  if (cfg.listener) self->send(cfg.listener, partner_down{cause, false, text, ""});
  if (cause == partner_down_cause::untrusted)
    event(severity::error, "certificate_untrusted", text);
  else
    event(severity::warning, "partner_refused", text);
}

void partner_link_state::on_hello(pl_hello& m) {
  auto refuse = [&](const std::string& reason) {
    refused.insert(m.conn);
    transport->refuse(m.conn, reason);
    event(severity::warning, "partner_refused",
          "refused " + std::string(m.inbound ? "a connection from " : "the connection to ") +
              m.hello.node_name + ": " + reason);
  };
  if (m.hello.node_name == cfg.hello.node_name)
    return refuse("the partner has this node's own name " + m.hello.node_name +
                  " (a node connected to itself?)");
  if (m.hello.role == cfg.hello.role)
    return refuse(std::string("both nodes are configured as ") +
                  (cfg.hello.role == partner_role::master ? "master" : "backup") +
                  " (redundancy.role): one must be master and the other backup");
  if (state == link::up || (accepted_conn != 0 && accepted_conn != m.conn)) {
    std::string other =
        state == link::up ? peer.node_name : std::string("a partner in its handshake");
    return refuse("another partner is connected: " + other);
  }
  accepted_conn = m.conn;
  peer = m.hello;
  has_peer = true;
  state = link::handshake;
  transport->accept(m.conn);
}

void partner_link_state::on_up(pl_up& m) {
  if (m.conn != accepted_conn) return; // cannot happen: up follows accept
  if (probe_conn != 0) {
    // Back before the death probe of the previous link answered: that link's end is told first.
    probe_conn = 0;
    last_down = "closed: " + probe_text;
    if (cfg.listener)
      self->send(cfg.listener,
                 partner_down{partner_down_cause::closed, false, probe_text, peer.node_name});
  }
  bool was_dial = m.conn == dial_conn;
  accepted_conn = 0;
  if (was_dial) dial_conn = 0;
  up_conn = m.conn;
  state = link::up;
  inbound = !was_dial;
  remote_host = m.remote_host;
  remote_port = m.remote_port;
  backoff = caf::timespan{0};
  ++retry_gen; // no retry pending while up
  ++down_gen;  // the heartbeat-rule deadline of an earlier close is moot
  last_failure.clear();
  ++gen;
  hb_seq = 0;
  hb_outstanding = false;
  missed = 0;
  last_rx = self->clock().now();
  has_rx = true;
  has_rtt = false;
  // The partner's HELLO was the one reported with the hello of this conn.
  if (cfg.listener)
    self->send(cfg.listener,
               partner_up{peer, remote_host + ":" + std::to_string(remote_port), inbound});
  event(severity::info, "partner_connected",
        "partner " + peer.node_name + " (" + to_string(peer.role) + ", " + to_string(peer.state) +
            ") connected " + (inbound ? "from " : "to ") + remote_host + ":" +
            std::to_string(remote_port));
  confirming = false;
  self->send(self, atom::heartbeat_v, gen); // first heartbeat at once
  arm_silence(cfg.ping_timeout);
}

void partner_link_state::link_gone(partner_down_cause cause, bool lost, std::string text) {
  ++gen; // stops heartbeat and silence timers of the old link
  up_conn = 0;
  state = link::down;
  hb_outstanding = false;
  ++reconnects;
  last_down = std::string(to_string(cause)) + ": " + text;
  if (cfg.listener) self->send(cfg.listener, partner_down{cause, lost, text, peer.node_name});
  event(severity::warning, lost ? "partner_lost" : "partner_disconnected",
        "partner " + peer.node_name + (lost ? " lost: " : " disconnected: ") + text);
  if (!lost) arm_lost_deadline();
  schedule_retry();
}

void partner_link_state::arm_lost_deadline() {
  // The heartbeat rule goes on without a link: the partner is lost when it would have been,
  // counted from the last frame received.
  auto by_silence = cfg.ping_timeout;
  auto by_missed = cfg.ping_interval * cfg.missed_pings;
  auto limit = std::min(by_silence, by_missed);
  auto elapsed = self->clock().now() - last_rx;
  auto wait = limit > elapsed ? limit - elapsed : caf::timespan{0};
  self->delayed_send(self, wait, atom::lost_after_v, ++down_gen);
}

void partner_link_state::on_lost_after(uint64_t g) {
  if (g != down_gen || state == link::up) return;
  bool silence = cfg.ping_timeout <= cfg.ping_interval * cfg.missed_pings;
  auto cause = silence ? partner_down_cause::heartbeat_timeout : partner_down_cause::missed_pings;
  auto text = "nothing from " + peer.node_name + " for " + ms_text(self->clock().now() - last_rx) +
              " and the link is not back (" +
              (silence ? "ping_timeout_ms " + ms_text(cfg.ping_timeout)
                       : std::to_string(cfg.missed_pings) + " missed pings") +
              ")";
  last_down = std::string(to_string(cause)) + ": " + text;
  if (cfg.listener) self->send(cfg.listener, partner_down{cause, true, text, peer.node_name});
  event(severity::warning, "partner_lost", "partner " + peer.node_name + " lost: " + text);
}

void partner_link_state::on_down(pl_down& m) {
  if (m.conn == up_conn && state == link::up) {
    if (m.abrupt && peer.face_port != 0 && cfg.partner_link_port != 0 && !remote_host.empty()) {
      // EOF/RST/error: a dead process closes its sockets. Ask its ports before telling.
      ++gen;
      up_conn = 0;
      state = link::down;
      probe_conn = m.conn;
      probe_text = m.text;
      transport->probe(m.conn, remote_host, cfg.partner_link_port, peer.face_host, peer.face_port);
      return;
    }
    return link_gone(m.cause, false, m.text);
  }
  if (refused.erase(m.conn) > 0) {
    if (m.conn == dial_conn) {
      dial_conn = 0;
      if (state != link::up && accepted_conn == 0) state = link::down;
      schedule_retry();
    }
    return; // written when this node refused it
  }
  bool candidate = m.conn == accepted_conn || m.conn == dial_conn;
  if (m.conn == accepted_conn) accepted_conn = 0;
  if (m.conn == dial_conn) dial_conn = 0;
  if (m.cause == partner_down_cause::refused || m.cause == partner_down_cause::version_mismatch ||
      m.cause == partner_down_cause::protocol_error || m.cause == partner_down_cause::untrusted) {
    if (state == link::up) {
      // A stranger (or a second partner) failed its handshake; the link stays up.
      if (m.cause == partner_down_cause::untrusted)
        event(severity::error, "certificate_untrusted", m.text);
      else
        event(severity::warning, "partner_refused", m.text);
    } else {
      report_failure(m.cause, m.text);
    }
  } else if (candidate && state != link::up) {
    last_down = std::string(to_string(m.cause)) + ": " + m.text;
  }
  if (state != link::up && accepted_conn == 0)
    state = dial_conn != 0 ? link::connecting : link::down;
  if (m.conn == dial_conn || candidate) schedule_retry();
}

void partner_link_state::on_probe(pl_probe& m) {
  if (m.conn != probe_conn || state == link::up) return;
  probe_conn = 0;
  // link_gone expects the link to be counted as up; the generation was bumped already.
  if (m.gone)
    link_gone(partner_down_cause::partner_gone, true, probe_text + "; " + m.text);
  else
    link_gone(partner_down_cause::closed, false, probe_text + "; " + m.text);
}

void partner_link_state::on_heartbeat(pl_heartbeat& m) {
  if (m.conn != up_conn || state != link::up) return;
  last_rx = self->clock().now();
  if (!m.ack) {
    transport->heartbeat_ack(up_conn, m.seq, m.time_ns);
    return;
  }
  missed = 0; // any answer breaks a run of missed heartbeats
  if (m.seq == hb_seq) hb_outstanding = false;
  auto now = now_ns();
  if (m.time_ns <= now) {
    rtt = std::chrono::nanoseconds(now - m.time_ns);
    has_rtt = true;
  }
  if (cfg.listener)
    self->send(cfg.listener, partner_heartbeat{rtt, m.seq, static_cast<int64_t>(now)});
}

void partner_link_state::on_tick(uint64_t g) {
  if (g != gen || state != link::up) return;
  if (hb_outstanding && ++missed >= cfg.missed_pings) confirm_loss();
  hb_outstanding = true;
  transport->heartbeat(up_conn, ++hb_seq, now_ns());
  self->delayed_send(self, cfg.ping_interval, atom::heartbeat_v, gen);
}

void partner_link_state::arm_silence(caf::timespan after) {
  silence_armed = true;
  self->delayed_send(self, after, atom::silence_v, gen);
}

void partner_link_state::on_silence(uint64_t g) {
  if (g != gen || state != link::up) return;
  silence_armed = false;
  auto quiet = self->clock().now() - last_rx;
  if (quiet < cfg.ping_timeout) return arm_silence(cfg.ping_timeout - quiet);
  confirm_loss();
}

void partner_link_state::confirm_loss() {
  // A rule fired; frames that arrived meanwhile may still wait in the mailbox behind it (a busy
  // machine, a stalled thread). They are handled before this message, so only a partner that
  // really stayed silent is declared lost.
  if (confirming) return;
  confirming = true;
  self->send(self, atom::confirm_loss_v, gen);
}

void partner_link_state::on_confirm(uint64_t g) {
  if (g != gen || state != link::up) return;
  confirming = false;
  auto quiet = self->clock().now() - last_rx;
  if (missed >= cfg.missed_pings) {
    auto text = std::to_string(missed) + " heartbeats in a row unanswered (ping_interval_ms " +
                std::to_string(ms(cfg.ping_interval)) + ", missed_pings " +
                std::to_string(cfg.missed_pings) + ")";
    transport->close(up_conn, "no answer to " + std::to_string(missed) + " heartbeats");
    return link_gone(partner_down_cause::missed_pings, true, text);
  }
  if (quiet >= cfg.ping_timeout) {
    auto text = "nothing received for " + ms_text(quiet) + " (ping_timeout_ms " +
                std::to_string(ms(cfg.ping_timeout)) + ")";
    transport->close(up_conn, "nothing received for " + ms_text(quiet));
    return link_gone(partner_down_cause::heartbeat_timeout, true, text);
  }
  if (!silence_armed) arm_silence(cfg.ping_timeout - quiet);
}

partner_link_status partner_link_state::status() const {
  partner_link_status s;
  s.link = link_word(state);
  if (has_peer) {
    s.partner = peer.node_name;
    s.hello = peer;
  }
  s.address = state == link::up ? remote_host + ":" + std::to_string(remote_port) : cfg.partner;
  s.has_heartbeat = has_rx;
  if (has_rx) s.last_heartbeat_age = self->clock().now() - last_rx;
  s.rtt = rtt;
  s.reconnects = reconnects;
  s.last_down = last_down;
  return s;
}

partner_link_actor::behavior_type
partner_link(partner_link_actor::stateful_pointer<partner_link_state> self,
             partner_link_config cfg) {
  auto& st = self->state;
  st.self = self;
  st.cfg = std::move(cfg);
  if (!st.cfg.sync_sink && st.cfg.listener)
    st.cfg.sync_sink = caf::actor_cast<sync_sink_actor>(st.cfg.listener);
  quit_with_parent(self, st.cfg.parent);
  st.events = make_partner_link_events(caf::actor_cast<partner_link_actor>(self));
  st.transport = st.cfg.make_transport(st.events);
  st.start();
  return {
      // -- commands of the owner ---------------------------------------------------------------
      [self](sync_payload& p) {
        auto& st = self->state;
        if (st.state != partner_link_state::link::up) {
          ++st.sync_dropped;
          return;
        }
        st.transport->sync(st.up_conn, std::move(p));
      },
      [self](partner_hello& h) {
        auto& st = self->state;
        h.node_name = st.cfg.hello.node_name; // the name is the config's, never changed in life
        st.cfg.hello = h;
        st.transport->set_hello(h);
      },
      [self](atom::connect) {
        auto& st = self->state;
        st.dialing_enabled = st.cfg.dial || st.dialing_enabled;
        st.backoff = caf::timespan{0};
        st.dial_now();
      },
      [self](atom::disconnect, std::string& reason) {
        auto& st = self->state;
        st.dialing_enabled = false;
        ++st.retry_gen;
        if (st.state == partner_link_state::link::up) {
          st.transport->close(st.up_conn, reason);
          st.link_gone(partner_down_cause::closed, false, "closed by this node: " + reason);
          ++st.down_gen; // closed on purpose: no heartbeat rule afterwards
        }
      },
      [self](atom::status) -> partner_link_status { return self->state.status(); },
      [self](fault& f) -> std::string {
        auto& st = self->state;
        if (f.kind == fault_kind::delay_link) {
          if (f.ms < 0) return std::string("delay_link needs a delay of 0 ms or more");
          st.transport->set_delay(std::chrono::milliseconds(f.ms));
          return std::string{};
        }
        if (f.kind != fault_kind::drop_link)
          return std::string("the partner link cannot apply fault ") + to_string(f.kind);
        if (st.state != partner_link_state::link::up) return "the partner link is not up";
        st.transport->drop(st.up_conn);
        return std::string{};
      },
      // -- reports of the transport ------------------------------------------------------------
      [self](pl_hello& m) { self->state.on_hello(m); },
      [self](pl_up& m) { self->state.on_up(m); },
      [self](pl_down& m) { self->state.on_down(m); },
      [self](pl_heartbeat& m) { self->state.on_heartbeat(m); },
      [self](pl_sync& m) {
        auto& st = self->state;
        if (m.conn != st.up_conn || st.state != partner_link_state::link::up) return;
        st.last_rx = self->clock().now();
        if (st.cfg.sync_sink) self->send(st.cfg.sync_sink, std::move(m.payload));
      },
      [self](pl_probe& m) { self->state.on_probe(m); },
      // -- timers ------------------------------------------------------------------------------
      [self](atom::heartbeat, uint64_t g) { self->state.on_tick(g); },
      [self](atom::silence, uint64_t g) { self->state.on_silence(g); },
      [self](atom::confirm_loss, uint64_t g) { self->state.on_confirm(g); },
      [self](atom::relisten) {
        auto& st = self->state;
        if (st.listen_backoff.count() == 0) return;
        auto err = st.transport->listen();
        if (err.empty()) {
          st.listen_backoff = caf::timespan{0};
          st.event(severity::info, "partner_listening",
                   "the partner link listens again on port " +
                       std::to_string(st.transport->listen_port()));
          return;
        }
        st.listen_backoff = std::min(st.listen_backoff * 2, st.cfg.backoff_max);
        self->delayed_send(self, st.listen_backoff, atom::relisten_v);
      },
      [self](atom::retry, uint64_t g) {
        auto& st = self->state;
        if (g != st.retry_gen || !st.dialing_enabled) return;
        st.dial_now();
      },
      [self](atom::lost_after, uint64_t g) { self->state.on_lost_after(g); },
  };
}

} // namespace tandem
