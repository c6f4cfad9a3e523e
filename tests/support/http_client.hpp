#pragma once
/// A raw HTTP client for tests of the HTTP transport and of nodes serving http.listen.

#include <cstdint>
#include <cstdlib>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace tandem::test {

/// One HTTP response as read off the wire.
struct http_response {
  int status = 0;
  std::string headers;
  std::string body;
  bool ok = false; ///< a whole response was read
};

/// A blocking client socket with a 5 s receive timeout.
/// A blocking HTTP/1.1 client socket to 127.0.0.1:PORT with a 5 s receive timeout, for tests
/// that need to send exactly the bytes they choose (bad requests, pipelining, keep-alive).
class http_client {
public:
  explicit http_client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~http_client() { ::close(fd_); }
  bool connected() const { return connected_; }
  void send(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      auto n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }
  /// Reads one response (headers, then Content-Length bytes of body).
  http_response read() {
    http_response r;
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) return r;
    r.headers = buf_.substr(0, end + 4);
    buf_.erase(0, end + 4);
    r.status = std::atoi(r.headers.c_str() + 9);
    size_t length = 0;
    auto cl = r.headers.find("Content-Length: ");
    if (cl != std::string::npos) length = std::stoul(r.headers.substr(cl + 16));
    while (buf_.size() < length)
      if (!fill()) return r;
    r.body = buf_.substr(0, length);
    buf_.erase(0, length);
    r.ok = true;
    return r;
  }
  /// Reads until `text` has arrived; false on timeout or close.
  bool read_until(const std::string& text) {
    while (buf_.find(text) == std::string::npos)
      if (!fill()) return false;
    return true;
  }
  /// Reads until `end` has arrived; returns what came before it (and consumes both), or "" on
  /// timeout or close.
  std::string take_until(const std::string& end) {
    size_t pos;
    while ((pos = buf_.find(end)) == std::string::npos)
      if (!fill()) return {};
    std::string out = buf_.substr(0, pos);
    buf_.erase(0, pos + end.size());
    return out;
  }
  /// True when the server closed the connection (EOF before the timeout).
  bool closed_by_server() {
    char c;
    return ::recv(fd_, &c, 1, 0) == 0;
  }
  http_response get(const std::string& target, const std::string& extra = "") {
    send("GET " + target + " HTTP/1.1\r\nHost: localhost\r\n" + extra + "\r\n");
    return read();
  }

private:
  bool fill() {
    char tmp[4096];
    auto n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }
  int fd_;
  bool connected_ = false;
  std::string buf_;
};

/// GET TARGET on a fresh connection (Connection: close); status 0 when nothing came back.
inline http_response http_get(uint16_t port, const std::string& target) {
  http_client c(port);
  return c.get(target, "Connection: close\r\n");
}

} // namespace tandem::test
