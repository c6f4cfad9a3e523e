#pragma once
/// NOTIFIER: mails diagnostics events to the recipients of [notifications].
///
/// Each recipient has its own filter (kinds, minimum severity, pairs) and its own queue:
///
///   event passes the filter ──> held ──(batch_ms after the first held event, and not before
///   min_interval_ms after the previous mail)──> one mail with every held event ──> sender
///   sender fails ──> retried after 1 s, 2 s, 4 s… (at most max_attempts sends) ──> given up:
///   a `notify_failed` event; a refused login or address is given up at once.
///
/// Events that arrive while a mail is in flight or rate limited are held (at most `max_held`;
/// the mail says how many were dropped beyond that). The NOTIFIER's own events (source
/// "notifier", kinds notify_*) are never mailed, so a failing server cannot cause a mail loop.
/// Mail goes through a `smtp::mail_sender` (libcurl on its own thread in a node, a fake in tests)
/// whose outcome comes back as a `mail_outcome` message: the actor never blocks.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"
#include "caf/typed_response_promise.hpp"
#include "config/config.hpp"
#include "transports/smtp/mail.hpp"

namespace tandem {

struct notifier_config {
  std::string node_name;
  config::notifications_section notifications;
  std::shared_ptr<smtp::mail_sender> sender; ///< never null
  std::function<int64_t()> wall_now;         ///< Unix ms; tests give a virtual clock
  diagnostics_actor diagnostics;             ///< subscribed to at start
  caf::timespan retry_first = std::chrono::seconds(1);
  caf::timespan retry_max = std::chrono::seconds(60);
  int max_attempts = 5;  ///< sends of one mail before it is given up (1 + 4 retries)
  size_t max_held = 100; ///< events held per recipient; more are counted and dropped
  /// The supervisor; the NOTIFIER ends with it. Empty in tests that spawn it alone.
  caf::actor_addr parent;
};

struct notifier_state {
  struct recipient {
    config::recipient_entry rule;
    std::vector<diag_event> held; ///< waiting for the next mail
    uint64_t dropped = 0;         ///< events beyond max_held since the last mail
    caf::actor_clock::time_point first_held{};
    caf::actor_clock::time_point next_allowed{}; ///< rate limit: no mail before this
    bool armed = false;                          ///< a batch_due timer is pending
    uint64_t timer_gen = 0;
    // The mail in flight (being sent or waiting for its retry).
    bool in_flight = false;
    uint64_t mail_id = 0;
    int attempts = 0;
    size_t mail_events = 0;
    smtp::mail mail;
  };

  notifier_config cfg;
  std::vector<recipient> recipients;
  std::map<uint64_t, caf::typed_response_promise<notify_test_result>> tests; ///< by mail id
  uint64_t next_mail_id = 0;
  notifier_status counters;

  void on_event(const diag_event& e);
  void arm(size_t i);
  void batch_due(size_t i, uint64_t gen);
  void send_mail(size_t i);
  void on_outcome(const mail_outcome& o);
  void retry(size_t i, uint64_t mail_id);
  caf::result<notify_test_result> send_test(const std::string& address);
  notifier_status status() const;
  void report(severity sev, std::string kind, std::string text);
  std::string message_id();

  notifier_actor::pointer self = nullptr;
  static inline const char* name = "notifier";
};

notifier_actor::behavior_type notifier(notifier_actor::stateful_pointer<notifier_state> self,
                                       notifier_config cfg);

// -- mail text (pure functions; notifier_text.cpp) ------------------------------------------------

/// Whether `rule` wants event `e`: its kind listed (or no kinds given), its severity at least
/// min_severity, its pair listed (or no pairs given; events of no pair, such as the node's own,
/// pass). The NOTIFIER's own events never pass.
bool wants(const config::recipient_entry& rule, const diag_event& e);

/// The pair an event is about, from its source ("pair/line1", "server/line1/primary"); "" for
/// events of the node itself.
std::string pair_of(const diag_event& e);

/// One line saying what happened, e.g. "line1 failed over from primary to secondary
/// (connection_lost)".
std::string headline(const diag_event& e);

/// "[tandem plant-a] line1 failed over from primary to secondary (connection_lost)", or for a
/// batch "[tandem plant-a] 3 events: <headline>; <headline>; …".
std::string mail_subject(const std::string& node, const std::vector<diag_event>& events);

/// The body: each event with time (RFC 3339 UTC ms), node, pair, from and to server, cause in
/// words, severity and the recorded text; then how many were dropped and why the recipient
/// got the mail.
std::string mail_body(const std::string& node, const std::vector<diag_event>& events,
                      uint64_t dropped, const config::recipient_entry& rule, size_t max_held);

} // namespace tandem
