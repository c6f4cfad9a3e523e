#include "actors/json.hpp"

#include <ctime>

namespace tandem {

std::string rfc3339(int64_t unix_ms) {
  int64_t secs = unix_ms / 1000;
  int64_t ms = unix_ms % 1000;
  if (ms < 0) {
    ms += 1000;
    --secs;
  }
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

nlohmann::json to_json(const diag_event& e) {
  return {{"seq", e.seq},
          {"node", e.node},
          {"time", rfc3339(e.time_ms)},
          {"severity", to_string(e.sev)},
          {"source", e.source},
          {"kind", e.kind},
          {"text", e.text}};
}

nlohmann::json to_json(const pair_status& p) {
  nlohmann::json j = {{"alias", p.alias},
                      {"mode", p.mode},
                      {"active", p.active},
                      {"service_level", p.service_level},
                      {"primary", {{"url", p.primary.url}, {"state", p.primary.state}}},
                      {"secondary", {{"url", p.secondary.url}, {"state", p.secondary.state}}},
                      {"last_failover", nullptr}};
  if (p.has_last_failover)
    j["last_failover"] = {{"time", rfc3339(p.last_failover.time_ms)},
                          {"from", p.last_failover.from},
                          {"to", p.last_failover.to},
                          {"cause", p.last_failover.cause}};
  return j;
}

nlohmann::json to_json(const partner_status& p) {
  return {{"address", p.address},
          {"name", p.name.empty() ? nlohmann::json(nullptr) : nlohmann::json(p.name)},
          {"state", p.state},
          {"link", p.link}};
}

nlohmann::json to_json(const notifier_status& n) {
  auto time_or_null = [](int64_t ms) {
    return ms == 0 ? nlohmann::json(nullptr) : nlohmann::json(rfc3339(ms));
  };
  return {
      {"enabled", n.enabled},
      {"recipients", n.recipients},
      {"queued", n.queued},
      {"in_flight", n.in_flight},
      {"sent", n.sent},
      {"failed", n.failed},
      {"dropped", n.dropped},
      {"last_sent", time_or_null(n.last_sent_ms)},
      {"last_error", n.last_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(n.last_error)},
      {"last_error_time", time_or_null(n.last_error_ms)}};
}

nlohmann::json to_json(const node_status& s) {
  nlohmann::json pairs = nlohmann::json::array();
  for (auto& p : s.pairs)
    pairs.push_back(to_json(p));
  return {{"node",
           {{"name", s.name},
            {"role", s.role},
            {"state", s.state},
            {"uptime_ms", s.uptime_ms},
            {"maintenance", s.maintenance},
            {"comment", s.comment}}},
          {"partner", s.has_partner ? to_json(s.partner) : nlohmann::json(nullptr)},
          {"pairs", std::move(pairs)},
          {"notifier", to_json(s.notifier)}};
}

nlohmann::json error_json(const std::string& text) {
  return {{"error", text}};
}

} // namespace tandem
