#include "transports/http/metrics_text.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>

namespace tandem::transports::http {

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[40];
  if (std::floor(v) == v && std::fabs(v) < 9007199254740992.0)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

namespace {
bool name_ok(std::string_view n, bool colon) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(n[i]);
    bool ok = std::isalpha(c) || c == '_' || (colon && c == ':') || (i > 0 && std::isdigit(c));
    if (!ok || c > 0x7f) return false;
  }
  return true;
}
} // namespace

bool valid_metric_name(std::string_view name) {
  return name_ok(name, true);
}
bool valid_label_name(std::string_view name) {
  return name_ok(name, false) && name.substr(0, 2) != "__";
}

std::string render_metrics(const std::vector<metric_family>& families) {
  std::string out;
  for (const auto& f : families) {
    if (!valid_metric_name(f.name)) continue;
    out += "# HELP " + f.name + " " + escape_help(f.help) + "\n";
    out += "# TYPE " + f.name + " " + (f.type.empty() ? "untyped" : f.type) + "\n";
    for (const auto& s : f.samples) {
      std::string labels;
      for (const auto& [k, v] : s.labels) {
        if (!valid_label_name(k)) continue;
        labels += (labels.empty() ? "" : ",") + k + "=\"" + escape_label_value(v) + "\"";
      }
      out += f.name;
      if (!labels.empty()) out += "{" + labels + "}";
      out += " " + format_value(s.value) + "\n";
    }
  }
  return out;
}

} // namespace tandem::transports::http
