// Deterministic tests of the NOTIFIER in virtual time: recipients' filters, batching of a burst,
// the per-recipient rate limit (held events, bounded queue), retry with back-off and the
// notify_failed event, no mail about its own failures, `notify test`, and the supervisor's
// answers when notifications are off.

#include <gtest/gtest.h>

#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/diagnostics.hpp"
#include "actors/notifier.hpp"
#include "actors/supervisor.hpp"
#include "tests/support/actor_fixture.hpp"
#include "tests/unit/actors/test_util.hpp"
#include "tests/unit/notify/fake_mail_sender.hpp"

using namespace tandem;
using namespace std::chrono_literals;

namespace {

config::recipient_entry recipient(const std::string& address, severity min = severity::warning,
                                  std::vector<std::string> kinds = {},
                                  std::vector<std::string> pairs = {}) {
  config::recipient_entry r;
  r.address = address;
  r.min_severity = min;
  r.kinds = std::move(kinds);
  r.pairs = std::move(pairs);
  return r;
}

const char* failover_text =
    "line1: failover from primary to secondary (connection_lost: line1/primary "
    "(opc.tcp://10.0.0.10:4840/s): lost: connection refused)";

class notifier_test : public test::actor_fixture {
protected:
  void SetUp() override {
    diagnostics_config dc;
    dc.node_name = "plant-a";
    dc.max_events = 1000;
    dc.store = store;
    dc.wall_now = [this] { return wall_now(); };
    diag = sys.spawn(diagnostics, dc);
    run();
  }
  void TearDown() override {
    if (n) self->send_exit(n, caf::exit_reason::user_shutdown);
    self->send_exit(diag, caf::exit_reason::user_shutdown);
    run();
  }

  notifier_actor spawn(std::vector<config::recipient_entry> rs, int64_t batch_ms = 1000,
                       int64_t min_interval_ms = 0, size_t max_held = 100) {
    notifier_config c;
    c.node_name = "plant-a";
    c.notifications.smtp_url = "smtp://127.0.0.1:2525";
    c.notifications.from = "tandem@plant.example";
    c.notifications.batch_ms = batch_ms;
    c.notifications.min_interval_ms = min_interval_ms;
    c.notifications.recipients = std::move(rs);
    c.sender = sender;
    c.wall_now = [this] { return wall_now(); };
    c.diagnostics = diag;
    c.max_held = max_held;
    n = sys.spawn(notifier, c);
    run();
    return n;
  }
  /// Records an event through DIAGNOSTICS, which hands it to the NOTIFIER.
  void event(const std::string& kind, severity sev, const std::string& source,
             const std::string& text) {
    self->send(diag, event_report{sev, source, kind, text});
    run();
  }
  void failover() { event("failover", severity::warning, "pair/line1", failover_text); }
  std::vector<diag_event> events() {
    auto r = ask<std::vector<diag_event>>(diag, atom::events_v, uint64_t{1000});
    return r ? *r : std::vector<diag_event>{};
  }
  std::vector<diag_event> events_of(const std::string& kind) {
    std::vector<diag_event> out;
    for (auto& e : events())
      if (e.kind == kind) out.push_back(e);
    return out;
  }
  notifier_status status() {
    auto s = ask<notifier_status>(n, atom::status_v);
    EXPECT_TRUE(s);
    return s ? *s : notifier_status{};
  }
  /// Mails sent so far to `address`.
  std::vector<smtp::mail> mails_to(const std::string& address) {
    std::vector<smtp::mail> out;
    for (size_t i = 0; i < sender->count(); ++i) {
      auto m = sender->mail(i);
      if (m.to.size() == 1 && m.to[0] == address) out.push_back(m);
    }
    return out;
  }
  void finish(size_t i, bool ok, const std::string& error = "", bool permanent = false) {
    sender->finish(i, ok, error, permanent);
    run();
  }

  test::temp_dir dir;
  std::shared_ptr<storage::event_store> store = test::open_store(dir);
  std::shared_ptr<test::fake_mail_sender> sender = std::make_shared<test::fake_mail_sender>();
  diagnostics_actor diag;
  notifier_actor n;
};

TEST_F(notifier_test, each_recipient_gets_the_events_its_filters_let_through) {
  spawn({recipient("all@x.example"), recipient("failovers@x.example", severity::info, {"failover"}),
         recipient("critical@x.example", severity::critical),
         recipient("line2@x.example", severity::info, {}, {"line2"}),
         recipient("line1@x.example", severity::info, {}, {"line1"})});
  failover();
  event("server_lost", severity::warning, "server/line1/primary", "line1/primary: lost");
  event("server_lost", severity::warning, "server/line2/primary", "line2/primary: lost");
  event("actor_failed", severity::critical, "supervisor", "pair/line1 failed 6 times");
  event("node_started", severity::info, "supervisor", "node plant-a started");
  advance(1000ms);
  ASSERT_EQ(sender->count(), 5u);

  auto all = mails_to("all@x.example");
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].subject.rfind("[tandem plant-a] 4 events: ", 0), 0u) << all[0].subject;
  EXPECT_EQ(all[0].body.find("node plant-a started"), std::string::npos) << "info is below warning";

  auto fo = mails_to("failovers@x.example");
  ASSERT_EQ(fo.size(), 1u);
  EXPECT_EQ(fo[0].subject,
            "[tandem plant-a] line1 failed over from primary to secondary (connection_lost)");

  auto crit = mails_to("critical@x.example");
  ASSERT_EQ(crit.size(), 1u);
  EXPECT_EQ(crit[0].subject, "[tandem plant-a] pair/line1 failed 6 times");

  // Pair filters: events of other pairs are left out, the node's own events pass.
  auto l2 = mails_to("line2@x.example");
  ASSERT_EQ(l2.size(), 1u);
  EXPECT_EQ(l2[0].body.find("line1/primary: lost"), std::string::npos) << l2[0].body;
  EXPECT_EQ(l2[0].body.find("failed over"), std::string::npos) << l2[0].body;
  EXPECT_NE(l2[0].body.find("line2/primary: lost"), std::string::npos);
  EXPECT_NE(l2[0].body.find("node plant-a started"), std::string::npos);
  auto l1 = mails_to("line1@x.example");
  ASSERT_EQ(l1.size(), 1u);
  EXPECT_EQ(l1[0].body.find("line2"), std::string::npos) << l1[0].body;
  EXPECT_EQ(l1[0].subject.rfind("[tandem plant-a] 4 events: ", 0), 0u) << l1[0].subject;
}

TEST_F(notifier_test, a_burst_within_batch_ms_goes_out_as_one_mail) {
  spawn({recipient("ops@x.example")}, 1000);
  failover();
  advance(200ms);
  event("server_lost", severity::warning, "server/line1/primary", "line1/primary: lost");
  advance(300ms);
  event("server_unhealthy", severity::warning, "server/line1/secondary", "line1/secondary: bad");
  EXPECT_EQ(status().queued, 3u);
  advance(499ms);
  EXPECT_EQ(sender->count(), 0u) << "still inside the batch window";
  advance(1ms);
  ASSERT_EQ(sender->count(), 1u);
  auto m = sender->mail(0);
  EXPECT_EQ(m.subject.rfind("[tandem plant-a] 3 events: line1 failed over from primary to "
                            "secondary (connection_lost); line1/primary: lost",
                            0),
            0u)
      << m.subject;
  EXPECT_NE(m.body.find("[3] line1/secondary: bad"), std::string::npos) << m.body;
  EXPECT_EQ(status().queued, 0u);
  EXPECT_EQ(status().in_flight, 1u);
  finish(0, true);
  EXPECT_EQ(status().sent, 1u);
  EXPECT_EQ(status().in_flight, 0u);
  advance(10s);
  EXPECT_EQ(sender->count(), 1u) << "nothing more to send";
}

TEST_F(notifier_test, the_rate_limit_holds_events_and_sends_them_together_when_allowed) {
  spawn({recipient("ops@x.example")}, 1000, 60000, 3);
  failover(); // t = 0, mailed at 1 s
  advance(1000ms);
  ASSERT_EQ(sender->count(), 1u);
  finish(0, true);
  // Six more events while limited: three are held, three dropped (max_held 3).
  for (int i = 0; i < 6; ++i) {
    advance(5s);
    event("server_lost", severity::warning, "server/line1/primary",
          "line1/primary: lost " + std::to_string(i));
  }
  EXPECT_EQ(status().queued, 3u);
  EXPECT_EQ(status().dropped, 3u);
  advance(60000ms - 30000ms - 1ms); // t = 61 s - 1 ms: the next mail is due at 61 s
  EXPECT_EQ(sender->count(), 1u) << "held by the rate limit";
  advance(1ms);
  ASSERT_EQ(sender->count(), 2u);
  auto m = sender->mail(1);
  EXPECT_EQ(m.subject.rfind("[tandem plant-a] 3 events: ", 0), 0u) << m.subject;
  EXPECT_NE(m.body.find("lost 0"), std::string::npos);
  EXPECT_NE(m.body.find("lost 2"), std::string::npos);
  EXPECT_EQ(m.body.find("lost 3"), std::string::npos);
  EXPECT_NE(m.body.find("3 further events were not mailed"), std::string::npos) << m.body;
  finish(1, true);
  EXPECT_EQ(status().queued, 0u);
}

TEST_F(notifier_test, failures_are_retried_with_back_off_then_recorded_and_never_mailed) {
  // This recipient takes everything, so a notify_failed event would be mailed if it could be.
  spawn({recipient("ops@x.example", severity::info)}, 1000);
  auto started = events().size();
  failover();
  advance(1000ms);
  ASSERT_EQ(sender->count(), 1u);
  finish(0, false, "sending through smtp://127.0.0.1:2525 failed: Couldn't connect to server");
  EXPECT_EQ(status().last_error,
            "sending through smtp://127.0.0.1:2525 failed: Couldn't connect to server");
  EXPECT_EQ(status().last_error_ms, wall_now());
  // Back-off: 1 s, 2 s, 4 s, 8 s between the five attempts.
  size_t attempt = 1;
  for (auto delay : {1000ms, 2000ms, 4000ms, 8000ms}) {
    advance(delay - 1ms);
    EXPECT_EQ(sender->count(), attempt) << "retry came early";
    advance(1ms);
    ASSERT_EQ(sender->count(), attempt + 1) << "retry did not come after " << delay.count();
    EXPECT_EQ(sender->mail(attempt).message_id, sender->mail(0).message_id) << "same mail";
    finish(attempt, false, "sending through smtp://127.0.0.1:2525 failed: refused");
    ++attempt;
  }
  auto failed = events_of("notify_failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].sev, severity::error);
  EXPECT_EQ(failed[0].source, "notifier");
  EXPECT_NE(failed[0].text.find("mail to ops@x.example about 1 event"), std::string::npos);
  EXPECT_NE(failed[0].text.find("after 5 attempts"), std::string::npos) << failed[0].text;
  EXPECT_EQ(status().failed, 1u);
  EXPECT_EQ(status().in_flight, 0u);
  // No mail about the failure, ever.
  advance(120s);
  EXPECT_EQ(sender->count(), 5u);
  EXPECT_EQ(status().queued, 0u);
  EXPECT_GT(events().size(), started);
}

TEST_F(notifier_test, a_refused_login_is_not_retried_and_the_next_events_still_go_out) {
  spawn({recipient("ops@x.example")}, 500);
  failover();
  advance(500ms);
  ASSERT_EQ(sender->count(), 1u);
  finish(0, false, "the SMTP server refused the login of user tandem (535)", true);
  auto failed = events_of("notify_failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_NE(failed[0].text.find("refused the login"), std::string::npos);
  EXPECT_EQ(failed[0].text.find("attempts"), std::string::npos);
  advance(30s);
  EXPECT_EQ(sender->count(), 1u) << "not retried";
  event("server_lost", severity::warning, "server/line1/secondary", "line1/secondary: lost");
  advance(500ms);
  EXPECT_EQ(sender->count(), 2u) << "later events get their own mail";
}

TEST_F(notifier_test, a_retry_in_flight_holds_new_events_for_the_next_mail) {
  spawn({recipient("ops@x.example")}, 100);
  failover();
  advance(100ms);
  finish(0, false, "timeout");
  event("server_lost", severity::warning, "server/line1/secondary", "line1/secondary: lost");
  advance(1s);
  ASSERT_EQ(sender->count(), 2u);
  EXPECT_EQ(sender->mail(1).subject, sender->mail(0).subject) << "the retry is the same mail";
  finish(1, true);
  advance(100ms);
  ASSERT_EQ(sender->count(), 3u);
  EXPECT_EQ(sender->mail(2).subject, "[tandem plant-a] line1/secondary: lost");
}

TEST_F(notifier_test, notify_test_answers_after_the_smtp_exchange) {
  spawn({recipient("a@x.example"), recipient("b@x.example")});
  self->send(n, atom::notify_test_v, std::string{});
  run();
  ASSERT_EQ(sender->count(), 1u);
  auto m = sender->mail(0);
  EXPECT_EQ(m.to, (std::vector<std::string>{"a@x.example", "b@x.example"}));
  EXPECT_EQ(m.subject, "[tandem plant-a] test mail");
  EXPECT_TRUE(self_mailbox_empty()) << "no answer before the server has answered";
  finish(0, false, "the SMTP server refused the mail (550)", true);
  std::optional<notify_test_result> r;
  self->receive([&](notify_test_result& x) { r = x; }, caf::after(0s) >> [] {});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->error, "the SMTP server refused the mail (550)");
  EXPECT_TRUE(events_of("notify_failed").empty()) << "the operator got the answer";

  self->send(n, atom::notify_test_v, std::string{"c@y.example"});
  run();
  ASSERT_EQ(sender->count(), 2u);
  EXPECT_EQ(sender->mail(1).to, (std::vector<std::string>{"c@y.example"}));
  finish(1, true);
  r.reset();
  self->receive([&](notify_test_result& x) { r = x; }, caf::after(0s) >> [] {});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok);
  EXPECT_EQ(status().sent, 1u);

  auto bad = ask<notify_test_result>(n, atom::notify_test_v, std::string{"not-an-address"});
  ASSERT_TRUE(bad);
  EXPECT_FALSE(bad->ok);
  EXPECT_NE(bad->error.find("is not a mail address"), std::string::npos);
}

class notifier_supervision_test : public test::actor_fixture {
protected:
  node_actor spawn_node(bool on) {
    config::node_config c;
    c.node.name = "plant-a";
    if (on) {
      c.notifications.smtp_url = "smtp://127.0.0.1:2525";
      c.notifications.batch_ms = 0;
      c.notifications.recipients.push_back(recipient("ops@x.example"));
    }
    node_runtime rt;
    rt.events = store;
    rt.wall_now = [this] { return wall_now(); };
    rt.mail_sender = sender;
    auto node = sys.spawn(supervisor, std::move(c), rt);
    run();
    return node;
  }
  test::temp_dir dir;
  std::shared_ptr<storage::event_store> store = test::open_store(dir);
  std::shared_ptr<test::fake_mail_sender> sender = std::make_shared<test::fake_mail_sender>();
};

TEST_F(notifier_supervision_test, with_no_smtp_url_notify_test_says_how_to_turn_mail_on) {
  auto node = spawn_node(false);
  auto r = ask<notify_test_result>(node, atom::notify_test_v, std::string{});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_NE(r->error.find("notifications are off"), std::string::npos);
  EXPECT_NE(r->error.find("smtp_url"), std::string::npos);
  auto s = ask<node_status>(node, atom::status_v);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->notifier.enabled);
  self->send(node, atom::shutdown_v);
  run();
}

TEST_F(notifier_supervision_test, the_node_mails_its_events_and_status_shows_the_notifier) {
  auto node = spawn_node(true);
  using impl = caf::stateful_actor<supervisor_state, node_actor::base>;
  auto& st = dynamic_cast<impl*>(caf::actor_cast<caf::abstract_actor*>(node))->state;
  ASSERT_TRUE(st.notifier);
  self->send(st.diag, event_report{severity::warning, "pair/line1", "failover", failover_text});
  run();
  advance(1ms);
  ASSERT_EQ(sender->count(), 1u);
  auto s = ask<node_status>(node, atom::status_v);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->notifier.enabled);
  EXPECT_EQ(s->notifier.recipients, 1u);
  EXPECT_EQ(s->notifier.in_flight, 1u);
  sender->finish(0, true);
  run();
  // Through the supervisor, notify test is the notifier's.
  self->send(node, atom::notify_test_v, std::string{});
  run();
  ASSERT_EQ(sender->count(), 2u);
  sender->finish(1, true);
  run();
  std::optional<notify_test_result> r;
  self->receive([&](notify_test_result& x) { r = x; }, caf::after(0s) >> [] {});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok);
  // A failed NOTIFIER is restarted like every child.
  self->send_exit(st.notifier, caf::exit_reason::kill);
  run();
  EXPECT_TRUE(st.notifier);
  self->send(node, atom::shutdown_v);
  run();
}

} // namespace
