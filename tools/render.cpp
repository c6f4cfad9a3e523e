// Text rendering of console replies: tables for people; `--json` bypasses all of this.

#include <algorithm>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/commands.hpp"

namespace tandem::tools {

namespace {

using json = nlohmann::json;

std::string str(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return "-";
  const auto& v = j[key];
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string table(const std::vector<std::vector<std::string>>& rows,
                  const std::string& indent = "") {
  std::vector<size_t> widths;
  for (auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], r[i].size());
    }
  std::ostringstream out;
  for (auto& r : rows) {
    out << indent;
    for (size_t i = 0; i < r.size(); ++i) {
      out << r[i];
      if (i + 1 < r.size()) out << std::string(widths[i] - r[i].size() + 2, ' ');
    }
    out << "\n";
  }
  return out.str();
}

std::string duration(int64_t ms) {
  int64_t s = ms / 1000;
  std::ostringstream o;
  if (s >= 86400) o << s / 86400 << "d ";
  if (s >= 3600) o << (s / 3600) % 24 << "h ";
  if (s >= 60) o << (s / 60) % 60 << "m ";
  o << s % 60 << "s";
  return o.str();
}

std::string pairs_table(const json& pairs) {
  if (!pairs.is_array() || pairs.empty()) return "  (no pairs configured)\n";
  std::vector<std::vector<std::string>> rows = {{"ALIAS", "MODE", "ACTIVE", "LEVEL", "PRIMARY",
                                                 "STATE", "SECONDARY", "STATE", "LAST FAILOVER"}};
  for (auto& p : pairs) {
    std::string last = "-";
    if (p.contains("last_failover") && p["last_failover"].is_object()) {
      auto& f = p["last_failover"];
      last = str(f, "time") + " " + str(f, "from") + "->" + str(f, "to") + " (" + str(f, "cause") +
             ")";
    }
    rows.push_back({str(p, "alias"), str(p, "mode"), str(p, "active"), str(p, "service_level"),
                    str(p.value("primary", json::object()), "url"),
                    str(p.value("primary", json::object()), "state"),
                    str(p.value("secondary", json::object()), "url"),
                    str(p.value("secondary", json::object()), "state"), last});
  }
  return table(rows, "  ");
}

std::string event_line(const json& e) {
  return str(e, "time") + "  " + str(e, "severity") + "  " + str(e, "source") + "  " +
         str(e, "kind") + "  " + str(e, "text") + "\n";
}

} // namespace

std::string render_text(const std::string& command, const std::string& line) {
  auto doc = json::parse(line, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return line + "\n";
  if (doc.contains("commands") && doc["commands"].is_array()) {
    std::vector<std::vector<std::string>> rows;
    for (auto& c : doc["commands"])
      rows.push_back({str(c, "usage"), str(c, "help")});
    return table(rows, "  ");
  }
  if (doc.contains("node") && doc["node"].is_object()) {
    auto& n = doc["node"];
    std::ostringstream o;
    o << "node     " << str(n, "name") << " (" << str(n, "role") << ") " << str(n, "state")
      << ", up " << duration(n.value("uptime_ms", int64_t{0}))
      << (n.value("maintenance", false) ? ", in maintenance" : "") << "\n";
    if (doc.contains("partner") && doc["partner"].is_object()) {
      auto& p = doc["partner"];
      o << "partner  " << str(p, "address") << " " << str(p, "state") << ", link " << str(p, "link")
        << "\n";
    } else {
      o << "partner  none\n";
    }
    o << "pairs\n" << pairs_table(doc.value("pairs", json::array()));
    if (doc.contains("notifier") && doc["notifier"].is_object()) {
      auto& m = doc["notifier"];
      o << "notifier ";
      if (m.value("enabled", false)) {
        o << str(m, "recipients") << " recipients, " << str(m, "queued") << " events queued, "
          << str(m, "in_flight") << " mails in flight, " << str(m, "sent") << " sent, "
          << str(m, "failed") << " failed, " << str(m, "dropped") << " dropped\n";
        if (m.contains("last_error") && m["last_error"].is_string())
          o << "         last error " << str(m, "last_error_time") << ": " << str(m, "last_error")
            << "\n";
      } else {
        o << "off (notifications.smtp_url is empty)\n";
      }
    }
    return o.str();
  }
  if (doc.contains("pairs")) return pairs_table(doc["pairs"]);
  if (doc.contains("events") && doc["events"].is_array()) {
    std::string out;
    for (auto& e : doc["events"])
      out += event_line(e);
    if (doc["events"].empty()) out = "(no events)\n";
    return out;
  }
  if (doc.contains("event")) return event_line(doc["event"]);
  if (doc.contains("values") && doc["values"].is_array()) {
    if (doc["values"].empty()) return "(no values)\n";
    std::vector<std::vector<std::string>> rows = {{"TIME", "VALUE", "STATUS"}};
    for (auto& v : doc["values"])
      rows.push_back({str(v, "time"), str(v, "value"), str(v, "status")});
    auto out = table(rows);
    if (doc.value("truncated", false)) out += "(more values: narrow with --since or --limit)\n";
    return out;
  }
  if (doc.contains("alarms") && doc["alarms"].is_array()) {
    if (doc["alarms"].empty()) return "(no alarms)\n";
    std::vector<std::vector<std::string>> rows = {
        {"ID", "STATE", "ACK", "SINCE", "SOURCE", "TEXT"}};
    for (auto& a : doc["alarms"])
      rows.push_back({str(a, "id"), a.value("active", false) ? "ACTIVE" : "cleared",
                      a.value("acked", false) ? "acked" : "UNACKED", str(a, "since"),
                      str(a, "source"), str(a, "text")});
    return table(rows);
  }
  if (doc.contains("certs") && doc["certs"].is_array()) {
    std::vector<std::vector<std::string>> rows = {
        {"STATUS", "THUMBPRINT (SHA-1)", "SUBJECT", "NOT AFTER"}};
    for (auto& c : doc["certs"])
      rows.push_back(
          {str(c, "status"), str(c, "thumbprint"), str(c, "subject"), str(c, "not_after")});
    return (doc.value("ok", false) ? std::string("ok\n") : std::string()) + table(rows);
  }
  if (doc.contains("identical") && doc.contains("differences")) {
    if (doc["identical"] == true) return "identical: both servers have the same address space\n";
    std::string out = "DIFFERENT:\n";
    for (auto& d : doc["differences"])
      out += "  " + (d.is_string() ? d.get<std::string>() : d.dump()) + "\n";
    return out;
  }
  if (doc.size() == 1 && doc.contains("ok")) return doc["ok"] == true ? "ok\n" : "failed\n";
  if (command == "notify" && doc.contains("ok"))
    return doc["ok"] == true ? "ok: the SMTP server accepted the test mail\n" : "failed\n";
  return doc.dump(2) + "\n";
}

} // namespace tandem::tools
