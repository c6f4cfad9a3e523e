#include "transports/console/client.hpp"

#include <cerrno>
#include <cstring>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace tandem::transports {

console_client::~console_client() {
  close();
}

void console_client::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool console_client::connect(const std::string& path, std::string& error) {
  close();
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) {
    error = "console socket path too long (" + std::to_string(path.size()) + " bytes): " + path;
    return false;
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    error = std::string("cannot create a socket: ") + std::strerror(errno);
    return false;
  }
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int e = errno;
    error = "cannot connect to the node's console at " + path + ": " + std::strerror(e);
    if (e == ENOENT || e == ECONNREFUSED) error += " (is the node running?)";
    close();
    return false;
  }
  return true;
}

bool console_client::send_line(const std::string& line, std::string& error) {
  std::string data = line + "\n";
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = std::string("cannot send to the node: ") + std::strerror(errno);
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

std::optional<std::string> console_client::read_line(int timeout_ms, std::string& error) {
  for (;;) {
    auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, timeout_ms);
    if (r < 0) {
      if (errno == EINTR) {
        error = "interrupted";
        return std::nullopt;
      }
      error = std::string("poll failed: ") + std::strerror(errno);
      return std::nullopt;
    }
    if (r == 0) {
      error = "the node did not answer within " + std::to_string(timeout_ms) + " ms";
      return std::nullopt;
    }
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = std::string("cannot read from the node: ") + std::strerror(errno);
      return std::nullopt;
    }
    if (n == 0) {
      error = "the node closed the console connection";
      return std::nullopt;
    }
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

} // namespace tandem::transports
