#include "actors/json.hpp"

#include <cctype>
#include <ctime>

#include "transports/opcua/binary.hpp"
#include "transports/opcua/client/values.hpp"

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

std::optional<int64_t> parse_rfc3339(const std::string& text) {
  // YYYY-MM-DD[T ]hh:mm:ss[.fff…](Z|±hh:mm)
  const std::string& t = text;
  auto digits = [&](size_t pos, size_t n, int& out) {
    if (pos + n > t.size()) return false;
    out = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(t[i]))) return false;
      out = out * 10 + (t[i] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, s;
  if (!digits(0, 4, y) || t.size() < 19 || t[4] != '-' || !digits(5, 2, mo) || t[7] != '-' ||
      !digits(8, 2, d) || (t[10] != 'T' && t[10] != 't' && t[10] != ' ') || !digits(11, 2, h) ||
      t[13] != ':' || !digits(14, 2, mi) || t[16] != ':' || !digits(17, 2, s))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  size_t pos = 19;
  int64_t ms = 0;
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    int64_t scale = 100;
    size_t start = pos;
    while (pos < t.size() && std::isdigit(static_cast<unsigned char>(t[pos]))) {
      ms += (t[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int64_t offset_min = 0;
  if (pos < t.size() && (t[pos] == 'Z' || t[pos] == 'z')) {
    ++pos;
  } else if (pos < t.size() && (t[pos] == '+' || t[pos] == '-')) {
    int oh, om;
    if (!digits(pos + 1, 2, oh) || pos + 3 >= t.size() || t[pos + 3] != ':' ||
        !digits(pos + 4, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_min = (t[pos] == '+' ? 1 : -1) * (oh * 60 + om);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != t.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  int64_t secs = static_cast<int64_t>(timegm(&tm));
  return (secs - offset_min * 60) * 1000 + ms;
}

nlohmann::json to_json(const history_row& r) {
  nlohmann::json value = nullptr;
  nlohmann::json server_time = nullptr;
  auto dv = opcua::decode_exact<opcua::DataValue>(opcua::byte_span(r.value));
  if (dv) {
    if (dv->value) value = opcua::to_json(*dv->value);
    if (dv->server_timestamp) server_time = rfc3339(dv->server_timestamp->to_unix_ms());
  }
  return {{"time", rfc3339(r.time_ms)},
          {"value", std::move(value)},
          {"status", opcua::status_name(opcua::StatusCode(r.status))},
          {"source_time", r.source_ms != 0 ? nlohmann::json(rfc3339(r.source_ms)) : nullptr},
          {"server_time", std::move(server_time)},
          {"recorded", rfc3339(r.recorded_ms)},
          {"origin", r.origin},
          {"term", r.stamp.term},
          {"seq", r.stamp.seq}};
}

nlohmann::json to_json(const alarm& a) {
  auto time_or_null = [](int64_t ms) {
    return ms == 0 ? nlohmann::json(nullptr) : nlohmann::json(rfc3339(ms));
  };
  return {{"id", a.id},
          {"source", a.source},
          {"text", a.text},
          {"active", a.active},
          {"acked", a.acked},
          {"since", rfc3339(a.raised_ms)},
          {"cleared", time_or_null(a.cleared_ms)},
          {"acked_time", time_or_null(a.acked_ms)},
          {"key", a.key},
          {"origin", a.origin}};
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
  nlohmann::json j = {
      {"alias", p.alias},
      {"mode", p.mode},
      {"active", p.active},
      {"service_level", p.service_level},
      {"primary",
       {{"url", p.primary.url}, {"state", p.primary.state}, {"detail", p.primary.detail}}},
      {"secondary",
       {{"url", p.secondary.url}, {"state", p.secondary.state}, {"detail", p.secondary.detail}}},
      {"last_failover", nullptr},
      {"items", p.items}};
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

nlohmann::json to_json(const election_status& es) {
  using nlohmann::json;
  auto or_null = [](auto v, bool known) { return known ? json(v) : json(nullptr); };
  json me = {{"name", es.name},
             {"role", es.role},
             {"state", es.state},
             {"running_total_ms", es.running_total_ms},
             {"term", es.term},
             {"config_digest", es.config_digest},
             {"client_sessions", or_null(es.client_sessions, es.client_sessions >= 0)},
             {"maintenance", es.maintenance}};
  json partner = nullptr;
  if (es.role != "independent") {
    std::string match = es.partner_config_digest.empty()               ? "unknown"
                        : es.partner_config_digest == es.config_digest ? "match"
                                                                       : "mismatch";
    partner = {
        {"name", es.partner_name},
        {"state", es.partner_state},
        {"link", es.link},
        {"last_heartbeat_ms_ago", or_null(es.last_heartbeat_ms_ago, es.last_heartbeat_ms_ago >= 0)},
        {"rtt_ms", or_null(es.rtt_ms, es.rtt_ms >= 0)},
        {"config_match", match},
        {"sync", "not_synced"},
        {"client_sessions", or_null(es.partner_client_sessions, es.partner_client_sessions >= 0)},
        {"maintenance", es.partner_maintenance},
        {"reason", or_null(es.partner_reason, !es.partner_reason.empty())}};
  }
  return {{"self", me}, {"partner", partner}};
}

void add_sync(nlohmann::json& node_doc, const sync_status& s) {
  if (node_doc.contains("partner") && node_doc["partner"].is_object())
    node_doc["partner"]["sync"] = s.state;
  node_doc["self"]["sync"] = to_json(s);
}

nlohmann::json to_json(const sync_status& s) {
  using nlohmann::json;
  auto or_null = [](auto v, bool known) { return known ? json(v) : json(nullptr); };
  return {
      {"state", s.state},
      {"syncs", s.syncs},
      {"pulled", {{"history", s.history}, {"alarms", s.alarms}, {"events", s.events}}},
      {"last_sync_ms", or_null(s.last_sync_ms, s.last_sync_ms >= 0)},
      {"live", {{"history", s.live_history}, {"alarms", s.live_alarms}, {"events", s.live_events}}},
      {"lag_ms", or_null(s.lag_ms, s.lag_ms >= 0)},
      {"items",
       {{"sent", s.items_sent},
        {"received", s.items_received},
        {"removed_sent", s.items_removed_sent},
        {"removed_received", s.items_removed_received}}},
      {"last_error", or_null(s.last_error, !s.last_error.empty())}};
}

nlohmann::json error_json(const std::string& text) {
  return {{"error", text}};
}

} // namespace tandem
