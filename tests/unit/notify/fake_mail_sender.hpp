#pragma once
/// The test implementation of smtp::mail_sender: records every mail handed to it and lets the
/// test decide, and time, how each sending ends.

#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "transports/smtp/mail.hpp"

namespace tandem::test {

class fake_mail_sender : public smtp::mail_sender {
public:
  struct call {
    smtp::mail mail;
    std::function<void(smtp::send_result)> done;
    bool finished = false;
  };

  void send(smtp::mail m, std::function<void(smtp::send_result)> done) override {
    std::lock_guard<std::mutex> g(m_);
    calls_.push_back(call{std::move(m), std::move(done), false});
  }

  size_t count() {
    std::lock_guard<std::mutex> g(m_);
    return calls_.size();
  }
  smtp::mail mail(size_t i) {
    std::lock_guard<std::mutex> g(m_);
    return calls_.at(i).mail;
  }
  /// Ends sending number `i` (0-based, in the order of send calls).
  void finish(size_t i, bool ok, const std::string& error = "", bool permanent = false) {
    std::function<void(smtp::send_result)> done;
    {
      std::lock_guard<std::mutex> g(m_);
      auto& c = calls_.at(i);
      if (c.finished) return;
      c.finished = true;
      done = c.done;
    }
    done(smtp::send_result{ok, permanent, error});
  }
  /// Ends every unfinished sending the same way.
  void finish_all(bool ok, const std::string& error = "") {
    for (size_t i = 0; i < count(); ++i)
      finish(i, ok, error);
  }

private:
  std::mutex m_;
  std::vector<call> calls_;
};

} // namespace tandem::test
