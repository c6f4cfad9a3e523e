// The words of notification mail: headlines, subjects, bodies, filters, and the RFC 5322 text.

#include <gtest/gtest.h>

#include "actors/notifier.hpp"
#include "transports/smtp/mail.hpp"

using namespace tandem;

namespace {

diag_event ev(const std::string& kind, severity sev, const std::string& source,
              const std::string& text, int64_t time_ms = 1'795'385'510'123, uint64_t seq = 42) {
  diag_event e;
  e.seq = seq;
  e.time_ms = time_ms;
  e.sev = sev;
  e.node = "plant-a";
  e.source = source;
  e.kind = kind;
  e.text = text;
  return e;
}

diag_event failover_event() {
  return ev("failover", severity::warning, "pair/line1",
            "line1: failover from primary to secondary (connection_lost: line1/primary "
            "(opc.tcp://10.0.0.10:4840/s): lost: connection refused)");
}

TEST(mail_text, a_failover_says_pair_servers_cause_node_and_time) {
  std::vector<diag_event> one = {failover_event()};
  EXPECT_EQ(mail_subject("plant-a", one),
            "[tandem plant-a] line1 failed over from primary to secondary (connection_lost)");
  config::recipient_entry r;
  r.address = "ops@plant.example";
  auto body = mail_body("plant-a", one, 0, r, 100);
  EXPECT_NE(body.find("Tandem node plant-a reports 1 event."), std::string::npos) << body;
  EXPECT_NE(body.find("When:      2026-11-22T22:11:50.123Z"), std::string::npos) << body;
  EXPECT_NE(body.find("Node:      plant-a"), std::string::npos);
  EXPECT_NE(body.find("Pair:      line1"), std::string::npos);
  EXPECT_NE(body.find("From:      primary server"), std::string::npos);
  EXPECT_NE(body.find("To:        secondary server"), std::string::npos);
  EXPECT_NE(body.find("Cause:     connection_lost: the connection to the active server was lost"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("Why:       line1/primary (opc.tcp://10.0.0.10:4840/s): lost: connection "
                      "refused"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("Event:     failover (#42 from pair/line1)"), std::string::npos);
  EXPECT_NE(body.find("Severity:  warning"), std::string::npos);
  EXPECT_NE(body.find("to ops@plant.example, which asks for events of kinds: all; severity: "
                      "warning and above; pairs: all."),
            std::string::npos)
      << body;
  EXPECT_EQ(body.find("not mailed"), std::string::npos);
}

TEST(mail_text, a_batch_subject_counts_and_lists_the_events) {
  std::vector<diag_event> three = {
      failover_event(),
      ev("server_lost", severity::warning, "server/line1/primary", "line1/primary: lost: eof"),
      ev("actor_failed", severity::critical, "supervisor", "pair/line2 failed 6 times")};
  EXPECT_EQ(mail_subject("plant-a", three),
            "[tandem plant-a] 3 events: line1 failed over from primary to secondary "
            "(connection_lost); line1/primary: lost: eof; pair/line2 failed 6 times");
  std::vector<diag_event> many(20, three[1]);
  auto s = mail_subject("plant-a", many);
  EXPECT_EQ(s.rfind("[tandem plant-a] 20 events: line1/primary: lost: eof; ", 0), 0u);
  EXPECT_LT(s.size(), 240u);
  EXPECT_EQ(s.substr(s.size() - 3), "...");
  config::recipient_entry r;
  r.address = "x@y.z";
  r.kinds = {"failover", "server_lost"};
  r.pairs = {"line1"};
  r.min_severity = severity::info;
  auto body = mail_body("plant-a", three, 7, r, 100);
  EXPECT_NE(body.find("[1] line1 failed over"), std::string::npos);
  EXPECT_NE(body.find("[3] pair/line2 failed 6 times"), std::string::npos);
  EXPECT_NE(body.find("7 further events were not mailed: at most 100 events"), std::string::npos)
      << body;
  EXPECT_NE(body.find("kinds: failover, server_lost; severity: info and above; pairs: line1."),
            std::string::npos);
}

TEST(mail_text, unknown_failover_text_falls_back_to_the_recorded_text) {
  auto e = ev("failover", severity::warning, "pair/a", "something else entirely");
  EXPECT_EQ(headline(e), "something else entirely");
  auto multi = ev("x", severity::error, "supervisor", "one\ntwo");
  EXPECT_EQ(headline(multi), "one two");
}

TEST(mail_text, filters_by_kind_severity_and_pair_and_never_pass_own_events) {
  config::recipient_entry all;
  all.min_severity = severity::info;
  auto fo = failover_event();
  EXPECT_TRUE(wants(all, fo));
  EXPECT_FALSE(wants(all, ev("notify_failed", severity::error, "notifier", "mail not sent")));
  EXPECT_FALSE(wants(all, ev("anything", severity::critical, "notifier", "x")));

  config::recipient_entry kinds = all;
  kinds.kinds = {"server_lost"};
  EXPECT_FALSE(wants(kinds, fo));
  EXPECT_TRUE(wants(kinds, ev("server_lost", severity::warning, "server/line1/primary", "x")));
  EXPECT_FALSE(wants(kinds, ev("notify_failed", severity::error, "notifier", "x")));

  config::recipient_entry sev = all;
  sev.min_severity = severity::error;
  EXPECT_FALSE(wants(sev, fo));
  EXPECT_TRUE(wants(sev, ev("actor_failed", severity::critical, "supervisor", "x")));

  config::recipient_entry pairs = all;
  pairs.pairs = {"line2"};
  EXPECT_FALSE(wants(pairs, fo));
  EXPECT_FALSE(wants(pairs, ev("server_lost", severity::warning, "server/line1/primary", "x")));
  EXPECT_TRUE(wants(pairs, ev("server_lost", severity::warning, "server/line2/primary", "x")));
  EXPECT_TRUE(wants(pairs, ev("node_started", severity::info, "supervisor", "x")))
      << "events of the node itself concern every pair";
  EXPECT_EQ(pair_of(ev("k", severity::info, "server/line2/secondary", "")), "line2");
  EXPECT_EQ(pair_of(ev("k", severity::info, "pair/l.3", "")), "l.3");
  EXPECT_EQ(pair_of(ev("k", severity::info, "console", "")), "");
}

TEST(mail_text, render_makes_rfc5322_headers_and_crlf_lines) {
  smtp::mail m;
  m.from = "Tandem <tandem@plant.example>";
  m.to = {"a@x.example", "b@x.example"};
  m.subject = "[tandem plant-a] line1 failed over";
  m.body = "line one\nline two\r\n.starts with a dot\n";
  m.date_ms = 1'795'385'510'123;
  m.message_id = "tandem.plant-a.1.1@plant.example";
  auto t = smtp::render(m);
  EXPECT_EQ(t, "From: Tandem <tandem@plant.example>\r\n"
               "To: a@x.example, b@x.example\r\n"
               "Subject: [tandem plant-a] line1 failed over\r\n"
               "Date: Sun, 22 Nov 2026 22:11:50 +0000\r\n"
               "Message-ID: <tandem.plant-a.1.1@plant.example>\r\n"
               "MIME-Version: 1.0\r\n"
               "Content-Type: text/plain; charset=utf-8\r\n"
               "Content-Transfer-Encoding: 8bit\r\n"
               "Auto-Submitted: auto-generated\r\n"
               "\r\n"
               "line one\r\nline two\r\n.starts with a dot\r\n");
  EXPECT_EQ(smtp::address_of(m.from), "tandem@plant.example");
  EXPECT_EQ(smtp::address_of("a@b.c"), "a@b.c");
}

TEST(mail_text, header_injection_and_non_ascii_subjects_are_made_safe) {
  smtp::mail m;
  m.from = "t@x.example";
  m.to = {"a@x.example"};
  m.subject = "Zürich line\r\nBcc: evil@x.example";
  auto t = smtp::render(m);
  EXPECT_EQ(t.find("\r\nBcc:"), std::string::npos);
  EXPECT_NE(t.find("Subject: =?UTF-8?B?"), std::string::npos) << t;
}

} // namespace
