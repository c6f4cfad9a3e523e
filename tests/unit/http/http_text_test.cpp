// Routing of request targets and the Prometheus text format, as pure functions.

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "transports/http/metrics_text.hpp"
#include "transports/http/request.hpp"

using namespace tandem;
using namespace tandem::transports::http;
using kind = route_result::kind;

namespace {

TEST(http_route, maps_the_paths_of_the_page_and_the_api) {
  EXPECT_EQ(route("GET", "/").what, kind::page);
  EXPECT_EQ(route("GET", "/index.html").what, kind::page);
  auto s = route("GET", "/api/status");
  EXPECT_EQ(s.what, kind::endpoint);
  EXPECT_EQ(s.endpoint, http_endpoint::status);
  EXPECT_EQ(route("GET", "/api/stream").endpoint, http_endpoint::stream);
  EXPECT_EQ(route("GET", "/metrics").endpoint, http_endpoint::metrics);
  auto e = route("GET", "/api/events");
  EXPECT_EQ(e.endpoint, http_endpoint::events);
  EXPECT_EQ(e.n, default_events);
  EXPECT_FALSE(e.head);
  EXPECT_TRUE(route("HEAD", "/metrics").head);
  // A query string on any endpoint is ignored but for n.
  EXPECT_EQ(route("GET", "/api/status?x=1").what, kind::endpoint);
}

TEST(http_route, reads_n_of_events_and_refuses_bad_values) {
  EXPECT_EQ(route("GET", "/api/events?n=5").n, 5u);
  EXPECT_EQ(route("GET", "/api/events?x=1&n=10000").n, 10000u);
  for (auto bad : {"/api/events?n=0", "/api/events?n=10001", "/api/events?n=-1",
                   "/api/events?n=abc", "/api/events?n=", "/api/events?n=99999999999999"}) {
    auto r = route("GET", bad);
    EXPECT_EQ(r.what, kind::bad_request) << bad;
    EXPECT_NE(r.error.find("n must be a whole number from 1 to 10000"), std::string::npos)
        << r.error;
  }
}

TEST(http_route, answers_unknown_paths_methods_and_targets) {
  auto nf = route("GET", "/api/nothing");
  EXPECT_EQ(nf.what, kind::not_found);
  EXPECT_NE(nf.error.find("/api/nothing"), std::string::npos);
  EXPECT_EQ(route("GET", "/api/status/").what, kind::not_found);
  auto m = route("POST", "/api/status");
  EXPECT_EQ(m.what, kind::method_not_allowed);
  EXPECT_NE(m.error.find("use GET or HEAD"), std::string::npos);
  EXPECT_EQ(route("DELETE", "/").what, kind::method_not_allowed);
  // An unknown path is 404 whatever the method.
  EXPECT_EQ(route("POST", "/nothing").what, kind::not_found);
  EXPECT_EQ(route("GET", "http://example.com/").what, kind::bad_request);
  EXPECT_EQ(route("GET", "").what, kind::bad_request);
  EXPECT_EQ(route("GET", "/a\x01").what, kind::bad_request);
  EXPECT_EQ(route("GET", "/\xc3\xa9").what, kind::bad_request);
}

TEST(http_route, finds_query_parameters) {
  std::string v;
  EXPECT_TRUE(query_param("a=1&n=7&b", "n", v));
  EXPECT_EQ(v, "7");
  EXPECT_TRUE(query_param("a=1&b", "b", v));
  EXPECT_EQ(v, "");
  EXPECT_FALSE(query_param("nn=1&an=2", "n", v));
  EXPECT_FALSE(query_param("", "n", v));
}

TEST(metrics_text, escapes_label_values_and_help) {
  EXPECT_EQ(escape_label_value(R"(a"b\c)"
                               "\n"
                               "d"),
            R"(a\"b\\c\nd)");
  EXPECT_EQ(escape_label_value("plain line1/primary"), "plain line1/primary");
  EXPECT_EQ(escape_help("back\\slash \"quotes\"\nnext"), "back\\\\slash \"quotes\"\\nnext");
}

TEST(metrics_text, formats_values) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(42), "42");
  EXPECT_EQ(format_value(-3), "-3");
  EXPECT_EQ(format_value(1e15), "1000000000000000");
  EXPECT_EQ(format_value(0.25), "0.25");
  EXPECT_EQ(format_value(0.000123), "0.000123");
  EXPECT_EQ(format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
}

TEST(metrics_text, checks_names) {
  EXPECT_TRUE(valid_metric_name("tandem_pair_failovers_total"));
  EXPECT_TRUE(valid_metric_name("a:b_c9"));
  EXPECT_FALSE(valid_metric_name("9abc"));
  EXPECT_FALSE(valid_metric_name("a-b"));
  EXPECT_FALSE(valid_metric_name(""));
  EXPECT_TRUE(valid_label_name("pair"));
  EXPECT_FALSE(valid_label_name("a:b"));
  EXPECT_FALSE(valid_label_name("__name__"));
}

TEST(metrics_text, renders_families_with_help_type_and_labels) {
  std::vector<metric_family> f = {
      {"tandem_pair_failovers_total",
       "Switches, by cause.",
       "counter",
       {{{{"pair", "line\"1"}, {"cause", "connection_lost"}}, 2}}},
      {"tandem_node_uptime_seconds", "Seconds\nup.", "gauge", {{{}, 1.5}}},
      {"tandem_empty", "No samples yet.", "counter", {}},
      {"bad-name", "left out", "gauge", {{{}, 1}}},
      {"tandem_x", "bad label left out", "gauge", {{{{"bad-label", "v"}, {"ok", "v"}}, 1}}},
  };
  EXPECT_EQ(render_metrics(f), "# HELP tandem_pair_failovers_total Switches, by cause.\n"
                               "# TYPE tandem_pair_failovers_total counter\n"
                               "tandem_pair_failovers_total{pair=\"line\\\"1\",cause="
                               "\"connection_lost\"} 2\n"
                               "# HELP tandem_node_uptime_seconds Seconds\\nup.\n"
                               "# TYPE tandem_node_uptime_seconds gauge\n"
                               "tandem_node_uptime_seconds 1.5\n"
                               "# HELP tandem_empty No samples yet.\n"
                               "# TYPE tandem_empty counter\n"
                               "# HELP tandem_x bad label left out\n"
                               "# TYPE tandem_x gauge\n"
                               "tandem_x{ok=\"v\"} 1\n");
}

} // namespace
