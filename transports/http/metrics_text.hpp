#pragma once
/// The Prometheus text exposition format 0.0.4: metric families with HELP and TYPE lines, label
/// values escaped. Pure functions; the HTTP actor fills the families.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tandem::transports::http {

/// One line of a family: its labels (name, value) and value.
struct metric_sample {
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};

/// A metric family: `counter` or `gauge`.
struct metric_family {
  std::string name;
  std::string help;
  std::string type;
  std::vector<metric_sample> samples;
};

/// The Content-Type of the text format.
constexpr const char* metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

/// A label value with `\`, `"` and newline escaped as `\\`, `\"` and `\n`.
std::string escape_label_value(std::string_view v);
/// HELP text with `\` and newline escaped.
std::string escape_help(std::string_view v);
/// A sample value: integers without exponent or fraction, NaN, +Inf, -Inf, else up to 9
/// significant digits.
std::string format_value(double v);
/// [a-zA-Z_:][a-zA-Z0-9_:]* (metric names) and [a-zA-Z_][a-zA-Z0-9_]* (label names).
bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);
/// The exposition of these families, in order; a family without samples still gets its HELP
/// and TYPE lines. Families or labels with invalid names are left out (a programming error,
/// never the node's data).
std::string render_metrics(const std::vector<metric_family>& families);

} // namespace tandem::transports::http
