#pragma once
/// Messages of the NOTIFIER: the outcome of a mail coming back from the sender's thread, the
/// console's `notify test`, and the notifier's part of `status`.

#include <cstdint>
#include <string>

#include "caf/meta/type_name.hpp"

namespace tandem {

/// How sending mail number `id` ended (from the mail sender's worker thread).
struct mail_outcome {
  uint64_t id = 0;
  bool ok = false;
  bool permanent = false; ///< retrying cannot help (login or address refused)
  std::string error;
};

/// The answer to `notify test [ADDRESS]`, after the SMTP exchange finished.
struct notify_test_result {
  bool ok = false;
  std::string error; ///< why not, when !ok
};

/// The NOTIFIER's counters for `status`.
struct notifier_status {
  bool enabled = false;      ///< false: notifications.smtp_url is empty (mail is off)
  uint64_t recipients = 0;   ///< configured recipients
  uint64_t queued = 0;       ///< events waiting for their mail (batch window, rate limit, retry)
  uint64_t in_flight = 0;    ///< mails being sent or waiting to be retried
  uint64_t sent = 0;         ///< mails the SMTP server accepted
  uint64_t failed = 0;       ///< mails given up on
  uint64_t dropped = 0;      ///< events not mailed because a recipient's queue was full
  std::string last_error;    ///< empty when none yet
  int64_t last_error_ms = 0; ///< Unix ms of last_error
  int64_t last_sent_ms = 0;  ///< Unix ms of the last accepted mail; 0 = none
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, mail_outcome& x) {
  return f(caf::meta::type_name("mail_outcome"), x.id, x.ok, x.permanent, x.error);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, notify_test_result& x) {
  return f(caf::meta::type_name("notify_test_result"), x.ok, x.error);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, notifier_status& x) {
  return f(caf::meta::type_name("notifier_status"), x.enabled, x.recipients, x.queued, x.in_flight,
           x.sent, x.failed, x.dropped, x.last_error, x.last_error_ms, x.last_sent_ms);
}

} // namespace tandem
