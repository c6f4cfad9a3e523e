#pragma once
/// Client side of the console socket, used by `tandem console`: blocking, one line out, lines in.

#include <optional>
#include <string>

namespace tandem::transports {

class console_client {
public:
  console_client() = default;
  ~console_client();
  console_client(const console_client&) = delete;
  console_client& operator=(const console_client&) = delete;

  /// Connects to the node's console socket; false with `error` naming the path and the reason.
  bool connect(const std::string& path, std::string& error);
  /// Sends one command line.
  bool send_line(const std::string& line, std::string& error);
  /// Reads the next reply line; nullopt at end of connection or after `timeout_ms` (-1: wait).
  std::optional<std::string> read_line(int timeout_ms, std::string& error);
  void close();

private:
  int fd_ = -1;
  std::string buffer_;
};

} // namespace tandem::transports
