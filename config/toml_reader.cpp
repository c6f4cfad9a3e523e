#include "config/toml_reader.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tandem::config::detail {

std::string read_config_file(const std::string& path, std::string& text) {
  if (path.empty()) return "no file name given";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::strerror(errno);
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return std::strerror(EISDIR);
  }
  constexpr size_t max_size = 16 * 1024 * 1024;
  text.clear();
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return std::strerror(err);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > max_size) {
      ::close(fd);
      return "larger than 16 MiB; this is not a configuration file";
    }
  }
  ::close(fd);
  return "";
}

bool parse_toml(checker& c, const std::string& text, const std::string& file, toml::table& root) {
  try {
    root = toml::parse(std::string_view(text), std::string_view(file));
    return true;
  } catch (const toml::parse_error& e) {
    c.error(at(e.source()), "", "TOML syntax: " + std::string(e.description()));
    return false;
  }
}

fs::path base_directory(const std::string& file, std::string* abs_path) {
  std::error_code ec;
  fs::path base;
  if (file.empty()) {
    base = fs::current_path(ec);
  } else {
    fs::path abs = fs::absolute(fs::path(file), ec).lexically_normal();
    if (abs_path) *abs_path = abs.string();
    base = abs.parent_path();
  }
  if (ec || base.empty()) base = "/";
  return base;
}

} // namespace tandem::config::detail
