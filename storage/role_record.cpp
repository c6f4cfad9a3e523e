#include "storage/role_record.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace tandem::storage {

bool load_role_record(const std::string& path, role_record& out, std::string& why) {
  out = role_record{};
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return true;
    why = path + ": " + std::strerror(errno);
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto j = nlohmann::json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("running_total_ms") ||
      !j["running_total_ms"].is_number_unsigned() || !j.contains("term") ||
      !j["term"].is_number_unsigned()) {
    why = path + ": not a role record (expected {\"running_total_ms\": N, \"term\": N})";
    return false;
  }
  out.running_total_ms = j["running_total_ms"].get<uint64_t>();
  out.term = j["term"].get<uint64_t>();
  return true;
}

bool save_role_record(const std::string& path, const role_record& r, std::string& why) {
  const std::string tmp = path + ".tmp";
  const std::string text =
      nlohmann::json{{"running_total_ms", r.running_total_ms}, {"term", r.term}}.dump() + "\n";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    why = tmp + ": " + std::strerror(errno);
    return false;
  }
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    why = path + ": " + std::strerror(ok ? errno : err);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

} // namespace tandem::storage
