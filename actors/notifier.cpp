#include "actors/notifier.hpp"

#include <algorithm>
#include <utility>

#include "caf/send.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/json.hpp"
#include "actors/supervision.hpp"

namespace tandem {

namespace {

using notifier_ptr = notifier_actor::stateful_pointer<notifier_state>;

std::string domain_of(const std::string& mailbox) {
  auto addr = smtp::address_of(mailbox);
  auto at = addr.find('@');
  return at == std::string::npos ? std::string("localhost") : addr.substr(at + 1);
}

/// The sender's callback: sends the outcome to the NOTIFIER from the sender's thread. It holds the
/// actor weakly: a mail still queued when the NOTIFIER is gone keeps nothing alive.
std::function<void(smtp::send_result)> outcome_to(notifier_actor::pointer self, uint64_t id) {
  caf::actor_addr addr = self->address();
  return [addr, id](smtp::send_result res) {
    if (auto h = caf::actor_cast<notifier_actor>(addr))
      caf::anon_send(h, mail_outcome{id, res.ok, res.permanent, std::move(res.error)});
  };
}

} // namespace

void notifier_state::report(severity sev, std::string kind, std::string text) {
  if (cfg.diagnostics)
    self->send(cfg.diagnostics, event_report{sev, name, std::move(kind), std::move(text)});
}

std::string notifier_state::message_id() {
  return "tandem." + cfg.node_name + "." + std::to_string(cfg.wall_now()) + "." +
         std::to_string(next_mail_id) + "@" + domain_of(cfg.notifications.from);
}

void notifier_state::on_event(const diag_event& e) {
  for (size_t i = 0; i < recipients.size(); ++i) {
    auto& r = recipients[i];
    if (!wants(r.rule, e)) continue;
    if (r.held.size() >= cfg.max_held) {
      ++r.dropped;
      ++counters.dropped;
      continue;
    }
    if (r.held.empty()) r.first_held = self->clock().now();
    r.held.push_back(e);
    arm(i);
  }
}

void notifier_state::arm(size_t i) {
  auto& r = recipients[i];
  if (r.armed || r.in_flight || r.held.empty()) return;
  auto due = std::max(r.first_held + std::chrono::milliseconds(cfg.notifications.batch_ms),
                      r.next_allowed);
  auto now = self->clock().now();
  r.armed = true;
  ++r.timer_gen;
  auto delay = due > now ? due - now : caf::timespan{0};
  self->delayed_send(self, delay, atom::batch_due_v, static_cast<uint64_t>(i), r.timer_gen);
}

void notifier_state::batch_due(size_t i, uint64_t gen) {
  if (i >= recipients.size()) return;
  auto& r = recipients[i];
  if (!r.armed || gen != r.timer_gen) return;
  r.armed = false;
  if (r.in_flight || r.held.empty()) return;
  if (self->clock().now() < r.next_allowed) return arm(i);
  send_mail(i);
}

void notifier_state::send_mail(size_t i) {
  auto& r = recipients[i];
  auto events = std::move(r.held);
  r.held.clear();
  uint64_t dropped = std::exchange(r.dropped, 0);
  r.in_flight = true;
  r.attempts = 0;
  r.mail_events = events.size();
  r.mail_id = ++next_mail_id;
  r.next_allowed =
      self->clock().now() + std::chrono::milliseconds(cfg.notifications.min_interval_ms);
  r.mail = smtp::mail{};
  r.mail.from = cfg.notifications.from;
  r.mail.to = {r.rule.address};
  r.mail.subject = mail_subject(cfg.node_name, events);
  r.mail.body = mail_body(cfg.node_name, events, dropped, r.rule, cfg.max_held);
  r.mail.date_ms = cfg.wall_now();
  r.mail.message_id = message_id();
  retry(i, r.mail_id);
}

void notifier_state::retry(size_t i, uint64_t mail_id) {
  if (i >= recipients.size()) return;
  auto& r = recipients[i];
  if (!r.in_flight || r.mail_id != mail_id) return;
  ++r.attempts;
  cfg.sender->send(r.mail, outcome_to(self, mail_id));
}

void notifier_state::on_outcome(const mail_outcome& o) {
  if (auto t = tests.find(o.id); t != tests.end()) {
    if (o.ok) {
      ++counters.sent;
      counters.last_sent_ms = cfg.wall_now();
    } else {
      counters.last_error = o.error;
      counters.last_error_ms = cfg.wall_now();
    }
    t->second.deliver(notify_test_result{o.ok, o.ok ? std::string{} : o.error});
    tests.erase(t);
    return;
  }
  for (size_t i = 0; i < recipients.size(); ++i) {
    auto& r = recipients[i];
    if (!r.in_flight || r.mail_id != o.id) continue;
    if (o.ok) {
      ++counters.sent;
      counters.last_sent_ms = cfg.wall_now();
      r.in_flight = false;
      arm(i);
      return;
    }
    counters.last_error = o.error;
    counters.last_error_ms = cfg.wall_now();
    if (!o.permanent && r.attempts < cfg.max_attempts) {
      auto delay = cfg.retry_first;
      for (int k = 1; k < r.attempts && delay < cfg.retry_max; ++k)
        delay *= 2;
      delay = std::min(delay, cfg.retry_max);
      self->delayed_send(self, delay, atom::retry_v, static_cast<uint64_t>(i), r.mail_id);
      return;
    }
    ++counters.failed;
    r.in_flight = false;
    report(severity::error, "notify_failed",
           "mail to " + r.rule.address + " about " + std::to_string(r.mail_events) +
               (r.mail_events == 1 ? " event" : " events") + " (\"" + r.mail.subject +
               "\") was not sent" +
               (o.permanent ? "" : " after " + std::to_string(r.attempts) + " attempts") + ": " +
               o.error);
    arm(i);
    return;
  }
}

caf::result<notify_test_result> notifier_state::send_test(const std::string& address) {
  smtp::mail m;
  if (!address.empty()) {
    if (!config::valid_mail_address(address))
      return notify_test_result{false, "'" + address + "' is not a mail address (name@domain)"};
    m.to = {address};
  } else {
    for (auto& r : recipients)
      m.to.push_back(r.rule.address);
    if (m.to.empty())
      return notify_test_result{false, "no recipients are configured: give an address (notify "
                                       "test ADDRESS) or add [[notifications.recipient]] tables"};
  }
  auto id = ++next_mail_id;
  m.from = cfg.notifications.from;
  m.subject = "[tandem " + cfg.node_name + "] test mail";
  m.date_ms = cfg.wall_now();
  m.message_id = message_id();
  m.body = "This is a test mail from Tandem node " + cfg.node_name + ", sent at " +
           rfc3339(m.date_ms) + " because an operator ran `notify test` on its console.\n\n" +
           "Mail of this node goes through " + cfg.notifications.smtp_url + " from " +
           cfg.notifications.from + ".\n";
  auto rp = self->make_response_promise<notify_test_result>();
  tests.emplace(id, rp);
  cfg.sender->send(std::move(m), outcome_to(self, id));
  return rp;
}

notifier_status notifier_state::status() const {
  notifier_status s = counters;
  s.enabled = true;
  s.recipients = recipients.size();
  s.queued = 0;
  s.in_flight = tests.size();
  for (auto& r : recipients) {
    s.queued += r.held.size();
    if (r.in_flight) ++s.in_flight;
  }
  return s;
}

notifier_actor::behavior_type notifier(notifier_ptr self, notifier_config cfg) {
  auto& st = self->state;
  st.self = self;
  st.cfg = std::move(cfg);
  for (auto& rule : st.cfg.notifications.recipients) {
    notifier_state::recipient r;
    r.rule = rule;
    st.recipients.push_back(std::move(r));
  }
  quit_with_parent(self, st.cfg.parent);
  if (st.cfg.diagnostics)
    self->send(st.cfg.diagnostics, atom::subscribe_v, caf::actor_cast<event_listener_actor>(self));
  return {
      [self](diag_event& e) { self->state.on_event(e); },
      [self](atom::notify_test, std::string& address) { return self->state.send_test(address); },
      [self](atom::status) { return self->state.status(); },
      [self](diagnostics_actor& d) {
        self->state.cfg.diagnostics = d;
        self->send(d, atom::subscribe_v, caf::actor_cast<event_listener_actor>(self));
      },
      [self](mail_outcome& o) { self->state.on_outcome(o); },
      [self](atom::batch_due, uint64_t i, uint64_t gen) {
        self->state.batch_due(static_cast<size_t>(i), gen);
      },
      [self](atom::retry, uint64_t i, uint64_t mail_id) {
        self->state.retry(static_cast<size_t>(i), mail_id);
      },
  };
}

} // namespace tandem
