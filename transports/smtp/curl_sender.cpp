// The libcurl SMTP sender: a worker thread that sends queued mails one after the other.

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

#include <curl/curl.h>

#include "transports/smtp/mail.hpp"

namespace tandem::smtp {

namespace {

struct upload {
  std::string text;
  size_t pos = 0;
};

size_t read_cb(char* buf, size_t size, size_t n, void* userp) {
  auto* u = static_cast<upload*>(userp);
  size_t len = std::min(size * n, u->text.size() - u->pos);
  std::memcpy(buf, u->text.data() + u->pos, len);
  u->pos += len;
  return len;
}

/// Aborts a transfer in progress when the sender is being destroyed (an orderly stop of the node
/// should not wait for a slow SMTP server's timeout).
int progress_cb(void* userp, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<std::atomic<bool>*>(userp)->load() ? 1 : 0;
}

bool starts_with(const std::string& s, const char* prefix) {
  return s.compare(0, std::strlen(prefix), prefix) == 0;
}

std::string lower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

class curl_sender : public mail_sender {
public:
  explicit curl_sender(smtp_options o) : opts_(std::move(o)) {
    worker_ = std::thread([this] { run(); });
  }

  ~curl_sender() override {
    {
      std::lock_guard<std::mutex> g(m_);
      stop_ = true;
    }
    aborting_ = true;
    cv_.notify_all();
    worker_.join();
  }

  void send(mail m, std::function<void(send_result)> done) override {
    {
      std::lock_guard<std::mutex> g(m_);
      jobs_.emplace_back(std::move(m), std::move(done));
    }
    cv_.notify_all();
  }

private:
  void run() {
    for (;;) {
      std::pair<mail, std::function<void(send_result)>> job;
      {
        std::unique_lock<std::mutex> g(m_);
        cv_.wait(g, [this] { return stop_ || !jobs_.empty(); });
        if (stop_) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      auto r = perform(job.first);
      if (job.second) job.second(std::move(r));
    }
  }

  send_result perform(const mail& m) {
    send_result r;
    CURL* c = curl_easy_init();
    if (!c) {
      r.error = "libcurl could not start a transfer";
      return r;
    }
    upload up{render(m), 0};
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_slist* rcpts = nullptr;
    for (auto& a : m.to)
      rcpts = curl_slist_append(rcpts, ("<" + address_of(a) + ">").c_str());
    std::string from = "<" + address_of(m.from) + ">";
    curl_easy_setopt(c, CURLOPT_URL, opts_.url.c_str());
    // smtp:// upgrades with STARTTLS when the server offers it; smtps:// is TLS from the start.
    if (starts_with(lower(opts_.url), "smtp://"))
      curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
    if (!opts_.username.empty()) {
      curl_easy_setopt(c, CURLOPT_USERNAME, opts_.username.c_str());
      curl_easy_setopt(c, CURLOPT_PASSWORD, opts_.password.c_str());
    }
    if (!opts_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, opts_.ca_file.c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, &up);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, opts_.connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, opts_.timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &aborting_);
    CURLcode rc = curl_easy_perform(c);
    long reply = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply);
    curl_slist_free_all(rcpts);
    curl_easy_cleanup(c);
    if (rc == CURLE_OK) {
      r.ok = true;
      return r;
    }
    std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    while (!detail.empty() && (detail.back() == '\n' || detail.back() == '\r'))
      detail.pop_back();
    if (rc == CURLE_LOGIN_DENIED || rc == CURLE_AUTH_ERROR) {
      r.permanent = true;
      r.error = "the SMTP server " + opts_.url + " refused the login" +
                (opts_.username.empty() ? "" : " of user " + opts_.username) + " (" + detail +
                (reply ? ", reply " + std::to_string(reply) : "") +
                "): check notifications.username and its password";
    } else if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) {
      r.permanent = true;
      r.error = "cannot use " + opts_.url + ": " + detail;
    } else if (reply >= 500 && reply < 600) {
      // A 5xx reply (sender or recipient refused, message rejected) will not change on retry.
      r.permanent = true;
      r.error = "the SMTP server " + opts_.url + " refused the mail (" + detail + ", reply " +
                std::to_string(reply) + ")";
    } else {
      r.error = "sending through " + opts_.url + " failed: " + detail +
                (reply ? " (reply " + std::to_string(reply) + ")" : "");
    }
    return r;
  }

  smtp_options opts_;
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::pair<mail, std::function<void(send_result)>>> jobs_;
  bool stop_ = false;
  std::atomic<bool> aborting_{false};
  std::thread worker_;
};

} // namespace

std::shared_ptr<mail_sender> make_curl_sender(smtp_options o) {
  static const bool initialized = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  (void)initialized;
  return std::make_shared<curl_sender>(std::move(o));
}

} // namespace tandem::smtp
