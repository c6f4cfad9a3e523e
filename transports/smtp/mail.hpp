#pragma once
/// Mail sending over SMTP: a message, its RFC 5322 text, and the `mail_sender` interface the
/// NOTIFIER hands mail to. The real sender (`make_curl_sender`) talks SMTP with libcurl on a
/// worker thread; tests give the NOTIFIER their own implementation. Knows nothing of actors: the
/// outcome of each mail goes to a callback.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tandem::smtp {

/// One mail. Text fields are UTF-8; the body uses "\n" or "\r\n" line ends.
struct mail {
  std::string from;            ///< "addr@host" or "Name <addr@host>"
  std::vector<std::string> to; ///< envelope and To: addresses
  std::string subject;
  std::string body;
  int64_t date_ms = 0;    ///< Unix milliseconds, for the Date: header
  std::string message_id; ///< without the angle brackets
};

/// How a sending attempt ended.
struct send_result {
  bool ok = false;
  /// The mail can never go out as configured (login refused, address refused): retrying is
  /// pointless.
  bool permanent = false;
  std::string error; ///< for people, when !ok
};

/// Hands mail to an SMTP server. `send` must not block: the outcome arrives at `done`, on any
/// thread, exactly once.
class mail_sender {
public:
  virtual ~mail_sender() = default;
  virtual void send(mail m, std::function<void(send_result)> done) = 0;
};

/// Where and how the real sender connects.
struct smtp_options {
  std::string url; ///< smtp://host[:port] (STARTTLS when offered) or smtps://host[:port]
  std::string username;
  std::string password;
  /// PEM file of the certificate authorities the server's certificate is checked against; empty:
  /// the system's store. The check is never turned off.
  std::string ca_file;
  long connect_timeout_ms = 10000;
  long timeout_ms = 30000; ///< a whole SMTP exchange
};

/// The libcurl sender: one worker thread sends the queued mails one after the other. Its
/// destructor finishes the mail being sent and drops the rest (their `done` is not called).
std::shared_ptr<mail_sender> make_curl_sender(smtp_options o);

/// The message as sent: RFC 5322 headers (From, To, Subject, Date, Message-ID, MIME-Version,
/// Content-Type), an empty line and the body, every line ended by CRLF. Non-ASCII subjects are
/// RFC 2047 encoded; the body is UTF-8, 8bit. Dot-stuffing is the SMTP client's job.
std::string render(const mail& m);

/// "Sun, 22 Nov 2026 22:51:50 +0000"
std::string rfc5322_date(int64_t unix_ms);

/// The bare address of "Name <addr@host>" or "addr@host".
std::string address_of(const std::string& mailbox);

} // namespace tandem::smtp
